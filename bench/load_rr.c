/* SPDX-License-Identifier: ISC */
/*
 * load_rr.c: closed-loop traffic from client threads, each running one
 * load engine (load/) of its own: request/response on long connections
 * (rr and bulk: send SIZE bytes, read them back, again), and sessions
 * (connect, echo SIZE bytes, close). The engine compares every byte that
 * comes back; every loop is bounded in time. It reports figures, it does
 * not judge them.
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

#define STEP_MS		50
#define SWEEP_MS	100		/* a failed slot starts anew */
#define DRAIN_MS	5000		/* in-flight operations end */

enum phase { WARM, MEASURE, DRAIN };

struct run;

struct worker {
	struct run	*run;
	pthread_t	 tid;
	struct load	 l;		/* its connections */
	struct tally	 t;
};

struct run {
	const struct opts	*o;
	_Atomic int		 phase;
	struct worker		 w[LOAD_THREADS_MAX];
};

/* An operation ended: count it while measuring, warn of a failure. */
static void
op_end(struct load *l, const struct load_session *s, enum load_outcome o)
{
	struct worker	*w = l->arg;

	if (o != LOAD_OK) {
		w->t.errors++;
		load_warn("%s: connection %u: %s", w->run->o->server,
		    l->first + (unsigned)(s - l->s), load_outcome_names[o]);
		return;
	}
	if (atomic_load(&w->run->phase) == MEASURE) {
		w->t.ops++;
		load_hist_add(&w->t.lat, sig_monotonic_ns() - s->started_ns);
	}
}

/* Until the drain: then what is in flight ends, within DRAIN_MS. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct load	*l = &w->l;
	uint64_t	 drain_end = 0;

	for (;;) {
		load_step(l, STEP_MS);
		if (drain_end == 0 && atomic_load(&w->run->phase) == DRAIN) {
			l->launching = false;
			drain_end = sig_monotonic_ms() + DRAIN_MS;
		}
		if (drain_end != 0 && (load_active(l) == 0 ||
		    sig_monotonic_ms() > drain_end))
			break;
	}
	w->t.errors += load_active(l);	/* never came back */
	w->t.bytes = l->bytes;
	return NULL;
}

static int
run_init(struct run *r, const struct opts *o, bool sessions)
{
	struct worker	*w;
	struct load	*l;
	unsigned	 t, first;

	memset(r, 0, sizeof(*r));
	r->o = o;
	atomic_store(&r->phase, WARM);
	for (t = 0; t < o->threads; t++)
		r->w[t].l.ep = -1;	/* for run_free() after a failure */
	for (t = 0; t < o->threads; t++) {
		w = &r->w[t];
		l = &w->l;
		w->run = r;
		first = o->conns * t / o->threads;
		if (load_init(l, &o->dst, o->conns * (t + 1) / o->threads -
		    first, t) == -1)
			return -1;
		l->first = first;
		l->size = o->size;
		l->keep = !sessions;
		l->sweep_ms = SWEEP_MS;
		l->done = op_end;
		l->arg = w;
	}
	return 0;
}

static void
run_free(struct run *r)
{
	unsigned	t;

	for (t = 0; t < r->o->threads; t++)
		load_free(&r->w[t].l);
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
