/* SPDX-License-Identifier: ISC */
/*
 * bulk_report.c: what sockecho --bulk shows: a line per stream and their
 * sum per interval and in total (MB/s out and back, TCP_INFO retransmits
 * and RTT, the client's CPU), the idle and loaded probe RTTs side by side,
 * as text or as --json-stream (one JSON object a line). Output only.
 */
#include "build-config.h"

#include <sys/resource.h>

#include <stdio.h>
#include <string.h>

#include "measure/bulk.h"
#include "measure/ping_int.h"
#include "core/sig.h"

static const char *const end_name[] = {
	[BULK_OK] = "ok",
	[BULK_MISMATCH] = "mismatch",
	[BULK_STALLED] = "stalled",
	[BULK_CLOSED] = "closed",
	[BULK_ERROR] = "error",
};

/* The client's CPU time so far (getrusage: user + system). */
double
bulk_cpu_seconds(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
secs(uint64_t ns)
{
	return (double)ns / BULK_NS_PER_S;
}

/* The sum over the streams, now and at the interval's start. */
void
bulk_sum(const struct bulk *b, struct bulk_count *now, struct bulk_count *mark)
{
	unsigned	i;

	memset(now, 0, sizeof(*now));
	memset(mark, 0, sizeof(*mark));
	for (i = 0; i < b->o.parallel; i++) {
		now->out += b->s[i].now.out;
		now->back += b->s[i].now.back;
		now->retrans += b->s[i].now.retrans;
		mark->out += b->s[i].mark.out;
		mark->back += b->s[i].mark.back;
		mark->retrans += b->s[i].mark.retrans;
	}
}

void
bulk_report_header(struct bulk *b)
{
	if (b->o.json)
		return;
	fprintf(b->fp, "BULK %s (%s): %u stream%s, ", b->o.host, b->label,
	    b->o.parallel, b->o.parallel == 1 ? "" : "s");
	if (b->o.bytes)
		fprintf(b->fp, "%llu bytes each", (unsigned long long)
		    b->o.bytes);
	else
		fprintf(b->fp, "%.2f s", secs(b->o.time_ns));
	fprintf(b->fp, ", %zu bytes a write, seed %llu\n", b->o.length,
	    (unsigned long long)b->o.seed);
	if (!b->o.quiet && b->o.interval_ns)
		fprintf(b->fp, "[ ID] Interval (s)     Out MB/s  Back MB/s"
		    "  Retr   RTT ms\n");
	fflush(b->fp);
}

/* One text line: "id" 0 is the sum. */
static void
text_line(struct bulk *b, unsigned id, const struct bulk_count *now,
    const struct bulk_count *mark, uint64_t t0, uint64_t t1)
{
	uint64_t	ns = t1 - t0;

	if (id == 0)
		fprintf(b->fp, "[SUM]");
	else
		fprintf(b->fp, "[%3u]", id);
	fprintf(b->fp, " %7.2f-%-7.2f %9.1f  %9.1f  %4llu", secs(t0 -
	    b->start_ns), secs(t1 - b->start_ns), bulk_mbps(now->out -
	    mark->out, ns), bulk_mbps(now->back - mark->back, ns),
	    (unsigned long long)(now->retrans - mark->retrans));
	if (id != 0 && now->rtt_us)
		fprintf(b->fp, "  %7.3f", now->rtt_us / 1e3);
	fprintf(b->fp, "\n");
}

/* One JSON object of counts: "id" 0 is the sum. */
static void
json_count(struct bulk *b, unsigned id, const struct bulk_count *now,
    const struct bulk_count *mark, uint64_t ns)
{
	fprintf(b->fp, "{");
	if (id)
		fprintf(b->fp, "\"id\":%u,", id);
	fprintf(b->fp, "\"bytes_out\":%llu,\"bytes_back\":%llu,"
	    "\"out_MBps\":%.3f,\"back_MBps\":%.3f,\"retransmits\":%llu",
	    (unsigned long long)(now->out - mark->out),
	    (unsigned long long)(now->back - mark->back),
	    bulk_mbps(now->out - mark->out, ns),
	    bulk_mbps(now->back - mark->back, ns),
	    (unsigned long long)(now->retrans - mark->retrans));
	if (id)
		fprintf(b->fp, ",\"rtt_ms\":%.3f", now->rtt_us / 1e3);
	fprintf(b->fp, "}");
}

/* The streams and their sum from "t0" (counts "mark") to "t1". */
static void
report_span(struct bulk *b, const char *type, bool from_start, uint64_t t0,
    uint64_t t1, double cpu_s)
{
	static const struct bulk_count	zero;
	struct bulk_count		sum, summark;
	unsigned			i;

	bulk_sum(b, &sum, &summark);
	if (from_start)
		summark = zero;
	if (b->o.json) {
		fprintf(b->fp, "{\"type\":\"%s\",\"start\":%.3f,\"end\":%.3f,"
		    "\"streams\":[", type, secs(t0 - b->start_ns),
		    secs(t1 - b->start_ns));
		for (i = 0; i < b->o.parallel; i++) {
			fprintf(b->fp, i ? "," : "");
			json_count(b, i + 1, &b->s[i].now, from_start ? &zero :
			    &b->s[i].mark, t1 - t0);
		}
		fprintf(b->fp, "],\"sum\":");
		json_count(b, 0, &sum, &summark, t1 - t0);
		fprintf(b->fp, ",\"cpu_s\":%.3f,\"cpu_pct\":%.1f", cpu_s,
		    t1 > t0 ? 100 * cpu_s / secs(t1 - t0) : 0);
		return;
	}
	for (i = 0; i < b->o.parallel; i++)
		text_line(b, i + 1, &b->s[i].now, from_start ? &zero :
		    &b->s[i].mark, t0, t1);
	if (b->o.parallel > 1)
		text_line(b, 0, &sum, &summark, t0, t1);
}

void
bulk_report_interval(struct bulk *b, uint64_t now_ns)
{
	double	cpu = bulk_cpu_seconds();

	if (!b->o.quiet && now_ns > b->mark_ns) {
		report_span(b, "interval", false, b->mark_ns, now_ns,
		    cpu - b->cpu_int_s);
		if (b->o.json)
			fprintf(b->fp, "}\n");
		fflush(b->fp);
	}
	b->cpu_int_s = cpu;
}

static void
json_ping(struct bulk *b, const char *name, const struct bulk_ping *p)
{
	unsigned	i;

	fprintf(b->fp, ",\"%s\":{\"sent\":%llu,\"received\":%llu,"
	    "\"lost\":%llu,\"min_ms\":%.3f,\"avg_ms\":%.3f,\"max_ms\":%.3f",
	    name, (unsigned long long)p->sent,
	    (unsigned long long)p->received, (unsigned long long)p->lost,
	    p->rtt.min_ms, p->rtt.avg_ms, p->rtt.max_ms);
	for (i = 0; i < STATS_NPCTL; i++)
		if (p->rtt.has_pctl[i])
			fprintf(b->fp, ",\"p%u_ms\":%.3f", stats_pctl[i],
			    p->rtt.pctl_ms[i]);
	fprintf(b->fp, "}");
}

static void
text_ping(struct bulk *b, const char *name, const struct bulk_ping *p)
{
	unsigned	i;

	fprintf(b->fp, "%-7s %6llu %5llu %8.3f", name,
	    (unsigned long long)p->sent, (unsigned long long)p->lost,
	    p->rtt.n ? p->rtt.min_ms : 0);
	for (i = 0; i < STATS_NPCTL; i++) {
		if (p->rtt.has_pctl[i])
			fprintf(b->fp, " %8.3f", p->rtt.pctl_ms[i]);
		else
			fprintf(b->fp, " %8s", "-");
	}
	fprintf(b->fp, " %8.3f\n", p->rtt.n ? p->rtt.max_ms : 0);
}

/* Idle and loaded RTTs side by side, the load's throughput beside. */
static void
text_latency(struct bulk *b)
{
	struct bulk_count	sum, mark;
	uint64_t		ns = b->end_ns - b->start_ns;

	bulk_sum(b, &sum, &mark);
	fprintf(b->fp, "latency under load (ms):\n"
	    "phase    sent  lost      min      p50      p90      p99      "
	    "max\n");
	text_ping(b, "idle", &b->idle);
	text_ping(b, "loaded", &b->loaded);
	if (b->idle.rtt.has_pctl[0] && b->loaded.rtt.has_pctl[0])
		fprintf(b->fp, "p50 under load: %+.3f ms (x%.1f)",
		    b->loaded.rtt.pctl_ms[0] - b->idle.rtt.pctl_ms[0],
		    b->idle.rtt.pctl_ms[0] > 0 ? b->loaded.rtt.pctl_ms[0] /
		    b->idle.rtt.pctl_ms[0] : 0);
	fprintf(b->fp, "%sload %.1f MB/s out, %.1f MB/s back\n",
	    b->idle.rtt.has_pctl[0] && b->loaded.rtt.has_pctl[0] ? ", " : "",
	    bulk_mbps(sum.out, ns), bulk_mbps(sum.back, ns));
}

/* The totals, from the start; the run's end and why. */
void
bulk_report_end(struct bulk *b)
{
	uint64_t	ns = b->end_ns - b->start_ns;

	if (!b->o.json)
		fprintf(b->fp, "- - - totals%s\n", b->end == BULK_OK ?
		    ", every byte back and checked" : "");
	report_span(b, "end", true, b->start_ns, b->end_ns, b->cpu_s);
	if (b->o.json) {
		fprintf(b->fp, ",\"target\":");
		ping_report_json_string(b->fp, b->label);
		fprintf(b->fp, ",\"result\":\"%s\"", end_name[b->end]);
		if (b->end != BULK_OK) {
			fprintf(b->fp, ",\"error\":");
			ping_report_json_string(b->fp, b->why);
		}
		if (b->end == BULK_MISMATCH)
			fprintf(b->fp, ",\"stream\":%u,\"offset\":%llu",
			    b->bad_stream, (unsigned long long)b->bad_offset);
		if (b->o.ping) {
			json_ping(b, "idle", &b->idle);
			json_ping(b, "loaded", &b->loaded);
		}
		fprintf(b->fp, "}\n");
		fflush(b->fp);
		return;
	}
	fprintf(b->fp, "cpu %.2f s (user + system), %.0f%% of one core over "
	    "%.2f s\n", b->cpu_s, ns ? 100 * b->cpu_s / secs(ns) : 0,
	    secs(ns));
	if (b->o.ping)
		text_latency(b);
	fflush(b->fp);
}
