/* SPDX-License-Identifier: ISC */
/*
 * sockecho_udp.c: the client's UDP echo. Each line of standard input (or
 * the -m text) goes out as one datagram; the answer is awaited, the
 * datagram sent again when none comes, and the answer written out. The
 * exit statuses are those of the TCP client (sysexits.h, 1 for --check).
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "client/cli.h"
#include "core/sig.h"
#include "client/sockecho_udp.h"

#define UDP_MAX_BYTES		65527	/* the largest over IPv6 */
#define UDP4_MAX_BYTES		65507
#define EXIT_MISMATCH		1

struct exchange {
	const struct sockecho_udp *o;
	int		 fd;
	size_t		 max_bytes;	/* of the server's address family */
	char		*prev;		/* the last datagram answered */
	size_t		 prev_len;
	unsigned long	 n;		/* datagrams sent, first tries */
	char		 in[UDP_MAX_BYTES + 1];
};

/* A connected socket: only the server's answers come in, ICMP errors too. */
static int
open_socket(const struct sockecho_udp *o, size_t *max_bytes)
{
	struct addrinfo	 hints, *res;
	int		 fd, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((r = getaddrinfo(o->host, o->port, &hints, &res)) != 0)
		cli_fail(EX_NOHOST, "%s port %s: %s", o->host, o->port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen) == -1)
		cli_fail(EX_UNAVAILABLE, "cannot send to %s port %s: %s",
		    o->host, o->port, strerror(errno));
	*max_bytes = res->ai_family == AF_INET ? UDP4_MAX_BYTES :
	    UDP_MAX_BYTES;
	freeaddrinfo(res);
	return fd;
}

/* How long to wait for this try: its wait, cut by the overall deadline. */
static int
try_timeout(const struct exchange *x, uint64_t try_deadline)
{
	uint64_t	now = sig_monotonic_ms(), end = try_deadline;

	if (x->o->deadline_ms && x->o->deadline_ms < end)
		end = x->o->deadline_ms;
	if (x->o->deadline_ms && now >= x->o->deadline_ms)
		cli_fail(EX_TEMPFAIL, "timed out: %lu datagrams sent", x->n);
	return end > now ? (int)(end - now) : 0;
}

/*
 * The answer to "q", or -1 when none came in this try. An answer that
 * repeats the previous datagram is a late duplicate of a retry: skipped.
 */
static ssize_t
await_answer(struct exchange *x, const char *q, size_t qlen,
    uint64_t try_deadline)
{
	struct pollfd	pfd = { x->fd, POLLIN, 0 };
	ssize_t		n;

	for (;;) {
		if (poll(&pfd, 1, try_timeout(x, try_deadline)) <= 0)
			return -1;
		n = recv(x->fd, x->in, sizeof(x->in), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			cli_fail(EX_UNAVAILABLE, "%s port %s: %s", x->o->host,
			    x->o->port, strerror(errno));
		if (x->prev != NULL && (size_t)n == x->prev_len &&
		    ((size_t)n != qlen || memcmp(x->in, q, qlen) != 0) &&
		    memcmp(x->in, x->prev, x->prev_len) == 0)
			continue;
		return n;
	}
}

static void
answered(struct exchange *x, const char *q, size_t qlen, size_t n)
{
	if (x->o->check && (n != qlen || memcmp(x->in, q, qlen) != 0))
		cli_fail(EXIT_MISMATCH, "reply differs from datagram %lu "
		    "(%zu bytes sent, %zu received)", x->n, qlen, n);
	if (!x->o->quiet && fwrite(x->in, 1, n, stdout) != n)
		cli_fail(EX_IOERR, "standard output: %s", strerror(errno));
	if (!x->o->quiet)
		fflush(stdout);
	free(x->prev);
	if ((x->prev = malloc(qlen ? qlen : 1)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	memcpy(x->prev, q, qlen);
	x->prev_len = qlen;
}

/* One datagram out, its answer in: tries 1 + retries, then gives up. */
static void
ask(struct exchange *x, const char *q, size_t qlen)
{
	unsigned	try;
	ssize_t		n;

	x->n++;
	if (qlen > x->max_bytes)
		cli_fail(EX_DATAERR, "datagram %lu is %zu bytes, more than "
		    "a datagram can hold (%zu)", x->n, qlen, x->max_bytes);
	for (try = 0; try <= x->o->retries; try++) {
		if (send(x->fd, q, qlen, 0) == -1)
			cli_fail(errno == ECONNREFUSED ? EX_UNAVAILABLE :
			    EX_IOERR, "send to %s port %s: %s", x->o->host,
			    x->o->port, strerror(errno));
		n = await_answer(x, q, qlen,
		    sig_monotonic_ms() + x->o->wait_ms);
		if (n >= 0) {
			answered(x, q, qlen, (size_t)n);
			return;
		}
	}
	cli_fail(EX_TEMPFAIL, "no answer from %s port %s to datagram %lu "
	    "after %u tries", x->o->host, x->o->port, x->n,
	    x->o->retries + 1);
}

int
sockecho_udp_run(const struct sockecho_udp *o)
{
	static struct exchange	 x;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 len;

	x.o = o;
	x.fd = open_socket(o, &x.max_bytes);
	if (o->message != NULL)
		ask(&x, o->message, o->message_len);
	else
		while ((len = getline(&line, &cap, stdin)) != -1)
			ask(&x, line, (size_t)len);
	if (ferror(stdin))
		cli_fail(EX_IOERR, "standard input: %s", strerror(errno));
	free(line);
	free(x.prev);
	close(x.fd);
	return 0;
}
