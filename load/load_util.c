/* SPDX-License-Identifier: ISC */
/*
 * load_util.c: what bench/load's scenarios share: the clock, warnings,
 * the latency histogram, the bytes every connection sends, the RESULT
 * line and the connect. It calls no scenario and starts no server.
 */
#include "build-config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

/*
 * The bytes sent repeat with an odd period, and each connection starts
 * at its own offset: a chunk that comes back twice, out of order or from
 * another connection fails the comparison.
 */
#define PATTERN_PERIOD		((1 << 20) + 13)
#define PATTERN_BYTES		(PATTERN_PERIOD + (4 << 20))

static unsigned char	*pattern;

void
load_warn(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "bench/load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static unsigned
hist_index(uint64_t v)
{
	unsigned	msb;

	if (v < (1U << HIST_SUB_BITS))
		return v;
	msb = 63 - __builtin_clzll(v);
	if (msb > 36 + HIST_SUB_BITS)
		return HIST_BUCKETS - 1;
	return (msb - HIST_SUB_BITS + 1) << HIST_SUB_BITS |
	    ((v >> (msb - HIST_SUB_BITS)) & ((1U << HIST_SUB_BITS) - 1));
}

/* The middle of a bucket, in ns. */
static double
hist_value(unsigned i)
{
	unsigned	e = i >> HIST_SUB_BITS;
	uint64_t	m = i & ((1U << HIST_SUB_BITS) - 1);

	if (e == 0)
		return m;
	m |= 1U << HIST_SUB_BITS;
	return (m + 0.5) * (double)(1ULL << (e - 1));
}

void
hist_add(struct hist *h, uint64_t ns)
{
	h->b[hist_index(ns)]++;
	h->n++;
}

void
hist_merge(struct hist *h, const struct hist *o)
{
	unsigned	i;

	for (i = 0; i < HIST_BUCKETS; i++)
		h->b[i] += o->b[i];
	h->n += o->n;
}

double
hist_pctl_us(const struct hist *h, double p)
{
	uint64_t	want, seen = 0;
	unsigned	i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(p * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return hist_value(i) / 1000;
	}
	return hist_value(HIST_BUCKETS - 1) / 1000;
}

void
tally_merge(struct tally *t, const struct tally *o)
{
	t->ops += o->ops;
	t->bytes += o->bytes;
	t->errors += o->errors;
	hist_merge(&t->lat, &o->lat);
}

void
pattern_init(void)
{
	uint32_t	x = 2463534242U;
	size_t		i;

	if ((pattern = malloc(PATTERN_BYTES)) == NULL) {
		load_warn("out of memory");
		exit(2);
	}
	for (i = 0; i < PATTERN_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = i < PATTERN_PERIOD ? x >> 24 :
		    pattern[i - PATTERN_PERIOD];
	}
}

/* Up to 4 MiB of what a connection sends from stream position pos. */
const unsigned char *
pattern_at(uint64_t pos)
{
	return pattern + pos % PATTERN_PERIOD;
}

bool
pattern_check(uint64_t pos, const unsigned char *buf, size_t n)
{
	return memcmp(pattern_at(pos), buf, n) == 0;
}

uint64_t
pattern_start(unsigned conn)
{
	return (uint64_t)conn * 7919 % PATTERN_PERIOD;
}

/* One line for the report; every figure beside its errors. */
void
load_result(const struct opts *o, const char *scenario, const char *unit,
    double rate, const struct tally *t, double cpu_us, const char *extra)
{
	printf("RESULT scenario=%s server=%s rep=%u unit=%s rate=%.6g "
	    "p50_us=%.1f p99_us=%.1f cpu_us=%.4g ops=%llu errors=%llu "
	    "verified=%llu%s%s\n", scenario, o->server, o->rep, unit, rate,
	    hist_pctl_us(&t->lat, 0.50), hist_pctl_us(&t->lat, 0.99), cpu_us,
	    (unsigned long long)t->ops, (unsigned long long)t->errors,
	    (unsigned long long)t->bytes, extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}

/* A TCP connection to 127.0.0.1:port, TCP_NODELAY; -1 with errno. */
int
load_connect(unsigned port, bool nonblock)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}
