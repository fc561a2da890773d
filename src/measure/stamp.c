/* SPDX-License-Identifier: ISC */
/*
 * stamp.c: sockecho --stamp, a STAMP Session-Sender on a ping's UDP
 * socket: each probe a test packet (stamp_pkt.c), each reflected packet
 * read into T1..T4 (T1 and T4 the kernel's when it gives them), and the
 * figures kept: round trip, forward and backward delay, the reflector's
 * residence, the direction of loss and the clocks' synchronisation. The
 * schedule is ping_udp.c's; what is shown is stamp_report.c's.
 */
#include "build-config.h"

#include <sys/timex.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "measure/ktstamp.h"
#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/stamp.h"
#include "measure/stamp_int.h"
#include "core/sig.h"

/* Our clock's state: synchronised, its error estimate, TAI - UTC. */
static void
read_clock(struct stamp_run *s, bool ptp)
{
	struct timex	tx;
	int		state;
	uint64_t	err_us;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	s->self_synced = state != -1 && state != TIME_ERROR &&
	    !(tx.status & STA_UNSYNC);
	s->tai = state == -1 ? 0 : tx.tai;
	err_us = s->self_synced ? (uint64_t)tx.esterror :
	    (uint64_t)tx.maxerror;
	s->err = stampc_err_of(s->self_synced, ptp, err_us * 1000);
}

/* The sender's TTL or hop limit 255, so that the reflector's copy counts hops. */
static int
set_ttl(struct ping *p)
{
	int	ttl = STAMP_TTL;

	if (p->addr.ss_family == AF_INET6)
		return setsockopt(p->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
		    sizeof(ttl));
	return setsockopt(p->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
}

/* The session on p->fd: 0, or -1 (errno). */
int
stampc_open(struct ping *p)
{
	struct stamp_run	*s;

	if (p->stamp == NULL && (p->stamp = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s = p->stamp;
	if (set_ttl(p) == -1)
		return -1;
	read_clock(s, p->o.ptp);
	s->seqs.stateful = p->o.stateful;
	/* RFC 8972 4.1: a session's SSID, never 0; from the run's id. */
	s->ssid = (uint16_t)(p->run_id ^ p->run_id >> 16);
	if (s->ssid == 0)
		s->ssid = 1;
	return 0;
}

void
stampc_free(struct ping *p)
{
	struct stamp_run	*s = p->stamp;

	if (s == NULL)
		return;
	stats_rtt_free(&s->fwd);
	stats_rtt_free(&s->back);
	stats_rtt_free(&s->res);
	free(s);
	p->stamp = NULL;
}

/* Probe "seq" (our first is 1, its wire number 0) at user time rt_ns. */
void
stampc_prepare(struct ping *p, uint64_t seq, uint64_t rt_ns)
{
	struct stamp_run	*s = p->stamp;
	uint64_t		 ts;

	ts = p->o.ptp ? stampc_ptp_of(rt_ns, s->tai) : stampc_ntp_of(rt_ns);
	stampc_fill(p->out, p->o.size, (uint32_t)(seq - 1), ts, s->err,
	    s->ssid);
}

/* Is this reply about a probe of this session? Its stats seq then. */
static bool
ours(struct ping *p, const struct stamp_reply *r, uint64_t *seq)
{
	struct stamp_run	*s = p->stamp;

	/* A reflector of RFC 8762 alone leaves the SSID zero. */
	if (r->ssid != s->ssid && r->ssid != 0)
		return false;
	*seq = (uint64_t)r->s_seq + 1;
	if (*seq >= p->probes.next_seq)
		return false;
	/* Our own timestamp comes back as it went (rounding is exact). */
	return r->t1_ns == p->kts.user_tx_ns[*seq % STATS_WINDOW];
}

static void
add(struct stats_rtt *r, int64_t ns)
{
	if (stampc_signed_add(r, ns) == -1)
		ping_fatal(EX_OSERR, "out of memory");
}

/* T1..T4 of a first reply, into the figures. */
static void
measure(struct ping *p, uint64_t seq, const struct stamp_reply *r,
    uint64_t t4)
{
	struct stamp_run	*s = p->stamp;
	uint64_t		 t1 = p->kts.tx_ns[seq % STATS_WINDOW];

	if (t1 == 0)
		t1 = p->kts.user_tx_ns[seq % STATS_WINDOW];
	s->last.fwd = (int64_t)(r->t2_ns - t1);
	s->last.back = (int64_t)(t4 - r->t3_ns);
	s->last.res = (int64_t)(r->t3_ns - r->t2_ns);
	s->last.ttl = r->s_ttl;
	add(&s->fwd, s->last.fwd);
	add(&s->back, s->last.back);
	add(&s->res, s->last.res);
	if (s->last.fwd < 0 || s->last.back < 0)
		s->negative++;
	if (!(r->err & STAMP_ERR_S))
		s->refl_unsynced++;
	stampc_seqs_add(&s->seqs, r->s_seq, r->seq);
}

/* One datagram from the reflector, "len" bytes in p->in. */
void
stampc_take(struct ping *p, size_t len, uint64_t krx_ns, uint64_t now_ns)
{
	struct stamp_reply	r;
	enum stats_reply	st;
	uint64_t		seq, user, rtt, t4;

	if (stampc_parse(p->in, len, p->o.size, p->stamp->tai, &r) == -1 ||
	    !ours(p, &r, &seq)) {
		p->probes.unknown++;
		return;
	}
	st = stats_probes_reply(&p->probes, seq, now_ns, &user);
	if (st == STATS_BACK || st == STATS_REORDERED) {
		t4 = krx_ns != 0 ? krx_ns : ktstamp_realtime_ns() -
		    (sig_monotonic_ns() - now_ns);
		ping_kts_back(p, seq, krx_ns, user, &rtt);
		if (stats_rtt_add(&p->rtt, rtt) == -1)
			ping_fatal(EX_OSERR, "out of memory");
		measure(p, seq, &r, t4);
		p->stamp->last.rtt = rtt;
	}
	stampc_report_back(p, seq, st);
}
