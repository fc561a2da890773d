/* SPDX-License-Identifier: ISC */
/*
 * scoreboard.c: the shared memory through which workers show the master
 * that they live and what they do. It owns the mapping, nothing else.
 */
#include "build-config.h"

#include <sys/mman.h>

#include <string.h>

#include "shm/scoreboard.h"

_Static_assert(sizeof(struct scoreboard_head) <= sizeof(struct scoreboard_slot),
    "the head fits in the line before the slots");

/* The mapping: one slot's room for the head, then the slots. */
struct scoreboard_slot *
scoreboard_create(size_t nslots)
{
	void	*p;

	p = mmap(NULL, (nslots + 1) * sizeof(struct scoreboard_slot),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : (struct scoreboard_slot *)p + 1;
}

void
scoreboard_destroy(struct scoreboard_slot *sb, size_t nslots)
{
	if (sb != NULL)
		munmap(sb - 1, (nslots + 1) * sizeof(struct scoreboard_slot));
}

struct scoreboard_head *
scoreboard_head(struct scoreboard_slot *sb)
{
	return (struct scoreboard_head *)(void *)(sb - 1);
}

/* The master is about to use slot "idx": readers must look that far. */
void
scoreboard_use(struct scoreboard_slot *sb, size_t idx)
{
	struct scoreboard_head	*h = scoreboard_head(sb);

	if (idx + 1 > SCOREBOARD_LOAD(h->nused))
		SCOREBOARD_STORE(h->nused, (uint32_t)(idx + 1));
}

/* Prepare a slot for a worker about to be forked. */
void
scoreboard_reset(struct scoreboard_slot *s, uint32_t generation,
    uint64_t conn_limit, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->generation = generation;
	s->conn_limit = conn_limit;
	s->state = SCOREBOARD_STARTING;
	s->heartbeat_ms = now_ms;
}

/* Add a live worker's UDP counters to a sum. */
void
scoreboard_udp_add(struct scoreboard_udp *sum, const struct scoreboard_udp *u)
{
	size_t	i;

	sum->received += SCOREBOARD_LOAD(u->received);
	sum->echoed += SCOREBOARD_LOAD(u->echoed);
	for (i = 0; i < nitems(u->dropped); i++)
		sum->dropped[i] += SCOREBOARD_LOAD(u->dropped[i]);
	sum->malformed += SCOREBOARD_LOAD(u->malformed);
	sum->tlv_unknown += SCOREBOARD_LOAD(u->tlv_unknown);
	sum->tlv_malformed += SCOREBOARD_LOAD(u->tlv_malformed);
}

uint64_t
scoreboard_udp_dropped(const struct scoreboard_udp *u)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; i < nitems(u->dropped); i++)
		n += u->dropped[i];
	return n;
}
