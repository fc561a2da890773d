/* SPDX-License-Identifier: ISC */
/*
 * clients.c: a fixed-size table in shared memory that counts, for each
 * client (an address, or an address prefix), the connections each worker
 * holds, their total, and the connections the client opened in the
 * current second. Workers enter and leave; the master releases a dead
 * worker's share and drops stale rate entries. A robust process-shared
 * mutex guards it, so a worker killed while holding the lock cannot wedge
 * the others (the next holder repairs what it left half done). An entry's
 * home is SipHash of its client's address and its owner under a key drawn
 * at start: nobody can choose addresses that pile up on one run, and one
 * client's many workers (up to 512, twice during a reload) spread over the
 * table instead of filling one run; admission reads the client's total
 * entry, so no lookup walks more than CLIENTS_PROBE_MAX entries. No
 * sockets, no logging, no policy beyond the two limits.
 */
#include "build-config.h"

#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#include "shm/clients.h"
#include "core/fault_point.h"
#include "core/siphash.h"

#define MS_PER_SECOND	1000
#define TOTAL		CLIENTS_TOTAL
/* A bound, never reached: each pass leaves fewer entries out of place. */
#define CLIENTS_REPAIR_PASSES	8

/*
 * One worker's connections of one client (owner = its pid, n = count),
 * the client's total over its workers (owner = TOTAL, n), or the client's
 * rate this second (owner = CLIENTS_NO_OWNER, second, n).
 */
struct entry {
	struct acl_addr	key;
	uint8_t		used;
	uint32_t	owner;
	uint64_t	second;
	uint64_t	n;
};

struct clients {
	pthread_mutex_t	lock;
	struct siphash_key key;		/* drawn at start, kept across reloads */
	size_t		nentries;	/* a power of two */
	size_t		used;
	size_t		rates;		/* of them, rate entries: 0, no sweep */
	uint64_t	full;		/* inserts refused for lack of room */
	struct entry	e[];
};

static size_t
map_bytes(size_t nentries)
{
	return sizeof(struct clients) + nentries * sizeof(struct entry);
}

struct clients *
clients_create(size_t nentries)
{
	pthread_mutexattr_t	 a;
	struct clients		*t;

	if (nentries == 0 || (nentries & (nentries - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	t = mmap(NULL, map_bytes(nentries), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->nentries = nentries;
	if (siphash_key_random(&t->key) == -1) {
		munmap(t, map_bytes(nentries));
		return NULL;
	}
	if (pthread_mutexattr_init(&a) != 0 ||
	    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&t->lock, &a) != 0) {
		munmap(t, map_bytes(nentries));
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	return t;
}

void
clients_destroy(struct clients *t)
{
	if (t != NULL)
		munmap(t, map_bytes(t->nentries));
}

static void repair(struct clients *);

/*
 * Exported for callers that read several counts at once, and for the
 * test of a holder killed inside. A holder that died inside makes the
 * next lock EOWNERDEAD: the table is repaired (its share is released on
 * reap anyway).
 */
void
clients_lock(struct clients *t)
{
	if (pthread_mutex_lock(&t->lock) == EOWNERDEAD) {
		repair(t);
		pthread_mutex_consistent(&t->lock);
	}
}

void
clients_unlock(struct clients *t)
{
	pthread_mutex_unlock(&t->lock);
}

/* The client an address belongs to: the address cut to its prefix. */
void
clients_key(const struct acl_addr *a, const struct clients_limits *l,
    struct acl_addr *key)
{
	*key = *a;
	acl_addr_mask(key, a->family == AF_INET ? l->prefix_v4 : l->prefix_v6);
}

/*
 * Keyed, and by owner too: the entries of one client's workers each have
 * a home of their own, so many workers of one client do not make one run.
 */
static size_t
home(const struct clients *t, const struct acl_addr *key, uint32_t owner)
{
	uint8_t	b[sizeof(*key) + sizeof(owner)];

	memcpy(b, key, sizeof(*key));
	memcpy(b + sizeof(*key), &owner, sizeof(owner));
	return (size_t)siphash24(&t->key, b, sizeof(b)) & (t->nentries - 1);
}

/* Where an entry's run begins: for the tests, which look for collisions. */
size_t
clients_home(const struct clients *t, const struct acl_addr *key,
    uint32_t owner)
{
	return home(t, key, owner);
}

/*
 * One step of a probe run, the entry "probed" places past the home: the
 * entry sought, a free place (the run ends there), the next place, or
 * give up: no entry lies CLIENTS_PROBE_MAX or more places past its home,
 * so a lookup walks at most that many, and an insert that would go
 * further is refused as if the table were full (fail safe, counted).
 */
enum clients_probe
clients_probe_step(size_t probed, bool used, bool same)
{
	if (!used)
		return CLIENTS_PROBE_FREE;
	if (same)
		return CLIENTS_PROBE_HIT;
	if (probed + 1 >= CLIENTS_PROBE_MAX)
		return CLIENTS_PROBE_GIVE_UP;
	return CLIENTS_PROBE_NEXT;
}

static bool
same(const struct entry *e, const struct acl_addr *key, uint32_t owner)
{
	return e->used && e->owner == owner &&
	    memcmp(&e->key, key, sizeof(*key)) == 0;
}

/*
 * The key's entry of "owner", or NULL; then *free_at is where it would
 * go, or SIZE_MAX past the probe bound.
 */
static struct entry *
lookup(struct clients *t, const struct acl_addr *key, uint32_t owner,
    size_t *free_at)
{
	size_t	i = home(t, key, owner), n;

	*free_at = SIZE_MAX;
	for (n = 0; n < t->nentries; n++, i = (i + 1) & (t->nentries - 1))
		switch (clients_probe_step(n, t->e[i].used,
		    same(&t->e[i], key, owner))) {
		case CLIENTS_PROBE_HIT:
			return &t->e[i];
		case CLIENTS_PROBE_FREE:
			*free_at = i;
			return NULL;
		case CLIENTS_PROBE_GIVE_UP:
			return NULL;
		case CLIENTS_PROBE_NEXT:
			break;
		}
	return NULL;
}

static struct entry *
find(struct clients *t, const struct acl_addr *key, uint32_t owner)
{
	size_t	free_at;

	return lookup(t, key, owner, &free_at);
}

static struct entry *
insert(struct clients *t, const struct acl_addr *key, uint32_t owner)
{
	struct entry	*e;
	size_t		 i;

	if ((e = lookup(t, key, owner, &i)) != NULL)
		return e;
	if (t->used >= t->nentries / 4 * 3 || i == SIZE_MAX) {
		t->full++;
		return NULL;
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->owner = owner;
	e->used = 1;
	t->used++;
	t->rates += owner == CLIENTS_NO_OWNER;
	return e;
}

/*
 * Linear probing without tombstones: after a removal, later entries of
 * the run move back into the hole if their home allows it.
 */
static void
remove_at(struct clients *t, size_t hole)
{
	size_t	mask = t->nentries - 1, j = hole, h;

	t->e[hole].used = 0;
	t->used--;
	t->rates -= t->e[hole].owner == CLIENTS_NO_OWNER;
	fault_point("clients-hole");
	for (;;) {
		j = (j + 1) & mask;
		if (!t->e[j].used)
			return;
		h = home(t, &t->e[j].key, t->e[j].owner);
		/* Stays if its home lies cyclically in (hole, j]. */
		if (((j - h) & mask) < ((j - hole) & mask))
			continue;
		t->e[hole] = t->e[j];
		fault_point("clients-shift");
		t->e[j].used = 0;
		hole = j;
	}
}

/* The client's connections over all workers: its total entry's. */
static uint64_t
count(struct clients *t, const struct acl_addr *key)
{
	struct entry	*e = find(t, key, TOTAL);

	return e == NULL ? 0 : e->n;
}

/* Remove the entry of key and owner if it counts nothing. */
static void
remove_if_zero(struct clients *t, const struct acl_addr *key, uint32_t owner)
{
	struct entry	*e;

	if ((e = find(t, key, owner)) != NULL && e->n == 0)
		remove_at(t, (size_t)(e - t->e));
}

static bool
worker_entry(const struct entry *e)
{
	return e->used && e->owner != CLIENTS_NO_OWNER && e->owner != TOTAL;
}

/*
 * One entry out of reach of its lookup (after a hole that a removal cut
 * short left in its run): out, then back where its lookup finds it. One
 * that its lookup finds elsewhere is the copy a shift cut short left
 * behind (entries are unique per key and owner until the next insert,
 * which comes after this repair): that one goes. Says if it moved one.
 */
static bool
reinsert(struct clients *t, size_t i)
{
	struct entry	e = t->e[i];
	size_t		at;

	if (find(t, &e.key, e.owner) == &t->e[i])
		return false;
	remove_at(t, i);
	if (lookup(t, &e.key, e.owner, &at) == NULL) {
		if (at == SIZE_MAX)
			t->full++;	/* past the probe bound: lost, counted */
		else {
			t->e[at] = e;
			t->used++;
			t->rates += e.owner == CLIENTS_NO_OWNER;
		}
	}
	return true;
}

/* Remove every entry that matches (a removal may move an entry into i). */
static size_t
sweep_locked(struct clients *t, bool (*match)(const struct entry *, uint64_t),
    uint64_t arg)
{
	size_t	i, n = 0;

	for (i = 0; i < t->nentries; )
		if (t->e[i].used && match(&t->e[i], arg)) {
			remove_at(t, i);
			n++;
		} else
			i++;
	return n;
}

static bool
owned_by(const struct entry *e, uint64_t owner)
{
	return e->owner == owner;
}

static bool
empty_total(const struct entry *e, uint64_t unused)
{
	(void)unused;
	return e->owner == TOTAL && e->n == 0;
}

static bool
stale_rate(const struct entry *e, uint64_t second)
{
	return e->owner == CLIENTS_NO_OWNER && e->second < second;
}

/*
 * Each client's total is the sum of its workers' counts again (a holder
 * killed between the two increments left it one off). A total that finds
 * no room is lost: that client counts from 0 (cannot happen below 3/4).
 */
static void
recount(struct clients *t)
{
	struct entry	*total;
	size_t		 i;

	for (i = 0; i < t->nentries; i++)
		if (t->e[i].used && t->e[i].owner == TOTAL)
			t->e[i].n = 0;
	for (i = 0; i < t->nentries; i++)
		if (worker_entry(&t->e[i]) &&
		    (total = insert(t, &t->e[i].key, TOTAL)) != NULL)
			total->n += t->e[i].n;
	(void)sweep_locked(t, empty_total, 0);
}

/*
 * After a holder died inside: the count of places in use, every entry
 * once and within reach of its lookup (a live count is never dropped; a
 * pass may move an entry behind i, so passes repeat until one moves
 * nothing), and the totals recounted.
 */
static void
repair(struct clients *t)
{
	size_t	i, n = 0, rates = 0;
	bool	moved;
	int	pass = 0;

	for (i = 0; i < t->nentries; i++) {
		n += t->e[i].used;
		rates += t->e[i].used && t->e[i].owner == CLIENTS_NO_OWNER;
	}
	t->used = n;
	t->rates = rates;
	do {
		moved = false;
		for (i = 0; i < t->nentries; )
			if (t->e[i].used && reinsert(t, i))
				moved = true;
			else
				i++;
	} while (moved && ++pass < CLIENTS_REPAIR_PASSES);
	recount(t);
}

static enum clients_verdict
check_rate(struct clients *t, const struct acl_addr *key,
    const struct clients_limits *l, uint64_t second, struct entry **rate)
{
	*rate = NULL;
	if (l->max_new_per_second == 0)
		return CLIENTS_OK;
	if ((*rate = insert(t, key, CLIENTS_NO_OWNER)) == NULL)
		return CLIENTS_FULL;
	if ((*rate)->second != second) {
		(*rate)->second = second;
		(*rate)->n = 0;
	}
	return (*rate)->n >= l->max_new_per_second ? CLIENTS_TOO_FAST :
	    CLIENTS_OK;
}

/*
 * Count one connection in the client's total and the worker's entry
 * (inserts move no entry, so "rate" stays valid), or say CLIENTS_FULL
 * and count nothing.
 */
static enum clients_verdict
count_in(struct clients *t, const struct acl_addr *key, uint32_t owner,
    struct entry *rate)
{
	struct entry	*total, *mine;

	if ((total = insert(t, key, TOTAL)) == NULL)
		return CLIENTS_FULL;
	if ((mine = insert(t, key, owner)) == NULL) {
		remove_if_zero(t, key, TOTAL);
		return CLIENTS_FULL;
	}
	mine->n++;
	total->n++;
	if (rate != NULL)
		rate->n++;
	return CLIENTS_OK;
}

/*
 * A connection of "key" wants to be served by worker "owner": count it
 * and say CLIENTS_OK, or say why not (and count nothing). Only what is
 * admitted counts against the rate, so a refused flood does not keep a
 * client locked out beyond the current second.
 */
enum clients_verdict
clients_enter(struct clients *t, const struct acl_addr *key, uint32_t owner,
    const struct clients_limits *l, uint64_t now_ms)
{
	enum clients_verdict	 v;
	struct entry		*rate;

	clients_lock(t);
	fault_point("clients");
	v = check_rate(t, key, l, now_ms / MS_PER_SECOND, &rate);
	if (v == CLIENTS_OK && l->max_connections > 0 &&
	    count(t, key) >= l->max_connections)
		v = CLIENTS_TOO_MANY;
	if (v == CLIENTS_OK)
		v = count_in(t, key, owner, rate);
	clients_unlock(t);
	return v;
}

/* A removal moves entries: both counts first, then the removals. */
void
clients_leave(struct clients *t, const struct acl_addr *key, uint32_t owner)
{
	struct entry	*e, *total;

	clients_lock(t);
	if ((e = find(t, key, owner)) != NULL && e->n > 0) {
		e->n--;
		if ((total = find(t, key, TOTAL)) != NULL && total->n > 0)
			total->n--;
		remove_if_zero(t, key, owner);
		remove_if_zero(t, key, TOTAL);
	}
	clients_unlock(t);
}

uint64_t
clients_count(struct clients *t, const struct acl_addr *key)
{
	uint64_t	n;

	clients_lock(t);
	n = count(t, key);
	clients_unlock(t);
	return n;
}

/*
 * Without waiting for the lock: the master must never block on a worker
 * (a stopped one may hold it). EOWNERDEAD counts as taken.
 */
static int
try_lock(struct clients *t)
{
	int	r = pthread_mutex_trylock(&t->lock);

	if (r == EOWNERDEAD) {
		repair(t);
		pthread_mutex_consistent(&t->lock);
		r = 0;
	}
	return r == 0 ? 0 : -1;
}

/* Take a worker's count of its client out of the client's total. */
static void
uncount(struct clients *t, const struct entry *e)
{
	struct entry	*total;

	if ((total = find(t, &e->key, TOTAL)) != NULL)
		total->n -= total->n < e->n ? total->n : e->n;
}

/*
 * The master reaped worker "owner" (its pid): what it held is free
 * again, its entries (their number is returned) and its share of each
 * client's total. -1 if the lock is busy: try again later.
 */
ssize_t
clients_release_owner(struct clients *t, uint32_t owner)
{
	size_t	i, n;

	if (try_lock(t) == -1)
		return -1;
	for (i = 0; i < t->nentries; i++)
		if (worker_entry(&t->e[i]) && t->e[i].owner == owner)
			uncount(t, &t->e[i]);
	n = sweep_locked(t, owned_by, owner);
	(void)sweep_locked(t, empty_total, 0);
	clients_unlock(t);
	return (ssize_t)n;
}

/*
 * Rate entries of seconds gone by; -1 if the lock is busy. Without rate
 * entries (max_new_connections_per_client = 0, the default, or no client
 * for a second) nothing is walked: a walk of the whole table, once a
 * second, would cost an idle daemon about 1% of a CPU.
 */
ssize_t
clients_expire(struct clients *t, uint64_t now_ms)
{
	size_t	n = 0;

	if (try_lock(t) == -1)
		return -1;
	if (t->rates > 0)
		n = sweep_locked(t, stale_rate, now_ms / MS_PER_SECOND);
	clients_unlock(t);
	return (ssize_t)n;
}

/* How many entries are in use, and how many inserts found no room. */
void
clients_stats(struct clients *t, size_t *used, uint64_t *full)
{
	clients_lock(t);
	*used = t->used;
	*full = t->full;
	clients_unlock(t);
}

/* How many of the entries in use count a client's rate. */
size_t
clients_rate_entries(struct clients *t)
{
	size_t	n;

	clients_lock(t);
	n = t->rates;
	clients_unlock(t);
	return n;
}
