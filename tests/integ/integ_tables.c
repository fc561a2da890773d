/* SPDX-License-Identifier: ISC */
/*
 * integ_tables.c: the real daemon's shared tables under attack. A worker
 * SIGKILLed inside each table's lock (tests/stress/sockechod-faulty) leaves UDP
 * and TCP echo working and no worker "killed as hung"; eight sources
 * that collide with a victim under main's old FNV-1a group cannot reset
 * its UDP bucket.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define ANSWER_MS	10000	/* service must be back within this */
#define HUNG_WATCH_MS	5000	/* 2.5 worker_timeouts without a hung kill */
#define OLD_GROUPS	1024	/* main's UDP_LIMIT_GROUPS */
#define ATTACKERS	8	/* main's UDP_LIMIT_WAYS */
#define ATTACK_MS	2000
#define LIMIT		100	/* udp_max_datagrams_per_client */

/* A UDP socket bound to the IPv4 loopback address "a" (host order). */
static int
udp_on(uint32_t a)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(a);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(d.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Send "ping" until it comes back; 0, or -1 past the deadline. */
static int
udp_answered(int fd, int timeout_ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	uint64_t	deadline = sig_monotonic_ms() + (uint64_t)timeout_ms;
	char		buf[16];

	while (h_remaining_ms(deadline) > 0) {
		(void)!send(fd, "ping", 4, 0);
		if (poll(&pfd, 1, 200) == 1 && recv(fd, buf, sizeof(buf), 0) == 4)
			return 0;
	}
	return -1;
}

static void
start_faulty(const char *fault)
{
	char	record[256];

	d.binary = h_env("SOCKECHOD_FAULTY", "./sockechod-faulty");
	snprintf(record, sizeof(record), "%s/fault-done", d.dir);
	setenv("SOCKECHOD_FAULT", fault, 1);
	setenv("SOCKECHOD_FAULT_RECORD", record, 1);
	start("listen = [ \"127.0.0.1:%P\", \"udp:127.0.0.1:%P\" ];\n"
	    "workers = 2;\nworker_timeout = 2;\n"
	    "max_connections_per_client = 100;\n"
	    "udp_max_datagrams_per_client = 1000;\n"
	    "udp_max_datagrams = 100000;\n");
	unsetenv("SOCKECHOD_FAULT");
	unsetenv("SOCKECHOD_FAULT_RECORD");
	ck_assert_int_eq(access(record, F_OK), -1);
}

/* The fault fired: a worker died inside; is everything still served? */
static void
expect_service(const char *record_dir)
{
	char		record[256];
	uint64_t	t0;
	int		fd, i;

	snprintf(record, sizeof(record), "%s/fault-done", record_dir);
	fd = udp_on(INADDR_LOOPBACK);
	for (i = 0; i < 3; i++) {
		ck_assert_msg(udp_answered(fd, ANSWER_MS) == 0,
		    "no UDP answer %d after the kill", i);
		ck_assert_msg(h_roundtrip(d.host, d.port, "after") == 0,
		    "no TCP echo %d after the kill", i);
	}
	ck_assert_int_eq(access(record, F_OK), 0);
	t0 = sig_monotonic_ms();
	while (sig_monotonic_ms() - t0 < HUNG_WATCH_MS) {
		ck_assert_int_eq(udp_answered(fd, ANSWER_MS), 0);
		ck_assert_int_eq(h_roundtrip(d.host, d.port, "still"), 0);
	}
	close(fd);
	if (h_log_has(&d, "shows no sign of life")) {
		h_log_dump(&d);
		ck_abort_msg("a worker was killed as hung");
	}
}

static const char *const kills[] = { "kill-in-udp-limit",
    "kill-in-udp-limit-global", "kill-in-clients" };

START_TEST(test_killed_inside_lock)
{
	int	fd;

	start_faulty(kills[_i]);
	/* Whatever takes the lock first dies in it: UDP or TCP. */
	fd = udp_on(INADDR_LOOPBACK);
	(void)!send(fd, "ping", 4, 0);
	close(fd);
	(void)h_roundtrip(d.host, d.port, "die");
	expect_service(d.dir);
}
END_TEST

/* main's group of a source: FNV-1a over its family and 16 address bytes. */
static size_t
old_group(uint32_t a)
{
	uint8_t		b[16] = { 0 };
	uint32_t	h = 2166136261u, net = htonl(a);
	size_t		i;

	memcpy(b, &net, 4);
	h = (h ^ AF_INET) * 16777619u;
	for (i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 16777619u;
	return h % OLD_GROUPS;
}

/* Read every datagram waiting; how many. */
static unsigned
drain(int fd)
{
	char		buf[64];
	unsigned	n = 0;

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		n++;
	return n;
}

/*
 * The victim 127.0.0.1 sends 20 datagrams, then each of eight sources in
 * its old group sends one, for 2 s. Its limit is 100/s with a burst of
 * 100: at most 300 answers (on main: about 5,800 a second).
 */
START_TEST(test_colliding_sources)
{
	int		victim, att[ATTACKERS], i, k;
	uint32_t	a = 0x7f000002;
	unsigned	answered = 0;
	uint64_t	t0;
	struct pollfd	pfd;

	start("listen = [ \"udp:127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "udp_max_datagrams_per_client = 100;\n"
	    "udp_max_bytes_per_client = 0;\nudp_max_datagrams = 0;\n");
	victim = udp_on(INADDR_LOOPBACK);
	for (k = 0; k < ATTACKERS; a++)
		if (old_group(a) == old_group(INADDR_LOOPBACK))
			att[k++] = udp_on(a);
	pfd.fd = victim;
	pfd.events = POLLIN;
	t0 = sig_monotonic_ms();
	while (sig_monotonic_ms() - t0 < ATTACK_MS) {
		for (i = 0; i < 20; i++)
			(void)!send(victim, "victim", 6, 0);
		for (k = 0; k < ATTACKERS; k++) {
			(void)!send(att[k], "x", 1, 0);
			drain(att[k]);
		}
		(void)poll(&pfd, 1, 1);
		answered += drain(victim);
	}
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 200) == 1)
		answered += drain(victim);
	printf("victim answered %u times in %d ms (limit %d/s)\n", answered,
	    ATTACK_MS, LIMIT);
	ck_assert_msg(answered <= LIMIT + LIMIT * ATTACK_MS / 1000 + 20,
	    "victim answered %u times", answered);
	ck_assert_uint_ge(answered, LIMIT);
	close(victim);
	for (k = 0; k < ATTACKERS; k++)
		close(att[k]);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("tables");
	TCase	*tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_add_loop_test(tc, test_killed_inside_lock, 0, nitems(kills));
	tcase_add_test(tc, test_colliding_sources);
	suite_add_tcase(s, tc);
	return s;
}
