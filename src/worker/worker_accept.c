/* SPDX-License-Identifier: ISC */
/*
 * worker_accept.c: a worker's side of the listening sockets. It turns
 * accepting on and off (max_connections, a pause after EMFILE, the turn
 * that balance.c gives), accepts, has admit.c admit or refuse, logs a
 * refusal, and opens the connection it accepted. It must not read or
 * write a connection: worker.c drives it from then on.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/admit.h"
#include "shm/balance.h"
#include "worker/connlog.h"
#include "net/echo.h"
#include "net/listen.h"
#include "core/log.h"
#include "core/sig.h"
#include "worker/sockbuf.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

#define ACCEPT_BATCH	16	/* connections a listener event at most */

#define ACCEPT_RETRY_MS		100	/* after EMFILE and friends */
#define ACCEPT_WARN_EVERY_MS	10000

/* Not draining, not full, not paused: it would take a connection. */
static bool
can_take(const struct worker *w)
{
	return !w->draining && w->nopen < w->cfg->max_connections &&
	    w->accept_resume_ms == 0;
}

/* One entry of the epoll set, in or out; 0 or -1 (said). */
static int
watch_one(struct worker *w, int fd, struct ev *ev, uint32_t events, int op,
    const char *name)
{
	struct epoll_event	e;

	e.events = events;
	e.data.ptr = ev;
	if (epoll_ctl(w->epfd, op, fd, &e) == -1) {
		log_warn("worker: watch %s", name);
		return -1;
	}
	return 0;
}

/*
 * In a pool of two, a listener is added once, then muted (no events) and
 * unmuted: a turn that comes and goes at every accept and close of short
 * sessions costs two EPOLL_CTL_MOD (about 150 ns each here), not an
 * EPOLL_CTL_DEL and an EPOLL_CTL_ADD (about 470 ns each). Unmuting polls
 * the socket, as adding does, so connections that already wait are heard
 * at once. In a larger pool, where every watching worker would wake for
 * every connection, the listeners and the pool's hand-off eventfd are
 * added with EPOLLEXCLUSIVE (the kernel wakes one idle watcher) and taken
 * out when the turn ends: the kernel refuses EPOLL_CTL_MOD on them.
 */
static void
watch_listeners(struct worker *w, bool want)
{
	struct wlistener	*l;
	size_t			 i;
	int			 op;

	/* Without it (said), worker_accept_poll() still bounds the wait. */
	if (w->exclusive)
		(void)watch_one(w, w->handoff_fd, &w->handoffev,
		    EPOLLIN | EPOLLEXCLUSIVE, want ? EPOLL_CTL_ADD :
		    EPOLL_CTL_DEL, "the pool's hand-off");
	for (i = 0; i < w->nl; i++) {
		l = &w->lv[i];
		if (l->dgram || (!want && !l->in_epoll))
			continue;
		if (w->exclusive)
			op = want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;
		else
			op = l->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
		if (watch_one(w, l->fd, &l->ev, (want ? EPOLLIN : 0) |
		    (w->exclusive ? EPOLLEXCLUSIVE : 0), op, l->name) == 0)
			l->in_epoll = op != EPOLL_CTL_DEL;
	}
}

/*
 * Listeners are in epoll exactly while the worker can take connections
 * and balance.c says that it is its turn. Level-triggered and not
 * exclusive: every worker whose turn it is hears of a waiting connection,
 * and one that adds the socket while connections wait is told at once,
 * so none waits for the next to arrive. Leaving its turn, a worker tells
 * the others (worker_turn_wake()) when none of them watches: the least
 * load may have risen, theirs may be the turn now. The fence orders its
 * store before its look at theirs: of two that leave at once, one sees
 * the other gone and wakes the pool.
 */
void
worker_update_accepting(struct worker *w)
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
	SCOREBOARD_STORE(w->slot->watching, (uint32_t)want);
	if (want)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!balance_watched(w->board, SCOREBOARD_LOAD(w->head->nused),
	    w->slot_index, w->now_ms))
		worker_turn_wake(w->turn_fd);
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
 * would pin that much each. Fixed sizes turn autotuning off for them, but
 * for the few TCP connections that sockbuf.c lets keep it, at full speed
 * (Unix sockets have fixed sizes anyway).
 */
static void
size_kernel_buffers(struct worker *w, struct conn *c, int fd)
{
	int	bytes = (int)w->cfg->socket_buffer_bytes;

	if (bytes == 0)
		return;
	if (c->peer.ss_family != AF_UNIX &&
	    sockbuf_may_autotune(w->board, SCOREBOARD_LOAD(w->head->nused),
	    w->cfg->autotuned_connections)) {
		c->autotuned = true;
		w->nautotuned++;
		SCOREBOARD_STORE(w->slot->conns_autotuned, w->nautotuned);
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* Why admit.c refused, as the connection log names it. */
enum connlog_reason
worker_refusal_reason(enum admit_reason why)
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
void
worker_refuse_log(struct worker *w, const struct sockaddr_storage *peer,
    socklen_t peerlen, const char *listener, enum connlog_reason reason)
{
	struct connlog_entry	e;
	char			name[LISTEN_NAME_MAX];

	if (!w->log_conns ||
	    !admit_line_allowed(&w->admit, PEERLOG_CONNLOG, w->now_ms))
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

	if ((c = conn_get(w)) == NULL) {
		log_warn("worker: cannot serve a connection");
		admit_leave(&w->admit, ticket);
		worker_refuse_log(w, peer, peerlen, listener,
		    CONNLOG_REFUSED_NO_MEMORY);
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
	/* TCP_NODELAY comes from the listening socket (listen.c). */
	size_kernel_buffers(w, c, fd);
	if (worker_conn_watch(w, c, header ? EPOLLIN | EPOLLET | EPOLLRDHUP :
	    EPOLLIN) == -1) {
		log_warn("worker: epoll_ctl");
		worker_conn_close(w, c, CONNLOG_ERROR, strerror(errno));
	}
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
	worker_update_accepting(w);
	if (w->exclusive)	/* the connection that failed still waits */
		worker_handoff(w->handoff_fd);
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
			worker_refuse_log(w, ss, len, l->name,
			    CONNLOG_REFUSED_PROXY_UNTRUSTED);
		return;
	}
	if (admit_connection(&w->admit, fd, (const struct sockaddr *)ss, len,
	    w->now_ms, &ticket))
		conn_open(w, fd, ss, len, &ticket, l->name, false);
	else
		worker_refuse_log(w, ss, len, l->name,
		    worker_refusal_reason(ticket.why));
}

/* Accept up to "max" connections; 0 when the queue is empty or accepting paused. */
int
worker_accept_some(struct worker *w, struct wlistener *l, unsigned max)
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

/*
 * A listener's event: accept while it is still this worker's turn, as
 * balance.c sees the board before each connection, at most ACCEPT_BATCH,
 * so that a burst costs one epoll_wait() per batch, not per connection.
 * An exclusive wake-up was this worker's alone: a turn or a batch that
 * ends while connections may still wait (the last accept took one) hands
 * off to one other watcher (after a poll or a hand-off, the listener is
 * not on this worker's ready list to bring it back).
 */
void
worker_accept_turn(struct worker *w, struct wlistener *l)
{
	unsigned	n;
	int		more = 1;

	for (n = 0; n < ACCEPT_BATCH; n++)
		if (w->nopen >= w->cfg->max_connections ||
		    !balance_eligible(w->board,
		    SCOREBOARD_LOAD(w->head->nused), w->slot_index, w->now_ms) ||
		    (more = worker_accept_some(w, l, 1)) == 0)
			break;
	if (w->exclusive && more)
		worker_handoff(w->handoff_fd);
}

/* Each stream listener, as if it had had an event. */
static void
accept_turn_all(struct worker *w)
{
	size_t	i;

	for (i = 0; i < w->nl && w->accepting; i++)
		if (!w->lv[i].dgram)
			worker_accept_turn(w, &w->lv[i]);
}

/*
 * An exclusive wake-up may go to a worker that cannot act on it: one
 * stopped right after it (a signal, a debugger attaching), one out of
 * descriptors. Every watching worker looks at the listen queues itself
 * once a heartbeat, so that no connection waits longer than that.
 */
void
worker_accept_poll(struct worker *w)
{
	if (!w->exclusive || !w->accepting ||
	    w->now_ms - w->accept_polled_ms < HEARTBEAT_MS)
		return;
	w->accept_polled_ms = w->now_ms;
	accept_turn_all(w);
}

/*
 * Another's turn ended with connections perhaps waiting, and the kernel
 * woke this watcher alone: take the hand-off (the counter, so that it
 * wakes nobody else) and accept; one that is no longer watching passes
 * it on.
 */
void
worker_handoff_event(struct worker *w)
{
	uint64_t	n;

	if (read(w->handoff_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;		/* another took it */
	if (!w->accepting)
		worker_handoff(w->handoff_fd);
	else
		accept_turn_all(w);
}

/*
 * Tell every worker that the least load on the board may have risen (one
 * stopped taking connections), so that those waiting for their turn look
 * again. Each worker watches the eventfd edge-triggered and never reads
 * it: every write wakes them all, and nobody consumes another's wakeup.
 * The master's pool calls it too, for a worker that died without a word.
 */
static void
poke(int eventfd)
{
	uint64_t	one = 1;

	(void)!write(eventfd, &one, sizeof(one));
}

void
worker_turn_wake(int turn_fd)
{
	poke(turn_fd);
}

/*
 * Wake one watching worker (they watch this eventfd exclusively and
 * level-triggered, and the one woken reads it): the kernel told only the
 * worker whose turn just ended of the connections that may still wait.
 */
void
worker_handoff(int handoff_fd)
{
	poke(handoff_fd);
}
