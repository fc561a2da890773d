/* SPDX-License-Identifier: ISC */
/*
 * integ_ops.c: what an operator sees of the real binaries: their help and
 * usage messages, sockecho's --check diagnostics, word for word as the
 * manual pages quote them; the --pid-file of a master without systemd;
 * the connection log and the format of log lines off a terminal.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

/* Run "binary" with args; stdout and stderr into out and err. */
static int
run(const char *binary, const char *const *args, char *out, size_t outsize,
    char *err, size_t errsize)
{
	const char	*argv[16];
	size_t		 n = 0, outlen;

	argv[n++] = binary;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, NULL, 0, out, outsize, &outlen, err, errsize,
	    20000);
}

static const char *
client_binary(void)
{
	return h_env("SOCKECHO", "../../src/sockecho");
}

START_TEST(test_help_lists_every_address_form)
{
	static const char *const daemon_forms[] = { "HOST:PORT",
	    "[IPV6]:PORT", "*:PORT", "PORT (every address)", "unix:/PATH",
	    "unix:@NAME", "sockechod -r PID", "udp:HOST:PORT",
	    "udp:[IPV6]:PORT", "udp:*:PORT" };
	static const char *const client_forms[] = { "HOST [PORT]",
	    "unix:/PATH", "unix:@NAME", "[::1]" };
	const char	*a[] = { "--help", NULL };
	char		 out[4096], err[256];
	size_t		 i;

	ck_assert_int_eq(run(d.binary, a, out, sizeof(out), err, sizeof(err)),
	    0);
	for (i = 0; i < nitems(daemon_forms); i++)
		ck_assert_msg(strstr(out, daemon_forms[i]) != NULL,
		    "sockechod --help lacks \"%s\":\n%s", daemon_forms[i], out);
	ck_assert_int_eq(run(client_binary(), a, out, sizeof(out), err,
	    sizeof(err)), 0);
	for (i = 0; i < nitems(client_forms); i++)
		ck_assert_msg(strstr(out, client_forms[i]) != NULL,
		    "sockecho --help lacks \"%s\":\n%s", client_forms[i], out);
}
END_TEST

/* A usage error is one line pointing at --help, not the whole help. */
START_TEST(test_usage_errors_point_to_help)
{
	char	out[256], err[4096];

	{
		const char *a[] = { "--bogus", NULL };

		ck_assert_int_eq(run(d.binary, a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_str_eq(err, "sockechod: unknown option --bogus "
		    "(try --help)\n");
	}
	{
		const char *a[] = { "-c", NULL };

		ck_assert_int_eq(run(d.binary, a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_str_eq(err, "sockechod: option -c needs an argument "
		    "(try --help)\n");
	}
	{
		const char *a[] = { "-w", "many", NULL };

		ck_assert_int_eq(run(d.binary, a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_str_eq(err, "sockechod: -w: expected a number of "
		    "workers from 0 to 512, not \"many\" (try --help)\n");
	}
	ck_assert_str_eq(out, "");
}
END_TEST

/* A server that answers each connection with "reply" and then closes. */
static pid_t
answer_with(const char *reply, unsigned *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			buf[256];
	pid_t			pid;
	int			fd, c;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		while ((c = accept(fd, NULL, NULL)) >= 0) {
			/* All of the request first: no reset, no early close. */
			while (read(c, buf, sizeof(buf)) > 0)
				continue;
			(void)!write(c, reply, strlen(reply));
			close(c);
		}
		_exit(0);
	}
	close(fd);
	return pid;
}

static void
expect_check_message(const char *reply, const char *message)
{
	char		 out[256], err[1024], port[16];
	unsigned	 p;
	pid_t		 pid;

	pid = answer_with(reply, &p);
	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "-c", "-q", "-m", "hello", "127.0.0.1",
		    port, NULL };

		ck_assert_int_eq(run(client_binary(), a, out, sizeof(out), err,
		    sizeof(err)), 1);
	}
	kill(pid, SIGKILL);
	ck_assert_str_eq(err, message);
	ck_assert_str_eq(out, "");
}

/* The three lines of sockecho(1), -c, for a server that sends "hello\n". */
START_TEST(test_check_mismatch_messages)
{
	expect_check_message("help!\n",
	    "sockecho: reply differs from what was sent at byte 3\n");
	expect_check_message("hello\nhello\n",
	    "sockecho: reply differs: more bytes came back than were sent "
	    "(6)\n");
	expect_check_message("hel",
	    "sockecho: reply differs: 3 bytes short (6 sent, 3 received)\n");
}
END_TEST

static char	pid_path[256];

static void
with_pid_file(void)
{
	snprintf(pid_path, sizeof(pid_path), "%s/sockechod.pid", d.dir);
	d.argv[0] = "--pid-file";
	d.argv[1] = pid_path;
	d.argv[2] = NULL;
}

static void
put_file(const char *text)
{
	FILE	*fp = fopen(pid_path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The file's text, or "" when there is none. */
static const char *
file_text(void)
{
	static char	 text[64];
	FILE		*fp;
	size_t		 n;

	text[0] = '\0';
	if ((fp = fopen(pid_path, "r")) == NULL)
		return text;
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static const char *
pid_line(pid_t pid)
{
	static char	line[32];

	snprintf(line, sizeof(line), "%ld\n", (long)pid);
	return line;
}

START_TEST(test_pid_file_written_once_listening_and_removed)
{
	with_pid_file();
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_str_eq(file_text(), pid_line(d.pid));
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "hello"), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
	ck_assert_int_eq(access(pid_path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* A master that cannot listen writes no PID file. */
START_TEST(test_no_pid_file_without_sockets)
{
	char	body[256];

	with_pid_file();
	snprintf(body, sizeof(body), "listen = [ \"unix:%s/no/such/dir\" ];\n",
	    d.dir);
	h_write_config(&d, "%s", body);
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 71);
	ck_assert_int_eq(access(pid_path, F_OK), -1);
}
END_TEST

START_TEST(test_second_master_refused)
{
	char		 out[256], err[2048], conf[256], needle[512];
	const char	*first;

	with_pid_file();
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	first = pid_line(d.pid);
	/* Another port, so that only the PID file can stop it. */
	snprintf(conf, sizeof(conf), "%s/second.conf", d.dir);
	{
		FILE *fp = fopen(conf, "w");

		ck_assert_ptr_nonnull(fp);
		fprintf(fp, "listen = [ \"127.0.0.1:%u\" ];\nworkers = 1;\n",
		    h_free_port(d.host));
		fclose(fp);
	}
	{
		const char *a[] = { "-c", conf, "--pid-file", pid_path, NULL };

		ck_assert_int_eq(run(d.binary, a, out, sizeof(out), err,
		    sizeof(err)), 71);
	}
	snprintf(needle, sizeof(needle), "sockechod %ld is running with the "
	    "PID file %s: not starting another master", (long)d.pid,
	    pid_path);
	ck_assert_msg(strstr(err, needle) != NULL, "%s", err);
	ck_assert_str_eq(file_text(), first);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "still serving"), 0);
}
END_TEST

START_TEST(test_stale_pid_file_replaced)
{
	char	needle[512];
	pid_t	dead;

	with_pid_file();
	if ((dead = fork()) == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	put_file(pid_line(dead));
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_str_eq(file_text(), pid_line(d.pid));
	snprintf(needle, sizeof(needle), "PID file %s names process %ld, "
	    "which is not a running sockechod: replacing it", pid_path,
	    (long)dead);
	expect_log(needle, 1000);
}
END_TEST

/* A file that is no PID file (a typo in the path) is never overwritten. */
START_TEST(test_foreign_file_kept)
{
	with_pid_file();
	put_file("important: data\n");
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 71);
	ck_assert(h_log_has(&d, "is not a PID file: not overwriting it"));
	ck_assert_str_eq(file_text(), "important: data\n");
}
END_TEST

/* The start of a connection log line for the client socket "fd". */
static void
conn_prefix(int fd, char *buf, size_t size)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(buf, size, "connection peer=127.0.0.1:%u listener=127.0.0.1:%u "
	    "reason=", ntohs(sin.sin_port), d.port);
}

/* Wait for this connection's line; it must end with "rest" up to duration_ms=. */
static void
expect_conn_line(int fd, const char *rest)
{
	char	needle[256];

	conn_prefix(fd, needle, sizeof(needle));
	strncat(needle, rest, sizeof(needle) - strlen(needle) - 1);
	strncat(needle, " duration_ms=", sizeof(needle) - strlen(needle) - 1);
	expect_log(needle, 10000);
	ck_assert_int_eq(h_log_count(&d, needle), 1);
}

static int
connect_d(void)
{
	int	fd = h_connect(d.host, d.port, 5000);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static const char *const conn_log_config =
    "listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nmode = \"message\";\n"
    "max_message_bytes = 10;\nidle_timeout = 1;\nshutdown_timeout = 0.3;\n"
    "log_connections = true;\n"
    "log_level = \"warning\";\n";

/* One line per connection, with the reason it ended, whatever log_level says. */
START_TEST(test_connection_log_reasons)
{
	struct linger	lg = { 1, 0 };
	char		buf[64];
	int		ok, big, rst, idle, last;

	start(conn_log_config);
	ok = connect_d();
	ck_assert_int_eq(h_send_all(ok, "hello", 5, 5000), 0);
	ck_assert_int_eq(shutdown(ok, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(ok, buf, 5, 5000), 5);
	ck_assert_int_eq(h_recv_eof(ok, 5000), 0);
	expect_conn_line(ok, "client-closed bytes_in=5 bytes_out=5");

	big = connect_d();
	ck_assert_int_eq(h_send_all(big, "01234567890", 11, 5000), 0);
	ck_assert_int_eq(h_recv_eof(big, 5000), 0);
	expect_conn_line(big, "message-too-large bytes_in=10 bytes_out=0");

	rst = connect_d();
	ck_assert_int_eq(h_send_all(rst, "abc", 3, 5000), 0);
	ck_assert_int_eq(setsockopt(rst, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	conn_prefix(rst, buf, sizeof(buf));
	close(rst);
	expect_log(buf, 10000);
	{
		char	line[512];

		ck_assert_int_eq(h_log_last(&d, buf, line, sizeof(line)), 0);
		ck_assert_msg(strstr(line, "reason=reset bytes_in=") != NULL &&
		    strstr(line, "detail=\"Connection reset by peer\"") != NULL,
		    "%s", line);
	}

	idle = connect_d();
	expect_conn_line(idle, "idle-timeout bytes_in=0 bytes_out=0");
	close(idle);

	/* A stop takes it from the listen queue, the drain deadline closes it. */
	last = connect_d();
	kill(d.pid, SIGTERM);
	expect_conn_line(last, "shutdown bytes_in=0 bytes_out=0");
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
	close(ok);
	close(big);
	close(last);
	/* Nothing else: five connections, five lines; no info otherwise. */
	ck_assert_int_eq(h_log_count(&d, "connection peer="), 5);
	ck_assert(!h_log_has(&d, "ready:"));
	ck_assert(!h_log_has(&d, "message larger than"));
}
END_TEST

/* A refusal of the access list is a connection too: one line, and why. */
START_TEST(test_connection_log_refusal)
{
	char	buf[8], needle[256];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "allow = [ \"192.0.2.0/24\" ];\nlog_connections = true;\n");
	/* Blocking: the handshake is the kernel's, the reset comes later. */
	{
		struct sockaddr_in	sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(d.port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	conn_prefix(fd, needle, sizeof(needle));
	strncat(needle, "refused-denied bytes_in=0 bytes_out=0 duration_ms=0.000",
	    sizeof(needle) - strlen(needle) - 1);
	(void)h_recv_n(fd, buf, 1, 5000);	/* reset, or EOF */
	close(fd);
	expect_log(needle, 10000);
	ck_assert_int_eq(h_log_count(&d, "connection peer="), 1);
}
END_TEST

/* Off by default; -v turns it on, and the connection's only line is that one. */
START_TEST(test_connection_log_off_by_default_on_with_v)
{
	char	peer[128], buf[8];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "quiet"), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
	ck_assert_int_eq(h_log_count(&d, "connection peer="), 0);
	h_cleanup(&d);
	h_init(&d);
	d.argv[0] = "-v";
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	fd = connect_d();
	conn_prefix(fd, peer, sizeof(peer));
	ck_assert_int_eq(h_send_all(fd, "loud", 4, 5000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(fd, buf, 4, 5000), 4);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	expect_conn_line(fd, "client-closed bytes_in=4 bytes_out=4");
	close(fd);
	/* "peer=127.0.0.1:N " appears in that line and no other. */
	*strstr(peer, "listener=") = '\0';
	ck_assert_int_eq(h_log_count(&d, peer + strlen("connection ")), 1);
}
END_TEST

/*
 * Two clients whose unfinished messages cannot both fit in
 * max_buffered_bytes: whatever the order, exactly one of them is closed,
 * and "needle" is in one line of the log once the daemon stopped.
 */
static void
overfill_budget(const char *more_config, const char *needle)
{
	static char	msg[40000];
	char		conf[512];
	int		fd[2], i;

	snprintf(conf, sizeof(conf), "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = 1;\nmode = \"message\";\nmax_message_bytes = 65536;\n"
	    "max_buffered_bytes = 65536;\n%s", more_config);
	start(conf);
	memset(msg, 'b', sizeof(msg));
	for (i = 0; i < 2; i++) {
		fd[i] = connect_d();
		ck_assert_int_eq(h_send_all(fd[i], msg, sizeof(msg), 5000), 0);
	}
	expect_log(needle, 10000);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
	ck_assert_int_eq(h_log_count(&d, needle), 1);
	close(fd[0]);
	close(fd[1]);
}

/* A connection closed over budget gets one line: the warning, or its log line. */
START_TEST(test_over_budget_one_line)
{
	char	line[512];

	overfill_budget("", "can no longer fit in max_buffered_bytes (65536)");
	ck_assert_int_eq(h_log_count(&d, "connection peer="), 0);
	h_cleanup(&d);
	h_init(&d);
	overfill_budget("log_connections = true;\n"
	    "log_format = \"syslog-prefix\";\n", " reason=over-budget ");
	ck_assert_int_eq(h_log_count(&d, "can no longer fit"), 0);
	/* At level warning, as the warning it replaces. */
	ck_assert_int_eq(h_log_last(&d, " reason=over-budget ", line,
	    sizeof(line)), 0);
	ck_assert_msg(strncmp(line, "<4>", 3) == 0, "%s", line);
	h_cleanup(&d);
	h_init(&d);
	/* A warning: log_level "warning" keeps it. */
	overfill_budget("log_level = \"warning\";\n",
	    "can no longer fit in max_buffered_bytes (65536)");
}
END_TEST

static const char *const budget_config =
    "listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nmode = \"message\";\n"
    "max_message_bytes = 65536;\nmax_buffered_bytes = 65536;\n";

/*
 * max_buffered_bytes is "the most" a worker's connections hold, and "must
 * be at least max_message_bytes" (sockecho.conf(5)): a message whose
 * buffer grows to fill the budget exactly is echoed whole.
 */
START_TEST(test_budget_filled_exactly_is_allowed)
{
	static char	msg[65536], back[65536];
	int		fd;

	start(budget_config);
	memset(msg, 'e', sizeof(msg));
	fd = connect_d();
	ck_assert_int_eq(h_send_all(fd, msg, sizeof(msg), 5000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(fd, back, sizeof(back), 10000),
	    (ssize_t)sizeof(back));
	ck_assert_int_eq(memcmp(msg, back, sizeof(back)), 0);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	close(fd);
}
END_TEST

/*
 * sockecho.conf(5), MEMORY: "When every byte of the budget is held by
 * messages still being collected ... the connection that holds the most
 * is closed ... No other connection is closed for memory." A holds 20000
 * bytes (a 32 KiB buffer), B 5000 (8 KiB); A's next 20000 need 64 KiB,
 * more than is left: A is closed, B is echoed.
 */
START_TEST(test_budget_closes_the_one_holding_most)
{
	static char	big[20000], small[5000], back[5000];
	int		a, b;

	start(budget_config);
	memset(big, 'a', sizeof(big));
	memset(small, 'b', sizeof(small));
	a = connect_d();
	b = connect_d();
	ck_assert_int_eq(h_send_all(a, big, sizeof(big), 5000), 0);
	ck_assert_int_eq(h_send_all(b, small, sizeof(small), 5000), 0);
	ck_assert_int_eq(h_send_all(a, big, sizeof(big), 5000), 0);
	expect_log("can no longer fit in max_buffered_bytes (65536)", 10000);
	ck_assert_int_eq(h_recv_eof(a, 10000), 0);
	ck_assert_int_eq(shutdown(b, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(b, back, sizeof(back), 10000),
	    (ssize_t)sizeof(back));
	ck_assert_int_eq(memcmp(small, back, sizeof(back)), 0);
	ck_assert_int_eq(h_recv_eof(b, 5000), 0);
	ck_assert_int_eq(h_log_count(&d, "can no longer fit"), 1);
	close(a);
	close(b);
}
END_TEST

/*
 * The STATUS= line's "refused" (sockechod(8), NOTIFICATIONS) counts every
 * refusal, a client over max_connections_per_client as well as a denied
 * one.
 */
START_TEST(test_status_counts_client_limit_refusals)
{
	char	buf[8], msg[2048];
	int	a, b;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "max_connections_per_client = 1;\n");
	a = connect_d();
	ck_assert_int_eq(h_send_all(a, "x", 1, 5000), 0);
	ck_assert_int_eq(h_recv_n(a, buf, 1, 5000), 1);
	/* Reset at once: the connect may already see it. */
	if ((b = h_connect(d.host, d.port, 5000)) != -1) {
		ck_assert_int_eq(h_recv_eof(b, 5000), 0);
		close(b);
	}
	expect_notify(", 1 refused;", 15000, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "STATUS=1 worker, 1 connection open, ") !=
	    NULL, "%s", msg);
	close(a);
}
END_TEST

static void
expect_ready_line(const char *prefix)
{
	char	line[256];

	snprintf(line, sizeof(line), "\n%ssockechod[%ld]: ready: ", prefix,
	    (long)d.pid);
	if (!h_log_has(&d, line)) {
		h_log_dump(&d);
		ck_abort_msg("no line starting \"%s\"", line + 1);
	}
}

/* Off a terminal and off the journal: plain unless asked, <N> when asked. */
START_TEST(test_log_format)
{
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	expect_ready_line("");
	ck_assert(!h_log_has(&d, "<6>"));
	ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
	h_cleanup(&d);
	h_init(&d);
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "log_format = \"syslog-prefix\";\n");
	expect_ready_line("<6>");
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	expect_log("\n<5>sockechod[", 5000);
}
END_TEST

/* log_timestamps off the journal: an ISO 8601 time before every line. */
START_TEST(test_log_timestamps)
{
	static const char re[] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} sockechod\\[[0-9]+\\]: "
	    "ready: ";
	char	line[512];
	regex_t	rx;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "log_timestamps = true;\n");
	ck_assert_int_eq(h_log_last(&d, "]: ready: ", line, sizeof(line)), 0);
	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&rx, line, 0, NULL, 0) == 0, "%s", line);
	/* After the <N> prefix when that is asked for. */
	ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
	h_cleanup(&d);
	h_init(&d);
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "log_timestamps = true;\nlog_format = \"syslog-prefix\";\n");
	ck_assert_int_eq(h_log_last(&d, "]: ready: ", line, sizeof(line)), 0);
	ck_assert_msg(strncmp(line, "<6>", 3) == 0 &&
	    regexec(&rx, line + 3, 0, NULL, 0) == 0, "%s", line);
	regfree(&rx);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("what operators see");
	TCase	*tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_help_lists_every_address_form);
	tcase_add_test(tc, test_usage_errors_point_to_help);
	tcase_add_test(tc, test_check_mismatch_messages);
	tcase_add_test(tc, test_pid_file_written_once_listening_and_removed);
	tcase_add_test(tc, test_no_pid_file_without_sockets);
	tcase_add_test(tc, test_second_master_refused);
	tcase_add_test(tc, test_stale_pid_file_replaced);
	tcase_add_test(tc, test_foreign_file_kept);
	tcase_add_test(tc, test_connection_log_reasons);
	tcase_add_test(tc, test_connection_log_refusal);
	tcase_add_test(tc, test_connection_log_off_by_default_on_with_v);
	tcase_add_test(tc, test_over_budget_one_line);
	tcase_add_test(tc, test_budget_filled_exactly_is_allowed);
	tcase_add_test(tc, test_budget_closes_the_one_holding_most);
	tcase_add_test(tc, test_status_counts_client_limit_refusals);
	tcase_add_test(tc, test_log_format);
	tcase_add_test(tc, test_log_timestamps);
	suite_add_tcase(s, tc);
	return s;
}
