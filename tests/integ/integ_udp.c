/* SPDX-License-Identifier: ISC */
/*
 * integ_udp.c: the real sockechod's UDP echo over real sockets: byte-exact
 * datagrams of every size over IPv4 and IPv6, several workers sharing one
 * socket, beside TCP on the same port.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define UDP4_MAX	65507
#define UDP6_MAX	65527

/* The socket address of host:port, numeric only. */
static socklen_t
address(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct addrinfo	 hints, *res;
	char		 service[16];
	socklen_t	 len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	ck_assert_int_eq(getaddrinfo(host, service, &hints, &res), 0);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	len = res->ai_addrlen;
	freeaddrinfo(res);
	return len;
}

/* A client socket on a loopback address, bound to "port" (0: any). */
static int
client_on(const char *host, unsigned port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd;

	len = address(host, port, &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
client(int family, unsigned port)
{
	return client_on(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

/* Wait for one datagram; its length, or -1 when none came in time. */
static ssize_t
receive(int fd, void *buf, size_t size, int timeout_ms,
    struct sockaddr_storage *from)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	socklen_t	len = sizeof(*from);

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return recvfrom(fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)from,
	    &len);
}

static void
send_to(int fd, const char *host, unsigned port, const void *buf, size_t n)
{
	struct sockaddr_storage	ss;
	socklen_t		len = address(host, port, &ss);

	ck_assert_int_eq(sendto(fd, buf, n, 0, (struct sockaddr *)&ss, len),
	    (ssize_t)n);
}

/* Each size comes back byte for byte, from the address it was sent to. */
static void
exact_sizes(int family, const char *host, const size_t *sizes, size_t nsizes)
{
	struct sockaddr_storage	 from, want;
	char			*out = malloc(UDP6_MAX), *in = malloc(UDP6_MAX + 1);
	size_t			 i;
	int			 fd = client(family, 0);

	address(host, d.port, &want);
	for (i = 0; i < nsizes; i++) {
		h_random(out, sizes[i], (unsigned)i + 1);
		send_to(fd, host, d.port, out, sizes[i]);
		ck_assert_int_eq(receive(fd, in, UDP6_MAX + 1, 5000, &from),
		    (ssize_t)sizes[i]);
		ck_assert_mem_eq(in, out, sizes[i]);
		ck_assert_mem_eq(&from, &want, family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}
	close(fd);
	free(out);
	free(in);
}

START_TEST(test_udp_byte_exact_ipv4_ipv6)
{
	static const size_t	v4[] = { 0, 1, 1472, UDP4_MAX };
	static const size_t	v6[] = { 0, 1, 1472, UDP4_MAX, UDP6_MAX };

	start("listen = [ \"udp:127.0.0.1:%P\", \"udp:[::1]:%P\" ];\n"
	    "workers = 2;\n");
	exact_sizes(AF_INET, "127.0.0.1", v4, sizeof(v4) / sizeof(v4[0]));
	exact_sizes(AF_INET6, "::1", v6, sizeof(v6) / sizeof(v6[0]));
}
END_TEST

/*
 * Numbered datagrams, at most "window" unanswered; how many distinct ones
 * came back within the deadline. Each answer must be one of ours, intact.
 */
static unsigned
stream(int fd, const char *host, unsigned port, unsigned count,
    unsigned window, int quiet_ms)
{
	struct sockaddr_storage	 from;
	unsigned char		*seen = calloc(count, 1);
	unsigned		 sent = 0, got = 0, seq;
	char			 buf[64], in[64];
	ssize_t			 n;

	while (got < count) {
		while (sent < count && sent - got < window) {
			snprintf(buf, sizeof(buf), "datagram %u", sent++);
			send_to(fd, host, port, buf, strlen(buf));
		}
		if ((n = receive(fd, in, sizeof(in) - 1, quiet_ms, &from)) < 0) {
			if (sent == count)
				break;
			got++;		/* lost: send the next one anyway */
			continue;
		}
		in[n] = '\0';
		ck_assert_msg(sscanf(in, "datagram %u", &seq) == 1 &&
		    seq < count, "stray answer \"%s\"", in);
		ck_assert_msg(!seen[seq], "datagram %u answered twice", seq);
		seen[seq] = 1;
		got++;
	}
	/* Answers late for their turn (counted lost above) still count. */
	while ((n = receive(fd, in, sizeof(in) - 1, 100, &from)) >= 0) {
		in[n] = '\0';
		if (sscanf(in, "datagram %u", &seq) == 1 && seq < count)
			seen[seq] = 1;
	}
	for (got = 0, seq = 0; seq < count; seq++)
		got += seen[seq];
	free(seen);
	return got;
}

START_TEST(test_udp_workers_share_one_socket)
{
	int	fd;

	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 3;\n"
	    "udp_max_datagrams_per_client = 0;\n");
	fd = client(AF_INET, 0);
	ck_assert_uint_eq(stream(fd, "127.0.0.1", d.port, 3000, 32, 2000),
	    3000);
	close(fd);
}
END_TEST

START_TEST(test_udp_beside_tcp_on_one_port)
{
	char	in[16];
	int	fd, tcp;

	start("listen = [ \"udp:127.0.0.1:%P\", \"127.0.0.1:%P\" ];\n"
	    "workers = 1;\n");
	tcp = h_connect(d.host, d.port, 5000);
	ck_assert_int_ge(tcp, 0);
	ck_assert_int_eq(h_echo(tcp, "over tcp", 8, in, 5000), 0);
	ck_assert_mem_eq(in, "over tcp", 8);
	fd = client(AF_INET, 0);
	ck_assert_uint_eq(stream(fd, "127.0.0.1", d.port, 10, 1, 2000), 10);
	close(fd);
	close(tcp);
}
END_TEST

/* "fd" gets no answer to "text", and a bystander still gets one. */
static void
expect_silence(int fd, const char *text)
{
	struct sockaddr_storage	from;
	char			in[64];
	int			other = client(AF_INET, 0);

	send_to(fd, "127.0.0.1", d.port, text, strlen(text));
	/* The bystander's answer shows the server got this far. */
	ck_assert_uint_eq(stream(other, "127.0.0.1", d.port, 1, 1, 5000), 1);
	ck_assert_int_eq(receive(fd, in, sizeof(in), 300, &from), -1);
	close(other);
}

/* udp_drop_source_ports: a listed source port never gets an answer. */
START_TEST(test_udp_listed_source_port_gets_no_answer)
{
	char		body[256];
	unsigned	port;
	int		fd;

	do
		port = h_free_port("127.0.0.1");
	while ((fd = client(AF_INET, port)) == -1);
	snprintf(body, sizeof(body), "listen = [ \"udp:127.0.0.1:%%P\" ];\n"
	    "workers = 1;\nudp_drop_source_ports = [ 7, %u ];\n", port);
	start(body);
	expect_silence(fd, "from a listed port");
	/* Counted: in the status table and in systemd's STATUS=. */
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	expect_log("status: udp: 2 datagrams received, 1 echoed, 1 dropped "
	    "(port 1, self 0, source 0, group 0, broadcast 0, loop 0, "
	    "denied 0, client_rate 0, ", 5000);
	expect_notify("UDP: 2 datagrams, 1 echoed, 1 dropped", 8000, NULL, 0);
	close(fd);
}
END_TEST

/* allow/deny comes first: a denied source is counted as denied, nothing else. */
START_TEST(test_udp_deny_is_checked_first)
{
	char		body[256];
	unsigned	port;
	int		fd;

	do
		port = h_free_port("127.0.0.1");
	while ((fd = client_on("127.0.0.2", port)) == -1);
	snprintf(body, sizeof(body), "listen = [ \"udp:127.0.0.1:%%P\" ];\n"
	    "workers = 1;\ndeny = [ \"127.0.0.2\" ];\n"
	    "udp_drop_source_ports = [ %u ];\n", port);
	start(body);
	expect_silence(fd, "denied, from a listed port");
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	expect_log("status: udp: 2 datagrams received, 1 echoed, 1 dropped "
	    "(port 0, self 0, source 0, group 0, broadcast 0, loop 0, "
	    "denied 1, ", 5000);
	close(fd);
}
END_TEST

/* The default list has chargen (19): a forged chargen never loops. */
START_TEST(test_udp_chargen_source_gets_no_answer)
{
	int	fd;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot send from port 19");
	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 1;\n");
	fd = client(AF_INET, 19);
	ck_assert_msg(fd >= 0, "cannot bind UDP port 19 as root");
	expect_silence(fd, "chargen says hello");
	close(fd);
}
END_TEST

/*
 * A source over udp_max_datagrams_per_client is cut to its rate (a
 * second's worth at once, then the rate), while another source, below
 * its own rate, gets every answer.
 */
START_TEST(test_udp_rate_cuts_one_source_only)
{
	uint64_t	t0, elapsed_ms;
	unsigned	fast_got, slow_got;
	char		line[256];
	int		fast, slow;

	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "udp_max_datagrams_per_client = 20;\n");
	fast = client_on("127.0.0.1", 0);
	slow = client_on("127.0.0.2", 0);
	ck_assert_int_ge(slow, 0);
	t0 = sig_monotonic_ms();
	fast_got = stream(fast, "127.0.0.1", d.port, 200, 8, 200);
	elapsed_ms = sig_monotonic_ms() - t0;
	slow_got = stream(slow, "127.0.0.1", d.port, 15, 1, 2000);
	ck_assert_uint_eq(slow_got, 15);
	ck_assert_msg(fast_got >= 20 && fast_got <= 20 + 20 * (elapsed_ms +
	    999) / 1000, "%u answers in %llu ms", fast_got,
	    (unsigned long long)elapsed_ms);
	/* Every datagram unanswered was dropped for its rate, and counted. */
	snprintf(line, sizeof(line), "status: udp: 215 datagrams received, %u "
	    "echoed, %u dropped (port 0, self 0, source 0, group 0, "
	    "broadcast 0, loop 0, denied 0, client_rate %u, global_rate 0,",
	    fast_got + 15, 200 - fast_got,
	    200 - fast_got);
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	expect_log(line, 5000);
	close(fast);
	close(slow);
}
END_TEST

/* sockecho -u against the daemon: its output and exit status. */
static int
sockecho(const char *const *args, const char *input, char *out,
    size_t outsize, char *err, size_t errsize)
{
	const char	*argv[20];
	size_t		 n = 0, outlen = 0;
	char		 port[16];
	int		 st;

	snprintf(port, sizeof(port), "%u", d.port);
	argv[n++] = h_env("SOCKECHO", "../../src/sockecho");
	argv[n++] = "-u";
	while (*args != NULL && n < 17)
		argv[n++] = *args++;
	argv[n++] = "127.0.0.1";
	argv[n++] = port;
	argv[n] = NULL;
	st = h_run(argv, input, input ? strlen(input) : 0, out, outsize - 1,
	    &outlen, err, errsize, 30000);
	out[outlen] = '\0';
	return st;
}

START_TEST(test_udp_client)
{
	const char	*lines[] = { "-c", NULL }, *msg[] = { "-m", "hi", NULL };
	const char	*quiet[] = { "-q", "-w", "0.3", "-r", "1", NULL };
	char		 out[256], err[512], *big = malloc(80003);

	/* A byte a second: 65527 bytes at once, then next to nothing. */
	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "udp_max_bytes_per_client = 1;\n");
	/* Each line a datagram, the empty one too; --check passes. */
	ck_assert_int_eq(sockecho(lines, "one\n\nthree", out, sizeof(out),
	    err, sizeof(err)), 0);
	ck_assert_str_eq(out, "one\n\nthree");
	ck_assert_int_eq(sockecho(msg, NULL, out, sizeof(out), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(out, "hi\n");
	/* Two lines of 40000 bytes: the bucket holds one. No answer, 75. */
	memset(big, 'a', 80002);
	big[40000] = '\n';
	big[80001] = '\n';
	big[80002] = '\0';
	ck_assert_int_eq(sockecho(quiet, big, out, sizeof(out), err,
	    sizeof(err)), 75);
	ck_assert_msg(strstr(err, "no answer from 127.0.0.1 port") != NULL &&
	    strstr(err, "to datagram 2 after 2 tries") != NULL, "%s", err);
	free(big);
	/* Nobody on the port: refused (ICMP), 69 as over TCP. */
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	ck_assert_int_eq(sockecho(quiet, "x\n", out, sizeof(out), err,
	    sizeof(err)), 69);
}
END_TEST

/*
 * A reload under a steady stream of datagrams: every datagram sent after
 * READY=1 of the new generation is answered, since the socket, and its
 * queue, outlive the old workers. Those before are counted too.
 */
START_TEST(test_udp_reload_loses_nothing_after_ready)
{
	struct sockaddr_storage	 from;
	unsigned		 total = 200000, sent = 0, mark = 0, seq, lost;
	unsigned		 window = 0, late_lost = 0, early_lost = 0;
	unsigned char		*seen = calloc(total, 1);
	uint64_t		 deadline, hup_ms = 0, ready_ms = 0;
	char			 buf[64];
	ssize_t			 n;
	int			 fd;

	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "udp_max_datagrams_per_client = 0;\nudp_max_datagrams = 0;\n");
	fd = client(AF_INET, 0);
	h_notify_drain(&d);
	deadline = sig_monotonic_ms() + 30000;
	while (sent < total && (mark == 0 || sent < mark + 3000)) {
		if (sent >= 2000 && hup_ms == 0) {
			ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
			hup_ms = sig_monotonic_ms();
		}
		ck_assert_msg(sig_monotonic_ms() < deadline, "no READY=1 in 30 s");
		for (; window < 16 && sent < total; window++) {
			snprintf(buf, sizeof(buf), "%u", sent++);
			send_to(fd, "127.0.0.1", d.port, buf, strlen(buf));
		}
		if ((n = receive(fd, buf, sizeof(buf) - 1, 200, &from)) < 0)
			window = 0;	/* lost ones free their place */
		else {
			buf[n] = '\0';
			seq = (unsigned)atoi(buf);
			ck_assert_uint_lt(seq, sent);
			seen[seq] = 1;
			window--;
		}
		if (mark == 0 && hup_ms != 0 && h_notify_wait(&d, "READY=1", 1,
		    NULL, 0, NULL) == 0) {
			mark = sent;
			ready_ms = sig_monotonic_ms();
		}
	}
	while (receive(fd, buf, sizeof(buf) - 1, 1000, &from) >= 0) {
		buf[sizeof(buf) - 1] = '\0';
		seen[(unsigned)atoi(buf) % total] = 1;
	}
	for (seq = 0; seq < sent; seq++)
		if (!seen[seq])
			*(seq >= mark ? &late_lost : &early_lost) += 1;
	lost = late_lost + early_lost;
	fprintf(stderr, "reload under a stream: %u datagrams, SIGHUP at 2000, "
	    "READY=1 at %u (%llu ms later), %u lost before it, %u after\n",
	    sent, mark, (unsigned long long)(ready_ms - hup_ms), early_lost,
	    late_lost);
	ck_assert_uint_eq(late_lost, 0);
	ck_assert_uint_le(lost, sent);
	expect_log("configuration reloaded", 1000);
	free(seen);
	close(fd);
}
END_TEST

/* systemd-socket-activate --datagram: the daemon adopts the UDP socket. */
START_TEST(test_udp_socket_activation)
{
	struct sockaddr_storage	 from;
	char			 addr[64], in[64];
	const char		*bin = h_env("SOCKECHOD", "../../src/sockechod");
	unsigned		 port = h_free_port("127.0.0.1");
	pid_t			 pid;
	int			 fd = client(AF_INET, 0), st;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	ck_assert_int_eq(h_write_config(&d, "workers = 1;\n"), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("systemd-socket-activate", "systemd-socket-activate",
		    "--datagram", "-l", addr, bin, "-c", d.conf, (char *)NULL);
		_exit(127);
	}
	/* It binds, then execs the daemon at the first datagram. */
	send_to(fd, "127.0.0.1", port, "first", 5);
	while (receive(fd, in, sizeof(in), 300, &from) != 5) {
		ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
		send_to(fd, "127.0.0.1", port, "first", 5);
	}
	ck_assert_mem_eq(in, "first", 5);
	send_to(fd, "127.0.0.1", port, "second", 6);
	ck_assert_int_eq(receive(fd, in, sizeof(in), 5000, &from), 6);
	ck_assert_mem_eq(in, "second", 6);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
}
END_TEST

/*
 * A UDP server that drops the first datagram it gets and answers every
 * later one with its first half only.
 */
static pid_t
lossy_liar(unsigned *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			buf[2048];
	ssize_t			n;
	pid_t			pid;
	int			fd, seen = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		for (;;) {
			len = sizeof(sin);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&sin, &len);
			if (n >= 0 && seen++ > 0)
				(void)sendto(fd, buf, (size_t)n / 2, 0,
				    (struct sockaddr *)&sin, len);
		}
	}
	close(fd);
	return pid;
}

/* -r sends a lost datagram again; --check refuses a shortened answer. */
START_TEST(test_udp_client_against_a_lossy_liar)
{
	const char	*retry[] = { "-w", "0.5", "-r", "1", "-m", "hello", NULL };
	const char	*check[] = { "--check", "-w", "2", "-m", "hello", NULL };
	char		 out[256], err[512];
	pid_t		 pid = lossy_liar(&d.port);

	ck_assert_int_eq(sockecho(retry, NULL, out, sizeof(out), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(out, "hel");
	ck_assert_int_eq(sockecho(check, NULL, out, sizeof(out), err,
	    sizeof(err)), 1);
	ck_assert_msg(strstr(err, "reply differs from datagram 1 (6 bytes "
	    "sent, 3 received)") != NULL, "%s", err);
	kill(pid, SIGKILL);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("udp");
	TCase	*tc = tcase_create("udp");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_udp_byte_exact_ipv4_ipv6);
	tcase_add_test(tc, test_udp_workers_share_one_socket);
	tcase_add_test(tc, test_udp_beside_tcp_on_one_port);
	tcase_add_test(tc, test_udp_listed_source_port_gets_no_answer);
	tcase_add_test(tc, test_udp_deny_is_checked_first);
	tcase_add_test(tc, test_udp_rate_cuts_one_source_only);
	tcase_add_test(tc, test_udp_client);
	tcase_add_test(tc, test_udp_reload_loses_nothing_after_ready);
	if (access("/usr/bin/systemd-socket-activate", X_OK) == 0)
		tcase_add_test(tc, test_udp_socket_activation);
	else
		fprintf(stderr, "integ_udp: no systemd-socket-activate: the "
		    "socket activation test does not run\n");
	tcase_add_test(tc, test_udp_chargen_source_gets_no_answer);
	tcase_add_test(tc, test_udp_client_against_a_lossy_liar);
	suite_add_tcase(s, tc);
	return s;
}
