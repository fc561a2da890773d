/* SPDX-License-Identifier: ISC */
/*
 * stamp_sessions.c: the stateful STAMP reflector's counters (RFC 8762
 * section 4.3), in shared memory the master maps before it forks, since
 * any worker may read a session's next packet. A session is its sender's
 * address and port and its SSID, found by SipHash under a key drawn at
 * start, so that no sender can choose sessions that share a group. A
 * group has STAMP_SESSIONS_WAYS places; a new session takes the one used
 * longest ago. Lock-free: a place is claimed by compare-and-swap of its
 * tag, the counter advanced by an atomic add, so a worker killed midway
 * leaves nothing locked. Two workers racing for one new session (its
 * first two packets read at the same time) may both answer 0: the sender
 * then counts one packet lost on the way out that was not. No policy: which
 * sockets are stateful is the worker's business.
 */
#include "build-config.h"

#include <sys/mman.h>
#include <netinet/in.h>

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
	struct stamp_session	g[STAMP_SESSIONS_GROUPS][STAMP_SESSIONS_WAYS];
};

struct stamp_sessions *
stamp_sessions_create(void)
{
	struct stamp_sessions	*s;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	if (siphash_key_random(&s->key) == -1) {
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

uint32_t
stamp_sessions_next(struct stamp_sessions *s, const struct sockaddr *sa,
    uint16_t ssid, uint64_t now_ms)
{
	uint64_t		 tag = tag_of(s, sa, ssid), old;
	struct stamp_session	*v = s->g[tag & (STAMP_SESSIONS_GROUPS - 1)];
	struct stamp_session	*e;
	size_t			 i;

	for (i = 0; i < STAMP_SESSIONS_WAYS; i++) {
		if (__atomic_load_n(&v[i].tag, __ATOMIC_ACQUIRE) != tag)
			continue;
		__atomic_store_n(&v[i].used_ms, now_ms, __ATOMIC_RELAXED);
		return __atomic_fetch_add(&v[i].next, 1, __ATOMIC_ACQ_REL);
	}
	e = oldest(v);
	old = __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE);
	__atomic_store_n(&e->next, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->used_ms, now_ms, __ATOMIC_RELAXED);
	(void)__atomic_compare_exchange_n(&e->tag, &old, tag, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return 0;
}
