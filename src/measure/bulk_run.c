/* SPDX-License-Identifier: ISC */
/*
 * bulk_run.c: the streams of sockecho --bulk: connect them, then move
 * bytes both ways on all of them from one poll loop (a stream writes when
 * it can and reads when it can, never all then all), check every echoed
 * byte against the pattern, watch for a server that stops moving bytes,
 * and tell bulk_report.c when an interval is over. It prints nothing
 * itself and decides no exit status: the run's end goes into struct bulk.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/bulk.h"
#include "core/sig.h"

#define NS_PER_MS	1000000ull

static void
end_run(struct bulk *b, enum bulk_end e, unsigned id, const char *fmt, ...)
{
	va_list	ap;

	if (b->end != BULK_OK)
		return;
	b->end = e;
	b->bad_stream = id;
	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
}

/* Wait for a non-blocking connect until "until": 0, or -1 with errno. */
static int
wait_connected(int fd, uint64_t until)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(int);
	uint64_t	now;
	int		err = 0, r;

	for (;;) {
		now = sig_monotonic_ns();
		if (now >= until)
			break;
		r = poll(&pfd, 1, (int)((until - now) / NS_PER_MS) + 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			return -1;
		errno = err;
		return err == 0 ? 0 : -1;
	}
	errno = ETIMEDOUT;
	return -1;
}

static int
connect_one(struct bulk *b, uint64_t until)
{
	int	fd, saved;

	fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&b->addr, b->addrlen) == 0)
		return fd;
	if ((errno == EINPROGRESS || errno == EAGAIN) &&
	    wait_connected(fd, until) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Open -P connections: 0, or -1 with errno (the caller says why). */
int
bulk_connect(struct bulk *b)
{
	uint64_t	until = sig_monotonic_ns() + b->o.connect_ns;
	unsigned	i;

	if ((b->s = calloc(b->o.parallel, sizeof(*b->s))) == NULL ||
	    (b->buf = malloc(b->o.length)) == NULL)
		return -1;
	for (i = 0; i < b->o.parallel; i++)
		b->s[i].fd = -1;
	for (i = 0; i < b->o.parallel; i++) {
		b->s[i].id = i + 1;
		if (bulk_pattern_init(&b->s[i].pat, b->o.seed, i + 1) == -1)
			return -1;
		if ((b->s[i].fd = connect_one(b, until)) == -1)
			return -1;
	}
	return 0;
}

/* TCP_INFO's retransmits and RTT, where the socket has them. */
static void
read_tcp_info(struct bulk_stream *s, int family)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);

	if (s->fd == -1 || family == AF_UNIX)
		return;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return;
	s->now.retrans = ti.tcpi_total_retrans;
	s->now.rtt_us = ti.tcpi_rtt;
}

/* Does the stream send more? (The window, only when it is open.) */
static bool
more_to_send(const struct bulk *b, const struct bulk_stream *s, uint64_t now)
{
	if (b->o.bytes)
		return s->now.out < b->o.bytes;
	return now < b->stop_send_ns;
}

static bool
sending(const struct bulk *b, const struct bulk_stream *s, uint64_t now)
{
	return more_to_send(b, s, now) && (b->o.window == 0 ||
	    s->now.out - s->now.back < b->o.window);
}

static bool
send_some(struct bulk *b, struct bulk_stream *s)
{
	const unsigned char	*p;
	size_t			 len;
	ssize_t			 w;

	p = bulk_pattern_at(&s->pat, s->now.out, &len);
	if (len > b->o.length)
		len = b->o.length;
	if (b->o.window && len > b->o.window - (s->now.out - s->now.back))
		len = (size_t)(b->o.window - (s->now.out - s->now.back));
	if (b->o.bytes && len > b->o.bytes - s->now.out)
		len = (size_t)(b->o.bytes - s->now.out);
	w = send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (w == -1) {
		end_run(b, BULK_CLOSED, s->id, "stream %u: sending: %s (after "
		    "%llu bytes)", s->id, strerror(errno),
		    (unsigned long long)s->now.out);
		return false;
	}
	if (s->now.out == s->now.back)
		s->back_ns = sig_monotonic_ns();	/* the clock starts */
	s->now.out += (uint64_t)w;
	s->sent_ns = sig_monotonic_ns();
	return w > 0;
}

/* Check what came back; a byte too many is a mismatch at its offset. */
static void
check_echo(struct bulk *b, struct bulk_stream *s, size_t n)
{
	size_t	ok;

	ok = bulk_pattern_check(&s->pat, s->now.back, s->now.out, b->buf, n);
	if (ok < n) {
		b->bad_offset = s->now.back + ok;
		end_run(b, BULK_MISMATCH, s->id, "stream %u: the echo differs "
		    "from what was sent at byte %llu%s", s->id,
		    (unsigned long long)b->bad_offset,
		    b->bad_offset >= s->now.out ? " (more bytes came back "
		    "than were sent)" : "");
	}
	s->now.back += ok;
}

static bool
receive_some(struct bulk *b, struct bulk_stream *s)
{
	ssize_t	n;

	n = recv(s->fd, b->buf, b->o.length, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n == -1 || n == 0) {
		end_run(b, BULK_CLOSED, s->id, "stream %u: %s after %llu of "
		    "%llu bytes came back", s->id, n == 0 ? "the server "
		    "closed the connection" : strerror(errno),
		    (unsigned long long)s->now.back,
		    (unsigned long long)s->now.out);
		return false;
	}
	check_echo(b, s, (size_t)n);
	s->back_ns = sig_monotonic_ns();
	return true;
}

/* A stream that sends no more and has all its bytes back is closed. */
static bool
finish_streams(struct bulk *b, uint64_t now)
{
	struct bulk_stream	*s;
	bool			 all = true;
	unsigned		 i;

	for (i = 0; i < b->o.parallel; i++) {
		s = &b->s[i];
		if (!s->done && !more_to_send(b, s, now) &&
		    s->now.back == s->now.out) {
			read_tcp_info(s, b->addr.ss_family);
			close(s->fd);
			s->fd = -1;
			s->done = true;
		}
		all = all && s->done;
	}
	return all;
}

/* The poll timeout: the next interval, the end of sending, the stall. */
static int
next_timeout(const struct bulk *b, uint64_t now)
{
	uint64_t	until = b->progress_ns + b->o.stall_ns;

	if (b->o.interval_ns && b->mark_ns + b->o.interval_ns < until)
		until = b->mark_ns + b->o.interval_ns;
	if (!b->o.bytes && now < b->stop_send_ns && b->stop_send_ns < until)
		until = b->stop_send_ns;
	if (until <= now)
		return 0;
	return (int)((until - now + NS_PER_MS - 1) / NS_PER_MS);
}

/* One pass over the streams after poll. */
static void
move_bytes(struct bulk *b, struct pollfd *pfd, uint64_t now)
{
	struct bulk_stream	*s;
	unsigned		 i;

	for (i = 0; i < b->o.parallel && b->end == BULK_OK; i++) {
		s = &b->s[i];
		if (pfd[i].fd == -1)
			continue;
		if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
			(void)receive_some(b, s);
		if (b->end == BULK_OK && pfd[i].revents & (POLLOUT | POLLERR) &&
		    sending(b, s, now))
			(void)send_some(b, s);
	}
}

static void
interval_tick(struct bulk *b, uint64_t now)
{
	unsigned	i;

	if (b->o.interval_ns == 0 || now < b->mark_ns + b->o.interval_ns)
		return;
	/* The drain after -t goes into the last interval, not one of its own. */
	if (!b->o.bytes && now >= b->stop_send_ns)
		return;
	for (i = 0; i < b->o.parallel; i++)
		read_tcp_info(&b->s[i], b->addr.ss_family);
	bulk_report_interval(b, now);
	for (i = 0; i < b->o.parallel; i++)
		b->s[i].mark = b->s[i].now;
	b->mark_ns = now;
}

/*
 * A stream with bytes out and no echo for -W is stalled: the server
 * stopped reading (our writes block too) or reads and stopped echoing.
 * Sets b->progress_ns to the oldest stream's last echo, for the timeout.
 */
/*
 * After a stream stops sending, the echo it is owed must come back
 * within as long as the sending took, or -W if that is longer: -W alone
 * measures progress, and a server that trickles one byte back just
 * inside it would hold the run for ever (found in review).
 */
static bool
drain_overdue(const struct bulk *b, const struct bulk_stream *s,
    uint64_t now)
{
	uint64_t	took, limit;

	if (more_to_send(b, s, now))
		return false;
	took = s->sent_ns > b->start_ns ? s->sent_ns - b->start_ns : 0;
	limit = took > b->o.stall_ns ? took : b->o.stall_ns;
	return now - s->sent_ns >= limit;
}

static void
check_stall(struct bulk *b)
{
	struct bulk_stream	*s, *worst = NULL;
	uint64_t		 now = sig_monotonic_ns();	/* after sends */
	unsigned		 i;
	bool			 blocked;

	for (i = 0; i < b->o.parallel; i++) {
		s = &b->s[i];
		if (s->done || s->now.out == s->now.back)
			continue;
		if (drain_overdue(b, s, now)) {
			end_run(b, BULK_STALLED, s->id, "stream %u: %llu bytes "
			    "of echo still owed %.1f s after sending stopped "
			    "(the server gives them back too slowly)", s->id,
			    (unsigned long long)(s->now.out - s->now.back),
			    (double)(now - s->sent_ns) / BULK_NS_PER_S);
			return;
		}
		if (worst == NULL || s->back_ns < worst->back_ns)
			worst = s;
	}
	b->progress_ns = worst != NULL ? worst->back_ns : now;
	if (worst == NULL || now - worst->back_ns < b->o.stall_ns)
		return;
	s = worst;
	/* Writes that want to go and have not for half the time: blocked. */
	blocked = sending(b, s, now) && now - s->sent_ns >= b->o.stall_ns / 2;
	end_run(b, BULK_STALLED, s->id, "stream %u: no progress for %.1f s: "
	    "%llu bytes sent, %llu came back (the server stopped %s)", s->id,
	    (double)(now - s->back_ns) / BULK_NS_PER_S,
	    (unsigned long long)s->now.out, (unsigned long long)s->now.back,
	    blocked ? "reading" : "echoing");
	if (b->o.window == 0 && blocked)
		snprintf(b->why + strlen(b->why), sizeof(b->why) -
		    strlen(b->why), "; an echo that blocks writing (socat "
		    "PIPE) needs a window: -w 32K");
}

/* Stream until every stream is done, or the run fails. */
void
bulk_loop(struct bulk *b)
{
	struct pollfd	*pfd;
	uint64_t	 now = sig_monotonic_ns();
	unsigned	 i;

	if ((pfd = calloc(b->o.parallel, sizeof(*pfd))) == NULL) {
		end_run(b, BULK_ERROR, 0, "out of memory");
		return;
	}
	b->mark_ns = b->progress_ns = now;
	while (b->end == BULK_OK && !finish_streams(b, now)) {
		for (i = 0; i < b->o.parallel; i++)
			pfd[i] = (struct pollfd){ b->s[i].fd, (short)(POLLIN |
			    (sending(b, &b->s[i], now) ? POLLOUT : 0)), 0 };
		if (poll(pfd, b->o.parallel, next_timeout(b, now)) == -1 &&
		    errno != EINTR) {
			end_run(b, BULK_ERROR, 0, "poll: %s", strerror(errno));
			break;
		}
		now = sig_monotonic_ns();
		move_bytes(b, pfd, now);
		check_stall(b);
		interval_tick(b, now);
	}
	free(pfd);
	b->end_ns = sig_monotonic_ns();
	for (i = 0; i < b->o.parallel; i++)
		read_tcp_info(&b->s[i], b->addr.ss_family);
}

/* Close what bulk_connect() opened; a second call does nothing. */
void
bulk_close(struct bulk *b)
{
	unsigned	i;

	for (i = 0; b->s != NULL && i < b->o.parallel; i++) {
		if (b->s[i].fd != -1)
			close(b->s[i].fd);
		bulk_pattern_free(&b->s[i].pat);
	}
	free(b->s);
	free(b->buf);
	b->s = NULL;
	b->buf = NULL;
}
