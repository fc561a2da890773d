/* SPDX-License-Identifier: ISC */
/* acl.h: CIDR prefixes, and the allow/deny decision for a peer address. */
#ifndef SOCKECHOD_ACL_H
#define SOCKECHOD_ACL_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACL_ADDR_BYTES		16
#define ACL_TEXT_MAX		64	/* longest prefix text we accept */
#define ACL_WHY_BYTES		128

/*
 * An address or prefix, IPv4 in the first four bytes. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is always kept as the IPv4 one, so that
 * dual-stack peers meet the IPv4 rules.
 */
struct acl_addr {
	sa_family_t	family;			/* AF_INET or AF_INET6 */
	uint8_t		bytes[ACL_ADDR_BYTES];
};

struct acl_prefix {
	struct acl_addr	addr;
	unsigned	len;			/* 0..32 or 0..128 */
};

struct acl_list {
	struct acl_prefix	*v;
	size_t			 n;
};

struct acl {
	struct acl_list	allow;		/* empty: everyone not denied */
	struct acl_list	deny;
};

enum acl_verdict {
	ACL_ALLOW,
	ACL_DENY,		/* matched a deny rule */
	ACL_NOT_ALLOWED,	/* an allow list exists and did not match */
};

int	acl_parse(const char *text, struct acl_prefix *, char *why,
	    size_t whysize);
int	acl_addr_from_sockaddr(const struct sockaddr *, socklen_t,
	    struct acl_addr *);
void	acl_addr_mask(struct acl_addr *, unsigned len);
bool	acl_prefix_match(const struct acl_prefix *, const struct acl_addr *);
enum acl_verdict acl_check(const struct acl *, const struct sockaddr *,
	    socklen_t);
void	acl_prefix_format(const struct acl_prefix *, char *, size_t);
int	acl_list_add(struct acl_list *, const struct acl_prefix *);
void	acl_list_free(struct acl_list *);

#endif
