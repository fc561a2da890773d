/* SPDX-License-Identifier: ISC */
/* unit_acl.c: acl.c (CIDR parsing, matching, allow/deny) and admit.c's notice rate. */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "net/acl.h"
#include "worker/admit.h"

static const struct parse_case {
	const char	*text;
	int		 ok;
	sa_family_t	 family;
	const char	*canonical;	/* acl_prefix_format(), or the error */
} parse_cases[] = {
	{ "192.0.2.0/24", 0, AF_INET, "192.0.2.0/24" },
	{ "192.0.2.1", 0, AF_INET, "192.0.2.1/32" },
	{ "0.0.0.0/0", 0, AF_INET, "0.0.0.0/0" },
	{ "10.0.0.7/32", 0, AF_INET, "10.0.0.7/32" },
	{ "2001:db8::/32", 0, AF_INET6, "2001:db8::/32" },
	{ "::1", 0, AF_INET6, "::1/128" },
	{ "::/0", 0, AF_INET6, "::/0" },
	{ "2001:db8::1/128", 0, AF_INET6, "2001:db8::1/128" },
	{ "fe80::/10", 0, AF_INET6, "fe80::/10" },
	/* A mapped rule is the IPv4 rule. */
	{ "::ffff:192.0.2.0/120", 0, AF_INET, "192.0.2.0/24" },
	{ "::ffff:192.0.2.1", 0, AF_INET, "192.0.2.1/32" },
	{ "::ffff:0:0/96", 0, AF_INET, "0.0.0.0/0" },
	{ "::fffe:0:0/95", 0, AF_INET6, "::fffe:0:0/95" },
	{ "::ffff:0:0/95", -1, 0, "host bits are set (the network is ::fffe:0:0/95)" },
	{ "10.0.0.0/33", -1, 0, "prefix length must be 0..32" },
	{ "2001:db8::/129", -1, 0, "prefix length must be 0..128" },
	{ "10.0.0.0/", -1, 0, "prefix length must be 0..32" },
	{ "10.0.0.0/-1", -1, 0, "prefix length must be 0..32" },
	{ "10.0.0.0/8x", -1, 0, "prefix length must be 0..32" },
	{ "10.0.0.0/0008", -1, 0, "prefix length must be 0..32" },
	{ "10.0.0.0/ 8", -1, 0, "prefix length must be 0..32" },
	{ "10.1.2.3/8", -1, 0, "host bits are set (the network is 10.0.0.0/8)" },
	{ "2001:db8::1/32", -1, 0,
	    "host bits are set (the network is 2001:db8::/32)" },
	{ "192.0.2.128/24", -1, 0, "host bits are set" },
	{ "0.0.0.1/0", -1, 0, "host bits are set (the network is 0.0.0.0/0)" },
	{ "", -1, 0, "not an IPv4 or IPv6 address" },
	{ "/24", -1, 0, "not an IPv4 or IPv6 address" },
	{ "example.com", -1, 0, "not an IPv4 or IPv6 address" },
	{ "10.0.0", -1, 0, "not an IPv4 or IPv6 address" },
	{ "256.0.0.0/8", -1, 0, "not an IPv4 or IPv6 address" },
	{ " 10.0.0.0/8", -1, 0, "not an IPv4 or IPv6 address" },
	{ "10.0.0.0/8/8", -1, 0, "prefix length must be 0..32" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee/9",
	    -1, 0, "too long" },
};

START_TEST(test_parse)
{
	const struct parse_case	*c = &parse_cases[_i];
	struct acl_prefix	 p;
	char			 why[ACL_WHY_BYTES], text[ACL_TEXT_MAX];

	memset(why, 0, sizeof(why));
	ck_assert_int_eq(acl_parse(c->text, &p, why, sizeof(why)), c->ok);
	if (c->ok == 0) {
		ck_assert_int_eq(p.addr.family, c->family);
		acl_prefix_format(&p, text, sizeof(text));
		ck_assert_str_eq(text, c->canonical);
	} else
		ck_assert_msg(strstr(why, c->canonical) != NULL,
		    "\"%s\": \"%s\" lacks \"%s\"", c->text, why, c->canonical);
}
END_TEST

static struct sockaddr_storage
peer(const char *text, socklen_t *len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
	}
	return ss;
}

static const struct match_case {
	const char	*prefix;
	const char	*addr;
	bool		 match;
} match_cases[] = {
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "::1", false },		/* families never mix... */
	{ "0.0.0.0/0", "::ffff:203.0.113.9", true },	/* ...but mapped is v4 */
	{ "::/0", "2001:db8::5", true },
	{ "::/0", "192.0.2.1", false },
	{ "::/0", "::ffff:192.0.2.1", false },
	{ "192.0.2.0/24", "192.0.2.0", true },
	{ "192.0.2.0/24", "192.0.2.255", true },
	{ "192.0.2.0/24", "192.0.3.0", false },
	{ "192.0.2.0/24", "192.0.1.255", false },
	{ "192.0.2.0/24", "::ffff:192.0.2.77", true },
	{ "::ffff:192.0.2.0/120", "192.0.2.77", true },
	{ "10.0.0.7/32", "10.0.0.7", true },
	{ "10.0.0.7/32", "10.0.0.6", false },
	{ "10.0.0.7", "10.0.0.8", false },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "127.0.0.0/8", "127.0.0.3", true },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1/128", "2001:db8::2", false },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
	{ "::1", "::1", true },
	{ "::1", "127.0.0.1", false },
};

START_TEST(test_match)
{
	const struct match_case	*c = &match_cases[_i];
	struct sockaddr_storage	 ss;
	struct acl_prefix	 p;
	struct acl_addr		 a;
	socklen_t		 len;
	char			 why[ACL_WHY_BYTES];

	ck_assert_int_eq(acl_parse(c->prefix, &p, why, sizeof(why)), 0);
	ss = peer(c->addr, &len);
	ck_assert_int_eq(acl_addr_from_sockaddr((struct sockaddr *)&ss, len,
	    &a), 0);
	ck_assert_msg(acl_prefix_match(&p, &a) == c->match, "%s in %s: %d",
	    c->addr, c->prefix, !c->match);
}
END_TEST

static void
add(struct acl_list *l, const char *text)
{
	struct acl_prefix	p;
	char			why[ACL_WHY_BYTES];

	ck_assert_int_eq(acl_parse(text, &p, why, sizeof(why)), 0);
	ck_assert_int_eq(acl_list_add(l, &p), 0);
}

static enum acl_verdict
check_one(const struct acl *acl, const char *addr)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	ss = peer(addr, &len);
	return acl_check(acl, (struct sockaddr *)&ss, len);
}

START_TEST(test_check_rules)
{
	struct acl		acl;
	struct sockaddr_un	sun;

	memset(&acl, 0, sizeof(acl));
	/* Nothing configured: everyone. */
	ck_assert_int_eq(check_one(&acl, "203.0.113.1"), ACL_ALLOW);
	ck_assert_int_eq(check_one(&acl, "2001:db8::1"), ACL_ALLOW);
	/* Only deny: everyone else. */
	add(&acl.deny, "203.0.113.0/24");
	ck_assert_int_eq(check_one(&acl, "203.0.113.1"), ACL_DENY);
	ck_assert_int_eq(check_one(&acl, "::ffff:203.0.113.1"), ACL_DENY);
	ck_assert_int_eq(check_one(&acl, "198.51.100.1"), ACL_ALLOW);
	/* Allow and deny: deny wins inside allow. */
	add(&acl.allow, "203.0.0.0/16");
	add(&acl.allow, "2001:db8::/32");
	ck_assert_int_eq(check_one(&acl, "203.0.113.1"), ACL_DENY);
	ck_assert_int_eq(check_one(&acl, "203.0.5.1"), ACL_ALLOW);
	ck_assert_int_eq(check_one(&acl, "198.51.100.1"), ACL_NOT_ALLOWED);
	ck_assert_int_eq(check_one(&acl, "2001:db8::7"), ACL_ALLOW);
	ck_assert_int_eq(check_one(&acl, "2001:db9::7"), ACL_NOT_ALLOWED);
	add(&acl.deny, "2001:db8::7");
	ck_assert_int_eq(check_one(&acl, "2001:db8::7"), ACL_DENY);
	/* Unix-socket peers are the socket file's business. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(acl_check(&acl, (struct sockaddr *)&sun,
	    sizeof(sa_family_t)), ACL_ALLOW);
	acl_list_free(&acl.allow);
	acl_list_free(&acl.deny);
	ck_assert_uint_eq(acl.allow.n, 0);
}
END_TEST

START_TEST(test_mask)
{
	static const struct {
		unsigned	len;
		const char	*in, *out;
	} cases[] = {
		{ 0, "255.255.255.255", "0.0.0.0" },
		{ 1, "255.255.255.255", "128.0.0.0" },
		{ 7, "255.255.255.255", "254.0.0.0" },
		{ 8, "255.255.255.255", "255.0.0.0" },
		{ 31, "255.255.255.255", "255.255.255.254" },
		{ 32, "255.255.255.255", "255.255.255.255" },
		{ 33, "255.255.255.255", "255.255.255.255" },
		{ 64, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::" },
		{ 127, "::ffff:ffff:ffff:ffff", "::ffff:ffff:ffff:fffe" },
		{ 128, "2001:db8::1", "2001:db8::1" },
	};
	struct acl_addr	a;
	char		buf[INET6_ADDRSTRLEN];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(cases[i].in, ':') ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(a.family, cases[i].in, a.bytes), 1);
		acl_addr_mask(&a, cases[i].len);
		inet_ntop(a.family, a.bytes, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].out);
	}
}
END_TEST

START_TEST(test_notice_once_a_minute_per_source)
{
	static struct admit_notices	n;
	struct acl_addr			a, b;
	unsigned			i;

	memset(&n, 0, sizeof(n));
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.bytes[0] = 10;
	b = a;
	b.bytes[3] = 1;
	ck_assert(admit_notice_due(&n, &a, 1000));
	ck_assert(!admit_notice_due(&n, &a, 1001));
	ck_assert(!admit_notice_due(&n, &a, 1000 + ADMIT_NOTICE_EVERY_MS - 1));
	ck_assert(admit_notice_due(&n, &b, 2000));
	ck_assert(admit_notice_due(&n, &a, 1000 + ADMIT_NOTICE_EVERY_MS));
	ck_assert(!admit_notice_due(&n, &b, 3000));
	/* A flood of other sources pushes out the oldest, never overflows. */
	for (i = 0; i < 10 * ADMIT_NOTICE_SOURCES; i++) {
		b.bytes[2] = (uint8_t)(i >> 8);
		b.bytes[3] = (uint8_t)i;
		b.bytes[1] = 1;
		ck_assert(admit_notice_due(&n, &b, 5000 + i));
		ck_assert(!admit_notice_due(&n, &b, 5000 + i));
	}
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc = tcase_create("acl");

	tcase_add_loop_test(tc, test_parse, 0, nitems(parse_cases));
	tcase_add_loop_test(tc, test_match, 0, nitems(match_cases));
	tcase_add_test(tc, test_check_rules);
	tcase_add_test(tc, test_mask);
	tcase_add_test(tc, test_notice_once_a_minute_per_source);
	suite_add_tcase(s, tc);
	return s;
}
