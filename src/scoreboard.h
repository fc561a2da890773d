/* SPDX-License-Identifier: ISC */
/* scoreboard.h: per-worker state in memory shared by the master and its workers. */
#ifndef SOCKECHOD_SCOREBOARD_H
#define SOCKECHOD_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

/* Enough for the largest pool, plus old generations still draining. */
#define SCOREBOARD_SLOTS	(4 * 512)

enum score_state {
	SCORE_FREE = 0,
	SCORE_STARTING,		/* forked, not serving yet */
	SCORE_ACCEPTING,	/* serving and accepting */
	SCORE_RETIRING,		/* connection budget spent: wants a successor */
	SCORE_DRAINING,		/* no longer accepting, finishing connections */
};

/*
 * Each field has one writer: the master before fork() for the first
 * group, the worker afterwards. Readers load them with relaxed atomics;
 * the numbers are statistics and signs of life, never pids to signal.
 */
struct score_slot {
	uint32_t	generation;	/* master */
	uint32_t	state;		/* worker (master resets it) */
	uint64_t	conn_limit;	/* master: retire after this many, 0 never */
	uint64_t	heartbeat_ms;	/* worker: CLOCK_MONOTONIC of its last loop */
	uint64_t	conns_open;
	uint64_t	conns_served;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
} __attribute__((aligned(64)));

#define SCORE_LOAD(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)
#define SCORE_STORE(field, v)	__atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define SCORE_ADD(field, v)	SCORE_STORE(field, SCORE_LOAD(field) + (v))

struct score_slot *scoreboard_create(size_t nslots);
void	scoreboard_destroy(struct score_slot *, size_t nslots);
void	scoreboard_reset(struct score_slot *, uint32_t generation,
	    uint64_t conn_limit, uint64_t now_ms);

#endif
