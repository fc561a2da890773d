/* SPDX-License-Identifier: ISC */
/*
 * sockecho_stream.h: sockecho over a stream (TCP, a Unix socket): send
 * standard input or -m TEXT, half-close, write the reply byte for byte.
 */
#ifndef SOCKECHOD_SOCKECHO_STREAM_H
#define SOCKECHOD_SOCKECHO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockecho_stream {
	const char	*host;		/* a name, [IPV6], or unix:/PATH */
	const char	*port;		/* NULL: none given */
	const char	*message;	/* -m TEXT (with its newline), or NULL */
	size_t		 message_len;
	bool		 check;		/* -c */
	bool		 quiet;		/* -q */
	uint64_t	 deadline_ms;	/* monotonic; 0: none */
	uint64_t	 connect_timeout_ms;
};

/* Runs the exchange; returns 0, or exits with sockecho's statuses. */
int	sockecho_stream_run(const struct sockecho_stream *);

#endif
