/* SPDX-License-Identifier: ISC */
/* udp_policy.h: which datagrams a UDP echo server must not answer, as pure functions. */
#ifndef SOCKECHOD_UDP_POLICY_H
#define SOCKECHOD_UDP_POLICY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/scoreboard.h"

/*
 * Why a datagram went unanswered: the scoreboard counts each, and
 * sockechod_udp_dropped_datagrams_total shows each under its name.
 */
enum udp_drop {
	UDP_DROP_NONE = -1,	/* answer it */
	UDP_DROP_PORT = 0,	/* source port 0, listed, or a local service's */
	UDP_DROP_SELF,		/* sent by one of our own sockets */
	UDP_DROP_SOURCE,	/* from an address nobody can be answered at */
	UDP_DROP_GROUP,		/* sent to a multicast or the limited broadcast */
	UDP_DROP_BROADCAST,	/* IPv4 not sent to a unicast address of ours */
	UDP_DROP_LOOP,		/* our own answer, come back again and again */
	UDP_DROP_DENIED,	/* the access list says no */
	UDP_DROP_CLIENT_RATE,	/* over its source's token bucket */
	UDP_DROP_GLOBAL_RATE,	/* over the server's ceiling */
	UDP_DROP_TRUNCATED,	/* larger than our buffer (cannot happen) */
	UDP_DROP_SEND,		/* the answer could not be sent */
	UDP_DROP_COUNT
};

_Static_assert(UDP_DROP_COUNT == SCOREBOARD_UDP_DROP_REASONS,
    "one scoreboard counter per drop reason");

/*
 * Source ports below this are services': on this host only privileged
 * servers bind them, and an echo client never sends from one.
 */
#define UDP_SERVICE_PORTS_BELOW	1024

/*
 * The loop detector: the UDP_LOOP_RETURNS-th time in a row that a source
 * sends back, each time within UDP_LOOP_WINDOW_MS of our answer, exactly
 * the bytes we answered it, that datagram is dropped, which ends a loop
 * between two echo services. A client that asks the same again and again
 * loses one question in UDP_LOOP_RETURNS + 1, and is answered again after
 * it. Whoever can forge a client's address can have one of its datagrams
 * dropped by sending UDP_LOOP_RETURNS copies of it just before: the long
 * run makes that cost as much as the loop it breaks (SECURITY.md).
 */
#define UDP_LOOP_RETURNS	8
#define UDP_LOOP_WINDOW_MS	1000

/* What a worker remembers of the last answer whose digest fell here. */
struct udp_echo_memo {
	uint64_t	digest;		/* of its destination and bytes */
	uint64_t	sent_ms;	/* 0: nothing to remember */
	uint32_t	returns;	/* times in a row it came back */
};

/* What the loop rules know of the server. */
struct udp_policy {
	const uint16_t			*drop_ports;	/* host order */
	size_t				 ndrop_ports;
	const struct sockaddr_storage	*self;		/* our UDP sockets */
	size_t				 nself;
};

/* A token bucket; a zeroed one is full. Tokens are kept in thousandths. */
struct udp_bucket {
	uint64_t	updated_ms;	/* 0: never used */
	uint64_t	datagrams_milli;
	uint64_t	bytes_milli;
};

/*
 * Per second; 0 means no limit. For the per-client rate, a client is its
 * source address cut to /prefix_v4 or /prefix_v6 (0: the whole address),
 * as TCP's client table counts them (client_prefix_v4, client_prefix_v6).
 */
struct udp_rate {
	uint64_t	datagrams;
	uint64_t	bytes;
	unsigned	prefix_v4;
	unsigned	prefix_v6;
};

enum udp_drop udp_policy_check(const struct udp_policy *,
	    const struct sockaddr *src, const struct sockaddr *dst,
	    const struct sockaddr *local);
enum udp_drop udp_loop_check(struct udp_echo_memo *, uint64_t digest,
	    uint64_t now_ms);
void	udp_loop_answered(struct udp_echo_memo *, uint64_t digest,
	    uint64_t now_ms);
bool	udp_bucket_take(struct udp_bucket *, const struct udp_rate *,
	    uint64_t now_ms, uint64_t bytes);
bool	udp_bucket_full(const struct udp_bucket *, const struct udp_rate *,
	    uint64_t now_ms);
const char *udp_policy_drop_name(enum udp_drop);

#endif
