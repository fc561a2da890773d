/* SPDX-License-Identifier: ISC */
/* siphash.h: SipHash-2-4, the keyed hash of every table a peer's address indexes. */
#ifndef SOCKECHOD_SIPHASH_H
#define SOCKECHOD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES	16

struct siphash_key {
	uint64_t	k0;
	uint64_t	k1;
};

void	siphash_key_bytes(struct siphash_key *, const uint8_t *bytes);
int	siphash_key_random(struct siphash_key *);
uint64_t siphash24(const struct siphash_key *, const void *, size_t);

#endif
