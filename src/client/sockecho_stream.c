/* SPDX-License-Identifier: ISC */
/*
 * sockecho_stream.c: sockecho over a stream (TCP, a Unix socket). It
 * connects within -T, sends standard input (or -m TEXT), half-closes, and
 * writes the reply to standard output byte for byte; -c compares the
 * reply as it arrives. It reads and writes at the same time, so a large
 * input never deadlocks against a stream echo server. It owns the
 * connection and its buffers; the command line is sockecho.c's.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/sockecho_stream.h"
#include "core/sig.h"

#define IO_BYTES		65536
#define PIPE_SAFE_BYTES		4096	/* never blocks after POLLOUT */
#define CHECK_MAX_BYTES		(256u << 20)

#define EXIT_MISMATCH		1

struct buf {
	char	*data;
	size_t	 len;		/* bytes held */
	size_t	 off;		/* first byte not consumed */
	size_t	 cap;
};

struct client {
	const char	*message;	/* -m, or NULL for stdin */
	size_t		 message_len;
	bool		 check;
	bool		 quiet;
	uint64_t	 deadline_ms;	/* 0: none */
	uint64_t	 connect_timeout_ms;
	int		 fd;
	bool		 in_eof;	/* nothing more to send */
	bool		 shut_wr;
	bool		 sock_eof;
	struct buf	 out;		/* to the server */
	struct buf	 reply;		/* to stdout */
	struct buf	 sent;		/* --check: sent, not yet echoed */
	uint64_t	 nsent;
	uint64_t	 nreceived;
};

static void
buf_reserve(struct buf *b, size_t more)
{
	char	*p;
	size_t	 cap;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	/* Even for 0 bytes (-n -m ""): memcpy() takes no NULL. */
	if (b->data != NULL && b->len + more <= b->cap)
		return;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + more <= b->cap)
			return;
	}
	cap = b->cap ? b->cap : IO_BYTES;
	while (cap < b->len + more)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	b->data = p;
	b->cap = cap;
}

static size_t
buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

/* Wait until "fd" is connected, or the deadline passes (returns 1). */
static int
wait_connected(int fd, uint64_t deadline, int *err)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(*err);
	uint64_t	now;
	int		r;

	for (;;) {
		now = sig_monotonic_ms();
		if (now >= deadline)
			return 1;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*err = errno;
			return -1;
		}
		if (r == 0)
			return 1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == -1)
			*err = errno;
		return *err == 0 ? 0 : -1;
	}
}

static int
try_connect(const struct sockaddr *sa, socklen_t len, uint64_t deadline,
    int *err, bool *timed_out)
{
	int	fd, r;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*err = errno;
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*err = errno;
		close(fd);
		return -1;
	}
	if ((r = wait_connected(fd, deadline, err)) == 0)
		return fd;
	if (r == 1) {
		*timed_out = true;
		*err = ETIMEDOUT;
	}
	close(fd);
	return -1;
}

static uint64_t
connect_deadline(const struct client *c)
{
	uint64_t	d = sig_monotonic_ms() + c->connect_timeout_ms;

	return c->deadline_ms && c->deadline_ms < d ? c->deadline_ms : d;
}

static int
connect_unix(struct client *c, const char *path)
{
	struct sockaddr_un	sun;
	bool			timed_out = false;
	socklen_t		len;
	int			fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) || path[0] == '\0')
		cli_fail(EX_USAGE, "unix:%s: invalid socket path", path);
	memcpy(sun.sun_path, path, strlen(path));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	if (path[0] == '@') {
		sun.sun_path[0] = '\0';
		len--;
	}
	fd = try_connect((struct sockaddr *)&sun, len, connect_deadline(c),
	    &err, &timed_out);
	if (fd == -1)
		cli_fail(timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot connect to unix:%s: %s", path, strerror(err));
	return fd;
}

static int
connect_inet(struct client *c, const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	bool		 timed_out = false;
	uint64_t	 deadline;
	int		 fd = -1, err = 0, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		cli_fail(EX_NOHOST, "%s port %s: %s", host, port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	deadline = connect_deadline(c);
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = try_connect(ai->ai_addr, ai->ai_addrlen, deadline, &err,
		    &timed_out);
	freeaddrinfo(res);
	if (fd == -1)
		cli_fail(timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot connect to %s port %s: %s", host, port,
		    strerror(err));
	return fd;
}

/* --check: compare what came back with what went out, as it arrives. */
static void
check_reply(struct client *c, const char *data, size_t n)
{
	size_t	have = buf_pending(&c->sent);
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i >= have)
			cli_fail(EXIT_MISMATCH, "reply differs: more bytes "
			    "came back than were sent (%llu)",
			    (unsigned long long)c->nsent);
		if (c->sent.data[c->sent.off + i] != data[i])
			cli_fail(EXIT_MISMATCH, "reply differs from what was "
			    "sent at byte %llu", (unsigned long long)
			    (c->nreceived + i));
	}
	c->sent.off += n;
}

static void
fill_out(struct client *c)
{
	ssize_t	n;

	if (c->message != NULL) {
		buf_reserve(&c->out, c->message_len);
		memcpy(c->out.data + c->out.len, c->message, c->message_len);
		c->out.len += c->message_len;
		c->in_eof = true;
		return;
	}
	buf_reserve(&c->out, IO_BYTES);
	n = read(STDIN_FILENO, c->out.data + c->out.len, IO_BYTES);
	if (n == -1 && errno == EINTR)
		return;
	if (n == -1)
		cli_fail(EX_IOERR, "reading standard input: %s",
		    strerror(errno));
	if (n == 0)
		c->in_eof = true;
	c->out.len += n;
}

static void
send_some(struct client *c)
{
	size_t	n = buf_pending(&c->out);
	ssize_t	w;

	w = send(c->fd, c->out.data + c->out.off, n, MSG_NOSIGNAL);
	if (w == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "sending: %s (after %llu bytes)",
		    strerror(errno), (unsigned long long)c->nsent);
	}
	if (c->check) {
		if (buf_pending(&c->sent) + w > CHECK_MAX_BYTES)
			cli_fail(EX_IOERR, "--check: more than %u bytes sent "
			    "and not echoed", CHECK_MAX_BYTES);
		buf_reserve(&c->sent, w);
		memcpy(c->sent.data + c->sent.len, c->out.data + c->out.off, w);
		c->sent.len += w;
	}
	c->out.off += w;
	c->nsent += w;
}

static void
receive_some(struct client *c)
{
	ssize_t	n;

	buf_reserve(&c->reply, IO_BYTES);
	n = recv(c->fd, c->reply.data + c->reply.len, IO_BYTES, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "receiving: %s (after %llu of %llu bytes)",
		    strerror(errno), (unsigned long long)c->nreceived,
		    (unsigned long long)c->nsent);
	}
	if (n == 0) {
		c->sock_eof = true;
		return;
	}
	if (c->check)
		check_reply(c, c->reply.data + c->reply.len, n);
	c->nreceived += n;
	if (c->quiet)
		return;
	c->reply.len += n;
}

static void
write_some(struct client *c)
{
	size_t	n = buf_pending(&c->reply);
	ssize_t	w;

	if (n > PIPE_SAFE_BYTES)
		n = PIPE_SAFE_BYTES;
	w = write(STDOUT_FILENO, c->reply.data + c->reply.off, n);
	if (w == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "writing standard output: %s",
		    strerror(errno));
	}
	c->reply.off += w;
}

static int
poll_timeout(const struct client *c)
{
	uint64_t	now;

	if (c->deadline_ms == 0)
		return -1;
	now = sig_monotonic_ms();
	if (now >= c->deadline_ms)
		cli_fail(EX_TEMPFAIL, "timed out: %llu bytes sent, %llu "
		    "received", (unsigned long long)c->nsent,
		    (unsigned long long)c->nreceived);
	return (int)(c->deadline_ms - now);
}

/* Move bytes stdin -> socket -> stdout until the server closes. */
static void
exchange(struct client *c)
{
	struct pollfd	pfd[3];
	bool		want_in, want_sock_in, want_out;

	while (!c->sock_eof || buf_pending(&c->reply) > 0) {
		if (c->in_eof && buf_pending(&c->out) == 0 && !c->shut_wr) {
			if (shutdown(c->fd, SHUT_WR) == -1 && errno != ENOTCONN)
				cli_fail(EX_IOERR, "half-close: %s",
				    strerror(errno));
			c->shut_wr = true;
		}
		want_in = !c->in_eof && buf_pending(&c->out) < IO_BYTES;
		if (want_in && c->message != NULL) {
			fill_out(c);
			continue;
		}
		want_sock_in = !c->sock_eof &&
		    buf_pending(&c->reply) < IO_BYTES;
		want_out = buf_pending(&c->reply) > 0;
		pfd[0] = (struct pollfd){ want_in ? STDIN_FILENO : -1, POLLIN,
		    0 };
		pfd[1] = (struct pollfd){ c->fd, (want_sock_in ? POLLIN : 0) |
		    (buf_pending(&c->out) ? POLLOUT : 0), 0 };
		pfd[2] = (struct pollfd){ want_out ? STDOUT_FILENO : -1,
		    POLLOUT, 0 };
		if (poll(pfd, 3, poll_timeout(c)) == -1) {
			if (errno == EINTR)
				continue;
			cli_fail(EX_OSERR, "poll: %s", strerror(errno));
		}
		if (pfd[0].revents)
			fill_out(c);
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) &&
		    buf_pending(&c->out))
			send_some(c);
		if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP) &&
		    want_sock_in)
			receive_some(c);
		if (pfd[2].revents)
			write_some(c);
		(void)poll_timeout(c);
	}
	if (!c->in_eof || buf_pending(&c->out) > 0)
		cli_fail(EX_IOERR, "the server closed the connection before "
		    "all the input was sent (%llu bytes sent)",
		    (unsigned long long)c->nsent);
	if (c->check && buf_pending(&c->sent) > 0)
		cli_fail(EXIT_MISMATCH, "reply differs: %zu bytes short "
		    "(%llu sent, %llu received)", buf_pending(&c->sent),
		    (unsigned long long)c->nsent,
		    (unsigned long long)c->nreceived);
}

/* HOST [PORT], [IPV6] [PORT] or unix:/PATH: the connected socket. */
static int
connect_to(struct client *c, const char *host, const char *port)
{
	size_t	 hl = strlen(host);
	char	*h;
	int	 fd;

	if (strncmp(host, "unix:", 5) == 0) {
		if (port != NULL)
			cli_fail(EX_USAGE, "a Unix socket takes no port");
		return connect_unix(c, host + 5);
	}
	if ((h = strdup(host)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	fd = connect_inet(c, h, port != NULL ? port : CLI_DEFAULT_PORT);
	free(h);
	return fd;
}
int
sockecho_stream_run(const struct sockecho_stream *o)
{
	struct client	c;

	memset(&c, 0, sizeof(c));
	c.message = o->message;
	c.message_len = o->message_len;
	c.check = o->check;
	c.quiet = o->quiet;
	c.deadline_ms = o->deadline_ms;
	c.connect_timeout_ms = o->connect_timeout_ms;
	c.fd = connect_to(&c, o->host, o->port);
	exchange(&c);
	close(c.fd);
	free(c.out.data);
	free(c.reply.data);
	free(c.sent.data);
	return 0;
}
