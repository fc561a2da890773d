/* SPDX-License-Identifier: ISC */
/* metrics_http.h: the master's small HTTP/1.1 server for GET /metrics. */
#ifndef SOCKECHOD_METRICS_HTTP_H
#define SOCKECHOD_METRICS_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "net/listen.h"

#define METRICS_HTTP_REQUEST_MAX	4096	/* bytes of request line and headers */
#define METRICS_HTTP_TIMEOUT_MS		5000	/* a request, from accept to the last byte */
#define METRICS_HTTP_CONNS_MAX		8	/* at a time; others wait in the backlog */
#define METRICS_HTTP_BACKLOG		16
#define METRICS_HTTP_BODY_MAX		(8u << 20)

/* What a request is, once its headers are complete. */
enum metrics_http_verdict {
	METRICS_HTTP_MORE,		/* not complete yet */
	METRICS_HTTP_GET,		/* GET /metrics */
	METRICS_HTTP_HEAD,		/* HEAD /metrics */
	METRICS_HTTP_NOT_FOUND,		/* 404: another path */
	METRICS_HTTP_BAD_METHOD,	/* 405: neither GET nor HEAD */
	METRICS_HTTP_BAD_REQUEST,	/* 400 */
	METRICS_HTTP_TOO_LARGE,		/* 431: headers over the limit */
};

enum metrics_http_verdict metrics_http_parse(const char *buf, size_t len,
	    size_t max);

/* Fills buf with the exposition; its length, or -1 if size is too small. */
typedef int (*metrics_http_render)(void *arg, char *buf, size_t size);

struct metrics_http_conn {
	int		 fd;		/* -1: free */
	uint64_t	 deadline_ms;
	char		 in[METRICS_HTTP_REQUEST_MAX];
	size_t		 inlen;
	char		*out;		/* the response, once decided */
	size_t		 outlen;
	size_t		 outoff;
};

struct metrics_http {
	struct listeners	 ls;	/* one socket, or none */
	struct metrics_http_conn conns[METRICS_HTTP_CONNS_MAX];
	metrics_http_render	 render;
	void			*arg;
	uint64_t		 served;
};

void	metrics_http_init(struct metrics_http *, metrics_http_render, void *);
int	metrics_http_open(struct metrics_http *, const struct listen_addr *,
	    char *err, size_t errlen);
size_t	metrics_http_pollfds(const struct metrics_http *, struct pollfd *,
	    size_t max);
void	metrics_http_handle(struct metrics_http *, const struct pollfd *,
	    size_t n, uint64_t now_ms);
void	metrics_http_close(struct metrics_http *);

#endif
