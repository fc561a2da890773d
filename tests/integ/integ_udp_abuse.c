/* SPDX-License-Identifier: ISC */
/*
 * integ_udp_abuse.c: the real sockechod's UDP echo against the abuse an
 * external audit found (issue 21): a datagram sent to a subnet's
 * broadcast address, over the dual-stack socket systemd passes for
 * ListenDatagram=7 and over a udp:*: socket, inside two network
 * namespaces the test makes; and one forged datagram that two daemons on
 * loopback would bounce between them; and clients that repeat
 * themselves, which the loop detector must still answer. The abuse needs
 * root (namespaces, a raw socket); without it those cases are skipped.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define NET_SERVER	"10.99.0.1"	/* the daemon's namespace, on v0 */
#define NET_SERVER2	"10.99.0.3"	/* its second address there */
#define NET_CLIENT	"10.99.0.2"	/* the sender's, on v1 */
#define NET_BROADCAST	"10.99.0.255"
#define ECHO_PORT	7		/* as ListenDatagram=7 */
#define STILL_MS	500	/* a stopped bounce stays stopped so long */
#define BOUNCES_MAX	10		/* answers each way a loop may get */

/* The counts of one "status: udp:" line; 0 for a reason it lacks. */
struct udp_counts {
	unsigned long long	received, echoed, broadcast, loop;
	char			line[1024];
};

static const char *
ip_binary(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
}

static int ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run "ip ARGS" (words separated by single spaces); 0 if it succeeded. */
static int
ip(const char *fmt, ...)
{
	const char	*argv[24];
	char		 args[256], out[512], err[512], *p, *save = NULL;
	size_t		 n = 0, outlen;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	argv[n++] = ip_binary();
	for (p = strtok_r(args, " ", &save); p != NULL && n < 23;
	    p = strtok_r(NULL, " ", &save))
		argv[n++] = p;
	argv[n] = NULL;
	if (h_run(argv, NULL, 0, out, sizeof(out), &outlen, err, sizeof(err),
	    10000) != 0) {
		fprintf(stderr, "ip %s: %s\n", fmt, err);
		return -1;
	}
	return 0;
}

/* The namespaces of a test: the daemon's and the sender's. */
struct net {
	int	server;
	int	client;
};

/*
 * Two fresh network namespaces joined by a veth pair, 10.99.0.1/24 and
 * 10.99.0.3/24 on the daemon's side, 10.99.0.2/24 on the sender's, and
 * the test process
 * left in the daemon's. Nothing is named: both go away with the test's
 * processes. Returns 0, or -1 when this machine cannot have them.
 */
static int
net_make(struct net *n)
{
	if (unshare(CLONE_NEWNET) == -1 ||
	    (n->client = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    unshare(CLONE_NEWNET) == -1 ||
	    (n->server = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (ip("link set lo up") == -1 ||
	    ip("link add v0 type veth peer name v1 netns /proc/%ld/fd/%d",
	    (long)getpid(), n->client) == -1 ||
	    ip("addr add %s/24 brd + dev v0", NET_SERVER) == -1 ||
	    ip("addr add %s/24 dev v0", NET_SERVER2) == -1 ||
	    ip("link set v0 up") == -1 ||
	    setns(n->client, CLONE_NEWNET) == -1)
		return -1;
	if (ip("link set lo up") == -1 ||
	    ip("addr add %s/24 brd + dev v1", NET_CLIENT) == -1 ||
	    ip("link set v1 up") == -1 ||
	    setns(n->server, CLONE_NEWNET) == -1)
		return -1;
	return 0;
}

/* A socket in the sender's namespace on 10.99.0.2, broadcasts allowed. */
static int
net_client(const struct net *n)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	int			fd, one = 1;

	ck_assert_int_eq(setns(n->client, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, NET_CLIENT, &sin.sin_addr);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof(one)), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(setns(n->server, CLONE_NEWNET), 0);
	return fd;
}

static void
send_to(int fd, const char *host, unsigned port, const char *text)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };

	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, host, &sin.sin_addr), 1);
	ck_assert_int_eq(sendto(fd, text, strlen(text), 0,
	    (struct sockaddr *)&sin, sizeof(sin)), (ssize_t)strlen(text));
}

/* One datagram within timeout_ms: its text (NUL-terminated), or -1. */
static ssize_t
receive(int fd, char *buf, size_t size, int timeout_ms,
    struct sockaddr_in *from)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	socklen_t	len = sizeof(*from);
	ssize_t		n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recvfrom(fd, buf, size - 1, MSG_DONTWAIT, (struct sockaddr *)from,
	    &len);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Whether one of the datagrams waiting on fd says "text". */
static bool
came_back(int fd, const char *text)
{
	struct sockaddr_in	from;
	char			in[64];

	while (receive(fd, in, sizeof(in), 0, &from) >= 0)
		if (strcmp(in, text) == 0)
			return true;
	return false;
}

/*
 * Each unicast address answers, from itself (sent again every 200 ms
 * until the new link carries it): the setup works, the silence below
 * means something, and the answer's source is not left to routing, which
 * would pick the first address for both.
 */
static void
expect_unicast_answer(int fd, const char *host)
{
	struct sockaddr_in	from;
	uint64_t		deadline = sig_monotonic_ms() + 10000;
	char			in[64], addr[INET_ADDRSTRLEN];

	do {
		send_to(fd, host, ECHO_PORT, "unicast");
		if (receive(fd, in, sizeof(in), 200, &from) >= 0 &&
		    strcmp(in, "unicast") == 0) {
			inet_ntop(AF_INET, &from.sin_addr, addr, sizeof(addr));
			ck_assert_str_eq(addr, host);
			return;
		}
	} while (h_remaining_ms(deadline) > 0);
	h_log_dump(&d);
	ck_abort_msg("no answer from %s port %d", host, ECHO_PORT);
}

static unsigned long long
reason(const char *line, const char *name)
{
	char		 key[32];
	const char	*p;

	snprintf(key, sizeof(key), " %s ", name);
	if ((p = strstr(line, key)) == NULL)
		return 0;
	return strtoull(p + strlen(key), NULL, 10);
}

/* SIGUSR1, and the "status: udp:" line it makes the daemon write. */
static void
udp_status(struct daemon *dm, struct udp_counts *c)
{
	const char	*needle = "status: udp: ";
	const char	*p;
	int		 n = h_log_count(dm, needle);

	ck_assert_int_eq(kill(dm->pid, SIGUSR1), 0);
	ck_assert_int_eq(h_log_wait_count(dm, needle, n + 1, 5000), 0);
	ck_assert_int_eq(h_log_last(dm, needle, c->line, sizeof(c->line)), 0);
	p = strstr(c->line, needle);
	ck_assert_int_eq(sscanf(p + strlen(needle), "%llu datagrams received, "
	    "%llu echoed", &c->received, &c->echoed), 2);
	c->broadcast = reason(p, "broadcast");
	c->loop = reason(p, "loop");
}

/*
 * A datagram to 10.99.0.255 gets no answer, and is counted as dropped
 * for its destination, once the daemon has read it.
 */
static void
expect_broadcast_dropped(int fd)
{
	struct udp_counts	c;
	uint64_t		deadline;

	send_to(fd, NET_BROADCAST, ECHO_PORT, "broadcast");
	deadline = sig_monotonic_ms() + 5000;
	do {
		udp_status(&d, &c);
		ck_assert_msg(!came_back(fd, "broadcast"), "a datagram sent "
		    "to %s was answered: %s", NET_BROADCAST, c.line);
	} while (c.broadcast != 1 && h_remaining_ms(deadline) > 0);
	ck_assert_msg(c.broadcast == 1, "not counted as broadcast: %s",
	    c.line);
}

/* [::]:7 with IPV6_V6ONLY off: what systemd passes for ListenDatagram=7. */
static int
dual_stack_socket(void)
{
	struct sockaddr_in6	sin6 = { .sin6_family = AF_INET6 };
	int			fd, off = 0;

	sin6.sin6_port = htons(ECHO_PORT);
	sin6.sin6_addr = in6addr_any;
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
	    sizeof(off)), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	return fd;
}

START_TEST(test_broadcast_over_a_dual_stack_socket_from_systemd)
{
	struct net	n;
	int		fd;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot make network namespaces");
	if (net_make(&n) == -1)
		CHECK_SKIP("cannot make network namespaces and a veth pair");
	d.listen_fd = dual_stack_socket();
	d.port = ECHO_PORT;
	start("workers = 2;\n");
	fd = net_client(&n);
	expect_unicast_answer(fd, NET_SERVER);
	expect_unicast_answer(fd, NET_SERVER2);
	expect_broadcast_dropped(fd);
	close(fd);
}
END_TEST

START_TEST(test_broadcast_over_an_ipv4_wildcard_socket)
{
	struct net	n;
	int		fd;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot make network namespaces");
	if (net_make(&n) == -1)
		CHECK_SKIP("cannot make network namespaces and a veth pair");
	d.port = ECHO_PORT;
	start("listen = [ \"udp:*:%P\" ];\nworkers = 2;\n");
	fd = net_client(&n);
	expect_unicast_answer(fd, NET_SERVER);
	expect_unicast_answer(fd, NET_SERVER2);
	expect_broadcast_dropped(fd);
	close(fd);
}
END_TEST

/*
 * One UDP datagram from 127.0.0.1 port "from" to port "to", whatever
 * holds "from": written with a raw socket, as a forger would.
 */
static void
forge(unsigned from, unsigned to, const char *text)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	struct udphdr		uh;
	char			buf[256];
	size_t			n = strlen(text);
	int			fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

	ck_assert_int_ge(fd, 0);
	memset(&uh, 0, sizeof(uh));
	uh.uh_sport = htons(from);
	uh.uh_dport = htons(to);
	uh.uh_ulen = htons(sizeof(uh) + n);
	uh.uh_sum = 0;			/* none: allowed over IPv4 */
	memcpy(buf, &uh, sizeof(uh));
	memcpy(buf + sizeof(uh), text, n);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(fd, buf, sizeof(uh) + n, 0,
	    (struct sockaddr *)&sin, sizeof(sin)), (ssize_t)(sizeof(uh) + n));
	close(fd);
}

/*
 * Two daemons (sockechod@7007 and @7008, say) on ports outside
 * udp_drop_source_ports, with no rate limit, and one datagram forged
 * from one to the other: they bounce it a few times, then one of them
 * knows its own answer and drops it, and the exchange stops.
 */
START_TEST(test_two_daemons_stop_a_forged_bounce)
{
	static const char *body = "listen = [ \"udp:127.0.0.1:%P\" ];\n"
	    "workers = 2;\nudp_max_datagrams_per_client = 0;\n"
	    "udp_max_bytes_per_client = 0;\nudp_max_datagrams = 0;\n";
	struct daemon		b;
	struct udp_counts	ca, cb, ca2, cb2;
	uint64_t		deadline;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot forge a datagram");
	start(body);
	h_init(&b);
	ck_assert_int_eq(h_start_config(&b, "%s", body), 0);
	forge(b.port, d.port, "bounce me");
	deadline = sig_monotonic_ms() + 10000;
	do {
		udp_status(&d, &ca);
		udp_status(&b, &cb);
	} while (ca.loop + cb.loop == 0 && h_remaining_ms(deadline) > 0);
	ck_assert_msg(ca.loop + cb.loop == 1, "no loop drop in 10 s: A %s; "
	    "B %s", ca.line, cb.line);
	/*
	 * The one datagram is gone: nothing moves any more. The two reads
	 * above are not one instant (A may have echoed once more before B
	 * dropped it), so the counts are read again and must then stay put
	 * for STILL_MS.
	 */
	udp_status(&d, &ca);
	udp_status(&b, &cb);
	deadline = sig_monotonic_ms() + STILL_MS;
	do {
		udp_status(&d, &ca2);
		udp_status(&b, &cb2);
		ck_assert_msg(ca2.echoed == ca.echoed &&
		    cb2.echoed == cb.echoed, "still bouncing: A %s; B %s",
		    ca2.line, cb2.line);
	} while (h_remaining_ms(deadline) > 0);
	fprintf(stderr, "forged bounce: A echoed %llu, B echoed %llu, then "
	    "dropped as a loop\n", ca.echoed, cb.echoed);
	ck_assert_msg(ca.echoed <= BOUNCES_MAX && cb.echoed <= BOUNCES_MAX,
	    "A %s; B %s", ca.line, cb.line);
	h_cleanup(&b);
}
END_TEST

/* Send "text" to 127.0.0.1:d.port from fd; whether it came back in 1 s. */
static bool
asked_and_answered(int fd, const char *text)
{
	struct sockaddr_in	from;
	char			in[64];

	send_to(fd, "127.0.0.1", d.port, text);
	while (receive(fd, in, sizeof(in), 1000, &from) >= 0)
		if (strcmp(in, text) == 0)
			return true;
	return false;
}

/*
 * The loop detector and clients: numbered questions of one length, one
 * at a time from one socket, are all answered; the same bytes asked again
 * right after each answer lose one question in nine, as sockechod(8)
 * says, and are answered again after it.
 */
START_TEST(test_clients_that_repeat_themselves)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	char			text[32];
	unsigned		i, answered = 0;
	int			fd;

	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 1;\n");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	for (i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "question %02u", i);
		ck_assert_msg(asked_and_answered(fd, text), "%s: no answer",
		    text);
	}
	for (i = 0; i < 10; i++)
		answered += asked_and_answered(fd, "the same again");
	ck_assert_uint_eq(answered, 9);
	close(fd);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("udp_abuse");
	TCase	*tc = tcase_create("udp_abuse");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_broadcast_over_a_dual_stack_socket_from_systemd);
	tcase_add_test(tc, test_broadcast_over_an_ipv4_wildcard_socket);
	tcase_add_test(tc, test_two_daemons_stop_a_forged_bounce);
	tcase_add_test(tc, test_clients_that_repeat_themselves);
	suite_add_tcase(s, tc);
	return s;
}
