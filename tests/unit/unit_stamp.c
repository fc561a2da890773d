/* SPDX-License-Identifier: ISC */
/*
 * unit_stamp.c: stamp_pkt.c (the STAMP packet, NTP and PTP timestamps,
 * the Error Estimate, the direction of loss, signed durations), the
 * --stamp command line, and what the summary and the JSON of
 * stamp_report.c say of the clocks (sockecho(1): any of three reasons
 * makes the one-way figures offsets).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <check.h>

#include "harness/check_main.h"

#include "measure/ping.h"
#include "measure/stamp.h"
#include "measure/ping_int.h"
#include "measure/stamp_int.h"

#define NS	1000000000ull

static const struct ts_case {
	uint64_t	unix_ns;
	uint64_t	ntp;
	uint64_t	ptp37;		/* with TAI - UTC = 37 s */
} ts_cases[] = {
	{ 0, 0x83aa7e8000000000ull, 0x0000002500000000ull },
	{ NS + NS / 2, 0x83aa7e8180000000ull, 0x000000261dcd6500ull },
	{ 1700000000 * NS + 1, 0xe8fe6f8000000004ull,
	  0x6553f12500000001ull },
	{ 1700000000 * NS + 999999999, 0xe8fe6f80fffffffbull,
	  0x6553f1253b9ac9ffull },
};

START_TEST(test_timestamps)
{
	const struct ts_case	*c = &ts_cases[_i];

	ck_assert_uint_eq(stampc_ntp_of(c->unix_ns), c->ntp);
	ck_assert_uint_eq(stampc_ntp_ns(c->ntp), c->unix_ns);
	ck_assert_uint_eq(stampc_ptp_of(c->unix_ns, 37), c->ptp37);
	ck_assert_uint_eq(stampc_ptp_ns(c->ptp37, 37), c->unix_ns);
}
END_TEST

static const struct err_case {
	bool		synced, ptp;
	uint64_t	err_ns;
	uint16_t	want;
} err_cases[] = {
	{ true, false, 0, 0x8001 },	/* never a multiplier of 0 */
	{ false, false, 1, 0x0005 },
	{ true, true, 1000, 0xc587 },
	{ false, false, 1000000, 0x0f84 },
	{ false, true, 500000000, 0x5880 },
	{ true, false, 1000000000, 0x9980 },
};

START_TEST(test_error_estimate)
{
	const struct err_case	*c = &err_cases[_i];
	uint16_t		 e = stampc_err_of(c->synced, c->ptp, c->err_ns);

	ck_assert_uint_eq(e, c->want);
	/* What it says covers the error, by less than twice. */
	ck_assert(stampc_err_seconds(e) * 1e9 >= (double)c->err_ns);
	ck_assert(c->err_ns < 100 || stampc_err_seconds(e) * 1e9 <
	    2.0 * (double)c->err_ns);
}
END_TEST

START_TEST(test_packet_bytes)
{
	static const unsigned char want[48] = {
		0x01, 0x02, 0x03, 0x04,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x80, 0x05, 0xbe, 0xef,
	};
	unsigned char	buf[48];

	memset(buf, 0xaa, sizeof(buf));
	stampc_fill(buf, sizeof(buf), 0x01020304, 0x1112131415161718ull,
	    0x8005, 0xbeef);
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_reply_fields)
{
	unsigned char		buf[STAMP_MIN_SIZE] = {
		0, 0, 0, 7,				/* reflector seq */
		0x83, 0xaa, 0x7e, 0x83, 0, 0, 0, 0,	/* T3: 3 s */
		0x80, 0x01, 0x12, 0x34,			/* err, SSID */
		0x83, 0xaa, 0x7e, 0x82, 0x80, 0, 0, 0,	/* T2: 2.5 s */
		0, 0, 0, 9,				/* our seq */
		0x83, 0xaa, 0x7e, 0x81, 0, 0, 0, 0,	/* T1: 1 s */
		0x00, 0x02, 0, 0, 250, 0, 0, 0,
	};
	struct stamp_reply	r;

	ck_assert_int_eq(stampc_parse(buf, sizeof(buf), sizeof(buf), 0, &r),
	    0);
	ck_assert_uint_eq(r.seq, 7);
	ck_assert_uint_eq(r.t3_ns, 3 * NS);
	ck_assert_uint_eq(r.err, 0x8001);
	ck_assert_uint_eq(r.ssid, 0x1234);
	ck_assert_uint_eq(r.t2_ns, 2 * NS + NS / 2);
	ck_assert_uint_eq(r.s_seq, 9);
	ck_assert_uint_eq(r.t1_ns, NS);
	ck_assert_uint_eq(r.s_err, 2);
	ck_assert_uint_eq(r.s_ttl, 250);
	/* Not the size we sent, or shorter than the RFC's packet. */
	ck_assert_int_eq(stampc_parse(buf, sizeof(buf), 45, 0, &r), -1);
	ck_assert_int_eq(stampc_parse(buf, 43, 43, 0, &r), -1);
}
END_TEST

/* Replies as (our seq, reflector seq) pairs, then the loss they show. */
static const struct loss_case {
	uint32_t	pairs[8][2];
	size_t		n;
	bool		stateful;	/* told so */
	uint64_t	lost;
	uint64_t	forward, backward, unknown;
	bool		seen_stateful;
} loss_cases[] = {
	/* 10 sent, the 3rd, 6th, 9th lost on the way out. */
	{ { {0, 0}, {1, 1}, {3, 2}, {4, 3}, {6, 4}, {7, 5}, {9, 6} }, 7,
	  false, 3, 3, 0, 0, true },
	/* Lost on the way back: the numbers follow ours. */
	{ { {0, 0}, {1, 1}, {3, 3}, {4, 4} }, 4, true, 1, 0, 1, 0, true },
	/* The same, but nobody said the reflector keeps state. */
	{ { {0, 0}, {1, 1}, {3, 3}, {4, 4} }, 4, false, 1, 0, 0, 1, false },
	/* One each way, and one after the last reply. */
	{ { {0, 0}, {2, 1}, {4, 3} }, 3, false, 3, 1, 1, 1, true },
	/* Nothing came back. */
	{ { {0, 0} }, 0, true, 5, 0, 0, 5, true },
	/* Replies reordered: the highest reflector number counts. */
	{ { {2, 1}, {0, 0}, {3, 2} }, 3, false, 1, 1, 0, 0, true },
};

START_TEST(test_loss_direction)
{
	const struct loss_case	*c = &loss_cases[_i];
	struct stamp_seqs	 q;
	struct stamp_loss	 l;
	size_t			 i;

	memset(&q, 0, sizeof(q));
	q.stateful = c->stateful;
	for (i = 0; i < c->n; i++)
		stampc_seqs_add(&q, c->pairs[i][0], c->pairs[i][1]);
	stampc_loss_of(&q, c->lost, &l);
	ck_assert_uint_eq(l.forward, c->forward);
	ck_assert_uint_eq(l.backward, c->backward);
	ck_assert_uint_eq(l.unknown, c->unknown);
	ck_assert_int_eq(l.stateful, c->seen_stateful);
}
END_TEST

START_TEST(test_signed_durations)
{
	struct stats_rtt	r;
	struct stats_summary	s;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(stampc_signed_add(&r, -3000000), 0);
	ck_assert_int_eq(stampc_signed_add(&r, 1000000), 0);
	stampc_signed_summary(&r, &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_double_eq_tol(s.min_ms, -3.0, 1e-6);
	ck_assert_double_eq_tol(s.max_ms, 1.0, 1e-6);
	ck_assert_double_eq_tol(s.avg_ms, -1.0, 1e-6);
	ck_assert_double_eq_tol(s.pctl_ms[0], -3.0, 1e-6);
	stats_rtt_free(&r);
}
END_TEST

static const struct cmd_case {
	const char	*args[8];
	int		 status;
	const char	*err;
	const char	*port;
	size_t		 size;
	bool		 ptp;
} cmd_cases[] = {
	{ { "--stamp", "h", NULL }, 0, NULL, "862", 44, false },
	{ { "--stamp", "--ptp", "-s", "1472", "h", "8620", NULL }, 0, NULL,
	  "8620", 1472, true },
	{ { "--stamp", "-s", "43", "h", NULL }, EX_USAGE, "44 to 1472",
	  NULL, 0, false },
	{ { "--stamp", "-s", "1473", "h", NULL }, EX_USAGE, "44 to 1472",
	  NULL, 0, false },
	{ { "-p", "--ptp", "h", NULL }, EX_USAGE, "for --stamp only", NULL, 0,
	  false },
	{ { "--stamp", "unix:/x", NULL }, EX_USAGE, "HOST [PORT]", NULL, 0,
	  false },
	{ { "-p", "-u", "h", NULL }, 0, NULL, "7", 64, false },
	/* HOST:PORT in one operand, as -p takes it: its port, not 862. */
	{ { "--stamp", "h:9862", NULL }, 0, NULL, "9862", 44, false },
	{ { "--stamp", "[::1]:9862", NULL }, 0, NULL, "9862", 44, false },
	{ { "--stamp", "::1", NULL }, 0, NULL, "862", 44, false },
};

START_TEST(test_command_line)
{
	const struct cmd_case	*c = &cmd_cases[_i];
	struct ping_opts	 o;
	char			*argv[10], err[256] = "";
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
		ck_assert_str_eq(o.port, c->port);
		ck_assert_uint_eq(o.size, c->size);
		ck_assert_int_eq(o.ptp, c->ptp);
		ck_assert(o.udp);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
}
END_TEST

/*
 * Our clock synchronised or not, the replies whose S flag was clear, the
 * one-way delays below zero: the warning (its reasons joined by "; "),
 * the names of the one-way lines, and the JSON's "synchronised" (false
 * when any of the three holds) and "sender_synchronised" (ours only).
 */
static const struct sync_case {
	bool		 self;
	uint64_t	 refl, negative;
	const char	*warning;	/* NULL: none */
	const char	*json;
} sync_cases[] = {
	{ true, 0, 0, NULL, "\"synchronised\": true,\n"
	  "  \"sender_synchronised\": true" },
	{ true, 0, 2, "(2 one-way delays below zero)",
	  "\"synchronised\": false,\n  \"sender_synchronised\": true" },
	{ true, 3, 0, "(the reflector's Error Estimate says it is not in 3 "
	  "replies)", "\"synchronised\": false,\n"
	  "  \"sender_synchronised\": true" },
	{ true, 3, 2, "(the reflector's Error Estimate says it is not in 3 "
	  "replies; 2 one-way delays below zero)", "\"synchronised\": false" },
	{ false, 3, 2, "(ours is not; the reflector's Error Estimate says it "
	  "is not in 3 replies; 2 one-way delays below zero)",
	  "\"synchronised\": false,\n  \"sender_synchronised\": false" },
};

START_TEST(test_report_sync)
{
	const struct sync_case	*c = &sync_cases[_i];
	struct stamp_run	 s;
	struct ping		 p;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*fp;

	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	s.self_synced = c->self;
	s.refl_unsynced = c->refl;
	s.negative = c->negative;
	ck_assert_int_eq(stampc_signed_add(&s.fwd, 200000), 0);
	ck_assert_int_eq(stampc_signed_add(&s.back, 150000), 0);
	ck_assert_int_eq(stampc_signed_add(&s.res, 40000), 0);
	p.stamp = &s;
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &len));
	stampc_report_summary(&p, fp);
	stampc_report_json(&p, fp);
	ck_assert_int_eq(fclose(fp), 0);
	if (c->warning == NULL) {
		ck_assert_msg(strstr(out, "WARNING") == NULL, "%s", out);
		ck_assert_msg(strstr(out, "\nforward min/") != NULL, "%s", out);
	} else {
		ck_assert_msg(strstr(out, "WARNING: the clocks are not "
		    "synchronised (") != NULL, "%s", out);
		ck_assert_msg(strstr(out, c->warning) != NULL, "%s", out);
		ck_assert_msg(strstr(out, "\nforward offset min/") != NULL &&
		    strstr(out, "\nbackward offset min/") != NULL, "%s", out);
	}
	ck_assert_msg(strstr(out, c->json) != NULL, "%s", out);
	free(out);
	stats_rtt_free(&s.fwd);
	stats_rtt_free(&s.back);
	stats_rtt_free(&s.res);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("stamp sender");
	TCase	*tc = tcase_create("stamp");

	tcase_add_loop_test(tc, test_timestamps, 0, nitems(ts_cases));
	tcase_add_loop_test(tc, test_error_estimate, 0, nitems(err_cases));
	tcase_add_test(tc, test_packet_bytes);
	tcase_add_test(tc, test_reply_fields);
	tcase_add_loop_test(tc, test_loss_direction, 0, nitems(loss_cases));
	tcase_add_test(tc, test_signed_durations);
	tcase_add_loop_test(tc, test_command_line, 0, nitems(cmd_cases));
	tcase_add_loop_test(tc, test_report_sync, 0, nitems(sync_cases));
	suite_add_tcase(s, tc);
	return s;
}
