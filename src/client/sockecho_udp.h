/* SPDX-License-Identifier: ISC */
/* sockecho_udp.h: sockecho -u: one datagram per line, each answer awaited and retried. */
#ifndef SOCKECHOD_SOCKECHO_UDP_H
#define SOCKECHOD_SOCKECHO_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockecho_udp {
	const char	*host;
	const char	*port;
	const char	*message;	/* -m TEXT (with its newline), or NULL */
	size_t		 message_len;
	bool		 check;
	bool		 quiet;
	uint64_t	 deadline_ms;	/* monotonic; 0: none */
	uint64_t	 wait_ms;	/* for each answer */
	unsigned	 retries;	/* sends after the first */
};

/* Runs the exchange; returns 0, or exits with sockecho's statuses. */
int	sockecho_udp_run(const struct sockecho_udp *);

#endif
