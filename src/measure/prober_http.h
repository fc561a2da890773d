/* SPDX-License-Identifier: ISC */
/*
 * prober_http.h: the prober's own small HTTP server for GET /metrics: one
 * listening socket and a bounded set of non-blocking connections, driven
 * from the prober's poll loop. It knows nothing of probes or metrics.
 */
#ifndef SOCKECHOD_PROBER_HTTP_H
#define SOCKECHOD_PROBER_HTTP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHTTP_MAX_CONNS		8	/* beyond: the oldest reader goes */
#define PHTTP_MAX_REQUEST	4096	/* bytes of request line and headers */
#define PHTTP_READ_TIMEOUT_NS	(5ull * 1000000000ull)
#define PHTTP_MAX_FDS		(1 + PHTTP_MAX_CONNS)

/* What a request asks for. */
enum phttp_req {
	PHTTP_MORE,		/* incomplete: read on */
	PHTTP_GET,		/* GET /metrics */
	PHTTP_HEAD,		/* HEAD /metrics */
	PHTTP_BAD,		/* 400 */
	PHTTP_NOT_FOUND,	/* 404 */
	PHTTP_METHOD,		/* 405 */
	PHTTP_TOO_BIG,		/* 431 */
};

/* Writes the body into *buf (malloc'd) and its length: 0, or -1. */
typedef int	phttp_render_fn(void *arg, char **buf, size_t *len);

struct phttp_conn {
	int		 fd;		/* -1: free */
	uint64_t	 deadline_ns;
	uint64_t	 opened_ns;
	size_t		 inlen;
	char		 in[PHTTP_MAX_REQUEST + 1];
	char		*out;		/* NULL while reading the request */
	size_t		 outlen;
	size_t		 outoff;
	bool		 draining;	/* all written: reading to EOF */
};

struct phttp {
	int			 lfd;
	phttp_render_fn		*render;
	void			*arg;
	struct phttp_conn	 c[PHTTP_MAX_CONNS];
};

enum phttp_req phttp_parse(const char *buf, size_t len);
int	phttp_listen(struct phttp *h, const char *addr,
	    phttp_render_fn *render, void *arg, char *err, size_t errsize);
int	phttp_pollfds(struct phttp *, struct pollfd *, int max);
void	phttp_service(struct phttp *, const struct pollfd *, int n,
	    uint64_t now_ns);
uint64_t phttp_next_deadline(const struct phttp *);
void	phttp_close(struct phttp *);

#endif
