/* SPDX-License-Identifier: ISC */
/*
 * ping_tcp.c: TCP probes. Either one connection with one probe in flight
 * (the time from the first byte sent to the last byte of its echo), or,
 * with --connect, a new connection per probe in the textbook session:
 * connect, send, half-close, read the echo, see the server close. Counts
 * go to stats.c, lines to ping_report.c; a connection whose stream can no
 * longer be trusted (timeout, error, mismatch) is replaced.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/ktstamp.h"
#include "core/sig.h"
#include "measure/probe.h"

enum xfer {
	XFER_OK,
	XFER_TIMEOUT,
	XFER_STOP,		/* stopped: the probe is not counted */
	XFER_CLOSED,		/* EOF before the whole echo */
	XFER_ERROR,		/* errno in *err */
	XFER_EXTRA,		/* --connect: more bytes than were sent */
	XFER_NO_EOF,		/* --connect: echoed, but never closed */
};

static enum xfer
waited(enum ping_wait w)
{
	return w == PING_STOP ? XFER_STOP : XFER_TIMEOUT;
}

static uint64_t
min_ns(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A new non-blocking connection to the target by "until". */
/* The connection's segment size: a probe up to it leaves in one segment. */
static size_t
tcp_mss(int fd)
{
	int		mss = 0;
	socklen_t	len = sizeof(mss);

	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == -1 ||
	    mss <= 0)
		return 0;
	return (size_t)mss;
}

static enum xfer
tcp_connect(struct ping *p, uint64_t until, int *fdp, int *err)
{
	socklen_t	len = sizeof(*err);
	int		fd, one = 1;
	enum ping_wait	w;

	*err = 0;
	fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*err = errno;
		return XFER_ERROR;
	}
	if (p->addr.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if (connect(fd, (struct sockaddr *)&p->addr, p->addrlen) == -1) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			*err = errno;
			close(fd);
			return XFER_ERROR;
		}
		if ((w = ping_wait(p, fd, POLLOUT, until)) != PING_READY) {
			*err = ETIMEDOUT;
			close(fd);
			return waited(w);
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == -1)
			*err = errno;
		if (*err != 0) {
			close(fd);
			return XFER_ERROR;
		}
	}
	ping_kts_open(p, fd);
	p->kts.tcp_mss = tcp_mss(fd);
	*fdp = fd;
	return XFER_OK;
}

/* Read, keeping the kernel's receive stamp of what was read. */
static ssize_t
recv_stamped(struct ping *p, int fd, unsigned char *buf, size_t len)
{
	union { char buf[KTSTAMP_CMSG_BYTES]; struct cmsghdr align; } u;
	struct iovec	iov = { buf, len };
	struct msghdr	m;
	ssize_t		n;
	uint64_t	ns;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (n > 0 && ktstamp_rx(&m, &ns))
		p->kts.tcp_krx = ns;
	return n;
}

/* Send the probe and read as many bytes back, by "until". */
static enum xfer
tcp_echo(struct ping *p, int fd, uint64_t until, bool half_close,
    size_t *got, int *err)
{
	size_t		size = p->o.size, sent = 0;
	ssize_t		n;
	enum ping_wait	w;
	bool		split = size > p->kts.tcp_mss;

	*got = 0;
	p->kts.tcp_krx = 0;
	for (;;) {
		if (sent < size) {
			n = send(fd, p->out + sent, size - sent, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			if (n > 0)
				sent += n;
			else if (errno != EAGAIN && errno != EINTR)
				return *err = errno, XFER_ERROR;
			if (sent == size && half_close &&
			    shutdown(fd, SHUT_WR) == -1)
				return *err = errno, XFER_ERROR;
		}
		n = recv_stamped(p, fd, p->in + *got, size - *got);
		/*
		 * The kernel stamps a write's last byte when it leaves: for
		 * a probe of more than one segment that may be long after
		 * the first (a server that does not read holds the rest
		 * back), so such a probe is timed in user space.
		 */
		if (n > 0 && (*got += n) == size) {
			if (split)
				p->kts.tcp_krx = 0;
			return XFER_OK;
		}
		if (n == 0)
			return XFER_CLOSED;
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return *err = errno, XFER_ERROR;
		if (n > 0)
			continue;
		w = ping_wait(p, fd, POLLIN | (sent < size ? POLLOUT : 0),
		    until);
		if (w != PING_READY)
			return waited(w);
		/* A send stamp in the error queue wakes poll until read. */
		ping_kts_drain(p);
	}
}

/* --connect: after the echo, the server closes; nothing more may come. */
static enum xfer
tcp_wait_eof(struct ping *p, int fd, uint64_t until, int *err)
{
	unsigned char	extra;
	ssize_t		n;
	enum ping_wait	w;

	for (;;) {
		n = recv(fd, &extra, 1, MSG_DONTWAIT);
		if (n == 0)
			return XFER_OK;
		if (n == 1)
			return XFER_EXTRA;
		if (errno != EAGAIN && errno != EINTR)
			return *err = errno, XFER_ERROR;
		if ((w = ping_wait(p, fd, POLLIN, until)) != PING_READY)
			return w == PING_TIMEOUT ? XFER_NO_EOF : XFER_STOP;
		ping_kts_drain(p);
	}
}

static void
lost(struct ping *p, uint64_t seq, enum xfer x, bool connecting,
    size_t got, int err)
{
	char	why[160];

	if (x == XFER_TIMEOUT && !connecting)
		snprintf(why, sizeof(why), "no echo within %.3f s (%zu of %zu "
		    "bytes back)", p->o.timeout_ns / 1e9, got, p->o.size);
	else if (x == XFER_TIMEOUT || x == XFER_ERROR)
		snprintf(why, sizeof(why), "%s%s", connecting ?
		    "cannot connect: " : "", strerror(x == XFER_TIMEOUT ?
		    ETIMEDOUT : err));
	else if (x == XFER_CLOSED)
		snprintf(why, sizeof(why), "connection closed by the server "
		    "after %zu of %zu bytes", got, p->o.size);
	else
		snprintf(why, sizeof(why), "echoed, but the server did not "
		    "close the connection within %.3f s", p->o.timeout_ns / 1e9);
	if (x == XFER_TIMEOUT || x == XFER_NO_EOF)
		stats_probes_timed_out(&p->probes, seq);
	else
		stats_probes_fail(&p->probes, seq);
	ping_report_lost(p, seq, why);
}

/* Count and show how probe "seq" ended; false unless it came back intact. */
static bool
settle(struct ping *p, uint64_t seq, enum xfer x, bool connecting,
    size_t got, int err, uint64_t rtt_ns, uint64_t connect_ns)
{
	ssize_t		d = probe_diff(p->in, got, p->o.size, seq, p->run_id);
	uint64_t	ignored;

	if (x == XFER_STOP)
		return false;	/* still out: its fate is unknown */
	if (x == XFER_EXTRA)
		d = (ssize_t)got;
	if (d >= 0 && ((size_t)d < got || x == XFER_OK || x == XFER_EXTRA)) {
		stats_probes_mismatch(&p->probes, seq);
		ping_report_mismatch(p, seq, d, got, rtt_ns);
		return false;
	}
	if (x != XFER_OK) {
		lost(p, seq, x, connecting, got, err);
		return false;
	}
	stats_probes_reply(&p->probes, seq, sig_monotonic_ns(), &ignored);
	ping_kts_back(p, seq, p->kts.tcp_krx, rtt_ns, &rtt_ns);
	if (stats_rtt_add(&p->rtt, rtt_ns) == -1 || (p->o.connect_each &&
	    stats_rtt_add(&p->conn, connect_ns) == -1))
		ping_fatal(EX_OSERR, "out of memory");
	ping_report_back(p, seq, STATS_BACK, rtt_ns, connect_ns);
	return true;
}

/* One probe on the lasting connection, made again if it had to go. */
static void
persistent_probe(struct ping *p)
{
	uint64_t	seq, t0, t1, until;
	enum xfer	x;
	size_t		got = 0;
	int		err = 0;

	t0 = sig_monotonic_ns();
	seq = stats_probes_send(&p->probes, t0);
	probe_fill(p->out, p->o.size, seq, p->run_id);
	until = t0 + p->o.timeout_ns;
	if (p->fd == -1) {
		x = tcp_connect(p, min_ns(until, t0 + p->o.connect_timeout_ns),
		    &p->fd, &err);
		if (x != XFER_OK) {
			settle(p, seq, x, true, 0, err, 0, 0);
			return;
		}
	}
	ping_kts_sent(p, seq, ktstamp_realtime_ns(), p->o.size);
	t1 = sig_monotonic_ns();
	x = tcp_echo(p, p->fd, until, false, &got, &err);
	t1 = sig_monotonic_ns() - t1;
	if (!settle(p, seq, x, false, got, err, t1, 0)) {
		close(p->fd);
		p->fd = -1;
		p->kts.fd = -1;
	}
}

/* One probe in a session of its own: connect, echo, half-close, EOF. */
static void
session_probe(struct ping *p)
{
	uint64_t	seq, t0, t1, until, connect_ns;
	enum xfer	x;
	size_t		got = 0;
	int		fd, err = 0;

	t0 = p->fd >= 0 ? p->first_t0_ns : sig_monotonic_ns();
	seq = stats_probes_send(&p->probes, t0);
	probe_fill(p->out, p->o.size, seq, p->run_id);
	until = t0 + p->o.timeout_ns;
	if ((fd = p->fd) >= 0) {
		p->fd = -1;	/* made by ping_tcp_first_connect() */
		connect_ns = p->first_connect_ns;
	} else {
		x = tcp_connect(p, min_ns(until, t0 + p->o.connect_timeout_ns),
		    &fd, &err);
		if (x != XFER_OK) {
			settle(p, seq, x, true, 0, err, 0, 0);
			return;
		}
		connect_ns = sig_monotonic_ns() - t0;
	}
	ping_kts_sent(p, seq, ktstamp_realtime_ns(), p->o.size);
	t1 = sig_monotonic_ns();
	x = tcp_echo(p, fd, until, true, &got, &err);
	t1 = sig_monotonic_ns() - t1;
	if (x == XFER_OK)
		x = tcp_wait_eof(p, fd, until, &err);
	ping_kts_drain(p);
	close(fd);
	p->kts.fd = -1;
	settle(p, seq, x, false, got, err, t1, connect_ns);
}

void
ping_tcp_probe(struct ping *p)
{
	if (p->o.connect_each)
		session_probe(p);
	else
		persistent_probe(p);
}

/*
 * The first connection, to the address in p->addr: -1 (with the reason in
 * p->connect_err) when it cannot be made. Its time is the first probe's.
 */
int
ping_tcp_first_connect(struct ping *p)
{
	uint64_t	t0 = sig_monotonic_ns();
	enum xfer	x;
	int		fd;

	x = tcp_connect(p, t0 + p->o.connect_timeout_ns, &fd, &p->connect_err);
	if (x != XFER_OK) {
		p->connect_timed_out = x == XFER_TIMEOUT ||
		    (x == XFER_STOP && !p->interrupted);
		return -1;
	}
	p->first_connect_ns = sig_monotonic_ns() - t0;
	p->first_t0_ns = t0;
	p->fd = fd;
	return 0;
}
