/* SPDX-License-Identifier: ISC */
/*
 * worker_budget.c: max_buffered_bytes across a worker's connections. It
 * wakes parked connections when room is freed, smallest first, and when
 * nothing will free memory by itself closes the one whose message can no
 * longer fit. It must not park a connection (echo.c and worker.c do).
 */
#include "build-config.h"

#include <sys/queue.h>

#include <stddef.h>

#include "worker/connlog.h"
#include "net/echo.h"
#include "net/listen.h"
#include "core/log.h"
#include "worker/worker_int.h"

/*
 * Whom to close when a parked connection waits and nothing will free
 * memory by itself: while some connection writes its echo out, it will;
 * when every byte is held by connections still collecting, the one that
 * holds the most is the message that can no longer fit.
 */
static struct conn *
budget_victim(struct worker *w)
{
	struct conn	*c, *heaviest = NULL;
	size_t		 collecting = 0;

	TAILQ_FOREACH(c, &w->active, entry)
		if (!c->echo.read_eof) {
			collecting += c->echo.cap;
			if (heaviest == NULL || c->echo.cap > heaviest->echo.cap)
				heaviest = c;
		}
	return collecting >= w->budget.held && heaviest != NULL &&
	    heaviest->echo.cap > 0 ? heaviest : NULL;
}

/* Without the connection log, a message that cannot fit is worth a warning. */
static void
budget_warning(struct worker *w, const struct conn *c)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			peer[LISTEN_NAME_MAX];

	if (!log_enabled(LOG_WARNING) ||
	    !admit_line_allowed(&w->admit, PEERLOG_WARNING, w->now_ms))
		return;
	worker_peer_name(c, peer, sizeof(peer));
	log_field(&f, "REMOTE_ADDR", "%s", peer);
	log_field(&f, "MAX_BUFFERED_BYTES", "%zu", w->budget.max);
	log_event(LOG_WARNING, NULL, &f, "%s: its message (%zu bytes so far) "
	    "can no longer fit in max_buffered_bytes (%zu), which unfinished "
	    "messages hold: connection closed", peer, c->echo.len,
	    w->budget.max);
}

/* One line for the connection: the warning, or its connection log line. */
static void
budget_close(struct worker *w, struct conn *c)
{
	if (!w->log_conns)
		budget_warning(w, c);
	worker_conn_close(w, c, CONNLOG_OVER_BUDGET, NULL);
}

/*
 * The parked connection holding the least whose next growth fits: the
 * room goes to the small ones first, so that those holding the most are
 * the ones that wait (and a new client is served in a full worker).
 */
static struct conn *
budget_next(struct worker *w)
{
	struct conn	*c, *best = NULL;

	TAILQ_FOREACH(c, &w->active, entry)
		if (c->parked && (best == NULL || c->echo.cap < best->echo.cap) &&
		    w->budget.held + echo_next_growth(&c->echo, &w->lim) <=
		    w->budget.max)
			best = c;
	return best;
}

/* Give parked connections the room that was freed; break a deadlock. */
void
worker_budget_check(struct worker *w)
{
	struct conn	*c;
	unsigned	 woke, n;

	while (w->nparked > 0) {
		n = w->nparked;
		for (woke = 0; woke < n && (c = budget_next(w)) != NULL;
		    woke++) {
			c->parked = false;
			w->nparked--;
			worker_conn_io(w, c);
		}
		/* Those woken may be parked again: look once more at once. */
		if (woke > 0)
			continue;
		if ((c = budget_victim(w)) == NULL)
			return;
		budget_close(w, c);
	}
}
