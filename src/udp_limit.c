/* SPDX-License-Identifier: ISC */
/*
 * udp_limit.c: one token bucket per UDP source address, and one for the
 * whole server, in shared memory the master maps before it forks, so
 * that a source is limited across all workers and generations. A fixed
 * table: a source that finds its group full takes the place of the one
 * seen longest ago (it starts with a full bucket; the global bucket bounds
 * what many sources together get). The decisions are udp_policy.c's.
 */
#include "build-config.h"

#include <sys/mman.h>
#include <netinet/in.h>

#include <sched.h>
#include <string.h>

#include "udp_limit.h"

#define SPINS_BEFORE_YIELD	64

struct udp_source {
	uint8_t			family;		/* 0: free */
	uint8_t			addr[16];
	struct udp_bucket	bucket;
};

struct udp_group {
	uint32_t		lock;
	struct udp_source	v[UDP_LIMIT_WAYS];
} __attribute__((aligned(64)));

struct udp_limit {
	struct udp_group	global;		/* v[0] is the server's */
	struct udp_group	g[UDP_LIMIT_GROUPS];
};

struct udp_limit *
udp_limit_create(void)
{
	void	*p;

	p = mmap(NULL, sizeof(struct udp_limit), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
udp_limit_destroy(struct udp_limit *l)
{
	if (l != NULL)
		munmap(l, sizeof(*l));
}

/* Held for a few dozen instructions; a preempted holder gets the CPU back. */
static void
lock(struct udp_group *g)
{
	unsigned	spins = 0;

	while (__atomic_exchange_n(&g->lock, 1, __ATOMIC_ACQUIRE) != 0)
		if (++spins % SPINS_BEFORE_YIELD == 0)
			sched_yield();
}

static void
unlock(struct udp_group *g)
{
	__atomic_store_n(&g->lock, 0, __ATOMIC_RELEASE);
}

/* The source's key: IPv4 (mapped or not) in 4 bytes, IPv6 in 16. */
static void
key_of(const struct sockaddr *sa, struct udp_source *k)
{
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		k->family = AF_INET;
		memcpy(k->addr, &sin6->sin6_addr.s6_addr[12], 4);
	} else {
		k->family = AF_INET6;
		memcpy(k->addr, &sin6->sin6_addr, 16);
	}
}

/* FNV-1a: cheap, and the table's size is no secret worth guarding. */
static size_t
group_of(const struct udp_source *k)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	h = (h ^ k->family) * 16777619u;
	for (i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h % UDP_LIMIT_GROUPS;
}

static struct udp_source *
find_or_take(struct udp_group *g, const struct udp_source *k)
{
	struct udp_source	*oldest = &g->v[0];
	size_t			 i;

	for (i = 0; i < UDP_LIMIT_WAYS; i++) {
		if (g->v[i].family == k->family &&
		    memcmp(g->v[i].addr, k->addr, sizeof(k->addr)) == 0)
			return &g->v[i];
		if (g->v[i].bucket.updated_ms < oldest->bucket.updated_ms)
			oldest = &g->v[i];
	}
	*oldest = *k;
	return oldest;
}

/*
 * Charge one datagram of "bytes" to its source, then to the server: the
 * first bucket that is empty names the drop. A source over its rate does
 * not use up the server's.
 */
enum udp_drop
udp_limit_take(struct udp_limit *l, const struct sockaddr *src,
    const struct udp_rate *client, const struct udp_rate *global,
    uint64_t now_ms, uint64_t bytes)
{
	struct udp_source	 k;
	struct udp_group	*g;
	bool			 ok;

	if (client->datagrams || client->bytes) {
		key_of(src, &k);
		g = &l->g[group_of(&k)];
		lock(g);
		ok = udp_bucket_take(&find_or_take(g, &k)->bucket, client,
		    now_ms, bytes);
		unlock(g);
		if (!ok)
			return UDP_DROP_CLIENT_RATE;
	}
	if (global->datagrams || global->bytes) {
		lock(&l->global);
		ok = udp_bucket_take(&l->global.v[0].bucket, global, now_ms,
		    bytes);
		unlock(&l->global);
		if (!ok)
			return UDP_DROP_GLOBAL_RATE;
	}
	return UDP_DROP_NONE;
}
