/* SPDX-License-Identifier: ISC */
/*
 * sockbuf.c: the rule that lets a few connections at a time keep the
 * kernel's socket buffer autotuning, and caps the rest. Autotuning grows
 * one connection's buffers up to tcp_wmem and tcp_rmem (4 and 6 MiB on
 * Debian), which bulk echo and long round trips need; a client that sends
 * without reading pins that much, so only "limit" connections of the whole
 * daemon get it, and a flood gets socket_buffer_bytes each. Pure: it reads
 * the board, never a socket.
 */
#include "build-config.h"

#include "sockbuf.h"

/*
 * The autotuned connections of every worker that is alive, whatever its
 * generation or state: a draining worker's connections pin memory too.
 * The master frees a dead worker's slot, and its count with it.
 */
uint64_t
sockbuf_autotuned(const struct scoreboard_slot *board, size_t nused)
{
	uint64_t	sum = 0;
	size_t		i;

	for (i = 0; i < nused; i++)
		if (SCOREBOARD_LOAD(board[i].state) != SCOREBOARD_FREE)
			sum += SCOREBOARD_LOAD(board[i].conns_autotuned);
	return sum;
}

/*
 * May the next connection keep autotuning? Two workers that ask at the
 * same moment may both be told yes: the limit is exceeded by at most the
 * number of workers less one, for as long as those connections live.
 */
bool
sockbuf_may_autotune(const struct scoreboard_slot *board, size_t nused,
    uint64_t limit)
{
	return sockbuf_autotuned(board, nused) < limit;
}
