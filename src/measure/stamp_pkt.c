/* SPDX-License-Identifier: ISC */
/*
 * stamp_pkt.c: the STAMP packets a Session-Sender sends and reads (RFC
 * 8762 figures 3 and 4, unauthenticated, with RFC 8972's SSID), the NTP
 * and PTP timestamp formats, the Error Estimate and the direction of loss,
 * as pure functions: no socket, no clock, no output.
 */
#include "build-config.h"

#include <math.h>
#include <string.h>

#include "measure/stamp.h"

#define NS_PER_S	1000000000ull

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* NTP: seconds since 1900, then a binary fraction of a second. */
uint64_t
stampc_ntp_of(uint64_t unix_ns)
{
	uint64_t	sec = unix_ns / NS_PER_S + STAMP_NTP_UNIX_OFFSET;
	uint64_t	frac = ((unix_ns % NS_PER_S) << 32) / NS_PER_S;

	return sec << 32 | (frac & 0xffffffffu);
}

/* Back to Unix nanoseconds, rounded to the nearest. */
uint64_t
stampc_ntp_ns(uint64_t ntp)
{
	uint64_t	sec = (ntp >> 32) - STAMP_NTP_UNIX_OFFSET;
	uint64_t	frac = ntp & 0xffffffffu;

	return sec * NS_PER_S + ((frac * NS_PER_S + (1ull << 31)) >> 32);
}

/* PTPv2 truncated: TAI seconds since 1970, then nanoseconds. */
uint64_t
stampc_ptp_of(uint64_t unix_ns, int tai_offset_s)
{
	uint64_t	sec = unix_ns / NS_PER_S + (int64_t)tai_offset_s;

	return sec << 32 | (unix_ns % NS_PER_S);
}

uint64_t
stampc_ptp_ns(uint64_t ptp, int tai_offset_s)
{
	uint64_t	sec = (ptp >> 32) - (int64_t)tai_offset_s;

	return sec * NS_PER_S + (ptp & 0xffffffffu);
}

/*
 * The Error Estimate of RFC 4656 4.1.2: Multiplier * 2^-32 * 2^Scale
 * seconds, the smallest Scale whose Multiplier (1 to 255, never 0) covers
 * err_ns.
 */
uint16_t
stampc_err_of(bool synced, bool ptp, uint64_t err_ns)
{
	double		units = ceil((double)err_ns * 4294967296.0 / 1e9);
	unsigned	scale = 0;

	while (scale < 63 && units > 255)
		units = ceil(units / 2), scale++;
	if (units < 1)
		units = 1;
	if (units > 255)
		units = 255;
	return (synced ? STAMP_ERR_S : 0) | (ptp ? STAMP_ERR_Z : 0) |
	    scale << 8 | (unsigned)units;
}

double
stampc_err_seconds(uint16_t err)
{
	return ldexp((double)(err & 0xff), (int)((err >> 8) & 0x3f) - 32);
}

/* A Session-Sender test packet: the fields, then zero padding to "size". */
void
stampc_fill(unsigned char *buf, size_t size, uint32_t seq, uint64_t ts,
    uint16_t err, uint16_t ssid)
{
	memset(buf, 0, size);
	put32(buf + STAMP_OFF_SEQ, seq);
	put32(buf + STAMP_OFF_TS, ts >> 32);
	put32(buf + STAMP_OFF_TS + 4, ts);
	buf[STAMP_OFF_ERR] = err >> 8;
	buf[STAMP_OFF_ERR + 1] = err;
	buf[STAMP_OFF_SSID] = ssid >> 8;
	buf[STAMP_OFF_SSID + 1] = ssid;
}

/* A timestamp in the format its own Error Estimate's Z bit names. */
static uint64_t
ts_ns(uint64_t ts, uint16_t err, int tai_offset_s)
{
	return err & STAMP_ERR_Z ? stampc_ptp_ns(ts, tai_offset_s) :
	    stampc_ntp_ns(ts);
}

/*
 * Read a reflected packet of "n" bytes: 0, or -1 when it cannot be the
 * answer to one of ours (not the size we sent: the sizes are symmetric).
 */
int
stampc_parse(const unsigned char *buf, size_t n, size_t size,
    int tai_offset_s, struct stamp_reply *r)
{
	if (n != size || n < STAMP_MIN_SIZE)
		return -1;
	r->seq = get32(buf + STAMP_OFF_SEQ);
	r->err = get16(buf + STAMP_OFF_ERR);
	r->t3_ns = ts_ns(get64(buf + STAMP_OFF_TS), r->err, tai_offset_s);
	r->ssid = get16(buf + STAMP_OFF_SSID);
	r->t2_ns = ts_ns(get64(buf + STAMP_OFF_RX_TS), r->err, tai_offset_s);
	r->s_seq = get32(buf + STAMP_OFF_S_SEQ);
	r->s_err = get16(buf + STAMP_OFF_S_ERR);
	r->t1_ns = ts_ns(get64(buf + STAMP_OFF_S_TS), r->s_err, tai_offset_s);
	r->s_ttl = buf[STAMP_OFF_S_TTL];
	return 0;
}

/*
 * A first reply to one of our probes: a stateful reflector numbers what
 * it received (RFC 8762 4.3), a stateless one copies our number.
 */
void
stampc_seqs_add(struct stamp_seqs *q, uint32_t s_seq, uint32_t refl)
{
	if (refl != s_seq)
		q->stateful = true;
	if (!q->any || refl > q->max_refl) {
		q->max_refl = refl;
		q->s_at_max = s_seq;
	}
	q->any = true;
	q->distinct++;
}

/*
 * Of the "lost" probes: up to the reply with the reflector's
 * highest number, it received max_refl + 1 of our s_at_max + 1 probes (the
 * rest were lost on the way out) and we received "distinct" of its
 * max_refl + 1 replies (the rest were lost on the way back). A probe lost
 * after that reply may have been lost either way.
 */
void
stampc_loss_of(const struct stamp_seqs *q, uint64_t lost, struct stamp_loss *l)
{
	uint64_t	reached, known;

	memset(l, 0, sizeof(*l));
	l->stateful = q->stateful;
	if (!q->any || !q->stateful) {
		l->unknown = lost;
		return;
	}
	reached = (uint64_t)q->max_refl + 1;
	l->forward = (uint64_t)q->s_at_max + 1 > reached ?
	    (uint64_t)q->s_at_max + 1 - reached : 0;
	l->backward = reached > q->distinct ? reached - q->distinct : 0;
	known = l->forward + l->backward;
	if (known > lost) {
		/* Replies reordered past the highest: trust the total. */
		l->backward = lost > l->forward ? lost - l->forward : 0;
		l->forward = lost - l->backward;
		known = lost;
	}
	l->unknown = lost - known;
}

int
stampc_signed_add(struct stats_rtt *r, int64_t ns)
{
	int64_t	b = (int64_t)STAMP_BIAS_NS;

	if (ns < -b)
		ns = -b;
	if (ns > b)
		ns = b;
	return stats_rtt_add(r, (uint64_t)(ns + b));
}

void
stampc_signed_summary(struct stats_rtt *r, struct stats_summary *s)
{
	double	bias_ms = STAMP_BIAS_NS / 1e6;
	size_t	i;

	stats_rtt_summary(r, s);
	if (s->n == 0)
		return;
	s->min_ms -= bias_ms;
	s->avg_ms -= bias_ms;
	s->max_ms -= bias_ms;
	for (i = 0; i < STATS_NPCTL; i++)
		s->pctl_ms[i] -= bias_ms;
}
