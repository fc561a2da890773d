/* SPDX-License-Identifier: ISC */
/*
 * stamp_sessions.c: the stateful STAMP reflector's counters (RFC 8762
 * section 4.3), in shared memory the master maps before it forks, since
 * any worker may read a session's next packet. A session is its sender's
 * address and port and its SSID, found by SipHash under a key drawn at
 * start, so that no sender can choose sessions that share a group. A
 * group has STAMP_SESSIONS_WAYS places; a new session takes the one used
 * longest ago. A known session is found and counted without a lock (an
 * atomic add on its counter); a new one is placed under its group's
 * robust process-shared mutex, which looks again before it claims, so two
 * workers that read a new session's first two packets at once answer 0
 * and 1, not 0 twice (the sender would count a loss on the way out that
 * was not). A worker killed holding the mutex leaves the group usable:
 * the next holder takes EOWNERDEAD, and at worst a place with its counter
 * set and its tag not yet written, a free place then. No policy: which
 * sockets are stateful is the worker's business.
 */
#include "build-config.h"

#include <sys/mman.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>

#include <stdbool.h>
#include <string.h>

#include "core/siphash.h"
#include "shm/stamp_sessions.h"

struct stamp_session {
	uint64_t	tag;		/* the session's hash; 0: free */
	uint64_t	used_ms;
	uint32_t	next;		/* the reflector's next sequence number */
};

struct stamp_sessions {
	struct siphash_key	key;
	pthread_mutex_t		lock[STAMP_SESSIONS_GROUPS];	/* to claim */
	struct stamp_session	g[STAMP_SESSIONS_GROUPS][STAMP_SESSIONS_WAYS];
};

static int
init_locks(struct stamp_sessions *s)
{
	pthread_mutexattr_t	a;
	size_t			i;
	int			r;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ? -1 : 0;
	for (i = 0; r == 0 && i < STAMP_SESSIONS_GROUPS; i++)
		if (pthread_mutex_init(&s->lock[i], &a) != 0)
			r = -1;
	pthread_mutexattr_destroy(&a);
	return r;
}

struct stamp_sessions *
stamp_sessions_create(void)
{
	struct stamp_sessions	*s;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	if (siphash_key_random(&s->key) == -1 || init_locks(s) == -1) {
		munmap(s, sizeof(*s));
		return NULL;
	}
	return s;
}

void
stamp_sessions_destroy(struct stamp_sessions *s)
{
	if (s != NULL)
		munmap(s, sizeof(*s));
}

/* The session's hash, never 0 (which marks a free place). */
static uint64_t
tag_of(const struct stamp_sessions *s, const struct sockaddr *sa,
    uint16_t ssid)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;
	uint8_t				 buf[1 + 16 + 2 + 2];
	uint64_t			 h;

	memset(buf, 0, sizeof(buf));
	buf[0] = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET6) {
		memcpy(buf + 1, &sin6->sin6_addr, 16);
		memcpy(buf + 17, &sin6->sin6_port, 2);
	} else {
		memcpy(buf + 1, &sin->sin_addr, 4);
		memcpy(buf + 17, &sin->sin_port, 2);
	}
	memcpy(buf + 19, &ssid, 2);
	h = siphash24(&s->key, buf, sizeof(buf));
	return h == 0 ? 1 : h;
}

/* The place used longest ago in a group: the one a new session takes. */
static struct stamp_session *
oldest(struct stamp_session *v)
{
	struct stamp_session	*o = &v[0];
	size_t			 i;

	for (i = 1; i < STAMP_SESSIONS_WAYS; i++)
		if (__atomic_load_n(&v[i].used_ms, __ATOMIC_RELAXED) <
		    __atomic_load_n(&o->used_ms, __ATOMIC_RELAXED))
			o = &v[i];
	return o;
}

/* The place of the session in group v, or NULL. */
static struct stamp_session *
find(struct stamp_session *v, uint64_t tag)
{
	size_t	i;

	for (i = 0; i < STAMP_SESSIONS_WAYS; i++)
		if (__atomic_load_n(&v[i].tag, __ATOMIC_ACQUIRE) == tag)
			return &v[i];
	return NULL;
}

/* 0 with the group's mutex held, -1 if it cannot be had. */
static int
lock_group(pthread_mutex_t *m)
{
	int	r = pthread_mutex_lock(m);

	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(m);
	return r == 0 ? 0 : -1;
}

uint32_t
stamp_sessions_next(struct stamp_sessions *s, const struct sockaddr *sa,
    uint16_t ssid, uint64_t now_ms)
{
	uint64_t		 tag = tag_of(s, sa, ssid);
	size_t			 gi = tag & (STAMP_SESSIONS_GROUPS - 1);
	struct stamp_session	*v = s->g[gi];
	struct stamp_session	*e;
	uint32_t		 n = 0;

	if ((e = find(v, tag)) != NULL) {
		__atomic_store_n(&e->used_ms, now_ms, __ATOMIC_RELAXED);
		return __atomic_fetch_add(&e->next, 1, __ATOMIC_ACQ_REL);
	}
	if (lock_group(&s->lock[gi]) == -1)
		return 0;
	if ((e = find(v, tag)) != NULL) {
		/* Claimed by another worker since the look above. */
		__atomic_store_n(&e->used_ms, now_ms, __ATOMIC_RELAXED);
		n = __atomic_fetch_add(&e->next, 1, __ATOMIC_ACQ_REL);
	} else {
		e = oldest(v);
		__atomic_store_n(&e->tag, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&e->next, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&e->used_ms, now_ms, __ATOMIC_RELAXED);
		__atomic_store_n(&e->tag, tag, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock[gi]);
	return n;
}
