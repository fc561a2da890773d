/* SPDX-License-Identifier: ISC */
/*
 * prober.c: what the prober shows: the RTT of each probe that came back
 * in a histogram of fixed buckets, and the Prometheus text exposition
 * (format 0.0.4) of it, of the probe counters and of the last success. A
 * lost probe is counted lost and never enters the histogram. It must not
 * touch a socket: prober_http.c serves what it writes.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "measure/prober.h"

#define NS_PER_S	1e9

/* 100 us to 10 s, 1-2.5-5 per decade: loopback to a satellite hop. */
const double prober_bounds_s[PROBER_NBOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 0,
};

/* The bucket of rtt_ns: the first bound it does not exceed (le). */
unsigned
prober_bucket_of(uint64_t rtt_ns)
{
	unsigned	i;

	for (i = 0; i < PROBER_NBOUNDS - 1; i++)
		if ((double)rtt_ns <= prober_bounds_s[i] * NS_PER_S)
			return i;
	return PROBER_NBOUNDS - 1;	/* +Inf */
}

void
prober_hist_add(struct prober_hist *h, uint64_t rtt_ns)
{
	h->bucket[prober_bucket_of(rtt_ns)]++;
	h->count++;
	h->sum_ns += rtt_ns;
}

/* A label value, escaped as the text format asks: \\, \" and \n. */
void
prober_label_value(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
labels(FILE *fp, const struct prober_view *v, const char *le)
{
	fputs("{target=\"", fp);
	prober_label_value(fp, v->target);
	fprintf(fp, "\",protocol=\"%s\"", v->protocol);
	if (le != NULL)
		fprintf(fp, ",le=\"%s\"", le);
	fputc('}', fp);
}

static void
head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sample(FILE *fp, const struct prober_view *v, const char *name,
    const char *type, const char *help, double value)
{
	head(fp, name, type, help);
	fputs(name, fp);
	labels(fp, v, NULL);
	if (value == (double)(uint64_t)value)
		fprintf(fp, " %.0f\n", value);
	else
		fprintf(fp, " %.9f\n", value);
}

static void
histogram(FILE *fp, const struct prober_view *v)
{
	char		le[32];
	uint64_t	cum = 0;
	unsigned	i;

	head(fp, "sockecho_probe_rtt_seconds", "histogram", "Time from "
	    "sending a probe to the last byte of its echo, of the probes "
	    "that came back (a lost probe is not in it).");
	for (i = 0; i < PROBER_NBOUNDS; i++) {
		cum += v->hist->bucket[i];
		if (i < PROBER_NBOUNDS - 1)
			snprintf(le, sizeof(le), "%g", prober_bounds_s[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		fputs("sockecho_probe_rtt_seconds_bucket", fp);
		labels(fp, v, le);
		fprintf(fp, " %llu\n", (unsigned long long)cum);
	}
	fputs("sockecho_probe_rtt_seconds_sum", fp);
	labels(fp, v, NULL);
	fprintf(fp, " %.9f\n", v->hist->sum_ns / NS_PER_S);
	fputs("sockecho_probe_rtt_seconds_count", fp);
	labels(fp, v, NULL);
	fprintf(fp, " %llu\n", (unsigned long long)v->hist->count);
}

static void
counters(FILE *fp, const struct prober_view *v)
{
	const struct stats_probes	*s = v->probes;

	sample(fp, v, "sockecho_probes_sent_total", "counter",
	    "Probes sent (in flight included).", (double)(s->next_seq - 1));
	sample(fp, v, "sockecho_probes_received_total", "counter",
	    "Probes whose echo came back whole and intact within the wait.",
	    (double)s->received);
	sample(fp, v, "sockecho_probes_lost_total", "counter",
	    "Probes not back within the wait, or whose send or connection "
	    "failed.", (double)s->lost);
	sample(fp, v, "sockecho_probes_duplicated_total", "counter",
	    "Echoes of a probe that had already come back.",
	    (double)s->duplicates);
	sample(fp, v, "sockecho_probes_reordered_total", "counter",
	    "Probes that came back after a later probe.",
	    (double)s->reordered);
	sample(fp, v, "sockecho_probes_mismatched_total", "counter",
	    "Probes whose echo differed from what was sent.",
	    (double)s->mismatched);
	sample(fp, v, "sockecho_probes_late_total", "counter",
	    "Echoes that came after their probe was counted lost.",
	    (double)s->late);
	sample(fp, v, "sockecho_probes_in_flight", "gauge",
	    "Probes sent whose fate is not known yet.", (double)s->out);
}

/* The whole exposition: 0, or -1 if the stream failed. */
int
prober_expose(FILE *fp, const struct prober_view *v)
{
	histogram(fp, v);
	counters(fp, v);
	sample(fp, v, "sockecho_probe_last_success_timestamp_seconds",
	    "gauge", "When a probe last came back intact, in seconds since "
	    "the epoch; 0: never.", v->last_success_s);
	sample(fp, v, "sockecho_probe_interval_seconds", "gauge",
	    "Time between probes (-i).", v->interval_s);
	sample(fp, v, "sockecho_probe_wait_seconds", "gauge",
	    "A probe not back by then is lost (-w).", v->wait_s);
	return ferror(fp) ? -1 : 0;
}

/* A probe came back intact after rtt_ns: into the histogram, and now. */
void
prober_observe(struct prober *pr, uint64_t rtt_ns)
{
	struct timespec	ts;

	prober_hist_add(&pr->hist, rtt_ns);
	clock_gettime(CLOCK_REALTIME, &ts);
	pr->last_success_s = ts.tv_sec + ts.tv_nsec / NS_PER_S;
}
