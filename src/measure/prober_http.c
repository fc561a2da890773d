/* SPDX-License-Identifier: ISC */
/*
 * prober_http.c: the prober's HTTP server: GET (and HEAD) /metrics, 404
 * for another path, 405 for another method, 431 past 4096 bytes, one
 * request a connection. Bounded: a few connections (a new one evicts the
 * oldest still reading), a read deadline, never a blocking call, so that
 * a slow or silent client cannot stall the probes that share its loop.
 * It must not know what the body says: the caller renders it.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/prober_http.h"
#include "client/cli.h"
#include "core/safepath.h"
#include "core/sig.h"

#define PHTTP_BACKLOG		16
#define PHTTP_UNIX_MODE		0660	/* the owner and its group may scrape */
#define PHTTP_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static const char *
target_of(enum phttp_req r, int *status)
{
	switch (r) {
	case PHTTP_GET:
	case PHTTP_HEAD:
		*status = 200;
		return "OK";
	case PHTTP_NOT_FOUND:
		*status = 404;
		return "Not Found";
	case PHTTP_METHOD:
		*status = 405;
		return "Method Not Allowed";
	case PHTTP_TOO_BIG:
		*status = 431;
		return "Request Header Fields Too Large";
	default:
		*status = 400;
		return "Bad Request";
	}
}

/*
 * What the request in buf asks for. Only the request line matters; the
 * headers are read up to the blank line and ignored.
 */
enum phttp_req
phttp_parse(const char *buf, size_t len)
{
	const char	*eol, *sp1, *sp2, *end;
	size_t		 mlen, plen;

	end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		end = memmem(buf, len, "\n\n", 2);
	if (end == NULL)
		return len >= PHTTP_MAX_REQUEST ? PHTTP_TOO_BIG : PHTTP_MORE;
	eol = memchr(buf, '\n', len);
	sp1 = memchr(buf, ' ', eol - buf);
	if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', eol - sp1 - 1)) == NULL)
		return PHTTP_BAD;
	if (eol - sp2 < 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return PHTTP_BAD;
	mlen = sp1 - buf;
	plen = sp2 - sp1 - 1;
	if (plen == 0 || sp1[1] != '/')
		return PHTTP_BAD;
	if ((plen != 8 || strncmp(sp1 + 1, "/metrics", 8) != 0) &&
	    (plen < 9 || strncmp(sp1 + 1, "/metrics?", 9) != 0))
		return PHTTP_NOT_FOUND;
	if (mlen == 3 && strncmp(buf, "GET", 3) == 0)
		return PHTTP_GET;
	if (mlen == 4 && strncmp(buf, "HEAD", 4) == 0)
		return PHTTP_HEAD;
	return PHTTP_METHOD;
}

static int
fail_msg(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_msg(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/* A stale socket file of a dead prober is cleared; the mode is 0660. */
static int
listen_unix(const char *path, char *err, size_t errsize)
{
	int	fd;

	if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)
	    NULL)->sun_path))
		return fail_msg(err, errsize, "unix:%s: expected an absolute "
		    "path shorter than %zu bytes", path,
		    sizeof(((struct sockaddr_un *)NULL)->sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || safepath_unix_clear(path) == -1 ||
	    safepath_bind_unix(fd, path, PHTTP_UNIX_MODE) == -1 ||
	    listen(fd, PHTTP_BACKLOG) == -1) {
		fail_msg(err, errsize, "unix:%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port (host may be empty). */
static int
split_hostport(const char *addr, char *host, size_t hsize, const char **port)
{
	const char	*colon = strrchr(addr, ':');
	size_t		 hl;
	uint64_t	 v;

	/* A port of digits in 1..65535: getaddrinfo() takes 99999 mod 2^16. */
	if (colon == NULL || cli_number(colon + 1, 10, 1, 65535, &v) == -1)
		return -1;
	hl = colon - addr;
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	} else if (memchr(addr, ':', hl) != NULL)
		return -1;	/* a bare IPv6 address needs brackets */
	if (hl >= hsize)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	*port = colon + 1;
	return 0;
}

static int
listen_inet(const char *addr, char *err, size_t errsize)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	const char	*port;
	int		 fd, r, one = 1;

	if (split_hostport(addr, host, sizeof(host), &port) == -1)
		return fail_msg(err, errsize, "%s: expected HOST:PORT, "
		    "[IPV6]:PORT or unix:/PATH", addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0)
		return fail_msg(err, errsize, "%s: %s", addr, gai_strerror(r));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd != -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (fd == -1 || bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, PHTTP_BACKLOG) == -1) {
		fail_msg(err, errsize, "%s: %s", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Listen on "addr": 0, or -1 with the reason in err. */
int
phttp_listen(struct phttp *h, const char *addr, phttp_render_fn *render,
    void *arg, char *err, size_t errsize)
{
	int	i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < PHTTP_MAX_CONNS; i++)
		h->c[i].fd = -1;
	h->render = render;
	h->arg = arg;
	if (strncmp(addr, "unix:", 5) == 0)
		h->lfd = listen_unix(addr + 5, err, errsize);
	else
		h->lfd = listen_inet(addr, err, errsize);
	return h->lfd == -1 ? -1 : 0;
}

static void
conn_close(struct phttp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
	c->draining = false;
}

/* A free slot, or the one the oldest reader holds, closed first. */
/*
 * A slot for a new connection: a free one, else that of the oldest
 * connection whose answer is all sent and which only waits for its
 * client's end of file (nothing is lost by closing it), else that of the
 * oldest still reading its request. Only connections being written to are
 * kept, so clients that take their answer and never close cannot hold
 * every slot (found in review: 8 of them failed 30 of 40 scrapes).
 */
static struct phttp_conn *
free_slot(struct phttp *h)
{
	struct phttp_conn	*reading = NULL, *done = NULL, *c;
	int			 i;

	for (i = 0; i < PHTTP_MAX_CONNS; i++) {
		c = &h->c[i];
		if (c->fd == -1)
			return c;
		if (c->draining && (done == NULL ||
		    c->opened_ns < done->opened_ns))
			done = c;
		else if (c->out == NULL && (reading == NULL ||
		    c->opened_ns < reading->opened_ns))
			reading = c;
	}
	if ((c = done != NULL ? done : reading) != NULL)
		conn_close(c);
	return c;
}

static void
accept_all(struct phttp *h, uint64_t now)
{
	struct phttp_conn	*c;
	int			 fd;

	while ((fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((c = free_slot(h)) == NULL) {
			close(fd);	/* every slot is writing: busy */
			continue;
		}
		c->fd = fd;
		c->opened_ns = now;
		c->deadline_ns = now + PHTTP_READ_TIMEOUT_NS;
	}
}

/* The response to request r, whole, as the connection's output. */
static int
respond(struct phttp *h, struct phttp_conn *c, enum phttp_req r)
{
	char		*body = NULL, *out;
	size_t		 blen = 0;
	int		 status, n;
	const char	*reason = target_of(r, &status);

	if (status == 200 && h->render(h->arg, &body, &blen) == -1)
		return -1;
	if (status != 200) {
		if ((body = strdup(reason)) == NULL)
			return -1;
		blen = strlen(body);
	}
	n = asprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%.*s", status,
	    reason, status == 200 ? PHTTP_CONTENT_TYPE : "text/plain",
	    blen, status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    r == PHTTP_HEAD ? 0 : (int)blen, body);
	free(body);
	if (n == -1)
		return -1;
	c->out = out;
	c->outlen = (size_t)n;
	c->outoff = 0;
	return 0;
}

/* Read what came; once the request is whole, build the response. */
static void
conn_read(struct phttp *h, struct phttp_conn *c)
{
	enum phttp_req	r;
	ssize_t		n;

	n = recv(c->fd, c->in + c->inlen, PHTTP_MAX_REQUEST - c->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n > 0)
		c->inlen += (size_t)n;
	if ((r = phttp_parse(c->in, c->inlen)) == PHTTP_MORE)
		return;
	if (respond(h, c, r) == -1)
		conn_close(c);
}

/*
 * Write the response; once it is all out, half-close and read what the
 * client still sends until its EOF (or the deadline): closing with unread
 * bytes would reset the connection and lose the response (a 431, say).
 */
static void
conn_write(struct phttp_conn *c)
{
	ssize_t	n;

	n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);	/* the client went */
		return;
	}
	if ((c->outoff += (size_t)n) < c->outlen)
		return;
	if (shutdown(c->fd, SHUT_WR) == -1)
		conn_close(c);
	else
		c->draining = true;
}

static void
conn_drain(struct phttp_conn *c)
{
	char	sink[PHTTP_MAX_REQUEST];
	ssize_t	n;

	n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

/* The fds to poll: the listener first, then each connection. */
int
phttp_pollfds(struct phttp *h, struct pollfd *pfd, int max)
{
	int	i, n = 0;

	if (h->lfd < 0 || max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ h->lfd, POLLIN, 0 };
	for (i = 0; i < PHTTP_MAX_CONNS && n < max; i++)
		if (h->c[i].fd >= 0)
			pfd[n++] = (struct pollfd){ h->c[i].fd,
			    h->c[i].out && !h->c[i].draining ? POLLOUT : POLLIN,
			    0 };
	return n;
}

static struct phttp_conn *
conn_of(struct phttp *h, int fd)
{
	int	i;

	for (i = 0; i < PHTTP_MAX_CONNS; i++)
		if (h->c[i].fd == fd)
			return &h->c[i];
	return NULL;
}

/* Act on what poll said of the fds phttp_pollfds gave, then on the time. */
void
phttp_service(struct phttp *h, const struct pollfd *pfd, int n,
    uint64_t now_ns)
{
	struct phttp_conn	*c;
	int			 i;

	for (i = 1; i < n; i++) {
		if (pfd[i].revents == 0 || (c = conn_of(h, pfd[i].fd)) == NULL)
			continue;
		if (c->out == NULL)
			conn_read(h, c);
		else if (c->draining)
			conn_drain(c);
		else
			conn_write(c);
	}
	if (n > 0 && pfd[0].revents)
		accept_all(h, now_ns);
	for (i = 0; i < PHTTP_MAX_CONNS; i++)
		if (h->c[i].fd >= 0 && now_ns >= h->c[i].deadline_ns)
			conn_close(&h->c[i]);
}

/* When the next connection times out; UINT64_MAX: none open. */
uint64_t
phttp_next_deadline(const struct phttp *h)
{
	uint64_t	t = UINT64_MAX;
	int		i;

	for (i = 0; i < PHTTP_MAX_CONNS; i++)
		if (h->c[i].fd >= 0 && h->c[i].deadline_ns < t)
			t = h->c[i].deadline_ns;
	return t;
}

void
phttp_close(struct phttp *h)
{
	int	i;

	for (i = 0; i < PHTTP_MAX_CONNS; i++)
		conn_close(&h->c[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
}
