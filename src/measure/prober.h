/* SPDX-License-Identifier: ISC */
/*
 * prober.h: sockecho -p --metrics-listen: the RTT histogram with fixed
 * buckets, the last success, and the Prometheus text exposition of them
 * and of the probe counters (stats.c keeps those), served by prober_http.c.
 */
#ifndef SOCKECHOD_PROBER_H
#define SOCKECHOD_PROBER_H

#include <stdint.h>
#include <stdio.h>

#include "measure/prober_http.h"
#include "client/stats.h"

/* The histogram's upper bounds in seconds, +Inf beside: see sockecho(1). */
#define PROBER_NBOUNDS	17
extern const double prober_bounds_s[PROBER_NBOUNDS];

struct prober_hist {
	uint64_t	bucket[PROBER_NBOUNDS + 1];	/* not cumulative */
	uint64_t	count;
	uint64_t	sum_ns;
};

/* What the exposition shows: the labels and the counts. */
struct prober_view {
	const char			*target;	/* HOST:PORT, unix:/P */
	const char			*protocol;	/* tcp, udp */
	const struct prober_hist	*hist;
	const struct stats_probes	*probes;
	double				 last_success_s; /* 0: none yet */
	double				 interval_s;
	double				 wait_s;
};

struct prober {
	struct phttp		 http;
	struct prober_hist	 hist;
	double			 last_success_s;
	char			 target[300];
};

unsigned prober_bucket_of(uint64_t rtt_ns);
void	prober_hist_add(struct prober_hist *, uint64_t rtt_ns);
int	prober_expose(FILE *, const struct prober_view *);
void	prober_label_value(FILE *, const char *);
void	prober_observe(struct prober *, uint64_t rtt_ns);

#endif
