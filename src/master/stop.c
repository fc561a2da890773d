/* SPDX-License-Identifier: ISC */
/* stop.c: the master's stop: announce it, drain within shutdown_timeout, then kill the stragglers. */
#include "build-config.h"

#include <signal.h>

#include "net/listen.h"
#include "core/log.h"
#include "master/master_int.h"
#include "core/notify.h"
#include "master/status.h"

static void
stop_announce(struct master *m, bool fast)
{
	struct pool_totals	t;

	m->phase = PHASE_STOPPING;
	reload_refuse_all(&m->reload);
	m->stop.deadline_ms = m->now_ms + m->gen.cfg->shutdown_timeout_ms +
	    STOP_GRACE_MS;
	reload_close_stale(&m->reload, &m->gen);
	listen_close_all(&m->gen.ls);
	pool_totals(&m->pool, m->gen.id, &t);
	m->stop.last_open = t.open;
	status_stopping(t.open, fast, m->gen.cfg->shutdown_timeout_ms);
}

/*
 * SIGTERM/SIGINT: stop accepting and drain, within shutdown_timeout.
 * A second one, or SIGQUIT, closes everything at once. True when the stop
 * has just begun: the master then says so (its status, STOPPING=1).
 */
bool
stop_begin(struct master *m, bool fast)
{
	bool	begun;

	if (m->phase == PHASE_STOPPING && (!fast || m->stop.fast))
		return false;
	begun = m->phase != PHASE_STOPPING;
	if (begun)
		stop_announce(m, fast);
	else
		log_notice("stopping at once: closing every connection");
	m->stop.fast = fast;
	pool_stop_all(&m->pool, POOL_STOP_SHUTDOWN, fast ? SIGINT : SIGTERM);
	return begun;
}

/* While the drain makes progress, ask systemd for more time. */
void
stop_progress(struct master *m)
{
	struct pool_totals	t;
	struct stop		*s = &m->stop;

	if (m->phase != PHASE_STOPPING)
		return;
	if (m->now_ms >= s->deadline_ms)
		pool_kill_stragglers(&m->pool, m->now_ms);
	if (m->now_ms < s->next_extend_ms)
		return;
	s->next_extend_ms = m->now_ms + EXTEND_EVERY_MS;
	pool_totals(&m->pool, m->gen.id, &t);
	if (t.open > 0 && t.open < s->last_open && s->deadline_ms > m->now_ms)
		notify_extend_timeout((s->deadline_ms - m->now_ms +
		    EXTEND_MARGIN_MS) * 1000);
	s->last_open = t.open;
}
