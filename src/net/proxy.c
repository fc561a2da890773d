/* SPDX-License-Identifier: ISC */
/*
 * proxy.c: parse the PROXY protocol header that a load balancer sends
 * before the client's bytes (haproxy.org's proxy-protocol.txt, v1 and v2).
 * A pure function over the bytes read so far: no I/O, no logging.
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "net/proxy.h"

#define V1_PREFIX		"PROXY "
#define V1_PREFIX_BYTES		(sizeof(V1_PREFIX) - 1)
#define V1_UNKNOWN		"PROXY UNKNOWN"
#define V1_UNKNOWN_BYTES	(sizeof(V1_UNKNOWN) - 1)
#define V1_MAX_TOKENS		6
#define V1_PORT_DIGITS		5
#define V1_PORT_MAX		65535

static const unsigned char v2_signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* The v2 header's command, address family and transport nibbles. */
#define V2_VERSION		0x2
#define V2_CMD_LOCAL		0x0
#define V2_CMD_PROXY		0x1
#define V2_AF_UNSPEC		0x0
#define V2_AF_INET		0x1
#define V2_AF_INET6		0x2
#define V2_AF_UNIX		0x3
#define V2_PROTO_STREAM		0x1
#define V2_INET_BYTES		12
#define V2_INET6_BYTES		36
#define V2_UNIX_BYTES		216
#define V2_TLV_HEAD_BYTES	3

static enum proxy_status
fail(const char **why, const char *text)
{
	*why = text;
	return PROXY_ERROR;
}

static int
parse_port(const char *s, in_port_t *port)
{
	size_t	n = strlen(s);
	long	v;
	size_t	i;

	if (n == 0 || n > V1_PORT_DIGITS)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	v = strtol(s, NULL, 10);
	if (v > V1_PORT_MAX)
		return -1;
	*port = htons((in_port_t)v);
	return 0;
}

/* One v1 address and port into a sockaddr of the family the line named. */
static int
v1_sockaddr(int af, const char *addr, const char *port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return -1;
		return parse_port(port, &sin->sin_port);
	}
	sin6->sin6_family = AF_INET6;
	*len = sizeof(*sin6);
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
		return -1;
	return parse_port(port, &sin6->sin6_port);
}

/* Split at single spaces; an empty field (two spaces) is an error. */
static int
v1_split(char *line, char *tok[V1_MAX_TOKENS])
{
	int	n = 0;
	char	*p = line;

	for (;;) {
		if (n == V1_MAX_TOKENS)
			return -1;
		tok[n++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	for (int i = 0; i < n; i++)
		if (*tok[i] == '\0')
			return -1;
	return n;
}

static enum proxy_status
v1_line(char *line, struct proxy_header *h, const char **why)
{
	char	*tok[V1_MAX_TOKENS];
	int	 n;
	int	 af;

	/* UNKNOWN: the receiver ignores whatever follows, up to the CRLF. */
	if (strncmp(line, V1_UNKNOWN, V1_UNKNOWN_BYTES) == 0 &&
	    (line[V1_UNKNOWN_BYTES] == '\0' || line[V1_UNKNOWN_BYTES] == ' '))
		return PROXY_OK;
	n = v1_split(line, tok);

	if (n < 2)
		return fail(why, "malformed v1 header");
	if (strcmp(tok[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(tok[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return fail(why, "v1 header: unknown protocol");
	if (n != V1_MAX_TOKENS)
		return fail(why, "v1 header: wrong number of fields");
	if (v1_sockaddr(af, tok[2], tok[4], &h->src, &h->srclen) == -1 ||
	    v1_sockaddr(af, tok[3], tok[5], &h->dst, &h->dstlen) == -1)
		return fail(why, "v1 header: bad address or port");
	h->has_addr = true;
	return PROXY_OK;
}

static enum proxy_status
parse_v1(const char *b, size_t len, struct proxy_header *h, const char **why)
{
	char	 line[PROXY_V1_MAX_BYTES + 1];
	size_t	 scan = len < PROXY_V1_MAX_BYTES ? len : PROXY_V1_MAX_BYTES;
	size_t	 i;

	for (i = 0; i < scan; i++) {
		if (b[i] == '\r')
			break;
		if (b[i] == '\n' || b[i] == '\0')
			return fail(why, "malformed v1 header");
	}
	if (i == scan)
		return len < PROXY_V1_MAX_BYTES ? PROXY_NEED_MORE :
		    fail(why, "v1 header longer than 107 bytes");
	if (i + 1 == len)
		return PROXY_NEED_MORE;
	if (b[i + 1] != '\n')
		return fail(why, "malformed v1 header");
	memcpy(line, b, i);
	line[i] = '\0';
	h->version = 1;
	h->bytes = i + 2;
	return v1_line(line, h, why);
}

static void
v2_inet(const unsigned char *a, struct proxy_header *h)
{
	struct sockaddr_in	*src = (struct sockaddr_in *)&h->src;
	struct sockaddr_in	*dst = (struct sockaddr_in *)&h->dst;

	src->sin_family = dst->sin_family = AF_INET;
	memcpy(&src->sin_addr, a, 4);
	memcpy(&dst->sin_addr, a + 4, 4);
	memcpy(&src->sin_port, a + 8, 2);
	memcpy(&dst->sin_port, a + 10, 2);
	h->srclen = h->dstlen = sizeof(*src);
}

static void
v2_inet6(const unsigned char *a, struct proxy_header *h)
{
	struct sockaddr_in6	*src = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6	*dst = (struct sockaddr_in6 *)&h->dst;

	src->sin6_family = dst->sin6_family = AF_INET6;
	memcpy(&src->sin6_addr, a, 16);
	memcpy(&dst->sin6_addr, a + 16, 16);
	memcpy(&src->sin6_port, a + 32, 2);
	memcpy(&dst->sin6_port, a + 34, 2);
	h->srclen = h->dstlen = sizeof(*src);
}

/* The TLVs after the addresses: skipped, but each must fit in the header. */
static int
v2_tlvs_fit(const unsigned char *p, size_t len)
{
	size_t	off = 0;

	while (off < len) {
		if (len - off < V2_TLV_HEAD_BYTES)
			return -1;
		off += V2_TLV_HEAD_BYTES + ((size_t)p[off + 1] << 8 | p[off + 2]);
		if (off > len)
			return -1;
	}
	return 0;
}

/* The address block of a PROXY command: how many bytes it takes, or -1. */
static long
v2_addresses(unsigned fam, const unsigned char *a, size_t rest,
    struct proxy_header *h, const char **why)
{
	unsigned	af = fam >> 4;

	if (af == V2_AF_UNSPEC)
		return 0;
	if ((fam & 0xf) != V2_PROTO_STREAM) {
		*why = "v2 header: not a stream connection";
		return -1;
	}
	if (af == V2_AF_INET && rest >= V2_INET_BYTES) {
		v2_inet(a, h);
		h->has_addr = true;
		return V2_INET_BYTES;
	}
	if (af == V2_AF_INET6 && rest >= V2_INET6_BYTES) {
		v2_inet6(a, h);
		h->has_addr = true;
		return V2_INET6_BYTES;
	}
	if (af == V2_AF_UNIX && rest >= V2_UNIX_BYTES)
		return V2_UNIX_BYTES;	/* no address we could use */
	*why = af > V2_AF_UNIX ? "v2 header: unknown address family" :
	    "v2 header: address block too short";
	return -1;
}

static enum proxy_status
parse_v2(const unsigned char *b, size_t len, struct proxy_header *h,
    const char **why)
{
	size_t	 rest, total;
	long	 alen = 0;

	if (memcmp(b, v2_signature,
	    len < sizeof(v2_signature) ? len : sizeof(v2_signature)) != 0)
		return fail(why, "no PROXY header");
	if (len < PROXY_V2_FIXED_BYTES)
		return PROXY_NEED_MORE;
	if (b[12] >> 4 != V2_VERSION)
		return fail(why, "v2 header: unknown version");
	if ((b[12] & 0xf) != V2_CMD_LOCAL && (b[12] & 0xf) != V2_CMD_PROXY)
		return fail(why, "v2 header: unknown command");
	rest = (size_t)b[14] << 8 | b[15];
	total = PROXY_V2_FIXED_BYTES + rest;
	if (total > PROXY_MAX_BYTES)
		return fail(why, "v2 header larger than 1024 bytes");
	if (len < total)
		return PROXY_NEED_MORE;
	h->version = 2;
	h->bytes = total;
	if ((b[12] & 0xf) == V2_CMD_LOCAL) {
		h->local = true;	/* a health check: its own addresses */
		return PROXY_OK;
	}
	alen = v2_addresses(b[13], b + PROXY_V2_FIXED_BYTES, rest, h, why);
	if (alen < 0)
		return PROXY_ERROR;
	if (v2_tlvs_fit(b + PROXY_V2_FIXED_BYTES + alen, rest - alen) == -1)
		return fail(why, "v2 header: TLV runs past the header");
	return PROXY_OK;
}

enum proxy_status
proxy_parse(const void *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	const unsigned char	*b = buf;

	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len == 0)
		return PROXY_NEED_MORE;
	if (b[0] == v2_signature[0])
		return parse_v2(b, len, h, why);
	if (memcmp(b, V1_PREFIX, len < V1_PREFIX_BYTES ? len : V1_PREFIX_BYTES))
		return fail(why, "no PROXY header");
	if (len < V1_PREFIX_BYTES)
		return PROXY_NEED_MORE;
	return parse_v1(buf, len, h, why);
}
