/* SPDX-License-Identifier: ISC */
/*
 * probe.h: the payload of an echo ping probe: its sequence number, the
 * run's identifier, then a counting pattern, so that every byte of the
 * echo can be checked and a stray or stale reply recognised.
 */
#ifndef SOCKECHOD_PROBE_H
#define SOCKECHOD_PROBE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define PROBE_HEADER_BYTES	8	/* 32-bit sequence, 32-bit run id */
#define PROBE_MIN_UDP_SIZE	PROBE_HEADER_BYTES

void	probe_fill(unsigned char *buf, size_t size, uint64_t seq,
	    uint32_t run_id);
ssize_t	probe_diff(const unsigned char *got, size_t n, size_t size,
	    uint64_t seq, uint32_t run_id);
int	probe_parse(const unsigned char *buf, size_t n, uint32_t run_id,
	    uint64_t next_seq, uint64_t *seq);

#endif
