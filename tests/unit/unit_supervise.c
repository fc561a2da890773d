/* SPDX-License-Identifier: ISC */
/* unit_supervise.c: supervise.c: respawn, backoff, hung workers, recycling. */
#include "build-config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "master/supervise.h"
#include "worker/worker.h"

/* Wait statuses as waitpid() reports them. */
#define EXITED(code)	(((code) & 0xff) << 8)
#define SIGNALED(sig)	((sig) & 0x7f)

static struct worker_exit
death(int wstatus, bool ready, bool expected, uint64_t lifetime_ms)
{
	struct worker_exit	e;

	memset(&e, 0, sizeof(e));
	e.wstatus = wstatus;
	e.ready = ready;
	e.expected = expected;
	e.lifetime_ms = lifetime_ms;
	e.now_ms = 1000000 + lifetime_ms;
	return e;
}

static const struct early_case {
	int		wstatus;
	bool		ready;
	uint64_t	lifetime_ms;
	bool		early;
} early_cases[] = {
	{ SIGNALED(SIGABRT), false, 5, true },		/* crash at start */
	{ EXITED(1), false, 5, true },
	{ SIGNALED(SIGKILL), false, 5, true },		/* never served */
	{ SIGNALED(SIGSEGV), true, 2000, true },	/* crash soon after */
	{ EXITED(0), true, 2000, true },		/* unasked exit */
	{ SIGNALED(SIGKILL), true, 200, false },	/* killed from outside */
	{ SIGNALED(SIGTERM), true, 200, false },
	{ SIGNALED(SIGSEGV), true, 9999, true },	/* just short of healthy */
	{ SIGNALED(SIGSEGV), true, 10000, false },	/* healthy: SUPERVISE_HEALTHY_MS */
	{ EXITED(1), true, 10000, false },
	{ SIGNALED(SIGSEGV), true, 29999, false },
	{ SIGNALED(SIGSEGV), true, 60000, false },	/* after a healthy run */
};

START_TEST(test_early_death)
{
	const struct early_case	*c = &early_cases[_i];
	struct worker_exit	 e = death(c->wstatus, c->ready, false,
	    c->lifetime_ms);

	ck_assert_int_eq(supervise_early_death(&e), c->early);
}
END_TEST

START_TEST(test_backoff_doubles_to_a_bound)
{
	static const uint64_t	expect[] = { 100, 200, 400, 800, 1600, 3200,
	    6400, 12800, 25600, 30000, 30000, 30000 };
	struct backoff		b = { 0, 0, 0 };
	struct worker_exit	e = death(SIGNALED(SIGABRT), false, false, 3);
	uint64_t		delay;
	size_t			i;

	for (i = 0; i < nitems(expect); i++) {
		ck_assert_int_eq(supervise_exit(&b, &e, &delay),
		    SUPERVISE_REPLACE);
		ck_assert_uint_eq(delay, expect[i]);
		ck_assert_uint_eq(b.streak, i + 1);
	}
	for (i = 0; i < 100; i++)
		supervise_exit(&b, &e, &delay);
	ck_assert_uint_eq(delay, SUPERVISE_BACKOFF_MAX_MS);
}
END_TEST

START_TEST(test_healthy_death_resets_and_respawns_at_once)
{
	struct backoff		b = { 0, 0, 0 };
	struct worker_exit	crash = death(SIGNALED(SIGABRT), false, false, 3);
	struct worker_exit	later = death(SIGNALED(SIGSEGV), true, false,
	    3600000);
	struct worker_exit	killed = death(SIGNALED(SIGKILL), true, false, 50);
	uint64_t		delay;

	supervise_exit(&b, &crash, &delay);
	supervise_exit(&b, &crash, &delay);
	ck_assert_uint_eq(b.streak, 2);
	ck_assert_int_eq(supervise_exit(&b, &later, &delay), SUPERVISE_REPLACE);
	ck_assert_uint_eq(delay, 0);
	ck_assert_uint_eq(b.streak, 0);
	ck_assert_int_eq(supervise_exit(&b, &killed, &delay), SUPERVISE_REPLACE);
	ck_assert_uint_eq(delay, 0);
}
END_TEST

START_TEST(test_expected_and_fatal_exits)
{
	struct backoff		b = { 0, 0, 0 };
	struct worker_exit	drained = death(EXITED(0), true, true, 5000);
	struct worker_exit	cannot = death(EXITED(WORKER_EXIT_FATAL), false,
	    false, 2);
	struct worker_exit	cannot_asked = death(EXITED(WORKER_EXIT_FATAL),
	    false, true, 2);
	uint64_t		delay;

	ck_assert_int_eq(supervise_exit(&b, &drained, &delay), SUPERVISE_DONE);
	ck_assert_uint_eq(b.streak, 0);
	ck_assert_int_eq(supervise_exit(&b, &cannot, &delay), SUPERVISE_FATAL);
	ck_assert_int_eq(supervise_exit(&b, &cannot_asked, &delay),
	    SUPERVISE_DONE);
	ck_assert_uint_eq(b.streak, 0);
}
END_TEST

START_TEST(test_recovery_needs_a_quiet_complete_pool)
{
	struct backoff	b = { 3, 50000, 400 };

	ck_assert(!supervise_recovered(&b, 55000, true));
	ck_assert(!supervise_recovered(&b, 59999, true));
	ck_assert(!supervise_recovered(&b, 70000, false));
	ck_assert(supervise_recovered(&b, 60000, true));
	ck_assert_uint_eq(b.streak, 0);
	ck_assert(!supervise_recovered(&b, 90000, true));	/* once */
}
END_TEST

START_TEST(test_health)
{
	ck_assert_int_eq(supervise_health(10000, 9900, 0, 3000), HEALTH_OK);
	ck_assert_int_eq(supervise_health(10000, 7000, 0, 3000), HEALTH_OK);
	ck_assert_int_eq(supervise_health(10000, 6999, 0, 3000), HEALTH_HUNG);
	ck_assert_int_eq(supervise_health(10000, 0, 0, 0), HEALTH_OK);
	ck_assert_int_eq(supervise_health(10000, 0, 9000, 3000),
	    HEALTH_RECOVERING);
	ck_assert_int_eq(supervise_health(20000, 0, 9000, 3000), HEALTH_STUCK);
	/* A heartbeat from the future (clock read order) is no hang. */
	ck_assert_int_eq(supervise_health(10000, 10005, 0, 3000), HEALTH_OK);
}
END_TEST

START_TEST(test_recycle_limit)
{
	uint64_t	seen_low = UINT64_MAX, seen_high = 0, v;
	unsigned	r;

	ck_assert_uint_eq(supervise_recycle_limit(0, 100, 12345), 0);
	ck_assert_uint_eq(supervise_recycle_limit(500, 0, 12345), 500);
	for (r = 0; r < 1000; r++) {
		v = supervise_recycle_limit(500, 50, r * 2654435761u);
		ck_assert_uint_ge(v, 500);
		ck_assert_uint_le(v, 550);
		seen_low = v < seen_low ? v : seen_low;
		seen_high = v > seen_high ? v : seen_high;
	}
	/* Both ends of the range are reached: 500 + 0 and 500 + 50. */
	ck_assert_uint_eq(seen_low, 500);
	ck_assert_uint_eq(seen_high, 550);
	ck_assert_uint_eq(supervise_recycle_limit(500, 50, 50), 550);
	ck_assert_uint_eq(supervise_recycle_limit(500, 50, 51), 500);
	ck_assert_uint_eq(supervise_recycle_limit(500, 1, 1), 501);
}
END_TEST

START_TEST(test_describe_exit)
{
	char	buf[128];

	supervise_describe_exit(EXITED(3), buf, sizeof(buf));
	ck_assert_str_eq(buf, "exited with status 3");
	supervise_describe_exit(SIGNALED(SIGSEGV), buf, sizeof(buf));
	ck_assert_str_eq(buf, "killed by signal 11 (SIGSEGV)");
	supervise_describe_exit(SIGNALED(SIGABRT) | 0x80, buf, sizeof(buf));
	ck_assert_str_eq(buf, "killed by signal 6 (SIGABRT), core dumped");
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("supervise");
	TCase	*tc = tcase_create("supervise");

	tcase_add_loop_test(tc, test_early_death, 0,
	    nitems(early_cases));
	tcase_add_test(tc, test_backoff_doubles_to_a_bound);
	tcase_add_test(tc, test_healthy_death_resets_and_respawns_at_once);
	tcase_add_test(tc, test_expected_and_fatal_exits);
	tcase_add_test(tc, test_recovery_needs_a_quiet_complete_pool);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_recycle_limit);
	tcase_add_test(tc, test_describe_exit);
	suite_add_tcase(s, tc);
	return s;
}
