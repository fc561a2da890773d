/* SPDX-License-Identifier: ISC */
/* proxy_conn.h: reading one connection's PROXY header off its socket. */
#ifndef SOCKECHOD_PROXY_CONN_H
#define SOCKECHOD_PROXY_CONN_H

#include <stdbool.h>

#include "net/proxy.h"

enum proxy_conn_status {
	PROXY_CONN_AGAIN,	/* a valid prefix so far: wait for more */
	PROXY_CONN_OK,		/* the header is read and consumed */
	PROXY_CONN_BAD,		/* malformed, oversized, cut short: *why */
};

enum proxy_conn_status proxy_conn_read(int fd, bool hangup,
	    struct proxy_header *, const char **why);
const struct sockaddr *proxy_conn_source(const struct proxy_header *,
	    const struct sockaddr *peer, socklen_t peerlen, socklen_t *len);

#endif
