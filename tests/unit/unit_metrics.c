/* SPDX-License-Identifier: ISC */
/* unit_metrics.c: metrics.c and metrics_http.c: the exposition, exit causes, requests. */
#include "build-config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "master/metrics.h"
#include "master/metrics_http.h"
#include "shm/udp_policy.h"

#define EXITED(code)	(((code) & 0xff) << 8)
#define SIGNALED(sig)	((sig) & 0x7f)

static const struct cause_case {
	int	wstatus;
	bool	asked, hung, deadline;
	enum metrics_exit_cause want;
} cause_cases[] = {
	{ EXITED(0), true, false, false, METRICS_EXIT_ASKED },
	{ SIGNALED(SIGTERM), true, false, false, METRICS_EXIT_ASKED },
	{ EXITED(1), false, false, false, METRICS_EXIT_FAILED },
	{ EXITED(0), false, false, false, METRICS_EXIT_FAILED }, /* unasked */
	{ SIGNALED(SIGSEGV), false, false, false, METRICS_EXIT_CRASHED },
	{ SIGNALED(SIGKILL), false, false, false, METRICS_EXIT_CRASHED },
	{ SIGNALED(SIGKILL), false, true, false, METRICS_EXIT_HUNG },
	{ SIGNALED(SIGKILL), true, true, false, METRICS_EXIT_HUNG },
	{ SIGNALED(SIGKILL), true, false, true, METRICS_EXIT_DEADLINE },
};

START_TEST(test_exit_cause)
{
	const struct cause_case	*c = &cause_cases[_i];

	ck_assert_int_eq(metrics_exit_cause(c->wstatus, c->asked, c->hung,
	    c->deadline), c->want);
}
END_TEST

static const struct parse_case {
	const char		*req;
	enum metrics_http_verdict want;
} parse_cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", METRICS_HTTP_GET },
	{ "GET /metrics HTTP/1.0\n\n", METRICS_HTTP_GET },
	{ "GET /metrics?x=1 HTTP/1.1\r\n\r\n", METRICS_HTTP_GET },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n", METRICS_HTTP_HEAD },
	{ "GET /metricsx HTTP/1.1\r\n\r\n", METRICS_HTTP_NOT_FOUND },
	{ "GET / HTTP/1.1\r\n\r\n", METRICS_HTTP_NOT_FOUND },
	{ "GET /metric HTTP/1.1\r\n\r\n", METRICS_HTTP_NOT_FOUND },
	{ "POST /metrics HTTP/1.1\r\n\r\n", METRICS_HTTP_BAD_METHOD },
	{ "PUT /metrics HTTP/1.1\r\n\r\n", METRICS_HTTP_BAD_METHOD },
	{ "HEAP /metrics HTTP/1.1\r\n\r\n", METRICS_HTTP_BAD_METHOD },
	{ "GETS /metrics HTTP/1.1\r\n\r\n", METRICS_HTTP_BAD_METHOD },
	{ "GET /metrics\r\n\r\n", METRICS_HTTP_BAD_REQUEST },
	{ "GET /metrics SPDY/3\r\n\r\n", METRICS_HTTP_BAD_REQUEST },
	{ "GET  HTTP/1.1\r\n\r\n", METRICS_HTTP_BAD_REQUEST },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", METRICS_HTTP_MORE },
	{ "GET /metr", METRICS_HTTP_MORE },
	{ "", METRICS_HTTP_MORE },
};

START_TEST(test_parse)
{
	const struct parse_case	*c = &parse_cases[_i];

	ck_assert_int_eq(metrics_http_parse(c->req, strlen(c->req), 4096),
	    c->want);
}
END_TEST

START_TEST(test_parse_bounds)
{
	char	buf[64];

	memset(buf, 'a', sizeof(buf));
	/* No end of headers within the limit: too large, not "more". */
	ck_assert_int_eq(metrics_http_parse(buf, sizeof(buf), sizeof(buf)),
	    METRICS_HTTP_TOO_LARGE);
	ck_assert_int_eq(metrics_http_parse(buf, sizeof(buf) - 1, sizeof(buf)),
	    METRICS_HTTP_MORE);
	memcpy(buf, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	ck_assert_int_eq(metrics_http_parse(buf, 25, 24),
	    METRICS_HTTP_TOO_LARGE);
	ck_assert_int_eq(metrics_http_parse(buf, 25, 25), METRICS_HTTP_GET);
}
END_TEST

static struct metrics_snapshot
snapshot(const struct metrics_worker *w, size_t nw)
{
	struct metrics_snapshot	s;

	memset(&s, 0, sizeof(s));
	s.version = "9.8.7";
	s.accepted = 42;
	s.open = 2;
	s.bytes_in = 1000;
	s.bytes_out = 999;
	s.refused_deny = 7;
	s.refused_limit = 8;
	s.proxy[SCOREBOARD_PROXY_OK] = 11;
	s.proxy[SCOREBOARD_PROXY_UNTRUSTED] = 3;
	s.udp.received = 60;
	s.udp.echoed = 50;
	s.udp.dropped[UDP_DROP_BROADCAST] = 6;
	s.udp.dropped[UDP_DROP_LOOP] = 4;
	s.stamp.received = 30;
	s.stamp.echoed = 21;
	s.stamp.malformed = 5;
	s.stamp.dropped[UDP_DROP_CLIENT_RATE] = 4;
	s.stamp.tlv_unknown = 3;
	s.stamp.tlv_malformed = 2;
	s.c.worker_starts = 5;
	s.c.worker_exits[METRICS_EXIT_CRASHED] = 1;
	s.c.worker_exits[METRICS_EXIT_HUNG] = 1;
	s.c.reloads_ok = 3;
	s.c.reloads_failed = 4;
	s.workers_configured = 2;
	s.workers_live = 3;
	s.generation = 4;
	s.workers = w;
	s.nworkers = nw;
	return s;
}

/* Every line the exposition must have, exactly. */
static const char *const want_lines[] = {
	"# TYPE sockechod_build_info gauge",
	"sockechod_build_info{version=\"9.8.7\"} 1",
	"# TYPE sockechod_connections_accepted_total counter",
	"sockechod_connections_accepted_total 42",
	"# TYPE sockechod_connections_open gauge",
	"sockechod_connections_open 2",
	"# TYPE sockechod_connections_refused_total counter",
	"sockechod_connections_refused_total{reason=\"deny\"} 7",
	"sockechod_connections_refused_total{reason=\"limit\"} 8",
	"# TYPE sockechod_proxy_headers_total counter",
	"sockechod_proxy_headers_total{result=\"ok\"} 11",
	"sockechod_proxy_headers_total{result=\"bad\"} 0",
	"sockechod_proxy_headers_total{result=\"timeout\"} 0",
	"sockechod_proxy_headers_total{result=\"untrusted\"} 3",
	"sockechod_sessions_completed_total 40",
	"sockechod_received_bytes_total 1000",
	"sockechod_sent_bytes_total 999",
	"# TYPE sockechod_stamp_received_packets_total counter",
	"sockechod_stamp_received_packets_total 30",
	"sockechod_stamp_reflected_packets_total 21",
	"sockechod_stamp_dropped_packets_total{reason=\"malformed\"} 5",
	"sockechod_stamp_dropped_packets_total{reason=\"client_rate\"} 4",
	"sockechod_stamp_dropped_packets_total{reason=\"loop\"} 0",
	"sockechod_stamp_tlvs_total{flag=\"unknown\"} 3",
	"sockechod_stamp_tlvs_total{flag=\"malformed\"} 2",
	"# TYPE sockechod_udp_received_datagrams_total counter",
	"sockechod_udp_received_datagrams_total 60",
	"# TYPE sockechod_udp_echoed_datagrams_total counter",
	"sockechod_udp_echoed_datagrams_total 50",
	"# TYPE sockechod_udp_dropped_datagrams_total counter",
	"sockechod_udp_dropped_datagrams_total{reason=\"port\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"self\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"source\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"group\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"broadcast\"} 6",
	"sockechod_udp_dropped_datagrams_total{reason=\"loop\"} 4",
	"sockechod_udp_dropped_datagrams_total{reason=\"denied\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"client_rate\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"global_rate\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"truncated\"} 0",
	"sockechod_udp_dropped_datagrams_total{reason=\"send_failed\"} 0",
	"sockechod_worker_starts_total 5",
	"# TYPE sockechod_worker_exits_total counter",
	"sockechod_worker_exits_total{cause=\"asked\"} 0",
	"sockechod_worker_exits_total{cause=\"failed\"} 0",
	"sockechod_worker_exits_total{cause=\"crashed\"} 1",
	"sockechod_worker_exits_total{cause=\"hung\"} 1",
	"sockechod_worker_exits_total{cause=\"deadline\"} 0",
	"sockechod_hung_worker_kills_total 1",
	"sockechod_reloads_total{result=\"ok\"} 3",
	"sockechod_reloads_total{result=\"failed\"} 4",
	"sockechod_workers_configured 2",
	"sockechod_workers_live 3",
	"sockechod_generation 4",
	"sockechod_worker_connections_open{slot=\"0\",generation=\"4\"} 1",
	"sockechod_worker_connections_open{slot=\"7\",generation=\"3\"} 1",
	"sockechod_worker_connections_accepted_total{slot=\"7\",generation=\"3\"} 30",
	"sockechod_worker_received_bytes_total{slot=\"0\",generation=\"4\"} 100",
	"sockechod_worker_sent_bytes_total{slot=\"7\",generation=\"3\"} 800",
};

static bool
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

START_TEST(test_format)
{
	static const struct metrics_worker w[] = {
		{ 0, 4, 1, 12, 100, 99 },
		{ 7, 3, 1, 30, 900, 800 },
	};
	struct metrics_snapshot	 s = snapshot(w, 2);
	char			 buf[16384], *p;
	int			 len;
	size_t			 i, help = 0, type = 0;

	len = metrics_format(&s, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)len);
	ck_assert_int_eq(buf[len - 1], '\n');
	for (i = 0; i < nitems(want_lines); i++)
		ck_assert_msg(has_line(buf, want_lines[i]), "no line \"%s\" in:\n%s",
		    want_lines[i], buf);
	/* One HELP and one TYPE for each of the 26 families. */
	for (p = buf; (p = strstr(p, "# HELP ")) != NULL; p++)
		help++;
	for (p = buf; (p = strstr(p, "# TYPE ")) != NULL; p++)
		type++;
	ck_assert_uint_eq(help, 26);
	ck_assert_uint_eq(type, 26);
}
END_TEST

START_TEST(test_format_does_not_fit)
{
	struct metrics_snapshot	 s = snapshot(NULL, 0);
	char			 buf[16384];
	int			 len;

	len = metrics_format(&s, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	/* One byte short (the terminating NUL) fails, exactly enough works. */
	ck_assert_int_eq(metrics_format(&s, buf, (size_t)len), -1);
	ck_assert_int_eq(metrics_format(&s, buf, (size_t)len + 1), len);
	ck_assert_int_eq(metrics_format(&s, buf, 0), -1);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("metrics");

	tcase_add_loop_test(tc, test_exit_cause, 0, nitems(cause_cases));
	tcase_add_loop_test(tc, test_parse, 0, nitems(parse_cases));
	tcase_add_test(tc, test_parse_bounds);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_does_not_fit);
	suite_add_tcase(s, tc);
	return s;
}
