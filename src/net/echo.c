/* SPDX-License-Identifier: ISC */
/*
 * echo.c: drive one connection through an echo protocol with non-blocking
 * I/O. It reads and writes its socket and nothing else: no logging, no
 * timers, no exit(). The caller waits for the events in conn->want.
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/echo.h"
#include "net/echo_int.h"

#define MESSAGE_FIRST_BYTES	4096

int
echo_mode_parse(const char *name, enum echo_mode *mode)
{
	if (strcasecmp(name, "stream") == 0)
		*mode = ECHO_MODE_STREAM;
	else if (strcasecmp(name, "message") == 0)
		*mode = ECHO_MODE_MESSAGE;
	else
		return -1;
	return 0;
}

const char *
echo_mode_name(enum echo_mode mode)
{
	return mode == ECHO_MODE_MESSAGE ? "message" : "stream";
}

void
echo_init(struct echo_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->want = ECHO_WANT_READ;
	c->pipe[0] = c->pipe[1] = -1;
}

/* Count a change of c->cap in the budget. */
static void
account(struct echo_conn *c, size_t old_cap)
{
	if (c->budget != NULL)
		c->budget->held = c->budget->held - old_cap + c->cap;
}

void
echo_release(struct echo_conn *c)
{
	size_t	old = c->cap;

	echo_pipe_release(c);
	c->cap = 0;
	account(c, old);
	free(c->buf);
	c->buf = NULL;
	c->len = c->off = c->cap = 0;
}

static ssize_t
sock_read(int fd, void *buf, size_t n)
{
	ssize_t	r;

	do
		r = recv(fd, buf, n, 0);
	while (r == -1 && errno == EINTR);
	return r;
}

static ssize_t
sock_write(int fd, const void *buf, size_t n)
{
	ssize_t	r;

	do
		r = send(fd, buf, n, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	return r;
}

/* Send what is owed: 1 when all of it went, 0 when the socket is full, -1 on error. */
static int
flush(struct echo_conn *c)
{
	ssize_t	n;

	while (c->off < c->len) {
		if ((n = sock_write(c->fd, c->buf + c->off, c->len - c->off)) ==
		    -1)
			return echo_would_block() ? 0 : -1;
		c->off += n;
		c->bytes_out += n;
	}
	return 1;
}

/* Keep the part of a read the socket would not take yet. */
static int
keep_rest(struct echo_conn *c, const char *rest, size_t n)
{
	char	*buf;
	size_t	 old = c->cap;

	if (c->cap < n) {
		if ((buf = realloc(c->buf, n)) == NULL)
			return -1;
		c->buf = buf;
		c->cap = n;
		account(c, old);
	}
	memcpy(c->buf, rest, n);
	c->len = n;
	c->off = 0;
	return 0;
}

/*
 * Over the budget, stream echo keeps nothing: it peeks, sends what the
 * socket takes, and consumes only that. The rest waits in the kernel's
 * receive buffer, where backpressure belongs.
 */
static enum echo_status
stream_peek(struct echo_conn *c, const struct echo_limits *lim)
{
	ssize_t	n, w;

	do
		n = recv(c->fd, lim->scratch, lim->scratch_bytes, MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		c->read_eof = true;
		return ECHO_DONE;
	}
	if (n == -1) {
		if (!echo_would_block())
			return ECHO_ERROR;
		c->want = ECHO_WANT_READ;
		return ECHO_AGAIN;
	}
	if ((w = sock_write(c->fd, lim->scratch, n)) == -1) {
		if (!echo_would_block())
			return ECHO_ERROR;
		c->want = ECHO_WANT_WRITE;
		return ECHO_AGAIN;
	}
	if (sock_read(c->fd, lim->scratch, w) != w)
		return ECHO_ERROR;
	c->bytes_in += w;
	c->bytes_out += w;
	c->want = w < n ? ECHO_WANT_WRITE : ECHO_WANT_READ;
	return ECHO_AGAIN;
}

/*
 * Stream echo reads into the worker's scratch buffer and writes straight
 * back, so an idle or keeping-up connection holds no memory. Only what the
 * peer's window refuses is kept, and while anything is kept the connection
 * reads no more: a client that does not read stops being read.
 */
static enum echo_status
stream_step(struct echo_conn *c, const struct echo_limits *lim)
{
	ssize_t	n, w;
	int	i, r;

	for (i = 0; i < ECHO_READS_PER_STEP; i++) {
		if (c->off < c->len) {
			if ((r = flush(c)) == -1)
				return ECHO_ERROR;
			if (r == 0) {
				c->want = ECHO_WANT_WRITE;
				return ECHO_AGAIN;
			}
			echo_release(c);
		}
		if (c->read_eof)
			return ECHO_DONE;
		if (!echo_fits(c, lim->scratch_bytes))
			return stream_peek(c, lim);
		if ((n = sock_read(c->fd, lim->scratch, lim->scratch_bytes)) ==
		    0) {
			c->read_eof = true;
			continue;
		}
		if (n == -1) {
			if (!echo_would_block())
				return ECHO_ERROR;
			c->want = ECHO_WANT_READ;
			return ECHO_AGAIN;
		}
		c->bytes_in += n;
		c->bulk = (size_t)n >= lim->splice_min;
		if ((w = sock_write(c->fd, lim->scratch, n)) == -1) {
			if (!echo_would_block())
				return ECHO_ERROR;
			w = 0;
		}
		c->bytes_out += w;
		if (w < n && keep_rest(c, lim->scratch + w, n - w) == -1)
			return ECHO_ERROR;
		/*
		 * A short read emptied the socket: another recv() would only
		 * say EAGAIN, a syscall per echo that level-triggered epoll
		 * makes needless (it reports what arrives meanwhile).
		 */
		if ((size_t)n < lim->scratch_bytes)
			break;
	}
	c->want = c->off < c->len ? ECHO_WANT_WRITE : ECHO_WANT_READ;
	return ECHO_AGAIN;
}

static size_t
next_cap(const struct echo_conn *c, size_t max)
{
	size_t	cap = c->cap ? c->cap * 2 : MESSAGE_FIRST_BYTES;

	return cap > max || cap < c->cap ? max : cap;
}

/* How many more bytes a message connection's next growth needs. */
size_t
echo_next_growth(const struct echo_conn *c, const struct echo_limits *lim)
{
	return next_cap(c, lim->max_message_bytes) - c->cap;
}

/* 0, -1 without memory, 1 when the budget has no room for it. */
static int
grow(struct echo_conn *c, size_t max)
{
	size_t	 cap = next_cap(c, max), old = c->cap;
	char	*buf;

	if (!echo_fits(c, cap - old))
		return 1;
	if ((buf = realloc(c->buf, cap)) == NULL)
		return -1;
	c->buf = buf;
	c->cap = cap;
	account(c, old);
	return 0;
}

/* Read until the peer half-closes; return 0, or -1 with the status to report. */
static int
collect(struct echo_conn *c, const struct echo_limits *lim,
    enum echo_status *st)
{
	ssize_t	n;
	int	i, r;

	for (i = 0; i < ECHO_READS_PER_STEP && !c->read_eof; i++) {
		if (c->len == c->cap && c->cap < lim->max_message_bytes &&
		    (r = grow(c, lim->max_message_bytes)) != 0) {
			*st = r == 1 ? ECHO_BLOCKED : ECHO_ERROR;
			return -1;
		}
		/* A full buffer still reads one byte: EOF, or one too many. */
		if (c->len == c->cap)
			n = sock_read(c->fd, lim->scratch, 1);
		else
			n = sock_read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == 0)
			c->read_eof = true;
		else if (n > 0 && c->len == c->cap) {
			*st = ECHO_TOO_LARGE;
			return -1;
		} else if (n > 0) {
			c->len += n;
			c->bytes_in += n;
		} else if (echo_would_block())
			break;
		else {
			*st = ECHO_ERROR;
			return -1;
		}
	}
	return 0;
}

static enum echo_status
message_step(struct echo_conn *c, const struct echo_limits *lim)
{
	enum echo_status	st;
	int			r;

	if (!c->read_eof) {
		if (collect(c, lim, &st) == -1)
			return st;
		if (!c->read_eof) {
			c->want = ECHO_WANT_READ;
			return ECHO_AGAIN;
		}
	}
	if ((r = flush(c)) == -1)
		return ECHO_ERROR;
	if (r == 0) {
		c->want = ECHO_WANT_WRITE;
		return ECHO_AGAIN;
	}
	return ECHO_DONE;
}

/* Do all the I/O the socket allows now; see enum echo_status. */
enum echo_status
echo_step(struct echo_conn *c, const struct echo_limits *lim)
{
	enum echo_status	st;
	bool			copy = false;

	if (lim->mode == ECHO_MODE_MESSAGE)
		return message_step(c, lim);
	if (echo_splice_wanted(c, lim)) {
		st = echo_splice_step(c, lim, &copy);
		if (!copy)
			return st;
	}
	return stream_step(c, lim);
}
