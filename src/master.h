/* SPDX-License-Identifier: ISC */
/* master.h: the supervising process. */
#ifndef SOCKECHOD_MASTER_H
#define SOCKECHOD_MASTER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

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
};

int	master_configure(const struct master_options *, struct config *,
	    struct config_errors *);
int	master_run(const struct master_options *, struct config *);

#endif
