/* SPDX-License-Identifier: ISC */
/* sockbuf.h: which connections keep the kernel's socket buffer autotuning. */
#ifndef SOCKECHOD_SOCKBUF_H
#define SOCKECHOD_SOCKBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoreboard.h"

uint64_t sockbuf_autotuned(const struct scoreboard_slot *board, size_t nused);
bool	sockbuf_may_autotune(const struct scoreboard_slot *board, size_t nused,
	    uint64_t limit);

#endif
