/* SPDX-License-Identifier: ISC */
/*
 * supervise.c: when to respawn a worker and after how long, when a worker
 * is hung, when the pool has recovered. Pure functions of their arguments:
 * no clock, no signals, no logging, so every rule has a unit test.
 */
#include "build-config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "master/supervise.h"
#include "worker/worker.h"

/*
 * An early death is a worker that never started serving, or that crashed
 * (a signal of its own, or an exit) soon after it did. SIGKILL and SIGTERM
 * come from outside (an operator, the OOM killer) and are no sign that the
 * next worker will die too.
 */
bool
supervise_early_death(const struct worker_exit *e)
{
	bool	external;

	if (!e->ready)
		return true;
	external = WIFSIGNALED(e->wstatus) &&
	    (WTERMSIG(e->wstatus) == SIGKILL || WTERMSIG(e->wstatus) == SIGTERM);
	return !external && e->lifetime_ms < SUPERVISE_HEALTHY_MS;
}

enum supervise_verdict
supervise_exit(struct backoff *b, const struct worker_exit *e,
    uint64_t *delay_ms)
{
	unsigned	shift;

	*delay_ms = 0;
	/* Asked to stop: even "cannot work" is no news (a failed reload). */
	if (e->expected)
		return SUPERVISE_DONE;
	if (WIFEXITED(e->wstatus) && WEXITSTATUS(e->wstatus) == WORKER_EXIT_FATAL)
		return SUPERVISE_FATAL;
	if (!supervise_early_death(e)) {
		b->streak = 0;
		b->delay_ms = 0;
		return SUPERVISE_REPLACE;
	}
	b->streak++;
	b->last_death_ms = e->now_ms;
	shift = b->streak - 1;
	if (shift > 20)
		shift = 20;
	b->delay_ms = (uint64_t)SUPERVISE_BACKOFF_MIN_MS << shift;
	if (b->delay_ms > SUPERVISE_BACKOFF_MAX_MS)
		b->delay_ms = SUPERVISE_BACKOFF_MAX_MS;
	*delay_ms = b->delay_ms;
	return SUPERVISE_REPLACE;
}

/* A streak ends once the pool is complete and nothing died for a while. */
bool
supervise_recovered(struct backoff *b, uint64_t now_ms, bool pool_complete)
{
	if (b->streak == 0 || !pool_complete ||
	    now_ms - b->last_death_ms < SUPERVISE_HEALTHY_MS)
		return false;
	b->streak = 0;
	b->delay_ms = 0;
	return true;
}

enum supervise_health
supervise_health(uint64_t now_ms, uint64_t heartbeat_ms, uint64_t killed_ms,
    uint64_t timeout_ms)
{
	if (killed_ms != 0)
		return now_ms - killed_ms > SUPERVISE_KILL_GRACE_MS ?
		    HEALTH_STUCK : HEALTH_RECOVERING;
	if (timeout_ms != 0 && now_ms > heartbeat_ms &&
	    now_ms - heartbeat_ms > timeout_ms)
		return HEALTH_HUNG;
	return HEALTH_OK;
}

/* Connections after which a worker retires: 0 never, else max + random % (jitter + 1). */
uint64_t
supervise_recycle_limit(uint64_t max_connections, uint64_t jitter,
    uint64_t random)
{
	if (max_connections == 0)
		return 0;
	return max_connections + (jitter ? random % (jitter + 1) : 0);
}

void
supervise_describe_exit(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "killed by signal %d (SIG%s)%s",
		    WTERMSIG(wstatus), sigabbrev_np(WTERMSIG(wstatus)) ?
		    sigabbrev_np(WTERMSIG(wstatus)) : "?",
		    WCOREDUMP(wstatus) ? ", core dumped" : "");
	else
		snprintf(buf, size, "changed state (status 0x%x)", wstatus);
}
