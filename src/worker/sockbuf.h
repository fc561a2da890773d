/* SPDX-License-Identifier: ISC */
/*
 * sockbuf.h: which connections keep the kernel's socket buffer autotuning,
 * and how one that ends lets go of its send queue.
 */
#ifndef SOCKECHOD_SOCKBUF_H
#define SOCKECHOD_SOCKBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/scoreboard.h"

uint64_t sockbuf_autotuned(const struct scoreboard_slot *board, size_t nused);
bool	sockbuf_may_autotune(const struct scoreboard_slot *board, size_t nused,
	    uint64_t limit);

/* What becomes of a connection that ends, by what its socket still holds. */
enum sockbuf_end {
	SOCKBUF_CLOSE,	/* nothing queued: close, the kernel sends a FIN */
	SOCKBUF_LINGER,	/* echo queued that its client reads: wait, counted */
	SOCKBUF_RESET,	/* echo queued that will not be read: free it now */
};

enum sockbuf_end sockbuf_end(uint64_t queued, bool emptying);

#endif
