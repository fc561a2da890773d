/* SPDX-License-Identifier: ISC */
/*
 * worker.c: one worker's event loop. It accepts on the listening sockets
 * it was given, waits for the PROXY header on those that expect one
 * (proxy_conn.c reads it), drives every connection through echo.c, hands readable
 * UDP sockets to udp.c, shows signs of
 * life on its scoreboard slot, and drains when the master asks. It never
 * forks, never binds, never talks to systemd.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "balance.h"
#include "connlog.h"
#include "echo.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "priv.h"
#include "proxy_conn.h"
#include "sig.h"
#include "supervise.h"
#include "udp.h"
#include "worker.h"

#define HEARTBEAT_MS		500	/* the longest the loop sleeps */
#define ACCEPT_BATCH		1	/* then balance.c is asked again */
#define DRAIN_BATCH		64	/* accepts per round when draining */
#define ACCEPT_RETRY_MS		100	/* after EMFILE and friends */
#define ACCEPT_WARN_EVERY_MS	10000
#define EPOLL_EVENTS		256
#define MMAP_THRESHOLD_BYTES	(32 * 1024)

enum ev_kind {
	EV_SIGNAL,
	EV_LISTENER,
	EV_CONN,
	EV_TURN,	/* a peer stopped taking: see pool_turn() */
};

/* The first member of everything registered with epoll. */
struct ev {
	enum ev_kind	kind;
};

struct wlistener {
	struct ev	 ev;
	int		 fd;
	bool		 dgram;		/* UDP: always watched, read by udp.c */
	bool		 proxy;		/* a PROXY header comes first */
	const char	*name;
};

struct conn {
	struct ev		 ev;
	struct echo_conn	 echo;
	uint32_t		 events;	/* registered with epoll */
	uint64_t		 last_progress_ms;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct admit_ticket	 ticket;	/* its place in the client table */
	bool			 parked;	/* waits for room in the budget */
	bool			 header;	/* waits for its PROXY header */
	uint64_t		 header_deadline_ms;
	const char		*listener;	/* its name, for the log */
	uint64_t		 opened_usec;	/* when the log is on */
	TAILQ_ENTRY(conn)	 entry;	/* idle or header order, or spares */
};

TAILQ_HEAD(connq, conn);

struct worker {
	const struct config	*cfg;
	struct scoreboard_slot	*slot;
	unsigned		 slot_index;
	struct scoreboard_slot	*board;		/* every worker's slot */
	struct scoreboard_head	*head;
	int			 turn_fd;
	struct ev		 turnev;
	int			 epfd;
	int			 sigfd;
	int			 master_fd;
	struct ev		 sigev;
	struct wlistener	*lv;
	size_t			 nl;
	struct udp_server	*udp;	/* NULL: no UDP socket */
	bool			 taking;	/* wants connections: see can_take() */
	bool			 accepting;	/* listeners are in epoll */
	uint64_t		 accept_resume_ms; /* paused until, 0: not */
	uint64_t		 accept_warned_ms;
	struct connq		 active;	/* least recent progress first */
	struct connq		 headers;	/* waiting for a PROXY header */
	struct connq		 spare;
	unsigned		 nopen;
	uint64_t		 served;
	bool			 retiring;
	bool			 draining;
	uint64_t		 drain_deadline_ms;
	bool			 quit;
	struct echo_limits	 lim;
	struct admit		 admit;
	struct echo_budget	 budget;	/* max_buffered_bytes */
	unsigned		 nparked;
	uint64_t		 now_ms;
	bool			 log_conns;	/* log_connections, or -v */
};

/* The default does nothing; the fault-injection test build replaces it. */
__attribute__((weak)) void
worker_fault_point(const char *where)
{
	(void)where;
}

static void
poke_master(struct worker *w)
{
	uint64_t	one = 1;

	(void)!write(w->master_fd, &one, sizeof(one));
}

static void
set_state(struct worker *w, enum scoreboard_state state)
{
	SCOREBOARD_STORE(w->slot->state, (uint32_t)state);
	poke_master(w);
}

static void
peer_name(const struct conn *c, char *buf, size_t size)
{
	listen_format((const struct sockaddr *)&c->peer, c->peerlen, buf, size);
}

/* Not draining, not full, not paused: it would take a connection. */
static bool
can_take(const struct worker *w)
{
	return !w->draining && w->nopen < w->cfg->max_connections &&
	    w->accept_resume_ms == 0;
}

static void
watch_listeners(struct worker *w, bool want)
{
	struct epoll_event	ev;
	size_t			i;

	for (i = 0; i < w->nl; i++) {
		if (w->lv[i].dgram)
			continue;
		if (want) {
			ev.events = EPOLLIN;
			ev.data.ptr = &w->lv[i].ev;
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lv[i].fd,
			    &ev) == -1)
				log_warn("worker: watch %s", w->lv[i].name);
		} else
			(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lv[i].fd,
			    NULL);
	}
}

/*
 * Listeners are in epoll exactly while the worker can take connections
 * and balance.c says that it is its turn. Level-triggered and not
 * exclusive: every worker whose turn it is hears of a waiting connection,
 * and one that adds the socket while connections wait is told at once,
 * so none waits for the next to arrive. Leaving its turn, a worker tells
 * the others (pool_turn()): the least load may have risen, theirs may be
 * the turn now.
 */
static void
update_accepting(struct worker *w)
{
	bool	take = can_take(w), want;

	if (take != w->taking) {
		SCOREBOARD_STORE(w->slot->taking, (uint32_t)take);
		w->taking = take;
	}
	want = take && balance_eligible(w->board,
	    SCOREBOARD_LOAD(w->head->nused), w->slot_index, w->now_ms);
	if (want == w->accepting)
		return;
	watch_listeners(w, want);
	w->accepting = want;
	if (!want)
		pool_turn(w->turn_fd);
}

/* The connection log's line: only when asked, so a flood costs nothing more. */
static void
conn_log(struct worker *w, const struct conn *c, enum connlog_reason reason,
    const char *detail)
{
	struct connlog_entry	e;
	char			peer[LISTEN_NAME_MAX];

	if (!w->log_conns)
		return;
	peer_name(c, peer, sizeof(peer));
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
static void
conn_release(struct worker *w, struct conn *c)
{
	echo_release(&c->echo);
	admit_leave(&w->admit, &c->ticket);
	if (c->parked)
		w->nparked--;
	TAILQ_REMOVE(c->header ? &w->headers : &w->active, c, entry);
	TAILQ_INSERT_HEAD(&w->spare, c, entry);
	w->nopen--;
	SCOREBOARD_STORE(w->slot->conns_open, w->nopen);
	update_accepting(w);
}

static void
conn_close(struct worker *w, struct conn *c, enum connlog_reason reason,
    const char *detail)
{
	conn_log(w, c, reason, detail);
	close(c->echo.fd);
	conn_release(w, c);
}

static int
conn_watch(struct worker *w, struct conn *c, uint32_t events)
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

	peer_name(c, peer, sizeof(peer));
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
		conn_close(w, c, CONNLOG_TOO_LARGE, NULL);
		break;
	case ECHO_ERROR:
		conn_close(w, c, errno == ECONNRESET || errno == EPIPE ?
		    CONNLOG_RESET : CONNLOG_ERROR, strerror(errno));
		break;
	default:
		conn_close(w, c, CONNLOG_CLIENT_CLOSED, NULL);
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
	if (conn_watch(w, c, EPOLLET) == -1) {
		log_warn("worker: epoll_ctl");
		conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
}

static void
conn_io(struct worker *w, struct conn *c)
{
	uint64_t		in = c->echo.bytes_in, out = c->echo.bytes_out;
	enum echo_status	st;
	uint32_t		events = 0;

	st = echo_step(&c->echo, &w->lim);
	if (c->echo.bytes_in != in || c->echo.bytes_out != out) {
		SCOREBOARD_ADD(w->slot->bytes_in, c->echo.bytes_in - in);
		SCOREBOARD_ADD(w->slot->bytes_out, c->echo.bytes_out - out);
		c->last_progress_ms = w->now_ms;
		TAILQ_REMOVE(&w->active, c, entry);
		TAILQ_INSERT_TAIL(&w->active, c, entry);
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
	if (conn_watch(w, c, events) == -1) {
		log_warn("worker: epoll_ctl");
		conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
}

static struct conn *
conn_get(struct worker *w)
{
	struct conn	*c;

	if ((c = TAILQ_FIRST(&w->spare)) != NULL) {
		TAILQ_REMOVE(&w->spare, c, entry);
		return c;
	}
	return malloc(sizeof(*c));
}

/*
 * Without a cap the kernel grows a socket's buffers up to tcp_wmem and
 * tcp_rmem (4 and 6 MiB on Debian): a client that sends but never reads
 * would pin that much each. Fixed sizes turn autotuning off for them.
 */
static void
cap_kernel_buffers(struct worker *w, int fd)
{
	int	bytes = (int)w->cfg->socket_buffer_bytes;

	if (bytes == 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* Why admit.c refused, as the connection log names it. */
static enum connlog_reason
refusal_reason(enum admit_reason why)
{
	switch (why) {
	case ADMIT_DENIED:
		return CONNLOG_REFUSED_DENIED;
	case ADMIT_TOO_MANY:
		return CONNLOG_REFUSED_TOO_MANY;
	case ADMIT_TOO_FAST:
		return CONNLOG_REFUSED_TOO_FAST;
	case ADMIT_PROXY_UNTRUSTED:
		return CONNLOG_REFUSED_PROXY_UNTRUSTED;
	case ADMIT_TABLE_FULL:
	case ADMIT_OK:
		break;
	}
	return CONNLOG_REFUSED_TABLE_FULL;
}

/* A connection closed before it was served, in the connection log. */
static void
refuse_log(struct worker *w, const struct sockaddr_storage *peer,
    socklen_t peerlen, const char *listener, enum connlog_reason reason)
{
	struct connlog_entry	e;
	char			name[LISTEN_NAME_MAX];

	if (!w->log_conns)
		return;
	listen_format((const struct sockaddr *)peer, peerlen, name,
	    sizeof(name));
	memset(&e, 0, sizeof(e));
	e.peer = name;
	e.listener = listener;
	e.reason = reason;
	connlog_emit(&e);
}

/*
 * Serve a connection; with "header", first wait for its PROXY header,
 * each new segment an edge (the header is peeked at, so the socket stays
 * readable until the whole of it has come).
 */
static void
conn_open(struct worker *w, int fd, const struct sockaddr_storage *peer,
    socklen_t peerlen, struct admit_ticket *ticket, const char *listener,
    bool header)
{
	struct conn	*c;
	int		 one = 1;

	if ((c = conn_get(w)) == NULL) {
		log_warn("worker: cannot serve a connection");
		admit_leave(&w->admit, ticket);
		refuse_log(w, peer, peerlen, listener, CONNLOG_REFUSED_NO_MEMORY);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->ticket = *ticket;
	c->ev.kind = EV_CONN;
	echo_init(&c->echo, fd);
	c->echo.budget = &w->budget;
	c->peer = *peer;
	c->peerlen = peerlen;
	c->listener = listener;
	if (w->log_conns)
		c->opened_usec = sig_monotonic_us();
	c->last_progress_ms = w->now_ms;
	c->header = header;
	c->header_deadline_ms = w->now_ms + w->cfg->proxy_header_timeout_ms;
	TAILQ_INSERT_TAIL(header ? &w->headers : &w->active, c, entry);
	w->nopen++;
	w->served++;
	SCOREBOARD_STORE(w->slot->conns_open, w->nopen);
	SCOREBOARD_STORE(w->slot->conns_served, w->served);
	/* At max_connections, unwatch the listeners, or they wake us for ever. */
	update_accepting(w);
	/* Echo is interactive: never hold a small reply back (Nagle). */
	if (peer->ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	cap_kernel_buffers(w, fd);
	if (conn_watch(w, c, header ? EPOLLIN | EPOLLET | EPOLLRDHUP :
	    EPOLLIN) == -1) {
		log_warn("worker: epoll_ctl");
		conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
}

/* A PROXY header that failed: reset, as a refusal is, and counted. */
static void
header_fail(struct worker *w, struct conn *c, enum scoreboard_proxy result,
    enum connlog_reason reason, const char *why)
{
	struct linger	l = { 1, 0 };

	SCOREBOARD_ADD(w->slot->proxy[result], 1);
	(void)setsockopt(c->echo.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_close(w, c, reason, why);
}

/*
 * The header is read: from now on the connection is the client's it
 * names, admitted (allow/deny, per-client limits) as if it had come
 * itself, then echoed like any other, starting with what followed the
 * header.
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
	if (!admit_connection(&w->admit, c->echo.fd,
	    (const struct sockaddr *)&c->peer, c->peerlen, w->now_ms,
	    &c->ticket)) {
		refuse_log(w, &c->peer, c->peerlen, c->listener,
		    refusal_reason(c->ticket.why));
		conn_release(w, c);	/* admit.c closed it */
		return;
	}
	TAILQ_REMOVE(&w->headers, c, entry);
	c->header = false;
	c->last_progress_ms = w->now_ms;
	TAILQ_INSERT_TAIL(&w->active, c, entry);
	conn_io(w, c);
}

static void
header_io(struct worker *w, struct conn *c, uint32_t events)
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

/* Out of descriptors or memory: serve what is open, try again later. */
static void
accept_pause(struct worker *w, const char *listener)
{
	if (w->accept_warned_ms == 0 ||
	    w->now_ms - w->accept_warned_ms >= ACCEPT_WARN_EVERY_MS) {
		log_warn("worker: accept on %s (%u connection%s open); pausing "
		    "accepts for %d ms", listener, w->nopen, LOG_S(w->nopen),
		    ACCEPT_RETRY_MS);
		w->accept_warned_ms = w->now_ms;
	}
	w->accept_resume_ms = w->now_ms + ACCEPT_RETRY_MS;
	update_accepting(w);
}

/* A PROXY listener takes only trusted peers, and their header comes first. */
static void
accept_one(struct worker *w, const struct wlistener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t len)
{
	struct admit_ticket	ticket;

	if (l->proxy) {
		memset(&ticket, 0, sizeof(ticket));
		if (admit_proxy_peer(&w->admit, fd,
		    (const struct sockaddr *)ss, len, w->now_ms))
			conn_open(w, fd, ss, len, &ticket, l->name, true);
		else
			refuse_log(w, ss, len, l->name,
			    CONNLOG_REFUSED_PROXY_UNTRUSTED);
		return;
	}
	if (admit_connection(&w->admit, fd, (const struct sockaddr *)ss, len,
	    w->now_ms, &ticket))
		conn_open(w, fd, ss, len, &ticket, l->name, false);
	else
		refuse_log(w, ss, len, l->name, refusal_reason(ticket.why));
}

/* Accept up to "max" connections; 0 when the queue is empty or accepting paused. */
static int
accept_some(struct worker *w, struct wlistener *l, unsigned max)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	unsigned		n;
	int			fd;

	for (n = 0; n < max && w->nopen < w->cfg->max_connections; n++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(w, l, fd, &ss, len);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return 0;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
			continue;	/* that connection failed, not us */
		default:
			accept_pause(w, l->name);
			return 0;
		}
	}
	return 1;
}

static void
retire_check(struct worker *w)
{
	uint64_t	limit = SCOREBOARD_LOAD(w->slot->conn_limit);

	if (w->retiring || w->draining || limit == 0 || w->served < limit)
		return;
	w->retiring = true;
	log_debug("worker: served %llu connection%s, asking for a successor",
	    (unsigned long long)w->served, LOG_S(w->served));
	set_state(w, SCOREBOARD_RETIRING);
}

/*
 * Close our copy of a listening socket. A UDP socket leaves epoll first:
 * the master's copy keeps it open, and its queue for the others.
 */
static void
let_go(struct worker *w, struct wlistener *l)
{
	if (l->dgram)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
}

/*
 * Stop accepting: take what already waits in the listen queues (a queued
 * client is a client), then let go of the listening sockets.
 */
static void
drain_begin(struct worker *w)
{
	size_t	i;

	if (w->draining)
		return;
	w->draining = true;
	w->drain_deadline_ms = w->now_ms + w->cfg->shutdown_timeout_ms;
	update_accepting(w);
	for (i = 0; i < w->nl; i++) {
		while (!w->lv[i].dgram &&
		    accept_some(w, &w->lv[i], DRAIN_BATCH) == 1 &&
		    w->nopen < w->cfg->max_connections)
			continue;
		let_go(w, &w->lv[i]);
	}
	w->nl = 0;
	set_state(w, SCOREBOARD_DRAINING);
	log_debug("worker: draining %u connection%s", w->nopen,
	    LOG_S(w->nopen));
}

static void
close_all(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->active)) != NULL)
		conn_close(w, c, CONNLOG_SHUTDOWN, NULL);
	while ((c = TAILQ_FIRST(&w->headers)) != NULL)
		conn_close(w, c, CONNLOG_SHUTDOWN, NULL);
}

/* The master wants everyone gone at once: close without draining. */
static void
stop_now(struct worker *w)
{
	size_t	i;

	w->draining = true;
	update_accepting(w);
	for (i = 0; i < w->nl; i++)
		let_go(w, &w->lv[i]);
	w->nl = 0;
	close_all(w);
	w->quit = true;
}

static void
handle_signals(struct worker *w)
{
	struct signalfd_siginfo	si;

	while (sig_read(w->sigfd, &si) == 1)
		switch (si.ssi_signo) {
		case SIGTERM:
			drain_begin(w);
			break;
		case SIGINT:
		case SIGQUIT:
			stop_now(w);
			break;
		}
}

static void
expire_idle(struct worker *w)
{
	struct conn	*c;

	if (w->cfg->idle_timeout_ms == 0)
		return;
	while ((c = TAILQ_FIRST(&w->active)) != NULL &&
	    w->now_ms - c->last_progress_ms >= w->cfg->idle_timeout_ms)
		conn_close(w, c, CONNLOG_IDLE_TIMEOUT, NULL);
}

/* proxy_header_timeout_ms is the same for all: the oldest is first. */
static void
expire_headers(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->headers)) != NULL &&
	    w->now_ms >= c->header_deadline_ms)
		header_fail(w, c, SCOREBOARD_PROXY_TIMEOUT,
		    CONNLOG_PROXY_TIMEOUT, NULL);
}

static void
drain_check(struct worker *w)
{
	if (!w->draining)
		return;
	if (w->nopen == 0) {
		w->quit = true;
		return;
	}
	if (w->now_ms < w->drain_deadline_ms)
		return;
	log_warnx("worker: %u connection%s still open after shutdown_timeout "
	    "(%u ms): closing %s", w->nopen, LOG_S(w->nopen),
	    w->cfg->shutdown_timeout_ms, w->nopen == 1 ? "it" : "them");
	close_all(w);
	w->quit = true;
}

static int
next_timeout(const struct worker *w)
{
	uint64_t	 deadline = w->now_ms + HEARTBEAT_MS;
	struct conn	*c;

	if (w->cfg->idle_timeout_ms && (c = TAILQ_FIRST(&w->active)) != NULL &&
	    c->last_progress_ms + w->cfg->idle_timeout_ms < deadline)
		deadline = c->last_progress_ms + w->cfg->idle_timeout_ms;
	if ((c = TAILQ_FIRST(&w->headers)) != NULL &&
	    c->header_deadline_ms < deadline)
		deadline = c->header_deadline_ms;
	if (w->accept_resume_ms && w->accept_resume_ms < deadline)
		deadline = w->accept_resume_ms;
	if (w->draining && w->drain_deadline_ms < deadline)
		deadline = w->drain_deadline_ms;
	/* Waiting for its turn: a hung peer must not hold it back for long. */
	if (w->taking && !w->accepting &&
	    w->now_ms + BALANCE_RECHECK_MS < deadline)
		deadline = w->now_ms + BALANCE_RECHECK_MS;
	return deadline > w->now_ms ? (int)(deadline - w->now_ms) : 0;
}

static void
conn_event(struct worker *w, struct conn *c, uint32_t events)
{
	if (c->header)
		header_io(w, c, events);
	else if (!c->parked)
		conn_io(w, c);
	/* A parked connection only hears that its peer is gone. */
	else if (events & (EPOLLERR | EPOLLHUP))
		conn_close(w, c, CONNLOG_RESET, NULL);
}

static void
dispatch(struct worker *w, const struct epoll_event *e)
{
	struct ev	*ev = e->data.ptr;

	switch (ev->kind) {
	case EV_SIGNAL:
		handle_signals(w);
		break;
	case EV_LISTENER:
		if (((struct wlistener *)(void *)ev)->dgram)
			(void)udp_server_serve(w->udp,
			    ((struct wlistener *)(void *)ev)->fd, w->now_ms);
		else if (w->accepting)
			(void)accept_some(w, (struct wlistener *)(void *)ev,
			    ACCEPT_BATCH);
		break;
	case EV_TURN:
		break;	/* the loop asks balance.c again after every turn */
	case EV_CONN:
		conn_event(w, (struct conn *)(void *)ev, e->events);
		break;
	}
}

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

	peer_name(c, peer, sizeof(peer));
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
	conn_close(w, c, CONNLOG_OVER_BUDGET, NULL);
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
static void
budget_check(struct worker *w)
{
	struct conn	*c;
	unsigned	 woke, n;

	while (w->nparked > 0) {
		n = w->nparked;
		for (woke = 0; woke < n && (c = budget_next(w)) != NULL;
		    woke++) {
			c->parked = false;
			w->nparked--;
			conn_io(w, c);
		}
		/* Those woken may be parked again: look once more at once. */
		if (woke > 0)
			continue;
		if ((c = budget_victim(w)) == NULL)
			return;
		budget_close(w, c);
	}
}

static void
run(struct worker *w)
{
	struct epoll_event	events[EPOLL_EVENTS];
	int			n, i;

	while (!w->quit) {
		n = epoll_wait(w->epfd, events, EPOLL_EVENTS, next_timeout(w));
		if (n == -1 && errno != EINTR) {
			log_error("worker: epoll_wait");
			close_all(w);
			return;
		}
		w->now_ms = sig_monotonic_ms();
		SCOREBOARD_STORE(w->slot->heartbeat_ms, w->now_ms);
		for (i = 0; i < n; i++)
			dispatch(w, &events[i]);
		expire_idle(w);
		expire_headers(w);
		budget_check(w);
		if (w->accept_resume_ms && w->now_ms >= w->accept_resume_ms)
			w->accept_resume_ms = 0;
		update_accepting(w);
		retire_check(w);
		drain_check(w);
		log_flush();
	}
}

/*
 * The process around the loop: outlive no master, leave the master's
 * terminal signals to it, keep none of its descriptors or privileges.
 */
static int
setup_process(const struct worker_params *p, struct worker *w)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT };
	static const int	 ignored[] = { SIGHUP, SIGUSR1, SIGUSR2,
	    SIGTTIN, SIGTTOU, SIGPIPE };
	size_t			 i;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != p->master_pid)
		return -1;
	(void)setpgid(0, 0);
	notify_forget();
	for (i = 0; i < p->nclose; i++)
		close(p->close_fds[i]);
	for (i = 0; i < nitems(ignored); i++)
		signal(ignored[i], SIG_IGN);
	if ((w->sigfd = sig_open(sigs, nitems(sigs))) == -1) {
		log_error("worker: signalfd");
		return -1;
	}
	return 0;
}

static int
drop_privileges(const struct config *cfg)
{
	if (cfg->user != NULL &&
	    priv_switch_user(cfg->user, cfg->uid, cfg->gid) == -1) {
		log_error("worker: cannot switch to user %s", cfg->user);
		return -1;
	}
	if (priv_drop_capabilities() == -1) {
		log_error("worker: cannot drop capabilities");
		return -1;
	}
	return 0;
}

/*
 * Every worker watches every UDP socket, exclusively: a datagram wakes
 * one idle worker, never the herd, and a busy worker is passed over.
 */
static int
setup_udp(const struct worker_params *p, struct worker *w)
{
	struct epoll_event	ev;
	size_t			i;

	for (i = 0; i < w->nl; i++) {
		if (!w->lv[i].dgram)
			continue;
		if (w->udp == NULL &&
		    (w->udp = udp_server_new(p->cfg, w->slot, p->ls,
		    p->udp_limit)) == NULL) {
			log_error("worker: UDP setup");
			return -1;
		}
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &w->lv[i].ev;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lv[i].fd, &ev) == -1) {
			log_error("worker: watch %s", w->lv[i].name);
			return -1;
		}
	}
	return 0;
}

/* Edge-triggered and never read: see pool_turn(). */
static int
watch_turns(struct worker *w)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = &w->turnev;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->turn_fd, &ev);
}

static int
setup_loop(const struct worker_params *p, struct worker *w)
{
	struct epoll_event	ev;
	size_t			i;

	w->lim.mode = p->cfg->mode;
	w->lim.max_message_bytes = p->cfg->max_message_bytes;
	w->lim.scratch_bytes = p->cfg->buffer_bytes;
	w->budget.max = config_buffered(p->cfg);
	/*
	 * Large buffers from mmap, always: glibc would otherwise raise the
	 * threshold after the first free and serve them from a heap that
	 * fragments, so the worker's memory would outgrow its budget.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
	if ((w->lim.scratch = malloc(w->lim.scratch_bytes)) == NULL ||
	    (w->lv = calloc(p->ls->n, sizeof(*w->lv))) == NULL ||
	    (w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_error("worker: setup");
		return -1;
	}
	for (i = 0; i < p->ls->n; i++) {
		w->lv[i].ev.kind = EV_LISTENER;
		w->lv[i].fd = p->ls->v[i].fd;
		w->lv[i].name = p->ls->v[i].name;
		w->lv[i].dgram = p->ls->v[i].socktype == SOCK_DGRAM;
		w->lv[i].proxy = p->ls->v[i].proxy;
	}
	w->nl = p->ls->n;
	w->sigev.kind = EV_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &w->sigev;
	w->turnev.kind = EV_TURN;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->sigfd, &ev) == -1 ||
	    watch_turns(w) == -1) {
		log_error("worker: epoll_ctl");
		return -1;
	}
	return setup_udp(p, w);
}

/* Runs in the forked child; returns the exit status for _exit(). */
int
worker_main(const struct worker_params *p)
{
	struct worker	w;

	memset(&w, 0, sizeof(w));
	w.cfg = p->cfg;
	w.slot = p->slot;
	w.slot_index = p->slot_index;
	w.board = p->board;
	w.head = scoreboard_head(p->board);
	w.turn_fd = p->turn_fd;
	w.master_fd = p->master_fd;
	w.epfd = -1;
	w.log_conns = p->cfg->log_connections || log_enabled(LOG_DEBUG);
	TAILQ_INIT(&w.active);
	TAILQ_INIT(&w.headers);
	TAILQ_INIT(&w.spare);
	/* Our pid names our share: unique, and never reused before the reap. */
	admit_init(&w.admit, p->cfg, p->slot, p->clients, (uint32_t)getpid());
	if (setup_process(p, &w) == -1)
		return WORKER_EXIT_SETUP;
	if (drop_privileges(p->cfg) == -1)
		return WORKER_EXIT_FATAL;
	if (setup_loop(p, &w) == -1)
		return WORKER_EXIT_FATAL;
	worker_fault_point("start");
	w.now_ms = sig_monotonic_ms();
	SCOREBOARD_STORE(w.slot->heartbeat_ms, w.now_ms);
	update_accepting(&w);
	set_state(&w, SCOREBOARD_ACCEPTING);
	log_debug("worker: serving (slot %u, generation %u)", w.slot_index,
	    SCOREBOARD_LOAD(w.slot->generation));
	log_batch_stderr(w.log_conns);
	run(&w);
	log_batch_stderr(false);
	return 0;
}
