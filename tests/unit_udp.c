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

#include "check_main.h"

#include "udp_limit.h"
#include "udp_policy.h"

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

static const struct policy_case {
	const char	*src;
	unsigned	 sport;
	const char	*dst;		/* NULL: not known */
	enum udp_drop	 want;
} policy_cases[] = {
	{ "127.0.0.1", 40000, "127.0.0.1", UDP_DROP_NONE },
	{ "192.0.2.1", 40000, "192.0.2.9", UDP_DROP_NONE },
	{ "::1", 40000, "::1", UDP_DROP_NONE },
	{ "192.0.2.1", 40000, NULL, UDP_DROP_NONE },
	/* Source ports that answer back. */
	{ "192.0.2.1", 0, "192.0.2.9", UDP_DROP_PORT },
	{ "192.0.2.1", 7, "192.0.2.9", UDP_DROP_PORT },
	{ "192.0.2.1", 19, "192.0.2.9", UDP_DROP_PORT },
	{ "2001:db8::1", 19, "2001:db8::9", UDP_DROP_PORT },
	{ "192.0.2.1", 20, "192.0.2.9", UDP_DROP_NONE },
	{ "192.0.2.1", 18, "192.0.2.9", UDP_DROP_NONE },
	/* Our own sockets: 127.0.0.1:7007, 0.0.0.0:9000, [::]:9001. */
	{ "127.0.0.1", 7007, "127.0.0.1", UDP_DROP_SELF },
	{ "::ffff:127.0.0.1", 7007, NULL, UDP_DROP_SELF },
	{ "127.0.0.2", 7007, "127.0.0.1", UDP_DROP_NONE },
	{ "192.0.2.1", 7007, "127.0.0.1", UDP_DROP_NONE },
	{ "192.0.2.5", 9000, "192.0.2.5", UDP_DROP_SELF },
	{ "192.0.2.6", 9000, "192.0.2.5", UDP_DROP_NONE },
	{ "192.0.2.6", 9000, NULL, UDP_DROP_NONE },
	{ "127.0.0.9", 9000, "127.0.0.1", UDP_DROP_SELF },
	{ "2001:db8::1", 9001, "2001:db8::1", UDP_DROP_SELF },
	{ "::1", 9001, "::1", UDP_DROP_SELF },
	{ "2001:db8::1", 9001, "2001:db8::2", UDP_DROP_NONE },
	/* Sent to itself from a port we hold on [::]: ours, or harmless. */
	{ "192.0.2.5", 9001, "192.0.2.5", UDP_DROP_SELF },
	/* Addresses nobody can be answered at, or that reach many. */
	{ "0.0.0.0", 40000, "192.0.2.9", UDP_DROP_ADDRESS },
	{ "0.1.2.3", 40000, "192.0.2.9", UDP_DROP_ADDRESS },
	{ "255.255.255.255", 40000, "192.0.2.9", UDP_DROP_ADDRESS },
	{ "224.0.0.1", 40000, "192.0.2.9", UDP_DROP_ADDRESS },
	{ "192.0.2.1", 40000, "255.255.255.255", UDP_DROP_ADDRESS },
	{ "192.0.2.1", 40000, "239.1.2.3", UDP_DROP_ADDRESS },
	{ "::", 40000, "2001:db8::9", UDP_DROP_ADDRESS },
	{ "ff02::1", 40000, "2001:db8::9", UDP_DROP_ADDRESS },
	{ "2001:db8::1", 40000, "ff02::1", UDP_DROP_ADDRESS },
	{ "::ffff:224.0.0.1", 40000, NULL, UDP_DROP_ADDRESS },
	/* The address rule comes first: it says more. */
	{ "224.0.0.1", 19, "192.0.2.9", UDP_DROP_ADDRESS },
};

START_TEST(test_policy)
{
	static const uint16_t		 ports[] = { 7, 19 };
	const struct policy_case	*c = &policy_cases[_i];
	struct sockaddr_storage		 self[3], src, dst;
	struct udp_policy		 p = { ports, 2, self, 3 };

	sa("127.0.0.1", 7007, &self[0]);
	sa("0.0.0.0", 9000, &self[1]);
	sa("::", 9001, &self[2]);
	sa(c->src, c->sport, &src);
	if (c->dst != NULL)
		sa(c->dst, 7, &dst);
	ck_assert_msg(udp_policy_check(&p, (struct sockaddr *)&src,
	    c->dst ? (struct sockaddr *)&dst : NULL) == c->want,
	    "%s port %u to %s: want %s", c->src, c->sport,
	    c->dst ? c->dst : "?", c->want == UDP_DROP_NONE ? "an answer" :
	    udp_policy_drop_name(c->want));
}
END_TEST

START_TEST(test_policy_empty_port_list)
{
	struct sockaddr_storage	src;
	struct udp_policy	p = { NULL, 0, NULL, 0 };

	sa("192.0.2.1", 19, &src);
	ck_assert_int_eq(udp_policy_check(&p, (struct sockaddr *)&src, NULL),
	    UDP_DROP_NONE);
	sa("192.0.2.1", 0, &src);
	ck_assert_int_eq(udp_policy_check(&p, (struct sockaddr *)&src, NULL),
	    UDP_DROP_PORT);
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
	{ "2 a second: a second's worth, then one each 500 ms", { 2, 0 }, {
	    { 1000, 10, true }, { 1000, 10, true }, { 1000, 10, false },
	    { 1499, 10, false }, { 1500, 10, true }, { 1500, 10, false },
	    { 9000, 10, true }, { 9000, 10, true }, { 9000, 10, false } } },
	{ "bytes: 100000 a second", { 0, 100000 }, {
	    { 1, 60000, true }, { 1, 40000, true }, { 1, 1, false },
	    { 501, 50000, true }, { 501, 1, false } } },
	{ "bytes: a datagram larger than what is left waits, and takes nothing",
	    { 0, 100000 }, {
	    { 1, 60000, true }, { 1, 50000, false }, { 1, 40000, true },
	    { 1, 1, false } } },
	{ "a byte rate below one datagram still lets the largest through",
	    { 0, 1000 }, {
	    { 1, 65527, true }, { 1, 1, false }, { 2, 1, true },
	    { 2, 1, false } } },
	{ "both: the emptier bucket decides, and a refusal takes nothing",
	    { 1, 100000 }, {
	    { 1, 70000, true }, { 1, 1, false }, { 1001, 70000, true },
	    { 1001, 1, false }, { 2001, 1, true } } },
	{ "no limit", { 0, 0 }, {
	    { 1, 65527, true }, { 1, 65527, true }, { 1, 65527, true } } },
	{ "another worker's older clock refills nothing", { 2, 0 }, {
	    { 1000, 1, true }, { 1000, 1, true }, { 900, 1, false },
	    { 1000, 1, false }, { 1500, 1, true } } },
	{ "a long silence refills to the cap, not beyond", { 1000000000, 0 }, {
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

/* One source over its rate does not touch another's bucket. */
START_TEST(test_limit_sources_apart)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 3, 0 }, global = { 0, 0 };
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

START_TEST(test_limit_global_ceiling)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 0, 0 }, global = { 10, 0 };
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
	struct udp_rate		 client = { 1000, 0 }, global = { 0, 0 };
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
			_exit(write(fds[1], &got, sizeof(got)) ==
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
	tcase_add_loop_test(tc, test_bucket, 0, nitems(bucket_cases));
	tcase_add_test(tc, test_limit_sources_apart);
	tcase_add_test(tc, test_limit_global_ceiling);
	tcase_add_test(tc, test_limit_shared_across_processes);
	suite_add_tcase(s, tc);
	return s;
}
