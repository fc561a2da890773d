/* SPDX-License-Identifier: ISC */
/*
 * load_rr.c: closed-loop traffic from client threads, each with its own
 * epoll: request/response on long connections (rr and bulk: send SIZE
 * bytes, read them back, again), and sessions (connect, echo SIZE bytes,
 * close). Every byte that comes back is compared; every loop is bounded
 * in time. It reports figures, it does not judge them.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define EVENTS_MAX	256
#define RECV_BYTES	(256 * 1024)
#define DRAIN_NS	(5ULL * 1000000000)	/* in-flight operations end */

enum phase { WARM, MEASURE, DRAIN };

struct conn {
	int		fd;
	unsigned	gen;		/* sessions: which fd of this slot */
	bool		busy;		/* an operation is in flight */
	bool		want_out;	/* EPOLLOUT registered */
	size_t		sent, got;
	uint64_t	pos;		/* stream position of the operation */
	uint64_t	t0, progress;
};

struct run;

struct worker {
	struct run	*run;
	pthread_t	 tid;
	int		 ep;
	unsigned	 first, n;	/* its connections */
	struct conn	*c;
	unsigned char	*buf;
	struct tally	 t;
};

struct run {
	const struct opts	*o;
	bool			 sessions;
	_Atomic int		 phase;
	struct worker		 w[LOAD_THREADS_MAX];
};

static uint32_t
conn_events(const struct conn *c)
{
	return EPOLLIN | (c->want_out ? EPOLLOUT : 0);
}

static void
conn_watch(struct worker *w, unsigned i, int op)
{
	struct conn		*c = &w->c[i];
	struct epoll_event	 ev;

	ev.events = conn_events(c);
	ev.data.u64 = (uint64_t)c->gen << 32 | i;
	epoll_ctl(w->ep, op, c->fd, &ev);
}

static void
conn_fail(struct worker *w, struct conn *c)
{
	w->t.errors++;
	close(c->fd);
	c->fd = -1;
	c->busy = false;
}

/* Send what is left of the operation; EPOLLOUT while some is. */
static void
conn_send(struct worker *w, unsigned i)
{
	struct conn	*c = &w->c[i];
	size_t		 size = w->run->o->size;
	ssize_t		 n;
	bool		 out;

	n = send(c->fd, pattern_at(c->pos + c->sent), size - c->sent,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && errno != EAGAIN && errno != EINTR &&
	    errno != ENOTCONN) {
		conn_fail(w, c);
		return;
	}
	if (n > 0) {
		c->sent += n;
		c->progress = sig_monotonic_ns();
	}
	out = c->sent < size;
	if (out != c->want_out) {
		c->want_out = out;
		conn_watch(w, i, EPOLL_CTL_MOD);
	}
}

static void
op_start(struct worker *w, unsigned i, uint64_t now)
{
	struct conn	*c = &w->c[i];

	c->busy = true;
	c->sent = c->got = 0;
	c->t0 = c->progress = now;
	conn_send(w, i);
}

/* A session: a new connection in slot i, its bytes sent once writable. */
static void
session_start(struct worker *w, unsigned i, uint64_t now)
{
	struct conn	*c = &w->c[i];

	if ((c->fd = load_connect(w->run->o->port, true)) == -1) {
		w->t.errors++;
		return;
	}
	c->gen++;
	c->busy = true;
	c->sent = c->got = 0;
	c->t0 = c->progress = now;
	c->want_out = true;
	conn_watch(w, i, EPOLL_CTL_ADD);
	conn_send(w, i);	/* loopback connects at once, mostly */
}

/* The operation is back whole: count it, close a session, start anew. */
static void
op_done(struct worker *w, unsigned i, uint64_t now)
{
	struct run	*r = w->run;
	struct conn	*c = &w->c[i];

	if (atomic_load(&r->phase) == MEASURE) {
		w->t.ops++;
		hist_add(&w->t.lat, now - c->t0);
	}
	c->pos += r->o->size;
	c->busy = false;
	if (r->sessions) {
		close(c->fd);
		c->fd = -1;
	}
	if (atomic_load(&r->phase) == DRAIN)
		return;
	if (r->sessions)
		session_start(w, i, now);
	else
		op_start(w, i, now);
}

static void
conn_recv(struct worker *w, unsigned i, uint64_t now)
{
	struct conn	*c = &w->c[i];
	size_t		 size = w->run->o->size;
	ssize_t		 n;

	n = recv(c->fd, w->buf, RECV_BYTES, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || !c->busy || c->got + n > size ||
	    !pattern_check(c->pos + c->got, w->buf, n)) {
		if (n > 0 || c->busy)
			load_warn("%s: connection %u: %s", w->run->o->server,
			    w->first + i, n == 0 ? "EOF" : n == -1 ?
			    strerror(errno) : "wrong bytes");
		conn_fail(w, c);
		return;
	}
	c->got += n;
	c->progress = now;
	w->t.bytes += n;
	if (c->got == size)
		op_done(w, i, now);
}

static void
worker_event(struct worker *w, const struct epoll_event *ev, uint64_t now)
{
	unsigned	 i = (unsigned)ev->data.u64;
	struct conn	*c = &w->c[i];

	if (c->fd == -1 || (unsigned)(ev->data.u64 >> 32) != c->gen)
		return;
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_recv(w, i, now);
	if (c->fd != -1 && c->busy && c->want_out &&
	    ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		conn_send(w, i);
}

/* Operations with no progress for 5 s are timeouts; -> how many busy. */
static unsigned
worker_sweep(struct worker *w, uint64_t now)
{
	unsigned	i, busy = 0;

	for (i = 0; i < w->n; i++) {
		if (w->c[i].fd == -1 && w->run->sessions &&
		    atomic_load(&w->run->phase) != DRAIN)
			session_start(w, i, now);	/* after a failure */
		if (!w->c[i].busy || w->c[i].fd == -1)
			continue;
		if (now > w->c[i].progress + LOAD_STALL_NS) {
			load_warn("%s: connection %u: no progress for 5 s",
			    w->run->o->server, w->first + i);
			conn_fail(w, &w->c[i]);
			continue;
		}
		busy++;
	}
	return busy;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct epoll_event	 ev[EVENTS_MAX];
	uint64_t		 now = sig_monotonic_ns(), drain_end = 0;
	uint64_t		 swept = now;
	unsigned		 i;
	int			 n, k;

	for (i = 0; i < w->n; i++) {
		if (w->run->sessions)
			session_start(w, i, now);
		else if (w->c[i].fd != -1)
			op_start(w, i, now);
	}
	for (;;) {
		n = epoll_wait(w->ep, ev, EVENTS_MAX, 50);
		now = sig_monotonic_ns();
		for (k = 0; k < n; k++)
			worker_event(w, &ev[k], now);
		if (atomic_load(&w->run->phase) == DRAIN && drain_end == 0)
			drain_end = now + DRAIN_NS;
		if (now - swept > 100000000 || drain_end != 0) {
			swept = now;
			if (worker_sweep(w, now) == 0 && drain_end != 0)
				break;
		}
		if (drain_end != 0 && now > drain_end)
			break;
	}
	for (i = 0; i < w->n; i++)
		if (w->c[i].busy && w->c[i].fd != -1)
			w->t.errors++;	/* never came back */
	return NULL;
}

/* rr: the long connections, opened before any thread starts. */
static int
conns_open(struct run *r)
{
	const struct opts	*o = r->o;
	struct worker		*w;
	unsigned		 t, i;

	for (t = 0; t < o->threads; t++) {
		w = &r->w[t];
		for (i = 0; i < w->n && !r->sessions; i++) {
			w->c[i].pos = pattern_start(w->first + i);
			if ((w->c[i].fd = load_connect(o->port, false)) == -1) {
				load_warn("%s: connection %u: %s", o->server,
				    w->first + i, strerror(errno));
				return -1;
			}
			conn_watch(w, i, EPOLL_CTL_ADD);
		}
	}
	return 0;
}

static int
run_init(struct run *r, const struct opts *o, bool sessions)
{
	struct worker	*w;
	unsigned	 t, i;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->sessions = sessions;
	atomic_store(&r->phase, WARM);
	for (t = 0; t < o->threads; t++) {
		w = &r->w[t];
		w->run = r;
		w->first = o->conns * t / o->threads;
		w->n = o->conns * (t + 1) / o->threads - w->first;
		w->c = calloc(w->n, sizeof(*w->c));
		w->buf = malloc(RECV_BYTES);
		if (w->c == NULL || w->buf == NULL ||
		    (w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
			return -1;
		for (i = 0; i < w->n; i++) {
			w->c[i].fd = -1;
			w->c[i].pos = pattern_start(w->first + i);
		}
	}
	return conns_open(r);
}

static void
run_free(struct run *r)
{
	unsigned	t, i;

	for (t = 0; t < r->o->threads; t++) {
		for (i = 0; i < r->w[t].n && r->w[t].c != NULL; i++)
			if (r->w[t].c[i].fd != -1)
				close(r->w[t].c[i].fd);
		if (r->w[t].ep > 0)
			close(r->w[t].ep);
		free(r->w[t].c);
		free(r->w[t].buf);
	}
}

static void
sleep_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/*
 * Warm up, then the measured window with the server's CPU time read at
 * both ends, then let what is in flight come back. -> the window in ns.
 */
static uint64_t
run_phases(struct run *r, pid_t server, uint64_t *cpu_ns)
{
	uint64_t	t0, c0;
	unsigned	t;

	for (t = 0; t < r->o->threads; t++)
		pthread_create(&r->w[t].tid, NULL, worker_main, &r->w[t]);
	sleep_ms(r->o->warm_ms);
	c0 = procs_cpu_ns(server);
	t0 = sig_monotonic_ns();
	atomic_store(&r->phase, MEASURE);
	sleep_ms(r->o->ms);
	atomic_store(&r->phase, DRAIN);
	*cpu_ns = procs_cpu_ns(server) - c0;
	t0 = sig_monotonic_ns() - t0;
	for (t = 0; t < r->o->threads; t++)
		pthread_join(r->w[t].tid, NULL);
	return t0;
}

/* rr and bulk: ops/s (MB/s from 1 MiB up) and CPU per op (per MB). */
static int
run_traffic(const struct opts *o, pid_t server, bool sessions)
{
	static struct run	r;
	struct tally		all;
	uint64_t		ns, cpu = 0;
	double			s, mb, rate;
	bool			bulk = !sessions && o->size >= (1 << 20);
	unsigned		t;

	memset(&all, 0, sizeof(all));
	if (run_init(&r, o, sessions) == -1) {
		load_warn("%s: setup failed: %s", o->server, strerror(errno));
		run_free(&r);
		all.errors = 1;
		load_result(o, o->scenario, "-", 0, &all, 0, NULL);
		return -1;
	}
	ns = run_phases(&r, server, &cpu);
	for (t = 0; t < o->threads; t++)
		tally_merge(&all, &r.w[t].t);
	run_free(&r);
	s = ns / 1e9;
	mb = (double)all.ops * o->size / 1e6;
	rate = bulk ? mb / s : all.ops / s;
	load_result(o, o->scenario, bulk ? "MB/s" : sessions ? "sessions/s" :
	    "ops/s", rate, &all, bulk ? (mb ? cpu / 1e3 / mb : 0) :
	    (all.ops ? cpu / 1e3 / all.ops : 0), NULL);
	return all.errors || all.ops == 0 ? -1 : 0;
}

int
run_rr(const struct opts *o, pid_t server)
{
	return run_traffic(o, server, false);
}

int
run_sessions(const struct opts *o, pid_t server)
{
	return run_traffic(o, server, true);
}
