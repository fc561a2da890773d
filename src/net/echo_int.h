/* SPDX-License-Identifier: ISC */
/* echo_int.h: what echo.c and echo_splice.c share, and no one else. */
#ifndef SOCKECHOD_ECHO_INT_H
#define SOCKECHOD_ECHO_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "net/echo.h"

/* After this many reads a connection yields, so one fast peer cannot starve others. */
#define ECHO_READS_PER_STEP	16

/* Whether "more" bytes fit in the budget of buffered bytes. */
static inline bool
echo_fits(const struct echo_conn *c, size_t more)
{
	return c->budget == NULL || c->budget->max == 0 ||
	    c->budget->held + more <= c->budget->max;
}

static inline bool
echo_would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

enum echo_status echo_splice_step(struct echo_conn *,
	    const struct echo_limits *, bool *copy);
void	echo_pipe_release(struct echo_conn *);

#endif
