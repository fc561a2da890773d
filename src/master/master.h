/* SPDX-License-Identifier: ISC */
/* master.h: the supervising process. */
#ifndef SOCKECHOD_MASTER_H
#define SOCKECHOD_MASTER_H

#include <sys/signalfd.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/*
 * "sockechod --reload PID" sends SIGHUP with this value (sigqueue), and the
 * master answers SIGUSR1 when the new configuration serves, SIGUSR2 when
 * the reload failed and the old one still serves.
 */
#define MASTER_RELOAD_COOKIE	0x53454852	/* "SEHR" */
#define MASTER_RELOAD_OK	SIGUSR1
#define MASTER_RELOAD_FAILED	SIGUSR2
#define MASTER_RELOAD_WAIT_MS	120000

/* What the command line says, applied again on every reload. */
struct master_options {
	const char	*config_path;
	bool		 config_optional;	/* the default path: may be absent */
	char	       **listen;		/* -l: replaces the config's list */
	size_t		 nlisten;
	int		 workers;		/* -w, or -1 */
	bool		 verbose;		/* -v: debug logging */
	const char	*pid_file;		/* --pid-file, or NULL */
};

int	master_configure(const struct master_options *, struct config *,
	    struct config_errors *);
int	master_run(const struct master_options *, struct config *);

/*
 * master_run()'s steps, for the unit tests too: they drive a master with
 * their own pool_ops and clock, one signal or tick at a time.
 */
struct master;
struct pool;
struct pool_ops;
struct reload;
struct reload_gen;

struct master *master_new(const struct master_options *, struct config *,
	    const struct pool_ops *);
void	master_set_clock(struct master *, uint64_t now_ms);
int	master_start(struct master *);
void	master_signal(struct master *, const struct signalfd_siginfo *);
void	master_tick(struct master *);
bool	master_done(const struct master *);
int	master_end(struct master *, bool started);
const struct pool *master_pool(const struct master *);
const struct reload *master_reload(const struct master *);
const struct reload_gen *master_current(const struct master *);

#endif
