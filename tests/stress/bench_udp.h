/* SPDX-License-Identifier: ISC */
/* bench_udp.h: the UDP load of make bench: 64-byte datagrams from several threads. */
#ifndef SOCKECHOD_TEST_BENCH_UDP_H
#define SOCKECHOD_TEST_BENCH_UDP_H

#include <stdbool.h>
#include <stdint.h>

struct bench_udp_result {
	uint64_t	sent;
	uint64_t	answered;
	uint64_t	wrong;		/* answers that are not the question */
	double		seconds;
};

int	bench_udp_answers(const char *host, unsigned port, int timeout_ms);
/* UDP echo of 64-byte datagrams, or with "stamp" 44-byte STAMP packets. */
void	bench_udp_run(const char *host, unsigned port, unsigned threads,
	    unsigned duration_ms, bool stamp, struct bench_udp_result *);

#endif
