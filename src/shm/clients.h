/* SPDX-License-Identifier: ISC */
/* clients.h: connections per client, counted across all workers in shared memory. */
#ifndef SOCKECHOD_CLIENTS_H
#define SOCKECHOD_CLIENTS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/acl.h"

/*
 * Entries of the table: 131072 of 40 bytes, 5 MiB of shared memory. A
 * client takes two (its worker's count, its total): 3/4 of it holds
 * 49152 clients with one connection each.
 */
#define CLIENTS_ENTRIES		131072
/* Inserts stop at 3/4 full, which keeps the probe sequences short. */
#define CLIENTS_MAX_USED	(CLIENTS_ENTRIES / 4 * 3)
#define CLIENTS_NO_OWNER	UINT32_MAX
/* The owner of a client's total: no pid is this high (PID_MAX_LIMIT 2^22). */
#define CLIENTS_TOTAL		(CLIENTS_NO_OWNER - 1)
/*
 * No entry lies this many places or more past its home: a lookup walks at
 * most this many. With a keyed hash, runs this long come by chance only
 * (a table 3/4 full of random keys: the longest seen was 186).
 */
#define CLIENTS_PROBE_MAX	256

enum clients_probe {
	CLIENTS_PROBE_HIT,	/* the entry sought */
	CLIENTS_PROBE_FREE,	/* the run ends: not there, it would go here */
	CLIENTS_PROBE_NEXT,	/* look at the next place */
	CLIENTS_PROBE_GIVE_UP,	/* the probe bound: not there, no place */
};

enum clients_verdict {
	CLIENTS_OK,
	CLIENTS_TOO_MANY,	/* at max_connections_per_client */
	CLIENTS_TOO_FAST,	/* at max_new_connections_per_client this second */
	CLIENTS_FULL,		/* no room in the table: refused, fail safe */
};

struct clients_limits {
	uint64_t	max_connections;	/* 0: no limit */
	uint64_t	max_new_per_second;	/* 0: no limit */
	unsigned	prefix_v4;		/* a client is this /N */
	unsigned	prefix_v6;
};

struct clients;

struct clients *clients_create(size_t nentries);
void	clients_destroy(struct clients *);
void	clients_key(const struct acl_addr *, const struct clients_limits *,
	    struct acl_addr *key);
enum clients_verdict clients_enter(struct clients *, const struct acl_addr *key,
	    uint32_t owner, const struct clients_limits *, uint64_t now_ms);
void	clients_leave(struct clients *, const struct acl_addr *key,
	    uint32_t owner);
uint64_t clients_count(struct clients *, const struct acl_addr *key);
ssize_t	clients_release_owner(struct clients *, uint32_t owner);
ssize_t	clients_expire(struct clients *, uint64_t now_ms);
void	clients_stats(struct clients *, size_t *used, uint64_t *full);
size_t	clients_rate_entries(struct clients *);
void	clients_lock(struct clients *);
size_t	clients_home(const struct clients *, const struct acl_addr *,
	    uint32_t owner);
enum clients_probe clients_probe_step(size_t probed, bool used, bool same);
void	clients_unlock(struct clients *);

#endif
