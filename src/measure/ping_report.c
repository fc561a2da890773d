/* SPDX-License-Identifier: ISC */
/*
 * ping_report.c: what sockecho --ping shows: the first line, a line per
 * probe, the summary in ping(8)'s shape, the running summary (SIGQUIT)
 * and the JSON document. It only formats: the numbers come from stats.c.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "measure/ping.h"
#include "measure/ping_int.h"
#include "core/sig.h"

static void	json_durations(FILE *, const char *, struct stats_rtt *);

/* Milliseconds with about three significant digits, as ping(8) has them. */
const char *
ping_report_ms(char *buf, size_t size, uint64_t ns)
{
	double	v = ns / 1e6;
	int	prec = v < 1 ? 3 : v < 10 ? 2 : v < 100 ? 1 : 0;

	snprintf(buf, size, "%.*f", prec, v);
	return buf;
}

static bool
lines_shown(const struct ping *p)
{
	return !p->o.quiet && !p->o.json;
}

static const char *
style(const struct ping *p)
{
	if (p->o.stamp)
		return p->o.ptp ? "STAMP, PTP timestamps" :
		    "STAMP, NTP timestamps";
	if (p->o.udp)
		return "udp echo";
	return p->o.connect_each ? "tcp echo, a connection per probe" :
	    "tcp echo, one connection";
}

void
ping_report_header(struct ping *p)
{
	if (p->o.json)
		return;
	fprintf(p->fp, "PING %s (%s): %zu bytes per probe, %s\n", p->o.host,
	    p->label, p->o.size, style(p));
	fflush(p->fp);
}

void
ping_report_back(struct ping *p, uint64_t seq, enum stats_reply r,
    uint64_t rtt_ns, uint64_t connect_ns)
{
	static const char *const note[] = {
		[STATS_BACK] = "",
		[STATS_REORDERED] = " (reordered)",
		[STATS_DUPLICATE] = " (DUP!)",
		[STATS_LATE] = " (late: counted lost)",
		[STATS_UNKNOWN] = " (never sent)",
	};
	char	t[32], c[32];

	if (p->prober != NULL && (r == STATS_BACK || r == STATS_REORDERED))
		prober_observe(p->prober, rtt_ns);
	if (!lines_shown(p))
		return;
	fprintf(p->fp, "%zu bytes from %s: seq=%llu", p->o.size, p->label,
	    (unsigned long long)seq);
	if (p->o.connect_each)
		fprintf(p->fp, " connect=%s ms", ping_report_ms(c, sizeof(c), connect_ns));
	fprintf(p->fp, " time=%s ms", ping_report_ms(t, sizeof(t), rtt_ns));
	if (p->kts.last_kernel && (r == STATS_BACK || r == STATS_REORDERED))
		fprintf(p->fp, " sched=%s ms", ping_report_ms(c, sizeof(c),
		    p->kts.last_sched_ns));
	fprintf(p->fp, "%s\n", note[r]);
	fflush(p->fp);
}

void
ping_report_mismatch(struct ping *p, uint64_t seq, size_t offset, size_t got,
    uint64_t rtt_ns)
{
	char	t[32];

	if (!lines_shown(p))
		return;
	fprintf(p->fp, "%zu bytes from %s: seq=%llu time=%s ms: ", got,
	    p->label, (unsigned long long)seq, ping_report_ms(t, sizeof(t), rtt_ns));
	if (offset >= p->o.size)
		fprintf(p->fp, "more bytes came back than were sent\n");
	else
		fprintf(p->fp, "the echo differs from the probe at byte %zu\n",
		    offset);
	fflush(p->fp);
}

void
ping_report_lost(struct ping *p, uint64_t seq, const char *why)
{
	if (!lines_shown(p))
		return;
	if (seq == 0)	/* about no probe in particular */
		fprintf(p->fp, "%s: %s\n", p->label, why);
	else
		fprintf(p->fp, "%s: seq=%llu: %s\n", p->label,
		    (unsigned long long)seq, why);
	fflush(p->fp);
}

void
ping_report_counts(const struct stats_probes *s, FILE *fp)
{
	const struct { const char *sign, *what; uint64_t v; } extra[] = {
		{ "+", "duplicates", s->duplicates },
		{ "", "mismatched", s->mismatched },
		{ "", "reordered", s->reordered },
		{ "", "late", s->late },
		{ "", "errors", s->errors },
		{ "", "strays", s->unknown },
	};
	size_t	i;

	fprintf(fp, "%llu probes transmitted, %llu received",
	    (unsigned long long)stats_probes_transmitted(s),
	    (unsigned long long)s->received);
	for (i = 0; i < nitems(extra); i++)
		if (extra[i].v > 0)
			fprintf(fp, ", %s%llu %s", extra[i].sign,
			    (unsigned long long)extra[i].v, extra[i].what);
	fprintf(fp, ", %g%% loss", stats_probes_loss_pct(s));
}

static void
durations(const char *what, struct stats_rtt *r, FILE *fp)
{
	struct stats_summary	s;

	stats_rtt_summary(r, &s);
	ping_report_durations(what, &s, fp);
}

void
ping_report_durations(const char *what, const struct stats_summary *sp,
    FILE *fp)
{
	struct stats_summary	s = *sp;
	const char		*sep = " ";
	size_t			 i;

	if (s.n == 0)
		return;
	fprintf(fp, "%s min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", what,
	    s.min_ms, s.avg_ms, s.max_ms, s.mdev_ms);
	if (!s.has_pctl[0])
		return;
	fprintf(fp, "%s", what);
	for (i = 0; i < STATS_NPCTL && s.has_pctl[i]; i++, sep = "/")
		fprintf(fp, "%sp%u", sep, stats_pctl[i]);
	for (i = 0, sep = " = "; i < STATS_NPCTL && s.has_pctl[i];
	    i++, sep = "/")
		fprintf(fp, "%s%.3f", sep, s.pctl_ms[i]);
	fprintf(fp, " ms\n");
}

void
ping_report_summary(struct ping *p, FILE *fp)
{
	uint64_t	end = p->end_ns ? p->end_ns : sig_monotonic_ns();

	fprintf(fp, "\n--- %s %s statistics ---\n", p->label,
	    p->o.stamp ? "STAMP" : "echo ping");
	ping_report_counts(&p->probes, fp);
	fprintf(fp, ", time %llums\n",
	    (unsigned long long)((end - p->start_ns) / PING_NS_PER_MS));
	if (p->o.connect_each)
		durations("connect", &p->conn, fp);
	durations("rtt", &p->rtt, fp);
	if (p->o.stamp && p->stamp != NULL)
		stampc_report_summary(p, fp);
	ping_report_kts(p, fp);
	fflush(fp);
}

/*
 * Which clock timed the round trips, and how long the client itself took
 * to see them (our round trip less the kernel's).
 */
void
ping_report_kts(struct ping *p, FILE *fp)
{
	struct ping_kts	*k = &p->kts;

	if (!k->on && k->err == 0) {
		fprintf(fp, "timestamps: user space (no socket was opened)\n");
		return;
	}
	if (!k->on) {
		fprintf(fp, "timestamps: user space (the kernel gives none: "
		    "%s)\n", strerror(k->err));
		return;
	}
	fprintf(fp, "timestamps: %s (kernel send %llu, receive %llu, both "
	    "%llu of %llu round trips)\n", ping_kts_mode(p),
	    (unsigned long long)k->tx_got, (unsigned long long)k->rx_got,
	    (unsigned long long)k->both, (unsigned long long)k->user.n);
	if (k->both == 0)
		return;
	durations("user-space rtt", &k->user, fp);
	durations("client delay", &k->sched, fp);
}

void
ping_report_json_kts(struct ping *p, FILE *fp)
{
	struct ping_kts	*k = &p->kts;

	fprintf(fp, ",\n  \"timestamps\": \"%s\",\n  \"kernel_timestamps\": "
	    "{ \"enabled\": %s, \"error\": ", ping_kts_mode(p),
	    k->on ? "true" : "false");
	if (k->on || k->err == 0)
		fprintf(fp, "null");
	else
		ping_report_json_string(fp, strerror(k->err));
	fprintf(fp, ", \"send\": %llu, \"receive\": %llu, \"both\": %llu }",
	    (unsigned long long)k->tx_got, (unsigned long long)k->rx_got,
	    (unsigned long long)k->both);
	json_durations(fp, "rtt_user_ms", &k->user);
	json_durations(fp, "client_delay_ms", &k->sched);
}

/* SIGQUIT: one line, like ping(8)'s, without stopping. */
void
ping_report_running(struct ping *p, FILE *fp)
{
	const struct stats_rtt	*r = &p->rtt;

	fprintf(fp, "%llu/%llu probes, %g%% loss",
	    (unsigned long long)p->probes.received,
	    (unsigned long long)stats_probes_transmitted(&p->probes),
	    stats_probes_loss_pct(&p->probes));
	if (r->n > 0)
		fprintf(fp, ", min/avg/max = %.3f/%.3f/%.3f ms",
		    r->min_ns / 1e6, r->mean_ns / 1e6, r->max_ns / 1e6);
	fprintf(fp, "\n");
	fflush(fp);
}

void
ping_report_json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
json_durations(FILE *fp, const char *key, struct stats_rtt *r)
{
	struct stats_summary	s;

	stats_rtt_summary(r, &s);
	ping_report_json_summary(fp, key, &s);
}

void
ping_report_json_summary(FILE *fp, const char *key,
    const struct stats_summary *sp)
{
	struct stats_summary	s = *sp;
	size_t			i;

	fprintf(fp, ",\n  \"%s\": ", key);
	if (s.n == 0) {
		fprintf(fp, "null");
		return;
	}
	fprintf(fp, "{ \"min\": %.6f, \"avg\": %.6f, \"max\": %.6f, "
	    "\"mdev\": %.6f", s.min_ms, s.avg_ms, s.max_ms, s.mdev_ms);
	for (i = 0; i < STATS_NPCTL; i++)
		if (s.has_pctl[i])
			fprintf(fp, ", \"p%u\": %.6f", stats_pctl[i],
			    s.pctl_ms[i]);
		else
			fprintf(fp, ", \"p%u\": null", stats_pctl[i]);
	fprintf(fp, " }");
}

void
ping_report_json(struct ping *p, FILE *fp)
{
	const struct stats_probes	*s = &p->probes;
	const struct { const char *key; uint64_t v; } n[] = {
		{ "transmitted", stats_probes_transmitted(s) },
		{ "received", s->received },
		{ "mismatched", s->mismatched },
		{ "lost", s->lost },
		{ "errors", s->errors },
		{ "duplicates", s->duplicates },
		{ "reordered", s->reordered },
		{ "late", s->late },
		{ "strays", s->unknown },
		{ "time_ms", (p->end_ns - p->start_ns) / PING_NS_PER_MS },
	};
	size_t	i;

	fprintf(fp, "{\n  \"host\": ");
	ping_report_json_string(fp, p->o.host);
	fprintf(fp, ",\n  \"target\": ");
	ping_report_json_string(fp, p->label);
	fprintf(fp, ",\n  \"protocol\": \"%s\",\n  \"style\": \"%s\",\n"
	    "  \"size\": %zu,\n  \"interval_s\": %.6f", p->o.stamp ? "stamp" :
	    p->o.udp ? "udp" : "tcp", p->o.stamp ? (p->o.ptp ? "ptp" : "ntp") :
	    p->o.udp ? "datagram" : p->o.connect_each ? "connect" :
	    "persistent", p->o.size, p->o.interval_ns / 1e9);
	for (i = 0; i < nitems(n); i++)
		fprintf(fp, ",\n  \"%s\": %llu", n[i].key,
		    (unsigned long long)n[i].v);
	fprintf(fp, ",\n  \"loss_percent\": %.3f,\n  \"interrupted\": %s",
	    stats_probes_loss_pct(s), p->interrupted ? "true" : "false");
	json_durations(fp, "rtt_ms", &p->rtt);
	if (p->o.connect_each)
		json_durations(fp, "connect_ms", &p->conn);
	ping_report_json_kts(p, fp);
	if (p->o.stamp)
		stampc_report_json(p, fp);
	fprintf(fp, "\n}\n");
	fflush(fp);
}

/* The label of what is probed: "tcp" or "udp" (a new probe kind: here). */
const char *
ping_report_protocol(const struct ping *p)
{
	return p->o.udp ? "udp" : "tcp";
}

/* The prober's /metrics body (a phttp_render_fn): 0, or -1. */
int
ping_report_metrics(void *arg, char **buf, size_t *len)
{
	struct ping		*p = arg;
	struct prober_view	 v;
	FILE			*fp;
	int			 r;

	v = (struct prober_view){
		.target = p->prober->target,
		.protocol = ping_report_protocol(p),
		.hist = &p->prober->hist,
		.probes = &p->probes,
		.last_success_s = p->prober->last_success_s,
		.interval_s = p->o.interval_ns / 1e9,
		.wait_s = p->o.timeout_ns / 1e9,
	};
	if ((fp = open_memstream(buf, len)) == NULL)
		return -1;
	r = prober_expose(fp, &v);
	if (fclose(fp) == EOF || r == -1) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}
