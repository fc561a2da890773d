/* SPDX-License-Identifier: ISC */
/*
 * unit_prober.c: the prober's pure parts, table by table: what an HTTP
 * request asks for, the bucket a round trip falls in, the escaping of a
 * label value, the exposition (loss never in the histogram, cumulative
 * buckets, the counters), and the command line (HOST:PORT, the options
 * that make no sense with --metrics-listen).
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "measure/ping.h"
#include "measure/prober.h"
#include "measure/prober_http.h"
#include "harness/check_main.h"

static const struct {
	const char	*req;
	enum phttp_req	 want;
} parse_cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", PHTTP_GET },
	{ "GET /metrics HTTP/1.0\r\n\r\n", PHTTP_GET },
	{ "GET /metrics?x=1 HTTP/1.1\r\n\r\n", PHTTP_GET },
	{ "GET /metrics HTTP/1.1\n\n", PHTTP_GET },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n", PHTTP_HEAD },
	{ "POST /metrics HTTP/1.1\r\n\r\n", PHTTP_METHOD },
	{ "GETX /metrics HTTP/1.1\r\n\r\n", PHTTP_METHOD },
	{ "GET /metricsx HTTP/1.1\r\n\r\n", PHTTP_NOT_FOUND },
	{ "GET /metric HTTP/1.1\r\n\r\n", PHTTP_NOT_FOUND },
	{ "GET / HTTP/1.1\r\n\r\n", PHTTP_NOT_FOUND },
	{ "POST /x HTTP/1.1\r\n\r\n", PHTTP_NOT_FOUND },
	{ "GET /metrics\r\n\r\n", PHTTP_BAD },
	{ "GET metrics HTTP/1.1\r\n\r\n", PHTTP_BAD },
	{ "GET /metrics SMTP/1.1\r\n\r\n", PHTTP_BAD },
	{ "hello\r\n\r\n", PHTTP_BAD },
	{ "GET /metrics HTTP/1.1\r\n", PHTTP_MORE },
	{ "GET /met", PHTTP_MORE },
	{ "", PHTTP_MORE },
};

START_TEST(test_parse)
{
	ck_assert_int_eq(phttp_parse(parse_cases[_i].req,
	    strlen(parse_cases[_i].req)), parse_cases[_i].want);
}
END_TEST

START_TEST(test_parse_too_big)
{
	static char	buf[PHTTP_MAX_REQUEST];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(phttp_parse(buf, sizeof(buf) - 1), PHTTP_MORE);
	ck_assert_int_eq(phttp_parse(buf, sizeof(buf)), PHTTP_TOO_BIG);
}
END_TEST

static const struct {
	uint64_t	ns;
	unsigned	bucket;
} bucket_cases[] = {
	{ 0, 0 },
	{ 100000, 0 },			/* le is inclusive */
	{ 100001, 1 },
	{ 50000000, 8 },		/* 0.05 */
	{ 50000001, 9 },		/* 0.1 */
	{ 100000000, 9 },
	{ 10000000000ull, 15 },		/* 10 */
	{ 10000000001ull, 16 },		/* +Inf */
	{ UINT64_MAX, 16 },
};

START_TEST(test_bucket_of)
{
	ck_assert_uint_eq(prober_bucket_of(bucket_cases[_i].ns),
	    bucket_cases[_i].bucket);
}
END_TEST

static char *
expose(const struct prober_view *v)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(prober_expose(fp, v), 0);
	fclose(fp);
	return buf;
}

#define HAS(text, line) \
	ck_assert_msg(strstr(text, "\n" line "\n") != NULL, "no %s in\n%s", \
	    line, text)

/* 10 probes: 7 back (3 in 1 ms, 4 in 60 ms), 2 lost, 1 out. */
START_TEST(test_exposition)
{
	static struct stats_probes	s;
	struct prober_hist		h;
	struct prober_view		v;
	uint64_t			seq, rtt;
	char				*t;
	int				i;

	memset(&h, 0, sizeof(h));
	stats_probes_init(&s);
	for (i = 1; i <= 10; i++)
		stats_probes_send(&s, 1000);
	for (seq = 1; seq <= 7; seq++) {
		stats_probes_reply(&s, seq, 2000, &rtt);
		prober_hist_add(&h, seq <= 3 ? 1000000 : 60000000);
	}
	stats_probes_timed_out(&s, 8);
	stats_probes_timed_out(&s, 9);
	v = (struct prober_view){ .target = "a\"b\\c\nd", .protocol = "udp",
	    .hist = &h, .probes = &s, .last_success_s = 1700000000.5,
	    .interval_s = 1, .wait_s = 0.25 };
	t = expose(&v);
#define L "{target=\"a\\\"b\\\\c\\nd\",protocol=\"udp\""
	HAS(t, "# TYPE sockecho_probe_rtt_seconds histogram");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"0.0001\"} 0");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"0.001\"} 3");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"0.05\"} 3");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"0.1\"} 7");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"10\"} 7");
	HAS(t, "sockecho_probe_rtt_seconds_bucket" L ",le=\"+Inf\"} 7");
	HAS(t, "sockecho_probe_rtt_seconds_sum" L "} 0.243000000");
	HAS(t, "sockecho_probe_rtt_seconds_count" L "} 7");
	HAS(t, "# TYPE sockecho_probes_sent_total counter");
	HAS(t, "sockecho_probes_sent_total" L "} 10");
	HAS(t, "sockecho_probes_received_total" L "} 7");
	HAS(t, "sockecho_probes_lost_total" L "} 2");
	HAS(t, "sockecho_probes_in_flight" L "} 1");
	HAS(t, "sockecho_probes_duplicated_total" L "} 0");
	HAS(t, "sockecho_probe_last_success_timestamp_seconds" L
	    "} 1700000000.500000000");
	HAS(t, "sockecho_probe_interval_seconds" L "} 1");
	HAS(t, "sockecho_probe_wait_seconds" L "} 0.250000000");
#undef L
	free(t);
}
END_TEST

static const struct {
	const char	*args[8];
	int		 status;
	const char	*host, *port, *err;
} cmd_cases[] = {
	{ { "-p", "h:9", NULL }, 0, "h", "9", NULL },
	{ { "-p", "[::1]:9", NULL }, 0, "[::1]", "9", NULL },
	{ { "-p", "::1", NULL }, 0, "::1", "7", NULL },
	{ { "-p", "h:x", NULL }, 0, "h:x", "7", NULL },
	{ { "-p", "h:", NULL }, 0, "h:", "7", NULL },
	{ { "-p", "h:9", "8", NULL }, 0, "h:9", "8", NULL },
	{ { "-p", "--metrics-listen", "127.0.0.1:1", "h", NULL }, 0, "h", "7",
	    NULL },
	{ { "-p", "--metrics-listen", "127.0.0.1:1", "-C", "3", "h", NULL },
	    64, NULL, NULL, "not with -C" },
	{ { "-p", "--metrics-listen", "127.0.0.1:1", "-j", "h", NULL }, 64,
	    NULL, NULL, "not with -j" },
	{ { "-p", "h", "--metrics-listen", NULL }, 64, NULL, NULL,
	    "needs a value" },
};

START_TEST(test_command_line)
{
	struct ping_opts	o;
	char			*argv[10], err[256] = "";
	int			argc = 0, i;

	argv[argc++] = strdup("sockecho");
	for (i = 0; cmd_cases[_i].args[i] != NULL; i++)
		argv[argc++] = strdup(cmd_cases[_i].args[i]);
	argv[argc] = NULL;
	ck_assert_int_eq(ping_parse(argc, argv, &o, err, sizeof(err)),
	    cmd_cases[_i].status);
	if (cmd_cases[_i].err != NULL)
		ck_assert_msg(strstr(err, cmd_cases[_i].err) != NULL, "%s", err);
	if (cmd_cases[_i].status == 0) {
		ck_assert_str_eq(o.host, cmd_cases[_i].host);
		ck_assert_str_eq(o.port, cmd_cases[_i].port);
		ck_assert_int_eq(o.quiet, o.metrics_listen != NULL);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
}
END_TEST

#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

Suite *
suite(void)
{
	Suite	*s = suite_create("prober");
	TCase	*tc = tcase_create("pure");

	tcase_add_loop_test(tc, test_parse, 0, N(parse_cases));
	tcase_add_test(tc, test_parse_too_big);
	tcase_add_loop_test(tc, test_bucket_of, 0, N(bucket_cases));
	tcase_add_test(tc, test_exposition);
	tcase_add_loop_test(tc, test_command_line, 0, N(cmd_cases));
	suite_add_tcase(s, tc);
	return s;
}
