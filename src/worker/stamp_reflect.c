/* SPDX-License-Identifier: ISC */
/*
 * stamp_reflect.c: a worker's STAMP Session-Reflector (RFC 8762). It
 * turns a test packet that udp.c read and admitted into the answer, in
 * place and of the same length: T2 from the kernel's receive stamp, the
 * sender's TTL from the kernel, the sequence number from the shared
 * session table when stateful, the TLVs by net/stamp.c; T3 last, just
 * before udp.c sends the batch. No socket calls but the clock's.
 */
#include "build-config.h"

#include <sys/timex.h>
#include <netinet/in.h>

#include <string.h>
#include <time.h>

#include "worker/stamp_reflect.h"

#define NS_PER_US		1000ULL
/* Never claim better than the clock's tick can say: 1 us. */
#define STAMP_MIN_ERROR_NS	1000ULL

/*
 * Synchronised means the kernel's clock discipline says so (an NTP or PTP
 * daemon keeps it, STA_UNSYNC clear); the error is its estimated error
 * then, its maximum error when it is not.
 */
void
stamp_reflect_clock(struct stamp_clock *c)
{
	struct timex	tx;
	int		state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	c->synced = state != -1 && state != TIME_ERROR &&
	    (tx.status & STA_UNSYNC) == 0;
	c->tai_offset_s = state == -1 ? 0 : tx.tai;
	c->error_ns = (uint64_t)(c->synced ? tx.esterror : tx.maxerror) *
	    NS_PER_US;
	if (state == -1 || tx.maxerror < 0)
		c->error_ns = 0;
	if (c->error_ns < STAMP_MIN_ERROR_NS)
		c->error_ns = STAMP_MIN_ERROR_NS;
}

/* The kernel's receive time and the TTL or hop limit of a datagram. */
static void
read_rx(struct msghdr *h, struct timespec *t2, uint8_t *ttl)
{
	struct cmsghdr	*c;
	int		 v;

	*ttl = 0;
	t2->tv_sec = 0;
	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(t2, CMSG_DATA(c), sizeof(*t2));
		} else if ((c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_TTL) || (c->cmsg_level ==
		    IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			*ttl = (uint8_t)v;
		}
	}
	/* No stamp (the option lost on an odd socket): now is the best. */
	if (t2->tv_sec == 0)
		(void)clock_gettime(CLOCK_REALTIME, t2);
}

/*
 * Answer one test packet in place; -1 if it is not one (too short), so
 * that udp.c drops it. The answer's T3 is left for stamp_reflect_t3().
 */
int
stamp_reflect(uint8_t *p, size_t len, struct msghdr *h,
    const struct sockaddr *peer, struct stamp_sessions *sessions,
    const struct stamp_clock *clk, uint64_t now_ms, struct scoreboard_udp *sc,
    struct stamp_pending *pend)
{
	struct stamp_request	q;
	struct stamp_answer	a;
	struct stamp_tlv_result	tlv;
	struct timespec		t2;

	if (stamp_parse(p, len, &q) != STAMP_DROP_NONE)
		return -1;
	read_rx(h, &t2, &a.ttl);
	a.t2 = stamp_timestamp(&t2, q.ptp, clk->tai_offset_s);
	a.t3 = 0;
	a.seq = sessions != NULL ?
	    stamp_sessions_next(sessions, peer, q.ssid, now_ms) : q.seq;
	a.error_estimate = stamp_error_estimate(clk->synced, q.ptp,
	    clk->error_ns);
	stamp_write_base(p, &q, &a);
	stamp_reflect_tlvs(p, len, &tlv);
	SCOREBOARD_ADD(sc->tlv_unknown, tlv.unknown);
	SCOREBOARD_ADD(sc->tlv_malformed, tlv.malformed ? 1 : 0);
	pend->packet = p;
	pend->ptp = q.ptp;
	return 0;
}

/* T3 of answers [0, n): one reading of the clock, just before they go. */
void
stamp_reflect_t3(struct stamp_pending *pend, size_t n,
    const struct stamp_clock *clk)
{
	struct timespec	t3;
	uint64_t	ts;
	size_t		i;

	(void)clock_gettime(CLOCK_REALTIME, &t3);
	for (i = 0; i < n; i++) {
		if (pend[i].packet == NULL)
			continue;
		ts = stamp_timestamp(&t3, pend[i].ptp, clk->tai_offset_s);
		stamp_write_t3(pend[i].packet, ts);
	}
}
