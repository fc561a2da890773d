/* SPDX-License-Identifier: ISC */
/* master_clients.c: the master's side of the per-client table: free a dead worker's share, sweep, report. */
#include "build-config.h"

#include "shm/clients.h"
#include "core/log.h"
#include "master/master_int.h"

/*
 * A dead worker's share of every client is free again, whatever killed
 * it. The table's lock may be held by a stopped worker: never wait for
 * it, retry on the next ticks (and wait only if too many are owed).
 */
void
master_release_clients(struct master *m, uint32_t pid)
{
	if (clients_release_owner(m->clients, pid) != -1)
		return;
	if (m->nclients_owed == CLIENTS_OWED_MAX) {
		log_warnx("the client table has been busy for a long time: "
		    "waiting for it");
		clients_lock(m->clients);
		clients_unlock(m->clients);
		while (clients_release_owner(m->clients, pid) == -1)
			continue;
		return;
	}
	m->clients_owed[m->nclients_owed++] = pid;
}

void
master_clients_housekeeping(struct master *m)
{
	size_t	i = 0;

	while (i < m->nclients_owed)
		if (clients_release_owner(m->clients, m->clients_owed[i]) != -1)
			m->clients_owed[i] = m->clients_owed[--m->nclients_owed];
		else
			i++;
	if (m->now_ms - m->clients_swept_ms >= CLIENTS_SWEEP_MS &&
	    clients_expire(m->clients, m->now_ms) != -1)
		m->clients_swept_ms = m->now_ms;
}

void
master_report_clients(struct master *m)
{
	size_t		used;
	uint64_t	full;

	clients_stats(m->clients, &used, &full);
	log_report("status: client table: %zu of %d entries used, %llu "
	    "connections refused because it was full", used, CLIENTS_MAX_USED,
	    (unsigned long long)full);
}
