/* SPDX-License-Identifier: ISC */
/*
 * probe.c: build a probe's payload and compare an echo with it, byte for
 * byte. Pure functions: no I/O. The layout, in network byte order:
 *
 *	bytes 0-3	the low 32 bits of the sequence number
 *	bytes 4-7	the run's identifier (a random number per run)
 *	byte  i >= 8	i modulo 256, the pattern ping(8) uses too
 *
 * A probe shorter than 8 bytes carries as much of the header as fits.
 */
#include "build-config.h"

#include "measure/probe.h"

static unsigned char
byte_at(size_t i, uint64_t seq, uint32_t run_id)
{
	if (i < 4)
		return (unsigned char)(seq >> (8 * (3 - i)));
	if (i < PROBE_HEADER_BYTES)
		return (unsigned char)(run_id >> (8 * (7 - i)));
	return (unsigned char)i;
}

void
probe_fill(unsigned char *buf, size_t size, uint64_t seq, uint32_t run_id)
{
	size_t	i;

	for (i = 0; i < size; i++)
		buf[i] = byte_at(i, seq, run_id);
}

/*
 * The offset of the first byte of "got" (n bytes) that differs from probe
 * "seq" of "size" bytes; n itself when "got" is a true prefix of a longer
 * probe, or size when it is longer than the probe; -1 when equal.
 */
ssize_t
probe_diff(const unsigned char *got, size_t n, size_t size, uint64_t seq,
    uint32_t run_id)
{
	size_t	i;

	for (i = 0; i < n && i < size; i++)
		if (got[i] != byte_at(i, seq, run_id))
			return (ssize_t)i;
	return n == size ? -1 : (ssize_t)i;
}

/*
 * The sequence number of a reply to this run: the full 64 bits are the
 * latest ones below next_seq that end in the 32 bits carried. -1 when the
 * datagram is too short or belongs to another run.
 */
int
probe_parse(const unsigned char *buf, size_t n, uint32_t run_id,
    uint64_t next_seq, uint64_t *seq)
{
	uint32_t	low = 0, id = 0;
	uint64_t	s;
	size_t		i;

	if (n < PROBE_HEADER_BYTES)
		return -1;
	for (i = 0; i < 4; i++) {
		low = low << 8 | buf[i];
		id = id << 8 | buf[4 + i];
	}
	if (id != run_id)
		return -1;
	s = (next_seq & ~(uint64_t)0xffffffff) | low;
	if (s >= next_seq && s > 0xffffffff)
		s -= (uint64_t)1 << 32;
	*seq = s;
	return 0;
}
