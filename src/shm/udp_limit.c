/* SPDX-License-Identifier: ISC */
/*
 * udp_limit.c: one token bucket per UDP source address, and one for the
 * whole server, in shared memory the master maps before it forks, so
 * that a source is limited across all workers and generations. A fixed
 * table of groups, found by SipHash under a key drawn at start (and kept
 * in the mapping across reloads), so that nobody can choose sources that
 * share a group. A new source takes a free place, or the place of the one
 * seen longest ago among those whose bucket is full again by now (so
 * nothing is gained by evicting it; a source keeps its place only by
 * spending at its rate); while no place is cold, new
 * sources share one of the group's UDP_LIMIT_SPILLS overflow buckets,
 * chosen by the same keyed hash. A source is its address cut to the
 * client prefix, as for TCP. Each group has a robust
 * mutex: a worker killed inside resets that group and no other worker
 * waits for it. The decisions are udp_policy.c's.
 */
#include "build-config.h"

#include <sys/mman.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/fault_point.h"
#include "core/siphash.h"
#include "net/acl.h"
#include "shm/udp_limit.h"

#define SOURCE_KEY_BYTES	17	/* family, then the address */

struct udp_source {
	uint8_t			family;		/* 0: free */
	uint8_t			addr[16];
	struct udp_bucket	bucket;
};

struct udp_group {
	pthread_mutex_t		lock;
	struct udp_bucket	overflow[UDP_LIMIT_SPILLS]; /* while all are hot */
	struct udp_source	v[UDP_LIMIT_WAYS];
} __attribute__((aligned(64)));

struct udp_limit {
	struct siphash_key	key;
	struct udp_group	global;		/* v[0] is the server's */
	struct udp_group	g[UDP_LIMIT_GROUPS];
};

static int
init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t	a;
	int			r;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(m, &a) != 0 ? -1 : 0;
	pthread_mutexattr_destroy(&a);
	return r;
}

struct udp_limit *
udp_limit_create(void)
{
	struct udp_limit	*l;
	size_t			 i;

	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED)
		return NULL;
	if (siphash_key_random(&l->key) == -1)
		goto fail;
	errno = ENOMEM;
	if (init_lock(&l->global.lock) == -1)
		goto fail;
	for (i = 0; i < UDP_LIMIT_GROUPS; i++)
		if (init_lock(&l->g[i].lock) == -1)
			goto fail;
	return l;
fail:
	munmap(l, sizeof(*l));
	return NULL;
}

void
udp_limit_destroy(struct udp_limit *l)
{
	if (l != NULL)
		munmap(l, sizeof(*l));
}

/*
 * A holder that died inside may have left a place half written: forget
 * the whole group (its sources start again with full buckets, as after a
 * restart) and carry on. -1 only if the mutex is beyond repair.
 */
static int
lock(struct udp_group *g)
{
	int	r = pthread_mutex_lock(&g->lock);

	if (r == EOWNERDEAD) {
		memset(&g->overflow, 0, sizeof(g->overflow));
		memset(g->v, 0, sizeof(g->v));
		if ((r = pthread_mutex_consistent(&g->lock)) != 0)
			pthread_mutex_unlock(&g->lock);
	}
	return r == 0 ? 0 : -1;
}

static void
unlock(struct udp_group *g)
{
	pthread_mutex_unlock(&g->lock);
}

/* The address cut to its first "len" bits (0: all of them). */
static void
cut(struct udp_source *k, unsigned len)
{
	struct acl_addr	a;

	if (len == 0)
		return;
	memset(&a, 0, sizeof(a));
	a.family = k->family;
	memcpy(a.bytes, k->addr, sizeof(k->addr));
	acl_addr_mask(&a, len);
	memcpy(k->addr, a.bytes, sizeof(k->addr));
}

/*
 * The client's key: IPv4 (mapped or not) in 4 bytes, IPv6 in 16, cut to
 * the rate's prefix, so that one host's many IPv6 addresses (a /64 of
 * its own) are one client, as in TCP's table.
 */
static void
key_of(const struct sockaddr *sa, const struct udp_rate *r,
    struct udp_source *k)
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
	cut(k, k->family == AF_INET ? r->prefix_v4 : r->prefix_v6);
}

/* Its low bits name the group; the next ones, the overflow bucket. */
static uint64_t
hash_of(const struct udp_limit *l, const struct udp_source *k)
{
	uint8_t	b[SOURCE_KEY_BYTES];

	b[0] = k->family;
	memcpy(b + 1, k->addr, sizeof(k->addr));
	return siphash24(&l->key, b, sizeof(b));
}

/*
 * The group a source falls in, its whole address the client: for the
 * tests, which look for collisions.
 */
size_t
udp_limit_group(const struct udp_limit *l, const struct sockaddr *src)
{
	static const struct udp_rate	whole;
	struct udp_source		k;

	key_of(src, &whole, &k);
	return hash_of(l, &k) % UDP_LIMIT_GROUPS;
}

/*
 * The source's bucket: its own, a free place, the place seen longest ago
 * among the cold ones (their bucket full again by now), or else "spill",
 * its overflow bucket. Eviction thus never hands out tokens that the
 * evicted source would not have had anyway, and an attacker holds a place
 * against new sources only by spending its full rate there.
 */
static struct udp_bucket *
find_or_take(struct udp_group *g, struct udp_bucket *spill,
    const struct udp_source *k, const struct udp_rate *r, uint64_t now_ms)
{
	struct udp_source	*cold = NULL;
	size_t			 i;

	for (i = 0; i < UDP_LIMIT_WAYS; i++) {
		if (g->v[i].family == k->family &&
		    memcmp(g->v[i].addr, k->addr, sizeof(k->addr)) == 0)
			return &g->v[i].bucket;
		if ((cold == NULL ||
		    g->v[i].bucket.updated_ms < cold->bucket.updated_ms) &&
		    udp_bucket_full(&g->v[i].bucket, r, now_ms))
			cold = &g->v[i];
	}
	if (cold == NULL)
		return spill;
	*cold = *k;
	return &cold->bucket;
}

static bool
take_client(struct udp_limit *l, const struct sockaddr *src,
    const struct udp_rate *client, uint64_t now_ms, uint64_t bytes)
{
	struct udp_source	 k;
	struct udp_group	*g;
	struct udp_bucket	*spill;
	uint64_t		 h;
	bool			 ok;

	key_of(src, client, &k);
	h = hash_of(l, &k);
	g = &l->g[h % UDP_LIMIT_GROUPS];
	spill = &g->overflow[h / UDP_LIMIT_GROUPS % UDP_LIMIT_SPILLS];
	if (lock(g) == -1)
		return false;
	fault_point("udp-limit");
	ok = udp_bucket_take(find_or_take(g, spill, &k, client, now_ms),
	    client, now_ms, bytes);
	unlock(g);
	return ok;
}

static bool
take_global(struct udp_limit *l, const struct udp_rate *global,
    uint64_t now_ms, uint64_t bytes)
{
	bool	ok;

	if (lock(&l->global) == -1)
		return false;
	fault_point("udp-limit-global");
	ok = udp_bucket_take(&l->global.v[0].bucket, global, now_ms, bytes);
	unlock(&l->global);
	return ok;
}

/*
 * Charge one datagram of "bytes" to its source, then to the server: the
 * first bucket that is empty names the drop. A source over its rate does
 * not use up the server's. A lock beyond repair drops (fails safe).
 */
enum udp_drop
udp_limit_take(struct udp_limit *l, const struct sockaddr *src,
    const struct udp_rate *client, const struct udp_rate *global,
    uint64_t now_ms, uint64_t bytes)
{
	if ((client->datagrams || client->bytes) &&
	    !take_client(l, src, client, now_ms, bytes))
		return UDP_DROP_CLIENT_RATE;
	if ((global->datagrams || global->bytes) &&
	    !take_global(l, global, now_ms, bytes))
		return UDP_DROP_GLOBAL_RATE;
	return UDP_DROP_NONE;
}
