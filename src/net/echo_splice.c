/* SPDX-License-Identifier: ISC */
/*
 * echo_splice.c: stream echo without copies. splice(2) moves what a
 * connection sends into a pipe and from the pipe straight back to it, so
 * its bytes never enter the worker's memory. Pipes are lent: a connection
 * holds one only while its peer's window refuses what is in it, counted
 * in the worker's budget as echo owed, and gives it back empty; a worker
 * keeps a few spare ones. Where splice is not possible (the socket's type,
 * no descriptors for a pipe, no room in the budget) the caller copies.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "net/echo.h"
#include "net/echo_int.h"

#define PIPE_DEFAULT_BYTES	65536	/* what a new pipe holds on Linux */

void
echo_pipes_init(struct echo_pipes *p, size_t bytes)
{
	p->nspare = 0;
	p->bytes = bytes;
}

void
echo_pipes_close(struct echo_pipes *p)
{
	while (p->nspare > 0) {
		p->nspare--;
		close(p->spare[p->nspare][0]);
		close(p->spare[p->nspare][1]);
	}
}

/* A pipe lent counts in the worker's budget at its size, as echo owed. */
static void
pipe_account(struct echo_conn *c, bool lent)
{
	if (c->budget == NULL)
		return;
	if (lent)
		c->budget->held += c->pipe_size;
	else
		c->budget->held -= c->pipe_size;
}

/* A new pipe of about p->bytes (the kernel rounds it, or says no). */
static int
pipe_new(const struct echo_pipes *p, int fds[2], size_t *size)
{
	int	n;

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	if ((n = fcntl(fds[1], F_SETPIPE_SZ, (int)p->bytes)) == -1)
		n = fcntl(fds[1], F_GETPIPE_SZ);
	*size = n > 0 ? (size_t)n : PIPE_DEFAULT_BYTES;
	return 0;
}

/* Lend the connection a pipe: 0, or -1 when there is none or no room. */
static int
pipe_take(struct echo_conn *c, struct echo_pipes *p)
{
	if (c->pipe[0] >= 0)
		return 0;
	/* The kernel rounds a pipe up to pages: its real size counts. */
	if (!echo_fits(c, p->nspare > 0 ? p->spare_size[p->nspare - 1] :
	    p->bytes))
		return -1;
	if (p->nspare > 0) {
		p->nspare--;
		c->pipe[0] = p->spare[p->nspare][0];
		c->pipe[1] = p->spare[p->nspare][1];
		c->pipe_size = p->spare_size[p->nspare];
	} else if (pipe_new(p, c->pipe, &c->pipe_size) == -1 ||
	    !echo_fits(c, c->pipe_size)) {
		if (c->pipe[0] >= 0) {
			close(c->pipe[0]);
			close(c->pipe[1]);
		}
		c->pipe[0] = c->pipe[1] = -1;
		return -1;
	}
	pipe_account(c, true);
	return 0;
}

/* Give back an empty pipe. */
static void
pipe_give(struct echo_conn *c, struct echo_pipes *p)
{
	if (c->pipe[0] < 0)
		return;
	pipe_account(c, false);
	if (p->nspare < ECHO_PIPES_SPARE) {
		p->spare[p->nspare][0] = c->pipe[0];
		p->spare[p->nspare][1] = c->pipe[1];
		p->spare_size[p->nspare] = c->pipe_size;
		p->nspare++;
	} else {
		close(c->pipe[0]);
		close(c->pipe[1]);
	}
	c->pipe[0] = c->pipe[1] = -1;
}

/* A closing connection's pipe, full or not, is closed. */
void
echo_pipe_release(struct echo_conn *c)
{
	if (c->pipe[0] < 0)
		return;
	pipe_account(c, false);
	close(c->pipe[0]);
	close(c->pipe[1]);
	c->pipe[0] = c->pipe[1] = -1;
	c->inpipe = 0;
}

/* Send what the pipe holds: 1 when all of it went, 0 when the socket is full, -1 on error. */
static int
pipe_flush(struct echo_conn *c)
{
	ssize_t	n;

	while (c->inpipe > 0) {
		n = splice(c->pipe[0], NULL, c->fd, NULL, c->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return echo_would_block() ? 0 : -1;
		if (n == 0) {	/* never from a pipe that holds bytes */
			errno = EIO;
			return -1;
		}
		c->inpipe -= (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	return 1;
}

/*
 * Move up to "want" bytes of what the socket holds into the pipe: bytes,
 * 0 at EOF, -1 (errno).
 */
static ssize_t
pipe_fill(struct echo_conn *c, size_t want)
{
	ssize_t	n;

	do
		n = splice(c->fd, NULL, c->pipe[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		c->inpipe = (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
	return n;
}

/*
 * One read into the lent pipe: the bytes read; 0 when the step ends here,
 * with c->want set or *copy; -1 on error. "first": the step's first read,
 * with nothing owed before it (epoll said readable).
 */
static ssize_t
splice_read(struct echo_conn *c, const struct echo_limits *lim, bool first,
    bool *copy, size_t *want)
{
	ssize_t	n;
	int	saved;

	if (pipe_take(c, lim->pipes) == -1) {
		*copy = true;
		return 0;
	}
	/* A read takes buffer_bytes at most, as when copying. */
	*want = c->pipe_size < lim->scratch_bytes ? c->pipe_size :
	    lim->scratch_bytes;
	if ((n = pipe_fill(c, *want)) > 0)
		return n;
	saved = errno;
	pipe_give(c, lim->pipes);
	errno = saved;
	/*
	 * splice() stops at TCP urgent data, which recv() skips: an end of
	 * file, or nothing where epoll saw something, is for the copying
	 * step to tell; and a socket that cannot splice copies from now on.
	 */
	if (n == 0 || (first && echo_would_block()) || errno == EINVAL) {
		c->nosplice = n == -1 && errno == EINVAL;
		c->bulk = false;
		*copy = true;
		return 0;
	}
	if (!echo_would_block())
		return -1;
	c->want = ECHO_WANT_READ;
	return 0;
}

/*
 * As stream_step() in echo.c, through a pipe. *copy is set when this
 * connection cannot splice now (no pipe, no room, urgent data, the end of
 * file) or ever (EINVAL: its socket's type), with nothing in a pipe: the
 * caller copies instead.
 */
enum echo_status
echo_splice_step(struct echo_conn *c, const struct echo_limits *lim,
    bool *copy)
{
	bool	owed = c->inpipe > 0;	/* woken to write, maybe not to read */
	size_t	want = 0;
	ssize_t	n;
	int	i, r;

	for (i = 0; i < ECHO_READS_PER_STEP; i++) {
		if ((r = pipe_flush(c)) == -1)
			return ECHO_ERROR;
		if (r == 0) {
			c->want = ECHO_WANT_WRITE;
			return ECHO_AGAIN;
		}
		if (c->read_eof) {
			pipe_give(c, lim->pipes);
			return ECHO_DONE;
		}
		if ((n = splice_read(c, lim, i == 0 && !owed, copy, &want)) <= 0)
			return n == 0 ? ECHO_AGAIN : ECHO_ERROR;
		c->bulk = (size_t)n >= lim->splice_min;
		if ((r = pipe_flush(c)) == -1)
			return ECHO_ERROR;
		if (r == 0) {
			c->want = ECHO_WANT_WRITE;
			return ECHO_AGAIN;
		}
		/* A short read emptied the socket, as in stream_step(). */
		if ((size_t)n < want)
			break;
	}
	pipe_give(c, lim->pipes);
	c->want = ECHO_WANT_READ;
	return ECHO_AGAIN;
}
