/* SPDX-License-Identifier: ISC */
/* status.h: what the master says: journal events and the status line. */
#ifndef SOCKECHOD_STATUS_H
#define SOCKECHOD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master/pool.h"
#include "master/reload.h"

/* What the status line is made of. */
struct status_view {
	const struct pool	*pool;
	const struct reload_gen	*gen;
	const char		*reload_error;	/* "" when none */
	bool			 stopping;
};

void	status_describe(const struct status_view *, char *, size_t);
void	status_started(const struct reload_gen *, bool activated);
void	status_ready(const struct reload_gen *, const char *msgid,
	    const char *what);
void	status_reload_failed(const char *why);
void	status_stopping(uint64_t open, bool fast, unsigned shutdown_timeout_ms);
void	status_stopped(uint64_t served, int exit_status);
void	status_respawned(const struct pool *, unsigned idx, unsigned streak);
void	status_hung(const struct pool *, unsigned idx, uint64_t silent_ms,
	    unsigned worker_timeout_ms);
void	status_exited(const struct pool_death *, bool early, unsigned streak);
void	status_backoff(uint64_t delay_ms, unsigned streak, bool *max_logged);
void	status_recovered(unsigned workers);
void	status_report(const struct pool *, const struct reload_gen *,
	    uint64_t now_ms);

#endif
