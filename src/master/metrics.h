/* SPDX-License-Identifier: ISC */
/* metrics.h: the numbers sockechod shows to Prometheus, and their text. */
#ifndef SOCKECHOD_METRICS_H
#define SOCKECHOD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/scoreboard.h"

/* Why a worker exited, as the label "cause" of sockechod_worker_exits_total. */
enum metrics_exit_cause {
	METRICS_EXIT_ASKED,	/* the master asked: reload, recycle, stop */
	METRICS_EXIT_FAILED,	/* exited with a non-zero status unasked */
	METRICS_EXIT_CRASHED,	/* killed by a signal the master did not send */
	METRICS_EXIT_HUNG,	/* killed by the master as hung */
	METRICS_EXIT_DEADLINE,	/* killed past shutdown_timeout */
	METRICS_EXIT_NCAUSES
};

/* Counters the master keeps itself; they only grow. */
struct metrics_counters {
	uint64_t	worker_starts;
	uint64_t	worker_exits[METRICS_EXIT_NCAUSES];
	uint64_t	reloads_ok;
	uint64_t	reloads_failed;
};

/* One live worker's series, labelled by slot. */
struct metrics_worker {
	unsigned	slot;
	unsigned	generation;
	uint64_t	open;
	uint64_t	accepted;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
};

/* Everything one scrape shows; the totals include exited workers. */
struct metrics_snapshot {
	const char		*version;
	struct metrics_counters	 c;
	uint64_t		 accepted;
	uint64_t		 open;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	uint64_t		 refused_deny;	/* allow/deny said no */
	uint64_t		 refused_limit;	/* over a per-client limit */
	uint64_t		 proxy[SCOREBOARD_PROXY_NRESULTS];
	struct scoreboard_udp	 udp;		/* received, echoed, dropped */
	struct scoreboard_udp	 stamp;		/* the same for STAMP */
	unsigned		 workers_configured;
	unsigned		 workers_live;
	unsigned		 generation;
	const struct metrics_worker *workers;
	size_t			 nworkers;
};

enum metrics_exit_cause metrics_exit_cause(int wstatus, bool asked,
	    bool killed_hung, bool killed_at_deadline);
const char *metrics_exit_cause_name(enum metrics_exit_cause);
int	metrics_format(const struct metrics_snapshot *, char *buf, size_t size);

#endif
