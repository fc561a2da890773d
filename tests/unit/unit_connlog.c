/* SPDX-License-Identifier: ISC */
/* unit_connlog.c: the connection log's line and reasons; which lines get <N>. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <syslog.h>

#include <check.h>

#include "harness/check_main.h"
#include "worker/connlog.h"
#include "core/log.h"
#include "core/peerlog.h"

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

/* log_escape(): what a peer chose, as text that cannot break a line. */
static const struct {
	const char	*in;
	size_t		 n;
	bool		 all;
	size_t		 size;
	const char	*out;
} escape_cases[] = {
	{ "plain-text", 10, true, 64, "plain-text" },
	{ "plain text", 10, false, 64, "plain text" },
	/* A Unix peer's name stays one key=value field. */
	{ "x listener=unix:/a", 18, true, 64,
	    "x\\x20listener\\x3dunix:/a" },
	{ "detail=\"y\"", 10, true, 64, "detail\\x3d\\x22y\\x22" },
	{ "a b=c\"", 6, false, 64, "a b=c\"" },
	{ "a\nFORGED", 8, true, 64, "a\\x0aFORGED" },
	{ "a\nFORGED", 8, false, 64, "a\\x0aFORGED" },
	{ "cr\r\x1b[2J", 7, true, 64, "cr\\x0d\\x1b[2J" },
	{ "nul\0mid", 7, true, 64, "nul\\x00mid" },
	{ "back\\slash", 10, true, 64, "back\\x5cslash" },
	{ "back\\slash", 10, false, 64, "back\\slash" },
	{ "del\x7f", 4, true, 64, "del\\x7f" },
	{ "del\x7f", 4, false, 64, "del\\x7f" },	/* DEL is a control too */
	{ "\xc3\xa9t\xc3\xa9", 5, true, 64, "\\xc3\\xa9t\\xc3\\xa9" },
	{ "\xc3\xa9", 2, false, 64, "\xc3\xa9" },
	{ "tab\there", 8, false, 64, "tab\\x09here" },
	/* Cut before an escape that would not fit whole. */
	{ "ab\ncd", 5, true, 6, "ab" },
	{ "ab\ncd", 5, true, 7, "ab\\x0a" },
	{ "abcdef", 6, true, 4, "abc" },
	{ "", 0, true, 4, "" },
};

START_TEST(test_escape)
{
	char	out[64];
	size_t	n;

	memset(out, 'X', sizeof(out));
	n = log_escape(out, escape_cases[_i].size, escape_cases[_i].in,
	    escape_cases[_i].n, escape_cases[_i].all);
	ck_assert_str_eq(out, escape_cases[_i].out);
	ck_assert_uint_eq(n, strlen(escape_cases[_i].out));
}
END_TEST

/*
 * sockecho.conf(5): a log_level shows its own lines and those above it;
 * a journal field's value is defused like a message.
 */
START_TEST(test_level_and_field)
{
	struct log_fields	f = LOG_FIELDS_INIT;

	log_setlevel(LOG_INFO);
	ck_assert(log_enabled(LOG_INFO));
	ck_assert(log_enabled(LOG_ERR));
	ck_assert(!log_enabled(LOG_DEBUG));
	log_setlevel(LOG_WARNING);
	ck_assert(log_enabled(LOG_WARNING));
	ck_assert(!log_enabled(LOG_NOTICE));
	log_setlevel(LOG_INFO);
	log_field(&f, "REMOTE_ADDR", "%s", "a\nFORGED=1");
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.field[0], "REMOTE_ADDR=a\\x0aFORGED=1");
}
END_TEST

/* Lines allowed out of "n" tried at once, then one interval later. */
static const struct {
	uint64_t	per_second;
	unsigned	tried;
	unsigned	allowed;
	unsigned	after_ms;	/* then this much later... */
	unsigned	allowed_after;	/* ...this many more of "tried" */
} bucket_cases[] = {
	{ 10, 1000, 20, 100, 1 },	/* a burst of 2 s, then 10 a second */
	{ 10, 1000, 20, 99, 0 },
	{ 10, 1000, 20, 1000, 10 },
	{ 1, 5, 2, 1000, 1 },
	{ 1000, 5000, 2000, 1, 1 },
	{ 0, 5000, 5000, 0, 5000 },	/* 0: no limit */
};

START_TEST(test_peerlog_bucket)
{
	struct peerlog	p;
	uint64_t	t0 = 5000000;
	unsigned	i, n = 0;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < bucket_cases[_i].tried; i++)
		n += peerlog_allow(&p, PEERLOG_REFUSAL, t0,
		    bucket_cases[_i].per_second);
	ck_assert_uint_eq(n, bucket_cases[_i].allowed);
	ck_assert_uint_eq(p.cut[PEERLOG_REFUSAL], bucket_cases[_i].tried - n);
	n = 0;
	for (i = 0; i < bucket_cases[_i].tried; i++)
		n += peerlog_allow(&p, PEERLOG_WARNING,
		    t0 + bucket_cases[_i].after_ms * 1000ULL,
		    bucket_cases[_i].per_second);
	ck_assert_uint_eq(n, bucket_cases[_i].allowed_after);
	ck_assert_uint_eq(p.cut[PEERLOG_WARNING], bucket_cases[_i].tried - n);
}
END_TEST

/* A summary once the cutting has stopped for a second, or every minute. */
START_TEST(test_peerlog_summary)
{
	struct peerlog		p;
	struct peerlog_summary	s;
	uint64_t		t;
	int			i;

	memset(&p, 0, sizeof(p));
	ck_assert(!peerlog_summary(&p, 10000, &s));
	for (i = 0; i < 30; i++)
		(void)peerlog_allow(&p, PEERLOG_REFUSAL, 10000000, 10);
	(void)peerlog_allow(&p, PEERLOG_CONNLOG, 10000000, 10);
	ck_assert(!peerlog_summary(&p, 10999, &s));
	ck_assert(peerlog_summary(&p, 11000, &s));
	ck_assert_uint_eq(s.cut[PEERLOG_REFUSAL], 10);
	ck_assert_uint_eq(s.cut[PEERLOG_CONNLOG], 1);
	ck_assert_uint_eq(s.total, 11);
	ck_assert_uint_eq(s.period_ms, 1000);
	ck_assert(!peerlog_summary(&p, 20000, &s));
	/* A flood that never stops: one summary a minute. */
	for (t = 20000; t < 20000 + 2 * PEERLOG_PERIOD_MS; t += 50) {
		for (i = 0; i < 3; i++)
			(void)peerlog_allow(&p, PEERLOG_REFUSAL, t * 1000, 10);
		if (peerlog_summary(&p, t, &s))
			break;
	}
	ck_assert_uint_eq(s.period_ms, PEERLOG_PERIOD_MS);
	/*
	 * 3 lines a turn, half a line's worth back: the burst of 20 lasts
	 * 8 turns, the first cut is at 20.35 s, then 2.5 of 3 are cut.
	 */
	ck_assert_uint_eq(t, 20350 + PEERLOG_PERIOD_MS);
	ck_assert_uint_eq(s.cut[PEERLOG_REFUSAL], 3001);
}
END_TEST

/*
 * peerlog_summary_due(): quiet for a second, or a period long; a worker's
 * clock read after the master's may put the last cut (or the first)
 * ahead of "now": not quiet, no period, whatever the unsigned gap.
 */
static const struct {
	uint64_t	since_ms, last_ms, now_ms;
	bool		due;
} due_cases[] = {
	{ 0, 0, 50000, false },				/* nothing cut */
	{ 10000, 10000, 10999, false },			/* not yet quiet */
	{ 10000, 10000, 11000, true },			/* quiet */
	{ 10000, 69000, 69999, false },			/* flood, < period */
	{ 10000, 69500, 70000, true },			/* flood, a period */
	{ 10000, 10005, 10000, false },			/* last ahead */
	{ 10000, 10000, 10000, false },			/* last == now */
	{ 10005, 10005, 10000, false },			/* both ahead */
	{ 70000, UINT64_MAX, 10000, false },		/* far ahead */
	{ 1, 10, 9, false },				/* ahead, small */
};

START_TEST(test_peerlog_summary_due)
{
	ck_assert_msg(peerlog_summary_due(due_cases[_i].since_ms,
	    due_cases[_i].last_ms, due_cases[_i].now_ms) == due_cases[_i].due,
	    "row %d", _i);
}
END_TEST

/*
 * A worker cut lines 5 ms after the master read its clock: no summary at
 * the master's older "now", and one only after a real second of quiet.
 */
START_TEST(test_peerlog_summary_skew)
{
	struct peerlog		p;
	struct peerlog_summary	s;
	int			i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < 30; i++)
		(void)peerlog_allow(&p, PEERLOG_REFUSAL, 10005000, 10);
	ck_assert(!peerlog_summary(&p, 10000, &s));
	ck_assert(!peerlog_summary(&p, 10005, &s));
	ck_assert(!peerlog_summary(&p, 11004, &s));
	ck_assert(peerlog_summary(&p, 11005, &s));
	ck_assert_uint_eq(s.cut[PEERLOG_REFUSAL], 10);
	ck_assert_uint_eq(s.period_ms, 1000);
	/* One summary for the quiet period, not one per wake-up. */
	ck_assert(!peerlog_summary(&p, 11006, &s));
	ck_assert(!peerlog_summary(&p, 20000, &s));
}
END_TEST

static const struct {
	uint64_t	cut[PEERLOG_NKINDS];
	uint64_t	period_ms;
	const char	*text;
} summary_cases[] = {
	{ { 2978, 0, 0 }, 1432, "2978 lines about clients not logged in the "
	    "last 1.4 s, over log_peer_lines_per_second (2978 refusal "
	    "notices)" },
	{ { 5, 1, 2 }, 60000, "8 lines about clients not logged in the last "
	    "60.0 s, over log_peer_lines_per_second (5 refusal notices, 1 "
	    "connection log lines of unserved connections, 2 warnings about "
	    "clients' messages)" },
	{ { 0, 0, 1 }, 999, "1 line about clients not logged in the last "
	    "0.9 s, over log_peer_lines_per_second (1 warnings about "
	    "clients' messages)" },
};

START_TEST(test_peerlog_format)
{
	struct peerlog_summary	s;
	char			buf[512];
	size_t			i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < PEERLOG_NKINDS; i++) {
		s.cut[i] = summary_cases[_i].cut[i];
		s.total += s.cut[i];
	}
	s.period_ms = summary_cases[_i].period_ms;
	ck_assert_int_eq(peerlog_format(&s, buf, sizeof(buf)),
	    (int)strlen(summary_cases[_i].text));
	ck_assert_str_eq(buf, summary_cases[_i].text);
}
END_TEST

/* Only the lines of connections never served are a peer's to multiply. */
START_TEST(test_unserved)
{
	int	r;

	for (r = 0; r < CONNLOG_NREASONS; r++)
		ck_assert_msg(connlog_unserved(r) ==
		    (strncmp(connlog_reason_name(r), "refused-", 8) == 0 ||
		    strncmp(connlog_reason_name(r), "proxy-header-", 13) == 0),
		    "%s", connlog_reason_name(r));
}
END_TEST

/*
 * Whatever a caller passes, a message and its fields reach stderr with
 * no control character: one message, one line.
 */
START_TEST(test_message_defused)
{
	char	buf[512], want[128];
	int	p[2], saved;
	ssize_t	n;

	ck_assert_int_eq(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	unsetenv("JOURNAL_STREAM");
	log_init("t");
	log_setformat(LOG_FORMAT_PLAIN);
	log_warnx("one\ntwo\rthree\x1b\\");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "t[%ld]: warning: one\\x0atwo\\x0dthree"
	    "\\x1b\\\n", (long)getpid());
	ck_assert_str_eq(buf, want);
}
END_TEST

/*
 * Batched lines (a worker's connection log) are written whole, in order,
 * when the batch is flushed; a line that would just overflow the 4096
 * bytes of the batch flushes it first. The two lines here fill 4097
 * bytes: one more than fits. (Without the flush, the second is copied one
 * byte past the batch: AddressSanitizer, "make check-sanitizers", sees it.)
 */
START_TEST(test_batch_one_byte_over)
{
	static char	buf[8192], msg[2048], want[8192];
	static const char fill[] = "xyz";
	size_t		len[3] = { 100, 2000, 0 }, fixed, off = 0;
	char		head[64];
	int		p[2], saved, i;
	ssize_t		n, got = 0;

	ck_assert_int_eq(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	unsetenv("JOURNAL_STREAM");
	log_init("t");
	log_setformat(LOG_FORMAT_PLAIN);
	log_setlevel(LOG_INFO);
	snprintf(head, sizeof(head), "t[%ld]: ", (long)getpid());
	fixed = strlen(head) + 1;		/* and the newline */
	len[2] = 4097 - 3 * fixed - len[0] - len[1];
	log_batch_stderr(true);
	for (i = 0; i < 3; i++) {
		memset(msg, fill[i], len[i]);
		msg[len[i]] = '\0';
		log_info("%s", msg);
		off += (size_t)snprintf(want + off, sizeof(want) - off,
		    "%s%s\n", head, msg);
	}
	log_batch_stderr(false);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	buf[got] = '\0';
	ck_assert_uint_eq(off, 4097);
	ck_assert_uint_eq((size_t)got, 4097);
	ck_assert_str_eq(buf, want);
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
	tcase_add_loop_test(tc, test_escape, 0, nitems(escape_cases));
	tcase_add_test(tc, test_level_and_field);
	tcase_add_loop_test(tc, test_peerlog_bucket, 0, nitems(bucket_cases));
	tcase_add_loop_test(tc, test_peerlog_summary_due, 0, nitems(due_cases));
	tcase_add_test(tc, test_peerlog_summary_skew);
	tcase_add_test(tc, test_peerlog_summary);
	tcase_add_loop_test(tc, test_peerlog_format, 0, nitems(summary_cases));
	tcase_add_test(tc, test_unserved);
	tcase_add_test(tc, test_message_defused);
	tcase_add_test(tc, test_batch_one_byte_over);
	suite_add_tcase(s, tc);
	return s;
}
