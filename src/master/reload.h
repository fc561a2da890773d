/* SPDX-License-Identifier: ISC */
/* reload.h: the reload transaction, from SIGHUP to commit or rollback. */
#ifndef SOCKECHOD_RELOAD_H
#define SOCKECHOD_RELOAD_H

#include <sys/types.h>

#include <signal.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "net/listen.h"
#include "master/pool.h"

/*
 * "sockechod --reload PID" sends SIGHUP with this value (sigqueue), and the
 * master answers SIGUSR1 when the new configuration serves, SIGUSR2 when
 * the reload failed and the old one still serves.
 */
#define RELOAD_COOKIE	0x53454852	/* "SEHR" */
#define RELOAD_OK	SIGUSR1
#define RELOAD_FAILED	SIGUSR2
#define RELOAD_WAIT_MS	120000

#define RELOAD_TIMEOUT_MS	30000	/* for the new generation to serve */
#define RELOAD_WAITERS_MAX	1024
#define RELOAD_ERROR_BYTES	256

/* What one generation of workers serves. */
struct reload_gen {
	struct config		*cfg;
	struct listeners	 ls;
	unsigned		 id;		/* never reused */
	unsigned		 wanted;	/* workers */
};

enum reload_phase {
	RELOAD_IDLE,
	RELOAD_STARTING,	/* the new generation starts; the old serves */
	RELOAD_COMMITTING,	/* the new one serves: the old one retires */
	RELOAD_ROLLING_BACK,	/* it failed: back to the old one */
};

/* Processes waiting for the outcome of a reload (sockechod --reload). */
struct reload_waiters {
	pid_t	*pid;
	size_t	 n;
};

struct reload {
	enum reload_phase	 phase;
	struct reload_gen	 prev;		/* what a rollback goes back to */
	unsigned		 last_id;
	uint64_t		 started_ms;
	bool			 again;		/* SIGHUP while not idle */
	char			 error[RELOAD_ERROR_BYTES]; /* the last failure */
	struct reload_waiters	 waiting;	/* for the reload under way */
	struct reload_waiters	 queued;	/* for the next one */
	const struct pool_ops	*ops;		/* sigqueue, for the answers */
};

void	reload_init(struct reload *, const struct pool_ops *);
void	reload_free(struct reload *, const struct reload_gen *cur);
void	reload_wait(struct reload *, pid_t);
void	reload_answer(struct reload *, bool ok);
void	reload_refuse_all(struct reload *);

bool	reload_busy(const struct reload *);
void	reload_begin(struct reload *);
struct config_options;
int	reload_first(struct reload_gen *, bool *activated,
	    struct listeners *metrics, char *err, size_t);
int	reload_load(const struct config_options *, const struct reload_gen *cur,
	    bool activated, struct reload_gen *next, char **why);
void	reload_start(struct reload *, struct reload_gen *cur,
	    const struct reload_gen *next, uint64_t now_ms);
enum reload_phase reload_decide(const struct reload *, unsigned ready,
	    unsigned wanted, uint64_t now_ms);
void	reload_commit(struct reload *, struct reload_gen *cur);
void	reload_rollback(struct reload *, struct reload_gen *cur);
void	reload_failed(struct reload *, const char *why);
bool	reload_finish(struct reload *, bool ok);
void	reload_close_stale(struct reload *, const struct reload_gen *cur);

#endif
