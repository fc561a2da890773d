/* SPDX-License-Identifier: ISC */
/* stamp.h: STAMP test packets (RFC 8762, RFC 8972's TLVs), read and answered as pure functions. */
#ifndef SOCKECHOD_STAMP_H
#define SOCKECHOD_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STAMP_PORT		"862"	/* RFC 8762 section 4.1 */
#define STAMP_BASE_BYTES	44	/* unauthenticated, TLVs after it */

/* The Error Estimate's bits (RFC 4656 section 4.1.2, RFC 8762 4.2.1). */
#define STAMP_EE_S		0x8000	/* synchronised to UTC */
#define STAMP_EE_Z		0x4000	/* PTPv2 timestamps, not NTP */
#define STAMP_EE_SCALE_SHIFT	8

/* The STAMP TLV Flags (RFC 8972 section 4). */
#define STAMP_TLV_U		0x80	/* unrecognised by the reflector */
#define STAMP_TLV_M		0x40	/* malformed */
#define STAMP_TLV_I		0x20	/* integrity check failed */
#define STAMP_TLV_HDR_BYTES	4
#define STAMP_TLV_PADDING	1	/* Extra Padding: reflected as it is */

/* Why a packet is not answered (beyond the UDP echo's own reasons). */
enum stamp_drop {
	STAMP_DROP_NONE = -1,
	STAMP_DROP_SHORT = 0,	/* shorter than STAMP_BASE_BYTES */
	STAMP_DROP_COUNT
};

/* What the reflector reads of a Session-Sender's test packet. */
struct stamp_request {
	uint32_t	seq;
	uint64_t	timestamp;	/* T1, as the sender wrote it */
	uint16_t	error_estimate;
	uint16_t	ssid;		/* RFC 8972; 0 from an RFC 8762 sender */
	bool		ptp;		/* the Z flag: answer in PTPv2 format */
};

/* What the reflector adds: its counter, its clock, the sender's TTL. */
struct stamp_answer {
	uint32_t	seq;		/* stateless: the sender's */
	uint64_t	t2;		/* receive timestamp, wire format */
	uint64_t	t3;		/* transmit timestamp, wire format */
	uint16_t	error_estimate;
	uint8_t		ttl;		/* the request's TTL or hop limit */
};

/* What the TLV walk found (RFC 8972), for the counters. */
struct stamp_tlv_result {
	unsigned	tlvs;		/* TLVs read */
	unsigned	unknown;	/* reflected with U set */
	bool		malformed;	/* M set on the last one, walk stopped */
};

enum stamp_drop stamp_parse(const uint8_t *, size_t, struct stamp_request *);
void	stamp_write_base(uint8_t *, const struct stamp_request *,
	    const struct stamp_answer *);
void	stamp_reflect_tlvs(uint8_t *, size_t, struct stamp_tlv_result *);
void	stamp_write_t3(uint8_t *, uint64_t);
uint64_t stamp_timestamp(const struct timespec *, bool ptp, int tai_offset_s);
uint16_t stamp_error_estimate(bool synced, bool ptp, uint64_t error_ns);
const char *stamp_drop_name(enum stamp_drop);

#endif
