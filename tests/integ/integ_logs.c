/* SPDX-License-Identifier: ISC */
/*
 * integ_logs.c: what remote peers can do to the log, against the real
 * daemon: a Unix client's abstract name full of control bytes comes out
 * escaped (no forged line), and a flood of refused sources writes fewer
 * than 100 lines plus a summary that counts the rest.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define IO_MS		5000
#define FLOOD_SOURCES	3000
#define FLOOD_MS	60000	/* the flood's bound, however slow the host */
#define LINES_MAX	100
#define FORGED		"sockechod[1]: error: FORGED LINE: "
#define FORGED_ESCAPED	"sockechod[1]:\\x20error:\\x20FORGED\\x20LINE:\\x20"

/* A Unix client bound to an abstract name of its own choosing. */
static int
connect_named(const char *path, const char *name, size_t n)
{
	struct sockaddr_un	sun, self;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&self, 0, sizeof(self));
	self.sun_family = AF_UNIX;
	ck_assert_uint_lt(n, sizeof(self.sun_path));
	memcpy(self.sun_path + 1, name, n);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&self,
	    offsetof(struct sockaddr_un, sun_path) + 1 + n), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/*
 * The name holds a newline, a carriage return, an escape sequence, a NUL
 * and a backslash: the connection log shows each as \xNN, and no line of
 * the log is the one the client wrote after its newline.
 */
START_TEST(test_abstract_name_escaped)
{
	char	path[256], name[128], body[512], in[8];
	int	fd, n;

	snprintf(path, sizeof(path), "%s/echo.sock", d.dir);
	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\", "
	    "\"unix:%s\" ];\nworkers = 1;\nlog_connections = true;\n", path);
	start(body);
	n = snprintf(name, sizeof(name), "c%ld\n" FORGED "\x1b[31m\r\\",
	    (long)getpid());
	name[n++] = '\0';
	name[n++] = 'z';
	fd = connect_named(path, name, (size_t)n);
	ck_assert_int_eq(h_echo(fd, "hi", 2, in, IO_MS), 0);
	close(fd);
	expect_log("connection peer=unix:@c", IO_MS);
	expect_log("\\x0a" FORGED_ESCAPED "\\x1b[31m\\x0d\\x5c\\x00z "
	    "listener=unix:", IO_MS);
	ck_assert_int_eq(h_log_count(&d, "\n" FORGED), 0);
	ck_assert_int_eq(h_log_count(&d, FORGED), 0);
	ck_assert(!h_log_has(&d, "\x1b"));
	ck_assert(!h_log_has(&d, "\r"));
}
END_TEST

/*
 * The name is "x listener=unix:/run/admin.sock reason=served detail=\"\"":
 * the connection log's key=value text gets no field from it, the space,
 * '=' and '"' come out as \x20, \x3d and \x22.
 */
START_TEST(test_name_forges_no_field)
{
	static const char	name[] = "x listener=unix:/run/admin.sock "
	    "reason=served detail=\"\"";
	char			path[256], body[512], in[8], needle[512];
	int			fd;

	snprintf(path, sizeof(path), "%s/echo.sock", d.dir);
	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\", "
	    "\"unix:%s\" ];\nworkers = 1;\nlog_connections = true;\n", path);
	start(body);
	fd = connect_named(path, name, sizeof(name) - 1);
	ck_assert_int_eq(h_echo(fd, "hi", 2, in, IO_MS), 0);
	close(fd);
	snprintf(needle, sizeof(needle), "connection peer=unix:@x\\x20"
	    "listener\\x3dunix:/run/admin.sock\\x20reason\\x3dserved\\x20"
	    "detail\\x3d\\x22\\x22 listener=unix:%s reason=client-closed ",
	    path);
	expect_log(needle, IO_MS);
	ck_assert_int_eq(h_log_count(&d, " listener=unix:/run/admin.sock"), 0);
	ck_assert_int_eq(h_log_count(&d, " reason=served"), 0);
	ck_assert_int_eq(h_log_count(&d, "detail=\""), 0);
}
END_TEST

/* A connection from "src" is reset at once: 1, else 0. */
static int
refused(const char *src)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	char			c;
	int			fd, ok = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sin.sin_addr);
	sin.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		sin.sin_port = htons(d.port);
		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
		pfd = (struct pollfd){ fd, POLLIN, 0 };
		/* The reset can overtake connect() itself on loopback. */
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			ok = errno == ECONNRESET;
		else if (poll(&pfd, 1, IO_MS) == 1 &&
		    recv(fd, &c, 1, MSG_DONTWAIT) == -1 && errno == ECONNRESET)
			ok = 1;
	}
	close(fd);
	return ok;
}

/* The sum of "(N KIND" over every summary line in the log. */
static unsigned long long
summarized(const char *kind)
{
	char			 line[1024], *p, needle[128];
	FILE			*fp;
	unsigned long long	 sum = 0, v;

	snprintf(needle, sizeof(needle), " %s", kind);
	ck_assert_ptr_nonnull(fp = fopen(d.log, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, "about clients not logged") == NULL ||
		    (p = strstr(line, needle)) == NULL)
			continue;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		if (sscanf(p, "%llu", &v) == 1)
			sum += v;
	}
	fclose(fp);
	return sum;
}

/*
 * 3,000 sources that allow refuses, each once (127.1.x.y on loopback),
 * one after the other as fast as they are reset: fewer than 100 lines
 * about them in all, and the summary counts every line not written. The
 * second run has the connection log on: its refused-... lines share the
 * budget.
 */
START_TEST(test_refusal_flood)
{
	const char		*log_conns = _i ? "true" : "false";
	char			 body[512], src[32];
	unsigned		 i, resets = 0;
	int			 notices, conn_lines;
	uint64_t		 start_ms, deadline = sig_monotonic_ms() + FLOOD_MS;

	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = 2;\nallow = [ \"127.0.0.1\" ];\n"
	    "log_connections = %s;\n", log_conns);
	start(body);
	start_ms = sig_monotonic_ms();
	for (i = 0; i < FLOOD_SOURCES && h_remaining_ms(deadline) > 0; i++) {
		snprintf(src, sizeof(src), "127.1.%u.%u", i / 250, i % 250 + 1);
		resets += refused(src);
	}
	ck_assert_uint_eq(resets, FLOOD_SOURCES);
	expect_log("about clients not logged", 15000);
	notices = h_log_count(&d, "connection refused: denied");
	conn_lines = h_log_count(&d, "reason=refused-denied");
	ck_assert_msg(notices + conn_lines < LINES_MAX, "%d notices, %d "
	    "connection log lines", notices, conn_lines);
	/* The last summary may come a tick after the first. */
	for (i = 0; i < 40 && summarized("refusal notices") + notices <
	    FLOOD_SOURCES; i++)
		(void)h_log_wait_count(&d, "about clients not logged", 2 + i,
		    250);
	fprintf(stderr, "refusal flood, log_connections %s: %u sources reset "
	    "in %llu ms; %d notices and %d connection log lines written; "
	    "summaries: %llu notices, %llu connection log lines not logged\n",
	    log_conns, resets, (unsigned long long)(sig_monotonic_ms() - start_ms),
	    notices, conn_lines, summarized("refusal notices"),
	    summarized("connection log lines"));
	ck_assert_uint_eq(summarized("refusal notices") + notices,
	    FLOOD_SOURCES);
	if (_i)
		ck_assert_uint_eq(summarized("connection log lines") +
		    conn_lines, FLOOD_SOURCES);
	else
		ck_assert_int_eq(conn_lines, 0);
}
END_TEST

/*
 * log_peer_lines_per_second = 1 (a burst of 2): the refusal notices of
 * 127.0.0.2 and .3 are written, those of .4 and .5 cut. Once the summary
 * says the flood is over, .5 refused again gets its notice: a notice the
 * budget cut was never given, and does not silence the source for a
 * minute.
 */
START_TEST(test_cut_notice_not_given)
{
	static const char *const	srcs[] = { "127.0.0.2", "127.0.0.3",
	    "127.0.0.4", "127.0.0.5" };
	size_t				i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "allow = [ \"127.0.0.1\" ];\nlog_peer_lines_per_second = 1;\n");
	for (i = 0; i < nitems(srcs); i++)
		ck_assert_int_eq(refused(srcs[i]), 1);
	expect_log("2 lines about clients not logged", 15000);
	ck_assert_int_eq(h_log_count(&d, "connection refused: denied"), 2);
	ck_assert_int_eq(h_log_count(&d, "127.0.0.5:"), 0);
	ck_assert_int_eq(refused("127.0.0.5"), 1);
	ck_assert_msg(h_log_wait_count(&d, "127.0.0.5:", 1, IO_MS) == 0,
	    "the notice of 127.0.0.5, cut before, is not written now");
	ck_assert_int_eq(h_log_count(&d, "connection refused: denied"), 3);
}
END_TEST

/*
 * 300 clients each send a message too large (message mode, no connection
 * log): with log_peer_lines_per_second = 5, the warnings are a burst of
 * 10 and 5 a second, and the summary counts the rest.
 */
START_TEST(test_warning_flood)
{
	char		buf[64];
	unsigned	i, closed = 0;
	int		fd, lines;
	uint64_t	deadline = sig_monotonic_ms() + FLOOD_MS;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "mode = \"message\";\nmax_message_bytes = 16;\n"
	    "log_peer_lines_per_second = 5;\n");
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 300 && h_remaining_ms(deadline) > 0; i++) {
		if ((fd = h_connect(d.host, d.port, IO_MS)) < 0)
			continue;
		if (h_send_all(fd, buf, sizeof(buf), IO_MS) == 0 &&
		    h_recv_eof(fd, IO_MS) == 0)	/* an end or a reset */
			closed++;
		close(fd);
	}
	ck_assert_uint_eq(closed, 300);
	expect_log("about clients not logged", 15000);
	lines = h_log_count(&d, "message larger than max_message_bytes");
	ck_assert_int_lt(lines, LINES_MAX);
	for (i = 0; i < 40 && summarized("warnings about") + lines < 300; i++)
		(void)h_log_wait_count(&d, "about clients not logged", 2 + i,
		    250);
	fprintf(stderr, "warning flood: %d warnings written, %llu in the "
	    "summaries\n", lines, summarized("warnings about"));
	ck_assert_uint_eq(summarized("warnings about") + lines, 300);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("logs");
	TCase	*tc = tcase_create("logs");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_add_test(tc, test_abstract_name_escaped);
	tcase_add_test(tc, test_name_forges_no_field);
	tcase_add_test(tc, test_cut_notice_not_given);
	tcase_add_loop_test(tc, test_refusal_flood, 0, 2);
	tcase_add_test(tc, test_warning_flood);
	suite_add_tcase(s, tc);
	return s;
}
