/* SPDX-License-Identifier: ISC */
/*
 * unit_bulk.c: bulk_pattern.c (the stream's bytes, their check at any
 * offset, across the period's end, streams that differ, MB/s) and
 * bulk.c's command line (the defaults, every option, the refusals).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <check.h>

#include "harness/check_main.h"

#include "measure/bulk.h"
#include "measure/bulk_pattern.h"

/* The stream read through bulk_pattern_at() from offset 0. */
static unsigned char *
stream_bytes(const struct bulk_pattern *p, size_t n)
{
	unsigned char		*buf = malloc(n);
	const unsigned char	*src;
	size_t			 done, len;

	ck_assert_ptr_nonnull(buf);
	for (done = 0; done < n; done += len) {
		src = bulk_pattern_at(p, done, &len);
		if (len > n - done)
			len = n - done;
		memcpy(buf + done, src, len);
	}
	return buf;
}

START_TEST(test_pattern_period_and_wrap)
{
	struct bulk_pattern	p;
	unsigned char		*s;
	size_t			 len, per;

	ck_assert_int_eq(bulk_pattern_init(&p, 42, 3), 0);
	per = p.period;
	ck_assert_uint_eq(per, BULK_PATTERN_BASE + 7);
	ck_assert_uint_eq(per % 2, 1);
	(void)bulk_pattern_at(&p, 0, &len);
	ck_assert_uint_eq(len, per);
	ck_assert_ptr_eq(bulk_pattern_at(&p, per - 1, &len),
	    p.block + per - 1);
	ck_assert_uint_eq(len, 1);
	ck_assert_ptr_eq(bulk_pattern_at(&p, 5 * (uint64_t)per + 9, &len),
	    p.block + 9);
	ck_assert_uint_eq(len, per - 9);
	/* The stream repeats the block; a check across the wrap passes. */
	s = stream_bytes(&p, 2 * per + 100);
	ck_assert_int_eq(memcmp(s, s + per, per + 100), 0);
	ck_assert_uint_eq(bulk_pattern_diff(&p, per - 50, s + per - 50, 200),
	    200);
	ck_assert_uint_eq(bulk_pattern_diff(&p, 0, s, 2 * per + 100),
	    2 * per + 100);
	free(s);
	bulk_pattern_free(&p);
}
END_TEST

/* A byte flipped anywhere is found at its index, the first of several. */
static const struct diff_case {
	uint64_t	off;		/* the buffer's offset in the stream */
	size_t		n;
	size_t		flip[2];	/* indexes flipped; n: none */
	size_t		want;
} diff_cases[] = {
	{ 0, 4096, { 4096, 4096 }, 4096 },
	{ 0, 4096, { 0, 4096 }, 0 },
	{ 0, 4096, { 4095, 4096 }, 4095 },
	{ 12345, 10000, { 777, 9000 }, 777 },
	{ 12345, 10000, { 9000, 777 }, 777 },
	/* Across the period's end (stream 1: BASE + 3). */
	{ BULK_PATTERN_BASE + 3 - 10, 20, { 10, 4096 }, 10 },
	{ BULK_PATTERN_BASE + 3 - 10, 20, { 9, 4096 }, 9 },
	{ 7 * (uint64_t)(BULK_PATTERN_BASE + 3) + 1, 3, { 2, 3 }, 2 },
};

START_TEST(test_pattern_diff_finds_the_offset)
{
	const struct diff_case	*c = &diff_cases[_i];
	struct bulk_pattern	 p;
	unsigned char		*s, *buf;
	unsigned		 k;

	ck_assert_int_eq(bulk_pattern_init(&p, 7, 1), 0);
	s = stream_bytes(&p, (size_t)(c->off % p.period) + c->n + p.period);
	buf = malloc(c->n);
	memcpy(buf, s + c->off % p.period, c->n);
	for (k = 0; k < 2; k++)
		if (c->flip[k] < c->n)
			buf[c->flip[k]] ^= 0x01;
	ck_assert_uint_eq(bulk_pattern_diff(&p, c->off, buf, c->n), c->want);
	free(buf);
	free(s);
	bulk_pattern_free(&p);
}
END_TEST

/* More bytes back than were sent: the first one beyond is wrong. */
static const struct check_case {
	uint64_t	back, out;
	size_t		n, flip, want;
} check_cases[] = {
	{ 0, 100, 100, 100, 100 },
	{ 0, 100, 101, 101, 100 },
	{ 0, 0, 1, 1, 0 },
	{ 50, 100, 60, 60, 50 },
	{ 50, 100, 50, 10, 10 },	/* a flip before the end wins */
	{ 50, 100, 60, 5, 5 },
	{ 1000, 5000, 4000, 4000, 4000 },
};

START_TEST(test_pattern_check_counts_only_what_was_sent)
{
	const struct check_case	*c = &check_cases[_i];
	struct bulk_pattern	 p;
	unsigned char		*s, *buf;

	ck_assert_int_eq(bulk_pattern_init(&p, 9, 2), 0);
	s = stream_bytes(&p, (size_t)c->back + c->n);
	buf = s + c->back;
	if (c->flip < c->n)
		buf[c->flip] ^= 0x80;
	ck_assert_uint_eq(bulk_pattern_check(&p, c->back, c->out, buf, c->n),
	    c->want);
	free(s);
	bulk_pattern_free(&p);
}
END_TEST

/* Streams and seeds give different bytes; the same ones the same. */
START_TEST(test_pattern_streams_differ)
{
	struct bulk_pattern	a, b, c;
	size_t			len, same = 0, i;

	ck_assert_int_eq(bulk_pattern_init(&a, 1, 1), 0);
	ck_assert_int_eq(bulk_pattern_init(&b, 1, 2), 0);
	ck_assert_int_eq(bulk_pattern_init(&c, 2, 1), 0);
	ck_assert_uint_ne(a.period, b.period);
	for (i = 0; i < 65536; i++)
		same += a.block[i] == b.block[i];
	ck_assert_uint_lt(same, 65536 / 128);	/* ~1/256 by chance */
	ck_assert_uint_eq(bulk_pattern_diff(&a, 0, c.block, 8), 0);
	bulk_pattern_free(&c);
	ck_assert_int_eq(bulk_pattern_init(&c, 1, 1), 0);
	ck_assert_int_eq(memcmp(a.block, c.block, a.period), 0);
	(void)bulk_pattern_at(&a, 0, &len);
	bulk_pattern_free(&a);
	bulk_pattern_free(&b);
	bulk_pattern_free(&c);
}
END_TEST

START_TEST(test_mbps)
{
	ck_assert_double_eq_tol(bulk_mbps(1000000, 1000000000ull), 1.0, 1e-9);
	ck_assert_double_eq_tol(bulk_mbps(2500000000ull, 2000000000ull),
	    1250.0, 1e-6);
	ck_assert_double_eq(bulk_mbps(5, 0), 0);
}
END_TEST

#define S	1000000000ull
#define REFUSED(...)	{ .argv = { __VA_ARGS__ }, .want = EX_USAGE }

static const struct parse_case {
	const char	*argv[12];
	int		 want;		/* bulk_parse's return */
	unsigned	 parallel;
	uint64_t	 time_ns, bytes, interval_ns, stall_ns, window;
	size_t		 length;
	bool		 ping, udp, json;
} parse_cases[] = {
	{ { "--bulk", "h" }, 0, 1, 10 * S, 0, S, 10 * S, 0, 131072, 0, 0, 0 },
	{ { "--bulk", "-P", "4", "-t", "2.5", "-i", "0", "h", "9" }, 0, 4,
	  2500000000ull, 0, 0, 10 * S, 0, 131072, 0, 0, 0 },
	{ { "--bulk", "-n", "16M", "-l", "1K", "-w", "32k", "-W", "1", "h" },
	  0, 1, 10 * S, 16u << 20, S, S, 32768, 1024, 0, 0, 0 },
	{ { "--bulk", "-n", "3G", "h" }, 0, 1, 10 * S, 3ull << 30, S, 10 * S,
	  0, 131072, 0, 0, 0 },
	{ { "--bulk", "-pu", "--json-stream", "--parallel", "128", "h" }, 0,
	  128, 10 * S, 0, S, 10 * S, 0, 131072, 1, 1, 1 },
	{ { "--bulk", "-l", "1M", "h" }, 0, 1, 10 * S, 0, S, 10 * S, 0,
	  1u << 20, 0, 0, 0 },
	/* Decimal, as the first line shows the seed: not 8, nor 16. */
	{ { "--bulk", "-P", "010", "h" }, 0, 10, 10 * S, 0, S, 10 * S, 0,
	  131072, 0, 0, 0 },
	REFUSED("--bulk", "-P", "0x10", "h"),
	REFUSED("--bulk", "-S", "0x10", "h"),
	REFUSED("--bulk", "-P", "0", "h"),
	REFUSED("--bulk", "-P", "129", "h"),
	REFUSED("--bulk", "-P", "-1", "h"),
	REFUSED("--bulk", "-l", "0", "h"),
	REFUSED("--bulk", "-l", "1025K", "h"),
	REFUSED("--bulk", "-n", "0", "h"),
	REFUSED("--bulk", "-n", "12X", "h"),
	REFUSED("--bulk", "-n", "99999999999G", "h"),
	REFUSED("--bulk", "-t", "0", "h"),
	REFUSED("--bulk", "-t", "x", "h"),
	REFUSED("--bulk", "-i", "-1", "h"),
	REFUSED("--bulk", "-W", "0", "h"),
	REFUSED("--bulk", "-p", "-n", "1M", "h"),
	REFUSED("--bulk", "-u", "h"),
	REFUSED("--bulk", "-x", "h"),
	REFUSED("--bulk", "-P"),
	REFUSED("--bulk"),
	REFUSED("--bulk", "h", "7", "x"),
	REFUSED("--bulk", "unix:/s", "7"),
	REFUSED("--bulk", "h", "65543"),	/* getaddrinfo(): port 7 */
	REFUSED("--bulk", "h", "0"),
	REFUSED("--bulk", "-t", "+1", "h"),
	{ .argv = { "--bulk", "-h" }, .want = -1 },
	{ .argv = { "--bulk", "-V" }, .want = -2 },
};

START_TEST(test_parse)
{
	const struct parse_case	*c = &parse_cases[_i];
	struct bulk_opts	 o;
	char			*argv[13], err[256];
	int			 argc = 1;

	argv[0] = (char *)"sockecho";
	while (c->argv[argc - 1] != NULL) {
		argv[argc] = (char *)c->argv[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	ck_assert_int_eq(bulk_parse(argc, argv, &o, err, sizeof(err)),
	    c->want);
	if (c->want == EX_USAGE)
		ck_assert_msg(err[0] != '\0', "no message");
	if (c->want != 0)
		return;
	ck_assert_uint_eq(o.parallel, c->parallel);
	ck_assert_uint_eq(o.time_ns, c->time_ns);
	ck_assert_uint_eq(o.bytes, c->bytes);
	ck_assert_uint_eq(o.interval_ns, c->interval_ns);
	ck_assert_uint_eq(o.stall_ns, c->stall_ns);
	ck_assert_uint_eq(o.window, c->window);
	ck_assert_uint_eq(o.length, c->length);
	ck_assert_int_eq(o.ping, c->ping);
	ck_assert_int_eq(o.udp, c->udp);
	ck_assert_int_eq(o.json, c->json);
	ck_assert_str_eq(o.host, "h");
}
END_TEST

START_TEST(test_requested)
{
	char	*a[] = { (char *)"sockecho", (char *)"-p", (char *)"--bulk",
	    (char *)"h", NULL };
	char	*b[] = { (char *)"sockecho", (char *)"-p", (char *)"h", NULL };
	char	*c[] = { (char *)"sockecho", (char *)"--", (char *)"--bulk",
	    NULL };

	ck_assert_int_eq(bulk_requested(4, a), 1);
	ck_assert_int_eq(bulk_requested(3, b), 0);
	ck_assert_int_eq(bulk_requested(3, c), 0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("bulk");
	TCase	*tc = tcase_create("bulk");

	tcase_add_test(tc, test_pattern_period_and_wrap);
	tcase_add_loop_test(tc, test_pattern_diff_finds_the_offset, 0,
	    nitems(diff_cases));
	tcase_add_loop_test(tc, test_pattern_check_counts_only_what_was_sent,
	    0, nitems(check_cases));
	tcase_add_test(tc, test_pattern_streams_differ);
	tcase_add_test(tc, test_mbps);
	tcase_add_loop_test(tc, test_parse, 0, nitems(parse_cases));
	tcase_add_test(tc, test_requested);
	suite_add_tcase(s, tc);
	return s;
}
