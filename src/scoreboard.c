/* SPDX-License-Identifier: ISC */
/*
 * scoreboard.c: the shared memory through which workers show the master
 * that they live and what they do. It owns the mapping, nothing else.
 */
#include "build-config.h"

#include <sys/mman.h>

#include <string.h>

#include "scoreboard.h"

struct scoreboard_slot *
scoreboard_create(size_t nslots)
{
	void	*p;

	p = mmap(NULL, nslots * sizeof(struct scoreboard_slot),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
scoreboard_destroy(struct scoreboard_slot *sb, size_t nslots)
{
	if (sb != NULL)
		munmap(sb, nslots * sizeof(struct scoreboard_slot));
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
