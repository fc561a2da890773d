/* SPDX-License-Identifier: ISC */
/*
 * ping_udp.c: UDP probes on a connected datagram socket: one datagram per
 * interval whatever comes back, each reply matched to its probe by the
 * sequence number it carries, so that loss, duplicates, reordering and
 * late replies are told apart. Counts go to stats.c, lines to
 * ping_report.c.
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "measure/ktstamp.h"
#include "measure/ping.h"
#include "measure/ping_int.h"
#include "core/sig.h"
#include "measure/probe.h"

/* A socket connected to the target: only its replies, and its ICMP errors. */
int
ping_udp_open(struct ping *p)
{
	int	fd;

	fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&p->addr,
	    p->addrlen) == -1) {
		p->connect_err = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p->fd = fd;
	ping_kts_open(p, fd);
	if (p->o.stamp && stampc_open(p) == -1) {
		p->connect_err = errno;
		close(fd);
		p->fd = -1;
		return -1;
	}
	return 0;
}

/* An ICMP error: it answers an earlier probe, which will time out. */
static void
refused(struct ping *p, int err)
{
	char	why[128];

	p->refused++;
	snprintf(why, sizeof(why), "%s (an ICMP error: a probe will be lost)",
	    strerror(err));
	ping_report_lost(p, 0, why);
}

static void
send_probe(struct ping *p, uint64_t now)
{
	uint64_t	seq = stats_probes_send(&p->probes, now);
	char		why[128];
	ssize_t		n;
	int		tries;

	uint64_t	rt = ktstamp_realtime_ns();

	if (p->o.stamp)
		stampc_prepare(p, seq, rt);
	else
		probe_fill(p->out, p->o.size, seq, p->run_id);
	for (tries = 0; tries < 2; tries++) {
		n = send(p->fd, p->out, p->o.size, MSG_DONTWAIT);
		if (n == (ssize_t)p->o.size) {
			ping_kts_sent(p, seq, rt, p->o.size);
			ping_kts_drain(p);
			return;
		}
		if (n == -1 && errno == ECONNREFUSED)
			refused(p, errno);	/* pending: then send again */
		else
			break;
	}
	snprintf(why, sizeof(why), "cannot send: %s", n == -1 ?
	    strerror(errno) : "short send");
	stats_probes_fail(&p->probes, seq);
	ping_report_lost(p, seq, why);
}

/* One datagram of "len" bytes (p->in holds at most size + 1 of them). */
static void
take_reply(struct ping *p, size_t len, uint64_t now, uint64_t krx)
{
	size_t			held = len > p->o.size ? p->o.size + 1 : len;
	uint64_t		seq, rtt, user;
	ssize_t			d;
	enum stats_reply	r;

	if (probe_parse(p->in, held, p->run_id, p->probes.next_seq,
	    &seq) == -1) {
		p->probes.unknown++;
		return;
	}
	d = probe_diff(p->in, held, p->o.size, seq, p->run_id);
	if (d >= 0) {
		if (stats_probes_mismatch(&p->probes, seq) == -1)
			p->probes.unknown++;
		else
			ping_report_mismatch(p, seq, d, len, 0);
		return;
	}
	r = stats_probes_reply(&p->probes, seq, now, &user);
	rtt = user;
	if (r == STATS_BACK || r == STATS_REORDERED) {
		ping_kts_back(p, seq, krx, user, &rtt);
		if (stats_rtt_add(&p->rtt, rtt) == -1)
			ping_fatal(EX_OSERR, "out of memory");
	}
	ping_report_back(p, seq, r, rtt, 0);
}

/* One datagram, with the kernel's receive stamp in *krx (0: none). */
static ssize_t
receive_one(struct ping *p, uint64_t *krx)
{
	union { char buf[KTSTAMP_CMSG_BYTES]; struct cmsghdr align; } u;
	struct iovec	iov = { p->in, p->o.size + 1 };
	struct msghdr	m;
	ssize_t		n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	n = recvmsg(p->fd, &m, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 || !ktstamp_rx(&m, krx))
		*krx = 0;
	return n;
}

static void
receive_all(struct ping *p)
{
	uint64_t	krx;
	ssize_t		n;

	ping_kts_drain(p);
	for (;;) {
		n = receive_one(p, &krx);
		if (n >= 0 && p->o.stamp) {
			stampc_take(p, (size_t)n, krx, sig_monotonic_ns());
			continue;
		}
		if (n >= 0) {
			take_reply(p, (size_t)n, sig_monotonic_ns(), krx);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNREFUSED)
			refused(p, errno);
		else
			ping_fatal(EX_IOERR, "receiving: %s", strerror(errno));
	}
}

static void
expire(struct ping *p, uint64_t now)
{
	uint64_t	seq;
	char		why[64];

	while (stats_probes_expire(&p->probes, now, p->o.timeout_ns, &seq)) {
		snprintf(why, sizeof(why), "no echo within %.3f s",
		    p->o.timeout_ns / 1e9);
		ping_report_lost(p, seq, why);
	}
}

/* Send on schedule, take replies as they come, until count or stop. */
void
ping_udp_run(struct ping *p)
{
	uint64_t	next = sig_monotonic_ns(), until, now, expiry;
	bool		done_sending;

	for (;;) {
		now = sig_monotonic_ns();
		expire(p, now);
		done_sending = p->o.count && p->probes.next_seq > p->o.count;
		if (done_sending && p->probes.out == 0)
			break;
		if (!done_sending && now >= next &&
		    !stats_probes_full(&p->probes)) {
			send_probe(p, now);
			next = now + p->o.interval_ns;
			continue;
		}
		until = done_sending || stats_probes_full(&p->probes) ?
		    UINT64_MAX : next;
		expiry = stats_probes_next_expiry(&p->probes, p->o.timeout_ns);
		if (expiry < until)
			until = expiry;
		switch (ping_wait(p, p->fd, POLLIN, until)) {
		case PING_STOP:
			return;
		case PING_READY:
			receive_all(p);
			break;
		case PING_TIMEOUT:
			break;
		}
	}
}
