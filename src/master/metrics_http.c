/* SPDX-License-Identifier: ISC */
/*
 * metrics_http.c: serve GET /metrics from the master's loop. Every socket
 * is non-blocking, a request is bounded in size and time, and one request
 * is served per connection (Connection: close), so no client can make the
 * master wait. The exposition comes from a callback; no logging policy.
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/metrics_http.h"

#define BODY_FIRST_BYTES	65536

/* The end of the headers: an empty line, with or without CR. */
static const char *
headers_end(const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return buf + i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return buf + i + 3;
	}
	return NULL;
}

static bool
starts(const char *s, size_t len, const char *prefix)
{
	size_t	n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* "METHOD SP TARGET SP HTTP/1.x CRLF ...": what to answer. */
enum metrics_http_verdict
metrics_http_parse(const char *buf, size_t len, size_t max)
{
	const char	*end, *sp1, *sp2, *eol;
	size_t		 mlen, tlen;

	if ((end = headers_end(buf, len)) == NULL)
		return len >= max ? METRICS_HTTP_TOO_LARGE : METRICS_HTTP_MORE;
	if ((size_t)(end - buf) > max)
		return METRICS_HTTP_TOO_LARGE;
	eol = memchr(buf, '\n', (size_t)(end - buf));
	if ((sp1 = memchr(buf, ' ', (size_t)(eol - buf))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL)
		return METRICS_HTTP_BAD_REQUEST;
	mlen = (size_t)(sp1 - buf);
	tlen = (size_t)(sp2 - sp1 - 1);
	if (!starts(sp2 + 1, (size_t)(eol - sp2 - 1), "HTTP/1.") || tlen == 0)
		return METRICS_HTTP_BAD_REQUEST;
	if (!(mlen == 3 && starts(buf, mlen, "GET")) &&
	    !(mlen == 4 && starts(buf, mlen, "HEAD")))
		return METRICS_HTTP_BAD_METHOD;
	if (!((tlen == 8 || (tlen > 8 && sp1[9] == '?')) &&
	    starts(sp1 + 1, tlen, "/metrics")))
		return METRICS_HTTP_NOT_FOUND;
	return mlen == 3 ? METRICS_HTTP_GET : METRICS_HTTP_HEAD;
}

void
metrics_http_init(struct metrics_http *h, metrics_http_render render,
    void *arg)
{
	size_t	i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < METRICS_HTTP_CONNS_MAX; i++)
		h->conns[i].fd = -1;
	h->render = render;
	h->arg = arg;
}

/* Bind and listen on one address; the socket is non-blocking. */
int
metrics_http_open(struct metrics_http *h, const struct listen_addr *a,
    char *err, size_t errlen)
{
	int	fl;

	if (listen_build(&h->ls, NULL, a, 1, METRICS_HTTP_BACKLOG, err,
	    errlen) == -1)
		return -1;
	if ((fl = fcntl(h->ls.v[0].fd, F_GETFL)) == -1 ||
	    fcntl(h->ls.v[0].fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "metrics_listen: fcntl: %s",
		    strerror(errno));
		listen_close_all(&h->ls);
		return -1;
	}
	return 0;
}

static void
conn_free(struct metrics_http_conn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
}

static const char *
status_line(enum metrics_http_verdict v)
{
	switch (v) {
	case METRICS_HTTP_GET:
	case METRICS_HTTP_HEAD:
		return "200 OK";
	case METRICS_HTTP_NOT_FOUND:
		return "404 Not Found";
	case METRICS_HTTP_BAD_METHOD:
		return "405 Method Not Allowed";
	case METRICS_HTTP_TOO_LARGE:
		return "431 Request Header Fields Too Large";
	default:
		return "400 Bad Request";
	}
}

/* The exposition in a buffer that grows until it fits; NULL if never. */
static char *
render_body(struct metrics_http *h, int *len)
{
	size_t	 size;
	char	*buf = NULL, *nb;

	for (size = BODY_FIRST_BYTES; size <= METRICS_HTTP_BODY_MAX; size *= 2) {
		if ((nb = realloc(buf, size)) == NULL)
			break;
		buf = nb;
		if ((*len = h->render(h->arg, buf, size)) >= 0)
			return buf;
	}
	free(buf);
	return NULL;
}

/* Headers and, for GET, the body, into c->out. -1: out of memory. */
static int
respond(struct metrics_http *h, struct metrics_http_conn *c,
    enum metrics_http_verdict v)
{
	char		*body = NULL, head[256];
	const char	*type = "text/plain; charset=utf-8";
	int		 blen = 0, hlen;

	if (v == METRICS_HTTP_GET || v == METRICS_HTTP_HEAD) {
		if ((body = render_body(h, &blen)) == NULL)
			return -1;
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		if ((body = strdup(status_line(v))) == NULL)
			return -1;
		blen = (int)strlen(body);
	}
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n",
	    status_line(v), type, blen);
	if (v == METRICS_HTTP_HEAD)
		blen = 0;
	if ((c->out = malloc((size_t)hlen + (size_t)blen)) == NULL) {
		free(body);
		return -1;
	}
	memcpy(c->out, head, (size_t)hlen);
	memcpy(c->out + hlen, body, (size_t)blen);
	c->outlen = (size_t)hlen + (size_t)blen;
	free(body);
	h->served++;
	return 0;
}

/* Read what there is; decide once the headers are complete. */
static void
conn_read(struct metrics_http *h, struct metrics_http_conn *c)
{
	enum metrics_http_verdict	v;
	ssize_t				n;

	for (;;) {
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->inlen += (size_t)n;
		v = metrics_http_parse(c->in, c->inlen, sizeof(c->in));
		if (v == METRICS_HTTP_MORE)
			continue;
		if (respond(h, c, v) == -1)
			conn_free(c);
		else
			(void)shutdown(c->fd, SHUT_RD);
		return;
	}
}

static void
conn_write(struct metrics_http_conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		c->outoff += (size_t)n;
	}
	conn_free(c);
}

static void
accept_all(struct metrics_http *h, uint64_t now_ms)
{
	struct metrics_http_conn	*c;
	size_t				 i;
	int				 fd;

	for (i = 0; i < METRICS_HTTP_CONNS_MAX; i++) {
		c = &h->conns[i];
		if (c->fd != -1)
			continue;
		fd = accept4(h->ls.v[0].fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;		/* EAGAIN, or nothing to do about it */
		c->fd = fd;
		c->deadline_ms = now_ms + METRICS_HTTP_TIMEOUT_MS;
	}
}

/* The listener (while a connection is free), then each connection. */
size_t
metrics_http_pollfds(const struct metrics_http *h, struct pollfd *pfd,
    size_t max)
{
	size_t	i, n = 0, busy = 0;

	if (h->ls.n == 0)
		return 0;
	for (i = 0; i < METRICS_HTTP_CONNS_MAX && n < max; i++) {
		if (h->conns[i].fd == -1)
			continue;
		busy++;
		pfd[n++] = (struct pollfd){ h->conns[i].fd,
		    h->conns[i].out != NULL ? POLLOUT : POLLIN, 0 };
	}
	if (busy < METRICS_HTTP_CONNS_MAX && n < max)
		pfd[n++] = (struct pollfd){ h->ls.v[0].fd, POLLIN, 0 };
	return n;
}

/* After poll(): serve what is ready, and drop connections past their time. */
void
metrics_http_handle(struct metrics_http *h, const struct pollfd *pfd,
    size_t n, uint64_t now_ms)
{
	struct metrics_http_conn	*c;
	size_t				 i, k;

	for (i = 0; i < METRICS_HTTP_CONNS_MAX; i++) {
		c = &h->conns[i];
		if (c->fd == -1)
			continue;
		for (k = 0; k < n; k++)
			if (pfd[k].fd == c->fd && pfd[k].revents != 0)
				break;
		if (k < n && c->out == NULL)
			conn_read(h, c);
		else if (k < n)
			conn_write(c);
		if (c->fd != -1 && now_ms >= c->deadline_ms)
			conn_free(c);
	}
	for (k = 0; k < n; k++)
		if (h->ls.n > 0 && pfd[k].fd == h->ls.v[0].fd &&
		    (pfd[k].revents & POLLIN))
			accept_all(h, now_ms);
}

void
metrics_http_close(struct metrics_http *h)
{
	size_t	i;

	for (i = 0; i < METRICS_HTTP_CONNS_MAX; i++)
		if (h->conns[i].fd != -1)
			conn_free(&h->conns[i]);
	listen_close_all(&h->ls);
}
