/* SPDX-License-Identifier: ISC */
/*
 * integ_bulk.c: sockecho --bulk against the real sockechod over loopback
 * (a 16 MiB payload byte-exact, -P 4 summed, --json-stream parsed by
 * python3, --ping's idle and loaded table), against test servers that
 * alter a byte, stop reading or stop echoing (the offset, "no progress",
 * the exit statuses, within the deadline), and against socat and xinetd
 * where they are installed.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

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

#define OUT_BYTES	(1 << 18)

static char	out[OUT_BYTES], err[OUT_BYTES], port[16];

static int
bulk(const char *const *args)
{
	const char	*argv[32];
	size_t		 n = 0, outlen;

	argv[n++] = h_env("SOCKECHO", "../../src/sockecho");
	argv[n++] = "--bulk";
	while (*args != NULL && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, NULL, 0, out, sizeof(out), &outlen, err,
	    sizeof(err), 60000);
}

#define HAS(text, needle) \
	ck_assert_msg(strstr(text, needle) != NULL, "no \"%s\" in:\n%s%s", \
	    needle, out, err)

static void
start_daemon(void)
{
	start("listen = [ \"127.0.0.1:%P\", \"udp:127.0.0.1:%P\" ];\n"
	    "workers = 2;\n");
	snprintf(port, sizeof(port), "%u", d.port);
}

START_TEST(test_16mib_round_trips_byte_exact)
{
	start_daemon();
	{
		const char *a[] = { "--bytes", "16M", "--seed", "7", "--json-stream",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	HAS(out, "\"type\":\"end\"");
	HAS(out, "\"sum\":{\"bytes_out\":16777216,\"bytes_back\":16777216,");
	HAS(out, "\"result\":\"ok\"");
	/* Text: the totals say every byte came back checked. */
	{
		const char *a[] = { "-n", "16M", "--length", "1000", "127.0.0.1",
		    port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	HAS(out, "1 stream, 16777216 bytes each, 1000 bytes a write");
	HAS(out, "- - - totals, every byte back and checked\n");
}
END_TEST

/*
 * -P 4 for a second: four streams a line each and their sum, as JSON that
 * python3 reads, each interval and the end with the documented fields, and
 * the sum the sum of the streams.
 */
static const char json_check[] =
    "import json, sys\n"
    "objs = [json.loads(l) for l in sys.stdin.read().splitlines()]\n"
    "assert len(objs) >= 2, objs\n"
    "assert [o['type'] for o in objs][-1] == 'end'\n"
    "assert all(o['type'] == 'interval' for o in objs[:-1])\n"
    "for o in objs:\n"
    "    assert len(o['streams']) == 4\n"
    "    assert [s['id'] for s in o['streams']] == [1, 2, 3, 4]\n"
    "    for k in ('bytes_out', 'bytes_back', 'out_MBps', 'back_MBps',\n"
    "              'retransmits'):\n"
    "        d = abs(o['sum'][k] - sum(s[k] for s in o['streams']))\n"
    "        assert d <= 0.01 * max(1, o['sum'][k]), (k, o)\n"
    "    for s in o['streams']:\n"
    "        assert 'rtt_ms' in s\n"
    "    assert o['end'] > o['start'] and o['cpu_pct'] >= 0\n"
    "e = objs[-1]\n"
    "assert e['result'] == 'ok' and e['target'].startswith('127.0.0.1:')\n"
    "assert e['sum']['bytes_out'] == e['sum']['bytes_back'] > 0\n"
    "assert all(s['bytes_back'] > 0 for s in e['streams'])\n"
    "assert sum(o['sum']['bytes_back'] for o in objs[:-1]) == "
    "e['sum']['bytes_back']\n";

START_TEST(test_parallel_sum_and_json_stream)
{
	char	pyout[4096], pyerr[4096];
	size_t	len;

	start_daemon();
	{
		const char *a[] = { "-P", "4", "-t", "1.2", "-i", "0.3",
		    "--json-stream", "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return;
	{
		const char *argv[] = { "/bin/sh", "-c",
		    "exec python3 -c \"$1\"", "sh", json_check, NULL };

		ck_assert_msg(h_run(argv, out, strlen(out), pyout,
		    sizeof(pyout), &len, pyerr, sizeof(pyerr), 20000) == 0,
		    "%s\n%s", out, pyerr);
	}
	/*
	 * Text: the [SUM] line under the four streams. -W 1 over 2 s: a
	 * healthy stream, its echo coming all the time, never stalls.
	 */
	{
		const char *a[] = { "-P", "4", "--time", "2", "--stall", "1", "-i", "0",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	HAS(out, "4 streams, 2.00 s");
	HAS(out, "\n[  4] ");
	HAS(out, "\n[SUM] ");
}
END_TEST

/* A byte flipped at offset 1000003 is found there: exit 1, the offset. */
START_TEST(test_corrupting_server_is_caught_at_the_offset)
{
	unsigned	p;
	pid_t		pid = testserv_start(TESTSERV_ALTER, 1000003, &p);

	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-n", "4M", "--json-stream", "127.0.0.1",
		    port, NULL };

		ck_assert_int_eq(bulk(a), 1);
	}
	HAS(err, "stream 1: the echo differs from what was sent at byte "
	    "1000003\n");
	HAS(out, "\"result\":\"mismatch\"");
	HAS(out, "\"stream\":1,\"offset\":1000003");
	testserv_stop(pid);
}
END_TEST

/* A server that stops reading, or reads and stops echoing: exit 3 soon. */
START_TEST(test_stalled_server_is_reported_not_hung)
{
	static const enum testserv_kind	kinds[] = { TESTSERV_DEAF,
	    TESTSERV_SILENT };
	uint64_t			t0;
	unsigned			p, i;
	pid_t				pid;

	for (i = 0; i < 2; i++) {
		pid = testserv_start(kinds[i], 0, &p);
		snprintf(port, sizeof(port), "%u", p);
		t0 = sig_monotonic_ms();
		{
			const char *a[] = { "-t", "30", "-W", "1", "-i", "0",
			    "127.0.0.1", port, NULL };

			ck_assert_int_eq(bulk(a), 3);
		}
		/* -W 1 after the buffers fill: well before -t 30. */
		ck_assert_msg(sig_monotonic_ms() - t0 < 10000, "took %llu ms",
		    (unsigned long long)(sig_monotonic_ms() - t0));
		HAS(err, "sockecho: stream 1: no progress for 1.");
		HAS(err, i == 0 ? "came back (the server stopped reading)" :
		    "came back (the server stopped echoing)");
		HAS(out, "- - - totals\n");
		testserv_stop(pid);
	}
}
END_TEST

/*
 * A server that gives the echo back a byte at a time, each inside -W:
 * progress never stops, but once sending stops the echo owed must be
 * back within as long as the sending took (or -W): exit 3, not a run of
 * half an hour (found in review: it never ended).
 */
START_TEST(test_trickling_server_is_reported_not_hung)
{
	uint64_t	t0;
	unsigned	p;
	pid_t		pid = testserv_start(TESTSERV_TRICKLE, 300, &p);

	snprintf(port, sizeof(port), "%u", p);
	t0 = sig_monotonic_ms();
	{
		const char *a[] = { "-t", "1", "-W", "1", "-w", "4K", "-i", "0",
		    "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 3);
	}
	ck_assert_msg(sig_monotonic_ms() - t0 < 10000, "took %llu ms",
	    (unsigned long long)(sig_monotonic_ms() - t0));
	HAS(err, "of echo still owed");
	HAS(err, "after sending stopped (the server gives them back too "
	    "slowly)");
	testserv_stop(pid);
}
END_TEST

/* Usage errors exit 64, nobody listening 69. */
START_TEST(test_usage_and_refused)
{
	unsigned	p;

	{
		const char *a[] = { "-P", "0", "127.0.0.1", NULL };

		ck_assert_int_eq(bulk(a), 64);
	}
	HAS(err, "-P: expected 1 to 128 connections");
	{
		const char *a[] = { "-p", "-n", "1M", "127.0.0.1", NULL };

		ck_assert_int_eq(bulk(a), 64);
	}
	{
		const char *a[] = { "-u", "127.0.0.1", NULL };

		ck_assert_int_eq(bulk(a), 64);
	}
	p = h_free_port("127.0.0.1");
	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-t", "1", "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 69);
	}
	HAS(err, "cannot connect to 127.0.0.1 port ");
}
END_TEST

/* --ping on loopback: the idle and the loaded rows, the load beside. */
START_TEST(test_ping_idle_and_loaded_side_by_side)
{
	start_daemon();
	{
		const char *a[] = { "-p", "--idle", "0.5", "--ping-interval",
		    "0.05", "-t", "1", "-i", "0", "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	HAS(out, "latency under load (ms):\nphase    sent  lost      min"
	    "      p50      p90      p99      max\nidle    ");
	HAS(out, "\nloaded  ");
	HAS(out, "p50 under load: ");
	HAS(out, " MB/s out, ");
	{
		const char *a[] = { "-p", "-u", "--idle", "0.5",
		    "--ping-interval", "0.05", "-t", "1", "-i", "0",
		    "--json-stream", "127.0.0.1", port, NULL };

		ck_assert_int_eq(bulk(a), 0);
	}
	HAS(out, "\"idle\":{\"sent\":");
	HAS(out, "\"loaded\":{\"sent\":");
	HAS(out, "\"p50_ms\":");
}
END_TEST

/* Connect retries with a deadline until the peer listens (10 ms apart). */
static void
wait_listening(unsigned p)
{
	uint64_t	deadline = sig_monotonic_ms() + 10000;
	int		fd;

	while ((fd = h_connect("127.0.0.1", p, 1000)) == -1 &&
	    sig_monotonic_ms() < deadline)
		(void)poll(NULL, 0, 10);
	ck_assert_msg(fd >= 0, "nothing listens on port %u", p);
	close(fd);
}

/* socat or xinetd on a free port of 127.0.0.1, as bench/ runs them. */
static pid_t
start_peer(const char *name, unsigned p, const char *dir)
{
	char	 conf[4200], listen[128], cmd[8400];
	pid_t	 pid;
	FILE	*fp;

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	if (system(cmd) != 0)
		return -1;
	if (strcmp(name, "xinetd") == 0) {
		snprintf(conf, sizeof(conf), "%s/xinetd.conf", dir);
		if ((fp = fopen(conf, "w")) == NULL)
			h_die("%s", conf);
		fprintf(fp, "defaults\n{\n\tinstances = UNLIMITED\n}\n"
		    "service echo\n{\n\ttype = INTERNAL UNLISTED\n"
		    "\tid = echo-stream\n\tsocket_type = stream\n"
		    "\tprotocol = tcp\n\tuser = root\n\twait = no\n"
		    "\tbind = 127.0.0.1\n\tport = %u\n\tflags = REUSE\n"
		    "\tcps = 1000000 1\n}\n", p);
		fclose(fp);
	}
	snprintf(listen, sizeof(listen), "TCP-LISTEN:%u,bind=127.0.0.1,"
	    "reuseaddr,fork", p);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (strcmp(name, "xinetd") == 0)
			execlp("xinetd", "xinetd", "-dontfork", "-f", conf,
			    (char *)NULL);
		else
			execlp("socat", "socat", listen, "PIPE", (char *)NULL);
		_exit(127);
	}
	wait_listening(p);
	return pid;
}

/* Any RFC 862 server: socat's echo (with a window: see sockecho(1)), xinetd. */
START_TEST(test_socat_and_xinetd)
{
	static const char *const peers[] = { "socat", "xinetd" };
	char		 dir[] = "/tmp/integ_bulk.XXXXXX", conf[64];
	unsigned	 p, i, ran = 0;
	pid_t		 pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 2; i++) {
		p = h_free_port("127.0.0.1");
		if ((pid = start_peer(peers[i], p, dir)) == -1)
			continue;
		snprintf(port, sizeof(port), "%u", p);
		{
			const char *a[] = { "-P", "2", "-t", "0.5", "--window", "32K",
			    "-i", "0", "127.0.0.1", port, NULL };

			ck_assert_msg(bulk(a) == 0, "%s: %s%s", peers[i], out,
			    err);
		}
		{
			const char *a[] = { "-n", "16M", "-w", "32K", "-i",
			    "0", "127.0.0.1", port, NULL };

			ck_assert_msg(bulk(a) == 0, "%s: %s%s", peers[i], out,
			    err);
		}
		HAS(out, "- - - totals, every byte back and checked\n");
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		ran++;
	}
	snprintf(conf, sizeof(conf), "%s/xinetd.conf", dir);
	unlink(conf);
	rmdir(dir);
	if (ran == 0)
		fprintf(stderr, "integ_bulk: neither socat nor xinetd here\n");
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("sockecho --bulk");
	TCase	*tc = tcase_create("bulk");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_16mib_round_trips_byte_exact);
	tcase_add_test(tc, test_parallel_sum_and_json_stream);
	tcase_add_test(tc, test_corrupting_server_is_caught_at_the_offset);
	tcase_add_test(tc, test_stalled_server_is_reported_not_hung);
	tcase_add_test(tc, test_trickling_server_is_reported_not_hung);
	tcase_add_test(tc, test_usage_and_refused);
	tcase_add_test(tc, test_ping_idle_and_loaded_side_by_side);
	tcase_add_test(tc, test_socat_and_xinetd);
	suite_add_tcase(s, tc);
	return s;
}
