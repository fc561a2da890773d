/* SPDX-License-Identifier: ISC */
/*
 * unit_proxy_conn.c: proxy_conn.c over a socketpair (the header consumed,
 * what follows kept, a prefix waited for, a cut or oversized header bad),
 * and admit.c's trust decision for PROXY listeners.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"

#include "worker/admit.h"
#include "net/proxy_conn.h"

static int	sv[2];

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
}

static void
teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static void
put(const void *buf, size_t len)
{
	ck_assert_int_eq(write(sv[1], buf, len), (ssize_t)len);
}

/* What is left on the socket after the header. */
static void
expect_left(const char *want)
{
	char	buf[64];
	ssize_t	n = read(sv[0], buf, sizeof(buf));

	if (want[0] == '\0') {
		ck_assert_int_eq(n, -1);
		ck_assert_int_eq(errno, EAGAIN);
		return;
	}
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert(memcmp(buf, want, (size_t)n) == 0);
}

START_TEST(test_header_and_payload_in_one_write)
{
	static const char	 text[] = "PROXY TCP4 192.0.2.1 192.0.2.2 1234 7"
	    "\r\nhello";
	struct proxy_header	 h;
	const char		*why = NULL;

	put(text, sizeof(text) - 1);
	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_OK);
	ck_assert(h.has_addr);
	ck_assert_uint_eq(h.bytes, sizeof(text) - 1 - 5);
	expect_left("hello");
}
END_TEST

/* A prefix waits, byte after byte; nothing is consumed until it is whole. */
START_TEST(test_prefix_waits)
{
	static const char	 text[] = "PROXY UNKNOWN\r\n";
	struct proxy_header	 h;
	const char		*why = NULL;
	size_t			 i;

	for (i = 0; i + 1 < sizeof(text) - 1; i++) {
		put(text + i, 1);
		ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
		    PROXY_CONN_AGAIN);
	}
	put(text + i, 1);
	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_OK);
	ck_assert(!h.has_addr);
	expect_left("");
}
END_TEST

START_TEST(test_nothing_yet_waits)
{
	struct proxy_header	 h;
	const char		*why = NULL;

	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_AGAIN);
}
END_TEST

START_TEST(test_cut_short_is_bad)
{
	struct proxy_header	 h;
	const char		*why = NULL;

	put("PROXY TCP4 1.2", 14);
	ck_assert_int_eq(proxy_conn_read(sv[0], true, &h, &why),
	    PROXY_CONN_BAD);
	ck_assert_str_eq(why, "closed within the PROXY header");
	close(sv[1]);
	sv[1] = -1;
	ck_assert_int_eq(read(sv[0], (char[64]){ 0 }, 64), 14);
	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_BAD);
	ck_assert_str_eq(why, "closed before a PROXY header");
}
END_TEST

START_TEST(test_garbage_is_bad)
{
	struct proxy_header	 h;
	const char		*why = NULL;

	put("GET / HTTP/1.0\r\n\r\n", 18);
	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_BAD);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* A v2 header that says it is longer than PROXY_MAX_BYTES: bad at once. */
START_TEST(test_oversized_v2_is_bad)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	unsigned char		 buf[16];
	struct proxy_header	 h;
	const char		*why = NULL;

	memcpy(buf, sig, sizeof(sig));
	buf[12] = 0x21;		/* v2, PROXY */
	buf[13] = 0x11;		/* TCP over IPv4 */
	buf[14] = (PROXY_MAX_BYTES >> 8) & 0xff;
	buf[15] = PROXY_MAX_BYTES & 0xff;
	put(buf, sizeof(buf));
	ck_assert_int_eq(proxy_conn_read(sv[0], false, &h, &why),
	    PROXY_CONN_BAD);
}
END_TEST

static struct sockaddr_storage
inet_sa(const char *text)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

static const struct trust_case {
	const char	*peer;
	bool		 trusted;
} trust_cases[] = {
	{ "127.0.0.1", true },
	{ "127.0.0.2", false },
	{ "10.1.2.3", true },
	{ "11.0.0.1", false },
	{ "::ffff:10.0.0.9", true },	/* a dual-stack socket's IPv4 peer */
	{ "2001:db8::1", true },
	{ "2001:db9::1", false },
	{ "::1", false },
};

/* proxy_trusted = [ "10.0.0.0/8", "127.0.0.1", "2001:db8::/32" ] */
START_TEST(test_trusted_peers)
{
	static const char *const	 list[] = { "10.0.0.0/8", "127.0.0.1",
	    "2001:db8::/32" };
	const struct trust_case		*c = &trust_cases[_i];
	struct acl_list			 l = { NULL, 0 };
	struct acl_prefix		 p;
	struct sockaddr_storage		 ss = inet_sa(c->peer);
	char				 why[ACL_WHY_BYTES];
	size_t				 i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(acl_parse(list[i], &p, why, sizeof(why)), 0);
		ck_assert_int_eq(acl_list_add(&l, &p), 0);
	}
	ck_assert_msg(admit_proxy_trusted(&l, (struct sockaddr *)&ss,
	    sizeof(ss)) == c->trusted, "%s", c->peer);
	acl_list_free(&l);
}
END_TEST

/* Nobody is trusted by an empty list, nor a Unix peer by any list. */
START_TEST(test_trust_edges)
{
	struct acl_list		l = { NULL, 0 };
	struct sockaddr_storage	ss = inet_sa("127.0.0.1");
	struct sockaddr_un	un = { .sun_family = AF_UNIX };

	ck_assert(!admit_proxy_trusted(&l, (struct sockaddr *)&ss, sizeof(ss)));
	ck_assert(!admit_proxy_trusted(&l, (struct sockaddr *)&un, sizeof(un)));
}
END_TEST

/*
 * A Unix PROXY listener's peer by its credentials, the daemon's user
 * being 998:997: root, that user, or that group; not any other user.
 */
static const struct {
	uid_t	uid;
	gid_t	gid;
	bool	trusted;
} unix_peer_cases[] = {
	{ 0, 0, true },			/* root */
	{ 0, 1000, true },		/* root, another group */
	{ 998, 997, true },		/* the daemon's user */
	{ 998, 1000, true },		/* the daemon's user, another group */
	{ 1000, 997, true },		/* HAProxy with group = ours */
	{ 1000, 1000, false },		/* any local user */
	{ 65534, 65534, false },	/* nobody */
	{ 997, 998, false },		/* the numbers swapped */
};

START_TEST(test_unix_peer_trusted)
{
	ck_assert_msg(admit_unix_peer_trusted(unix_peer_cases[_i].uid,
	    unix_peer_cases[_i].gid, 998, 997) == unix_peer_cases[_i].trusted,
	    "uid %u gid %u", (unsigned)unix_peer_cases[_i].uid,
	    (unsigned)unix_peer_cases[_i].gid);
}
END_TEST

/*
 * allow = [ "198.51.100.0/24" ] only (the client network): a header with
 * a client address is admitted as that client; a v2 LOCAL header (the
 * trusted balancer's health check) is admitted whatever allow says about
 * the balancer; any other header without a usable address (v1 UNKNOWN, v2
 * UNSPEC, v2 AF_UNIX) passes a client on and is admitted as the balancer,
 * through allow/deny. A NULL "bytes" is a v2 AF_UNIX header.
 */
#define V2_PROXY_UNIX_BYTES	(16 + 216)
static const struct {
	const char	*what;
	const char	*bytes;
	size_t		 n;
	const char	*balancer;
	bool		 admitted;
} proxied_cases[] = {
	{ "v2 LOCAL", "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16,
	    "127.0.0.1", true },
	{ "v2 LOCAL, TLVs", "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x04"
	    "\x04\x00\x01\x00", 20, "127.0.0.1", true },
	{ "v1 UNKNOWN, balancer not allowed", "PROXY UNKNOWN\r\n", 15,
	    "127.0.0.1", false },
	{ "v1 UNKNOWN, balancer allowed", "PROXY UNKNOWN\r\n", 15,
	    "198.51.100.1", true },
	{ "v1 UNKNOWN with addresses", "PROXY UNKNOWN 198.51.100.7 x 1 2\r\n",
	    34, "127.0.0.1", false },
	{ "v2 PROXY UNSPEC, balancer not allowed",
	    "\r\n\r\n\0\r\nQUIT\n\x21\x00\x00\x00", 16, "127.0.0.1", false },
	{ "v2 PROXY UNSPEC, balancer allowed",
	    "\r\n\r\n\0\r\nQUIT\n\x21\x00\x00\x00", 16, "198.51.100.1", true },
	{ "v2 PROXY AF_UNIX, balancer not allowed", NULL,
	    V2_PROXY_UNIX_BYTES, "127.0.0.1", false },
	{ "v2 PROXY AF_UNIX, balancer allowed", NULL,
	    V2_PROXY_UNIX_BYTES, "198.51.100.1", true },
	{ "v1 client allowed", "PROXY TCP4 198.51.100.7 10.0.0.1 1000 7\r\n",
	    41, "127.0.0.1", true },
	{ "v1 client not allowed", "PROXY TCP4 203.0.113.9 10.0.0.1 1000 7\r\n",
	    40, "198.51.100.1", false },
	{ "v2 client not allowed", "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
	    "\xcb\x00\x71\x09\x0a\x00\x00\x01\x03\xe8\x00\x07", 28,
	    "198.51.100.1", false },
};

START_TEST(test_proxied_admission)
{
	static struct scoreboard_slot	 slot;
	static char			 unix_hdr[V2_PROXY_UNIX_BYTES];
	struct sockaddr_storage		 bal;
	struct config			 cfg;
	struct admit			 a;
	struct admit_ticket		 t;
	struct acl_prefix		 p;
	struct proxy_header		 h;
	const char			*why, *bytes = proxied_cases[_i].bytes;
	char				 err[ACL_WHY_BYTES];

	memcpy(unix_hdr, "\r\n\r\n\0\r\nQUIT\n\x21\x31\x00\xd8", 16);
	if (bytes == NULL)
		bytes = unix_hdr;
	bal = inet_sa(proxied_cases[_i].balancer);
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(acl_parse("198.51.100.0/24", &p, err, sizeof(err)), 0);
	ck_assert_int_eq(acl_list_add(&cfg.acl.allow, &p), 0);
	admit_init(&a, &cfg, &slot, NULL, 1);
	ck_assert_int_eq(proxy_parse(bytes, proxied_cases[_i].n, &h, &why),
	    PROXY_OK);
	ck_assert_msg(admit_proxied(&a, -1, &h, (struct sockaddr *)&bal,
	    sizeof(struct sockaddr_in), 1000, &t) ==
	    proxied_cases[_i].admitted, "%s", proxied_cases[_i].what);
	ck_assert(!t.counted);
	acl_list_free(&cfg.acl.allow);
}
END_TEST

/* The header's source, unless it has none (LOCAL, UNKNOWN): the peer's. */
START_TEST(test_source)
{
	struct sockaddr_storage	 peer = inet_sa("127.0.0.1");
	struct proxy_header	 h;
	const struct sockaddr	*sa;
	socklen_t		 len = 0;

	memset(&h, 0, sizeof(h));
	h.src = inet_sa("192.0.2.1");
	h.srclen = sizeof(struct sockaddr_in);
	h.has_addr = true;
	sa = proxy_conn_source(&h, (struct sockaddr *)&peer, 28, &len);
	ck_assert_ptr_eq(sa, (struct sockaddr *)&h.src);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	h.has_addr = false;
	sa = proxy_conn_source(&h, (struct sockaddr *)&peer, 28, &len);
	ck_assert_ptr_eq(sa, (struct sockaddr *)&peer);
	ck_assert_uint_eq(len, 28);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("proxy_conn");
	TCase	*tc = tcase_create("read");
	TCase	*tt = tcase_create("trust");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header_and_payload_in_one_write);
	tcase_add_test(tc, test_prefix_waits);
	tcase_add_test(tc, test_nothing_yet_waits);
	tcase_add_test(tc, test_cut_short_is_bad);
	tcase_add_test(tc, test_garbage_is_bad);
	tcase_add_test(tc, test_oversized_v2_is_bad);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tt, test_trusted_peers, 0,
	    (int)(sizeof(trust_cases) / sizeof(trust_cases[0])));
	tcase_add_test(tt, test_trust_edges);
	tcase_add_loop_test(tt, test_unix_peer_trusted, 0,
	    nitems(unix_peer_cases));
	tcase_add_test(tt, test_source);
	tcase_add_loop_test(tt, test_proxied_admission, 0,
	    nitems(proxied_cases));
	suite_add_tcase(s, tt);
	return s;
}
