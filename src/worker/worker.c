/* SPDX-License-Identifier: ISC */
/*
 * worker.c: one worker's event loop. It sets the process up, dispatches
 * what epoll reports (signals, listeners, turns, connections), hands
 * readable UDP sockets to udp.c, shows signs of life on its scoreboard
 * slot, and drains or stops when the master asks. Accepting is
 * worker_accept.c's, PROXY headers worker_proxy.c's, an open connection's
 * I/O, idle timeout and end worker_conn.c's, max_buffered_bytes
 * worker_budget.c's. It never forks, never binds, never talks to systemd.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm/balance.h"
#include "worker/connlog.h"
#include "net/echo.h"
#include "core/fdkeep.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/priv.h"
#include "core/sig.h"
#include "worker/udp.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

#define DRAIN_BATCH		64	/* accepts per round when draining */
#define EPOLL_EVENTS		256
#define MMAP_THRESHOLD_BYTES	(32 * 1024)
/* A read this long moves a connection to splice (echo.c's echo_step()). */
#define SPLICE_MIN_BYTES	(32 * 1024)

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
 * Close our copy of a listening socket. It leaves epoll first (a UDP
 * socket, a muted stream one): the master's copy keeps it open, and
 * closing ours alone would not take it out.
 */
static void
let_go(struct worker *w, struct wlistener *l)
{
	if (l->dgram || l->in_epoll)
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
	worker_update_accepting(w);
	for (i = 0; i < w->nl; i++) {
		while (!w->lv[i].dgram &&
		    worker_accept_some(w, &w->lv[i], DRAIN_BATCH) == 1 &&
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
		worker_conn_close(w, c, CONNLOG_SHUTDOWN, NULL);
	while ((c = TAILQ_FIRST(&w->headers)) != NULL)
		worker_conn_close(w, c, CONNLOG_SHUTDOWN, NULL);
	echo_pipes_close(&w->pipes);
}

/* The master wants everyone gone at once: close without draining. */
static void
stop_now(struct worker *w)
{
	size_t	i;

	w->draining = true;
	worker_update_accepting(w);
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
	/* Watching exclusively: the queue is looked at once a heartbeat. */
	if (w->exclusive && w->accepting &&
	    w->accept_polled_ms + HEARTBEAT_MS < deadline)
		deadline = w->accept_polled_ms + HEARTBEAT_MS;
	/* Waiting for its turn: a hung peer must not hold it back for long. */
	if (w->taking && !w->accepting &&
	    w->now_ms + BALANCE_RECHECK_MS < deadline)
		deadline = w->now_ms + BALANCE_RECHECK_MS;
	return deadline > w->now_ms ? (int)(deadline - w->now_ms) : 0;
}

static void
conn_event(struct worker *w, struct conn *c, uint32_t events)
{
	if (c->lingering)
		worker_linger_event(w, c, events);
	else if (c->header)
		worker_header_io(w, c, events);
	else if (!c->parked)
		worker_conn_io(w, c);
	/* A parked connection only hears that its peer is gone. */
	else if (events & (EPOLLERR | EPOLLHUP))
		worker_conn_close(w, c, CONNLOG_RESET, NULL);
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
			    ((struct wlistener *)(void *)ev)->fd,
			    ((struct wlistener *)(void *)ev)->stamp, w->now_ms);
		else if (w->accepting)
			worker_accept_turn(w, (struct wlistener *)(void *)ev);
		else if (w->exclusive)
			worker_handoff(w->handoff_fd);	/* not ours: pass on */
		break;
	case EV_TURN:
		break;	/* the loop asks balance.c again after every turn */
	case EV_HANDOFF:
		worker_handoff_event(w);
		break;
	case EV_CONN:
		conn_event(w, (struct conn *)(void *)ev, e->events);
		break;
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
		worker_accept_poll(w);
		worker_expire_idle(w);
		worker_expire_headers(w);
		/* A turn's fixed cost is an echo's when a turn has one event. */
		if (w->nparked > 0)
			worker_budget_check(w);
		if (w->accept_resume_ms && w->now_ms >= w->accept_resume_ms)
			w->accept_resume_ms = 0;
		/*
		 * Once a turn, after every open and close of the batch: one
		 * event per listener, each accepting only while it is this
		 * worker's turn and below max_connections.
		 */
		worker_update_accepting(w);
		retire_check(w);
		drain_check(w);
		log_flush();
	}
}

/*
 * Keep only what this worker was given: standard input, output and error,
 * its listeners, the pool's turn and the master's eventfd, the logger's
 * socket. Whatever else the master holds (a socket a reload dropped, the
 * metrics endpoint, its signal fd) would otherwise live on here, listening
 * with nobody to accept, for as long as this worker does.
 */
static int
close_inherited(const struct worker_params *p)
{
	int	*keep;
	size_t	 n = 0, i;
	int	 rc;

	if ((keep = calloc(p->ls->n + 7, sizeof(*keep))) == NULL)
		return -1;
	keep[n++] = STDIN_FILENO;
	keep[n++] = STDOUT_FILENO;
	keep[n++] = STDERR_FILENO;
	keep[n++] = p->turn_fd;
	keep[n++] = p->handoff_fd;
	keep[n++] = p->master_fd;
	keep[n++] = log_keep_fd();
	for (i = 0; i < p->ls->n; i++)
		keep[n++] = p->ls->v[i].fd;
	rc = fdkeep_close_others(keep, n);
	free(keep);
	return rc;
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
	if (close_inherited(p) == -1) {
		log_error("worker: cannot close the master's descriptors");
		return -1;
	}
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
		    p->udp_limit, p->stamp_sessions)) == NULL) {
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

/* Edge-triggered and never read: see worker_turn_wake(). */
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
	/* Two watchers at most wake for a connection: see watch_listeners(). */
	w->exclusive = config_workers(p->cfg) > 2;
	w->lim.max_message_bytes = p->cfg->max_message_bytes;
	w->lim.scratch_bytes = p->cfg->buffer_bytes;
	echo_pipes_init(&w->pipes, p->cfg->buffer_bytes);
	w->lim.pipes = p->cfg->splice && p->cfg->mode == ECHO_MODE_STREAM ?
	    &w->pipes : NULL;
	w->lim.splice_min = p->cfg->buffer_bytes < SPLICE_MIN_BYTES ?
	    p->cfg->buffer_bytes : SPLICE_MIN_BYTES;
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
		w->lv[i].stamp = p->ls->v[i].stamp;
	}
	w->nl = p->ls->n;
	w->sigev.kind = EV_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &w->sigev;
	w->turnev.kind = EV_TURN;
	w->handoffev.kind = EV_HANDOFF;
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
	w.handoff_fd = p->handoff_fd;
	w.master_fd = p->master_fd;
	w.epfd = -1;
	w.log_conns = p->cfg->log_connections || log_enabled(LOG_DEBUG);
	TAILQ_INIT(&w.active);
	TAILQ_INIT(&w.headers);
	TAILQ_INIT(&w.spare);
	/* Our pid names our share: unique, and never reused before the reap. */
	admit_init(&w.admit, p->cfg, p->slot, p->clients, (uint32_t)getpid());
	w.admit.peerlog = &w.head->peerlog;
	if (setup_process(p, &w) == -1)
		return WORKER_EXIT_SETUP;
	if (drop_privileges(p->cfg) == -1)
		return WORKER_EXIT_FATAL;
	if (setup_loop(p, &w) == -1)
		return WORKER_EXIT_FATAL;
	worker_fault_point("start");
	w.now_ms = sig_monotonic_ms();
	SCOREBOARD_STORE(w.slot->heartbeat_ms, w.now_ms);
	worker_update_accepting(&w);
	set_state(&w, SCOREBOARD_ACCEPTING);
	log_debug("worker: serving (slot %u, generation %u)", w.slot_index,
	    SCOREBOARD_LOAD(w.slot->generation));
	log_batch_stderr(w.log_conns);
	run(&w);
	log_batch_stderr(false);
	return 0;
}
