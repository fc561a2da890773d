/* SPDX-License-Identifier: ISC */
/*
 * worker_proxy.c: the connections that wait for their PROXY header, in the
 * order of their deadline (proxy_header_timeout_ms): read the header
 * (proxy_conn.c), admit the client it names, or reset and count the
 * failure. It must not echo: an admitted connection goes to worker.c.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <string.h>

#include "worker/admit.h"
#include "worker/connlog.h"
#include "net/proxy_conn.h"
#include "shm/scoreboard.h"
#include "worker/worker_int.h"

/* A PROXY header that failed: reset, as a refusal is, and counted. */
static void
header_fail(struct worker *w, struct conn *c, enum scoreboard_proxy result,
    enum connlog_reason reason, const char *why)
{
	struct linger	l = { 1, 0 };

	SCOREBOARD_ADD(w->slot->proxy[result], 1);
	(void)setsockopt(c->echo.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	worker_conn_close(w, c, reason, why);
}

/*
 * The header is read: from now on the connection is the client's it
 * names, admitted (allow/deny, per-client limits) as if it had come
 * itself (or as the balancer, when the header names no usable address),
 * or the balancer's own health check (v2 LOCAL, admit_proxied()), then
 * echoed like any other, starting with what followed the header.
 */
static void
header_admit(struct worker *w, struct conn *c, const struct proxy_header *h)
{
	const struct sockaddr	*src;
	socklen_t		 len;

	src = proxy_conn_source(h, (const struct sockaddr *)&c->peer,
	    c->peerlen, &len);
	if (src != (const struct sockaddr *)&c->peer) {
		memcpy(&c->peer, src, len);
		c->peerlen = len;
	}
	if (!admit_proxied(&w->admit, c->echo.fd, h,
	    (const struct sockaddr *)&c->peer, c->peerlen, w->now_ms,
	    &c->ticket)) {
		worker_refuse_log(w, &c->peer, c->peerlen, c->listener,
		    worker_refusal_reason(c->ticket.why));
		worker_conn_release(w, c);	/* admit.c closed it */
		return;
	}
	TAILQ_REMOVE(&w->headers, c, entry);
	c->header = false;
	c->last_progress_ms = w->now_ms;
	TAILQ_INSERT_TAIL(&w->active, c, entry);
	worker_conn_io(w, c);
}

void
worker_header_io(struct worker *w, struct conn *c, uint32_t events)
{
	struct proxy_header	 h;
	const char		*why = NULL;

	switch (proxy_conn_read(c->echo.fd,
	    (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, &h, &why)) {
	case PROXY_CONN_AGAIN:
		return;
	case PROXY_CONN_BAD:
		header_fail(w, c, SCOREBOARD_PROXY_BAD, CONNLOG_PROXY_BAD, why);
		return;
	case PROXY_CONN_OK:
		break;
	}
	SCOREBOARD_ADD(w->slot->proxy[SCOREBOARD_PROXY_OK], 1);
	header_admit(w, c, &h);
}

/* proxy_header_timeout_ms is the same for all: the oldest is first. */
void
worker_expire_headers(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->headers)) != NULL &&
	    w->now_ms >= c->header_deadline_ms)
		header_fail(w, c, SCOREBOARD_PROXY_TIMEOUT,
		    CONNLOG_PROXY_TIMEOUT, NULL);
}
