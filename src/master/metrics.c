/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: the Prometheus text exposition format (version 0.0.4) of a
 * metrics_snapshot, and how a worker's exit is counted. Pure functions:
 * no sockets, no clock, no logging.
 */
#include "build-config.h"

#include <sys/wait.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "master/metrics.h"
#include "shm/udp_policy.h"

static const char *const cause_names[METRICS_EXIT_NCAUSES] = {
	[METRICS_EXIT_ASKED] = "asked",
	[METRICS_EXIT_FAILED] = "failed",
	[METRICS_EXIT_CRASHED] = "crashed",
	[METRICS_EXIT_HUNG] = "hung",
	[METRICS_EXIT_DEADLINE] = "deadline",
};

/* The master's SIGKILLs win over "asked": they are why it died. */
enum metrics_exit_cause
metrics_exit_cause(int wstatus, bool asked, bool killed_hung,
    bool killed_at_deadline)
{
	if (killed_hung)
		return METRICS_EXIT_HUNG;
	if (killed_at_deadline)
		return METRICS_EXIT_DEADLINE;
	if (asked)
		return METRICS_EXIT_ASKED;
	if (WIFSIGNALED(wstatus))
		return METRICS_EXIT_CRASHED;
	return METRICS_EXIT_FAILED;
}

const char *
metrics_exit_cause_name(enum metrics_exit_cause c)
{
	return c < METRICS_EXIT_NCAUSES ? cause_names[c] : "unknown";
}

/* An output buffer that remembers whether it ran out of room. */
struct out {
	char	*buf;
	size_t	 size;
	size_t	 len;
	bool	 full;
};

static void put(struct out *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(struct out *o, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(o, name, type, help);
	put(o, "%s %" PRIu64 "\n", name, v);
}

static void
format_proxy(struct out *o, const struct metrics_snapshot *s)
{
	static const char *const results[SCOREBOARD_PROXY_NRESULTS] = {
		[SCOREBOARD_PROXY_OK] = "ok",
		[SCOREBOARD_PROXY_BAD] = "bad",
		[SCOREBOARD_PROXY_TIMEOUT] = "timeout",
		[SCOREBOARD_PROXY_UNTRUSTED] = "untrusted",
	};
	int	r;

	family(o, "sockechod_proxy_headers_total", "counter",
	    "PROXY protocol headers on proxy_protocol listeners, by result: "
	    "ok (read), bad (malformed, oversized or cut short), timeout "
	    "(not whole within proxy_header_timeout_ms), untrusted (a peer "
	    "not in proxy_trusted, reset at once).");
	for (r = 0; r < SCOREBOARD_PROXY_NRESULTS; r++)
		put(o, "sockechod_proxy_headers_total{result=\"%s\"} %" PRIu64
		    "\n", results[r], s->proxy[r]);
}

/* UDP echo: what came in, what was answered, and why the rest was not. */
static void
format_udp(struct out *o, const struct metrics_snapshot *s)
{
	int	r;

	one(o, "sockechod_udp_received_datagrams_total", "counter",
	    "UDP datagrams the workers read.", s->udp.received);
	one(o, "sockechod_udp_echoed_datagrams_total", "counter",
	    "UDP datagrams answered.", s->udp.echoed);
	family(o, "sockechod_udp_dropped_datagrams_total", "counter",
	    "UDP datagrams not answered, by reason: port (source port 0, "
	    "listed, or a local service's), self (from our own socket), "
	    "source (a forged or unanswerable source address), group (sent "
	    "to multicast or the limited broadcast), broadcast (IPv4 not "
	    "sent to a unicast address of ours), loop (our answer come back "
	    "again and again), denied (allow and deny), client_rate, "
	    "global_rate, truncated, send_failed.");
	for (r = 0; r < UDP_DROP_COUNT; r++)
		put(o, "sockechod_udp_dropped_datagrams_total{reason=\"%s\"} %"
		    PRIu64 "\n", udp_policy_drop_name((enum udp_drop)r),
		    s->udp.dropped[r]);
}

/* The STAMP reflector: packets read, reflected, and why not. */
static void
format_stamp(struct out *o, const struct metrics_snapshot *s)
{
	int	r;

	one(o, "sockechod_stamp_received_packets_total", "counter",
	    "STAMP test packets the workers read.", s->stamp.received);
	one(o, "sockechod_stamp_reflected_packets_total", "counter",
	    "STAMP test packets reflected.", s->stamp.echoed);
	family(o, "sockechod_stamp_dropped_packets_total", "counter",
	    "STAMP test packets not reflected, by reason: malformed "
	    "(shorter than 44 bytes), then the reasons of "
	    "sockechod_udp_dropped_datagrams_total.");
	put(o, "sockechod_stamp_dropped_packets_total{reason=\"malformed\"} %"
	    PRIu64 "\n", s->stamp.malformed);
	for (r = 0; r < UDP_DROP_COUNT; r++)
		put(o, "sockechod_stamp_dropped_packets_total{reason=\"%s\"} %"
		    PRIu64 "\n", udp_policy_drop_name((enum udp_drop)r),
		    s->stamp.dropped[r]);
	family(o, "sockechod_stamp_tlvs_total", "counter",
	    "RFC 8972 TLVs reflected with a flag set: unknown (U), "
	    "malformed (M).");
	put(o, "sockechod_stamp_tlvs_total{flag=\"unknown\"} %" PRIu64
	    "\nsockechod_stamp_tlvs_total{flag=\"malformed\"} %" PRIu64 "\n",
	    s->stamp.tlv_unknown, s->stamp.tlv_malformed);
}

static void
format_totals(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "sockechod_build_info", "gauge",
	    "Always 1; the label says which sockechod version serves.");
	put(o, "sockechod_build_info{version=\"%s\"} 1\n", s->version);
	one(o, "sockechod_connections_accepted_total", "counter",
	    "TCP and Unix connections the workers accepted.", s->accepted);
	one(o, "sockechod_connections_open", "gauge",
	    "Connections open now.", s->open);
	family(o, "sockechod_connections_refused_total", "counter",
	    "Connections reset right after accept, by reason: deny (allow "
	    "and deny), limit (a per-client limit).");
	put(o, "sockechod_connections_refused_total{reason=\"deny\"} %" PRIu64
	    "\nsockechod_connections_refused_total{reason=\"limit\"} %"
	    PRIu64 "\n", s->refused_deny, s->refused_limit);
	format_proxy(o, s);
	one(o, "sockechod_sessions_completed_total", "counter",
	    "Connections that have ended (accepted, and no longer open).",
	    s->accepted >= s->open ? s->accepted - s->open : 0);
	one(o, "sockechod_received_bytes_total", "counter",
	    "Bytes read from clients.", s->bytes_in);
	one(o, "sockechod_sent_bytes_total", "counter",
	    "Bytes echoed back to clients.", s->bytes_out);
	format_udp(o, s);
	format_stamp(o, s);
}

static void
format_master(struct out *o, const struct metrics_snapshot *s)
{
	int	c;

	one(o, "sockechod_worker_starts_total", "counter",
	    "Worker processes started.", s->c.worker_starts);
	family(o, "sockechod_worker_exits_total", "counter",
	    "Worker processes that exited, by cause: asked (reload, recycling, "
	    "shrink, stop), failed (non-zero exit), crashed (a signal), hung "
	    "(killed as hung), deadline (killed past shutdown_timeout).");
	for (c = 0; c < METRICS_EXIT_NCAUSES; c++)
		put(o, "sockechod_worker_exits_total{cause=\"%s\"} %" PRIu64
		    "\n", cause_names[c], s->c.worker_exits[c]);
	one(o, "sockechod_hung_worker_kills_total", "counter",
	    "Workers the master SIGKILLed for showing no sign of life.",
	    s->c.worker_exits[METRICS_EXIT_HUNG]);
	family(o, "sockechod_reloads_total", "counter",
	    "Configuration reloads, by result.");
	put(o, "sockechod_reloads_total{result=\"ok\"} %" PRIu64 "\n"
	    "sockechod_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    s->c.reloads_ok, s->c.reloads_failed);
	one(o, "sockechod_workers_configured", "gauge",
	    "Workers the configuration asks for.", s->workers_configured);
	one(o, "sockechod_workers_live", "gauge",
	    "Worker processes alive now, of every generation.",
	    s->workers_live);
	one(o, "sockechod_generation", "gauge",
	    "The configuration generation being served (1, then one more "
	    "per successful reload).", s->generation);
}

/* name{slot="N",generation="G"} value, for each live worker. */
static void
format_workers(struct out *o, const struct metrics_snapshot *s)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} series[] = {
		{ "sockechod_worker_connections_open", "gauge",
		    "Connections open in this worker.",
		    offsetof(struct metrics_worker, open) },
		{ "sockechod_worker_connections_accepted_total", "counter",
		    "Connections this worker process accepted.",
		    offsetof(struct metrics_worker, accepted) },
		{ "sockechod_worker_received_bytes_total", "counter",
		    "Bytes this worker process read.",
		    offsetof(struct metrics_worker, bytes_in) },
		{ "sockechod_worker_sent_bytes_total", "counter",
		    "Bytes this worker process sent.",
		    offsetof(struct metrics_worker, bytes_out) },
	};
	const struct metrics_worker	*w;
	size_t				 i, k;

	for (k = 0; k < nitems(series); k++) {
		family(o, series[k].name, series[k].type, series[k].help);
		for (i = 0; i < s->nworkers; i++) {
			w = &s->workers[i];
			put(o, "%s{slot=\"%u\",generation=\"%u\"} %" PRIu64 "\n",
			    series[k].name, w->slot, w->generation,
			    *(const uint64_t *)(const void *)
			    ((const char *)w + series[k].offset));
		}
	}
}

/* The whole exposition into buf; its length, or -1 if it does not fit. */
int
metrics_format(const struct metrics_snapshot *s, char *buf, size_t size)
{
	struct out	o = { buf, size, 0, false };

	if (size == 0)
		return -1;
	buf[0] = '\0';
	format_totals(&o, s);
	format_master(&o, s);
	format_workers(&o, s);
	return o.full || o.len > INT32_MAX ? -1 : (int)o.len;
}
