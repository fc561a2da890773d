/* SPDX-License-Identifier: ISC */
/*
 * worker_conn.c: a worker's open connections. It drives each through
 * echo.c, keeps the idle queue in order of progress, watches it in epoll,
 * parks it when the budget is spent, closes it at its end or idle timeout
 * and logs that end. A connection that ends with echo in its send queue
 * lingers, counted, until the queue is empty, or is reset (sockbuf.c
 * decides which). It never accepts, never reads a PROXY header, never
 * chooses a connection to close for the budget.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "worker/admit.h"
#include "worker/connlog.h"
#include "net/echo.h"
#include "net/listen.h"
#include "core/log.h"
#include "shm/scoreboard.h"
#include "core/sig.h"
#include "worker/sockbuf.h"
#include "worker/worker_int.h"

void
worker_peer_name(const struct conn *c, char *buf, size_t size)
{
	listen_format((const struct sockaddr *)&c->peer, c->peerlen, buf, size);
}

/* The connection log's line: only when asked, so a flood costs nothing more. */
static void
conn_log(struct worker *w, const struct conn *c, enum connlog_reason reason,
    const char *detail)
{
	struct connlog_entry	e;
	char			peer[LISTEN_NAME_MAX];

	if (!w->log_conns || (connlog_unserved(reason) &&
	    !admit_line_allowed(&w->admit, PEERLOG_CONNLOG, w->now_ms)))
		return;
	worker_peer_name(c, peer, sizeof(peer));
	e.peer = peer;
	e.listener = c->listener;
	e.bytes_in = c->echo.bytes_in;
	e.bytes_out = c->echo.bytes_out;
	e.duration_usec = sig_monotonic_us() - c->opened_usec;
	e.reason = reason;
	e.detail = detail;
	connlog_emit(&e);
}

/* Give up a connection's slot; its descriptor is closed already. */
void
worker_conn_release(struct worker *w, struct conn *c)
{
	echo_release(&c->echo);
	admit_leave(&w->admit, &c->ticket);
	if (c->parked)
		w->nparked--;
	if (c->autotuned) {
		w->nautotuned--;
		SCOREBOARD_STORE(w->slot->conns_autotuned, w->nautotuned);
	}
	TAILQ_REMOVE(c->header ? &w->headers : &w->active, c, entry);
	TAILQ_INSERT_HEAD(&w->spare, c, entry);
	w->nopen--;
	SCOREBOARD_STORE(w->slot->conns_open, w->nopen);
	/* An idle worker keeps no spare pipes open. */
	if (w->nopen == 0)
		echo_pipes_close(&w->pipes);
}

/*
 * The bytes its socket still holds for the peer, sent or not (SIOCOUTQ,
 * the same for TCP and Unix sockets); 0 when it never sent any. Only at a
 * connection's end or its linger's events: never once per echo.
 */
static uint64_t
send_queued(const struct conn *c)
{
	int	n;

	if (c->echo.bytes_out == 0 ||
	    ioctl(c->echo.fd, SIOCOUTQ, &n) == -1 || n < 0)
		return 0;
	return (uint64_t)n;
}

static void
conn_end(struct worker *w, struct conn *c, enum connlog_reason reason,
    const char *detail, enum sockbuf_end how)
{
	struct linger	l = { 1, 0 };

	conn_log(w, c, reason, detail);
	if (how == SOCKBUF_RESET)
		(void)setsockopt(c->echo.fd, SOL_SOCKET, SO_LINGER, &l,
		    sizeof(l));
	close(c->echo.fd);
	worker_conn_release(w, c);
}

/* Closed before its end: echo still queued will not be read, reset. */
void
worker_conn_close(struct worker *w, struct conn *c, enum connlog_reason reason,
    const char *detail)
{
	conn_end(w, c, reason, detail, sockbuf_end(send_queued(c), false));
}

/* Its queue shrank: that is progress, as a byte echoed is. */
static void
linger_progress(struct worker *w, struct conn *c, uint64_t queued)
{
	c->linger_queued = queued;
	c->last_progress_ms = w->now_ms;
	TAILQ_REMOVE(&w->active, c, entry);
	TAILQ_INSERT_TAIL(&w->active, c, entry);
}

/*
 * Everything echoed, the client has half-closed: close, unless the kernel
 * still holds echo for it. Then send our FIN after it and wait, counted
 * (max_connections, the client's limit, its autotuning turn), for the
 * queue to empty: the FIN's acknowledgment, or a reset, ends the socket
 * and wakes us (edge-triggered: once the peer's FIN is in, the socket is
 * always readable). The idle timeout resets one whose queue stays put.
 */
static void
conn_done(struct worker *w, struct conn *c)
{
	uint64_t	queued = send_queued(c);

	if (sockbuf_end(queued, true) == SOCKBUF_CLOSE) {
		conn_end(w, c, CONNLOG_CLIENT_CLOSED, NULL, SOCKBUF_CLOSE);
		return;
	}
	echo_release(&c->echo);
	c->lingering = true;
	c->linger_queued = queued;
	if (shutdown(c->echo.fd, SHUT_WR) == -1 ||
	    worker_conn_watch(w, c, EPOLLIN | EPOLLRDHUP | EPOLLET) == -1)
		worker_conn_close(w, c, CONNLOG_ERROR, strerror(errno));
}

/* A lingering connection's socket woke: gone, drained, or draining. */
void
worker_linger_event(struct worker *w, struct conn *c, uint32_t events)
{
	uint64_t	queued;

	if (events & EPOLLERR) {
		conn_end(w, c, CONNLOG_RESET, NULL, SOCKBUF_CLOSE);
		return;
	}
	if ((queued = send_queued(c)) == 0)
		conn_end(w, c, CONNLOG_CLIENT_CLOSED, NULL, SOCKBUF_CLOSE);
	else if (queued < c->linger_queued)
		linger_progress(w, c, queued);
}

/* A lingering connection at its idle timeout: as sockbuf_end() says. */
static void
linger_expire(struct worker *w, struct conn *c)
{
	uint64_t	queued = send_queued(c);

	switch (sockbuf_end(queued, queued < c->linger_queued)) {
	case SOCKBUF_CLOSE:
		conn_end(w, c, CONNLOG_CLIENT_CLOSED, NULL, SOCKBUF_CLOSE);
		break;
	case SOCKBUF_LINGER:
		linger_progress(w, c, queued);
		break;
	case SOCKBUF_RESET:
		conn_end(w, c, CONNLOG_IDLE_TIMEOUT, NULL, SOCKBUF_RESET);
		break;
	}
}

int
worker_conn_watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event	ev;
	int			op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (events == c->events)
		return 0;
	ev.events = events;
	ev.data.ptr = &c->ev;
	if (epoll_ctl(w->epfd, op, c->echo.fd, &ev) == -1)
		return -1;
	c->events = events;
	return 0;
}

/* Without the connection log, a message too large is still worth a warning. */
static void
too_large_warning(struct worker *w, const struct conn *c)
{
	char			peer[LISTEN_NAME_MAX];
	struct log_fields	f = LOG_FIELDS_INIT;

	if (!log_enabled(LOG_WARNING) ||
	    !admit_line_allowed(&w->admit, PEERLOG_WARNING, w->now_ms))
		return;
	worker_peer_name(c, peer, sizeof(peer));
	log_field(&f, "REMOTE_ADDR", "%s", peer);
	log_field(&f, "MAX_MESSAGE_BYTES", "%llu",
	    (unsigned long long)w->cfg->max_message_bytes);
	log_event(LOG_WARNING, NULL, &f, "%s: message larger than "
	    "max_message_bytes (%llu): connection closed", peer,
	    (unsigned long long)w->cfg->max_message_bytes);
}

static void
conn_finish(struct worker *w, struct conn *c, enum echo_status st)
{
	switch (st) {
	case ECHO_TOO_LARGE:
		if (!w->log_conns)
			too_large_warning(w, c);
		worker_conn_close(w, c, CONNLOG_TOO_LARGE, NULL);
		break;
	case ECHO_ERROR:
		worker_conn_close(w, c, errno == ECONNRESET || errno == EPIPE ?
		    CONNLOG_RESET : CONNLOG_ERROR, strerror(errno));
		break;
	default:
		conn_done(w, c);
		break;
	}
}

/*
 * Out of budget: the connection is read no more until there is room for
 * its next growth; the kernel's socket buffers hold what it sends. Only
 * a hang-up is still watched (edge-triggered, so it does not spin).
 */
static void
park(struct worker *w, struct conn *c)
{
	if (!c->parked) {
		c->parked = true;
		w->nparked++;
	}
	if (worker_conn_watch(w, c, EPOLLET) == -1) {
		log_warn("worker: epoll_ctl");
		worker_conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
}

/*
 * A byte moved: to the idle queue's tail. One that moved already in this
 * millisecond is among the tail's equals, where the queue's order by
 * last_progress_ms wants it: it stays put, and a busy connection is not
 * unlinked and linked again at every echo.
 */
static void
conn_progress(struct worker *w, struct conn *c)
{
	if (c->last_progress_ms == w->now_ms)
		return;
	c->last_progress_ms = w->now_ms;
	TAILQ_REMOVE(&w->active, c, entry);
	TAILQ_INSERT_TAIL(&w->active, c, entry);
}

void
worker_conn_io(struct worker *w, struct conn *c)
{
	uint64_t		in = c->echo.bytes_in, out = c->echo.bytes_out;
	enum echo_status	st;
	uint32_t		events = 0;

	st = echo_step(&c->echo, &w->lim);
	if (c->echo.bytes_in != in || c->echo.bytes_out != out) {
		SCOREBOARD_ADD(w->slot->bytes_in, c->echo.bytes_in - in);
		SCOREBOARD_ADD(w->slot->bytes_out, c->echo.bytes_out - out);
		conn_progress(w, c);
	}
	if (st == ECHO_BLOCKED) {
		park(w, c);
		return;
	}
	if (st != ECHO_AGAIN) {
		conn_finish(w, c, st);
		return;
	}
	if (c->echo.want & ECHO_WANT_READ)
		events |= EPOLLIN;
	if (c->echo.want & ECHO_WANT_WRITE)
		events |= EPOLLOUT;
	if (worker_conn_watch(w, c, events) == -1) {
		log_warn("worker: epoll_ctl");
		worker_conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
}

/* The least recent progress is first: close from the front. */
void
worker_expire_idle(struct worker *w)
{
	struct conn	*c;

	if (w->cfg->idle_timeout_ms == 0)
		return;
	while ((c = TAILQ_FIRST(&w->active)) != NULL &&
	    w->now_ms - c->last_progress_ms >= w->cfg->idle_timeout_ms)
		if (c->lingering)
			linger_expire(w, c);
		else
			worker_conn_close(w, c, CONNLOG_IDLE_TIMEOUT, NULL);
}
