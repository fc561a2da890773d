/* SPDX-License-Identifier: ISC */
/*
 * pool.c: the worker slot table. It spawns, signals and reaps workers and
 * answers questions about them; each death is reported as data. It
 * decides nothing: whether to respawn, abort a reload or stop is master.c's.
 * It is handed what a new worker runs, and never names the worker.
 */
#include "build-config.h"

#include <sys/eventfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/coverage.h"
#include "core/log.h"
#include "master/pool.h"

static const char *const stop_reason_text[] = {
	[POOL_STOP_NONE] = "unexpectedly",
	[POOL_STOP_RELOAD] = "after a reload",
	[POOL_STOP_RECYCLE] = "after recycling",
	[POOL_STOP_SHRINK] = "after the pool shrank",
	[POOL_STOP_SHUTDOWN] = "on shutdown",
	[POOL_STOP_ABORT] = "after a failed reload",
};

static pid_t
os_fork_worker(worker_entry_fn *entry, const struct worker_params *p,
    void *arg)
{
	pid_t	pid;

	(void)arg;
	if ((pid = fork()) == 0)
		coverage_exit(entry(p));
	return pid;
}

static int
os_kill(pid_t pid, int sig, void *arg)
{
	(void)arg;
	return kill(pid, sig);
}

static pid_t
os_reap(int *wstatus, void *arg)
{
	(void)arg;
	return waitpid(-1, wstatus, WNOHANG);
}

static int
os_sigqueue(pid_t pid, int sig, union sigval v, void *arg)
{
	(void)arg;
	return sigqueue(pid, sig, v);
}

const struct pool_ops pool_os_ops = {
	os_fork_worker, os_kill, os_reap, os_sigqueue, NULL,
};

int
pool_open(struct pool *p, size_t nslots, const struct pool_ops *ops,
    worker_entry_fn *entry)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->entry = entry;
	p->nslots = nslots;
	p->handoff_fd = -1;
	if ((p->turn_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	if ((p->handoff_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (p->sb = scoreboard_create(nslots)) == NULL ||
	    (p->slots = calloc(nslots, sizeof(*p->slots))) == NULL) {
		scoreboard_destroy(p->sb, nslots);
		p->sb = NULL;
		close(p->turn_fd);
		p->turn_fd = -1;
		if (p->handoff_fd != -1)
			close(p->handoff_fd);
		p->handoff_fd = -1;
		return -1;
	}
	return 0;
}

void
pool_close(struct pool *p)
{
	if (p->sb != NULL) {
		close(p->turn_fd);
		close(p->handoff_fd);
	}
	p->turn_fd = p->handoff_fd = -1;
	scoreboard_destroy(p->sb, p->nslots);
	free(p->slots);
	p->sb = NULL;
	p->slots = NULL;
}

static int
free_slot(const struct pool *p)
{
	size_t	i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid == 0)
			return (int)i;
	return -1;
}

/*
 * Fork a worker of "generation" into a free slot; "wp" says the rest.
 * Returns the slot, or -1 (errno ENOSPC: no free slot; else fork's).
 */
int
pool_spawn(struct pool *p, struct worker_params *wp, unsigned generation,
    uint64_t conn_limit, uint64_t now_ms)
{
	struct pool_slot	*s;
	int			 idx;
	pid_t			 pid;

	if ((idx = free_slot(p)) == -1) {
		log_warnx("no free worker slot (%zu in use)", p->nslots);
		errno = ENOSPC;
		return -1;
	}
	scoreboard_reset(&p->sb[idx], generation, conn_limit, now_ms);
	scoreboard_use(p->sb, idx);
	wp->slot = &p->sb[idx];
	wp->slot_index = idx;
	wp->board = p->sb;
	wp->turn_fd = p->turn_fd;
	wp->handoff_fd = p->handoff_fd;
	if ((pid = p->ops->fork_worker(p->entry, wp, p->ops->arg)) == -1) {
		log_error("cannot start a worker: fork");
		p->sb[idx].state = SCOREBOARD_FREE;
		return -1;
	}
	s = &p->slots[idx];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->generation = generation;
	s->spawned_ms = now_ms;
	s->fate = POOL_SERVING;
	log_debug("worker %ld started (slot %d, generation %u)", (long)pid, idx,
	    generation);
	return idx;
}

static int
find_pid(const struct pool *p, pid_t pid)
{
	size_t	i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid == pid)
			return (int)i;
	return -1;
}

static void
add_proxy(uint64_t *sum, const struct scoreboard_slot *sc)
{
	size_t	i;

	for (i = 0; i < SCOREBOARD_PROXY_NRESULTS; i++)
		sum[i] += SCOREBOARD_LOAD(sc->proxy[i]);
}

/* Count its work among the exited, and free the slot. */
static void
release(struct pool *p, unsigned idx)
{
	const struct scoreboard_slot	*sc = &p->sb[idx];

	p->exited.served += SCOREBOARD_LOAD(sc->conns_served);
	p->exited.bytes_in += SCOREBOARD_LOAD(sc->bytes_in);
	p->exited.bytes_out += SCOREBOARD_LOAD(sc->bytes_out);
	scoreboard_udp_add(&p->exited.udp, &sc->udp);
	scoreboard_udp_add(&p->exited.stamp, &sc->stamp);
	p->exited.refused_acl += SCOREBOARD_LOAD(sc->refused_acl);
	p->exited.refused_limit += SCOREBOARD_LOAD(sc->refused_limit);
	add_proxy(p->exited.proxy, sc);
	memset(&p->slots[idx], 0, sizeof(p->slots[idx]));
	SCOREBOARD_STORE(p->sb[idx].state, (uint32_t)SCOREBOARD_FREE);
	/*
	 * A worker that died without a word may have held the least load,
	 * or have been the one watcher told of waiting connections.
	 */
	worker_turn_wake(p->turn_fd);
	worker_handoff(p->handoff_fd);
}

/*
 * One dead worker per call (SIGCHLD coalesces: call until 0): 1 with *d
 * describing it, 0 when no worker is left to reap.
 */
int
pool_reap(struct pool *p, struct pool_death *d, uint64_t now_ms)
{
	pid_t	pid;
	int	wstatus, idx;

	while ((pid = p->ops->reap(&wstatus, p->ops->arg)) > 0) {
		if ((idx = find_pid(p, pid)) == -1) {
			log_debug("reaped unknown child %ld", (long)pid);
			continue;
		}
		d->idx = idx;
		d->slot = p->slots[idx];
		d->wstatus = wstatus;
		d->ready = d->slot.ready_ms != 0 ||
		    SCOREBOARD_LOAD(p->sb[idx].state) >= SCOREBOARD_ACCEPTING;
		d->lifetime_ms = now_ms - d->slot.spawned_ms;
		release(p, idx);
		return 1;
	}
	return 0;
}

/* Workers show on the scoreboard when they serve and when they want to retire. */
void
pool_scan(struct pool *p, uint64_t now_ms)
{
	struct pool_slot	*s;
	uint32_t		 state;
	int			 i;

	POOL_FOREACH(p, i) {
		s = &p->slots[i];
		state = SCOREBOARD_LOAD(p->sb[i].state);
		if (s->ready_ms == 0 && state >= SCOREBOARD_ACCEPTING)
			s->ready_ms = now_ms;
		if (state != SCOREBOARD_RETIRING || s->fate != POOL_SERVING)
			continue;
		s->fate = POOL_RETIRING;
		log_info("worker %ld (slot %d) reached its "
		    "max_connections_per_worker (%llu): starting its successor",
		    (long)s->pid, i,
		    (unsigned long long)SCOREBOARD_LOAD(p->sb[i].conn_limit));
	}
}

/* Ask (again) with "sig"; the first reason given is the one kept. */
void
pool_stop(struct pool *p, unsigned idx, enum pool_stop_reason why, int sig)
{
	struct pool_slot	*s = &p->slots[idx];

	if (s->pid == 0)
		return;
	if (s->reason == POOL_STOP_NONE) {
		s->reason = why;
		if (s->fate == POOL_SERVING || s->fate == POOL_RETIRING)
			s->fate = POOL_STOPPING;
	}
	if (p->ops->kill(s->pid, sig, p->ops->arg) == -1 && errno != ESRCH)
		log_warn("kill worker %ld", (long)s->pid);
}

/* Which workers a pool_stop_*() asks. */
typedef bool	stop_match(const struct pool_slot *, unsigned generation);

static bool
any(const struct pool_slot *s, unsigned generation)
{
	(void)s;
	(void)generation;
	return true;
}

static bool
of_generation(const struct pool_slot *s, unsigned generation)
{
	return s->generation == generation;
}

static bool
unasked_other(const struct pool_slot *s, unsigned generation)
{
	return s->generation != generation && s->reason == POOL_STOP_NONE;
}

static bool
retiring(const struct pool_slot *s, unsigned generation)
{
	(void)generation;
	return s->fate == POOL_RETIRING;
}

static void
stop_where(struct pool *p, stop_match *match, unsigned generation,
    enum pool_stop_reason why, int sig)
{
	int	i;

	POOL_FOREACH(p, i)
		if (match(&p->slots[i], generation))
			pool_stop(p, i, why, sig);
}

void
pool_stop_all(struct pool *p, enum pool_stop_reason why, int sig)
{
	stop_where(p, any, 0, why, sig);
}

/* Every worker of "generation", the ones asked already too. */
void
pool_stop_generation(struct pool *p, unsigned generation,
    enum pool_stop_reason why)
{
	stop_where(p, of_generation, generation, why, SIGTERM);
}

/* The workers of other generations that nobody asked to stop yet. */
void
pool_stop_others(struct pool *p, unsigned generation,
    enum pool_stop_reason why)
{
	stop_where(p, unasked_other, generation, why, SIGTERM);
}

/* The retiring workers: their successors serve. */
void
pool_stop_retiring(struct pool *p)
{
	stop_where(p, retiring, 0, POOL_STOP_RECYCLE, SIGTERM);
}

static void
kill_slot(struct pool *p, unsigned idx, enum pool_fate fate, uint64_t now_ms)
{
	struct pool_slot	*s = &p->slots[idx];

	s->fate = fate;
	s->killed_ms = now_ms;
	(void)p->ops->kill(s->pid, SIGKILL, p->ops->arg);
}

void
pool_kill_hung(struct pool *p, unsigned idx, uint64_t now_ms)
{
	kill_slot(p, idx, POOL_KILLED_HUNG, now_ms);
}

/* Past the stop deadline: SIGKILL every worker not killed already. */
void
pool_kill_stragglers(struct pool *p, uint64_t now_ms)
{
	int	i;

	POOL_FOREACH(p, i) {
		if (p->slots[i].killed_ms != 0)
			continue;
		log_warnx("worker %ld (slot %d) still there after "
		    "shutdown_timeout: killed", (long)p->slots[i].pid, i);
		kill_slot(p, i, POOL_KILLED_AT_DEADLINE, now_ms);
	}
}

/* The first live slot after "after" (-1 to start), or -1. */
int
pool_next(const struct pool *p, int after)
{
	size_t	i;

	for (i = (size_t)(after + 1); i < p->nslots; i++)
		if (p->slots[i].pid != 0)
			return (int)i;
	return -1;
}

const struct pool_slot *
pool_slot(const struct pool *p, unsigned idx)
{
	return &p->slots[idx];
}

uint64_t
pool_heartbeat_ms(const struct pool *p, unsigned idx)
{
	return SCOREBOARD_LOAD(p->sb[idx].heartbeat_ms);
}

unsigned
pool_count_live(const struct pool *p)
{
	unsigned	n = 0;
	int		i;

	POOL_FOREACH(p, i)
		n++;
	return n;
}

static bool
serving(const struct pool_slot *s, unsigned generation)
{
	return s->pid != 0 && s->generation == generation &&
	    s->fate == POOL_SERVING;
}

unsigned
pool_count_serving(const struct pool *p, unsigned generation)
{
	unsigned	n = 0;
	int		i;

	POOL_FOREACH(p, i)
		if (serving(&p->slots[i], generation))
			n++;
	return n;
}

/* Serving and seen accepting: what a reload or READY=1 waits for. */
unsigned
pool_count_ready(const struct pool *p, unsigned generation)
{
	unsigned	n = 0;
	int		i;

	POOL_FOREACH(p, i)
		if (serving(&p->slots[i], generation) &&
		    p->slots[i].ready_ms != 0)
			n++;
	return n;
}

/* The serving worker started last (ties: the highest slot), or -1. */
int
pool_youngest_serving(const struct pool *p, unsigned generation)
{
	int	i, victim = -1;

	POOL_FOREACH(p, i)
		if (serving(&p->slots[i], generation) && (victim == -1 ||
		    p->slots[i].spawned_ms >= p->slots[victim].spawned_ms))
			victim = i;
	return victim;
}

/* The exited workers' counters plus the live ones'. */
void
pool_totals(const struct pool *p, unsigned generation, struct pool_totals *t)
{
	const struct scoreboard_slot	*sc;
	int				 i;

	*t = p->exited;
	t->workers = pool_count_serving(p, generation);
	t->open = 0;
	POOL_FOREACH(p, i) {
		sc = &p->sb[i];
		t->open += SCOREBOARD_LOAD(sc->conns_open);
		t->served += SCOREBOARD_LOAD(sc->conns_served);
		t->bytes_in += SCOREBOARD_LOAD(sc->bytes_in);
		t->bytes_out += SCOREBOARD_LOAD(sc->bytes_out);
		scoreboard_udp_add(&t->udp, &sc->udp);
		scoreboard_udp_add(&t->stamp, &sc->stamp);
		t->refused_acl += SCOREBOARD_LOAD(sc->refused_acl);
		t->refused_limit += SCOREBOARD_LOAD(sc->refused_limit);
		add_proxy(t->proxy, sc);
	}
}

/* The master asked it to stop: its exit is no failure. */
bool
pool_expected(const struct pool_slot *s)
{
	return s->reason != POOL_STOP_NONE;
}

/* How it came to leave, for "worker N (slot S) exited ... <this>". */
const char *
pool_fate_text(const struct pool_slot *s)
{
	switch (s->fate) {
	case POOL_KILLED_HUNG:
		return "as hung";
	case POOL_KILLED_AT_DEADLINE:
		return "after shutdown_timeout";
	default:
		return stop_reason_text[s->reason];
	}
}
