/* SPDX-License-Identifier: ISC */
/*
 * unit_stats.c: stats.c (durations, percentiles, the fate of probes),
 * probe.c (the payload and its check), ping.c's command line and
 * ping_report.c's milliseconds.
 */
#include "build-config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <check.h>

#include "harness/check_main.h"

#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/probe.h"
#include "client/stats.h"

#define MS	1000000ull

static const struct rtt_case {
	uint64_t	ns[12];
	size_t		n;
	double		min, avg, max, mdev;	/* ms */
	bool		p50;
	double		p50_ms;
	bool		p90;
	double		p90_ms;
} rtt_cases[] = {
	{ { 1 * MS }, 1, 1, 1, 1, 0, false, 0, false, 0 },
	/* ping(8)'s mdev: sqrt(mean(x^2) - mean(x)^2), here exactly 1. */
	{ { 1 * MS, 3 * MS }, 2, 1, 2, 3, 1, true, 1, false, 0 },
	{ { 2 * MS, 4 * MS, 4 * MS, 4 * MS, 5 * MS, 5 * MS, 7 * MS, 9 * MS },
	  8, 2, 5, 9, 2, true, 4, false, 0 },
	/* 10 samples: p90 is the 9th, p50 the 5th (nearest rank). */
	{ { 10 * MS, 1 * MS, 9 * MS, 2 * MS, 8 * MS, 3 * MS, 7 * MS, 4 * MS,
	    6 * MS, 5 * MS }, 10, 1, 5.5, 10, 2.8722813, true, 5, true, 9 },
	{ { 250000, 125000, 500000 }, 3, 0.125, 0.291667, 0.5, 0.155902,
	  true, 0.25, false, 0 },
};

START_TEST(test_rtt_summary)
{
	const struct rtt_case	*c = &rtt_cases[_i];
	struct stats_rtt	 r;
	struct stats_summary	 s;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < c->n; i++)
		ck_assert_int_eq(stats_rtt_add(&r, c->ns[i]), 0);
	stats_rtt_summary(&r, &s);
	ck_assert_uint_eq(s.n, c->n);
	ck_assert_double_eq_tol(s.min_ms, c->min, 1e-6);
	ck_assert_double_eq_tol(s.avg_ms, c->avg, 1e-6);
	ck_assert_double_eq_tol(s.max_ms, c->max, 1e-6);
	ck_assert_double_eq_tol(s.mdev_ms, c->mdev, 1e-6);
	ck_assert_int_eq(s.has_pctl[0], c->p50);
	if (c->p50)
		ck_assert_double_eq_tol(s.pctl_ms[0], c->p50_ms, 1e-9);
	ck_assert_int_eq(s.has_pctl[1], c->p90);
	if (c->p90)
		ck_assert_double_eq_tol(s.pctl_ms[1], c->p90_ms, 1e-9);
	ck_assert(!s.has_pctl[2]);
	stats_rtt_free(&r);
}
END_TEST

START_TEST(test_percentiles_need_enough_samples)
{
	static const struct { uint64_t n; unsigned pctl; bool enough; } t[] = {
		{ 1, 50, false }, { 2, 50, true }, { 9, 90, false },
		{ 10, 90, true }, { 99, 99, false }, { 100, 99, true },
		{ 1000000, 100, false },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		ck_assert_msg(stats_pctl_enough(t[i].n, t[i].pctl) ==
		    t[i].enough, "n %llu p%u", (unsigned long long)t[i].n,
		    t[i].pctl);
}
END_TEST

START_TEST(test_percentile_nearest_rank)
{
	uint64_t	v[100];
	size_t		i;

	for (i = 0; i < 100; i++)
		v[i] = i + 1;
	ck_assert_uint_eq(stats_pctl_of(v, 100, 50), 50);
	ck_assert_uint_eq(stats_pctl_of(v, 100, 90), 90);
	ck_assert_uint_eq(stats_pctl_of(v, 100, 99), 99);
	ck_assert_uint_eq(stats_pctl_of(v, 3, 50), 2);
	ck_assert_uint_eq(stats_pctl_of(v, 3, 99), 3);
	ck_assert_uint_eq(stats_pctl_of(v, 1, 1), 1);
	ck_assert_uint_eq(stats_pctl_of(v, 0, 50), 0);
}
END_TEST

START_TEST(test_many_samples_stay_bounded)
{
	struct stats_rtt	r;
	struct stats_summary	s;
	uint64_t		i, n = STATS_MAX_SAMPLES + 100000;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(stats_rtt_add(&r, (i % 1000) * 1000), 0);
	ck_assert_uint_eq(r.kept, STATS_MAX_SAMPLES);
	stats_rtt_summary(&r, &s);
	ck_assert_uint_eq(s.n, n);
	ck_assert_double_eq_tol(s.max_ms, 0.999, 1e-9);
	/* The sample is uniform: its median is near the true one, 0.5 ms. */
	ck_assert_double_eq_tol(s.pctl_ms[0], 0.5, 0.01);
	stats_rtt_free(&r);
}
END_TEST

/* Events on the probe table: s sends, b SEQ a reply, m SEQ a mismatch,
 * f SEQ a failure, t the clock (ms) passes, expiring with a 100 ms
 * timeout. */
static const struct probe_case {
	const char	*events;
	const char	*verdicts;	/* per reply: B R D L U */
	uint64_t	 transmitted, received, lost, errors, dup, reord, late,
			 unknown, mismatched, out;
	bool		 all_back;
} probe_cases[] = {
	{ "s b1 s b2 s b3", "BBB", 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, true },
	{ "s s s b2 b1 b3", "BRB", 3, 3, 0, 0, 0, 1, 0, 0, 0, 0, true },
	{ "s b1 b1 s b2", "BDB", 2, 2, 0, 0, 1, 0, 0, 0, 0, 0, true },
	{ "s s b2 t200 b1", "BL", 2, 1, 1, 0, 0, 0, 1, 0, 0, 0, false },
	{ "s b7 b0 b1", "UUB", 1, 1, 0, 0, 0, 0, 0, 2, 0, 0, true },
	{ "s m1 s b2 b1", "BD", 2, 1, 0, 0, 1, 0, 0, 0, 1, 0, false },
	{ "s f1 s b2", "B", 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, false },
	/* Still out when we stop: not counted at all. */
	{ "s b1 s", "B", 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, true },
	{ "s t50 s t60 b2", "B", 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, false },
};

START_TEST(test_probe_fates)
{
	const struct probe_case	*c = &probe_cases[_i];
	struct stats_probes	*p = malloc(sizeof(*p));
	const char		*e = c->events, *v = c->verdicts;
	uint64_t		 now = 1000 * MS, seq, rtt;
	static const char	 letter[] = "BRDLU";
	char			*end;

	stats_probes_init(p);
	while (*e != '\0') {
		char op = *e++;
		uint64_t arg = strtoull(e, &end, 10);

		e = end;
		if (op == 's')
			stats_probes_send(p, now);
		else if (op == 'b') {
			ck_assert_msg(*v != '\0', "%s: more replies", c->events);
			ck_assert_msg(letter[stats_probes_reply(p, arg, now,
			    &rtt)] == *v++, "%s: reply %llu", c->events,
			    (unsigned long long)arg);
		} else if (op == 'm')
			ck_assert_int_eq(stats_probes_mismatch(p, arg), 0);
		else if (op == 'f')
			ck_assert_int_eq(stats_probes_fail(p, arg), 0);
		else if (op == 't') {
			now += arg * MS;
			while (stats_probes_expire(p, now, 100 * MS, &seq))
				continue;
		}
		while (*e == ' ')
			e++;
	}
	ck_assert_msg(*v == '\0', "%s: fewer replies", c->events);
	ck_assert_uint_eq(stats_probes_transmitted(p), c->transmitted);
	ck_assert_uint_eq(p->received, c->received);
	ck_assert_uint_eq(p->lost, c->lost);
	ck_assert_uint_eq(p->errors, c->errors);
	ck_assert_uint_eq(p->duplicates, c->dup);
	ck_assert_uint_eq(p->reordered, c->reord);
	ck_assert_uint_eq(p->late, c->late);
	ck_assert_uint_eq(p->unknown, c->unknown);
	ck_assert_uint_eq(p->mismatched, c->mismatched);
	ck_assert_uint_eq(p->out, c->out);
	ck_assert_int_eq(stats_probes_all_back(p, 0), c->all_back);
	free(p);
}
END_TEST

START_TEST(test_probe_expiry_in_order_and_rtt)
{
	struct stats_probes	*p = malloc(sizeof(*p));
	uint64_t		 seq, rtt;

	stats_probes_init(p);
	ck_assert_uint_eq(stats_probes_next_expiry(p, 100), UINT64_MAX);
	ck_assert_uint_eq(stats_probes_send(p, 1000), 1);
	ck_assert_uint_eq(stats_probes_send(p, 1500), 2);
	ck_assert_uint_eq(stats_probes_next_expiry(p, 100), 1100);
	ck_assert(!stats_probes_expire(p, 1099, 100, &seq));
	ck_assert(stats_probes_expire(p, 1100, 100, &seq));
	ck_assert_uint_eq(seq, 1);
	ck_assert_uint_eq(stats_probes_next_expiry(p, 100), 1600);
	ck_assert_int_eq(stats_probes_reply(p, 2, 1542, &rtt), STATS_BACK);
	ck_assert_uint_eq(rtt, 42);
	ck_assert_uint_eq(stats_probes_next_expiry(p, 100), UINT64_MAX);
	ck_assert_double_eq_tol(stats_probes_loss_pct(p), 50.0, 1e-9);
	ck_assert(!stats_probes_all_back(p, 0));
	free(p);
}
END_TEST

START_TEST(test_probe_window_fills)
{
	struct stats_probes	*p = malloc(sizeof(*p));
	uint64_t		 i, rtt;

	stats_probes_init(p);
	for (i = 0; i < STATS_WINDOW; i++)
		stats_probes_send(p, i);
	ck_assert(stats_probes_full(p));
	ck_assert_int_eq(stats_probes_reply(p, 2, 10, &rtt), STATS_BACK);
	ck_assert(stats_probes_full(p));	/* the oldest is still out */
	ck_assert_int_eq(stats_probes_reply(p, 1, 10, &rtt), STATS_REORDERED);
	ck_assert(!stats_probes_full(p));
	stats_probes_send(p, 20);
	stats_probes_send(p, 20);
	ck_assert(stats_probes_full(p));
	free(p);
}
END_TEST

START_TEST(test_count_is_part_of_all_back)
{
	struct stats_probes	*p = malloc(sizeof(*p));
	uint64_t		 rtt;

	stats_probes_init(p);
	ck_assert(!stats_probes_all_back(p, 0));	/* nothing sent */
	stats_probes_send(p, 0);
	stats_probes_reply(p, 1, 5, &rtt);
	ck_assert(stats_probes_all_back(p, 0));
	ck_assert(stats_probes_all_back(p, 1));
	ck_assert(!stats_probes_all_back(p, 2));	/* the deadline came */
	free(p);
}
END_TEST

START_TEST(test_payload_pattern)
{
	unsigned char	b[300], c[300];
	uint64_t	seq;
	size_t		i;

	probe_fill(b, sizeof(b), 0x0102030405ull, 0xa1b2c3d4);
	ck_assert_mem_eq(b, "\x02\x03\x04\x05\xa1\xb2\xc3\xd4", 8);
	for (i = 8; i < sizeof(b); i++)
		ck_assert_uint_eq(b[i], i & 0xff);
	ck_assert_int_eq(probe_diff(b, sizeof(b), sizeof(b), 0x0102030405ull,
	    0xa1b2c3d4), -1);
	/* Every byte counts, the header's too. */
	for (i = 0; i < sizeof(b); i++) {
		memcpy(c, b, sizeof(b));
		c[i] ^= 0x20;
		ck_assert_int_eq(probe_diff(c, sizeof(c), sizeof(c),
		    0x0102030405ull, 0xa1b2c3d4), (ssize_t)i);
	}
	ck_assert_int_eq(probe_diff(b, 100, 300, 0x0102030405ull, 0xa1b2c3d4),
	    100);	/* a true prefix: the difference is where it ends */
	ck_assert_int_eq(probe_diff(b, 301, 300, 0x0102030405ull, 0xa1b2c3d4),
	    300);	/* longer */
	ck_assert_int_eq(probe_diff(b, 300, 300, 0x0102030406ull,
	    0xa1b2c3d4), 3);
	ck_assert_int_eq(probe_parse(b, 300, 0xa1b2c3d4, 0x0102030406ull,
	    &seq), 0);
	ck_assert_uint_eq(seq, 0x0102030405ull);
	ck_assert_int_eq(probe_parse(b, 300, 0xa1b2c3d5, 0x0102030406ull,
	    &seq), -1);	/* another run */
	ck_assert_int_eq(probe_parse(b, 7, 0xa1b2c3d4, 0x0102030406ull,
	    &seq), -1);	/* too short */
	/* Probes shorter than the header carry what fits. */
	probe_fill(c, 1, 0x2a, 7);
	ck_assert_uint_eq(c[0], 0);
	ck_assert_int_eq(probe_diff(c, 1, 1, 0x2a, 7), -1);
}
END_TEST

START_TEST(test_sequence_unwraps)
{
	static const struct { uint32_t wire; uint64_t next, seq; } t[] = {
		{ 5, 6, 5 }, { 5, 10, 5 },
		{ 0xffffffff, 0x100000002ull, 0xffffffff },
		{ 1, 0x100000002ull, 0x100000001ull },
		{ 9, 0x100000002ull, 9 },	/* cannot be ahead: an old one */
		{ 2, 0x100000002ull, 2 },	/* next_seq's own: not sent yet */
	};
	unsigned char	b[8];
	uint64_t	seq;
	size_t		i;

	for (i = 0; i < nitems(t); i++) {
		probe_fill(b, 8, t[i].wire, 1);
		ck_assert_int_eq(probe_parse(b, 8, 1, t[i].next, &seq), 0);
		ck_assert_uint_eq(seq, t[i].seq);
	}
}
END_TEST

/* ping(8)'s times: about three significant digits, none after the point
 * from 100 ms on. */
static const struct { uint64_t ns; const char *text; } ms_cases[] = {
	{ 112000, "0.112" }, { 1234000, "1.23" }, { 12345000, "12.3" },
	{ 99940000, "99.9" }, { 123456000, "123" }, { 150000000, "150" },
	{ 1500400000, "1500" },
};

START_TEST(test_report_ms)
{
	char	buf[32];

	ck_assert_str_eq(ping_report_ms(buf, sizeof(buf), ms_cases[_i].ns),
	    ms_cases[_i].text);
}
END_TEST

START_TEST(test_interval_floor)
{
	ck_assert(ping_interval_allowed(PING_USER_MIN_INTERVAL_NS, false));
	ck_assert(!ping_interval_allowed(PING_USER_MIN_INTERVAL_NS - 1, false));
	ck_assert(!ping_interval_allowed(0, false));
	ck_assert(ping_interval_allowed(0, true));
}
END_TEST

static const struct parse_case {
	const char	*args[14];
	int		 status;
	const char	*err;		/* a part of the message */
	uint64_t	 count, interval_ns, timeout_ns, deadline_ns;
	size_t		 size;
	bool		 udp, connect_each;
} parse_cases[] = {
#define DEFAULTS .interval_ns = 1000 * MS, .timeout_ns = 10000 * MS, .size = 64
	{ { "-p", "h", NULL }, 0, NULL, DEFAULTS },
	{ { "-p", "-C", "5", "-i", "0.25", "-s", "1", "-w", "2", "-t", "9",
	    "h", NULL }, 0, NULL, .count = 5, .interval_ns = 250 * MS,
	  .timeout_ns = 2000 * MS, .deadline_ns = 9000 * MS, .size = 1 },
	{ { "--ping", "-t", "3", "h", "7", NULL }, 0, NULL, DEFAULTS,
	  .deadline_ns = 3000 * MS },
	{ { "-pu", "-s", "8", "h", NULL }, 0, NULL, .interval_ns = 1000 * MS,
	  .timeout_ns = 10000 * MS, .size = 8, .udp = true },
	{ { "h", "-N", "--ping", NULL }, 0, NULL, DEFAULTS,
	  .connect_each = true },
#define USAGE(text)	EX_USAGE, text, DEFAULTS
	{ { "-p", "-c", "5", "h", NULL }, USAGE("the probe count is -C") },
	{ { "-p", "-m", "x", "h", NULL }, USAGE("probes of its own") },
	{ { "-p", "-C", "0", "h", NULL }, USAGE("-C: expected a count") },
	{ { "-p", "-C", "-3", "h", NULL }, USAGE("-C: expected a count") },
	{ { "-p", "-s", "1048577", "h", NULL }, USAGE("-s: expected") },
	{ { "-p", "-u", "-s", "7", "h", NULL }, USAGE("UDP probe has 8") },
	{ { "-p", "-u", "-N", "h", NULL }, USAGE("is for TCP") },
	{ { "-p", "-w", "0", "h", NULL }, USAGE("-w: expected a positive") },
	{ { "-p", "-r", "2", "h", NULL }, USAGE("does not send it again") },
	{ { "-p", "--deadline", "4", "h", NULL }, 0, NULL, DEFAULTS,
	  .deadline_ns = 4000 * MS },
	{ { "-p", "-i", "x", "h", NULL }, USAGE("-i: expected") },
	{ { "-p", NULL }, USAGE("expected HOST") },
	{ { "-p", "a", "b", "c", NULL }, USAGE("expected HOST") },
	{ { "-p", "unix:/x", "7", NULL }, USAGE("takes no port") },
	{ { "-p", "-u", "unix:/x", NULL }, USAGE("UDP needs") },
	{ { "-p", "--bogus", "h", NULL }, USAGE("unknown option") },
	/* getaddrinfo() took 65543 as port 7: the prober probed another port. */
	{ { "-p", "h", "65543", NULL }, USAGE("between 1 and 65535") },
	{ { "-p", "h:65543", NULL }, USAGE("between 1 and 65535") },
	{ { "-p", "-u", "h", "0", NULL }, USAGE("between 1 and 65535") },
	{ { "-p", "-i", " 1", "h", NULL }, USAGE("-i: expected") },
	{ { "-p", "-C", NULL }, USAGE("needs a value") },
	{ { "-p", "-h", NULL }, -1, NULL, DEFAULTS },
	{ { "-p", "-V", NULL }, -2, NULL, DEFAULTS },
#undef USAGE
#undef DEFAULTS
};

START_TEST(test_command_line)
{
	const struct parse_case	*c = &parse_cases[_i];
	struct ping_opts	 o;
	char			*argv[16], err[256] = "";
	int			 argc = 0, i;

	argv[argc++] = strdup("sockecho");
	for (i = 0; c->args[i] != NULL; i++)
		argv[argc++] = strdup(c->args[i]);
	argv[argc] = NULL;
	ck_assert(ping_requested(argc, argv));
	ck_assert_int_eq(ping_parse(argc, argv, &o, err, sizeof(err)),
	    c->status);
	if (c->err != NULL)
		ck_assert_msg(strstr(err, c->err) != NULL, "%s", err);
	if (c->status == 0) {
		ck_assert_uint_eq(o.count, c->count);
		ck_assert_uint_eq(o.interval_ns, c->interval_ns);
		ck_assert_uint_eq(o.timeout_ns, c->timeout_ns);
		ck_assert_uint_eq(o.deadline_ns, c->deadline_ns);
		ck_assert_uint_eq(o.size, c->size);
		ck_assert_int_eq(o.udp, c->udp);
		ck_assert_int_eq(o.connect_each, c->connect_each);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
}
END_TEST

START_TEST(test_ping_requested)
{
	static const struct { const char *args[5]; int yes; } t[] = {
		{ { "-p", NULL }, 1 },
		{ { "-qp", "h", NULL }, 1 },
		{ { "h", "--ping", NULL }, 1 },
		{ { "-m", "-p", "h", NULL }, 0 },	/* the text "-p" */
		{ { "-mp", "h", NULL }, 0 },		/* the text "p" */
		{ { "-t", "1", "h", NULL }, 0 },
		{ { "--", "-p", NULL }, 0 },
		{ { "--message", "-p", NULL }, 1 },	/* as getopt: -p */
	};
	char	*argv[6];
	size_t	 i;
	int	 n;

	for (i = 0; i < nitems(t); i++) {
		argv[0] = (char *)"sockecho";
		for (n = 0; t[i].args[n] != NULL; n++)
			argv[n + 1] = (char *)t[i].args[n];
		argv[n + 1] = NULL;
		ck_assert_msg(ping_requested(n + 1, argv) == t[i].yes,
		    "case %zu", i);
	}
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("ping statistics");
	TCase	*tc = tcase_create("stats");

	tcase_add_loop_test(tc, test_rtt_summary, 0, nitems(rtt_cases));
	tcase_add_test(tc, test_percentiles_need_enough_samples);
	tcase_add_test(tc, test_percentile_nearest_rank);
	tcase_add_test(tc, test_many_samples_stay_bounded);
	tcase_add_loop_test(tc, test_probe_fates, 0, nitems(probe_cases));
	tcase_add_test(tc, test_probe_expiry_in_order_and_rtt);
	tcase_add_test(tc, test_probe_window_fills);
	tcase_add_test(tc, test_count_is_part_of_all_back);
	tcase_add_test(tc, test_payload_pattern);
	tcase_add_test(tc, test_sequence_unwraps);
	tcase_add_test(tc, test_interval_floor);
	tcase_add_loop_test(tc, test_report_ms, 0, nitems(ms_cases));
	tcase_add_loop_test(tc, test_command_line, 0, nitems(parse_cases));
	tcase_add_test(tc, test_ping_requested);
	suite_add_tcase(s, tc);
	return s;
}
