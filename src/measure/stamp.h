/* SPDX-License-Identifier: ISC */
/*
 * stamp.h: sockecho --stamp, a STAMP Session-Sender (RFC 8762, the
 * unauthenticated mode, with RFC 8972's Session-Sender Identifier):
 * stamp_pkt.c builds and reads the packets and keeps the pure arithmetic
 * (timestamp formats, error estimates, which way a probe was lost);
 * stamp.c runs the session on a ping's socket; stamp_report.c shows it.
 */
#ifndef SOCKECHOD_STAMP_H
#define SOCKECHOD_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/stats.h"

#define STAMP_PORT		"862"
#define STAMP_MIN_SIZE		44	/* RFC 8762 figures 3 and 4 */
#define STAMP_MAX_SIZE		1472	/* a 1500-byte IPv4 MTU less headers */
#define STAMP_TTL		255	/* RFC 8762 4.2.1: sent with TTL 255 */

/* Offsets of the fields (RFC 8762 figure 3, RFC 8972 figure 1). */
#define STAMP_OFF_SEQ		0
#define STAMP_OFF_TS		4
#define STAMP_OFF_ERR		12
#define STAMP_OFF_SSID		14
/* The reflected packet's (RFC 8762 figure 4, RFC 8972 figure 2). */
#define STAMP_OFF_RX_TS		16
#define STAMP_OFF_S_SEQ		24
#define STAMP_OFF_S_TS		28
#define STAMP_OFF_S_ERR		36
#define STAMP_OFF_S_TTL		40

/* Error Estimate (RFC 4656 4.1.2): S, Z, Scale (6 bits), Multiplier. */
#define STAMP_ERR_S		0x8000u	/* the clock is synchronised */
#define STAMP_ERR_Z		0x4000u	/* PTP format, not NTP */

#define STAMP_NTP_UNIX_OFFSET	2208988800ull	/* 1900 to 1970, s */

/* One reflected packet, read. Times in the sender's nanoseconds. */
struct stamp_reply {
	uint32_t	seq;		/* the reflector's */
	uint64_t	t3_ns;		/* it sent this */
	uint16_t	err;
	uint16_t	ssid;
	uint64_t	t2_ns;		/* it received ours */
	uint32_t	s_seq;		/* ours, reflected */
	uint64_t	t1_ns;		/* our timestamp, reflected */
	uint16_t	s_err;
	uint8_t		s_ttl;
};

/* Which way the lost probes went, against a stateful reflector. */
struct stamp_loss {
	bool		stateful;	/* a reply showed its own numbering */
	uint64_t	forward;
	uint64_t	backward;
	uint64_t	unknown;	/* after the last reply: either way */
};

/* What the replies so far say about the reflector's numbering. */
struct stamp_seqs {
	bool		any;
	bool		stateful;
	uint32_t	max_refl;	/* the highest reflector sequence */
	uint32_t	s_at_max;	/* our sequence in that reply */
	uint64_t	distinct;	/* replies counted once each */
};

/* stamp_pkt.c: pure */
uint64_t stampc_ntp_of(uint64_t unix_ns);
uint64_t stampc_ntp_ns(uint64_t ntp);
uint64_t stampc_ptp_of(uint64_t unix_ns, int tai_offset_s);
uint64_t stampc_ptp_ns(uint64_t ptp, int tai_offset_s);
uint16_t stampc_err_of(bool synced, bool ptp, uint64_t err_ns);
double	stampc_err_seconds(uint16_t err);
void	stampc_fill(unsigned char *buf, size_t size, uint32_t seq,
	    uint64_t ts, uint16_t err, uint16_t ssid);
int	stampc_parse(const unsigned char *buf, size_t n, size_t size,
	    int tai_offset_s, struct stamp_reply *);
void	stampc_seqs_add(struct stamp_seqs *, uint32_t s_seq, uint32_t refl);
void	stampc_loss_of(const struct stamp_seqs *, uint64_t lost,
	    struct stamp_loss *);

/* One-way figures may be negative (clock offsets): kept biased. */
#define STAMP_BIAS_NS		(1ull << 50)
int	stampc_signed_add(struct stats_rtt *, int64_t ns);
void	stampc_signed_summary(struct stats_rtt *, struct stats_summary *);

#endif
