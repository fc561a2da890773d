/* SPDX-License-Identifier: ISC */
/* unit_connlog.c: the connection log's line and reasons; which lines get <N>. */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <check.h>

#include "check_main.h"
#include "connlog.h"
#include "log.h"

START_TEST(test_reason_names)
{
	ck_assert_str_eq(connlog_reason_name(CONNLOG_CLIENT_CLOSED),
	    "client-closed");
	ck_assert_str_eq(connlog_reason_name(CONNLOG_IDLE_TIMEOUT),
	    "idle-timeout");
	ck_assert_str_eq(connlog_reason_name(CONNLOG_TOO_LARGE),
	    "message-too-large");
	ck_assert_str_eq(connlog_reason_name(CONNLOG_RESET), "reset");
	ck_assert_str_eq(connlog_reason_name(CONNLOG_SHUTDOWN), "shutdown");
	ck_assert_str_eq(connlog_reason_name(CONNLOG_NREASONS), "unknown");
}
END_TEST

/* Every reason has a distinct name; refusals say so. */
START_TEST(test_reason_names_distinct)
{
	int	i, j;

	for (i = 0; i < CONNLOG_NREASONS; i++) {
		ck_assert_str_ne(connlog_reason_name(i), "unknown");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(connlog_reason_name(i),
			    connlog_reason_name(j));
	}
	ck_assert_int_eq(strncmp(connlog_reason_name(
	    CONNLOG_REFUSED_NO_MEMORY), "refused-", 8), 0);
}
END_TEST

START_TEST(test_format)
{
	struct connlog_entry	e = { "[::1]:40000", "*:7", 12, 11, 5001234,
	    CONNLOG_RESET, "Connection reset by peer" };
	char			buf[512];

	connlog_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "connection peer=[::1]:40000 listener=*:7 "
	    "reason=reset bytes_in=12 bytes_out=11 duration_ms=5001.234 "
	    "detail=\"Connection reset by peer\"");
	e.detail = NULL;
	e.duration_usec = 7;
	e.reason = CONNLOG_CLIENT_CLOSED;
	connlog_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "connection peer=[::1]:40000 listener=*:7 "
	    "reason=client-closed bytes_in=12 bytes_out=11 duration_ms=0.007");
	/* Truncated, never overrun. */
	ck_assert_int_gt(connlog_format(&e, buf, 16), 16);
	ck_assert_str_eq(buf, "connection peer");
}
END_TEST

/* Warning for what an operator should look at, info for the rest. */
static const struct {
	enum connlog_reason	reason;
	int			priority;
} priority_cases[] = {
	{ CONNLOG_CLIENT_CLOSED, LOG_INFO },
	{ CONNLOG_IDLE_TIMEOUT, LOG_INFO },
	{ CONNLOG_TOO_LARGE, LOG_WARNING },
	{ CONNLOG_OVER_BUDGET, LOG_WARNING },
	{ CONNLOG_RESET, LOG_INFO },
	{ CONNLOG_ERROR, LOG_INFO },
	{ CONNLOG_SHUTDOWN, LOG_INFO },
	{ CONNLOG_PROXY_BAD, LOG_INFO },
	{ CONNLOG_PROXY_TIMEOUT, LOG_INFO },
	{ CONNLOG_REFUSED_DENIED, LOG_INFO },
	{ CONNLOG_REFUSED_TOO_MANY, LOG_INFO },
	{ CONNLOG_REFUSED_TOO_FAST, LOG_INFO },
	{ CONNLOG_REFUSED_TABLE_FULL, LOG_INFO },
	{ CONNLOG_REFUSED_NO_MEMORY, LOG_INFO },
	{ CONNLOG_REFUSED_PROXY_UNTRUSTED, LOG_INFO },
};

START_TEST(test_priority)
{
	ck_assert_int_eq(connlog_priority(priority_cases[_i].reason),
	    priority_cases[_i].priority);
}
END_TEST

/* The table above names every reason once. */
START_TEST(test_priority_table_complete)
{
	ck_assert_uint_eq(nitems(priority_cases), CONNLOG_NREASONS);
}
END_TEST

static const struct {
	const char	*name;
	int		 format;
	bool		 plain_prefixed, stream_prefixed;
} format_cases[] = {
	{ "auto", LOG_FORMAT_AUTO, false, true },
	{ "plain", LOG_FORMAT_PLAIN, false, false },
	{ "syslog-prefix", LOG_FORMAT_SYSLOG_PREFIX, true, true },
};

START_TEST(test_format_prefix)
{
	ck_assert_int_eq(log_format_parse(format_cases[_i].name),
	    format_cases[_i].format);
	ck_assert(log_format_prefixed(format_cases[_i].format, false) ==
	    format_cases[_i].plain_prefixed);
	ck_assert(log_format_prefixed(format_cases[_i].format, true) ==
	    format_cases[_i].stream_prefixed);
}
END_TEST

START_TEST(test_format_parse_bad)
{
	ck_assert_int_eq(log_format_parse("json"), -1);
	ck_assert_int_eq(log_format_parse("Plain"), -1);
	ck_assert_int_eq(log_format_parse(""), -1);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("connlog");
	TCase	*tc = tcase_create("connlog");

	tcase_add_test(tc, test_reason_names);
	tcase_add_test(tc, test_reason_names_distinct);
	tcase_add_test(tc, test_format);
	tcase_add_loop_test(tc, test_priority, 0, nitems(priority_cases));
	tcase_add_test(tc, test_priority_table_complete);
	tcase_add_loop_test(tc, test_format_prefix, 0, nitems(format_cases));
	tcase_add_test(tc, test_format_parse_bad);
	suite_add_tcase(s, tc);
	return s;
}
