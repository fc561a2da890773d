/* SPDX-License-Identifier: ISC */
/* proxy.h: the PROXY protocol header (HAProxy's, v1 text and v2 binary). */
#ifndef SOCKECHOD_PROXY_H
#define SOCKECHOD_PROXY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest v1 line, "PROXY TCP6 <39> <39> 65535 65535\r\n", per the spec. */
#define PROXY_V1_MAX_BYTES	107
/* A v2 header: 16 fixed bytes, then addresses and TLVs. Ours is bounded. */
#define PROXY_V2_FIXED_BYTES	16
#define PROXY_MAX_BYTES		1024

enum proxy_status {
	PROXY_NEED_MORE,	/* a valid prefix: read more and call again */
	PROXY_OK,		/* a whole header: see struct proxy_header */
	PROXY_ERROR,		/* not a header, or a bad one: *why says */
};

struct proxy_header {
	int			version;	/* 1 or 2 */
	bool			has_addr;	/* false: LOCAL, UNKNOWN, UNSPEC, UNIX */
	bool			local;		/* v2 LOCAL: the sender's own */
	struct sockaddr_storage	src;		/* the real client */
	struct sockaddr_storage	dst;		/* the address it connected to */
	socklen_t		srclen;
	socklen_t		dstlen;
	size_t			bytes;		/* header length, to consume */
};

enum proxy_status proxy_parse(const void *buf, size_t len,
	    struct proxy_header *, const char **why);

#endif
