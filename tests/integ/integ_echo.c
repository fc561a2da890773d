/* SPDX-License-Identifier: ISC */
/*
 * integ_echo.c: the real sockechod over real sockets: both protocols,
 * many clients, every listener kind, the idle timeout, the sockecho client
 * and the command line's exit statuses.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

START_TEST(test_stream_binary_megabytes)
{
	size_t	 n = 8 << 20;
	char	*out = malloc(n), *in = malloc(n);
	int	 fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	h_random(out, n, 42);
	memset(out + 1000, 0, 4096);	/* NUL bytes are bytes too */
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_echo(fd, out, n, in, 60000), 0);
	ck_assert_mem_eq(in, out, n);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	close(fd);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_message_mode_replies_after_half_close)
{
	char	buf[600], in[600];
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "mode = \"message\";\nmax_message_bytes = 1000;\n");
	h_random(buf, sizeof(buf), 7);
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_send_all(fd, buf, 500, 5000), 0);
	/* Nothing may come back before the half-close. */
	ck_assert_int_eq(h_recv_n(fd, in, 1, 300), 0);
	ck_assert_int_eq(h_send_all(fd, buf + 500, 100, 5000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(fd, in, 600, 5000), 600);
	ck_assert_mem_eq(in, buf, 600);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	close(fd);
}
END_TEST

START_TEST(test_message_cap_closes_only_that_client)
{
	char	line[512];
	char	buf[1001], in[1001];
	int	fd, other;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "mode = \"message\";\nmax_message_bytes = 1000;\n");
	other = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(h_send_all(other, "still here", 10, 5000), 0);
	h_random(buf, sizeof(buf), 8);
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_send_all(fd, buf, sizeof(buf), 5000), 0);
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);	/* closed, no echo */
	close(fd);
	ck_assert_int_eq(h_log_wait(&d, "message larger than max_message_bytes "
	    "(1000): connection closed", 5000), 0);
	/* Off a terminal and off the journal (log_format "auto"): plain, the level in words. */
	ck_assert_int_eq(h_log_last(&d, "message larger than", line,
	    sizeof(line)), 0);
	ck_assert_msg(strncmp(line, "sockechod[", 10) == 0 &&
	    strstr(line, "]: warning: ") != NULL, "%s", line);
	/* The other client and the daemon are unaffected. */
	ck_assert_int_eq(shutdown(other, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(other, in, 10, 5000), 10);
	ck_assert_mem_eq(in, "still here", 10);
	close(other);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "after"), 0);
	ck_assert_int_eq(kill(d.pid, 0), 0);
}
END_TEST

START_TEST(test_many_clients_on_few_workers)
{
	enum { CLIENTS = 400 };
	static int	fds[CLIENTS];
	char		msg[64], in[64];
	pid_t		kids[8];
	int		i, n;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_children(d.pid, kids, 8), 2);
	/* All connected at once, then each one served: 200 per worker at least. */
	for (i = 0; i < CLIENTS; i++) {
		fds[i] = h_connect(d.host, d.port, 5000);
		ck_assert_msg(fds[i] >= 0, "client %d: %s", i, strerror(errno));
	}
	for (i = CLIENTS - 1; i >= 0; i--) {
		n = snprintf(msg, sizeof(msg), "client %d of %d", i, CLIENTS);
		ck_assert_int_eq(h_echo(fds[i], msg, n, in, 10000), 0);
		ck_assert_mem_eq(in, msg, n);
	}
	for (i = 0; i < CLIENTS; i++) {
		ck_assert_int_eq(shutdown(fds[i], SHUT_WR), 0);
		ck_assert_int_eq(h_recv_eof(fds[i], 5000), 0);
		close(fds[i]);
	}
}
END_TEST

/* Connections held by a worker: its sockets but the listener. */
static int
connections_of(pid_t pid)
{
	char		 path[64], link[128], fdpath[320];
	struct dirent	*de;
	DIR		*dir;
	int		 n = -1;
	ssize_t		 r;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		if ((r = readlink(fdpath, link, sizeof(link) - 1)) > 0 &&
		    strncmp(link, "socket:", 7) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

START_TEST(test_idle_workers_take_turns)
{
	enum { CLIENTS = 16 };
	int	fds[CLIENTS], i, a, b;
	pid_t	kids[2];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_children(d.pid, kids, 2), 2);
	for (i = 0; i < CLIENTS; i++) {
		fds[i] = h_connect(d.host, d.port, 5000);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_eq(h_echo(fds[i], "x", 1, (char[1]){ 0 }, 5000), 0);
		usleep(10000);	/* clients arrive one by one, as they do */
	}
	a = connections_of(kids[0]);
	b = connections_of(kids[1]);
	/* Without turns, the first idle worker would take nearly all. */
	ck_assert_msg(a + b == CLIENTS && a >= 3 && b >= 3,
	    "connections per worker: %d and %d", a, b);
	for (i = 0; i < CLIENTS; i++)
		close(fds[i]);
}
END_TEST

START_TEST(test_a_silent_client_delays_nobody)
{
	int	silent, stuck, i;
	char	buf[65536], in[4];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	silent = h_connect(d.host, d.port, 5000);
	stuck = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(silent, 0);
	ck_assert_int_ge(stuck, 0);
	/* One client that never reads: the worker stops reading it. */
	memset(buf, 'z', sizeof(buf));
	for (i = 0; i < 1000; i++)
		if (h_send_all(stuck, buf, sizeof(buf), 500) != 0)
			break;
	ck_assert_msg(i < 1000, "the server kept reading a client that "
	    "does not read");
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "unaffected"), 0);
	/* The one connected all along without a word is served when it speaks. */
	ck_assert_int_eq(h_echo(silent, "late", 4, in, 5000), 0);
	ck_assert_mem_eq(in, "late", 4);
	close(silent);
	close(stuck);
}
END_TEST

/* max_connections: the next client waits in the queue until one leaves. */
START_TEST(test_max_connections_is_a_hard_limit)
{
	pid_t		 kid;
	unsigned long	 cpu_ms;
	char		 in[8];
	int		 a, b, c, e;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "max_connections = 2;\n");
	ck_assert_int_eq(h_children(d.pid, &kid, 1), 1);
	a = h_connect(d.host, d.port, 5000);
	b = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(a, "a", 1, in, 5000), 0);
	ck_assert_int_eq(h_echo(b, "b", 1, in, 5000), 0);
	c = h_connect(d.host, d.port, 5000);	/* completes in the backlog */
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(h_send_all(c, "third", 5, 5000), 0);
	cpu_ms = h_cpu_ms(kid, false);
	ck_assert_int_eq(h_recv_n(c, in, 5, 1000), 0);
	/* Waiting at the limit is not spinning on the ready listener. */
	ck_assert_uint_lt(h_cpu_ms(kid, false) - cpu_ms, 300);
	close(a);
	ck_assert_int_eq(h_recv_n(c, in, 5, 5000), 5);
	ck_assert_mem_eq(in, "third", 5);
	ck_assert_int_eq(h_echo(b, "b", 1, in, 5000), 0);
	/* A drain takes queued clients only up to the limit too. */
	e = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(e, 0);
	ck_assert_int_eq(h_send_all(e, "e", 1, 5000), 0);
	kill(d.pid, SIGTERM);
	expect_log("stopping: draining 2 open connections", 5000);
	ck_assert_int_le(h_recv_n(e, in, 1, 1000), 0);
	ck_assert_int_eq(h_echo(b, "b", 1, in, 5000), 0);
	close(b);
	close(c);
	close(e);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 0);
}
END_TEST

START_TEST(test_out_of_descriptors_keeps_serving)
{
	enum { CLIENTS = 60 };
	static int	fds[CLIENTS];
	unsigned long	cpu0;
	pid_t		worker;
	char		in[8];
	int		i, n;

	/* 40 descriptors: the worker runs out long before 60 clients. */
	d.nofile = 40;
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_int_eq(h_children(d.pid, &worker, 1), 1);
	for (i = 0; i < CLIENTS; i++) {
		fds[i] = h_connect(d.host, d.port, 5000);
		ck_assert_msg(fds[i] >= 0, "client %d: %s", i, strerror(errno));
	}
	expect_log("pausing accepts", 10000);
	/* The clients it has are served; it does not spin while it waits. */
	ck_assert_int_eq(h_echo(fds[0], "first", 5, in, 5000), 0);
	cpu0 = h_cpu_ms(worker, false);
	usleep(1000000);	/* a second of waiting, to measure the CPU it takes */
	ck_assert_uint_le(h_cpu_ms(worker, false) - cpu0, 100);
	/* Once clients leave, the waiting ones are accepted and served. */
	for (i = 0; i < 30; i++)
		close(fds[i]);
	for (i = 30, n = 0; i < CLIENTS; i++, n++) {
		ck_assert_msg(h_echo(fds[i], "later", 5, in, 10000) == 0,
		    "client %d was not served", i);
		ck_assert_mem_eq(in, "later", 5);
		close(fds[i]);
	}
	ck_assert_int_eq(n, 30);
	ck_assert_int_eq(kill(worker, 0), 0);
}
END_TEST

static bool
have_ipv6(void)
{
	struct sockaddr_in6	sin6;
	int			fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool			ok;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

START_TEST(test_ipv6_and_unix_listeners)
{
	char	body[512], sock[256];
	int	fd;

	snprintf(sock, sizeof(sock), "%s/echo.sock", d.dir);
	if (!have_ipv6())
		snprintf(body, sizeof(body), "listen = [ \"unix:%s\" ];\n", sock);
	else {
		snprintf(d.host, sizeof(d.host), "::1");
		snprintf(body, sizeof(body), "listen = [ \"[::1]:%%P\", "
		    "\"unix:%s\" ];\n", sock);
	}
	start(body);
	if (have_ipv6())
		ck_assert_int_eq(h_roundtrip("::1", d.port, "over IPv6"), 0);
	fd = h_connect_unix(sock, 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_send_all(fd, "over unix", 9, 5000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	{
		char in[9];

		ck_assert_int_eq(h_recv_n(fd, in, 9, 5000), 9);
		ck_assert_mem_eq(in, "over unix", 9);
	}
	close(fd);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	ck_assert_int_eq(access(sock, F_OK), -1);	/* cleaned up */
	if (!have_ipv6())
		CHECK_SKIP("no IPv6 on loopback: only the Unix half ran");
}
END_TEST

START_TEST(test_idle_timeout)
{
	uint64_t	t_idle, t_eof = 0, t_end;
	char		in[4];
	int		idle, busy;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\nidle_timeout = 2;\n");
	/* "busy" is older, so only its progress can move it behind "idle". */
	busy = h_connect(d.host, d.port, 5000);
	ck_assert_int_eq(h_echo(busy, "ping", 4, in, 5000), 0);
	idle = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(idle, 0);
	t_idle = sig_monotonic_ms();
	/* "busy" makes progress every 200 ms while we watch "idle" for its EOF. */
	for (t_end = t_idle + 6000; sig_monotonic_ms() < t_end && t_eof == 0;) {
		ck_assert_int_eq(h_echo(busy, "ping", 4, in, 5000), 0);
		if (h_recv_eof(idle, 200) == 0)
			t_eof = sig_monotonic_ms();
	}
	ck_assert_msg(t_eof != 0, "the idle connection was never closed");
	/* Closed after its own 2 s of silence, not before, not much later. */
	ck_assert_uint_ge(t_eof - t_idle, 1950);
	ck_assert_uint_le(t_eof - t_idle, 3500);
	ck_assert_int_eq(h_echo(busy, "pong", 4, in, 5000), 0);
	ck_assert_mem_eq(in, "pong", 4);
	close(idle);
	close(busy);
}
END_TEST

/* With no traffic at all, the worker wakes for the idle deadline itself. */
START_TEST(test_idle_timeout_without_traffic)
{
	uint64_t	t0;
	int		fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "idle_timeout = 0.1;\n");
	fd = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(fd, 0);
	t0 = sig_monotonic_ms();
	ck_assert_int_eq(h_recv_eof(fd, 5000), 0);
	/* 100 ms, not the 500 ms of the worker's heartbeat. */
	ck_assert_uint_le(sig_monotonic_ms() - t0, 400);
	close(fd);
}
END_TEST

/* sockecho, the client, against the daemon. */
static int
client(const char *const *args, const char *input, size_t inlen, char *out,
    size_t outsize, size_t *outlen, char *err, size_t errsize)
{
	const char	*argv[16];
	size_t		 n = 0;

	argv[n++] = h_env("SOCKECHO", "../../src/sockecho");
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, input, inlen, out, outsize, outlen, err, errsize,
	    60000);
}

START_TEST(test_client_end_to_end)
{
	size_t	 n = 3 << 20, outlen;
	char	*data = malloc(n), *out = malloc(n + 1), err[1024], port[16];
	char	 sock[256], unixarg[300], abstract[64];

	snprintf(sock, sizeof(sock), "%s/echo.sock", d.dir);
	snprintf(abstract, sizeof(abstract), "unix:@sockechod-test.%ld",
	    (long)getpid());
	{
		char body[768];

		snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\", "
		    "\"unix:%s\", \"%s\" ];\nworkers = 2;\n", sock, abstract);
		start(body);
	}
	snprintf(port, sizeof(port), "%u", d.port);
	snprintf(unixarg, sizeof(unixarg), "unix:%s", sock);
	{
		const char *a[] = { "-m", "hello", "127.0.0.1", port, NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, n, &outlen, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(outlen, 6);
		ck_assert_mem_eq(out, "hello\n", 6);
	}
	{
		const char *a[] = { "-n", "-m", "word", unixarg, NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, n, &outlen, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(outlen, 4);
		ck_assert_mem_eq(out, "word", 4);
	}
	{
		/* An abstract socket's name has no trailing NUL. */
		const char *a[] = { "-n", "-m", "hidden", abstract, NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, n, &outlen, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(outlen, 6);
		ck_assert_mem_eq(out, "hidden", 6);
	}
	h_random(data, n, 99);
	{
		const char *a[] = { "127.0.0.1", port, NULL };

		ck_assert_int_eq(client(a, data, n, out, n + 1, &outlen, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(outlen, n);
		ck_assert_mem_eq(out, data, n);
	}
	{
		const char *a[] = { "--check", "-q", "127.0.0.1", port, NULL };

		ck_assert_int_eq(client(a, data, n, out, n, &outlen, err,
		    sizeof(err)), 0);
		ck_assert_uint_eq(outlen, 0);
	}
	free(data);
	free(out);
}
END_TEST

/*
 * A server that answers every connection with "garbage" and closes, or
 * (truncate) reads all the client sends and echoes only its first half.
 */
static pid_t
liar(unsigned *port, bool truncate)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
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
			char	buf[256];
			size_t	got = 0;
			ssize_t	r;

			if (!truncate)
				(void)!write(c, "garbage", 7);
			while ((r = read(c, buf + got, sizeof(buf) - got)) > 0)
				got += truncate ? (size_t)r : 0;
			if (truncate)
				(void)!write(c, buf, got / 2);
			close(c);
		}
		_exit(0);
	}
	close(fd);
	return pid;
}

START_TEST(test_client_exit_statuses)
{
	char		 out[256], err[1024], port[16];
	size_t		 outlen;
	unsigned	 p;
	pid_t		 pid;
	int		 fd;

	/* Nobody listens: cannot connect. */
	snprintf(port, sizeof(port), "%u", h_free_port("127.0.0.1"));
	{
		const char *a[] = { "-m", "x", "127.0.0.1", port, NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 69);
		ck_assert_msg(strstr(err, "cannot connect") != NULL, "%s", err);
	}
	/* A listener that never answers: timed out. */
	{
		struct sockaddr_in	sin;
		socklen_t		len = sizeof(sin);

		fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		listen(fd, 8);
		getsockname(fd, (struct sockaddr *)&sin, &len);
		snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	}
	{
		const char *a[] = { "-t", "0.5", "-m", "x", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 75);
		ck_assert_msg(strstr(err, "timed out") != NULL, "%s", err);
	}
	close(fd);
	/* A server that answers something else: --check fails. */
	pid = liar(&p, false);
	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "--check", "-m", "honest", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 1);
		ck_assert_msg(strstr(err, "reply differs") != NULL, "%s", err);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* A server that echoes a prefix and closes: --check fails too. */
	pid = liar(&p, true);
	snprintf(port, sizeof(port), "%u", p);
	{
		const char *a[] = { "--check", "-m", "honest", "127.0.0.1", port,
		    NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 1);
		ck_assert_msg(strstr(err, "reply differs: 4 bytes short (7 sent, "
		    "3 received)") != NULL, "%s", err);
		ck_assert_uint_eq(outlen, 3);
		ck_assert_mem_eq(out, "hon", 3);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Usage errors. */
	{
		const char *a[] = { NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 64);
	}
	{
		const char *a[] = { "-t", "soon", "localhost", NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 64);
	}
	{
		const char *a[] = { "-m", "x", "no.such.host.invalid", NULL };

		ck_assert_int_eq(client(a, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err)), 68);
	}
}
END_TEST

/* The client's argument errors: exit 64 and these exact words. */
static const struct client_usage {
	const char	*argv[6];
	const char	*says;
} client_usage[] = {
	{ { "-x", "127.0.0.1", NULL }, "sockecho: unknown option -x; try --help\n" },
	{ { "--bogus", "127.0.0.1", NULL },
	    "sockecho: unknown option --bogus; try --help\n" },
	{ { "127.0.0.1", "-m", NULL },
	    "sockecho: option -m needs an argument; try --help\n" },
	{ { "-m", "x", "127.0.0.1", "99999", NULL },
	    "sockecho: port must be between 1 and 65535, not \"99999\"\n" },
	{ { "-m", "x", "127.0.0.1", "0", NULL },
	    "sockecho: port must be between 1 and 65535, not \"0\"\n" },
	{ { "-m", "x", "127.0.0.1:7007", NULL },
	    "sockecho: \"127.0.0.1:7007\" is not a host; the port goes after a "
	    "space: sockecho 127.0.0.1 7007\n" },
	{ { "-m", "x", "[::1]:7007", NULL },
	    "sockecho: \"[::1]:7007\" is not a host; the port goes after a "
	    "space: sockecho [::1] 7007\n" },
};

START_TEST(test_client_usage_errors)
{
	const struct client_usage	*c = &client_usage[_i];
	char				 out[64], err[512];
	size_t				 outlen;

	ck_assert_int_eq(client(c->argv, NULL, 0, out, sizeof(out), &outlen,
	    err, sizeof(err)), 64);
	ck_assert_str_eq(err, c->says);
}
END_TEST

/* sockechod's own command line. */
static int
daemon_cmd(const char *const *args, char *out, size_t outsize, char *err,
    size_t errsize)
{
	const char	*argv[16];
	size_t		 n = 0, outlen;

	argv[n++] = d.binary;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, NULL, 0, out, outsize, &outlen, err, errsize,
	    20000);
}

START_TEST(test_sample_config_is_valid)
{
	char	path[512], out[512], err[2048];

	snprintf(path, sizeof(path), "%s/etc/sockecho.conf",
	    h_env("SOCKECHOD_SRCDIR", ".."));
	{
		const char *a[] = { "-t", "-c", path, NULL };

		ck_assert_msg(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)) == 0, "%s", err);
		ck_assert_str_eq(out, "configuration OK\n");
	}
}
END_TEST

/* Write text to path, for an @include and for a saved -T output. */
static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/*
 * -T: defaults, an included file and -l/-w, one setting a line; the
 * output saved to a file passes -t and dumps to the same settings.
 */
START_TEST(test_dump_config_round_trip)
{
	static const char *const want[] = {
		"\nlisten = [ \"127.0.0.1:7007\" ];\n", "\nworkers = 3;\n",
		"\nmode = \"message\";\n", "\nidle_timeout = 1.050;\n",
		"\ndeny = [ \"192.0.2.0/24\" ];\n",
		"\nbacklog = 0;\t# net.core.somaxconn\n",
		"\nmax_buffered_bytes = 3000000000L;\n",
		"\nlog_level = \"notice\";\n", "\nlog_timestamps = false;\n",
		"\nmax_connections_per_client = 512;",
		"\nlog_format = \"plain\";\n", "\nlog_connections = true;\n",
		/* A backslash in a string is written escaped, as it reads. */
		"\nmetrics_listen = \"unix:/run/sock\\\\echo\";\n",
	};
	char	inc[512], saved[512], out[8192], out2[8192], err[2048];
	size_t	i;

	snprintf(inc, sizeof(inc), "%s/more.conf", d.dir);
	write_file(inc, "mode = \"message\";\nidle_timeout = 1.05;\n"
	    "deny = [ \"192.0.2.0/24\" ];\nlog_format = \"plain\";\n"
	    "metrics_listen = \"unix:/run/sock\\\\echo\";\n");
	h_write_config(&d, "workers = 2;\n@include \"%s\"\n"
	    "max_buffered_bytes = 3000000000L;\nlog_connections = true;\n"
	    "log_level = \"notice\";\n",
	    inc);
	{
		const char *a[] = { "-T", "-c", d.conf, "-l", "127.0.0.1:7007",
		    "-w", "3", NULL };

		ck_assert_msg(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)) == 0, "%s", err);
		ck_assert_msg(strstr(err, "configuration OK\n"), "%s", err);
	}
	for (i = 0; i < nitems(want); i++)
		ck_assert_msg(strstr(out, want[i]) != NULL, "no %s in:\n%s",
		    want[i], out);
	snprintf(saved, sizeof(saved), "%s/dump.conf", d.dir);
	write_file(saved, out);
	{
		const char *a[] = { "-t", "-c", saved, NULL };

		ck_assert_msg(daemon_cmd(a, out2, sizeof(out2), err,
		    sizeof(err)) == 0, "%s\n%s", err, out);
		ck_assert_str_eq(out2, "configuration OK\n");
	}
	{
		const char *a[] = { "-T", "-c", saved, NULL };

		ck_assert_int_eq(daemon_cmd(a, out2, sizeof(out2), err,
		    sizeof(err)), 0);
	}
	/* The same settings (only the header and "derived" notes may differ). */
	for (i = 0; i < nitems(want); i++)
		ck_assert_msg(strstr(out2, want[i]) != NULL, "no %s in:\n%s",
		    want[i], out2);
}
END_TEST

START_TEST(test_dump_config_refuses_a_bad_file)
{
	char	out[4096], err[2048];

	h_write_config(&d, "workers = 2;\nmode = \"x\";\n");
	{
		const char *a[] = { "-T", "-c", d.conf, NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 78);
		ck_assert_msg(strstr(err, ":2: mode: must be") != NULL, "%s",
		    err);
		ck_assert_str_eq(out, "");
	}
}
END_TEST

START_TEST(test_command_line_errors)
{
	char	out[1024], err[4096], missing[256];

	{	/* --reload: never init (64), never a process that is not (69) */
		const char *a[] = { "--reload", "1", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
	}
	{
		const char *a[] = { "--reload", "2147483646", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 69);
		ck_assert_msg(strstr(err, "no process 2147483646") != NULL,
		    "%s", err);
	}
	h_write_config(&d, "workers = 2;\nbogus = 1;\nmode = \"x\";\n");
	{
		const char *a[] = { "-t", "-c", d.conf, NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 78);
		ck_assert_msg(strstr(err, ":2: unknown setting \"bogus\"") &&
		    strstr(err, ":3: mode: must be"), "%s", err);
		/* sockechod(8): each message is "sockechod: FILE:LINE: ..." */
		ck_assert_msg(strncmp(err, "sockechod: ", 11) == 0, "%s", err);
	}
	h_write_config(&d, "udp_max_datagrams_per_client = 0;\n");
	{	/* valid, but -t warns about what it leaves unbounded */
		const char *a[] = { "-t", "-c", d.conf, NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 0);
		ck_assert_msg(strstr(err, "sockechod: warning: "
		    "udp_max_datagrams_per_client = 0") != NULL, "%s", err);
	}
	h_write_config(&d, "workers = 2;\nbogus = 1;\nmode = \"x\";\n");
	{
		/* Starting with it: the same errors, the same status. */
		const char *a[] = { "-c", d.conf, NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 78);
		ck_assert_msg(strstr(err, ":2: unknown setting") != NULL, "%s",
		    err);
	}
	snprintf(missing, sizeof(missing), "%s/missing.conf", d.dir);
	{
		const char *a[] = { "-t", "-c", missing, NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 78);
		ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
	}
	{
		const char *a[] = { "--bogus", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
	}
	{
		const char *a[] = { "-w", "many", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
	}
	/* -w at both ends of its range, one past, and with trailing junk. */
	h_write_config(&d, "workers = 2;\n");
	{
		static const struct {
			const char	*w;
			int		 status;
		} wcases[] = {
			{ "0", 0 }, { "512", 0 }, { "513", 64 }, { "-1", 64 },
			{ "3x", 64 }, { "", 64 },
		};
		size_t	i;

		for (i = 0; i < nitems(wcases); i++) {
			const char *a[] = { "-t", "-c", d.conf, "-w",
			    wcases[i].w, NULL };

			ck_assert_msg(daemon_cmd(a, out, sizeof(out), err,
			    sizeof(err)) == wcases[i].status, "-w \"%s\": %s",
			    wcases[i].w, err);
		}
	}
	{
		const char *a[] = { "-t", "-l", "nohost", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_msg(strstr(err, "invalid address \"nohost\""), "%s",
		    err);
	}
	{
		const char *a[] = { "-t", "-l", "127.0.0.1:7007x", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_msg(strstr(err, "cannot resolve \"127.0.0.1:7007x\": "
		    "not a valid port: a number from 1 to 65535 or a service "
		    "name") != NULL, "%s", err);
	}
	{
		const char *a[] = { "-t", "-l", "127.0.0.300:7", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 64);
		ck_assert_msg(strstr(err, "cannot resolve \"127.0.0.300:7\": not "
		    "an IPv4 address") != NULL, "%s", err);
	}
	{
		const char *a[] = { "-V", NULL };

		ck_assert_int_eq(daemon_cmd(a, out, sizeof(out), err,
		    sizeof(err)), 0);
		/* The version first, then what it was built with. */
		ck_assert_msg(strncmp(out, PACKAGE " " PACKAGE_VERSION "\n"
		    "built with libconfig ", strlen(PACKAGE " " PACKAGE_VERSION
		    "\nbuilt with libconfig ")) == 0, "%s", out);
		ck_assert_msg(strstr(out, " and libsystemd " SOCKECHOD_LIBSYSTEMD_VERSION
		    "\n") != NULL, "%s", out);
		ck_assert_msg(strstr(out, "\nconfiguration file: /") != NULL &&
		    strstr(out, "\nsystemd units: ") != NULL &&
		    strstr(out, "\nconfigure options: ") != NULL, "%s", out);
	}
}
END_TEST

START_TEST(test_bind_failure_exits_71_and_tells_systemd)
{
	char	msg[1024];
	int	fd;

	d.port = h_free_port(d.host);
	{
		struct sockaddr_in sin;
		int one = 1;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons(d.port);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)),
		    0);
		ck_assert_int_eq(listen(fd, 1), 0);
	}
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_notify_wait(&d, "ERRNO=", 10000, msg, sizeof(msg),
	    NULL), 0);
	ck_assert_msg(strstr(msg, "STATUS=Failed to start: cannot listen on "
	    "127.0.0.1:") != NULL && strstr(msg, "ERRNO=98") != NULL, "%s", msg);
	ck_assert_int_eq(h_wait_exit(&d, 10000), 71);
	ck_assert(h_log_has(&d, "Address already in use"));
	close(fd);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("echo over the network");
	TCase	*tc = tcase_create("integration");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stream_binary_megabytes);
	tcase_add_test(tc, test_message_mode_replies_after_half_close);
	tcase_add_test(tc, test_message_cap_closes_only_that_client);
	tcase_add_test(tc, test_many_clients_on_few_workers);
	tcase_add_test(tc, test_idle_workers_take_turns);
	tcase_add_test(tc, test_a_silent_client_delays_nobody);
	tcase_add_test(tc, test_max_connections_is_a_hard_limit);
	tcase_add_test(tc, test_out_of_descriptors_keeps_serving);
	tcase_add_test(tc, test_ipv6_and_unix_listeners);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_idle_timeout_without_traffic);
	tcase_add_test(tc, test_client_end_to_end);
	tcase_add_test(tc, test_client_exit_statuses);
	tcase_add_test(tc, test_sample_config_is_valid);
	tcase_add_test(tc, test_dump_config_round_trip);
	tcase_add_test(tc, test_dump_config_refuses_a_bad_file);
	tcase_add_test(tc, test_command_line_errors);
	tcase_add_loop_test(tc, test_client_usage_errors, 0,
	    sizeof(client_usage) / sizeof(client_usage[0]));
	tcase_add_test(tc, test_bind_failure_exits_71_and_tells_systemd);
	suite_add_tcase(s, tc);
	return s;
}
