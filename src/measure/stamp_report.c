/* SPDX-License-Identifier: ISC */
/*
 * stamp_report.c: what sockecho --stamp shows beyond an echo ping's
 * lines: T1..T4's figures per probe, the one-way delays and the
 * reflector's residence in the summary and the JSON, the direction of
 * loss and the warning when the clocks are not synchronised. It only
 * formats: the numbers come from stamp.c and stamp_pkt.c.
 */
#include "build-config.h"

#include <stdio.h>

#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/stamp.h"
#include "measure/stamp_int.h"

/* Signed milliseconds, as ping_report_ms() writes them. */
static const char *
sms(char *buf, size_t size, int64_t ns)
{
	char	t[32];

	snprintf(buf, size, "%s%s", ns < 0 ? "-" : "",
	    ping_report_ms(t, sizeof(t), ns < 0 ? (uint64_t)-ns : (uint64_t)ns));
	return buf;
}

/* Not synchronised: one-way figures are clock offsets, not delays. */
static bool
unsynced(const struct stamp_run *s)
{
	return !s->self_synced || s->refl_unsynced > 0 || s->negative > 0;
}

void
stampc_report_back(struct ping *p, uint64_t seq, enum stats_reply r)
{
	struct stamp_run	*s = p->stamp;
	char			 t[32], f[32], b[32], res[32], c[32];

	if (r != STATS_BACK && r != STATS_REORDERED) {
		ping_report_back(p, seq - 1, r, 0, 0);
		return;
	}
	if (p->o.quiet || p->o.json)
		return;
	fprintf(p->fp, "%zu bytes from %s: seq=%llu time=%s ms fwd=%s "
	    "back=%s res=%s ms ttl=%u", p->o.size, p->label,
	    (unsigned long long)seq - 1, ping_report_ms(t, sizeof(t),
	    s->last.rtt), sms(f, sizeof(f), s->last.fwd), sms(b, sizeof(b),
	    s->last.back), sms(res, sizeof(res), s->last.res), s->last.ttl);
	if (p->kts.last_kernel)
		fprintf(p->fp, " sched=%s ms", ping_report_ms(c, sizeof(c),
		    p->kts.last_sched_ns));
	fprintf(p->fp, "%s\n", r == STATS_REORDERED ? " (reordered)" : "");
	fflush(p->fp);
}

static void
signed_durations(const char *what, struct stats_rtt *r, FILE *fp)
{
	struct stats_summary	s;

	stampc_signed_summary(r, &s);
	ping_report_durations(what, &s, fp);
}

static void
warn_unsynced(const struct stamp_run *s, FILE *fp)
{
	fprintf(fp, "WARNING: the clocks are not synchronised (");
	if (!s->self_synced)
		fprintf(fp, "ours is not");
	if (s->refl_unsynced > 0)
		fprintf(fp, "%sthe reflector's Error Estimate says it is not "
		    "in %llu replies", !s->self_synced ? "; " : "",
		    (unsigned long long)s->refl_unsynced);
	if (s->negative > 0)
		fprintf(fp, "%s%llu one-way delays below zero",
		    !s->self_synced || s->refl_unsynced ? "; " : "",
		    (unsigned long long)s->negative);
	fprintf(fp, "): forward and backward are clock offsets, not "
	    "delays; rtt and residence hold\n");
}

void
stampc_report_summary(struct ping *p, FILE *fp)
{
	struct stamp_run	*s = p->stamp;
	struct stamp_loss	 l;
	bool			 off = unsynced(s);

	stampc_loss_of(&s->seqs, p->probes.lost, &l);
	fprintf(fp, "loss: forward %llu, backward %llu, either %llu (%s)\n",
	    (unsigned long long)l.forward, (unsigned long long)l.backward,
	    (unsigned long long)l.unknown, l.stateful ? "a stateful "
	    "reflector" : "the reflector's numbers follow ours: stateless, "
	    "or nothing lost on the way out (--stateful says which)");
	signed_durations(off ? "forward offset" : "forward", &s->fwd, fp);
	signed_durations(off ? "backward offset" : "backward", &s->back, fp);
	signed_durations("residence", &s->res, fp);
	if (off)
		warn_unsynced(s, fp);
}

static void
json_signed(FILE *fp, const char *key, struct stats_rtt *r)
{
	struct stats_summary	s;

	stampc_signed_summary(r, &s);
	if (s.n == 0) {
		fprintf(fp, ",\n  \"%s\": null", key);
		return;
	}
	ping_report_json_summary(fp, key, &s);
}

void
stampc_report_json(struct ping *p, FILE *fp)
{
	struct stamp_run	*s = p->stamp;
	struct stamp_loss	 l;

	if (s == NULL)
		return;
	stampc_loss_of(&s->seqs, p->probes.lost, &l);
	fprintf(fp, ",\n  \"ssid\": %u,\n  \"reflector_stateful\": %s,\n"
	    "  \"lost_forward\": %llu,\n  \"lost_backward\": %llu,\n"
	    "  \"lost_either\": %llu,\n  \"synchronised\": %s,\n"
	    "  \"sender_synchronised\": %s,\n  \"reflector_unsynchronised\": "
	    "%llu,\n  \"negative_one_way\": %llu", s->ssid,
	    l.stateful ? "true" : "false", (unsigned long long)l.forward,
	    (unsigned long long)l.backward, (unsigned long long)l.unknown,
	    unsynced(s) ? "false" : "true", s->self_synced ? "true" : "false",
	    (unsigned long long)s->refl_unsynced,
	    (unsigned long long)s->negative);
	json_signed(fp, "forward_ms", &s->fwd);
	json_signed(fp, "backward_ms", &s->back);
	json_signed(fp, "residence_ms", &s->res);
}
