/* SPDX-License-Identifier: ISC */
/*
 * integ_lifecycle.c: the real sockechod through its life: readiness and
 * sd_notify, respawn, reload (good, bad, listen changes), drain on stop,
 * socket activation, the watchdog, resizing, hung workers, recycling.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

static bool
environ_has(pid_t pid, const char *name)
{
	char	path[64], buf[65536];
	size_t	n, i;
	FILE	*fp;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, name, strlen(name)) == 0 &&
		    buf[i + strlen(name)] == '=')
			return true;
	return false;
}

/*
 * CLOCK_MONOTONIC read here, not through core's sig_monotonic_us(): the
 * daemon's MONOTONIC_USEC comes from that function, and a bug in it would
 * shift both sides alike.
 */
static unsigned long long
clock_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

START_TEST(test_ready_status_and_only_the_master_notifies)
{
	char			 msg[2048], *p;
	unsigned long long	 before_us, after_us, usec;
	pid_t			 kids[8];
	int			 i, n;

	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 2;\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	/* The first READY=1 comes with the status of a complete pool. */
	expect_notify("READY=1", H_START_MS, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "STATUS=2 workers, 0 connections open") !=
	    NULL && strstr(msg, "127.0.0.1:") != NULL, "%s", msg);
	before_us = clock_us();
	kill(d.pid, SIGHUP);
	expect_notify("RELOADING=1", 10000, msg, sizeof(msg));
	after_us = clock_us();
	/* MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds, read in between. */
	ck_assert_msg((p = strstr(msg, "MONOTONIC_USEC=")) != NULL, "%s", msg);
	usec = strtoull(p + strlen("MONOTONIC_USEC="), NULL, 10);
	ck_assert_msg(usec >= before_us && usec <= after_us,
	    "MONOTONIC_USEC=%llu, not in [%llu, %llu]", usec, before_us,
	    after_us);
	expect_notify("READY=1", 10000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "STATUS=2 workers, 0 connections open") !=
	    NULL && strstr(msg, "127.0.0.1:") != NULL, "%s", msg);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "hi"), 0);
	/* The status line follows: one served, none open any more. */
	expect_notify("1 served", 10000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "STATUS=2 workers, 0 connections open, "
	    "1 served") != NULL, "%s", msg);
	ck_assert_int_eq(d.foreign_notify, 0);
	/* Off a terminal, not the journal: one plain line per message. */
	snprintf(msg, sizeof(msg), "\nsockechod[%ld]: ready: 2 workers, "
	    "stream mode, on 127.0.0.1:%u\n", (long)d.pid, d.port);
	ck_assert_msg(h_log_has(&d, msg), "no line \"%s\"", msg);
	n = h_children(d.pid, kids, 8);
	ck_assert_int_ge(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert(!environ_has(kids[i], "NOTIFY_SOCKET"));
		ck_assert(!environ_has(kids[i], "WATCHDOG_USEC"));
	}
}
END_TEST

/* READY=1 waits for every worker, the slow one too (tests/stress/fault.c). */
START_TEST(test_ready_waits_for_the_slowest_worker)
{
	char		record[256], msg[2048];
	uint64_t	t0;

	d.binary = h_env("SOCKECHOD_FAULTY", "./sockechod-faulty");
	d.no_wait_ready = true;
	snprintf(record, sizeof(record), "%s/slow", d.dir);
	setenv("SOCKECHOD_FAULT", "one-slow-start", 1);
	setenv("SOCKECHOD_FAULT_RECORD", record, 1);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 2;\n");
	t0 = sig_monotonic_ms();
	ck_assert_int_eq(h_start(&d), 0);
	unsetenv("SOCKECHOD_FAULT");
	unsetenv("SOCKECHOD_FAULT_RECORD");
	expect_notify("READY=1", H_START_MS, msg, sizeof(msg));
	ck_assert_msg(sig_monotonic_ms() - t0 >= 1400, "READY=1 after %llu ms, "
	    "before the slow worker served",
	    (unsigned long long)(sig_monotonic_ms() - t0));
	ck_assert_int_eq(access(record, F_OK), 0);
}
END_TEST

START_TEST(test_killed_worker_is_replaced)
{
	pid_t	before[8], after[8];
	int	n;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_children(d.pid, before, 8), 2);
	ck_assert_int_eq(kill(before[0], SIGKILL), 0);
	expect_log("killed by signal 9 (SIGKILL) unexpectedly", 10000);
	expect_log("started to replace a lost worker", 10000);
	ck_assert_int_eq(h_wait_children(d.pid, 2, 10000), 0);
	n = h_children(d.pid, after, 8);
	ck_assert_int_eq(n, 2);
	ck_assert(!h_has_pid(after, n, before[0]));
	ck_assert(h_has_pid(after, n, before[1]));
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "still serving"), 0);
}
END_TEST

START_TEST(test_reload_changes_workers_and_keeps_open_connections)
{
	pid_t	old[8], now[16];
	char	in[16], msg[2048];
	int	fd, n, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_children(d.pid, old, 8), 2);
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "before", 6, in, 5000), 0);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 3;\n");
	kill(d.pid, SIGHUP);
	expect_notify("READY=1", 10000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "STATUS=3 workers") != NULL, "%s", msg);
	expect_log("configuration reloaded: 3 workers", 5000);
	/* The old worker holding our connection drains; the other one left. */
	ck_assert_int_eq(h_wait_children(d.pid, 4, 10000), 0);
	ck_assert_int_eq(h_echo(fd, "during", 6, in, 5000), 0);
	ck_assert_mem_eq(in, "during", 6);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "new client"), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	close(fd);
	ck_assert_int_eq(h_wait_children(d.pid, 3, 10000), 0);
	n = h_children(d.pid, now, 16);
	for (i = 0; i < n; i++)
		ck_assert(!h_has_pid(old, 2, now[i]));
	expect_log("exited with status 0 after a reload", 5000);
}
END_TEST

static int
reload_command(void)
{
	const char	*argv[4];
	char		 pid[32], err[1024];
	size_t		 outlen;

	snprintf(pid, sizeof(pid), "%ld", (long)d.pid);
	argv[0] = d.binary;
	argv[1] = "--reload";
	argv[2] = pid;
	argv[3] = NULL;
	return h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err), 30000);
}

START_TEST(test_bad_reload_keeps_serving)
{
	pid_t	before[8], after[8];
	char	msg[2048], where[300];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_children(d.pid, before, 8), 2);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 2;\n"
	    "mode = \"mystery\";\n");
	kill(d.pid, SIGHUP);
	expect_notify("READY=1", 10000, msg, sizeof(msg));
	snprintf(where, sizeof(where), "%s:3: mode: must be", d.conf);
	ck_assert_msg(strstr(msg, "last reload failed") != NULL &&
	    strstr(msg, where) != NULL, "%s", msg);
	expect_log("reload failed, still serving the previous configuration", 5000);
	ck_assert_int_eq(h_children(d.pid, after, 8), 2);
	ck_assert(h_has_pid(after, 2, before[0]) && h_has_pid(after, 2, before[1]));
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "unharmed"), 0);
	/* The synchronous reload command says so too, then succeeds once fixed. */
	ck_assert_int_eq(reload_command(), 1);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n");
	h_notify_drain(&d);
	ck_assert_int_eq(reload_command(), 0);
	/* A good reload clears the failure from the status. */
	expect_notify("READY=1", 10000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "last reload failed") == NULL, "%s", msg);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "fixed"), 0);
	ck_assert_int_eq(h_wait_children(d.pid, 1, 10000), 0);
}
END_TEST

/* --reload refuses a worker, and answers at once when the master dies. */
START_TEST(test_reload_command_checks_its_process)
{
	const char	*argv[4];
	char		 pid[32], err[1024], want[128];
	size_t		 outlen;
	pid_t		 w[1], killer;
	uint64_t	 t0;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_int_eq(h_children(d.pid, w, 1), 1);
	argv[0] = d.binary;
	argv[1] = "--reload";
	argv[2] = pid;
	argv[3] = NULL;
	snprintf(pid, sizeof(pid), "%ld", (long)w[0]);
	ck_assert_int_eq(h_run(argv, NULL, 0, NULL, 0, &outlen, err,
	    sizeof(err), 10000), 69);
	snprintf(want, sizeof(want), "process %ld is a sockechod worker; its "
	    "master is process %ld", (long)w[0], (long)d.pid);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	/* A stopped master cannot answer; killed, it is noticed at once. */
	snprintf(pid, sizeof(pid), "%ld", (long)d.pid);
	kill(d.pid, SIGSTOP);
	if ((killer = fork()) == 0) {
		usleep(500 * 1000);
		kill(d.pid, SIGKILL);
		_exit(0);
	}
	t0 = sig_monotonic_ms();
	ck_assert_int_eq(h_run(argv, NULL, 0, NULL, 0, &outlen, err,
	    sizeof(err), 10000), 69);
	ck_assert_msg(sig_monotonic_ms() - t0 < 5000, "%llu ms",
	    (unsigned long long)(sig_monotonic_ms() - t0));
	waitpid(killer, NULL, 0);
	snprintf(want, sizeof(want), "process %ld exited before the reload "
	    "was over", (long)d.pid);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
}
END_TEST

/*
 * --reload's argument: anything but a process ID above 1 is a usage error
 * (64); a process that does not exist, or that does not run sockechod, is
 * refused (69) before any signal is sent.
 */
static const struct {
	const char	*arg;		/* NULL: a reaped child, "self": us */
	int		 status;
	const char	*why;
} reload_args[] = {
	{ "abc", 64, "expected the process ID of the sockechod master" },
	{ "", 64, "expected the process ID of the sockechod master" },
	{ "12x", 64, "expected the process ID of the sockechod master" },
	{ "1", 64, "expected the process ID of the sockechod master" },
	{ "-5", 64, "expected the process ID of the sockechod master" },
	{ "99999999999", 64, "expected the process ID of the sockechod master" },
	{ NULL, 69, "no process" },
	{ "self", 69, ", not " },
};

START_TEST(test_reload_command_refuses_its_argument)
{
	const char	*argv[4];
	char		 pid[32], err[1024];
	size_t		 outlen;
	pid_t		 child;
	int		 r;

	argv[0] = getenv("SOCKECHOD");
	ck_assert_ptr_nonnull(argv[0]);
	argv[1] = "--reload";
	argv[2] = reload_args[_i].arg;
	argv[3] = NULL;
	if (argv[2] == NULL) {
		if ((child = fork()) == 0)
			_exit(0);
		ck_assert_int_eq(waitpid(child, NULL, 0), child);
		snprintf(pid, sizeof(pid), "%ld", (long)child);
		argv[2] = pid;
	} else if (strcmp(argv[2], "self") == 0) {
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		argv[2] = pid;
	}
	r = h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err), 10000);
	ck_assert_msg(r == reload_args[_i].status, "--reload \"%s\": exit %d: "
	    "%s", argv[2], r, err);
	ck_assert_msg(strstr(err, reload_args[_i].why) != NULL, "%s", err);
}
END_TEST

/* A child that connects to port in a loop; exits with the failure count. */
static pid_t
hammer(unsigned port, const char *stopfile)
{
	pid_t	pid;
	int	failures = 0;

	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (access(stopfile, F_OK) == -1)
		if (h_roundtrip("127.0.0.1", port, "hammer") != 0)
			failures++;
	_exit(failures > 250 ? 250 : failures);
}

START_TEST(test_reload_moves_listeners_without_refusing)
{
	unsigned	keep = h_free_port("127.0.0.1"), drop, add;
	char		body[512], stop[256];
	pid_t		pid;
	int		status, i;

	do {
		drop = h_free_port("127.0.0.1");
		add = h_free_port("127.0.0.1");
	} while (drop == keep || add == keep || add == drop);
	d.port = keep;
	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%u\", "
	    "\"127.0.0.1:%u\" ];\nworkers = 2;\nshutdown_timeout = 2;\n",
	    keep, drop);
	start(body);
	snprintf(stop, sizeof(stop), "%s/stop", d.dir);
	pid = hammer(keep, stop);
	for (i = 0; i < 5; i++) {
		h_write_config(&d, "listen = [ \"127.0.0.1:%u\", \"127.0.0.1:%u\" "
		    "];\nworkers = %d;\nshutdown_timeout = 2;\n", keep,
		    i % 2 ? drop : add, 1 + i % 3);
		ck_assert_int_eq(reload_command(), 0);
	}
	close(open(stop, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%d connections to the kept address failed", WEXITSTATUS(status));
	/* The last reload listens on "add", no longer on "drop". */
	ck_assert_int_eq(h_roundtrip("127.0.0.1", add, "new address"), 0);
	ck_assert_int_eq(h_connect_error("127.0.0.1", drop), ECONNREFUSED);
}
END_TEST

START_TEST(test_sigterm_drains_then_exits_zero)
{
	char	in[8];
	int	fd, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nshutdown_timeout = 20;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "first", 5, in, 5000), 0);
	kill(d.pid, SIGTERM);
	expect_notify("STOPPING=1", 10000, NULL, 0);
	/* New clients are refused at once... */
	for (i = 0; i < 100 && h_connect_error(d.host, d.port) == 0; i++)
		usleep(10000);
	ck_assert_int_eq(h_connect_error(d.host, d.port), ECONNREFUSED);
	/* ...the open one is still served, then the daemon exits 0. */
	ck_assert_int_eq(h_echo(fd, "second", 6, in, 5000), 0);
	ck_assert_mem_eq(in, "second", 6);
	ck_assert_int_eq(kill(d.pid, 0), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	close(fd);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
	expect_log("stopped after serving", 5000);
	ck_assert_int_eq(d.foreign_notify, 0);
}
END_TEST

START_TEST(test_second_sigterm_stops_at_once)
{
	char	in[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nshutdown_timeout = 60;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "x", 1, in, 5000), 0);
	kill(d.pid, SIGTERM);
	expect_notify("STOPPING=1", 10000, NULL, 0);
	expect_log("stopping: draining 1 open connection (shutdown_timeout", 5000);
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(h_wait_exit(&d, 5000), 0);
	ck_assert_int_eq(h_recv_eof(fd, 1000), 0);
	close(fd);
}
END_TEST

START_TEST(test_sigquit_stops_at_once)
{
	char	in[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nshutdown_timeout = 60;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "x", 1, in, 5000), 0);
	kill(d.pid, SIGQUIT);
	ck_assert_int_eq(h_wait_exit(&d, 5000), 0);
	ck_assert_int_eq(h_recv_eof(fd, 1000), 0);
	/* SIGQUIT: no shutdown_timeout applies, none is quoted. */
	ck_assert(h_log_has(&d, "stopping: closing 1 open connection at once\n"));
	close(fd);
}
END_TEST

START_TEST(test_a_progressing_drain_asks_systemd_for_time)
{
	char	in[8], msg[512];
	int	a, b;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nshutdown_timeout = 30;\n");
	a = h_connect(d.host, d.port, 5000);
	b = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(a, "a", 1, in, 5000), 0);
	ck_assert_int_eq(h_echo(b, "b", 1, in, 5000), 0);
	kill(d.pid, SIGTERM);
	expect_notify("STOPPING=1", 10000, NULL, 0);
	close(a);	/* progress: one connection of two finished */
	expect_notify("EXTEND_TIMEOUT_USEC=", 10000, msg, sizeof(msg));
	ck_assert_uint_ge(strtoull(strchr(msg, '=') + 1, NULL, 10), 30000000);
	close(b);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
}
END_TEST

START_TEST(test_shutdown_timeout_closes_stragglers)
{
	char	in[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nshutdown_timeout = 1;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "x", 1, in, 5000), 0);
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(h_recv_eof(fd, 10000), 0);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
	ck_assert(h_log_has(&d, "1 connection still open after "
	    "shutdown_timeout (1000 ms): closing it"));
	/* The worker had its grace period: the master did not kill it. */
	ck_assert(!h_log_has(&d, "after shutdown_timeout: killed"));
	ck_assert(!h_log_has(&d, "killed by signal"));
	close(fd);
}
END_TEST

/* A drain that makes no progress asks systemd for no more time. */
START_TEST(test_a_stuck_drain_asks_for_no_time)
{
	char	in[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nshutdown_timeout = 4;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(fd, "x", 1, in, 5000), 0);
	kill(d.pid, SIGTERM);
	expect_notify("STOPPING=1", 5000, NULL, 0);
	ck_assert_int_ne(h_notify_wait(&d, "EXTEND_TIMEOUT_USEC", 2500, NULL, 0,
	    NULL), 0);
	close(fd);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
}
END_TEST

/*
 * Connections that wait in the listen queue when SIGTERM comes are
 * clients too: with every worker stopped, they stay queued until the
 * workers see SIGTERM, and must be served, not reset.
 */
START_TEST(test_sigterm_serves_the_queued_connections)
{
	char	msg[16], in[16];
	pid_t	kids[8];
	int	fds[6], n, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(n = h_children(d.pid, kids, 8), 2);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kill(kids[i], SIGSTOP), 0);
	for (i = 0; i < 6; i++) {
		ck_assert_int_ge(fds[i] = h_connect(d.host, d.port, 5000), 0);
		snprintf(msg, sizeof(msg), "queued %d", i);
		ck_assert_int_eq(h_send_all(fds[i], msg, 8, 5000), 0);
		ck_assert_int_eq(shutdown(fds[i], SHUT_WR), 0);
	}
	kill(d.pid, SIGTERM);
	expect_log("stopping: draining", 5000);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kill(kids[i], SIGCONT), 0);
	for (i = 0; i < 6; i++) {
		snprintf(msg, sizeof(msg), "queued %d", i);
		ck_assert_msg(h_recv_n(fds[i], in, 8, 10000) == 8,
		    "queued client %d got no reply", i);
		ck_assert_mem_eq(in, msg, 8);
		ck_assert_int_eq(h_recv_eof(fds[i], 5000), 0);
		close(fds[i]);
	}
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
}
END_TEST

START_TEST(test_socket_activation)
{
	struct sockaddr_in	sin;
	unsigned		passed = h_free_port("127.0.0.1"), configured;
	char			body[256];
	pid_t			kids[8];
	int			fd, n, i, probe;

	do
		configured = h_free_port("127.0.0.1");
	while (configured == passed);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(passed);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	d.listen_fd = fd;
	d.port = passed;
	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%u\" ];\n"
	    "workers = 2;\n", configured);
	start(body);
	expect_log("socket activation: serving the 1 sockets systemd passed", 1);
	ck_assert_int_eq(h_roundtrip("127.0.0.1", passed, "activated"), 0);
	ck_assert_int_eq(h_connect_error("127.0.0.1", configured), ECONNREFUSED);
	n = h_children(d.pid, kids, 8);
	ck_assert_int_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert(!environ_has(kids[i], "LISTEN_FDS"));
		ck_assert(!environ_has(kids[i], "LISTEN_PID"));
		ck_assert(!environ_has(kids[i], "NOTIFY_SOCKET"));
	}
	ck_assert(!environ_has(d.pid, "LISTEN_FDS"));
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	/* The socket is systemd's (here: ours): still listening afterwards. */
	probe = h_connect("127.0.0.1", passed, 2000);
	ck_assert_int_ge(probe, 0);
	close(probe);
	close(fd);
}
END_TEST

START_TEST(test_watchdog_keeps_pinging_while_workers_recover)
{
	pid_t	kids[8];
	int	i;

	d.watchdog_usec = "400000";
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nworker_timeout = 1;\n");
	for (i = 0; i < 3; i++)
		expect_notify("WATCHDOG=1", 2000, NULL, 0);
	/* A stopped worker is killed and replaced: the pings go on. */
	ck_assert_int_eq(h_children(d.pid, kids, 8), 2);
	kill(kids[0], SIGSTOP);
	expect_log("shows no sign of life", 10000);
	for (i = 0; i < 5; i++)
		expect_notify("WATCHDOG=1", 2000, NULL, 0);
	ck_assert_int_eq(d.foreign_notify, 0);
}
END_TEST

/* Pings come twice per WATCHDOG_USEC, measured from their arrival. */
START_TEST(test_watchdog_pings_twice_per_interval)
{
	uint64_t	first, last;
	int		i;

	d.watchdog_usec = "1000000";
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	h_notify_drain(&d);
	expect_notify("WATCHDOG=1", 2000, NULL, 0);
	first = sig_monotonic_ms();
	for (i = 0; i < 6; i++)
		expect_notify("WATCHDOG=1", 2000, NULL, 0);
	last = sig_monotonic_ms();
	/* Six gaps of 500 ms: 3 s; once per interval would take 6 s. */
	ck_assert_msg(last - first >= 2400 && last - first <= 4500,
	    "6 watchdog gaps took %llu ms", (unsigned long long)(last - first));
}
END_TEST

START_TEST(test_watchdog_stops_for_a_worker_nobody_can_recover)
{
	pid_t	kids[8];
	int	i;

	/* worker_timeout = 0: the master may not kill a silent worker. */
	d.watchdog_usec = "400000";
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nworker_timeout = 0;\n");
	expect_notify("WATCHDOG=1", 2000, NULL, 0);
	ck_assert_int_eq(h_children(d.pid, kids, 8), 2);
	kill(kids[0], SIGSTOP);
	expect_log("no longer feeding the systemd watchdog", 5000);
	h_notify_drain(&d);
	ck_assert_int_ne(h_notify_wait(&d, "WATCHDOG=1", 1500, NULL, 0, NULL), 0);
	/* Alive again: the pings resume. */
	kill(kids[0], SIGCONT);
	for (i = 0; i < 3; i++)
		expect_notify("WATCHDOG=1", 2000, NULL, 0);
}
END_TEST

START_TEST(test_ttin_ttou_resize)
{
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	kill(d.pid, SIGTTIN);
	expect_log("SIGTTIN: 3 workers wanted", 5000);
	ck_assert_int_eq(h_wait_children(d.pid, 3, 10000), 0);
	kill(d.pid, SIGTTOU);
	expect_log("SIGTTOU: 2 workers wanted", 5000);
	kill(d.pid, SIGTTOU);
	expect_log("SIGTTOU: 1 worker wanted", 5000);
	kill(d.pid, SIGTTOU);	/* never below one */
	ck_assert_int_eq(h_log_wait_count(&d, "SIGTTOU: 1 worker wanted", 2,
	    5000), 0);
	ck_assert_int_eq(h_wait_children(d.pid, 1, 10000), 0);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "one left"), 0);
	expect_log("exited with status 0 after the pool shrank", 5000);
}
END_TEST

START_TEST(test_sigusr1_logs_the_worker_table)
{
	pid_t	kids[8];
	char	line[64];
	int	n, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "count me"), 0);
	kill(d.pid, SIGUSR1);
	expect_log("status: generation 1, 2 workers wanted, 2 processes", 5000);
	expect_log("status: slot     pid  gen state", 5000);
	n = h_children(d.pid, kids, 8);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), " %7ld    1 accepting", (long)kids[i]);
		expect_log(line, 5000);
	}
	ck_assert(h_log_has(&d, "1 served, 8 bytes in, 8 out"));
}
END_TEST

START_TEST(test_hung_worker_is_killed_and_replaced)
{
	pid_t		kids[8], now[8];
	uint64_t	deadline;
	char		want[64], line[512];
	int		n;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nworker_timeout = 1;\n");
	ck_assert_int_eq(h_children(d.pid, kids, 8), 2);
	kill(kids[1], SIGSTOP);
	expect_log("shows no sign of life", 10000);
	/*
	 * The kill is logged before the master reaps the worker: until
	 * then it is still a child, so wait for it to be gone and its
	 * replacement there, not for a count of two that holds at once.
	 */
	deadline = sig_monotonic_ms() + 10000;
	do
		n = h_children(d.pid, now, 8);
	while ((h_has_pid(now, n, kids[1]) || n != 2) &&
	    sig_monotonic_ms() < deadline && usleep(20 * 1000) == 0);
	ck_assert_msg(!h_has_pid(now, n, kids[1]), "the hung worker %ld is "
	    "still a child 10 s after its kill", (long)kids[1]);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "alive"), 0);
	/*
	 * Its death is a warning too (sockechod(8), LOGGING: "warning
	 * otherwise, which includes workers killed as hung"), though the
	 * master killed it on purpose.
	 */
	snprintf(want, sizeof(want), "worker %ld (slot ", (long)kids[1]);
	expect_log(" was killed (SIGKILL)", 10000);
	ck_assert_int_eq(h_log_last(&d, " was killed (SIGKILL)", line,
	    sizeof(line)), 0);
	ck_assert_msg(strstr(line, "]: warning: ") != NULL &&
	    strstr(line, want) != NULL, "%s", line);
}
END_TEST

/*
 * A worker asked to drain (a reload) that then hangs is killed as hung,
 * and its death is a warning though the master had asked it to stop
 * (sockechod(8), LOGGING: "which includes workers killed as hung").
 */
START_TEST(test_hung_draining_worker_is_a_warning)
{
	char	want[64], line[512], c;
	pid_t	kids[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nworker_timeout = 1;\n");
	ck_assert_int_eq(h_children(d.pid, kids, 8), 1);
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_send_all(fd, "x", 1, 5000), 0);
	ck_assert_int_eq(h_recv_n(fd, &c, 1, 5000), 1);	/* it holds one */
	kill(d.pid, SIGHUP);
	expect_log("]: configuration reloaded: ", 10000);
	kill(kids[0], SIGSTOP);
	snprintf(want, sizeof(want), "worker %ld (slot ", (long)kids[0]);
	expect_log(" was killed (SIGKILL) as hung", 10000);
	ck_assert_int_eq(h_log_last(&d, " was killed (SIGKILL) as hung", line,
	    sizeof(line)), 0);
	ck_assert_msg(strstr(line, "]: warning: ") != NULL &&
	    strstr(line, want) != NULL, "%s", line);
	close(fd);
}
END_TEST

START_TEST(test_recycling_hands_over_without_failures)
{
	static const char handover[] = "reached its max_connections_per_worker "
	    "(5): starting its successor";
	pid_t	seen[64], kids[8];
	int	nseen = 0, i, n;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "max_connections_per_worker = 5;\n");
	/*
	 * A retiring worker serves on until its successor is ready, so how
	 * many it takes depends on the pace of clients; go on until three
	 * hand-overs happened, and not one connection may fail.
	 */
	for (i = 0; i < 2000 && h_log_count(&d, handover) < 3; i++) {
		ck_assert_msg(h_roundtrip(d.host, d.port, "recycle me") == 0,
		    "connection %d failed", i);
		n = h_children(d.pid, kids, 8);
		while (n-- > 0)
			if (!h_has_pid(seen, nseen, kids[n]) && nseen < 64)
				seen[nseen++] = kids[n];
	}
	ck_assert_int_ge(h_log_count(&d, handover), 3);
	expect_log("exited with status 0 after recycling", 5000);
	ck_assert_int_ge(nseen, 2);
}
END_TEST

/* Without jitter, the hand-over starts at the limit's connection, not later. */
START_TEST(test_recycling_starts_at_the_limit)
{
	static const char handover[] = "reached its max_connections_per_worker "
	    "(5): starting its successor";
	int	i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "max_connections_per_worker = 5;\nrecycle_jitter = 0;\n");
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(h_roundtrip(d.host, d.port, "not yet"), 0);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "the fifth"), 0);
	expect_log(handover, 5000);
	ck_assert_int_eq(h_log_count(&d, handover), 1);
}
END_TEST

START_TEST(test_worker_that_cannot_work_stops_the_daemon)
{
	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot test a failing user switch");
	/* As "nobody", switching the workers to root must fail. */
	d.as_nobody = true;
	d.no_wait_ready = true;
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 2;\n"
	    "user = \"root\";\n");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_wait_exit(&d, 15000), 71);
	ck_assert(h_log_has(&d, "worker: cannot switch to user root"));
	ck_assert(h_log_has(&d, "a worker cannot work with this configuration"));
}
END_TEST

START_TEST(test_reload_whose_workers_cannot_work_is_rolled_back)
{
	pid_t	before[8], after[8];
	char	msg[2048];

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot test a failing user switch");
	d.as_nobody = true;
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 3;\n");
	ck_assert_int_eq(h_children(d.pid, before, 8), 3);
	/* A different worker count: the rollback must restore the old one. */
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 5;\n"
	    "user = \"root\";\n");
	ck_assert_int_eq(reload_command(), 1);
	expect_notify("READY=1", 10000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "last reload failed: a worker of the new "
	    "configuration exited with status 71") != NULL, "%s", msg);
	ck_assert_int_eq(h_wait_children(d.pid, 3, 10000), 0);
	ck_assert_int_eq(h_children(d.pid, after, 8), 3);
	ck_assert(h_has_pid(after, 3, before[0]) &&
	    h_has_pid(after, 3, before[1]) && h_has_pid(after, 3, before[2]));
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "old config serves"), 0);
	/* Still three after the pool has had time to act on a wrong count. */
	kill(d.pid, SIGUSR1);
	expect_log(" 3 workers wanted, 3 processes", 5000);
	ck_assert_int_eq(h_children(d.pid, after, 8), 3);
	ck_assert_int_eq(kill(d.pid, 0), 0);
}
END_TEST

/* A field of /proc/PID/status, such as "NoNewPrivs:" or "CapEff:". */
static bool
proc_status(pid_t pid, const char *key, char *value, size_t size)
{
	char	path[64], line[256];
	FILE	*fp;
	bool	found = false;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(value, size, "%s", line + strlen(key) +
			    strspn(line + strlen(key), " \t"));
			value[strcspn(value, "\n")] = '\0';
			found = true;
		}
	fclose(fp);
	return found;
}

/* Workers cannot regain privileges, and root's workers hold no capability. */
START_TEST(test_workers_hold_no_privileges)
{
	char	value[64];
	pid_t	kids[8];
	int	n, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(n = h_children(d.pid, kids, 8), 2);
	for (i = 0; i < n; i++) {
		ck_assert(proc_status(kids[i], "NoNewPrivs:", value,
		    sizeof(value)));
		ck_assert_str_eq(value, "1");
		ck_assert(proc_status(kids[i], "CapEff:", value, sizeof(value)));
		ck_assert_str_eq(value, "0000000000000000");
		ck_assert(proc_status(kids[i], "CapPrm:", value, sizeof(value)));
		ck_assert_str_eq(value, "0000000000000000");
	}
	if (geteuid() != 0)
		CHECK_SKIP("not root: the capabilities dropped were none");
}
END_TEST

START_TEST(test_workers_outlive_no_master)
{
	pid_t	kids[8], pid;
	int	n, i, status, reaped = 0;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nshutdown_timeout = 2;\n");
	n = h_children(d.pid, kids, 8);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(h_stop(&d, SIGKILL, 5000), 128 + SIGKILL);
	/* Orphans come to us (subreaper); each must exit by itself. */
	for (i = 0; i < 200 && reaped < n; i++) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (h_has_pid(kids, n, pid))
				reaped++;
		if (reaped < n)
			usleep(50000);
	}
	ck_assert_int_eq(reaped, n);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("lifecycle");
	TCase	*tc = tcase_create("integration");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ready_status_and_only_the_master_notifies);
	tcase_add_test(tc, test_ready_waits_for_the_slowest_worker);
	tcase_add_test(tc, test_killed_worker_is_replaced);
	tcase_add_test(tc, test_reload_changes_workers_and_keeps_open_connections);
	tcase_add_test(tc, test_bad_reload_keeps_serving);
	tcase_add_test(tc, test_reload_command_checks_its_process);
	tcase_add_loop_test(tc, test_reload_command_refuses_its_argument, 0,
	    nitems(reload_args));
	tcase_add_test(tc, test_reload_moves_listeners_without_refusing);
	tcase_add_test(tc, test_sigterm_drains_then_exits_zero);
	tcase_add_test(tc, test_second_sigterm_stops_at_once);
	tcase_add_test(tc, test_sigquit_stops_at_once);
	tcase_add_test(tc, test_a_progressing_drain_asks_systemd_for_time);
	tcase_add_test(tc, test_shutdown_timeout_closes_stragglers);
	tcase_add_test(tc, test_sigterm_serves_the_queued_connections);
	tcase_add_test(tc, test_a_stuck_drain_asks_for_no_time);
	tcase_add_test(tc, test_socket_activation);
	tcase_add_test(tc, test_watchdog_keeps_pinging_while_workers_recover);
	tcase_add_test(tc, test_watchdog_pings_twice_per_interval);
	tcase_add_test(tc, test_watchdog_stops_for_a_worker_nobody_can_recover);
	tcase_add_test(tc, test_ttin_ttou_resize);
	tcase_add_test(tc, test_sigusr1_logs_the_worker_table);
	tcase_add_test(tc, test_hung_worker_is_killed_and_replaced);
	tcase_add_test(tc, test_hung_draining_worker_is_a_warning);
	tcase_add_test(tc, test_recycling_hands_over_without_failures);
	tcase_add_test(tc, test_recycling_starts_at_the_limit);
	tcase_add_test(tc, test_worker_that_cannot_work_stops_the_daemon);
	tcase_add_test(tc, test_reload_whose_workers_cannot_work_is_rolled_back);
	tcase_add_test(tc, test_workers_hold_no_privileges);
	tcase_add_test(tc, test_workers_outlive_no_master);
	suite_add_tcase(s, tc);
	return s;
}
