/* SPDX-License-Identifier: ISC */
/* supervise.h: the master's decisions about its workers, as pure functions. */
#ifndef SOCKECHOD_SUPERVISE_H
#define SOCKECHOD_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

#define SUPERVISE_HEALTHY_MS		10000	/* this long up ends a crash streak */
#define SUPERVISE_BACKOFF_MIN_MS	100
#define SUPERVISE_BACKOFF_MAX_MS	30000
#define SUPERVISE_KILL_GRACE_MS		5000	/* SIGKILLed, still not reaped: stuck */

/* Early deaths in a row, pool-wide, and the respawn delay they earned. */
struct backoff {
	unsigned	streak;
	uint64_t	last_death_ms;
	uint64_t	delay_ms;
};

struct worker_exit {
	int		wstatus;	/* as from waitpid() */
	bool		ready;		/* it had started serving */
	bool		expected;	/* the master had asked it to stop */
	uint64_t	lifetime_ms;
	uint64_t	now_ms;
};

enum supervise_verdict {
	SUPERVISE_DONE,		/* an exit the master asked for: nothing to do */
	SUPERVISE_REPLACE,	/* respawn, after delay_ms */
	SUPERVISE_FATAL,	/* it cannot work: stop the daemon */
};

enum supervise_health {
	HEALTH_OK,
	HEALTH_HUNG,		/* silent too long: kill and replace it */
	HEALTH_RECOVERING,	/* killed, waiting to reap it */
	HEALTH_STUCK,		/* killed long ago and still there */
};

enum supervise_verdict supervise_exit(struct backoff *,
	    const struct worker_exit *, uint64_t *delay_ms);
bool	supervise_early_death(const struct worker_exit *);
bool	supervise_recovered(struct backoff *, uint64_t now_ms,
	    bool pool_complete);
enum supervise_health supervise_health(uint64_t now_ms, uint64_t heartbeat_ms,
	    uint64_t killed_ms, uint64_t timeout_ms);
uint64_t supervise_recycle_limit(uint64_t max_connections, uint64_t jitter,
	    uint64_t random);
void	supervise_describe_exit(int wstatus, char *, size_t);

#endif
