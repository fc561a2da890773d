/* SPDX-License-Identifier: ISC */
/*
 * integ_balance.c: how the real daemon spreads connections over its
 * workers. Bursts of idle connections and a steady arrival, then each
 * worker's open connections counted from its descriptors in /proc: the
 * counts, never the timing, are asserted. And connections that arrive
 * while a reloaded generation drains are served at once.
 */
#include "build-config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define WORKERS_MAX	8
#define CONNS_MAX	1000
#define SETTLE_MS	10000	/* for every connection to be accepted */
#define STEADY		100	/* connections of the steady arrival */
#define STEADY_MS	500	/* 30-80 ms at load 9; ~1 s if nobody is woken */

/* A daemon of n workers that never closes an idle connection on its own. */
static void
start_pool(unsigned n)
{
	char		body[512];
	struct rlimit	rl;

	/* Our end of 1000 connections, and the daemon's. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = %u;\nmax_connections = 4096;\n"
	    "max_connections_per_client = 0;\nidle_timeout = 0;\n", n);
	start(body);
	if (h_wait_children(d.pid, (int)n, 5000) != 0)
		ck_abort_msg("no pool of %u workers", n);
}

static int
sockets_of(pid_t pid)
{
	char		 path[64], fdpath[320], link[64];
	struct dirent	*de;
	DIR		*dir;
	ssize_t		 len;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		if ((len = readlink(fdpath, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:", 7) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

/* The workers, and the sockets each holds without a connection. */
struct pool_view {
	pid_t	pid[WORKERS_MAX];
	int	base[WORKERS_MAX];
	int	open[WORKERS_MAX];
	int	n;
};

static void
view_init(struct pool_view *v, unsigned workers)
{
	int	i;

	v->n = h_children(d.pid, v->pid, WORKERS_MAX);
	ck_assert_int_eq(v->n, (int)workers);
	for (i = 0; i < v->n; i++)
		ck_assert_int_ge(v->base[i] = sockets_of(v->pid[i]), 0);
}

/* Each worker's open connections; the total. */
static int
view_read(struct pool_view *v)
{
	int	i, total = 0;

	for (i = 0; i < v->n; i++) {
		v->open[i] = sockets_of(v->pid[i]) - v->base[i];
		total += v->open[i];
	}
	return total;
}

/* Wait until the workers hold "want" connections in all. */
static int
view_settle(struct pool_view *v, int want)
{
	uint64_t	deadline = sig_monotonic_ms() + SETTLE_MS;
	int		total;

	while ((total = view_read(v)) != want && h_remaining_ms(deadline) > 0)
		usleep(5000);
	return total;
}

static void
check_spread(struct pool_view *v, int nconns, const char *pattern,
    double limit)
{
	char	counts[256];
	int	i, min, max, off = 0, total;

	total = view_settle(v, nconns);
	min = max = v->open[0];
	for (i = 0; i < v->n; i++) {
		if (v->open[i] < min)
			min = v->open[i];
		if (v->open[i] > max)
			max = v->open[i];
		off += snprintf(counts + off, sizeof(counts) - off, "%s%d",
		    i ? "/" : "", v->open[i]);
	}
	printf("balance: %d workers, %s of %d: %s, max/min %.2f\n", v->n,
	    pattern, nconns, counts, min ? (double)max / min : 0.0);
	ck_assert_msg(total == nconns, "%d of %d connections accepted",
	    total, nconns);
	ck_assert_msg(min > 0 && (double)max <= limit * min,
	    "%s of %d over %d workers: %s (max/min above %.2f)", pattern,
	    nconns, v->n, counts, limit);
}

static void
close_all(int *fd, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		close(fd[i]);
}

/*
 * Bursts as fast as connect() returns (the kernel completes each before
 * a worker accepts), then a steady arrival: one connection, and the next
 * only once a worker took it. Each pattern starts from an empty pool.
 */
static void
check_patterns(unsigned workers, double limit)
{
	static const int bursts[] = { 16, 100, CONNS_MAX };
	static int	 fd[CONNS_MAX];
	struct pool_view v;
	uint64_t	 t0;
	size_t		 b;
	int		 i;

	start_pool(workers);
	view_init(&v, workers);
	for (b = 0; b < nitems(bursts); b++) {
		t0 = sig_monotonic_ms();
		for (i = 0; i < bursts[b]; i++)
			ck_assert_int_ge(fd[i] = h_connect(d.host, d.port,
			    5000), 0);
		check_spread(&v, bursts[b], "burst", limit);
		printf("balance: %d workers, burst of %d accepted in %llu ms\n",
		    v.n, bursts[b], (unsigned long long)(sig_monotonic_ms() - t0));
		close_all(fd, bursts[b]);
		ck_assert_int_eq(view_settle(&v, 0), 0);
	}
	t0 = sig_monotonic_ms();
	for (i = 0; i < STEADY; i++) {
		ck_assert_int_ge(fd[i] = h_connect(d.host, d.port, 5000), 0);
		ck_assert_int_eq(view_settle(&v, i + 1), i + 1);
	}
	t0 = sig_monotonic_ms() - t0;
	check_spread(&v, STEADY, "steady arrival", limit);
	/*
	 * Never a queue without a waiter: a worker leaving its turn wakes the
	 * next at once (worker_turn_wake()), not at its BALANCE_RECHECK_MS timer,
	 * which costs up to 100 ms to one connection in four here (1 s).
	 */
	printf("balance: %d workers, steady arrival of %d took %llu ms\n", v.n,
	    STEADY, (unsigned long long)t0);
	ck_assert_msg(t0 < STEADY_MS, "%d connections one at a time took %llu "
	    "ms", STEADY, (unsigned long long)t0);
	close_all(fd, STEADY);
}

START_TEST(test_two_workers_within_1_25)
{
	check_patterns(2, 1.25);
}
END_TEST

START_TEST(test_eight_workers_within_1_5)
{
	check_patterns(8, 1.5);
}
END_TEST

#define RELOADS		6
#define HELD		4	/* keep the old generation draining */
#define ARRIVALS	20
#define PROMPT_MS	1000

/*
 * After each reload, while the old generation drains the connections it
 * holds, new connections arrive one at a time: every one is echoed within
 * PROMPT_MS, none waits in the queue for the next to arrive.
 */
START_TEST(test_arrivals_during_drain_served_promptly)
{
	int	held[HELD], r, i, fd, late = 0, reloaded;
	char	in[8];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "shutdown_timeout = 30;\nidle_timeout = 0;\n");
	for (r = 0; r < RELOADS; r++) {
		for (i = 0; i < HELD; i++)
			ck_assert_int_ge(held[i] = h_connect(d.host, d.port,
			    2000), 0);
		ck_assert_int_eq(h_echo(held[HELD - 1], "hold", 4, in, 5000),
		    0);
		/* Its READY=1 and STATUS= datagrams would fill our queue. */
		h_notify_drain(&d);
		reloaded = h_log_count(&d, "configuration reloaded");
		kill(d.pid, SIGHUP);
		if (h_log_wait_count(&d, "configuration reloaded",
		    reloaded + 1, 10000) != 0) {
			h_log_dump(&d);
			ck_abort_msg("reload %d did not complete", r + 1);
		}
		for (i = 0; i < ARRIVALS; i++) {
			ck_assert_int_ge(fd = h_connect(d.host, d.port, 2000),
			    0);
			if (h_echo(fd, "ping", 4, in, PROMPT_MS) != 0)
				late++;
			close(fd);
		}
		close_all(held, HELD);
	}
	ck_assert_msg(late == 0, "%d of %d connections after a reload not "
	    "echoed within %d ms", late, RELOADS * ARRIVALS, PROMPT_MS);
}
END_TEST

/*
 * In a pool of more than two, the kernel tells one watching worker of a
 * waiting connection (EPOLLEXCLUSIVE). Three workers of one connection
 * each and a burst of three: the one told takes one and is full, and
 * must hand the others on (worker_handoff()); else they wait, unheard,
 * for a fourth connection that never comes. Ten bursts, each connection
 * echoed within PROMPT_MS.
 */
START_TEST(test_exclusive_turn_hands_off)
{
	int	fd[3], r, i, late = 0;
	char	in[8];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 3;\n"
	    "max_connections = 1;\nmax_connections_per_client = 0;\n"
	    "idle_timeout = 0;\n");
	for (r = 0; r < 10; r++) {
		for (i = 0; i < 3; i++)
			ck_assert_int_ge(fd[i] = h_connect(d.host, d.port,
			    2000), 0);
		for (i = 0; i < 3; i++)
			late += h_echo(fd[i], "ping", 4, in, PROMPT_MS) != 0;
		close_all(fd, 3);
		ck_assert_int_eq(h_wait_children(d.pid, 3, 5000), 0);
	}
	ck_assert_msg(late == 0, "%d of 30 connections not echoed within %d "
	    "ms", late, PROMPT_MS);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("balance");
	TCase	*tc = tcase_create("balance");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_two_workers_within_1_25);
	tcase_add_test(tc, test_eight_workers_within_1_5);
	tcase_add_test(tc, test_arrivals_during_drain_served_promptly);
	tcase_add_test(tc, test_exclusive_turn_hands_off);
	suite_add_tcase(s, tc);
	return s;
}
