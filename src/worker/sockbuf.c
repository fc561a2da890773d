/* SPDX-License-Identifier: ISC */
/*
 * sockbuf.c: the rule that lets a few connections at a time keep the
 * kernel's socket buffer autotuning, and caps the rest. Autotuning grows
 * one connection's buffers up to tcp_wmem and tcp_rmem (4 and 6 MiB on
 * Debian), which bulk echo and long round trips need; a client that sends
 * without reading pins that much, so only "limit" connections of the whole
 * daemon get it, and a flood gets socket_buffer_bytes each. A connection
 * counts, with its turn, until its send queue is empty or reset: closed
 * with echo queued, the socket would hold it on, counted nowhere. Pure: it
 * reads the board and the numbers it is given, never a socket.
 */
#include "build-config.h"

#include "worker/sockbuf.h"

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

/*
 * A connection ends with "queued" bytes still in its send queue (sent and
 * not acknowledged, or not sent). Empty, it is closed. Otherwise closing
 * would leave the kernel holding them, for minutes if the client keeps
 * its window shut, with no count to bound it: a connection whose queue
 * is "emptying" (its client finished, or the queue shrank since the last
 * look) lingers, still counted; any other is reset, which frees the
 * memory at once.
 */
enum sockbuf_end
sockbuf_end(uint64_t queued, bool emptying)
{
	if (queued == 0)
		return SOCKBUF_CLOSE;
	return emptying ? SOCKBUF_LINGER : SOCKBUF_RESET;
}
