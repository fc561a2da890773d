/* SPDX-License-Identifier: ISC */
/* udp_policy.h: which datagrams a UDP echo server must not answer, as pure functions. */
#ifndef SOCKECHOD_UDP_POLICY_H
#define SOCKECHOD_UDP_POLICY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scoreboard.h"

/* Why a datagram went unanswered: the scoreboard counts each. */
enum udp_drop {
	UDP_DROP_NONE = -1,	/* answer it */
	UDP_DROP_PORT = 0,	/* source port 0 or in udp_drop_source_ports */
	UDP_DROP_SELF,		/* sent by one of our own sockets */
	UDP_DROP_ADDRESS,	/* broadcast, multicast or unspecified */
	UDP_DROP_DENIED,	/* the access list says no */
	UDP_DROP_CLIENT_RATE,	/* over its source's token bucket */
	UDP_DROP_GLOBAL_RATE,	/* over the server's ceiling */
	UDP_DROP_TRUNCATED,	/* larger than our buffer (cannot happen) */
	UDP_DROP_SEND,		/* the answer could not be sent */
	UDP_DROP_COUNT
};

_Static_assert(UDP_DROP_COUNT == SCOREBOARD_UDP_DROP_REASONS,
    "one scoreboard counter per drop reason");

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

/* Per second; 0 means no limit. */
struct udp_rate {
	uint64_t	datagrams;
	uint64_t	bytes;
};

enum udp_drop udp_policy_check(const struct udp_policy *,
	    const struct sockaddr *src, const struct sockaddr *dst);
bool	udp_bucket_take(struct udp_bucket *, const struct udp_rate *,
	    uint64_t now_ms, uint64_t bytes);
const char *udp_policy_drop_name(enum udp_drop);

#endif
