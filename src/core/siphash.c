/* SPDX-License-Identifier: ISC */
/*
 * siphash.c: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), written from the paper, and its secret key
 * from getrandom(). A table that a remote peer's address indexes hashes
 * with it, so that nobody who reads this code can choose addresses that
 * collide. No state, no logging.
 */
#include "build-config.h"

#include <sys/random.h>

#include <errno.h>

#include "core/siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t	v0, v1, v2, v3;
};

static void
round_(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

/* A little-endian word of n <= 8 bytes. */
static uint64_t
le64(const uint8_t *p, size_t n)
{
	uint64_t	w = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static void
compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	round_(s);
	round_(s);
	s->v0 ^= m;
}

void
siphash_key_bytes(struct siphash_key *k, const uint8_t *bytes)
{
	k->k0 = le64(bytes, 8);
	k->k1 = le64(bytes + 8, 8);
}

/* A fresh secret key; -1 and errno if the kernel gives none. */
int
siphash_key_random(struct siphash_key *k)
{
	uint8_t	b[SIPHASH_KEY_BYTES];
	ssize_t	n;

	do
		n = getrandom(b, sizeof(b), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(b)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	siphash_key_bytes(k, b);
	return 0;
}

uint64_t
siphash24(const struct siphash_key *k, const void *data, size_t len)
{
	const uint8_t	*p = data;
	struct sip	 s = { k->k0 ^ 0x736f6d6570736575ULL,
	    k->k1 ^ 0x646f72616e646f6dULL, k->k0 ^ 0x6c7967656e657261ULL,
	    k->k1 ^ 0x7465646279746573ULL };
	size_t		 i;

	for (i = 0; i + 8 <= len; i += 8)
		compress(&s, le64(p + i, 8));
	compress(&s, le64(p + i, len - i) | (uint64_t)(len & 0xff) << 56);
	s.v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		round_(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
