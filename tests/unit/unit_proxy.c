/* SPDX-License-Identifier: ISC */
/* unit_proxy.c: proxy.c: every header form of the PROXY protocol, v1 and v2. */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "net/proxy.h"

/* The longest lines of proxy-protocol.txt section 2.1, and its examples. */
#define V4_LONGEST "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"
#define V6_LONGEST "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff " \
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
#define UNKNOWN_LONGEST "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff " \
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"

static const struct v1_case {
	const char	*text;
	enum proxy_status status;
	int		 family;	/* 0: no address */
	const char	*src;
	unsigned	 sport;
	const char	*dst;
	unsigned	 dport;
} v1_cases[] = {
	{ "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n",
	    PROXY_OK, AF_INET, "192.168.0.1", 56324, "192.168.0.11", 443 },
	{ V4_LONGEST, PROXY_OK, AF_INET, "255.255.255.255", 65535,
	    "255.255.255.255", 65535 },
	{ V6_LONGEST, PROXY_OK, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535 },
	{ "PROXY TCP6 2001:db8::1 ::1 0 7\r\n", PROXY_OK, AF_INET6,
	    "2001:db8::1", 0, "::1", 7 },
	{ "PROXY UNKNOWN\r\n", PROXY_OK, 0, NULL, 0, NULL, 0 },
	{ UNKNOWN_LONGEST, PROXY_OK, 0, NULL, 0, NULL, 0 },
	/* Valid prefixes: the rest has not arrived yet. */
	{ "P", PROXY_NEED_MORE, 0, NULL, 0, NULL, 0 },
	{ "PROXY", PROXY_NEED_MORE, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 192.168.0.1", PROXY_NEED_MORE, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", PROXY_NEED_MORE, 0, NULL, 0,
	    NULL, 0 },
	/* Errors. */
	{ "GET / HTTP/1.1\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", PROXY_ERROR, 0, NULL, 0, NULL,
	    0 },
	{ "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL,
	    0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", PROXY_ERROR, 0, NULL, 0,
	    NULL, 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL,
	    0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n", PROXY_ERROR, 0, NULL, 0,
	    NULL, 0 },
	{ "PROXY TCP4 ::1 ::1 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", PROXY_ERROR, 0, NULL, 0, NULL,
	    0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", PROXY_ERROR, 0, NULL, 0, NULL, 0 },
};

static void
assert_addr(const struct sockaddr_storage *ss, int family, const char *text,
    unsigned port)
{
	char	buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(ss->ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		ck_assert_uint_eq(ntohs(sin->sin_port), port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
	}
	ck_assert_str_eq(buf, text);
}

START_TEST(test_v1)
{
	const struct v1_case	*c = &v1_cases[_i];
	struct proxy_header	 h;
	const char		*why;
	const char		*crlf;

	ck_assert_int_eq(proxy_parse(c->text, strlen(c->text), &h, &why),
	    c->status);
	if (c->status == PROXY_ERROR)
		ck_assert_ptr_nonnull(why);
	if (c->status != PROXY_OK)
		return;
	crlf = strstr(c->text, "\r\n");
	ck_assert_uint_eq(h.bytes, (size_t)(crlf + 2 - c->text));
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.has_addr, c->family != 0);
	if (c->family == 0)
		return;
	assert_addr(&h.src, c->family, c->src, c->sport);
	assert_addr(&h.dst, c->family, c->dst, c->dport);
}
END_TEST

START_TEST(test_v1_longest_lines_are_the_spec_limit)
{
	ck_assert_uint_eq(strlen(UNKNOWN_LONGEST), PROXY_V1_MAX_BYTES);
	ck_assert_uint_eq(strlen(V6_LONGEST), 104);
}
END_TEST

START_TEST(test_v1_over_107_bytes_is_an_error)
{
	char			line[200];
	struct proxy_header	h;
	const char		*why;

	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse(line, PROXY_V1_MAX_BYTES - 1, &h, &why),
	    PROXY_NEED_MORE);
	ck_assert_int_eq(proxy_parse(line, sizeof(line), &h, &why),
	    PROXY_ERROR);
	ck_assert_ptr_nonnull(strstr(why, "107"));
}
END_TEST

START_TEST(test_v1_nul_is_an_error)
{
	static const char	text[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
	struct proxy_header	h;
	const char		*why;

	ck_assert_int_eq(proxy_parse(text, sizeof(text) - 1, &h, &why),
	    PROXY_ERROR);
}
END_TEST

/* A v2 header: signature, version/command, family/transport, length, body. */
static size_t
v2(unsigned char *out, unsigned cmd, unsigned fam, const void *body,
    size_t len)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, sizeof(sig));
	out[12] = (unsigned char)cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (len)
		memcpy(out + 16, body, len);
	return 16 + len;
}

/* 192.0.2.1:51000 -> 198.51.100.7:7 */
static const unsigned char inet_body[12] = { 192, 0, 2, 1, 198, 51, 100, 7,
	0xc7, 0x38, 0x00, 0x07 };

START_TEST(test_v2_tcp4)
{
	unsigned char		b[64];
	size_t			n = v2(b, 0x21, 0x11, inet_body, sizeof(inet_body));
	struct proxy_header	h;
	const char		*why;

	memcpy(b + n, "hello", 5);	/* the client's bytes follow */
	ck_assert_int_eq(proxy_parse(b, n + 5, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.bytes, 28);
	ck_assert_int_eq(h.version, 2);
	ck_assert(h.has_addr);
	assert_addr(&h.src, AF_INET, "192.0.2.1", 51000);
	assert_addr(&h.dst, AF_INET, "198.51.100.7", 7);
	ck_assert_uint_eq(h.srclen, sizeof(struct sockaddr_in));
}
END_TEST

START_TEST(test_v2_tcp6)
{
	unsigned char		body[36], b[64];
	size_t			n;
	struct proxy_header	h;
	const char		*why;

	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::5", body);
	inet_pton(AF_INET6, "2001:db8::1:7", body + 16);
	body[32] = 0x12;
	body[33] = 0x34;
	body[35] = 7;
	n = v2(b, 0x21, 0x21, body, sizeof(body));
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.bytes, 52);
	assert_addr(&h.src, AF_INET6, "2001:db8::5", 0x1234);
	assert_addr(&h.dst, AF_INET6, "2001:db8::1:7", 7);
}
END_TEST

START_TEST(test_v2_local_keeps_the_connection_addresses)
{
	unsigned char		b[64];
	size_t			n = v2(b, 0x20, 0x00, NULL, 0);
	struct proxy_header	h;
	const char		*why;

	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.bytes, 16);
	ck_assert(!h.has_addr);
	/* LOCAL with an address block (HAProxy's health checks): skipped. */
	n = v2(b, 0x20, 0x11, inet_body, sizeof(inet_body));
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.bytes, 28);
	ck_assert(!h.has_addr);
}
END_TEST

START_TEST(test_v2_unspec_and_unix_carry_no_address)
{
	unsigned char		body[216], b[256];
	struct proxy_header	h;
	const char		*why;
	size_t			n;

	memset(body, 0, sizeof(body));
	n = v2(b, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert(!h.has_addr);
	n = v2(b, 0x21, 0x31, body, sizeof(body));
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert(!h.has_addr);
	ck_assert_uint_eq(h.bytes, 232);
}
END_TEST

START_TEST(test_v2_tlvs_are_skipped)
{
	unsigned char		body[64], b[128];
	struct proxy_header	h;
	const char		*why;
	size_t			n;

	memcpy(body, inet_body, 12);
	/* PP2_TYPE_ALPN "h2", then PP2_TYPE_NOOP of 3 bytes. */
	memcpy(body + 12, "\x01\x00\x02h2\x04\x00\x03\x00\x00\x00", 11);
	n = v2(b, 0x21, 0x11, body, 23);
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.bytes, 39);
	assert_addr(&h.src, AF_INET, "192.0.2.1", 51000);
	/* A TLV whose length runs past the header. */
	body[14] = 0x09;
	n = v2(b, 0x21, 0x11, body, 23);
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_ERROR);
	ck_assert_ptr_nonnull(strstr(why, "TLV"));
	/* A TLV cut inside its own three-byte head. */
	n = v2(b, 0x21, 0x11, body, 14);
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_ERROR);
}
END_TEST

START_TEST(test_v2_every_prefix_needs_more)
{
	unsigned char		b[64];
	size_t			n = v2(b, 0x21, 0x11, inet_body, sizeof(inet_body));
	struct proxy_header	h;
	const char		*why;
	size_t			i;

	for (i = 1; i < n; i++)
		ck_assert_int_eq(proxy_parse(b, i, &h, &why), PROXY_NEED_MORE);
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_OK);
}
END_TEST

static const struct v2_error_case {
	unsigned	 cmd;
	unsigned	 fam;
	size_t		 len;
	const char	*why;
} v2_error_cases[] = {
	{ 0x11, 0x11, 12, "version" },		/* version 1 in a v2 header */
	{ 0x31, 0x11, 12, "version" },
	{ 0x22, 0x11, 12, "command" },
	{ 0x2f, 0x11, 12, "command" },
	{ 0x21, 0x12, 12, "stream" },		/* UDP over a TCP listener */
	{ 0x21, 0x10, 12, "stream" },
	{ 0x21, 0x11, 11, "short" },		/* TCP4 needs 12 bytes */
	{ 0x21, 0x21, 12, "short" },		/* TCP6 needs 36 */
	{ 0x21, 0x41, 12, "family" },
	{ 0x21, 0x11, 2000, "larger" },		/* over our bound */
};

START_TEST(test_v2_errors)
{
	const struct v2_error_case *c = &v2_error_cases[_i];
	unsigned char		b[2100];
	struct proxy_header	h;
	const char		*why;
	size_t			n;

	memset(b, 0, sizeof(b));
	n = v2(b, c->cmd, c->fam, inet_body, c->len > 12 ? 12 : c->len);
	b[14] = (unsigned char)(c->len >> 8);
	b[15] = (unsigned char)c->len;
	n = 16 + c->len;
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_ERROR);
	ck_assert_msg(strstr(why, c->why) != NULL, "\"%s\" lacks \"%s\"", why,
	    c->why);
}
END_TEST

START_TEST(test_a_bad_signature_is_an_error)
{
	unsigned char		b[64];
	size_t			n = v2(b, 0x21, 0x11, inet_body, sizeof(inet_body));
	struct proxy_header	h;
	const char		*why;

	b[7] ^= 0x20;
	ck_assert_int_eq(proxy_parse(b, n, &h, &why), PROXY_ERROR);
	ck_assert_int_eq(proxy_parse("\r\n\r\n\r", 5, &h, &why), PROXY_ERROR);
	ck_assert_int_eq(proxy_parse("", 0, &h, &why), PROXY_NEED_MORE);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_v1, 0, nitems(v1_cases));
	tcase_add_test(tc, test_v1_longest_lines_are_the_spec_limit);
	tcase_add_test(tc, test_v1_over_107_bytes_is_an_error);
	tcase_add_test(tc, test_v1_nul_is_an_error);
	tcase_add_test(tc, test_v2_tcp4);
	tcase_add_test(tc, test_v2_tcp6);
	tcase_add_test(tc, test_v2_local_keeps_the_connection_addresses);
	tcase_add_test(tc, test_v2_unspec_and_unix_carry_no_address);
	tcase_add_test(tc, test_v2_tlvs_are_skipped);
	tcase_add_test(tc, test_v2_every_prefix_needs_more);
	tcase_add_loop_test(tc, test_v2_errors, 0, nitems(v2_error_cases));
	tcase_add_test(tc, test_a_bad_signature_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}
