/* SPDX-License-Identifier: ISC */
/*
 * master.c: the supervisor's loop. It reads signals, decides what each
 * worker death means, drives reloads, resizes and stops, and keeps the
 * status line. The worker table is pool.c's, the reload transaction
 * reload.c's, signs of life health.c's and the words status.c's. It
 * never accepts a connection itself.
 */
#include "build-config.h"

#include <sys/eventfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/log.h"
#include "master/master.h"
#include "core/msgid.h"
#include "core/notify.h"
#include "core/pidfile.h"
#include "master/status.h"
#include "shm/scoreboard.h"
#include "core/sig.h"
#include "master/master_int.h"
#include "worker/worker.h"

static void
master_describe(const struct master *m, char *buf, size_t size)
{
	struct status_view	v = { &m->pool, &m->gen, m->reload.error,
	    m->phase == PHASE_STOPPING };

	status_describe(&v, buf, size);
}

/* stop.c drains; the master says that it stops (its status, STOPPING=1). */
static void
begin_stop(struct master *m, bool fast)
{
	if (!stop_begin(m, fast))
		return;
	master_describe(m, m->status, sizeof(m->status));
	notify_stopping(m->status);
}

static void
apply_log_level(const struct master *m)
{
	log_setlevel(m->gen.cfg->log_level);
	log_setformat(m->gen.cfg->log_format);
	log_settimestamps(m->gen.cfg->log_timestamps);
}

static void
status_update(struct master *m, bool force)
{
	char	buf[sizeof(m->status)];

	if (!force && m->now_ms < m->next_status_ms)
		return;
	m->next_status_ms = m->now_ms + STATUS_EVERY_MS;
	master_describe(m, buf, sizeof(buf));
	if (!force && strcmp(buf, m->status) == 0)
		return;
	memcpy(m->status, buf, sizeof(buf));
	notify_status("%s", m->status);
}

static void
ready_event(struct master *m, const char *msgid, const char *what)
{
	status_ready(&m->gen, msgid, what);
	master_describe(m, m->status, sizeof(m->status));
	notify_ready(m->status);
}

static int
spawn(struct master *m)
{
	struct worker_params	p;
	int			idx;
	uint64_t		limit;

	memset(&p, 0, sizeof(p));
	p.cfg = m->gen.cfg;
	p.ls = &m->gen.ls;
	p.master_pid = getpid();
	p.master_fd = m->evfd;
	p.udp_limit = m->udp_limit;
	p.stamp_sessions = m->stamp_sessions;
	p.clients = m->clients;
	limit = supervise_recycle_limit(m->gen.cfg->max_connections_per_worker,
	    m->gen.cfg->recycle_jitter, (uint64_t)random());
	idx = pool_spawn(&m->pool, &p, m->gen.id, limit, m->now_ms);
	if (idx != -1)
		m->counters.worker_starts++;
	if (idx == -1 && errno != ENOSPC)
		m->respawn.next_ms = m->now_ms + FORK_RETRY_MS;
	return idx;
}

/* Keep "wanted" workers of the current generation serving. */
static void
maintain_pool(struct master *m)
{
	unsigned	n;
	int		idx;

	if (m->phase != PHASE_RUNNING || m->now_ms < m->respawn.next_ms)
		return;
	for (n = pool_count_serving(&m->pool, m->gen.id); n < m->gen.wanted;
	    n++) {
		if ((idx = spawn(m)) == -1)
			break;
		if (m->respawn.owed > 0) {
			m->respawn.owed--;
			status_respawned(&m->pool, idx,
			    m->respawn.backoff.streak);
		}
	}
	m->respawn.owed = 0;
}

/* A retiring worker stops accepting only once its successor serves. */
static void
retire_progress(struct master *m)
{
	if (m->phase != PHASE_RUNNING || reload_busy(&m->reload) ||
	    pool_count_ready(&m->pool, m->gen.id) < m->gen.wanted)
		return;
	pool_stop_retiring(&m->pool);
}

static void
check_health(struct master *m)
{
	m->respawn.owed += health_check(&m->health, &m->pool,
	    m->gen.cfg->worker_timeout_ms, m->now_ms);
}

/* Log why a reload failed and tell systemd that the old configuration serves. */
static void
reload_failure(struct master *m, const char *why)
{
	reload_failed(&m->reload, why);
	m->counters.reloads_failed++;
	status_reload_failed(why);
	master_describe(m, m->status, sizeof(m->status));
	notify_ready(m->status);
}

/*
 * SIGHUP: load the configuration again and start a new generation of
 * workers with it. The old generation keeps serving until the new one
 * does (reload_progress); if anything fails, nothing changes.
 */
static void
reload_request(struct master *m)
{
	struct reload_gen	 next;
	char			*why;

	if (m->phase != PHASE_RUNNING) {
		reload_refuse_all(&m->reload);
		return;
	}
	if (reload_busy(&m->reload)) {
		m->reload.again = true;
		return;
	}
	reload_begin(&m->reload);
	notify_reloading();
	log_info("reloading the configuration%s%s",
	    m->opts->config_path ? " from " : "",
	    m->opts->config_path ? m->opts->config_path : "");
	if (reload_load(m->opts, &m->gen, m->activated, &next, &why) == -1) {
		reload_failure(m, why ? why : strerror(ENOMEM));
		free(why);
		(void)reload_finish(&m->reload, false);
		return;
	}
	reload_start(&m->reload, &m->gen, &next, m->now_ms);
	m->respawn.next_ms = 0;
	apply_log_level(m);
	maintain_pool(m);
}

static void
reload_done(struct master *m, bool ok)
{
	if (reload_finish(&m->reload, ok))
		reload_request(m);
}

/* The new generation serves: retire the old one and its sockets. */
static void
commit(struct master *m)
{
	pool_stop_others(&m->pool, m->gen.id, POOL_STOP_RELOAD);
	reload_commit(&m->reload, &m->gen);
	m->counters.reloads_ok++;
	ready_event(m, MSGID_RELOADED, "configuration reloaded");
	reload_done(m, true);
}

static void
roll_back(struct master *m, const char *why)
{
	pool_stop_generation(&m->pool, m->gen.id, POOL_STOP_ABORT);
	reload_rollback(&m->reload, &m->gen);
	apply_log_level(m);
	reload_failure(m, why);
	reload_done(m, false);
}

static void
reload_progress(struct master *m)
{
	if (!reload_busy(&m->reload) || m->phase != PHASE_RUNNING)
		return;
	switch (reload_decide(&m->reload, pool_count_ready(&m->pool,
	    m->gen.id), m->gen.wanted, m->now_ms)) {
	case RELOAD_COMMITTING:
		commit(m);
		break;
	case RELOAD_ROLLING_BACK:
		roll_back(m, "the new workers did not start serving in time");
		break;
	case RELOAD_IDLE:
	case RELOAD_STARTING:
		break;
	}
}

static void
fatal_worker(struct master *m)
{
	if (m->exit_status != 0)
		return;		/* said already, stopping */
	log_errorx("a worker cannot work with this configuration (exit "
	    "status %d): stopping", WORKER_EXIT_FATAL);
	notify_failure(EPERM, "A worker cannot work: see the journal");
	m->exit_status = EX_OSERR;
	begin_stop(m, false);
}

static void
worker_died(struct master *m, const struct pool_death *d)
{
	struct worker_exit	 e;
	enum supervise_verdict	 v;
	uint64_t		 delay;
	char			 why[192], how[128];

	e.wstatus = d->wstatus;
	e.ready = d->ready;
	e.expected = pool_expected(&d->slot);
	e.lifetime_ms = d->lifetime_ms;
	e.now_ms = m->now_ms;
	m->counters.worker_exits[metrics_exit_cause(d->wstatus, e.expected,
	    d->slot.fate == POOL_KILLED_HUNG,
	    d->slot.fate == POOL_KILLED_AT_DEADLINE)]++;
	v = supervise_exit(&m->respawn.backoff, &e, &delay);
	status_exited(d, supervise_early_death(&e), m->respawn.backoff.streak);
	if (reload_busy(&m->reload) && d->slot.generation == m->gen.id &&
	    !e.expected) {
		supervise_describe_exit(d->wstatus, how, sizeof(how));
		snprintf(why, sizeof(why), "a worker of the new configuration "
		    "%s", how);
		roll_back(m, why);
		return;
	}
	if (v == SUPERVISE_FATAL)
		fatal_worker(m);
	else if (v == SUPERVISE_REPLACE && m->phase == PHASE_RUNNING) {
		/* A hung one was owed when it was killed. */
		if (d->slot.fate != POOL_KILLED_HUNG)
			m->respawn.owed++;
		if (delay > 0) {
			status_backoff(delay, m->respawn.backoff.streak,
			    &m->respawn.max_logged);
			m->respawn.next_ms = m->now_ms + delay;
		}
	}
}

static void
resize(struct master *m, int delta)
{
	int	victim;

	if (m->phase != PHASE_RUNNING)
		return;
	if (delta > 0 && m->gen.wanted < CONFIG_WORKERS_MAX)
		m->gen.wanted++;
	else if (delta < 0 && m->gen.wanted > 1) {
		m->gen.wanted--;
		/* Retire the youngest: it has the fewest connections to finish. */
		victim = pool_youngest_serving(&m->pool, m->gen.id);
		if (victim != -1 &&
		    pool_count_serving(&m->pool, m->gen.id) > m->gen.wanted)
			pool_stop(&m->pool, victim, POOL_STOP_SHRINK, SIGTERM);
	}
	log_info("%s: %u worker%s wanted", delta > 0 ? "SIGTTIN" : "SIGTTOU",
	    m->gen.wanted, LOG_S(m->gen.wanted));
	maintain_pool(m);
}

/* SIGCHLD coalesces: reap every child that has exited. */
static void
reap(struct master *m)
{
	struct pool_death	d;

	while (pool_reap(&m->pool, &d, m->now_ms) == 1) {
		master_release_clients(m, (uint32_t)d.slot.pid);
		worker_died(m, &d);
	}
}

/* One signal, as read from the signalfd. */
void
master_signal(struct master *m, const struct signalfd_siginfo *si)
{
	switch (si->ssi_signo) {
	case SIGCHLD:
		reap(m);
		break;
	case SIGHUP:
		if (si->ssi_code == SI_QUEUE &&
		    si->ssi_int == RELOAD_COOKIE)
			reload_wait(&m->reload, (pid_t)si->ssi_pid);
		reload_request(m);
		break;
	case SIGTERM:
	case SIGINT:
		begin_stop(m, m->phase == PHASE_STOPPING);
		break;
	case SIGQUIT:
		begin_stop(m, true);
		break;
	case SIGTTIN:
		resize(m, 1);
		break;
	case SIGTTOU:
		resize(m, -1);
		break;
	case SIGUSR1:
		status_report(&m->pool, &m->gen, m->now_ms);
		master_report_clients(m);
		break;
	case SIGUSR2:
		/*
		 * Blocked only so that it cannot kill the master: it is
		 * the answer sockechod --reload waits for, never a request
		 * (sockechod(8)).
		 */
		break;
	}
}

static void
pool_progress(struct master *m)
{
	bool	complete;

	complete = pool_count_ready(&m->pool, m->gen.id) >= m->gen.wanted;
	if (!m->ready_sent && complete && m->phase == PHASE_RUNNING) {
		m->ready_sent = true;
		ready_event(m, MSGID_READY, "ready");
	}
	if (supervise_recovered(&m->respawn.backoff, m->now_ms, complete)) {
		m->respawn.max_logged = false;
		status_recovered(m->gen.wanted);
	}
}

/*
 * What log_peer_lines_per_second cut from the workers' lines about
 * peers, summed up once the flood is over, or once a minute while it
 * lasts. The master's own line: no peer can make it more frequent. Its
 * clock is read here, not at the wake-up: a worker that cut a line since
 * then must not look to be ahead of it.
 */
static void
summarize_peer_lines(struct master *m)
{
	struct peerlog_summary	s;
	char			text[512];

	if (m->pool.sb == NULL || !peerlog_summary(
	    &scoreboard_head(m->pool.sb)->peerlog, sig_monotonic_ms(), &s))
		return;
	(void)peerlog_format(&s, text, sizeof(text));
	log_warnx("%s", text);
}

/* Housekeeping after every wake-up, in this order. */
void
master_tick(struct master *m)
{
	pool_scan(&m->pool, m->now_ms);
	master_clients_housekeeping(m);
	summarize_peer_lines(m);
	check_health(m);
	reload_progress(m);
	retire_progress(m);
	maintain_pool(m);
	pool_progress(m);
	stop_progress(m);
	health_feed_watchdog(&m->health, m->now_ms);
	if (m->ready_sent || m->phase == PHASE_STOPPING)
		status_update(m, false);
}

static int
next_timeout(const struct master *m)
{
	uint64_t	deadline = m->now_ms + TICK_MS;

	if (m->health.watchdog_ms && m->health.next_ping_ms < deadline)
		deadline = m->health.next_ping_ms;
	if (m->respawn.next_ms > m->now_ms && m->respawn.next_ms < deadline)
		deadline = m->respawn.next_ms;
	return deadline > m->now_ms ? (int)(deadline - m->now_ms) : 0;
}

static int
master_start_failed(struct master *m, int errnum, const char *what)
{
	char	status[MASTER_STATUS_BYTES];

	log_errorx("%s", what);
	snprintf(status, sizeof(status), "Failed to start: %s", what);
	notify_failure(errnum, status);
	m->exit_status = EX_OSERR;
	return -1;
}

/* A master that serves "cfg" (now its own) once master_start() did. */
struct master *
master_new(const struct config_options *o, struct config *cfg,
    const struct pool_ops *ops)
{
	struct master	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->opts = o;
	m->gen.cfg = cfg;
	m->ops = ops;
	m->sigfd = m->evfd = -1;
	metrics_http_init(&m->http, master_render_metrics, m);
	reload_init(&m->reload, ops);
	return m;
}

void
master_set_clock(struct master *m, uint64_t now_ms)
{
	m->now_ms = now_ms;
}

/* Only now that the sockets are open: whoever reads the file can connect. */
static int
write_pid_file(struct master *m)
{
	char	what[512];

	if (m->opts->pid_file == NULL || pidfile_write(m->opts->pid_file) == 0)
		return 0;
	snprintf(what, sizeof(what), "cannot write the PID file %.300s: %s",
	    m->opts->pid_file, strerror(errno));
	return master_start_failed(m, errno, what);
}

/* Signals, sockets and the first workers; -1 when it cannot start. */
int
master_start(struct master *m)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT,
	    SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2 };
	char		 err[LISTEN_ERROR_BYTES + 64];	/* and what failed */

	srandom(getpid() ^ (unsigned)m->now_ms);
	signal(SIGPIPE, SIG_IGN);
	if ((m->sigfd = sig_open(sigs, nitems(sigs))) == -1 ||
	    (m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    pool_open(&m->pool, SCOREBOARD_SLOTS, m->ops, worker_main) == -1 ||
	    (m->udp_limit = udp_limit_create()) == NULL ||
	    (m->stamp_sessions = stamp_sessions_create()) == NULL ||
	    (m->clients = clients_create(CLIENTS_ENTRIES)) == NULL)
		return master_start_failed(m, errno, strerror(errno));
	if (reload_first(&m->gen, &m->activated, &m->http.ls, err,
	    sizeof(err)) == -1)
		return master_start_failed(m, errno, err);
	if (master_open_metrics(m, err, sizeof(err)) == -1)
		return master_start_failed(m, errno ? errno : EADDRNOTAVAIL,
		    err);
	if (write_pid_file(m) == -1)
		return -1;
	m->gen.wanted = config_workers(m->gen.cfg);
	m->gen.id = m->reload.last_id = 1;
	health_init(&m->health, notify_watchdog_usec() / 1000);
	apply_log_level(m);
	status_started(&m->gen, m->activated);
	maintain_pool(m);
	return 0;
}

const struct pool *
master_pool(const struct master *m)
{
	return &m->pool;
}

const struct reload *
master_reload(const struct master *m)
{
	return &m->reload;
}

const struct reload_gen *
master_current(const struct master *m)
{
	return &m->gen;
}

/* Stopped, and every worker reaped. */
bool
master_done(const struct master *m)
{
	return m->phase == PHASE_STOPPING && pool_count_live(&m->pool) == 0;
}

/* Wait for a signal, a worker's wake-up or the next tick, and handle it. */
static void
master_wait(struct master *m)
{
	struct signalfd_siginfo	si;
	struct pollfd		pfd[2 + METRICS_HTTP_CONNS_MAX + 1];
	uint64_t		count;
	size_t			nhttp;

	pfd[0] = (struct pollfd){ m->sigfd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ m->evfd, POLLIN, 0 };
	nhttp = metrics_http_pollfds(&m->http, pfd + 2, nitems(pfd) - 2);
	if (poll(pfd, 2 + nhttp, next_timeout(m)) == -1 && errno != EINTR) {
		log_error("poll");
		begin_stop(m, true);
	}
	m->now_ms = sig_monotonic_ms();
	if (pfd[1].revents & POLLIN)
		(void)!read(m->evfd, &count, sizeof(count));
	metrics_http_handle(&m->http, pfd + 2, nhttp, m->now_ms);
	if (pfd[0].revents & POLLIN)
		while (sig_read(m->sigfd, &si) == 1)
			master_signal(m, &si);
	master_tick(m);
}

/* Release everything; returns the process exit status. */
int
master_end(struct master *m, bool started)
{
	struct pool_totals	t;
	int			status = m->exit_status;

	reload_free(&m->reload, &m->gen);
	listen_close_all(&m->gen.ls);
	if (started) {
		pool_totals(&m->pool, m->gen.id, &t);
		status_stopped(t.served, status);
	}
	pool_close(&m->pool);
	metrics_http_close(&m->http);
	udp_limit_destroy(m->udp_limit);
	stamp_sessions_destroy(m->stamp_sessions);
	clients_destroy(m->clients);
	if (m->sigfd != -1)
		close(m->sigfd);
	if (m->evfd != -1)
		close(m->evfd);
	config_discard(m->gen.cfg);
	free(m);
	return status;
}

/* Supervise until stopped; returns the process exit status. */
int
master_run(const struct config_options *o, struct config *cfg)
{
	struct master	*m;

	if ((m = master_new(o, cfg, &pool_os_ops)) == NULL) {
		log_error("cannot start");
		return EX_OSERR;
	}
	master_set_clock(m, sig_monotonic_ms());
	if (master_start(m) == -1)
		return master_end(m, false);
	while (!master_done(m))
		master_wait(m);
	return master_end(m, true);
}
