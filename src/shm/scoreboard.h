/* SPDX-License-Identifier: ISC */
/* scoreboard.h: per-worker state in memory shared by the master and its workers. */
#ifndef SOCKECHOD_SCOREBOARD_H
#define SOCKECHOD_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/peerlog.h"

/*
 * Enough for the largest pool, plus old generations still draining
 * (a reload, and recycling successors, overlap two or three of them).
 */
#define SCOREBOARD_GENERATIONS	4
#define SCOREBOARD_SLOTS	(SCOREBOARD_GENERATIONS * CONFIG_WORKERS_MAX)

enum scoreboard_state {
	SCOREBOARD_FREE = 0,
	SCOREBOARD_STARTING,	/* forked, not serving yet */
	SCOREBOARD_ACCEPTING,	/* serving and accepting */
	SCOREBOARD_RETIRING,	/* connection budget spent: wants a successor */
	SCOREBOARD_DRAINING,	/* no longer accepting, finishing connections */
	SCOREBOARD_NSTATES
};

/* A cache line: workers updating neighbouring slots never share one. */
#define SCOREBOARD_LINE_BYTES	64

/* Why a datagram went unanswered; udp_policy.h names each reason. */
#define SCOREBOARD_UDP_DROP_REASONS	11

/* What became of the PROXY headers a worker waited for. */
enum scoreboard_proxy {
	SCOREBOARD_PROXY_OK,		/* read, connection served or admitted */
	SCOREBOARD_PROXY_BAD,		/* malformed, oversized, truncated */
	SCOREBOARD_PROXY_TIMEOUT,	/* not whole by proxy_header_timeout_ms */
	SCOREBOARD_PROXY_UNTRUSTED,	/* a peer not in proxy_trusted */
	SCOREBOARD_PROXY_NRESULTS
};

/* A worker's UDP counters, and the sums of them. */
struct scoreboard_udp {
	uint64_t	received;	/* datagrams read */
	uint64_t	echoed;		/* datagrams answered */
	uint64_t	dropped[SCOREBOARD_UDP_DROP_REASONS];
	uint64_t	malformed;	/* STAMP: shorter than a test packet */
	uint64_t	tlv_unknown;	/* STAMP: TLVs reflected with U set */
	uint64_t	tlv_malformed;	/* STAMP: TLVs reflected with M set */
};

/*
 * Each field has one writer: the master before fork() for the first
 * group, the worker afterwards. Readers load them with relaxed atomics;
 * the numbers are statistics and signs of life, never pids to signal.
 */
struct scoreboard_slot {
	uint32_t	generation;	/* master */
	uint32_t	state;		/* worker (master resets it) */
	uint32_t	taking;		/* worker: 1 while it takes connections */
	uint32_t	watching;	/* worker: 1 while its listeners are in epoll */
	uint64_t	conn_limit;	/* master: retire after this many, 0 never */
	uint64_t	heartbeat_ms;	/* worker: CLOCK_MONOTONIC of its last loop */
	uint64_t	conns_open;
	uint64_t	conns_served;
	uint64_t	conns_autotuned; /* worker: keeping the kernel's buffer sizes */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	struct scoreboard_udp udp;
	struct scoreboard_udp stamp;	/* the same, for STAMP sockets */
	uint64_t	refused_acl;	/* allow/deny said no */
	uint64_t	refused_limit;	/* over a per-client limit */
	uint64_t	proxy[SCOREBOARD_PROXY_NRESULTS];
} __attribute__((aligned(SCOREBOARD_LINE_BYTES)));

/*
 * The line before the first slot: how far the slots in use reach, so that
 * a worker looking at its peers reads a few lines, not the whole board.
 */
struct scoreboard_head {
	uint32_t	nused;		/* master: no slot from here on was used */
	struct peerlog	peerlog;	/* workers' lines about peers, all generations */
} __attribute__((aligned(SCOREBOARD_LINE_BYTES)));

#define SCOREBOARD_LOAD(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)
#define SCOREBOARD_STORE(field, v) \
	__atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define SCOREBOARD_ADD(field, v) \
	SCOREBOARD_STORE(field, SCOREBOARD_LOAD(field) + (v))

struct scoreboard_slot *scoreboard_create(size_t nslots);
void	scoreboard_destroy(struct scoreboard_slot *, size_t nslots);
struct scoreboard_head *scoreboard_head(struct scoreboard_slot *);
void	scoreboard_use(struct scoreboard_slot *, size_t idx);
void	scoreboard_udp_add(struct scoreboard_udp *sum,
	    const struct scoreboard_udp *);
uint64_t scoreboard_udp_dropped(const struct scoreboard_udp *);
void	scoreboard_reset(struct scoreboard_slot *, uint32_t generation,
	    uint64_t conn_limit, uint64_t now_ms);

#endif
