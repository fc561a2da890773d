/* SPDX-License-Identifier: ISC */
/*
 * acl.c: parse CIDR prefixes and decide whether a peer may be served.
 * Pure functions on strings and addresses: no sockets, no logging, no
 * configuration file (config.c reads the lists, worker.c asks).
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/acl.h"

#define V4_BITS		32
#define V6_BITS		128
#define MAPPED_BITS	96	/* ::ffff:0:0/96 holds the mapped IPv4 space */

static const uint8_t mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static unsigned
family_bits(sa_family_t family)
{
	return family == AF_INET ? V4_BITS : V6_BITS;
}

/* An IPv4-mapped IPv6 address becomes the IPv4 address itself. */
static void
unmap(struct acl_addr *a)
{
	if (a->family != AF_INET6 ||
	    memcmp(a->bytes, mapped_prefix, sizeof(mapped_prefix)) != 0)
		return;
	memmove(a->bytes, a->bytes + sizeof(mapped_prefix), 4);
	memset(a->bytes + 4, 0, ACL_ADDR_BYTES - 4);
	a->family = AF_INET;
}

/* Clear every bit after the first "len". */
void
acl_addr_mask(struct acl_addr *a, unsigned len)
{
	unsigned	i, bits = family_bits(a->family);

	if (len > bits)
		len = bits;
	i = len / 8;
	if (len % 8 != 0) {
		a->bytes[i] &= (uint8_t)(0xff << (8 - len % 8));
		i++;
	}
	for (; i < ACL_ADDR_BYTES; i++)
		a->bytes[i] = 0;
}

static int
parse_length(const char *s, unsigned max, unsigned *len)
{
	unsigned	v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -1;
	*len = v;
	return 0;
}

static int
parse_address(const char *s, struct acl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* ::ffff:a.b.c.d/N with N >= 96 is the IPv4 prefix a.b.c.d/(N-96). */
static void
unmap_prefix(struct acl_prefix *p)
{
	if (p->addr.family != AF_INET6 || p->len < MAPPED_BITS)
		return;
	unmap(&p->addr);
	if (p->addr.family == AF_INET)
		p->len -= MAPPED_BITS;
}

/*
 * Parse "ADDRESS" or "ADDRESS/LENGTH". A bare address is a /32 or /128.
 * A prefix with host bits set ("10.1.2.3/8") is an error: it almost
 * always means a typo in either part, and serving a wider or narrower
 * range than the administrator meant is worse than refusing to start.
 * Returns 0, or -1 with the reason in "why". A pure function of its text.
 */
int
acl_parse(const char *text, struct acl_prefix *p, char *why, size_t whysize)
{
	char			 buf[ACL_TEXT_MAX + 1], *slash;
	struct acl_prefix	 net;

	if (strlen(text) > ACL_TEXT_MAX) {
		snprintf(why, whysize, "too long for an address or prefix");
		return -1;
	}
	memcpy(buf, text, strlen(text) + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (parse_address(buf, &p->addr) == -1) {
		snprintf(why, whysize, "not an IPv4 or IPv6 address");
		return -1;
	}
	p->len = family_bits(p->addr.family);
	if (slash != NULL &&
	    parse_length(slash + 1, family_bits(p->addr.family), &p->len) == -1) {
		snprintf(why, whysize, "prefix length must be 0..%u",
		    family_bits(p->addr.family));
		return -1;
	}
	net = *p;
	acl_addr_mask(&net.addr, net.len);
	if (memcmp(net.addr.bytes, p->addr.bytes, ACL_ADDR_BYTES) != 0) {
		inet_ntop(net.addr.family, net.addr.bytes, buf, sizeof(buf));
		snprintf(why, whysize, "host bits are set (the network is "
		    "%s/%u)", buf, net.len);
		return -1;
	}
	unmap_prefix(p);
	return 0;
}

/* The peer's address for matching; -1 for peers that have none (AF_UNIX). */
int
acl_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
    struct acl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		a->family = AF_INET;
		memcpy(a->bytes, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		a->family = AF_INET6;
		memcpy(a->bytes, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, ACL_ADDR_BYTES);
		unmap(a);
		return 0;
	}
	return -1;
}

bool
acl_prefix_match(const struct acl_prefix *p, const struct acl_addr *a)
{
	struct acl_addr	masked;

	if (p->addr.family != a->family)
		return false;
	masked = *a;
	acl_addr_mask(&masked, p->len);
	return memcmp(masked.bytes, p->addr.bytes, ACL_ADDR_BYTES) == 0;
}

static bool
any_match(const struct acl_list *l, const struct acl_addr *a)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (acl_prefix_match(&l->v[i], a))
			return true;
	return false;
}

/*
 * Deny wins over allow; an empty allow list allows everyone not denied.
 * Peers without an IP address (Unix sockets) are governed by the socket
 * file's permissions and always pass.
 */
enum acl_verdict
acl_check(const struct acl *acl, const struct sockaddr *sa, socklen_t len)
{
	struct acl_addr	a;

	if (acl_addr_from_sockaddr(sa, len, &a) == -1)
		return ACL_ALLOW;
	if (any_match(&acl->deny, &a))
		return ACL_DENY;
	if (acl->allow.n > 0 && !any_match(&acl->allow, &a))
		return ACL_NOT_ALLOWED;
	return ACL_ALLOW;
}

void
acl_prefix_format(const struct acl_prefix *p, char *buf, size_t size)
{
	char	addr[INET6_ADDRSTRLEN];

	if (inet_ntop(p->addr.family, p->addr.bytes, addr, sizeof(addr)) ==
	    NULL)
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, size, "%s/%u", addr, p->len);
}

int
acl_list_add(struct acl_list *l, const struct acl_prefix *p)
{
	struct acl_prefix	*v;

	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL)
		return -1;
	v[l->n++] = *p;
	l->v = v;
	return 0;
}

void
acl_list_free(struct acl_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
