/* SPDX-License-Identifier: ISC */
/*
 * load_util.c: what the load engine (load.c) and its callers share: the
 * outcomes' names, the bytes every session sends and their check, the
 * latency histogram and the connect. It drives no session.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

/*
 * The bytes sent repeat with an odd period, and each connection starts
 * at its own offset: a chunk that comes back twice, out of order or from
 * another connection fails the comparison.
 */
#define PATTERN_PERIOD		((1 << 20) + 13)
#define PATTERN_BYTES		(PATTERN_PERIOD + LOAD_BYTES_MAX)

/* Written once, before the first session; read-only after. */
static unsigned char	*pattern;

const char *const load_outcome_names[LOAD_NOUTCOMES] = {
	[LOAD_OK] = "ok",
	[LOAD_REFUSED] = "refused",
	[LOAD_CONNECT] = "connect",
	[LOAD_RESET] = "reset",
	[LOAD_SHORT] = "short",
	[LOAD_MISMATCH] = "mismatch",
	[LOAD_TIMEOUT] = "timeout",
	[LOAD_OTHER] = "other",
};

/* The sessions (or flows) of outcome[LOAD_NOUTCOMES] that failed. */
unsigned
load_failures(const unsigned *outcome)
{
	unsigned	i, n = 0;

	for (i = LOAD_OK + 1; i < LOAD_NOUTCOMES; i++)
		n += outcome[i];
	return n;
}

/* "connect=2 timeout=1", or "none". */
void
load_describe_failures(const unsigned *outcome, char *buf, size_t size)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = LOAD_OK + 1; i < LOAD_NOUTCOMES; i++)
		if (outcome[i] && off < size)
			off += snprintf(buf + off, size - off, "%s%s=%u",
			    off ? " " : "", load_outcome_names[i], outcome[i]);
	if (off == 0)
		snprintf(buf, size, "none");
}

/* Idempotent; call it before any thread starts. -1 with errno. */
int
load_pattern_init(void)
{
	uint32_t	x = 2463534242U;
	size_t		i;

	if (pattern != NULL)
		return 0;
	if ((pattern = malloc(PATTERN_BYTES)) == NULL)
		return -1;
	for (i = 0; i < PATTERN_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = i < PATTERN_PERIOD ? x >> 24 :
		    pattern[i - PATTERN_PERIOD];
	}
	return 0;
}

/* Up to LOAD_BYTES_MAX of what a connection sends from position pos. */
const unsigned char *
load_pattern_at(uint64_t pos)
{
	return pattern + pos % PATTERN_PERIOD;
}

bool
load_pattern_check(uint64_t pos, const unsigned char *buf, size_t n)
{
	return memcmp(load_pattern_at(pos), buf, n) == 0;
}

uint64_t
load_pattern_start(unsigned conn)
{
	return (uint64_t)conn * 7919 % PATTERN_PERIOD;
}

static unsigned
hist_index(uint64_t v)
{
	unsigned	msb;

	if (v < (1U << LOAD_HIST_SUB_BITS))
		return v;
	msb = 63 - __builtin_clzll(v);
	if (msb > 36 + LOAD_HIST_SUB_BITS)
		return LOAD_HIST_BUCKETS - 1;
	return (msb - LOAD_HIST_SUB_BITS + 1) << LOAD_HIST_SUB_BITS |
	    ((v >> (msb - LOAD_HIST_SUB_BITS)) &
	    ((1U << LOAD_HIST_SUB_BITS) - 1));
}

/* The middle of a bucket, in ns. */
static double
hist_value(unsigned i)
{
	unsigned	e = i >> LOAD_HIST_SUB_BITS;
	uint64_t	m = i & ((1U << LOAD_HIST_SUB_BITS) - 1);

	if (e == 0)
		return m;
	m |= 1U << LOAD_HIST_SUB_BITS;
	return (m + 0.5) * (double)(1ULL << (e - 1));
}

void
load_hist_add(struct load_hist *h, uint64_t ns)
{
	h->b[hist_index(ns)]++;
	h->n++;
}

void
load_hist_merge(struct load_hist *h, const struct load_hist *o)
{
	unsigned	i;

	for (i = 0; i < LOAD_HIST_BUCKETS; i++)
		h->b[i] += o->b[i];
	h->n += o->n;
}

/* The p-quantile (0..1) in us: the middle of its bucket; 0 if empty. */
double
load_hist_pctl_us(const struct load_hist *h, double p)
{
	uint64_t	want, seen = 0;
	unsigned	i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(p * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < LOAD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return hist_value(i) / 1000;
	}
	return hist_value(LOAD_HIST_BUCKETS - 1) / 1000;
}

/* host (a dotted quad) and port into sin; -1 if host is none. */
int
load_addr(struct sockaddr_in *sin, const char *host, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/*
 * A TCP connection to dst, from src if not NULL, TCP_NODELAY; under way
 * (EINPROGRESS) if nonblock. -1 with errno.
 */
int
load_connect(const struct sockaddr_in *dst, const struct sockaddr_in *src,
    bool nonblock)
{
	int	fd, one = 1, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((src != NULL && bind(fd, (const struct sockaddr *)src,
	    sizeof(*src)) == -1) || (connect(fd, (const struct sockaddr *)dst,
	    sizeof(*dst)) == -1 && errno != EINPROGRESS)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
