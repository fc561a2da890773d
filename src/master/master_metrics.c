/* SPDX-License-Identifier: ISC */
/* master_metrics.c: the master's metrics endpoint: open metrics_listen and render GET /metrics. */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/listen.h"
#include "core/log.h"
#include "master/master_int.h"
#include "shm/scoreboard.h"

/*
 * The exposition for GET /metrics: the pool's totals (exited workers'
 * counts included, so they never go back), the master's own counters, and
 * one series per live worker.
 */
int
master_render_metrics(void *arg, char *buf, size_t size)
{
	struct master		*m = arg;
	struct metrics_snapshot	 s = { .version = PACKAGE_VERSION };
	struct metrics_worker	*w;
	struct pool_totals	 t;
	const struct scoreboard_slot *sc;
	int			 i, len;

	pool_totals(&m->pool, m->gen.id, &t);
	s.c = m->counters;
	s.accepted = t.served;
	s.open = t.open;
	s.bytes_in = t.bytes_in;
	s.bytes_out = t.bytes_out;
	s.refused_deny = t.refused_acl;
	s.refused_limit = t.refused_limit;
	memcpy(s.proxy, t.proxy, sizeof(s.proxy));
	s.udp = t.udp;
	s.stamp = t.stamp;
	s.workers_configured = m->gen.wanted;
	s.workers_live = pool_count_live(&m->pool);
	s.generation = m->gen.id;
	if ((w = calloc(s.workers_live + 1, sizeof(*w))) == NULL)
		return -1;
	POOL_FOREACH(&m->pool, i) {
		if (s.nworkers == s.workers_live)
			break;
		sc = &m->pool.sb[i];
		w[s.nworkers++] = (struct metrics_worker){ (unsigned)i,
		    pool_slot(&m->pool, i)->generation,
		    SCOREBOARD_LOAD(sc->conns_open),
		    SCOREBOARD_LOAD(sc->conns_served),
		    SCOREBOARD_LOAD(sc->bytes_in),
		    SCOREBOARD_LOAD(sc->bytes_out) };
	}
	s.workers = w;
	len = metrics_format(&s, buf, size);
	free(w);
	return len;
}

/*
 * metrics_listen: opened once, at start; a reload keeps it. A socket
 * systemd passed by the name "metrics" takes its place. -1 with errno
 * and "what" failed (the master gives up starting).
 */
int
master_open_metrics(struct master *m, char *what, size_t size)
{
	char	err[LISTEN_ERROR_BYTES];
	int	saved;

	if (m->http.ls.n > 0) {
		log_info("Prometheus metrics on %s, the socket systemd passed "
		    "as \"%s\"%s", m->http.ls.v[0].name, LISTEN_METRICS_NAME,
		    m->gen.cfg->metrics_listen != NULL ?
		    "; metrics_listen is not used" : "");
		return 0;
	}
	if (m->gen.cfg->metrics_listen == NULL)
		return 0;
	if (metrics_http_open(&m->http, &m->gen.cfg->metrics_addr, err,
	    sizeof(err)) == -1) {
		saved = errno;
		snprintf(what, size, "metrics_listen %s: %s",
		    m->gen.cfg->metrics_listen, err);
		errno = saved;
		return -1;
	}
	log_info("Prometheus metrics on http://%s/metrics",
	    m->gen.cfg->metrics_listen);
	return 0;
}
