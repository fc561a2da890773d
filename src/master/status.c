/* SPDX-License-Identifier: ISC */
/*
 * status.c: the master's words. The journal events of the lifecycle and
 * of each worker (with their MESSAGE_IDs and fields), the status line for
 * systemd and the SIGUSR1 table. It decides nothing and changes no state.
 */
#include "build-config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/msgid.h"
#include "master/status.h"
#include "master/supervise.h"
#include "shm/udp_policy.h"

static void
worker_fields(struct log_fields *f, const struct pool_slot *s, unsigned idx)
{
	log_field(f, "WORKER_PID", "%ld", (long)s->pid);
	log_field(f, "WORKER_SLOT", "%u", idx);
	log_field(f, "WORKER_GENERATION", "%u", s->generation);
}

void
status_describe(const struct status_view *v, char *buf, size_t size)
{
	struct pool_totals	t;
	char			addrs[LISTEN_DESCRIBE_BYTES];
	int			n;

	pool_totals(v->pool, v->gen->id, &t);
	listen_describe(&v->gen->ls, addrs, sizeof(addrs));
	if (v->stopping)
		n = snprintf(buf, size, "Stopping: %u worker%s left, %llu "
		    "connection%s draining", pool_count_live(v->pool),
		    LOG_S(pool_count_live(v->pool)), (unsigned long long)t.open,
		    LOG_S(t.open));
	else
		n = snprintf(buf, size, "%u worker%s, %llu connection%s open, "
		    "%llu served, %llu refused; %s mode on %s", t.workers,
		    LOG_S(t.workers), (unsigned long long)t.open, LOG_S(t.open),
		    (unsigned long long)t.served,
		    (unsigned long long)(t.refused_acl + t.refused_limit),
		    echo_mode_name(v->gen->cfg->mode), addrs);
	if (n > 0 && (size_t)n < size && t.udp.received > 0)
		n += snprintf(buf + n, size - n, "; UDP: %llu datagrams, %llu "
		    "echoed, %llu dropped", (unsigned long long)t.udp.received,
		    (unsigned long long)t.udp.echoed,
		    (unsigned long long)scoreboard_udp_dropped(&t.udp));
	if (n > 0 && (size_t)n < size && listen_has_proxy(&v->gen->ls))
		n += snprintf(buf + n, size - n, "; PROXY: %llu headers, %llu "
		    "bad, %llu timed out, %llu untrusted",
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_OK],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_BAD],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_TIMEOUT],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_UNTRUSTED]);
	if (n > 0 && (size_t)n < size && v->reload_error[0] != '\0')
		snprintf(buf + n, size - n, "; last reload failed: %s",
		    v->reload_error);
}

/* SIGUSR1's UDP line: what came in, went out, and why the rest did not. */
static void
report_udp(const struct scoreboard_udp *u)
{
	char	why[512];
	size_t	i, off = 0;
	int	n;

	why[0] = '\0';
	for (i = 0; i < nitems(u->dropped) && off < sizeof(why); i++) {
		n = snprintf(why + off, sizeof(why) - off, "%s%s %llu",
		    i ? ", " : "", udp_policy_drop_name((enum udp_drop)i),
		    (unsigned long long)u->dropped[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_report("status: udp: %llu datagrams received, %llu echoed, %llu "
	    "dropped (%s)", (unsigned long long)u->received,
	    (unsigned long long)u->echoed,
	    (unsigned long long)scoreboard_udp_dropped(u), why);
}

void
status_started(const struct reload_gen *g, bool activated)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			addrs[LISTEN_DESCRIBE_BYTES];

	listen_describe(&g->ls, addrs, sizeof(addrs));
	log_field(&f, "LISTEN", "%s", addrs);
	log_field(&f, "CONFIG_FILE", "%s", g->cfg->path ? g->cfg->path :
	    "(built-in defaults)");
	log_event(LOG_INFO, MSGID_STARTED, &f, "%s %s starting: %u worker%s, "
	    "%s mode, on %s%s", PACKAGE, PACKAGE_VERSION, g->wanted,
	    LOG_S(g->wanted),
	    echo_mode_name(g->cfg->mode), addrs,
	    activated ? " (sockets from systemd)" : "");
}

/* Ready, or reloaded: the generation "g" serves. */
void
status_ready(const struct reload_gen *g, const char *msgid, const char *what)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			addrs[LISTEN_DESCRIBE_BYTES];

	listen_describe(&g->ls, addrs, sizeof(addrs));
	log_field(&f, "WORKERS", "%u", g->wanted);
	log_field(&f, "GENERATION", "%u", g->id);
	log_field(&f, "LISTEN", "%s", addrs);
	log_event(LOG_INFO, msgid, &f, "%s: %u worker%s, %s mode, on %s", what,
	    g->wanted, LOG_S(g->wanted), echo_mode_name(g->cfg->mode), addrs);
}

void
status_reload_failed(const char *why)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "RELOAD_ERROR", "%s", why);
	log_event(LOG_ERR, MSGID_RELOAD_FAILED, &f, "reload failed, still "
	    "serving the previous configuration: %s", why);
}

void
status_stopping(uint64_t open, bool fast, unsigned shutdown_timeout_ms)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "OPEN_CONNECTIONS", "%llu", (unsigned long long)open);
	/* A fast stop closes at once: no shutdown_timeout applies to it. */
	if (fast)
		log_event(LOG_INFO, MSGID_STOPPING, &f, "stopping: closing %llu "
		    "open connection%s at once", (unsigned long long)open,
		    LOG_S(open));
	else
		log_event(LOG_INFO, MSGID_STOPPING, &f, "stopping: draining %llu "
		    "open connection%s (shutdown_timeout %.1f s)",
		    (unsigned long long)open, LOG_S(open),
		    shutdown_timeout_ms / 1000.0);
}

void
status_stopped(uint64_t served, int exit_status)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "CONNECTIONS_SERVED", "%llu", (unsigned long long)served);
	log_field(&f, "EXIT_STATUS", "%d", exit_status);
	log_event(LOG_INFO, MSGID_STOPPED, &f, "stopped after serving %llu "
	    "connection%s", (unsigned long long)served, LOG_S(served));
}

void
status_respawned(const struct pool *p, unsigned idx, unsigned streak)
{
	struct log_fields	 f = LOG_FIELDS_INIT;
	const struct pool_slot	*s = pool_slot(p, idx);

	worker_fields(&f, s, idx);
	log_event(streak > 1 ? LOG_DEBUG : LOG_NOTICE, MSGID_WORKER_RESPAWNED,
	    &f, "worker %ld (slot %u) started to replace a lost worker",
	    (long)s->pid, idx);
}

void
status_hung(const struct pool *p, unsigned idx, uint64_t silent_ms,
    unsigned worker_timeout_ms)
{
	struct log_fields	 f = LOG_FIELDS_INIT;
	const struct pool_slot	*s = pool_slot(p, idx);

	worker_fields(&f, s, idx);
	log_event(LOG_WARNING, MSGID_WORKER_HUNG, &f, "worker %ld (slot %u) "
	    "shows no sign of life for %.1f s (worker_timeout %.1f s): killed",
	    (long)s->pid, idx, silent_ms / 1000.0, worker_timeout_ms / 1000.0);
}

/* Every death once, with its cause; "streak" early deaths in a row. */
void
status_exited(const struct pool_death *d, bool early, unsigned streak)
{
	struct log_fields	 f = LOG_FIELDS_INIT;
	const struct pool_slot	*s = &d->slot;
	char			 how[128];
	int			 pri, sig;

	worker_fields(&f, s, d->idx);
	sig = WIFSIGNALED(d->wstatus) ? WTERMSIG(d->wstatus) : 0;
	if (WIFEXITED(d->wstatus))
		log_field(&f, "EXIT_STATUS", "%d", WEXITSTATUS(d->wstatus));
	else if (sig != 0)
		log_field(&f, "SIGNAL", "SIG%s", sigabbrev_np(sig) ?
		    sigabbrev_np(sig) : "?");
	supervise_describe_exit(d->wstatus, how, sizeof(how));
	if (s->killed_ms != 0 && sig == SIGKILL)
		snprintf(how, sizeof(how), "was killed (SIGKILL)");
	if (pool_expected(s) && s->fate != POOL_KILLED_HUNG)
		pri = LOG_INFO;
	else if (early && streak > 1)
		pri = LOG_DEBUG;	/* the streak was announced already */
	else
		pri = LOG_WARNING;
	log_event(pri, MSGID_WORKER_EXITED, &f, "worker %ld (slot %u) %s %s, "
	    "after %.1f s", (long)s->pid, d->idx, how, pool_fate_text(s),
	    d->lifetime_ms / 1000.0);
}

void
status_backoff(uint64_t delay_ms, unsigned streak, bool *max_logged)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "RESPAWN_DELAY_MS", "%llu", (unsigned long long)delay_ms);
	log_field(&f, "FAILURES", "%u", streak);
	if (streak == 1)
		log_event(LOG_WARNING, MSGID_CRASH_LOOP, &f, "a worker died "
		    "at start-up or soon after: respawning with a delay that "
		    "grows from %d ms to %d s while this goes on",
		    SUPERVISE_BACKOFF_MIN_MS, SUPERVISE_BACKOFF_MAX_MS / 1000);
	else if (delay_ms >= SUPERVISE_BACKOFF_MAX_MS && !*max_logged) {
		*max_logged = true;
		log_event(LOG_ERR, MSGID_CRASH_LOOP, &f, "workers keep dying "
		    "(%u failures in a row): retrying every %d s", streak,
		    SUPERVISE_BACKOFF_MAX_MS / 1000);
	}
}

void
status_recovered(unsigned workers)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_field(&f, "WORKERS", "%u", workers);
	log_event(LOG_NOTICE, MSGID_CRASH_LOOP, &f, "workers are healthy "
	    "again");
}

static void
report_slot(const struct pool *p, unsigned i, uint64_t now_ms)
{
	static const char *const states[SCOREBOARD_NSTATES] = {
		[SCOREBOARD_FREE] = "free",
		[SCOREBOARD_STARTING] = "starting",
		[SCOREBOARD_ACCEPTING] = "accepting",
		[SCOREBOARD_RETIRING] = "retiring",
		[SCOREBOARD_DRAINING] = "draining",
	};
	const struct scoreboard_slot	*sc = &p->sb[i];
	const struct pool_slot		*s = pool_slot(p, i);
	uint32_t			 st = SCOREBOARD_LOAD(sc->state);

	log_report("status: %4u %7ld %4u %-9s %7.1fs %6llu %9llu %12llu "
	    "%12llu %7.1fs %8llu %8llu", i, (long)s->pid, s->generation,
	    st < nitems(states) ? states[st] : "?",
	    (now_ms - s->spawned_ms) / 1000.0,
	    (unsigned long long)SCOREBOARD_LOAD(sc->conns_open),
	    (unsigned long long)SCOREBOARD_LOAD(sc->conns_served),
	    (unsigned long long)SCOREBOARD_LOAD(sc->bytes_in),
	    (unsigned long long)SCOREBOARD_LOAD(sc->bytes_out),
	    (now_ms - SCOREBOARD_LOAD(sc->heartbeat_ms)) / 1000.0,
	    (unsigned long long)SCOREBOARD_LOAD(sc->refused_acl),
	    (unsigned long long)SCOREBOARD_LOAD(sc->refused_limit));
}

/* SIGUSR1: a summary, then one log line per live worker. */
void
status_report(const struct pool *p, const struct reload_gen *g,
    uint64_t now_ms)
{
	struct pool_totals	t;
	int			i;

	pool_totals(p, g->id, &t);
	log_report("status: generation %u, %u worker%s wanted, %u process%s, "
	    "%llu connection%s open, %llu served, %llu bytes in, %llu out, "
	    "%llu denied, %llu over a client limit",
	    g->id, g->wanted, LOG_S(g->wanted), pool_count_live(p),
	    pool_count_live(p) == 1 ? "" : "es",
	    (unsigned long long)t.open, LOG_S(t.open),
	    (unsigned long long)t.served,
	    (unsigned long long)t.bytes_in, (unsigned long long)t.bytes_out,
	    (unsigned long long)t.refused_acl,
	    (unsigned long long)t.refused_limit);
	if (listen_has_dgram(&g->ls))
		report_udp(&t.udp);
	if (listen_has_proxy(&g->ls))
		log_report("status: proxy: %llu PROXY headers read, %llu bad, "
		    "%llu timed out, %llu from untrusted peers refused",
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_OK],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_BAD],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_TIMEOUT],
		    (unsigned long long)t.proxy[SCOREBOARD_PROXY_UNTRUSTED]);
	log_report("status: %4s %7s %4s %-9s %8s %6s %9s %12s %12s %9s %8s %8s",
	    "slot", "pid", "gen", "state", "age", "open", "served", "bytes_in",
	    "bytes_out", "heartbeat", "denied", "limited");
	POOL_FOREACH(p, i)
		report_slot(p, i, now_ms);
}
