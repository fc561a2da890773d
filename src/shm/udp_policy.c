/* SPDX-License-Identifier: ISC */
/*
 * udp_policy.c: the rules that keep a UDP echo server out of loops and
 * reflection attacks, as pure functions of addresses, ports, digests,
 * times and counts. No sockets, no clocks, no shared memory here.
 */
#include "build-config.h"

#include <netinet/in.h>

#include <string.h>

#include "shm/udp_policy.h"

#define MILLI			1000
#define UDP_LARGEST_BYTES	65527	/* a byte bucket always holds one */

/* An address with IPv4-mapped IPv6 taken as the IPv4 one. */
struct ip {
	int		family;		/* AF_INET, AF_INET6, 0: other */
	uint8_t		b[16];
	uint16_t	port;		/* host order */
};

static void
ip_of(const struct sockaddr *sa, struct ip *ip)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		ip->family = AF_INET;
		memcpy(ip->b, &sin->sin_addr, 4);
		ip->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		ip->port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip->family = AF_INET;
			memcpy(ip->b, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->b, &sin6->sin6_addr, 16);
		}
	}
}

static bool
ip_same(const struct ip *a, const struct ip *b)
{
	return a->family == b->family &&
	    memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16) == 0;
}

static bool
ip_unspecified(const struct ip *a)
{
	static const uint8_t	zero[16];

	return memcmp(a->b, zero, a->family == AF_INET ? 4 : 16) == 0;
}

static bool
ip_loopback(const struct ip *a)
{
	static const uint8_t	one[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->b[0] == 127;
	return memcmp(a->b, one, 16) == 0;
}

/* Multicast, the limited broadcast and the reserved 240/4 above it. */
static bool
ip_group(const struct ip *a)
{
	if (a->family == AF_INET)
		return a->b[0] >= 224;
	return a->b[0] == 0xff;
}

/*
 * Nobody can be answered at these; only a forger would write them. A
 * loopback source is answered only at a loopback destination: from
 * outside, it is a forgery the kernel lets through with route_localnet.
 */
static bool
bad_source(const struct ip *src, const struct ip *dst)
{
	if (src->family == 0 || ip_unspecified(src) || ip_group(src))
		return true;
	if (src->family == AF_INET && src->b[0] == 0)	/* 0/8 */
		return true;
	return dst != NULL && ip_loopback(src) && !ip_loopback(dst);
}

/*
 * An IPv4 datagram, IPv4-mapped ones included, is answered only when the
 * kernel said that it was sent to a unicast address of ours: then the
 * local address it gives (IP_PKTINFO's ipi_spec_dst) is the destination
 * itself, while for a subnet's broadcast it is the interface's address.
 * Whatever it did not say, we cannot tell. IPv6 has no broadcast; its
 * groups are ip_group()'s.
 */
static bool
unicast_to_us(const struct ip *src, const struct ip *dst,
    const struct ip *local)
{
	const struct ip	*a = dst != NULL ? dst : src;

	if (a->family != AF_INET)
		return true;
	return dst != NULL && local != NULL && ip_same(dst, local);
}

/* A service's port on an address of this host: it may answer back. */
static bool
local_service(const struct ip *src, const struct ip *dst)
{
	if (src->port >= UDP_SERVICE_PORTS_BELOW)
		return false;
	return ip_loopback(src) || (dst != NULL && ip_same(src, dst));
}

static bool
dropped_port(const struct udp_policy *p, uint16_t port)
{
	size_t	i;

	if (port == 0)
		return true;
	for (i = 0; i < p->ndrop_ports; i++)
		if (p->drop_ports[i] == port)
			return true;
	return false;
}

/*
 * From one of our own sockets: the source port is one we listen on, and
 * the source address is that socket's, or, for a wildcard socket, the
 * address the datagram was sent to or a loopback one.
 */
static bool
from_self(const struct udp_policy *p, const struct ip *src,
    const struct ip *dst)
{
	struct ip	s;
	size_t		i;

	for (i = 0; i < p->nself; i++) {
		ip_of((const struct sockaddr *)&p->self[i], &s);
		if (s.port != src->port || s.family == 0)
			continue;
		if (!ip_unspecified(&s)) {
			if (ip_same(&s, src))
				return true;
		} else if (ip_loopback(src) ||
		    (dst != NULL && ip_same(src, dst)))
			return true;
	}
	return false;
}

/*
 * Whether to answer a datagram from "src" sent to "dst", for which the
 * kernel would answer from "local" (NULL: not known), before the loop
 * detector and the rates: forgeries, groups, broadcasts, then loops.
 */
enum udp_drop
udp_policy_check(const struct udp_policy *p, const struct sockaddr *src,
    const struct sockaddr *dst, const struct sockaddr *local)
{
	struct ip	s, d, l;
	const struct ip	*dp = NULL, *lp = NULL;

	ip_of(src, &s);
	if (dst != NULL) {
		ip_of(dst, &d);
		dp = &d;
	}
	if (local != NULL) {
		ip_of(local, &l);
		lp = &l;
	}
	if (bad_source(&s, dp))
		return UDP_DROP_SOURCE;
	if (dp != NULL && ip_group(dp))
		return UDP_DROP_GROUP;
	if (!unicast_to_us(&s, dp, lp))
		return UDP_DROP_BROADCAST;
	if (dropped_port(p, s.port) || local_service(&s, dp))
		return UDP_DROP_PORT;
	if (from_self(p, &s, dp))
		return UDP_DROP_SELF;
	return UDP_DROP_NONE;
}

/*
 * A datagram whose digest (of its source and bytes) is "digest" came in:
 * UDP_DROP_LOOP if it is, for the UDP_LOOP_RETURNS-th time in a row, the
 * answer we just sent its source. The memo is then forgotten: the loop is
 * broken, and a client that asks the same once more gets its answer.
 */
enum udp_drop
udp_loop_check(struct udp_echo_memo *m, uint64_t digest, uint64_t now_ms)
{
	if (m->sent_ms == 0 || m->digest != digest)
		return UDP_DROP_NONE;
	if (now_ms < m->sent_ms || now_ms - m->sent_ms > UDP_LOOP_WINDOW_MS) {
		m->returns = 0;
		return UDP_DROP_NONE;
	}
	if (++m->returns < UDP_LOOP_RETURNS)
		return UDP_DROP_NONE;
	memset(m, 0, sizeof(*m));
	return UDP_DROP_LOOP;
}

/* We answered a datagram of this digest: its answer has the same one. */
void
udp_loop_answered(struct udp_echo_memo *m, uint64_t digest, uint64_t now_ms)
{
	if (m->sent_ms == 0 || m->digest != digest) {
		m->digest = digest;
		m->returns = 0;
	}
	m->sent_ms = now_ms > 0 ? now_ms : 1;
}

/* Tokens after "elapsed_ms" at "rate" a second, never above "cap". */
static uint64_t
refill(uint64_t tokens, uint64_t rate, uint64_t cap, uint64_t elapsed_ms)
{
	if (tokens >= cap)
		return cap;
	if (elapsed_ms >= (cap - tokens) / rate + 1)
		return cap;
	tokens += elapsed_ms * rate;	/* rate a second: rate milli a ms */
	return tokens > cap ? cap : tokens;
}

/* What a bucket holds when full, in thousandths. */
static uint64_t
datagrams_cap(const struct udp_rate *r)
{
	return r->datagrams * MILLI;
}

static uint64_t
bytes_cap(const struct udp_rate *r)
{
	return (r->bytes > UDP_LARGEST_BYTES ? r->bytes : UDP_LARGEST_BYTES) *
	    MILLI;
}

/*
 * Whether the bucket is full again at "now_ms" (a never used one is):
 * its source could not be given more by starting it over. A source keeps
 * its bucket from being full only by spending at its rate.
 */
bool
udp_bucket_full(const struct udp_bucket *b, const struct udp_rate *r,
    uint64_t now_ms)
{
	uint64_t	elapsed_ms;

	if (b->updated_ms == 0)
		return true;
	elapsed_ms = now_ms > b->updated_ms ? now_ms - b->updated_ms : 0;
	if (r->datagrams && refill(b->datagrams_milli, r->datagrams,
	    datagrams_cap(r), elapsed_ms) < datagrams_cap(r))
		return false;
	return r->bytes == 0 || refill(b->bytes_milli, r->bytes,
	    bytes_cap(r), elapsed_ms) >= bytes_cap(r);
}

/*
 * Take one datagram of "bytes" from the bucket, or say false and take
 * nothing. A bucket holds one second's worth (and at least one datagram
 * of the largest size in bytes), so a client may send a second's worth
 * at once, then at its rate.
 */
bool
udp_bucket_take(struct udp_bucket *b, const struct udp_rate *r,
    uint64_t now_ms, uint64_t bytes)
{
	uint64_t	dcap = datagrams_cap(r), bcap = bytes_cap(r);

	if (b->updated_ms == 0) {
		b->datagrams_milli = dcap;
		b->bytes_milli = bcap;
		b->updated_ms = now_ms > 0 ? now_ms : 1;
	} else if (now_ms > b->updated_ms) {
		if (r->datagrams)
			b->datagrams_milli = refill(b->datagrams_milli,
			    r->datagrams, dcap, now_ms - b->updated_ms);
		if (r->bytes)
			b->bytes_milli = refill(b->bytes_milli, r->bytes, bcap,
			    now_ms - b->updated_ms);
		b->updated_ms = now_ms;
	}
	if ((r->datagrams && b->datagrams_milli < MILLI) ||
	    (r->bytes && b->bytes_milli < bytes * MILLI))
		return false;
	if (r->datagrams)
		b->datagrams_milli -= MILLI;
	if (r->bytes)
		b->bytes_milli -= bytes * MILLI;
	return true;
}

const char *
udp_policy_drop_name(enum udp_drop why)
{
	static const char *const names[UDP_DROP_COUNT] = {
		[UDP_DROP_PORT] = "port",
		[UDP_DROP_SELF] = "self",
		[UDP_DROP_SOURCE] = "source",
		[UDP_DROP_GROUP] = "group",
		[UDP_DROP_BROADCAST] = "broadcast",
		[UDP_DROP_LOOP] = "loop",
		[UDP_DROP_DENIED] = "denied",
		[UDP_DROP_CLIENT_RATE] = "client_rate",
		[UDP_DROP_GLOBAL_RATE] = "global_rate",
		[UDP_DROP_TRUNCATED] = "truncated",
		[UDP_DROP_SEND] = "send_failed",
	};

	return why >= 0 && why < UDP_DROP_COUNT ? names[why] : "?";
}
