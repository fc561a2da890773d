/* SPDX-License-Identifier: ISC */
/*
 * ktstamp.c: ask the kernel for software send and receive timestamps on a
 * client socket and read them back. It only reads stamps: which probe a
 * stamp belongs to is the caller's business; it never prints or exits.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "measure/ktstamp.h"

/*
 * Software stamps both ways; OPT_ID numbers the sends (a datagram each for
 * UDP, the byte offset of a write's last byte for TCP) and OPT_TSONLY
 * keeps the packet itself off the error queue.
 */
#define KTSTAMP_FLAGS	(SOF_TIMESTAMPING_TX_SOFTWARE | \
	SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | \
	SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)

/* 0, or -1 (errno) when the kernel gives no timestamps on this socket. */
int
ktstamp_enable(int fd)
{
	int	flags = KTSTAMP_FLAGS;

	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags,
	    sizeof(flags));
}

uint64_t
ktstamp_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* The clock the kernel stamps with, read from user space. */
uint64_t
ktstamp_realtime_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ktstamp_ts_ns(&ts);
}

/* The software stamp of a message just received, if it carries one. */
bool
ktstamp_rx(struct msghdr *m, uint64_t *ns)
{
	struct cmsghdr			*c;
	struct scm_timestamping		 st;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPING ||
		    c->cmsg_len < CMSG_LEN(sizeof(st)))
			continue;
		memcpy(&st, CMSG_DATA(c), sizeof(st));
		if (st.ts[0].tv_sec == 0 && st.ts[0].tv_nsec == 0)
			return false;
		*ns = ktstamp_ts_ns(&st.ts[0]);
		return true;
	}
	return false;
}

/* The key of a send stamp, from the IP_RECVERR/IPV6_RECVERR beside it. */
static bool
tx_key(struct cmsghdr *c, uint32_t *key)
{
	struct sock_extended_err	ee;

	if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
	    (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) ||
	    c->cmsg_len < CMSG_LEN(sizeof(ee)))
		return false;
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	if (ee.ee_origin != SO_EE_ORIGIN_TIMESTAMPING)
		return false;
	*key = ee.ee_data;
	return true;
}

/*
 * One send stamp from the error queue: 1 with its key and time, 0 when the
 * queue holds none now, -1 (errno) on an error.
 */
int
ktstamp_tx(int fd, uint32_t *key, uint64_t *ns)
{
	union { char buf[KTSTAMP_CMSG_BYTES]; struct cmsghdr align; } u;
	struct scm_timestamping	 st;
	struct msghdr		 m;
	struct cmsghdr		*c;
	bool			 have_key, have_ts;

	for (;;) {
		have_key = have_ts = false;
		memset(&m, 0, sizeof(m));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
			if (tx_key(c, key))
				have_key = true;
			else if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPING &&
			    c->cmsg_len >= CMSG_LEN(sizeof(st))) {
				memcpy(&st, CMSG_DATA(c), sizeof(st));
				*ns = ktstamp_ts_ns(&st.ts[0]);
				have_ts = *ns != 0;
			}
		}
		if (have_key && have_ts)
			return 1;
		/* Anything else on the queue (an ICMP error) is not ours. */
	}
}
