/* SPDX-License-Identifier: ISC */
/*
 * stamp.c: the packet formats of STAMP (RFC 8762, unauthenticated mode)
 * and the TLVs of RFC 8972: read a Session-Sender's test packet, write
 * the Session-Reflector's answer over it, in place and never longer, and
 * encode timestamps and Error Estimates. Pure: no socket, no clock, no
 * state; the worker (worker/stamp_reflect.c) brings the times.
 */
#include "build-config.h"

#include <string.h>

#include "net/stamp.h"

/* The sender's fields (RFC 8762 figure 1; the SSID is RFC 8972's). */
#define SND_SEQ		0
#define SND_TS		4
#define SND_EE		12
#define SND_SSID	14

/* The reflector's (RFC 8762 figure 3, RFC 8972 section 3). */
#define REF_SEQ		0
#define REF_TS		4
#define REF_EE		12
#define REF_SSID	14
#define REF_RX_TS	16
#define REF_SND_SEQ	24
#define REF_SND_TS	28
#define REF_SND_EE	36
#define REF_MBZ1	38
#define REF_SND_TTL	40
#define REF_MBZ2	41

#define NTP_UNIX_OFFSET_S	2208988800ULL	/* 1900 to 1970 */
#define NS_PER_S		1000000000ULL
#define EE_MULTIPLIER_MAX	255
#define EE_SCALE_MAX		63

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/*
 * A test packet is at least the 44 bytes of RFC 8762's unauthenticated
 * format; its MBZ bytes are not checked (section 4.2.1: the reflector
 * ignores them), so that a sender of a later version is still answered.
 */
enum stamp_drop
stamp_parse(const uint8_t *p, size_t len, struct stamp_request *r)
{
	if (len < STAMP_BASE_BYTES)
		return STAMP_DROP_SHORT;
	r->seq = get32(p + SND_SEQ);
	r->timestamp = get64(p + SND_TS);
	r->error_estimate = get16(p + SND_EE);
	r->ssid = get16(p + SND_SSID);
	r->ptp = (r->error_estimate & STAMP_EE_Z) != 0;
	return STAMP_DROP_NONE;
}

/*
 * Write the reflector's 44 bytes over the request's (whose fields the
 * caller read first into "q"); the bytes after them are the TLVs.
 */
void
stamp_write_base(uint8_t *p, const struct stamp_request *q,
    const struct stamp_answer *a)
{
	put32(p + REF_SEQ, a->seq);
	put64(p + REF_TS, a->t3);
	put16(p + REF_EE, a->error_estimate);
	put16(p + REF_SSID, q->ssid);
	put64(p + REF_RX_TS, a->t2);
	put32(p + REF_SND_SEQ, q->seq);
	put64(p + REF_SND_TS, q->timestamp);
	put16(p + REF_SND_EE, q->error_estimate);
	put16(p + REF_MBZ1, 0);
	p[REF_SND_TTL] = a->ttl;
	memset(p + REF_MBZ2, 0, STAMP_BASE_BYTES - REF_MBZ2);
}

/* The Timestamp (T3) of an answer, written last. */
void
stamp_write_t3(uint8_t *p, uint64_t t3)
{
	put64(p + REF_TS, t3);
}

/* Where the zeros that run to the end of p[0..len) begin. */
static size_t
zeros_from(const uint8_t *p, size_t len)
{
	while (len > 0 && p[len - 1] == 0)
		len--;
	return len;
}

/*
 * The TLVs after the base packet, in place (RFC 8972 section 4): a type
 * this reflector does not know is copied with the U flag set; Extra
 * Padding is copied as it is. A TLV whose length runs past the packet
 * gets the M flag and ends the walk; the bytes after it stay as they
 * came. Zeros to the end are RFC 8762 padding, not TLVs of type 0.
 */
void
stamp_reflect_tlvs(uint8_t *p, size_t len, struct stamp_tlv_result *res)
{
	size_t		off = STAMP_BASE_BYTES, vlen, pad;

	/*
	 * Found once: a test against the rest at every TLV made a packet of
	 * 16,000 empty TLVs cost 0.15 s of a worker (found in review).
	 */
	pad = zeros_from(p, len);
	memset(res, 0, sizeof(*res));
	while (off < len) {
		if (off >= pad)
			return;
		res->tlvs++;
		if (len - off < STAMP_TLV_HDR_BYTES ||
		    (vlen = get16(p + off + 2)) >
		    len - off - STAMP_TLV_HDR_BYTES) {
			p[off] |= STAMP_TLV_M;
			res->malformed = true;
			return;
		}
		if (p[off + 1] != STAMP_TLV_PADDING) {
			p[off] |= STAMP_TLV_U;
			res->unknown++;
		}
		off += STAMP_TLV_HDR_BYTES + vlen;
	}
}

/*
 * A time as a STAMP timestamp: NTP's 64-bit format (seconds since 1900,
 * and a binary fraction), or with "ptp" PTPv2's truncated one (seconds
 * since 1970 in TAI, and nanoseconds), TAI being UTC plus the kernel's
 * TAI offset.
 */
uint64_t
stamp_timestamp(const struct timespec *ts, bool ptp, int tai_offset_s)
{
	uint64_t	sec, frac;

	if (ptp) {
		sec = (uint64_t)ts->tv_sec + (uint64_t)(int64_t)tai_offset_s;
		return (uint64_t)(uint32_t)sec << 32 | (uint32_t)ts->tv_nsec;
	}
	sec = (uint64_t)ts->tv_sec + NTP_UNIX_OFFSET_S;
	frac = ((uint64_t)ts->tv_nsec << 32) / NS_PER_S;
	return (uint64_t)(uint32_t)sec << 32 | (uint32_t)frac;
}

/*
 * The Error Estimate (RFC 4656 section 4.1.2): the error is Multiplier
 * times 2^(Scale - 32) seconds; the smallest Scale whose Multiplier,
 * rounded up, fits in 8 bits, so that the estimate is never smaller
 * than the error. The Multiplier is never 0 (RFC 8762 section 4.2.1).
 */
uint16_t
stamp_error_estimate(bool synced, bool ptp, uint64_t error_ns)
{
	unsigned __int128	units;
	uint64_t		mult;
	unsigned		scale = 0;

	units = ((unsigned __int128)error_ns << 32) / NS_PER_S +
	    (((unsigned __int128)error_ns << 32) % NS_PER_S != 0);
	for (;;) {
		mult = (uint64_t)((units + ((unsigned __int128)1 << scale) -
		    1) >> scale);
		if (mult <= EE_MULTIPLIER_MAX || scale == EE_SCALE_MAX)
			break;
		scale++;
	}
	if (mult > EE_MULTIPLIER_MAX)
		mult = EE_MULTIPLIER_MAX;
	if (mult == 0)
		mult = 1;
	return (uint16_t)((synced ? STAMP_EE_S : 0) | (ptp ? STAMP_EE_Z : 0) |
	    scale << STAMP_EE_SCALE_SHIFT | mult);
}

const char *
stamp_drop_name(enum stamp_drop why)
{
	switch (why) {
	case STAMP_DROP_SHORT:
		return "malformed";
	default:
		return "?";
	}
}
