/* SPDX-License-Identifier: ISC */
/* pool.h: the master's table of worker processes, one slot per worker. */
#ifndef SOCKECHOD_POOL_H
#define SOCKECHOD_POOL_H

#include <sys/types.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/scoreboard.h"
#include "worker/worker.h"

/* What becomes of a worker: one fate a slot, changed only by the master. */
enum pool_fate {
	POOL_SERVING,		/* accepting, as far as the master knows */
	POOL_RETIRING,		/* spent its connections: wants a successor */
	POOL_STOPPING,		/* asked to stop, for its stop reason */
	POOL_KILLED_HUNG,	/* SIGKILLed: no sign of life */
	POOL_KILLED_AT_DEADLINE, /* SIGKILLed: still there past shutdown_timeout */
};

/* Why the master asked a worker to stop (so that its exit is expected). */
enum pool_stop_reason {
	POOL_STOP_NONE,		/* it was never asked */
	POOL_STOP_RELOAD,
	POOL_STOP_RECYCLE,
	POOL_STOP_SHRINK,
	POOL_STOP_SHUTDOWN,
	POOL_STOP_ABORT,
};

/* The master's own record of a worker; the scoreboard is only read. */
struct pool_slot {
	pid_t			pid;		/* 0: free */
	unsigned		generation;
	uint64_t		spawned_ms;
	uint64_t		ready_ms;	/* first seen serving, or 0 */
	enum pool_fate		fate;
	uint64_t		killed_ms;	/* the KILLED_* fates: when */
	enum pool_stop_reason	reason;		/* kept by a later SIGKILL */
};

/* A death, reported by pool_reap() after the slot was freed. */
struct pool_death {
	unsigned		idx;
	struct pool_slot	slot;		/* as it was */
	int			wstatus;	/* as from waitpid() */
	bool			ready;		/* it had started serving */
	uint64_t		lifetime_ms;
};

struct pool_totals {
	unsigned	workers;	/* serving, of the generation asked for */
	uint64_t	open;
	uint64_t	served;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	struct scoreboard_udp udp;
	struct scoreboard_udp stamp;
	uint64_t	refused_acl;
	uint64_t	refused_limit;
	uint64_t	proxy[SCOREBOARD_PROXY_NRESULTS];
};

/*
 * What a new worker runs. The pool is handed it (master.c hands it
 * worker_main()), as nginx's ngx_spawn_process() is, and never names the
 * worker itself.
 */
typedef int	worker_entry_fn(const struct worker_params *);

/*
 * The pool's ways of touching processes. pool_os_ops are the real ones
 * (fork and run the entry point, kill, waitpid, sigqueue); tests replace
 * them to drive the master's transactions without processes or timing.
 */
struct pool_ops {
	pid_t	(*fork_worker)(worker_entry_fn *, const struct worker_params *,
		    void *arg);
	int	(*kill)(pid_t, int sig, void *arg);
	pid_t	(*reap)(int *wstatus, void *arg);	/* never blocks */
	int	(*sigqueue)(pid_t, int sig, union sigval, void *arg);
	void	*arg;
};

extern const struct pool_ops pool_os_ops;

struct pool {
	const struct pool_ops	*ops;
	worker_entry_fn		*entry;
	struct scoreboard_slot	*sb;
	struct pool_slot	*slots;
	size_t			 nslots;
	int			 turn_fd;	/* eventfd: worker_turn_wake() */
	int			 handoff_fd;	/* eventfd: worker_handoff() */
	struct pool_totals	 exited;	/* counters of reaped workers */
};

int	pool_open(struct pool *, size_t nslots, const struct pool_ops *,
	    worker_entry_fn *);
void	pool_close(struct pool *);

int	pool_spawn(struct pool *, struct worker_params *, unsigned generation,
	    uint64_t conn_limit, uint64_t now_ms);
int	pool_reap(struct pool *, struct pool_death *, uint64_t now_ms);
void	pool_scan(struct pool *, uint64_t now_ms);

void	pool_stop(struct pool *, unsigned idx, enum pool_stop_reason, int sig);
void	pool_stop_all(struct pool *, enum pool_stop_reason, int sig);
void	pool_stop_generation(struct pool *, unsigned generation,
	    enum pool_stop_reason);
void	pool_stop_others(struct pool *, unsigned generation,
	    enum pool_stop_reason);
void	pool_stop_retiring(struct pool *);
void	pool_kill_hung(struct pool *, unsigned idx, uint64_t now_ms);
void	pool_kill_stragglers(struct pool *, uint64_t now_ms);

int	pool_next(const struct pool *, int after);
#define POOL_FOREACH(p, i) \
	for ((i) = pool_next((p), -1); (i) != -1; (i) = pool_next((p), (i)))
const struct pool_slot *pool_slot(const struct pool *, unsigned idx);
uint64_t pool_heartbeat_ms(const struct pool *, unsigned idx);
unsigned pool_count_live(const struct pool *);
unsigned pool_count_serving(const struct pool *, unsigned generation);
unsigned pool_count_ready(const struct pool *, unsigned generation);
int	pool_youngest_serving(const struct pool *, unsigned generation);
void	pool_totals(const struct pool *, unsigned generation,
	    struct pool_totals *);
bool	pool_expected(const struct pool_slot *);
const char *pool_fate_text(const struct pool_slot *);

#endif
