/* SPDX-License-Identifier: ISC */
/*
 * integ_ping.c: sockecho --ping against the real sockechod over loopback
 * (TCP, both styles, and UDP), and against test servers that delay, alter,
 * stay silent or lose, duplicate and reorder: the counts, the reported
 * times, the summary, SIGINT and SIGQUIT, the JSON and the exit statuses.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"
#include "integ/testserv.h"

#define OUT_BYTES	65536

static char	out[OUT_BYTES], err[OUT_BYTES], port[16];

static int
ping(const char *const *args)
{
	const char	*argv[24];
	size_t		 n = 0, outlen;

	argv[n++] = h_env("SOCKECHO", "../../src/sockecho");
	argv[n++] = "--ping";
	while (*args != NULL && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, NULL, 0, out, sizeof(out), &outlen, err,
	    sizeof(err), 60000);
}

static int
count(const char *text, const char *needle)
{
	int	n = 0;

	while ((text = strstr(text, needle)) != NULL) {
		n++;
		text += strlen(needle);
	}
	return n;
}

#define HAS(text, needle) \
	ck_assert_msg(strstr(text, needle) != NULL, "no \"%s\" in:\n%s%s", \
	    needle, out, err)

/* The summary's min/avg/max/mdev of "what" (rtt or connect). */
static void
durations(const char *what, double v[4])
{
	char		 key[64];
	const char	*s;

	snprintf(key, sizeof(key), "\n%s min/avg/max/mdev = ", what);
	s = strstr(out, key);
	ck_assert_msg(s != NULL, "no %s line in:\n%s", what, out);
	ck_assert_int_eq(sscanf(s + strlen(key), "%lf/%lf/%lf/%lf ms", &v[0],
	    &v[1], &v[2], &v[3]), 4);
}

static void
start_tcp_and_udp(void)
{
	start("listen = [ \"127.0.0.1:%P\", \"udp:127.0.0.1:%P\" ];\n"
	    "workers = 1;\n");
	snprintf(port, sizeof(port), "%u", d.port);
}

START_TEST(test_tcp_counts_and_summary)
{
	char	line[128];
	int	seq;

	start_tcp_and_udp();
	{
		const char *a[] = { "-C", "5", "-i", "0.02", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	snprintf(line, sizeof(line), "PING 127.0.0.1 (127.0.0.1:%s): 64 bytes "
	    "per probe, tcp echo, one connection\n", port);
	ck_assert_msg(strncmp(out, line, strlen(line)) == 0, "%s", out);
	for (seq = 1; seq <= 5; seq++) {
		snprintf(line, sizeof(line), "64 bytes from 127.0.0.1:%s: "
		    "seq=%d time=", port, seq);
		ck_assert_int_eq(count(out, line), 1);
	}
	ck_assert_int_eq(count(out, " bytes from "), 5);
	snprintf(line, sizeof(line), "\n--- 127.0.0.1:%s echo ping statistics "
	    "---\n5 probes transmitted, 5 received, 0%% loss, time ", port);
	HAS(out, line);
	HAS(out, "\nrtt p50 = ");
	ck_assert_int_eq(count(out, "p90"), 0);	/* not with 5 probes */
	/* Larger probes; and quiet: the first line and the summary only. */
	{
		const char *a[] = { "-q", "-C", "10", "-i", "0.01", "-s",
		    "100000", "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	ck_assert_int_eq(count(out, " bytes from "), 0);
	HAS(out, "100000 bytes per probe");
	HAS(out, "10 probes transmitted, 10 received, 0% loss");
	HAS(out, "\nrtt p50/p90 = ");
}
END_TEST

START_TEST(test_tcp_connection_per_probe)
{
	double	c[4], r[4];

	start_tcp_and_udp();
	{
		const char *a[] = { "--connect", "-C", "3", "-i", "0.02",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	HAS(out, "tcp echo, a connection per probe");
	ck_assert_int_eq(count(out, " connect="), 3);
	HAS(out, "3 probes transmitted, 3 received, 0% loss");
	durations("connect", c);
	durations("rtt", r);
	ck_assert(c[0] > 0 && c[0] <= c[1] && c[1] <= c[2]);
	{
		const char *a[] = { "-N", "-C", "2", "-i", "0.02", "-s", "1",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	HAS(out, "1 bytes from 127.0.0.1:");
}
END_TEST

/* The test server echoes 60 ms late: every reported time includes that. */
START_TEST(test_reported_times_include_the_delay)
{
	enum { DELAY_MS = 60, TOLERANCE_MS = 100 };
	double		 v[4], c[4];
	const char	*s;
	unsigned	 p;
	pid_t		 pid = testserv_start(TESTSERV_SLOW, DELAY_MS, &p);
	double		 t;

	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-C", "4", "-i", "0.01", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	durations("rtt", v);
	ck_assert_msg(v[0] >= DELAY_MS && v[2] < DELAY_MS + TOLERANCE_MS,
	    "%s", out);
	for (s = out; (s = strstr(s, " time=")) != NULL; s++) {
		t = strtod(s + 6, NULL);
		ck_assert_msg(t >= DELAY_MS && t < DELAY_MS + TOLERANCE_MS,
		    "%s", out);
	}
	/* With --connect: the delay is in the echo, not in the connect. */
	{
		const char *a[] = { "-N", "-C", "3", "-i", "0.01", "127.0.0.1",
		    port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	durations("rtt", v);
	durations("connect", c);
	ck_assert_msg(v[0] >= DELAY_MS && v[2] < DELAY_MS + TOLERANCE_MS,
	    "%s", out);
	ck_assert_msg(c[2] < DELAY_MS, "%s", out);
	testserv_stop(pid);
}
END_TEST

START_TEST(test_altered_byte_is_a_mismatch)
{
	unsigned	p;
	pid_t		pid = testserv_start(TESTSERV_ALTER, 20, &p);

	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-C", "3", "-i", "0.01", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(ping(a), 1);
	}
	/* Each probe goes on a new connection after a mismatch: all three. */
	ck_assert_int_eq(count(out, "the echo differs from the probe at byte "
	    "20\n"), 3);
	HAS(out, "3 probes transmitted, 0 received, 3 mismatched, 0% loss");
	{
		const char *a[] = { "-N", "-C", "2", "-i", "0.01", "-s", "21",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 1);
	}
	HAS(out, "2 probes transmitted, 0 received, 2 mismatched");
	{
		const char *a[] = { "-N", "-C", "2", "-i", "0.01", "-s", "20",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 0);	/* byte 20 is not in it */
	}
	testserv_stop(pid);
}
END_TEST

START_TEST(test_silence_timeout_and_deadline)
{
	unsigned	p;
	pid_t		pid = testserv_start(TESTSERV_SILENT, 0, &p);

	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-C", "2", "-i", "0.01", "-w", "0.2",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 1);
	}
	ck_assert_int_eq(count(out, ": no echo within 0.200 s (0 of 64 bytes "
	    "back)\n"), 2);
	HAS(out, "2 probes transmitted, 0 received, 100% loss");
	testserv_stop(pid);
	/* The deadline ends a run before its count: exit 1, as ping(8). */
	start_tcp_and_udp();
	{
		const char *a[] = { "-C", "100", "-i", "0.1", "-t", "0.35",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 1);
	}
	HAS(out, "4 probes transmitted, 4 received, 0% loss");
	{
		const char *a[] = { "-i", "0.1", "-t", "0.35", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(ping(a), 0);	/* no count: all came back */
	}
}
END_TEST

START_TEST(test_exit_statuses)
{
	snprintf(port, sizeof(port), "%u", h_free_port("127.0.0.1"));
	{
		const char *a[] = { "-C", "1", "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 69);
	}
	HAS(err, "cannot connect to 127.0.0.1 port ");
	ck_assert_str_eq(out, "");
	{
		const char *a[] = { "-C", "1", "no.such.host.invalid", NULL };

		ck_assert_int_eq(ping(a), 68);
	}
	{
		const char *a[] = { "-c", "3", "localhost", NULL };

		ck_assert_int_eq(ping(a), 64);
	}
	HAS(err, "the probe count is -C");
	{	/* sockecho(1): COUNT and BYTES start at 1 */
		const char *a[] = { "-C", "0", "localhost", NULL };

		ck_assert_int_eq(ping(a), 64);
	}
	HAS(err, "-C: expected a count from 1 to ");
	{	/* HOST [PORT]: a third operand is a usage error */
		const char *a[] = { "-C", "1", "localhost", "7", "x", NULL };

		ck_assert_int_eq(ping(a), 64);
	}
	HAS(err, "expected HOST [PORT] or unix:/PATH");
	{
		const char *a[] = { "-h", NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	HAS(out, "--count COUNT");
}
END_TEST

/* A ping without a count, its output read as it comes. */
struct bg {
	pid_t	pid;
	int	out, err;
	char	obuf[OUT_BYTES], ebuf[4096];
	size_t	olen, elen;
};

static void
bg_start(struct bg *b, const char *const *args)
{
	const char	*argv[16];
	int		 po[2], pe[2];
	size_t		 n = 0;

	memset(b, 0, sizeof(*b));
	argv[n++] = h_env("SOCKECHO", "../../src/sockecho");
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(po, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pe, O_CLOEXEC), 0);
	if ((b->pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	b->out = po[0];
	b->err = pe[0];
}

static void
drain(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t	n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (*len < size - 1 && (n = read(fd, buf + *len,
	    size - 1 - *len)) > 0)
		*len += n;
	buf[*len] = '\0';
}

/* Wait until stdout (or stderr) holds "needle". */
static void
bg_wait(struct bg *b, bool on_err, const char *needle)
{
	uint64_t	deadline = sig_monotonic_ms() + 20000;
	struct pollfd	pfd[2];

	while (strstr(on_err ? b->ebuf : b->obuf, needle) == NULL) {
		ck_assert_msg(sig_monotonic_ms() < deadline, "no \"%s\" in:\n%s%s",
		    needle, b->obuf, b->ebuf);
		pfd[0] = (struct pollfd){ b->out, POLLIN, 0 };
		pfd[1] = (struct pollfd){ b->err, POLLIN, 0 };
		poll(pfd, 2, 1000);
		drain(b->out, b->obuf, sizeof(b->obuf), &b->olen);
		drain(b->err, b->ebuf, sizeof(b->ebuf), &b->elen);
	}
}

START_TEST(test_sigquit_running_summary_sigint_summary)
{
	struct bg	*b = malloc(sizeof(*b));
	char		 line[128];
	int		 status, n;

	start_tcp_and_udp();
	{
		const char *a[] = { "-p", "-i", "0.05", "127.0.0.1", port,
		    NULL };

		bg_start(b, a);
	}
	bg_wait(b, false, "seq=3 ");
	kill(b->pid, SIGQUIT);
	bg_wait(b, true, " probes, 0% loss, min/avg/max = ");
	ck_assert_int_eq(kill(b->pid, 0), 0);	/* it goes on */
	bg_wait(b, false, "seq=5 ");
	kill(b->pid, SIGINT);
	bg_wait(b, false, "\nrtt min/avg/max/mdev = ");
	ck_assert_int_eq(waitpid(b->pid, &status, 0), b->pid);
	drain(b->out, b->obuf, sizeof(b->obuf), &b->olen);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The summary counts exactly the probes shown. */
	n = count(b->obuf, " bytes from ");
	ck_assert_int_ge(n, 5);
	snprintf(line, sizeof(line), "\n%d probes transmitted, %d received, "
	    "0%% loss, time ", n, n);
	ck_assert_msg(strstr(b->obuf, line) != NULL, "%s", b->obuf);
	close(b->out);
	close(b->err);
	free(b);
}
END_TEST

START_TEST(test_json_parses)
{
	const char	*tool[] = { "/bin/sh", "-c", "exec python3 -c 'import "
	    "json, sys; d = json.load(sys.stdin); print(d[\"transmitted\"], "
	    "d[\"received\"], d[\"style\"], d[\"rtt_ms\"][\"p50\"] > 0, "
	    "d[\"connect_ms\"][\"p90\"])'", NULL };
	char		 doc[OUT_BYTES], res[256], e[1024];
	size_t		 len, rlen;

	if (system("python3 -c '' 2>/dev/null") != 0)
		ck_abort_msg("python3 is needed (tools/setup installs it)");
	start_tcp_and_udp();
	{
		const char *a[] = { "--json", "-N", "-C", "3", "-i", "0.01",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	ck_assert_msg(out[0] == '{', "%s", out);	/* nothing but JSON */
	len = strlen(out);
	memcpy(doc, out, len);
	ck_assert_int_eq(h_run(tool, doc, len, res, sizeof(res), &rlen, e,
	    sizeof(e), 30000), 0);
	ck_assert_str_eq(res, "3 3 connect True None\n");
}
END_TEST

START_TEST(test_udp_counts_loss_duplicates_reordering)
{
	unsigned	p;
	pid_t		pid;

	start_tcp_and_udp();
	{
		const char *a[] = { "-u", "-C", "5", "-i", "0.02", "127.0.0.1",
		    port, NULL };

		ck_assert_int_eq(ping(a), 0);
	}
	HAS(out, "udp echo");
	ck_assert_int_eq(count(out, " bytes from "), 5);
	HAS(out, "5 probes transmitted, 5 received, 0% loss");
	/* seq % 6: 1 dropped, 2 twice, 3 after 4, 5 altered (testserv.c). */
	pid = testserv_start(TESTSERV_UDP_CHAOS, 0, &p);
	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-u", "-C", "12", "-i", "0.02", "-w", "0.5",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(ping(a), 1);
	}
	HAS(out, "12 probes transmitted, 8 received, +2 duplicates, "
	    "2 mismatched, 2 reordered, 16.6667% loss");
	ck_assert_int_eq(count(out, " (DUP!)\n"), 2);
	ck_assert_int_eq(count(out, " (reordered)\n"), 2);
	ck_assert_int_eq(count(out, "differs from the probe at byte 30\n"), 2);
	testserv_stop(pid);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("sockecho --ping");
	TCase	*tc = tcase_create("tcp");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_tcp_counts_and_summary);
	tcase_add_test(tc, test_tcp_connection_per_probe);
	tcase_add_test(tc, test_reported_times_include_the_delay);
	tcase_add_test(tc, test_altered_byte_is_a_mismatch);
	tcase_add_test(tc, test_silence_timeout_and_deadline);
	tcase_add_test(tc, test_exit_statuses);
	tcase_add_test(tc, test_sigquit_running_summary_sigint_summary);
	tcase_add_test(tc, test_json_parses);
	tcase_add_test(tc, test_udp_counts_loss_duplicates_reordering);
	suite_add_tcase(s, tc);
	return s;
}
