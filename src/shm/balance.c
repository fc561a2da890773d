/* SPDX-License-Identifier: ISC */
/*
 * balance.c: the admission rule that spreads connections over the workers
 * of one shared listening socket. A worker watches the socket only while
 * it is among the least loaded of its generation's serving workers, as the
 * scoreboard shows them. Pure: it reads the board, never a socket, never
 * the clock.
 */
#include "build-config.h"

#include "shm/balance.h"

/*
 * How far above the least loaded a worker may still take connections: none
 * while the counts are small (16 connections over 2 workers must be 8 and
 * 8), an eighth of the minimum as they grow, so that busy pools do not
 * take turns at every accept (max/min stays under 1.125 + 1/min).
 */
uint64_t
balance_slack(uint64_t min_open)
{
	return min_open / 8;
}

/* Does this peer's load count: serving, of our generation, alive? */
static bool
counts(const struct scoreboard_slot *s, uint32_t generation, uint64_t now_ms)
{
	uint32_t	state = SCOREBOARD_LOAD(s->state);
	uint64_t	hb = SCOREBOARD_LOAD(s->heartbeat_ms);

	if (SCOREBOARD_LOAD(s->generation) != generation ||
	    (state != SCOREBOARD_ACCEPTING && state != SCOREBOARD_RETIRING) ||
	    !SCOREBOARD_LOAD(s->taking))
		return false;
	/* A heartbeat newer than our clock reading is a fresh one. */
	return hb >= now_ms || now_ms - hb <= BALANCE_STALE_MS;
}

/*
 * May worker "self" take a connection now? Yes when its open connections
 * are within balance_slack() of the fewest that any serving worker of its
 * generation holds. The least loaded worker is always eligible, so some
 * worker always waits on the socket.
 */
bool
balance_eligible(const struct scoreboard_slot *board, size_t nused,
    size_t self, uint64_t now_ms)
{
	uint32_t	generation = SCOREBOARD_LOAD(board[self].generation);
	uint64_t	mine = SCOREBOARD_LOAD(board[self].conns_open);
	uint64_t	min = mine, n;
	size_t		i;

	for (i = 0; i < nused; i++) {
		if (i == self || !counts(&board[i], generation, now_ms))
			continue;
		if ((n = SCOREBOARD_LOAD(board[i].conns_open)) < min)
			min = n;
	}
	return mine <= min + balance_slack(min);
}

/*
 * Does a serving peer of "self"'s generation watch the listening sockets?
 * A worker that leaves its turn wakes the others only when none does: one
 * that watches takes what comes and wakes them when it leaves its own
 * turn, so a turn is never lost and the pool is not woken at every accept.
 */
bool
balance_watched(const struct scoreboard_slot *board, size_t nused,
    size_t self, uint64_t now_ms)
{
	uint32_t	generation = SCOREBOARD_LOAD(board[self].generation);
	size_t		i;

	for (i = 0; i < nused; i++)
		if (i != self && counts(&board[i], generation, now_ms) &&
		    SCOREBOARD_LOAD(board[i].watching))
			return true;
	return false;
}
