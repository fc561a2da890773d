/* SPDX-License-Identifier: ISC */
/* unit_udp.c: udp_policy.c's drop rules and token bucket, and udp_limit.c's shared table. */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"

#include "shm/udp_limit.h"
#include "shm/udp_policy.h"

/* "1.2.3.4" or "2001:db8::1" and a port into a socket address. */
static void
sa(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1, "%s",
	    host);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
}

/*
 * "dst" is where the datagram was sent (NULL: not known), "local" the
 * address the kernel would answer from (IP_PKTINFO's ipi_spec_dst): NULL
 * for the same as dst, the address of ours it was sent to; "-" for not
 * known.
 */
static const struct policy_case {
	const char	*src;
	unsigned	 sport;
	const char	*dst;
	const char	*local;
	enum udp_drop	 want;
} policy_cases[] = {
	{ "127.0.0.1", 40000, "127.0.0.1", NULL, UDP_DROP_NONE },
	{ "192.0.2.1", 40000, "192.0.2.9", NULL, UDP_DROP_NONE },
	{ "::1", 40000, "::1", NULL, UDP_DROP_NONE },
	{ "2001:db8::1", 40000, NULL, NULL, UDP_DROP_NONE },
	{ "2001:db8::1", 40000, "2001:db8::9", "-", UDP_DROP_NONE },
	{ "::ffff:192.0.2.1", 40000, "::ffff:192.0.2.9", "192.0.2.9",
	    UDP_DROP_NONE },
	/* Source ports that answer back. */
	{ "192.0.2.1", 0, "192.0.2.9", NULL, UDP_DROP_PORT },
	{ "192.0.2.1", 7, "192.0.2.9", NULL, UDP_DROP_PORT },
	{ "192.0.2.1", 19, "192.0.2.9", NULL, UDP_DROP_PORT },
	{ "2001:db8::1", 19, "2001:db8::9", NULL, UDP_DROP_PORT },
	{ "192.0.2.1", 20, "192.0.2.9", NULL, UDP_DROP_NONE },
	{ "192.0.2.1", 18, "192.0.2.9", NULL, UDP_DROP_NONE },
	/* A service's port (below 1024) on an address of this host. */
	{ "127.0.0.1", 53, "127.0.0.1", NULL, UDP_DROP_PORT },
	{ "127.0.0.2", 1023, "127.0.0.1", NULL, UDP_DROP_PORT },
	{ "::1", 123, "::1", NULL, UDP_DROP_PORT },
	{ "192.0.2.9", 500, "192.0.2.9", NULL, UDP_DROP_PORT },
	{ "::ffff:192.0.2.9", 500, "::ffff:192.0.2.9", "192.0.2.9",
	    UDP_DROP_PORT },
	{ "127.0.0.1", 1024, "127.0.0.1", NULL, UDP_DROP_NONE },
	{ "192.0.2.1", 500, "192.0.2.9", NULL, UDP_DROP_NONE },
	{ "2001:db8::1", 500, "2001:db8::9", NULL, UDP_DROP_NONE },
	/* Our own sockets: 127.0.0.1:7007, 0.0.0.0:9000, [::]:9001. */
	{ "127.0.0.1", 7007, "127.0.0.1", NULL, UDP_DROP_SELF },
	{ "::ffff:127.0.0.1", 7007, "::ffff:127.0.0.1", "127.0.0.1",
	    UDP_DROP_SELF },
	{ "127.0.0.2", 7007, "127.0.0.1", NULL, UDP_DROP_NONE },
	{ "192.0.2.1", 7007, "192.0.2.9", NULL, UDP_DROP_NONE },
	{ "192.0.2.5", 9000, "192.0.2.5", NULL, UDP_DROP_SELF },
	{ "192.0.2.6", 9000, "192.0.2.5", NULL, UDP_DROP_NONE },
	{ "2001:db8::6", 9000, NULL, NULL, UDP_DROP_NONE },
	{ "127.0.0.9", 9000, "127.0.0.1", NULL, UDP_DROP_SELF },
	{ "2001:db8::1", 9001, "2001:db8::1", NULL, UDP_DROP_SELF },
	{ "::1", 9001, "::1", NULL, UDP_DROP_SELF },
	{ "2001:db8::1", 9001, "2001:db8::2", NULL, UDP_DROP_NONE },
	/* Sent to itself from a port we hold on [::]: ours, or harmless. */
	{ "192.0.2.5", 9001, "192.0.2.5", NULL, UDP_DROP_SELF },
	/* Addresses nobody can be answered at. */
	{ "0.0.0.0", 40000, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "0.1.2.3", 40000, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "255.255.255.255", 40000, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "224.0.0.1", 40000, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "::", 40000, "2001:db8::9", NULL, UDP_DROP_SOURCE },
	{ "ff02::1", 40000, "2001:db8::9", NULL, UDP_DROP_SOURCE },
	{ "::ffff:224.0.0.1", 40000, NULL, NULL, UDP_DROP_SOURCE },
	/* Loopback from outside: a forgery. */
	{ "127.0.0.1", 40000, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "::ffff:127.0.0.1", 40000, "::ffff:192.0.2.9", "192.0.2.9",
	    UDP_DROP_SOURCE },
	{ "::1", 40000, "2001:db8::9", NULL, UDP_DROP_SOURCE },
	/* Groups: multicast and the limited broadcast, on every family. */
	{ "192.0.2.1", 40000, "255.255.255.255", "192.0.2.9", UDP_DROP_GROUP },
	{ "192.0.2.1", 40000, "239.1.2.3", "192.0.2.9", UDP_DROP_GROUP },
	{ "2001:db8::1", 40000, "ff02::1", NULL, UDP_DROP_GROUP },
	{ "::ffff:192.0.2.1", 40000, "::ffff:224.0.0.1", "-", UDP_DROP_GROUP },
	/*
	 * A subnet's broadcast address: the kernel answers from the
	 * interface's, so the destination is not a unicast address of ours.
	 * Over a dual-stack socket too, and wherever the kernel did not say.
	 */
	{ "192.0.2.1", 40000, "192.0.2.255", "192.0.2.9", UDP_DROP_BROADCAST },
	{ "::ffff:192.0.2.1", 40000, "::ffff:192.0.2.255", "192.0.2.9",
	    UDP_DROP_BROADCAST },
	{ "::ffff:192.0.2.1", 40000, "::ffff:192.0.2.255", "-",
	    UDP_DROP_BROADCAST },
	{ "192.0.2.1", 40000, "192.0.2.9", "-", UDP_DROP_BROADCAST },
	{ "192.0.2.1", 40000, NULL, NULL, UDP_DROP_BROADCAST },
	{ "::ffff:192.0.2.1", 40000, NULL, NULL, UDP_DROP_BROADCAST },
	/* The address rules come first: they say more. */
	{ "224.0.0.1", 19, "192.0.2.9", NULL, UDP_DROP_SOURCE },
	{ "192.0.2.1", 19, "192.0.2.255", "192.0.2.9", UDP_DROP_BROADCAST },
};

START_TEST(test_policy)
{
	static const uint16_t		 ports[] = { 7, 19 };
	const struct policy_case	*c = &policy_cases[_i];
	struct sockaddr_storage		 self[3], src, dst, local;
	struct udp_policy		 p = { ports, 2, self, 3 };
	const struct sockaddr		*dp = NULL, *lp = NULL;

	sa("127.0.0.1", 7007, &self[0]);
	sa("0.0.0.0", 9000, &self[1]);
	sa("::", 9001, &self[2]);
	sa(c->src, c->sport, &src);
	if (c->dst != NULL) {
		sa(c->dst, 7, &dst);
		dp = lp = (struct sockaddr *)&dst;
	}
	if (c->local != NULL && strcmp(c->local, "-") == 0)
		lp = NULL;
	else if (c->local != NULL) {
		sa(c->local, 0, &local);
		lp = (struct sockaddr *)&local;
	}
	ck_assert_msg(udp_policy_check(&p, (struct sockaddr *)&src, dp, lp) ==
	    c->want, "%s port %u to %s (local %s): want %s", c->src, c->sport,
	    c->dst ? c->dst : "?", c->local ? c->local : "the same",
	    c->want == UDP_DROP_NONE ? "an answer" :
	    udp_policy_drop_name(c->want));
}
END_TEST

START_TEST(test_policy_empty_port_list)
{
	struct sockaddr_storage	src, dst;
	struct udp_policy	p = { NULL, 0, NULL, 0 };

	sa("192.0.2.1", 19, &src);
	sa("192.0.2.9", 7, &dst);
	ck_assert_int_eq(udp_policy_check(&p, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, (struct sockaddr *)&dst), UDP_DROP_NONE);
	sa("192.0.2.1", 0, &src);
	ck_assert_int_eq(udp_policy_check(&p, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, (struct sockaddr *)&dst), UDP_DROP_PORT);
	/* A local chargen is still a service, whatever the list says. */
	sa("192.0.2.9", 19, &src);
	ck_assert_int_eq(udp_policy_check(&p, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, (struct sockaddr *)&dst), UDP_DROP_PORT);
}
END_TEST

#define LOOP_STEPS	26

/*
 * The loop detector, step by step: 'a' we answered digest d at t, 'q' a
 * datagram of digest d came in at t and must get "want".
 */
static const struct loop_case {
	const char	*what;
	struct {
		char		 ev;	/* 'a', 'q'; 0 ends */
		uint64_t	 digest;
		uint64_t	 now_ms;
		enum udp_drop	 want;
	} step[LOOP_STEPS];
} loop_cases[] = {
	{ "a loop: the 8th return in a row within the window is dropped", {
	    { 'q', 7, 100, UDP_DROP_NONE }, { 'a', 7, 100, 0 },
	    { 'q', 7, 101, UDP_DROP_NONE }, { 'a', 7, 101, 0 },
	    { 'q', 7, 102, UDP_DROP_NONE }, { 'a', 7, 102, 0 },
	    { 'q', 7, 103, UDP_DROP_NONE }, { 'a', 7, 103, 0 },
	    { 'q', 7, 104, UDP_DROP_NONE }, { 'a', 7, 104, 0 },
	    { 'q', 7, 105, UDP_DROP_NONE }, { 'a', 7, 105, 0 },
	    { 'q', 7, 106, UDP_DROP_NONE }, { 'a', 7, 106, 0 },
	    { 'q', 7, 107, UDP_DROP_NONE }, { 'a', 7, 107, 0 },
	    { 'q', 7, 108, UDP_DROP_LOOP },
	    /* Forgotten: the same question again is a question. */
	    { 'q', 7, 109, UDP_DROP_NONE }, { 'a', 7, 109, 0 },
	    { 'q', 7, 110, UDP_DROP_NONE } } },
	{ "four forged copies just before a datagram do not drop it", {
	    { 'q', 7, 100, UDP_DROP_NONE }, { 'a', 7, 100, 0 },
	    { 'q', 7, 101, UDP_DROP_NONE }, { 'a', 7, 101, 0 },
	    { 'q', 7, 102, UDP_DROP_NONE }, { 'a', 7, 102, 0 },
	    { 'q', 7, 103, UDP_DROP_NONE }, { 'a', 7, 103, 0 },
	    { 'q', 7, 104, UDP_DROP_NONE } } },
	{ "another question between returns starts the count again", {
	    { 'a', 7, 100, 0 },
	    { 'q', 7, 101, UDP_DROP_NONE }, { 'a', 7, 101, 0 },
	    { 'q', 7, 102, UDP_DROP_NONE }, { 'a', 7, 102, 0 },
	    { 'q', 7, 103, UDP_DROP_NONE }, { 'a', 7, 103, 0 },
	    { 'q', 8, 104, UDP_DROP_NONE }, { 'a', 8, 104, 0 },
	    { 'q', 7, 105, UDP_DROP_NONE }, { 'a', 7, 105, 0 },
	    { 'q', 7, 106, UDP_DROP_NONE }, { 'a', 7, 106, 0 },
	    { 'q', 7, 107, UDP_DROP_NONE }, { 'a', 7, 107, 0 },
	    { 'q', 7, 108, UDP_DROP_NONE }, { 'a', 7, 108, 0 },
	    { 'q', 7, 109, UDP_DROP_NONE }, { 'a', 7, 109, 0 },
	    { 'q', 7, 110, UDP_DROP_NONE }, { 'a', 7, 110, 0 },
	    { 'q', 7, 111, UDP_DROP_NONE }, { 'a', 7, 111, 0 },
	    { 'q', 7, 112, UDP_DROP_NONE }, { 'a', 7, 112, 0 } } },
	{ "a return later than the window starts the count again", {
	    { 'a', 7, 100, 0 }, { 'q', 7, 200, UDP_DROP_NONE },
	    { 'a', 7, 200, 0 }, { 'q', 7, 1201, UDP_DROP_NONE },
	    { 'a', 7, 1201, 0 }, { 'q', 7, 1300, UDP_DROP_NONE },
	    { 'a', 7, 1300, 0 }, { 'q', 7, 2300, UDP_DROP_NONE },
	    { 'a', 7, 2300, 0 }, { 'q', 7, 2400, UDP_DROP_NONE },
	    { 'a', 7, 2400, 0 }, { 'q', 7, 2401, UDP_DROP_NONE },
	    { 'a', 7, 2401, 0 }, { 'q', 7, 2402, UDP_DROP_NONE },
	    { 'a', 7, 2402, 0 }, { 'q', 7, 2403, UDP_DROP_NONE },
	    { 'a', 7, 2403, 0 }, { 'q', 7, 2404, UDP_DROP_NONE },
	    { 'a', 7, 2404, 0 }, { 'q', 7, 2405, UDP_DROP_LOOP } } },
	{ "returns unanswered (a rate limit) still count; a clock gone back "
	    "counts nothing", {
	    { 'a', 7, 500, 0 }, { 'q', 7, 501, UDP_DROP_NONE },
	    { 'q', 7, 502, UDP_DROP_NONE }, { 'q', 7, 400, UDP_DROP_NONE },
	    { 'q', 7, 503, UDP_DROP_NONE }, { 'q', 7, 504, UDP_DROP_NONE },
	    { 'q', 7, 505, UDP_DROP_NONE }, { 'q', 7, 506, UDP_DROP_NONE },
	    { 'q', 7, 507, UDP_DROP_NONE }, { 'q', 7, 508, UDP_DROP_NONE },
	    { 'q', 7, 509, UDP_DROP_NONE },
	    { 'q', 7, 510, UDP_DROP_LOOP } } },
	{ "nothing answered, nothing to return", {
	    { 'q', 0, 1, UDP_DROP_NONE }, { 'q', 0, 2, UDP_DROP_NONE },
	    { 'q', 0, 3, UDP_DROP_NONE }, { 'q', 0, 4, UDP_DROP_NONE },
	    { 'q', 0, 5, UDP_DROP_NONE } } },
};

START_TEST(test_loop)
{
	const struct loop_case	*c = &loop_cases[_i];
	struct udp_echo_memo	 m;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < LOOP_STEPS && c->step[i].ev != 0; i++) {
		if (c->step[i].ev == 'a') {
			udp_loop_answered(&m, c->step[i].digest,
			    c->step[i].now_ms);
			continue;
		}
		ck_assert_msg(udp_loop_check(&m, c->step[i].digest,
		    c->step[i].now_ms) == c->step[i].want, "%s: step %zu",
		    c->what, i);
	}
}
END_TEST

#define STEPS	10

static const struct bucket_case {
	const char	*what;
	struct udp_rate	 rate;
	struct {
		uint64_t now_ms;
		uint64_t bytes;
		bool	 ok;
	} step[STEPS];		/* up to the first now_ms == 0 */
} bucket_cases[] = {
	{ "2 a second: a second's worth, then one each 500 ms", { 2, 0, 0, 0 }, {
	    { 1000, 10, true }, { 1000, 10, true }, { 1000, 10, false },
	    { 1499, 10, false }, { 1500, 10, true }, { 1500, 10, false },
	    { 9000, 10, true }, { 9000, 10, true }, { 9000, 10, false } } },
	{ "bytes: 100000 a second", { 0, 100000, 0, 0 }, {
	    { 1, 60000, true }, { 1, 40000, true }, { 1, 1, false },
	    { 501, 50000, true }, { 501, 1, false } } },
	{ "bytes: a datagram larger than what is left waits, and takes nothing",
	    { 0, 100000, 0, 0 }, {
	    { 1, 60000, true }, { 1, 50000, false }, { 1, 40000, true },
	    { 1, 1, false } } },
	{ "a byte rate below one datagram still lets the largest through",
	    { 0, 1000, 0, 0 }, {
	    { 1, 65527, true }, { 1, 1, false }, { 2, 1, true },
	    { 2, 1, false } } },
	{ "both: the emptier bucket decides, and a refusal takes nothing",
	    { 1, 100000, 0, 0 }, {
	    { 1, 70000, true }, { 1, 1, false }, { 1001, 70000, true },
	    { 1001, 1, false }, { 2001, 1, true } } },
	{ "no limit", { 0, 0, 0, 0 }, {
	    { 1, 65527, true }, { 1, 65527, true }, { 1, 65527, true } } },
	{ "another worker's older clock refills nothing", { 2, 0, 0, 0 }, {
	    { 1000, 1, true }, { 1000, 1, true }, { 900, 1, false },
	    { 1000, 1, false }, { 1500, 1, true } } },
	{ "a long silence refills to the cap, not beyond", { 1000000000, 0, 0, 0 }, {
	    { 1, 1, true }, { UINT64_MAX / 2, 1, true } } },
};

START_TEST(test_bucket)
{
	const struct bucket_case	*c = &bucket_cases[_i];
	struct udp_bucket		 b;
	size_t				 i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < STEPS && c->step[i].now_ms != 0; i++)
		ck_assert_msg(udp_bucket_take(&b, &c->rate, c->step[i].now_ms,
		    c->step[i].bytes) == c->step[i].ok, "%s: step %zu",
		    c->what, i);
}
END_TEST

/*
 * When a bucket is full again, so that starting it over gives nothing:
 * after one datagram of "bytes" at 1000, at "now_ms".
 */
static const struct full_case {
	struct udp_rate	rate;
	uint64_t	bytes;
	uint64_t	now_ms;
	bool		full;
} full_cases[] = {
	{ { 10, 0, 0, 0 }, 1, 1000, false },
	{ { 10, 0, 0, 0 }, 1, 1099, false },
	{ { 10, 0, 0, 0 }, 1, 1100, true },
	{ { 0, 100000, 0, 0 }, 50000, 1499, false },
	{ { 0, 100000, 0, 0 }, 50000, 1500, true },
	{ { 10, 100000, 0, 0 }, 50000, 1100, false },	/* the bytes are not */
	{ { 10, 100000, 0, 0 }, 50000, 1500, true },
	{ { 10, 100000, 0, 0 }, 50000, 900, false },	/* an older clock */
};

START_TEST(test_bucket_full)
{
	const struct full_case	*c = &full_cases[_i];
	struct udp_bucket	 b;

	memset(&b, 0, sizeof(b));
	ck_assert(udp_bucket_full(&b, &c->rate, 1000));
	ck_assert(udp_bucket_take(&b, &c->rate, 1000, c->bytes));
	ck_assert_msg(udp_bucket_full(&b, &c->rate, c->now_ms) == c->full,
	    "case %d", _i);
}
END_TEST

/* One source over its rate does not touch another's bucket. */
START_TEST(test_limit_sources_apart)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 3, 0, 0, 0 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 a, b, a_mapped;
	int			 i;

	ck_assert_ptr_nonnull(l);
	sa("192.0.2.1", 1000, &a);
	sa("::ffff:192.0.2.1", 2000, &a_mapped);
	sa("192.0.2.2", 1000, &b);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&a,
		    &client, &global, 5000, 1), UDP_DROP_NONE);
	/* Another port, or the same address mapped: the same source. */
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&a_mapped,
	    &client, &global, 5000, 1), UDP_DROP_CLIENT_RATE);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&b,
		    &client, &global, 5000, 1), UDP_DROP_NONE);
	udp_limit_destroy(l);
}
END_TEST

/*
 * A client is its address cut to client_prefix_v4 / client_prefix_v6, as
 * for TCP: two addresses of one /64 share a bucket, another /64 has its
 * own; so do two IPv4 addresses of one /24 when the prefix is 24.
 */
START_TEST(test_limit_client_prefix)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 3, 0, 24, 64 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 a, b, c;
	int			 i;

	ck_assert_ptr_nonnull(l);
	sa("2001:db8:1::1", 1000, &a);
	sa("2001:db8:1::ffff:2", 1000, &b);
	sa("2001:db8:2::1", 1000, &c);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&a,
		    &client, &global, 5000, 1), UDP_DROP_NONE);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&b,
	    &client, &global, 5000, 1), UDP_DROP_CLIENT_RATE);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&c,
	    &client, &global, 5000, 1), UDP_DROP_NONE);
	sa("192.0.2.1", 1000, &a);
	sa("::ffff:192.0.2.77", 1000, &b);
	sa("192.0.3.1", 1000, &c);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&a,
		    &client, &global, 5000, 1), UDP_DROP_NONE);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&b,
	    &client, &global, 5000, 1), UDP_DROP_CLIENT_RATE);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&c,
	    &client, &global, 5000, 1), UDP_DROP_NONE);
	udp_limit_destroy(l);
}
END_TEST

START_TEST(test_limit_global_ceiling)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 0, 0, 0, 0 }, global = { 10, 0, 0, 0 };
	struct sockaddr_storage	 src;
	unsigned		 i, ok = 0;
	char			 host[32];

	for (i = 0; i < 50; i++) {
		snprintf(host, sizeof(host), "198.51.100.%u", i + 1);
		sa(host, 4000, &src);
		ok += udp_limit_take(l, (struct sockaddr *)&src, &client,
		    &global, 7000, 1) == UDP_DROP_NONE;
	}
	ck_assert_uint_eq(ok, 10);
	udp_limit_destroy(l);
}
END_TEST

/* Processes share the table: a source's datagrams count in every worker. */
START_TEST(test_limit_shared_across_processes)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 1000, 0, 0, 0 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 src;
	unsigned		 ok = 0, i, got, sum = 0;
	pid_t			 kids[4];
	int			 st, k, fds[2];

	sa("203.0.113.7", 5555, &src);
	ck_assert_int_eq(pipe(fds), 0);
	for (k = 0; k < 4; k++)
		if ((kids[k] = fork()) == 0) {
			for (got = 0, i = 0; i < 400; i++)
				got += udp_limit_take(l,
				    (struct sockaddr *)&src, &client, &global,
				    100, 1) == UDP_DROP_NONE;
			coverage_exit(write(fds[1], &got, sizeof(got)) ==
			    sizeof(got) ? 0 : 1);
		}
	for (k = 0; k < 4; k++) {
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ck_assert_int_eq(read(fds[0], &got, sizeof(got)), sizeof(got));
		sum += got;
	}
	close(fds[0]);
	close(fds[1]);
	/* 1600 tries at one instant: the bucket's 1000, exactly, went. */
	ck_assert_uint_eq(sum, 1000);
	for (i = 0; i < 10; i++)
		ok += udp_limit_take(l, (struct sockaddr *)&src, &client,
		    &global, 100, 1) == UDP_DROP_NONE;
	ck_assert_uint_eq(ok, 0);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&src, &client,
	    &global, 101, 1), UDP_DROP_NONE);
	udp_limit_destroy(l);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("udp");
	TCase	*tc = tcase_create("udp");

	tcase_add_loop_test(tc, test_policy, 0, nitems(policy_cases));
	tcase_add_test(tc, test_policy_empty_port_list);
	tcase_add_loop_test(tc, test_loop, 0, nitems(loop_cases));
	tcase_add_loop_test(tc, test_bucket, 0, nitems(bucket_cases));
	tcase_add_loop_test(tc, test_bucket_full, 0, nitems(full_cases));
	tcase_add_test(tc, test_limit_sources_apart);
	tcase_add_test(tc, test_limit_client_prefix);
	tcase_add_test(tc, test_limit_global_ceiling);
	tcase_add_test(tc, test_limit_shared_across_processes);
	suite_add_tcase(s, tc);
	return s;
}
