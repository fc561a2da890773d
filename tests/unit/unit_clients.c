/* SPDX-License-Identifier: ISC */
/* unit_clients.c: clients.c: counts per client and worker, rates, full table, release. */
#include "build-config.h"

#include <sys/wait.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"

#include "shm/clients.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct clients_limits limits3 = { 3, 0, 32, 64 };
static const struct clients_limits limits3_rate = { 3, 10, 32, 64 };

static struct acl_addr
addr(const char *text)
{
	struct acl_addr	a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(a.family, text, a.bytes), 1);
	return a;
}

static size_t
used(struct clients *t)
{
	size_t		n;
	uint64_t	full;

	clients_stats(t, &n, &full);
	return n;
}

static uint64_t
full_count(struct clients *t)
{
	size_t		n;
	uint64_t	full;

	clients_stats(t, &n, &full);
	return full;
}

static struct acl_addr
key(const char *text, const struct clients_limits *l)
{
	struct acl_addr	a = addr(text), k;

	clients_key(&a, l, &k);
	return k;
}

START_TEST(test_limit_across_workers)
{
	struct clients	*t = clients_create(1024);
	struct acl_addr	 a = key("192.0.2.1", &limits3);
	struct acl_addr	 b = key("192.0.2.2", &limits3);

	ck_assert_ptr_nonnull(t);
	/* Three connections on three workers: the fourth is one too many. */
	ck_assert_int_eq(clients_enter(t, &a, 0, &limits3, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &a, 1, &limits3, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &a, 2, &limits3, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &a, 3, &limits3, 0),
	    CLIENTS_TOO_MANY);
	ck_assert_int_eq(clients_enter(t, &a, 0, &limits3, 0),
	    CLIENTS_TOO_MANY);
	ck_assert_uint_eq(clients_count(t, &a), 3);
	/* Another client is not affected. */
	ck_assert_int_eq(clients_enter(t, &b, 0, &limits3, 0), CLIENTS_OK);
	ck_assert_uint_eq(clients_count(t, &b), 1);
	/* One leaves: room for one more; a gone entry leaves no trace. */
	clients_leave(t, &a, 1);
	ck_assert_uint_eq(clients_count(t, &a), 2);
	ck_assert_int_eq(clients_enter(t, &a, 3, &limits3, 0), CLIENTS_OK);
	ck_assert_uint_eq(used(t), 6);	/* 4 of workers, 2 totals */
	/* Worker 0 dies: its share of every client is released. */
	ck_assert_uint_eq(clients_release_owner(t, 0), 2);
	ck_assert_uint_eq(clients_count(t, &a), 2);
	ck_assert_uint_eq(clients_count(t, &b), 0);
	clients_leave(t, &b, 0);	/* after a release: harmless */
	ck_assert_uint_eq(clients_count(t, &b), 0);
	clients_destroy(t);
}
END_TEST

START_TEST(test_prefixes_group_clients)
{
	static const struct clients_limits l = { 2, 0, 24, 64 };
	struct clients	*t = clients_create(64);
	struct acl_addr	 a = key("198.51.100.7", &l), b = key("198.51.100.9", &l);
	struct acl_addr	 c = key("2001:db8:1:2::1", &l);
	struct acl_addr	 d = key("2001:db8:1:2:ffff::5", &l);
	struct acl_addr	 e = key("2001:db8:1:3::1", &l);
	struct acl_addr	 m = key("::ffff:198.51.100.200", &l);

	ck_assert_int_eq(clients_enter(t, &a, 0, &l, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &b, 1, &l, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &b, 1, &l, 0), CLIENTS_TOO_MANY);
	ck_assert_int_eq(clients_enter(t, &c, 0, &l, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &d, 0, &l, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &d, 0, &l, 0), CLIENTS_TOO_MANY);
	ck_assert_int_eq(clients_enter(t, &e, 0, &l, 0), CLIENTS_OK);
	/* The mapped form is its own key (acl_addr_from_sockaddr unmaps). */
	ck_assert_int_eq(m.family, AF_INET6);
	clients_destroy(t);
}
END_TEST

START_TEST(test_rate_per_second)
{
	static const struct clients_limits l = { 0, 2, 32, 64 };
	struct clients	*t = clients_create(64);
	struct acl_addr	 a = key("192.0.2.1", &l), b = key("192.0.2.2", &l);

	ck_assert_int_eq(clients_enter(t, &a, 0, &l, 5000), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &a, 1, &l, 5100), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &a, 1, &l, 5999), CLIENTS_TOO_FAST);
	/* Only this client: the service is never off for everyone. */
	ck_assert_int_eq(clients_enter(t, &b, 0, &l, 5999), CLIENTS_OK);
	/* The next second starts afresh; stale seconds are swept. */
	ck_assert_int_eq(clients_enter(t, &a, 1, &l, 6000), CLIENTS_OK);
	ck_assert_uint_eq(clients_rate_entries(t), 2);
	ck_assert_uint_eq(clients_expire(t, 7000), 2);
	ck_assert_uint_eq(clients_rate_entries(t), 0);
	ck_assert_int_eq(clients_enter(t, &a, 1, &l, 7000), CLIENTS_OK);
	ck_assert_uint_eq(clients_rate_entries(t), 1);
	ck_assert_uint_eq(clients_expire(t, 7999), 0);
	clients_destroy(t);
}
END_TEST

START_TEST(test_full_table_fails_safe)
{
	static const struct clients_limits l = { 10, 0, 32, 64 };
	struct clients	*t = clients_create(16);
	struct acl_addr	 a;
	char		 text[32];
	unsigned	 i, ok = 0, full = 0;

	for (i = 0; i < 40; i++) {
		snprintf(text, sizeof(text), "10.0.%u.%u", i / 200, i % 200 + 1);
		a = key(text, &l);
		switch (clients_enter(t, &a, i % 3, &l, 0)) {
		case CLIENTS_OK:
			ok++;
			break;
		case CLIENTS_FULL:
			full++;
			break;
		default:
			ck_abort_msg("unexpected verdict");
		}
	}
	ck_assert_uint_eq(ok, 6);	/* 3/4 of 16, 2 entries each */
	ck_assert_uint_eq(full, 34);
	ck_assert_uint_eq(full_count(t), 34);
	/* Every counted client can still be found and leave. */
	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "10.0.0.%u", i + 1);
		a = key(text, &l);
		ck_assert_uint_eq(clients_count(t, &a), 1);
		clients_leave(t, &a, i % 3);
	}
	ck_assert_uint_eq(used(t), 0);
	ck_assert_ptr_null(clients_create(1000));	/* not a power of two */
	clients_destroy(t);
}
END_TEST

/* Removal in the middle of probe runs keeps every other entry findable. */
START_TEST(test_removal_keeps_runs)
{
	static const struct clients_limits l = { 100, 0, 32, 64 };
	struct clients	*t = clients_create(128);
	struct acl_addr	 a;
	char		 text[32];
	unsigned	 i, j;

	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "10.1.0.%u", i);
		a = key(text, &l);
		for (j = 0; j <= i % 4; j++)
			ck_assert_int_eq(clients_enter(t, &a, j, &l, 0),
			    CLIENTS_OK);
	}
	ck_assert_uint_gt(clients_release_owner(t, 1), 0);
	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "10.1.0.%u", i);
		a = key(text, &l);
		ck_assert_uint_eq(clients_count(t, &a), i % 4 == 0 ? 1 : i % 4);
	}
	clients_destroy(t);
}
END_TEST

/*
 * The count of rate entries, which lets the sweep skip a table without
 * any, stays exact through inserts, the shifts of removals, sweeps and a
 * release: a count too high costs a walk, one too low keeps stale rate
 * entries (the table fills). Each row: clients, their connections each
 * (on workers 0, 1, ...), the second; then the owner released.
 */
START_TEST(test_rate_entries_counted)
{
	static const struct {
		unsigned	clients, conns, second, release;
		size_t		rates_after_enter, swept_next_second;
	} rows[] = {
		{ 0, 0, 5, 0, 0, 0 },
		{ 1, 1, 5, 0, 1, 1 },
		{ 10, 3, 9, 1, 10, 10 },
		{ 40, 2, 11, 0, 40, 40 },	/* 160 of 256: runs, shifts */
	};
	static const struct clients_limits l = { 100, 1000, 32, 64 };
	struct clients	*t;
	struct acl_addr	 a;
	char		 text[32];
	unsigned	 r, i, j;

	for (r = 0; r < nitems(rows); r++) {
		t = clients_create(256);
		for (i = 0; i < rows[r].clients; i++) {
			snprintf(text, sizeof(text), "10.2.%u.%u", r, i);
			a = key(text, &l);
			for (j = 0; j < rows[r].conns; j++)
				ck_assert_int_eq(clients_enter(t, &a, j, &l,
				    rows[r].second * 1000), CLIENTS_OK);
		}
		ck_assert_uint_eq(clients_rate_entries(t),
		    rows[r].rates_after_enter);
		ck_assert_uint_ge(clients_release_owner(t, rows[r].release),
		    0);
		ck_assert_uint_eq(clients_expire(t, rows[r].second * 1000),
		    0);
		ck_assert_uint_eq(clients_rate_entries(t),
		    rows[r].rates_after_enter);
		ck_assert_uint_eq(clients_expire(t,
		    (rows[r].second + 1) * 1000), rows[r].swept_next_second);
		ck_assert_uint_eq(clients_rate_entries(t), 0);
		clients_destroy(t);
	}
}
END_TEST

#define OWNERS	1024	/* 512 workers, old and new during a reload */

/*
 * One client's connections on OWNERS workers: all counted up to the
 * limit, whatever the number of workers (before: the entries of one
 * client's workers shared one home, and its 256th worker was refused as
 * a full table with 512 of 65,536 entries in use).
 */
START_TEST(test_one_client_on_many_workers)
{
	static const struct clients_limits l = { OWNERS, 0, 32, 64 };
	struct clients	*t = clients_create(CLIENTS_ENTRIES);
	struct acl_addr	 a = key("192.0.2.1", &l);
	uint32_t	 pid;
	unsigned	 ok = 0;

	for (pid = 1000; pid < 1000 + OWNERS; pid++)
		ok += clients_enter(t, &a, pid, &l, 0) == CLIENTS_OK;
	ck_assert_uint_eq(ok, OWNERS);
	ck_assert_uint_eq(clients_count(t, &a), OWNERS);
	ck_assert_uint_eq(full_count(t), 0);
	ck_assert_int_eq(clients_enter(t, &a, 999, &l, 0), CLIENTS_TOO_MANY);
	for (pid = 1000; pid < 1000 + OWNERS; pid += 2)
		clients_leave(t, &a, pid);
	ck_assert_uint_eq(clients_count(t, &a), OWNERS / 2);
	for (pid = 1001; pid < 1000 + OWNERS; pid += 2)
		ck_assert_int_eq(clients_release_owner(t, pid), 1);
	ck_assert_uint_eq(clients_count(t, &a), 0);
	ck_assert_uint_eq(used(t), 0);
	clients_destroy(t);
}
END_TEST

/* A worker killed while it holds the lock does not wedge the others. */
START_TEST(test_holder_killed)
{
	struct clients	*t = clients_create(64);
	struct acl_addr	 a = key("192.0.2.1", &limits3);
	int		 p[2], status;
	char		 c;
	pid_t		 pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		/* Enter, then die inside the lock. */
		clients_enter(t, &a, 5, &limits3_rate, 0);
		clients_lock(t);
		(void)!write(p[1], "x", 1);
		pause();
		coverage_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert_uint_eq(clients_count(t, &a), 1);
	/* The repair counted the rate entry again, so the sweep sees it. */
	ck_assert_uint_eq(clients_rate_entries(t), 1);
	ck_assert_uint_eq(clients_expire(t, 1000), 1);
	ck_assert_uint_eq(clients_release_owner(t, 5), 1);
	ck_assert_uint_eq(clients_count(t, &a), 0);
	clients_destroy(t);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("clients");
	TCase	*tc = tcase_create("clients");

	tcase_add_test(tc, test_limit_across_workers);
	tcase_add_test(tc, test_prefixes_group_clients);
	tcase_add_test(tc, test_rate_per_second);
	tcase_add_test(tc, test_rate_entries_counted);
	tcase_add_test(tc, test_full_table_fails_safe);
	tcase_add_test(tc, test_removal_keeps_runs);
	tcase_add_test(tc, test_one_client_on_many_workers);
	tcase_add_test(tc, test_holder_killed);
	suite_add_tcase(s, tc);
	return s;
}
