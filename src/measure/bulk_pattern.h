/* SPDX-License-Identifier: ISC */
/*
 * bulk_pattern.h: the bytes sockecho --bulk sends on one stream: a block
 * of seeded pseudo-random bytes repeated, its length (the period) odd and
 * different on every stream, so that the echo is checked as it arrives
 * with memcmp against the block and sent straight from it, at memory
 * speed, without keeping what was sent. No I/O.
 */
#ifndef SOCKECHOD_BULK_PATTERN_H
#define SOCKECHOD_BULK_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define BULK_PATTERN_BASE	(1u << 20)	/* a period is this, and some */

struct bulk_pattern {
	unsigned char	*block;
	size_t		 period;
};

/* Stream "id" (1, 2, ...) of a run seeded with "run_seed": -1 on ENOMEM. */
int	bulk_pattern_init(struct bulk_pattern *, uint64_t run_seed,
	    unsigned id);
void	bulk_pattern_free(struct bulk_pattern *);
/* The stream from offset "off": a pointer and how many bytes follow. */
const unsigned char *bulk_pattern_at(const struct bulk_pattern *,
	    uint64_t off, size_t *len);
/* The first byte of "buf" (at stream offset "off") that differs, or n. */
size_t	bulk_pattern_diff(const struct bulk_pattern *, uint64_t off,
	    const unsigned char *buf, size_t n);
/*
 * The echo "buf" of "n" bytes at offset "back" of a stream with "out"
 * bytes sent: how many of them are right (n when all are).
 */
size_t	bulk_pattern_check(const struct bulk_pattern *, uint64_t back,
	    uint64_t out, const unsigned char *buf, size_t n);
/* Bytes over nanoseconds as MB/s (10^6 bytes a second); 0 over 0 ns. */
double	bulk_mbps(uint64_t bytes, uint64_t ns);

#endif
