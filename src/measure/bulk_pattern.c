/* SPDX-License-Identifier: ISC */
/*
 * bulk_pattern.c: the byte stream of sockecho --bulk: splitmix64 of the
 * seed and the word's index fills a block whose odd length differs per
 * stream; the stream repeats it. It owns no socket and prints nothing.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/bulk_pattern.h"

#define WORD_BYTES	8

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int
bulk_pattern_init(struct bulk_pattern *p, uint64_t run_seed, unsigned id)
{
	uint64_t	seed = splitmix64(run_seed + id), v = 0;
	size_t		i;

	/* Odd and per stream: a period of one stream never fits another. */
	p->period = BULK_PATTERN_BASE + 2 * (size_t)id + 1;
	if ((p->block = malloc(p->period)) == NULL)
		return -1;
	for (i = 0; i < p->period; i++) {
		if (i % WORD_BYTES == 0)
			v = splitmix64(seed ^ splitmix64(i / WORD_BYTES));
		p->block[i] = (unsigned char)(v >> (8 * (i % WORD_BYTES)));
	}
	return 0;
}

void
bulk_pattern_free(struct bulk_pattern *p)
{
	free(p->block);
	p->block = NULL;
}

const unsigned char *
bulk_pattern_at(const struct bulk_pattern *p, uint64_t off, size_t *len)
{
	size_t	at = (size_t)(off % p->period);

	*len = p->period - at;
	return p->block + at;
}

size_t
bulk_pattern_diff(const struct bulk_pattern *p, uint64_t off,
    const unsigned char *buf, size_t n)
{
	const unsigned char	*want;
	size_t			 done, len, i;

	for (done = 0; done < n; done += len) {
		want = bulk_pattern_at(p, off + done, &len);
		if (len > n - done)
			len = n - done;
		if (memcmp(want, buf + done, len) == 0)
			continue;
		for (i = 0; want[i] == buf[done + i]; i++)
			;
		return done + i;
	}
	return n;
}

double
bulk_mbps(uint64_t bytes, uint64_t ns)
{
	if (ns == 0)
		return 0;
	return (double)bytes * 1e3 / (double)ns;
}

size_t
bulk_pattern_check(const struct bulk_pattern *p, uint64_t back, uint64_t out,
    const unsigned char *buf, size_t n)
{
	size_t	owed = n;

	/* A byte beyond what was sent is wrong whatever its value. */
	if (back + n > out)
		owed = (size_t)(out - back);
	return bulk_pattern_diff(p, back, buf, owed);
}
