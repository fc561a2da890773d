/* SPDX-License-Identifier: ISC */
/*
 * master.c: the supervisor. It owns the listening sockets, the worker
 * table and the conversation with systemd: it forks workers, reaps and
 * respawns them (with backoff), kills hung ones, reloads without dropping
 * a connection, resizes the pool and drains on stop. It never accepts a
 * connection itself.
 */
#include "build-config.h"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "msgid.h"
#include "notify.h"
#include "priv.h"
#include "scoreboard.h"
#include "sig.h"
#include "supervise.h"
#include "worker.h"

#define TICK_MS			250	/* housekeeping: hung workers, status */
#define STATUS_EVERY_MS		5000
#define RELOAD_TIMEOUT_MS	30000	/* for the new generation to serve */
#define STOP_GRACE_MS		2000	/* past shutdown_timeout, then SIGKILL */
#define EXTEND_EVERY_MS		1000
#define EXTEND_MARGIN_MS	5000
#define DESCRIPTORS_SPARE	32	/* a worker's own: listeners, epoll, log */
#define FORK_RETRY_MS		1000
#define MASTER_CLOSE_FDS_MAX	64	/* the signal fd and old listeners */

enum phase {
	PHASE_RUNNING,
	PHASE_STOPPING,
};

/* Why the master asked a worker to stop (so its exit is expected). */
enum stop_reason {
	STOP_NONE,
	STOP_RELOAD,
	STOP_RECYCLE,
	STOP_SHRINK,
	STOP_SHUTDOWN,
	STOP_ABORT,
};

static const char *const stop_reason_names[] = {
	[STOP_NONE] = "unexpectedly",
	[STOP_RELOAD] = "after a reload",
	[STOP_RECYCLE] = "after recycling",
	[STOP_SHRINK] = "after the pool shrank",
	[STOP_SHUTDOWN] = "on shutdown",
	[STOP_ABORT] = "after a failed reload",
};

/* The master's own record of a worker; the scoreboard is only read. */
struct wslot {
	pid_t			pid;		/* 0: free */
	unsigned		generation;
	uint64_t		spawned_ms;
	uint64_t		ready_ms;	/* first seen serving */
	uint64_t		stop_ms;	/* asked to stop */
	uint64_t		killed_ms;	/* SIGKILLed: hung, or stop deadline */
	bool			hung;
	enum stop_reason	stop_reason;
	bool			retiring;	/* wants a successor */
};

/* Processes waiting for the outcome of a reload (sockechod --reload). */
#define WAITERS_MAX	1024
struct waiters {
	pid_t	*pid;
	size_t	 n;
};

struct totals {
	unsigned	workers;	/* serving, current generation */
	uint64_t	open;
	uint64_t	served;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
};

struct master {
	const struct master_options *opts;
	struct config		*cfg;		/* the one being served */
	struct listeners	 ls;
	bool			 activated;	/* sockets came from systemd */

	/* A reload in progress: what to go back to if it fails. */
	struct config		*prev_cfg;
	struct listeners	 prev_ls;
	unsigned		 prev_generation;
	unsigned		 prev_wanted;
	uint64_t		 reload_started_ms;
	bool			 reload_again;
	char			 reload_error[256];
	struct waiters		 reload_waiting; /* for the reload under way */
	struct waiters		 reload_queued;	/* for the next one */

	struct scoreboard_slot	*sb;
	struct wslot		*slots;
	unsigned		 generation;	/* current */
	unsigned		 last_generation; /* never reused */
	unsigned		 wanted;
	unsigned		 respawns_owed;
	struct backoff		 backoff;
	bool			 backoff_max_logged;
	uint64_t		 next_spawn_ms;

	int			 sigfd;
	int			 evfd;
	enum phase		 phase;
	bool			 stop_fast;
	uint64_t		 stop_deadline_ms;
	uint64_t		 next_extend_ms;
	uint64_t		 last_open;
	bool			 ready_sent;
	bool			 watchdog_ok;
	bool			 watchdog_held_logged;
	uint64_t		 watchdog_ms;
	uint64_t		 next_watchdog_ms;
	uint64_t		 next_status_ms;
	char			 status[1024];
	struct totals		 exited;	/* counters of reaped workers */
	uint64_t		 now_ms;
	int			 exit_status;
};

static void	maintain_pool(struct master *);
static void	reload_begin(struct master *);
static void	stop_begin(struct master *, bool fast);

/* The configuration file, then the command line's overrides. */
int
master_configure(const struct master_options *o, struct config *cfg,
    struct config_errors *errs)
{
	if (config_load(cfg, o->config_path, o->config_optional, errs) == -1)
		return -1;
	if (o->nlisten > 0 &&
	    config_set_listen(cfg, o->listen, o->nlisten, errs) == -1)
		return -1;
	if (o->workers >= 0)
		cfg->workers = o->workers;
	if (o->verbose)
		cfg->log_level = LOG_DEBUG;
	return 0;
}

/*
 * Workers use epoll, not select(): the soft descriptor limit can be the
 * hard one. Say so when max_connections cannot fit even then.
 */
static void
check_descriptors(const struct config *cfg)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)cfg->max_connections + DESCRIPTORS_SPARE > rl.rlim_cur)
		log_warnx("max_connections is %u but a worker may open only "
		    "%llu descriptors (RLIMIT_NOFILE): beyond that it pauses "
		    "accepting", cfg->max_connections,
		    (unsigned long long)rl.rlim_cur);
}

static bool
serving(const struct master *m, const struct wslot *s)
{
	return s->pid != 0 && s->generation == m->generation &&
	    s->stop_ms == 0 && s->killed_ms == 0 && !s->retiring;
}

static unsigned
count_serving(const struct master *m, bool ready_only)
{
	unsigned	i, n = 0;

	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (serving(m, &m->slots[i]) &&
		    (!ready_only || m->slots[i].ready_ms != 0))
			n++;
	return n;
}

static unsigned
count_live(const struct master *m)
{
	unsigned	i, n = 0;

	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid != 0)
			n++;
	return n;
}

static void
worker_fields(struct log_fields *f, const struct wslot *s, unsigned idx)
{
	log_field(f, "WORKER_PID", "%ld", (long)s->pid);
	log_field(f, "WORKER_SLOT", "%u", idx);
	log_field(f, "WORKER_GENERATION", "%u", s->generation);
}

static void
totals(const struct master *m, struct totals *t)
{
	const struct scoreboard_slot	*sc;
	unsigned		 i;

	*t = m->exited;
	t->workers = count_serving(m, false);
	t->open = 0;
	for (i = 0; i < SCOREBOARD_SLOTS; i++) {
		if (m->slots[i].pid == 0)
			continue;
		sc = &m->sb[i];
		t->open += SCOREBOARD_LOAD(sc->conns_open);
		t->served += SCOREBOARD_LOAD(sc->conns_served);
		t->bytes_in += SCOREBOARD_LOAD(sc->bytes_in);
		t->bytes_out += SCOREBOARD_LOAD(sc->bytes_out);
	}
}

static void
describe(struct master *m, char *buf, size_t size)
{
	struct totals	t;
	char		addrs[LISTEN_DESCRIBE_BYTES];
	int		n;

	totals(m, &t);
	listen_describe(&m->ls, addrs, sizeof(addrs));
	if (m->phase == PHASE_STOPPING)
		n = snprintf(buf, size, "Stopping: %u workers left, %llu "
		    "connections draining", count_live(m),
		    (unsigned long long)t.open);
	else
		n = snprintf(buf, size, "%u workers, %llu connections open, "
		    "%llu served; %s mode on %s", t.workers,
		    (unsigned long long)t.open, (unsigned long long)t.served,
		    echo_mode_name(m->cfg->mode), addrs);
	if (n > 0 && (size_t)n < size && m->reload_error[0] != '\0')
		snprintf(buf + n, size - n, "; last reload failed: %s",
		    m->reload_error);
}

static void
status_update(struct master *m, bool force)
{
	char	buf[sizeof(m->status)];

	if (!force && m->now_ms < m->next_status_ms)
		return;
	m->next_status_ms = m->now_ms + STATUS_EVERY_MS;
	describe(m, buf, sizeof(buf));
	if (!force && strcmp(buf, m->status) == 0)
		return;
	memcpy(m->status, buf, sizeof(buf));
	notify_status("%s", m->status);
}

static int
free_slot(const struct master *m)
{
	unsigned	i;

	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid == 0)
			return (int)i;
	return -1;
}

/* The master's descriptors a worker must close: signals, other sockets. */
static size_t
fds_to_close(const struct master *m, int *fds, size_t max)
{
	size_t	n = 0, i;

	fds[n++] = m->sigfd;
	for (i = 0; i < m->prev_ls.n && n < max; i++)
		if (!listen_has_fd(&m->ls, m->prev_ls.v[i].fd))
			fds[n++] = m->prev_ls.v[i].fd;
	return n;
}

static int
spawn(struct master *m)
{
	struct worker_params	 p;
	struct wslot		*s;
	int			 idx, close_fds[MASTER_CLOSE_FDS_MAX];
	pid_t			 pid;

	if ((idx = free_slot(m)) == -1) {
		log_warnx("no free worker slot (%d in use)", SCOREBOARD_SLOTS);
		return -1;
	}
	scoreboard_reset(&m->sb[idx], m->generation,
	    supervise_recycle_limit(m->cfg->max_connections_per_worker,
	    m->cfg->recycle_jitter, (uint64_t)random()), m->now_ms);
	memset(&p, 0, sizeof(p));
	p.cfg = m->cfg;
	p.ls = &m->ls;
	p.slot = &m->sb[idx];
	p.slot_index = idx;
	p.master_pid = getpid();
	p.master_fd = m->evfd;
	p.close_fds = close_fds;
	p.nclose = fds_to_close(m, close_fds, nitems(close_fds));
	if ((pid = fork()) == -1) {
		log_error("cannot start a worker: fork");
		m->sb[idx].state = SCOREBOARD_FREE;
		m->next_spawn_ms = m->now_ms + FORK_RETRY_MS;
		return -1;
	}
	if (pid == 0)
		_exit(worker_main(&p));
	s = &m->slots[idx];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->generation = m->generation;
	s->spawned_ms = m->now_ms;
	log_debug("worker %ld started (slot %d, generation %u)", (long)pid, idx,
	    m->generation);
	return idx;
}

static void
log_respawn(struct master *m, int idx)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	worker_fields(&f, &m->slots[idx], idx);
	log_event(m->backoff.streak > 1 ? LOG_DEBUG : LOG_NOTICE,
	    MSGID_WORKER_RESPAWNED, &f, "worker %ld (slot %d) started to "
	    "replace a lost worker", (long)m->slots[idx].pid, idx);
}

/* Keep "wanted" workers of the current generation serving. */
static void
maintain_pool(struct master *m)
{
	unsigned	n;
	int		idx;

	if (m->phase != PHASE_RUNNING || m->now_ms < m->next_spawn_ms)
		return;
	for (n = count_serving(m, false); n < m->wanted; n++) {
		if ((idx = spawn(m)) == -1)
			break;
		if (m->respawns_owed > 0) {
			m->respawns_owed--;
			log_respawn(m, idx);
		}
	}
	m->respawns_owed = 0;
}

static void
ask_stop(struct master *m, unsigned idx, enum stop_reason why, int sig)
{
	struct wslot	*s = &m->slots[idx];

	if (s->pid == 0)
		return;
	if (s->stop_ms == 0) {
		s->stop_ms = m->now_ms;
		s->stop_reason = why;
	}
	if (kill(s->pid, sig) == -1 && errno != ESRCH)
		log_warn("kill worker %ld", (long)s->pid);
}

/* Workers show on the scoreboard when they serve and when they want to retire. */
static void
scan_slots(struct master *m)
{
	struct wslot	*s;
	uint32_t	 state;
	unsigned	 i;

	for (i = 0; i < SCOREBOARD_SLOTS; i++) {
		s = &m->slots[i];
		if (s->pid == 0)
			continue;
		state = SCOREBOARD_LOAD(m->sb[i].state);
		if (s->ready_ms == 0 && state >= SCOREBOARD_ACCEPTING)
			s->ready_ms = m->now_ms;
		if (state == SCOREBOARD_RETIRING && !s->retiring && s->stop_ms == 0) {
			s->retiring = true;
			log_info("worker %ld (slot %u) reached its "
			    "max_connections_per_worker (%llu): starting its "
			    "successor", (long)s->pid, i,
			    (unsigned long long)SCOREBOARD_LOAD(m->sb[i].conn_limit));
		}
	}
}

/* A retiring worker stops accepting only once its successor serves. */
static void
retire_progress(struct master *m)
{
	unsigned	i;

	if (m->phase != PHASE_RUNNING || m->prev_cfg != NULL ||
	    count_serving(m, true) < m->wanted)
		return;
	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid != 0 && m->slots[i].retiring &&
		    m->slots[i].stop_ms == 0)
			ask_stop(m, i, STOP_RECYCLE, SIGTERM);
}

static void
check_health(struct master *m)
{
	struct log_fields	 f;
	struct wslot		*s;
	uint64_t		 hb;
	unsigned		 i;
	bool			 ok = true;

	for (i = 0; i < SCOREBOARD_SLOTS; i++) {
		s = &m->slots[i];
		if (s->pid == 0)
			continue;
		hb = SCOREBOARD_LOAD(m->sb[i].heartbeat_ms);
		switch (supervise_health(m->now_ms, hb, s->killed_ms,
		    m->cfg->worker_timeout_ms)) {
		case HEALTH_HUNG:
			s->killed_ms = m->now_ms;
			s->hung = true;
			(void)kill(s->pid, SIGKILL);
			memset(&f, 0, sizeof(f));
			worker_fields(&f, s, i);
			log_event(LOG_WARNING, MSGID_WORKER_HUNG, &f, "worker %ld "
			    "(slot %u) shows no sign of life for %.1f s "
			    "(worker_timeout %.1f s): killed", (long)s->pid, i,
			    (m->now_ms - hb) / 1000.0,
			    m->cfg->worker_timeout_ms / 1000.0);
			if (s->stop_ms == 0)
				m->respawns_owed++;
			break;
		case HEALTH_STUCK:
			ok = false;
			break;
		case HEALTH_OK:
			/* Without worker_timeout, nobody recovers a silent worker. */
			if (m->cfg->worker_timeout_ms == 0 && m->watchdog_ms &&
			    m->now_ms - hb > m->watchdog_ms)
				ok = false;
			break;
		case HEALTH_RECOVERING:
			break;
		}
	}
	m->watchdog_ok = ok;
}

static void
watchdog(struct master *m)
{
	if (m->watchdog_ms == 0 || m->now_ms < m->next_watchdog_ms)
		return;
	if (!m->watchdog_ok) {
		if (!m->watchdog_held_logged)
			log_errorx("a worker is stuck and cannot be recovered: "
			    "no longer feeding the systemd watchdog");
		m->watchdog_held_logged = true;
		return;
	}
	m->watchdog_held_logged = false;
	notify_watchdog();
	m->next_watchdog_ms = m->now_ms + m->watchdog_ms / 2;
}

static void
log_exit(struct master *m, unsigned idx, int wstatus, bool early)
{
	struct log_fields	 f = LOG_FIELDS_INIT;
	struct wslot		*s = &m->slots[idx];
	char			 how[128];
	int			 pri;

	worker_fields(&f, s, idx);
	if (WIFEXITED(wstatus))
		log_field(&f, "EXIT_STATUS", "%d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		log_field(&f, "SIGNAL", "SIG%s", sigabbrev_np(WTERMSIG(wstatus)) ?
		    sigabbrev_np(WTERMSIG(wstatus)) : "?");
	supervise_describe_exit(wstatus, how, sizeof(how));
	if (s->killed_ms != 0 && WIFSIGNALED(wstatus) &&
	    WTERMSIG(wstatus) == SIGKILL)
		snprintf(how, sizeof(how), "was killed (SIGKILL)");
	if (s->stop_ms != 0 && !s->hung)
		pri = LOG_INFO;
	else if (early && m->backoff.streak > 1)
		pri = LOG_DEBUG;	/* the streak was announced already */
	else
		pri = LOG_WARNING;
	log_event(pri, MSGID_WORKER_EXITED, &f, "worker %ld (slot %u) %s %s, "
	    "after %.1f s", (long)s->pid, idx, how,
	    s->hung ? "as hung" : s->killed_ms ? "after shutdown_timeout" :
	    stop_reason_names[s->stop_reason],
	    (m->now_ms - s->spawned_ms) / 1000.0);
}

static void
log_backoff(struct master *m, uint64_t delay_ms)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "RESPAWN_DELAY_MS", "%llu", (unsigned long long)delay_ms);
	log_field(&f, "FAILURES", "%u", m->backoff.streak);
	if (m->backoff.streak == 1)
		log_event(LOG_WARNING, MSGID_CRASH_LOOP, &f, "a worker died "
		    "at start-up or soon after: respawning with a delay that "
		    "grows from %d ms to %d s while this goes on",
		    SUPERVISE_BACKOFF_MIN_MS, SUPERVISE_BACKOFF_MAX_MS / 1000);
	else if (delay_ms >= SUPERVISE_BACKOFF_MAX_MS &&
	    !m->backoff_max_logged) {
		m->backoff_max_logged = true;
		log_event(LOG_ERR, MSGID_CRASH_LOOP, &f, "workers keep dying "
		    "(%u failures in a row): retrying every %d s",
		    m->backoff.streak, SUPERVISE_BACKOFF_MAX_MS / 1000);
	}
}

static void reload_abort(struct master *, const char *why);

static void
account_exit(struct master *m, unsigned idx)
{
	const struct scoreboard_slot	*sc = &m->sb[idx];

	m->exited.served += SCOREBOARD_LOAD(sc->conns_served);
	m->exited.bytes_in += SCOREBOARD_LOAD(sc->bytes_in);
	m->exited.bytes_out += SCOREBOARD_LOAD(sc->bytes_out);
	memset(&m->slots[idx], 0, sizeof(m->slots[idx]));
	SCOREBOARD_STORE(m->sb[idx].state, (uint32_t)SCOREBOARD_FREE);
}

static void
worker_died(struct master *m, unsigned idx, int wstatus)
{
	struct wslot		*s = &m->slots[idx];
	struct worker_exit	 e;
	enum supervise_verdict	 v;
	uint64_t		 delay;
	char			 why[192], how[128];
	bool			 hung;

	hung = s->hung;
	e.wstatus = wstatus;
	e.ready = s->ready_ms != 0 ||
	    SCOREBOARD_LOAD(m->sb[idx].state) >= SCOREBOARD_ACCEPTING;
	e.expected = s->stop_ms != 0;
	e.lifetime_ms = m->now_ms - s->spawned_ms;
	e.now_ms = m->now_ms;
	v = supervise_exit(&m->backoff, &e, &delay);
	log_exit(m, idx, wstatus, supervise_early_death(&e));
	if (m->prev_cfg != NULL && s->generation == m->generation &&
	    !e.expected) {
		supervise_describe_exit(wstatus, how, sizeof(how));
		snprintf(why, sizeof(why), "a worker of the new configuration "
		    "%s", how);
		account_exit(m, idx);
		reload_abort(m, why);
		return;
	}
	account_exit(m, idx);
	switch (v) {
	case SUPERVISE_FATAL:
		if (m->exit_status != 0)
			break;	/* said already, stopping */
		log_errorx("a worker cannot work with this configuration "
		    "(exit status %d): stopping", WORKER_EXIT_FATAL);
		notify_failure(EPERM, "A worker cannot work: see the journal");
		m->exit_status = EX_OSERR;
		stop_begin(m, false);
		break;
	case SUPERVISE_REPLACE:
		if (m->phase != PHASE_RUNNING)
			break;
		if (!hung)	/* a hung one was owed when it was killed */
			m->respawns_owed++;
		if (delay > 0) {
			log_backoff(m, delay);
			m->next_spawn_ms = m->now_ms + delay;
		}
		break;
	case SUPERVISE_DONE:
		break;
	}
}

/* SIGCHLD coalesces: reap every child that has exited. */
static void
reap(struct master *m)
{
	unsigned	i;
	pid_t		pid;
	int		wstatus;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (i = 0; i < SCOREBOARD_SLOTS; i++)
			if (m->slots[i].pid == pid)
				break;
		if (i == SCOREBOARD_SLOTS) {
			log_debug("reaped unknown child %ld", (long)pid);
			continue;
		}
		worker_died(m, i, wstatus);
	}
}

static void
ready_event(struct master *m, const char *msgid, const char *what)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			addrs[LISTEN_DESCRIBE_BYTES];

	listen_describe(&m->ls, addrs, sizeof(addrs));
	log_field(&f, "WORKERS", "%u", m->wanted);
	log_field(&f, "GENERATION", "%u", m->generation);
	log_field(&f, "LISTEN", "%s", addrs);
	log_event(LOG_INFO, msgid, &f, "%s: %u workers, %s mode, on %s", what,
	    m->wanted, echo_mode_name(m->cfg->mode), addrs);
	describe(m, m->status, sizeof(m->status));
	notify_ready(m->status);
}

static void
apply_log_level(const struct master *m)
{
	log_setlevel(m->cfg->log_level);
}

static void
waiters_add(struct waiters *w, pid_t pid)
{
	pid_t	*v;

	if (w->n >= WAITERS_MAX ||
	    (v = reallocarray(w->pid, w->n + 1, sizeof(*v))) == NULL) {
		log_warnx("too many processes wait for a reload: process %ld "
		    "gets no answer", (long)pid);
		return;
	}
	w->pid = v;
	w->pid[w->n++] = pid;
}

static void
waiters_answer(struct waiters *w, bool ok)
{
	union sigval	v = { .sival_int = MASTER_RELOAD_COOKIE };
	size_t		i;

	for (i = 0; i < w->n; i++)
		if (sigqueue(w->pid[i], ok ? MASTER_RELOAD_OK :
		    MASTER_RELOAD_FAILED, v) == -1 && errno != ESRCH)
			log_warn("cannot answer reload request of process %ld",
			    (long)w->pid[i]);
	w->n = 0;
}

static void
reload_failed(struct master *m, const char *why)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	snprintf(m->reload_error, sizeof(m->reload_error), "%s", why);
	log_field(&f, "RELOAD_ERROR", "%s", why);
	log_event(LOG_ERR, MSGID_RELOAD_FAILED, &f, "reload failed, still "
	    "serving the previous configuration: %s", why);
	describe(m, m->status, sizeof(m->status));
	notify_ready(m->status);
	waiters_answer(&m->reload_waiting, false);
}

static char *
join_errors(const struct config_errors *errs)
{
	char	*s = NULL, *t;
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		if (asprintf(&t, "%s%s%s", s ? s : "", s ? "; " : "",
		    errs->v[i]) == -1)
			break;
		free(s);
		s = t;
	}
	return s;
}

static int
copy_listeners(struct listeners *dst, const struct listeners *src)
{
	dst->n = 0;
	if ((dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v))) == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

/*
 * SIGHUP: load the configuration again and start a new generation of
 * workers with it. The old generation keeps serving until the new one
 * does (reload_progress); if anything fails, nothing changes.
 */
static void
reload_begin(struct master *m)
{
	struct config_errors	 errs = { NULL, 0 };
	struct config		*cfg;
	struct listeners	 ls;
	char			 err[LISTEN_ERROR_BYTES], *msg;

	if (m->phase != PHASE_RUNNING) {
		waiters_answer(&m->reload_queued, false);
		return;
	}
	if (m->prev_cfg != NULL) {
		m->reload_again = true;
		return;
	}
	free(m->reload_waiting.pid);
	m->reload_waiting = m->reload_queued;
	memset(&m->reload_queued, 0, sizeof(m->reload_queued));
	notify_reloading();
	log_info("reloading the configuration%s%s",
	    m->opts->config_path ? " from " : "",
	    m->opts->config_path ? m->opts->config_path : "");
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		reload_failed(m, strerror(errno));
		return;
	}
	if (master_configure(m->opts, cfg, &errs) == -1) {
		msg = join_errors(&errs);
		reload_failed(m, msg ? msg : "invalid configuration");
		free(msg);
		goto fail;
	}
	if (m->activated ? copy_listeners(&ls, &m->ls) :
	    listen_build(&ls, &m->ls, cfg->listen, cfg->nlisten, cfg->backlog,
	    err, sizeof(err))) {
		reload_failed(m, m->activated ? strerror(errno) : err);
		goto fail;
	}
	config_errors_free(&errs);
	m->prev_cfg = m->cfg;
	m->prev_ls = m->ls;
	m->prev_generation = m->generation;
	m->prev_wanted = m->wanted;
	m->cfg = cfg;
	m->ls = ls;
	m->generation = ++m->last_generation;
	m->wanted = config_workers(cfg);
	check_descriptors(cfg);
	m->reload_started_ms = m->now_ms;
	m->next_spawn_ms = 0;
	apply_log_level(m);
	maintain_pool(m);
	return;

fail:
	config_errors_free(&errs);
	config_discard(cfg);
}

static void
reload_end(struct master *m)
{
	bool	again = m->reload_again;

	m->reload_again = false;
	if (again)
		reload_begin(m);
}

/* The new generation serves: retire the old one and its sockets. */
static void
reload_commit(struct master *m)
{
	unsigned	i;

	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid != 0 &&
		    m->slots[i].generation != m->generation &&
		    m->slots[i].stop_ms == 0)
			ask_stop(m, i, STOP_RELOAD, SIGTERM);
	listen_close_unused(&m->prev_ls, &m->ls);
	config_discard(m->prev_cfg);
	m->prev_cfg = NULL;
	m->reload_error[0] = '\0';
	ready_event(m, MSGID_RELOADED, "configuration reloaded");
	waiters_answer(&m->reload_waiting, true);
	reload_end(m);
}

static void
reload_abort(struct master *m, const char *why)
{
	unsigned	i;

	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid != 0 &&
		    m->slots[i].generation == m->generation)
			ask_stop(m, i, STOP_ABORT, SIGTERM);
	listen_close_unused(&m->ls, &m->prev_ls);
	m->ls = m->prev_ls;
	memset(&m->prev_ls, 0, sizeof(m->prev_ls));
	config_discard(m->cfg);
	m->cfg = m->prev_cfg;
	m->prev_cfg = NULL;
	m->generation = m->prev_generation;
	m->wanted = m->prev_wanted;
	apply_log_level(m);
	reload_failed(m, why);
	reload_end(m);
}

static void
reload_progress(struct master *m)
{
	if (m->prev_cfg == NULL || m->phase != PHASE_RUNNING)
		return;
	if (count_serving(m, true) >= m->wanted)
		reload_commit(m);
	else if (m->now_ms - m->reload_started_ms > RELOAD_TIMEOUT_MS)
		reload_abort(m, "the new workers did not start serving in time");
}

static void
resize(struct master *m, int delta)
{
	unsigned	i, victim = SCOREBOARD_SLOTS;

	if (m->phase != PHASE_RUNNING)
		return;
	if (delta > 0 && m->wanted < CONFIG_WORKERS_MAX)
		m->wanted++;
	else if (delta < 0 && m->wanted > 1) {
		m->wanted--;
		/* Retire the youngest: it has the fewest connections to finish. */
		for (i = 0; i < SCOREBOARD_SLOTS; i++)
			if (serving(m, &m->slots[i]) &&
			    (victim == SCOREBOARD_SLOTS ||
			    m->slots[i].spawned_ms >=
			    m->slots[victim].spawned_ms))
				victim = i;
		if (victim != SCOREBOARD_SLOTS &&
		    count_serving(m, false) > m->wanted)
			ask_stop(m, victim, STOP_SHRINK, SIGTERM);
	}
	log_info("%s: %u workers wanted", delta > 0 ? "SIGTTIN" : "SIGTTOU",
	    m->wanted);
	maintain_pool(m);
}

static void
report(struct master *m)
{
	const struct scoreboard_slot	*sc;
	const struct wslot	*s;
	static const char *const states[SCOREBOARD_NSTATES] = {
		[SCOREBOARD_FREE] = "free",
		[SCOREBOARD_STARTING] = "starting",
		[SCOREBOARD_ACCEPTING] = "accepting",
		[SCOREBOARD_RETIRING] = "retiring",
		[SCOREBOARD_DRAINING] = "draining",
	};
	struct totals		 t;
	uint32_t		 st;
	unsigned		 i;

	totals(m, &t);
	log_report("status: generation %u, %u workers wanted, %u processes, "
	    "%llu connections open, %llu served, %llu bytes in, %llu out",
	    m->generation, m->wanted, count_live(m),
	    (unsigned long long)t.open, (unsigned long long)t.served,
	    (unsigned long long)t.bytes_in, (unsigned long long)t.bytes_out);
	log_report("status: %4s %7s %4s %-9s %8s %6s %9s %12s %12s %9s", "slot",
	    "pid", "gen", "state", "age", "open", "served", "bytes_in",
	    "bytes_out", "heartbeat");
	for (i = 0; i < SCOREBOARD_SLOTS; i++) {
		s = &m->slots[i];
		if (s->pid == 0)
			continue;
		sc = &m->sb[i];
		st = SCOREBOARD_LOAD(sc->state);
		log_report("status: %4u %7ld %4u %-9s %7.1fs %6llu %9llu %12llu "
		    "%12llu %7.1fs", i, (long)s->pid, s->generation,
		    st < nitems(states) ? states[st] : "?",
		    (m->now_ms - s->spawned_ms) / 1000.0,
		    (unsigned long long)SCOREBOARD_LOAD(sc->conns_open),
		    (unsigned long long)SCOREBOARD_LOAD(sc->conns_served),
		    (unsigned long long)SCOREBOARD_LOAD(sc->bytes_in),
		    (unsigned long long)SCOREBOARD_LOAD(sc->bytes_out),
		    (m->now_ms - SCOREBOARD_LOAD(sc->heartbeat_ms)) / 1000.0);
	}
}

/*
 * SIGTERM/SIGINT: stop accepting and drain, within shutdown_timeout.
 * A second one, or SIGQUIT, closes everything at once.
 */
static void
stop_begin(struct master *m, bool fast)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	struct totals		t;
	unsigned		i;

	if (m->phase == PHASE_STOPPING && (!fast || m->stop_fast))
		return;
	if (m->phase != PHASE_STOPPING) {
		m->phase = PHASE_STOPPING;
		waiters_answer(&m->reload_waiting, false);
		waiters_answer(&m->reload_queued, false);
		m->stop_deadline_ms = m->now_ms + m->cfg->shutdown_timeout_ms +
		    STOP_GRACE_MS;
		if (m->prev_cfg != NULL)
			listen_close_unused(&m->prev_ls, &m->ls);
		listen_close_all(&m->ls);
		totals(m, &t);
		m->last_open = t.open;
		log_field(&f, "OPEN_CONNECTIONS", "%llu",
		    (unsigned long long)t.open);
		log_event(LOG_INFO, MSGID_STOPPING, &f, "stopping: %s %llu "
		    "open connections (shutdown_timeout %.1f s)", fast ?
		    "closing" : "draining", (unsigned long long)t.open,
		    m->cfg->shutdown_timeout_ms / 1000.0);
		describe(m, m->status, sizeof(m->status));
		notify_stopping(m->status);
	} else
		log_notice("stopping at once: closing every connection");
	m->stop_fast = fast;
	for (i = 0; i < SCOREBOARD_SLOTS; i++)
		if (m->slots[i].pid != 0)
			ask_stop(m, i, STOP_SHUTDOWN, fast ? SIGINT : SIGTERM);
}

/* While the drain makes progress, ask systemd for more time. */
static void
stop_progress(struct master *m)
{
	struct totals	t;
	unsigned	i;

	if (m->phase != PHASE_STOPPING)
		return;
	if (m->now_ms >= m->stop_deadline_ms)
		for (i = 0; i < SCOREBOARD_SLOTS; i++)
			if (m->slots[i].pid != 0 && m->slots[i].killed_ms == 0) {
				log_warnx("worker %ld (slot %u) still there "
				    "after shutdown_timeout: killed",
				    (long)m->slots[i].pid, i);
				m->slots[i].killed_ms = m->now_ms;
				(void)kill(m->slots[i].pid, SIGKILL);
			}
	if (m->now_ms < m->next_extend_ms)
		return;
	m->next_extend_ms = m->now_ms + EXTEND_EVERY_MS;
	totals(m, &t);
	if (t.open > 0 && t.open < m->last_open &&
	    m->stop_deadline_ms > m->now_ms)
		notify_extend_timeout((m->stop_deadline_ms - m->now_ms +
		    EXTEND_MARGIN_MS) * 1000);
	m->last_open = t.open;
}

static void
handle_signals(struct master *m)
{
	struct signalfd_siginfo	si;

	while (sig_read(m->sigfd, &si) == 1)
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(m);
			break;
		case SIGHUP:
			if (si.ssi_code == SI_QUEUE &&
			    si.ssi_int == MASTER_RELOAD_COOKIE)
				waiters_add(&m->reload_queued,
				    (pid_t)si.ssi_pid);
			reload_begin(m);
			break;
		case SIGTERM:
		case SIGINT:
			stop_begin(m, m->phase == PHASE_STOPPING);
			break;
		case SIGQUIT:
			stop_begin(m, true);
			break;
		case SIGTTIN:
			resize(m, 1);
			break;
		case SIGTTOU:
			resize(m, -1);
			break;
		case SIGUSR1:
			report(m);
			break;
		case SIGUSR2:
			/*
			 * Blocked only so that it cannot kill the master:
			 * it is the answer sockechod --reload waits for,
			 * never a request (sockechod(8)).
			 */
			break;
		}
}

static void
pool_progress(struct master *m)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	bool			complete;

	complete = count_serving(m, true) >= m->wanted;
	if (!m->ready_sent && complete && m->phase == PHASE_RUNNING) {
		m->ready_sent = true;
		ready_event(m, MSGID_READY, "ready");
	}
	if (supervise_recovered(&m->backoff, m->now_ms, complete)) {
		m->backoff_max_logged = false;
		log_field(&f, "WORKERS", "%u", m->wanted);
		log_event(LOG_NOTICE, MSGID_CRASH_LOOP, &f, "workers are "
		    "healthy again");
	}
}

static void
tick(struct master *m)
{
	scan_slots(m);
	check_health(m);
	reload_progress(m);
	retire_progress(m);
	maintain_pool(m);
	pool_progress(m);
	stop_progress(m);
	watchdog(m);
	if (m->ready_sent || m->phase == PHASE_STOPPING)
		status_update(m, false);
}

static int
next_timeout(const struct master *m)
{
	uint64_t	deadline = m->now_ms + TICK_MS;

	if (m->watchdog_ms && m->next_watchdog_ms < deadline)
		deadline = m->next_watchdog_ms;
	if (m->next_spawn_ms > m->now_ms && m->next_spawn_ms < deadline)
		deadline = m->next_spawn_ms;
	return deadline > m->now_ms ? (int)(deadline - m->now_ms) : 0;
}

static void
started_event(struct master *m)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			addrs[LISTEN_DESCRIBE_BYTES];

	listen_describe(&m->ls, addrs, sizeof(addrs));
	log_field(&f, "LISTEN", "%s", addrs);
	log_field(&f, "CONFIG_FILE", "%s", m->cfg->path ? m->cfg->path :
	    "(built-in defaults)");
	log_event(LOG_INFO, MSGID_STARTED, &f, "%s %s starting: %u workers, "
	    "%s mode, on %s%s", PACKAGE, PACKAGE_VERSION, m->wanted,
	    echo_mode_name(m->cfg->mode), addrs,
	    m->activated ? " (sockets from systemd)" : "");
}

static int
start_failed(struct master *m, int errnum, const char *what)
{
	char	status[640];

	log_errorx("%s", what);
	snprintf(status, sizeof(status), "Failed to start: %s", what);
	notify_failure(errnum, status);
	m->exit_status = EX_OSERR;
	return -1;
}

static int
open_listeners(struct master *m)
{
	char	err[LISTEN_ERROR_BYTES], addrs[LISTEN_DESCRIBE_BYTES];
	int	n;

	if ((n = listen_adopt(&m->ls, err, sizeof(err))) == -1)
		return start_failed(m, errno, err);
	if (n > 0) {
		m->activated = true;
		listen_describe(&m->ls, addrs, sizeof(addrs));
		log_notice("socket activation: serving the %d sockets systemd "
		    "passed (%s); the configured listen addresses are not used",
		    n, addrs);
		/*
		 * Nothing left to bind: no capability is needed any more,
		 * unless the workers have to switch to another user.
		 */
		if (m->cfg->user == NULL && priv_drop_capabilities() == -1)
			log_warn("cannot drop capabilities");
		return 0;
	}
	if (listen_build(&m->ls, NULL, m->cfg->listen, m->cfg->nlisten,
	    m->cfg->backlog, err, sizeof(err)) == -1)
		return start_failed(m, errno, err);
	return 0;
}

static int
master_init(struct master *m, const struct master_options *o,
    struct config *cfg)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT,
	    SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2 };

	m->opts = o;
	m->cfg = cfg;
	m->sigfd = m->evfd = -1;
	m->now_ms = sig_monotonic_ms();
	srandom(getpid() ^ (unsigned)m->now_ms);
	signal(SIGPIPE, SIG_IGN);
	if ((m->sigfd = sig_open(sigs, nitems(sigs))) == -1 ||
	    (m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (m->sb = scoreboard_create(SCOREBOARD_SLOTS)) == NULL ||
	    (m->slots = calloc(SCOREBOARD_SLOTS, sizeof(*m->slots))) == NULL)
		return start_failed(m, errno, strerror(errno));
	if (open_listeners(m) == -1)
		return -1;
	check_descriptors(cfg);
	m->wanted = config_workers(cfg);
	m->generation = m->last_generation = 1;
	m->watchdog_ms = notify_watchdog_usec() / 1000;
	m->watchdog_ok = true;
	apply_log_level(m);
	started_event(m);
	maintain_pool(m);
	return 0;
}

static void
master_cleanup(struct master *m, bool started)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	struct totals		t;

	if (m->prev_cfg != NULL) {
		listen_close_unused(&m->prev_ls, &m->ls);
		config_discard(m->prev_cfg);
	}
	listen_close_all(&m->ls);
	if (started) {
		totals(m, &t);
		log_field(&f, "CONNECTIONS_SERVED", "%llu",
		    (unsigned long long)t.served);
		log_field(&f, "EXIT_STATUS", "%d", m->exit_status);
		log_event(LOG_INFO, MSGID_STOPPED, &f, "stopped after serving "
		    "%llu connections", (unsigned long long)t.served);
	}
	scoreboard_destroy(m->sb, SCOREBOARD_SLOTS);
	free(m->slots);
	free(m->reload_waiting.pid);
	free(m->reload_queued.pid);
	if (m->sigfd != -1)
		close(m->sigfd);
	if (m->evfd != -1)
		close(m->evfd);
	config_discard(m->cfg);
}

/* Supervise until stopped; returns the process exit status. */
int
master_run(const struct master_options *o, struct config *cfg)
{
	struct master	*m;
	struct pollfd	 pfd[2];
	uint64_t	 count;
	int		 status;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_error("cannot start");
		return EX_OSERR;
	}
	if (master_init(m, o, cfg) == 0) {
		while (m->phase != PHASE_STOPPING || count_live(m) > 0) {
			pfd[0] = (struct pollfd){ m->sigfd, POLLIN, 0 };
			pfd[1] = (struct pollfd){ m->evfd, POLLIN, 0 };
			if (poll(pfd, 2, next_timeout(m)) == -1 &&
			    errno != EINTR) {
				log_error("poll");
				stop_begin(m, true);
			}
			m->now_ms = sig_monotonic_ms();
			if (pfd[1].revents & POLLIN)
				(void)!read(m->evfd, &count, sizeof(count));
			if (pfd[0].revents & POLLIN)
				handle_signals(m);
			tick(m);
		}
		master_cleanup(m, true);
	} else
		master_cleanup(m, false);
	status = m->exit_status;
	free(m);
	return status;
}
