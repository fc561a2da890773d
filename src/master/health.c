/* SPDX-License-Identifier: ISC */
/*
 * health.c: the workers' signs of life. It kills a worker that shows none
 * for worker_timeout, and stops feeding the systemd watchdog while one is
 * stuck beyond recovery. Respawning is master.c's business.
 */
#include "build-config.h"

#include <string.h>

#include "master/health.h"
#include "core/log.h"
#include "core/notify.h"
#include "master/status.h"
#include "master/supervise.h"

void
health_init(struct health *h, uint64_t watchdog_ms)
{
	memset(h, 0, sizeof(*h));
	h->watchdog_ms = watchdog_ms;
	h->ok = true;
}

/*
 * One worker: 1 when it was killed as hung and the master owes its
 * replacement, 0 else; *ok becomes false if nobody can recover it.
 */
static unsigned
check_worker(const struct health *h, struct pool *p, unsigned idx,
    unsigned timeout_ms, uint64_t now_ms, bool *ok)
{
	uint64_t	hb = pool_heartbeat_ms(p, idx);

	switch (supervise_health(now_ms, hb, pool_slot(p, idx)->killed_ms,
	    timeout_ms)) {
	case HEALTH_HUNG:
		pool_kill_hung(p, idx, now_ms);
		status_hung(p, idx, now_ms - hb, timeout_ms);
		return pool_expected(pool_slot(p, idx)) ? 0 : 1;
	case HEALTH_STUCK:
		*ok = false;
		break;
	case HEALTH_OK:
		/*
		 * Without worker_timeout, nobody recovers a silent worker. A
		 * heartbeat after the master read its clock is a fresh one.
		 */
		if (timeout_ms == 0 && h->watchdog_ms && now_ms > hb &&
		    now_ms - hb > h->watchdog_ms)
			*ok = false;
		break;
	case HEALTH_RECOVERING:
		break;
	}
	return 0;
}

/* Every live worker; returns how many hung ones were killed unasked. */
unsigned
health_check(struct health *h, struct pool *p, unsigned worker_timeout_ms,
    uint64_t now_ms)
{
	unsigned	owed = 0;
	bool		ok = true;
	int		i;

	POOL_FOREACH(p, i)
		owed += check_worker(h, p, i, worker_timeout_ms, now_ms, &ok);
	h->ok = ok;
	return owed;
}

void
health_feed_watchdog(struct health *h, uint64_t now_ms)
{
	if (h->watchdog_ms == 0 || now_ms < h->next_ping_ms)
		return;
	if (!h->ok) {
		if (!h->held_logged)
			log_errorx("a worker is stuck and cannot be recovered: "
			    "no longer feeding the systemd watchdog");
		h->held_logged = true;
		return;
	}
	h->held_logged = false;
	notify_watchdog();
	h->next_ping_ms = now_ms + h->watchdog_ms / 2;
}
