/* SPDX-License-Identifier: ISC */
/* unit_balance.c: balance.c: whose turn it is to take a connection. */
#include "build-config.h"

#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "shm/balance.h"

#define NOW	100000
#define PEERS	4
#define FRESH	NOW
#define STALE	(NOW - BALANCE_STALE_MS - 1)
#define AHEAD	(NOW + 5)	/* read after our clock: fresh */

/* One slot of the board, as a test case describes it. */
struct peer {
	uint32_t	generation;	/* 0: free slot */
	uint32_t	state;
	uint32_t	taking;
	uint64_t	heartbeat_ms;
	uint64_t	open;
};

#define ACC	SCOREBOARD_ACCEPTING
#define RET	SCOREBOARD_RETIRING
#define DRN	SCOREBOARD_DRAINING
#define STA	SCOREBOARD_STARTING

/* Slot 0 is "self"; the others its peers. */
static const struct eligible_case {
	const char	*what;
	struct peer	 p[PEERS];
	bool		 eligible;
} cases[] = {
	{ "alone", { { 1, ACC, 1, FRESH, 5 } }, true },
	{ "equal load", { { 1, ACC, 1, FRESH, 3 }, { 1, ACC, 1, FRESH, 3 } },
	    true },
	{ "one more than a peer", { { 1, ACC, 1, FRESH, 1 },
	    { 1, ACC, 1, FRESH, 0 } }, false },
	{ "one fewer than a peer", { { 1, ACC, 1, FRESH, 7 },
	    { 1, ACC, 1, FRESH, 8 } }, true },
	{ "8 vs 7: no slack below 8", { { 1, ACC, 1, FRESH, 8 },
	    { 1, ACC, 1, FRESH, 7 } }, false },
	{ "9 vs 8: slack 1", { { 1, ACC, 1, FRESH, 9 },
	    { 1, ACC, 1, FRESH, 8 } }, true },
	{ "10 vs 8: past the slack", { { 1, ACC, 1, FRESH, 10 },
	    { 1, ACC, 1, FRESH, 8 } }, false },
	{ "the least of three", { { 1, ACC, 1, FRESH, 4 },
	    { 1, ACC, 1, FRESH, 5 }, { 1, ACC, 1, FRESH, 3 },
	    { 1, ACC, 1, FRESH, 9 } }, false },
	{ "other generation ignored", { { 2, ACC, 1, FRESH, 4 },
	    { 1, ACC, 1, FRESH, 0 } }, true },
	{ "draining peer ignored", { { 1, ACC, 1, FRESH, 4 },
	    { 1, DRN, 0, FRESH, 0 } }, true },
	{ "starting peer ignored", { { 1, ACC, 1, FRESH, 4 },
	    { 1, STA, 0, FRESH, 0 } }, true },
	{ "retiring peer counts", { { 1, ACC, 1, FRESH, 4 },
	    { 1, RET, 1, FRESH, 0 } }, false },
	{ "full or paused peer ignored", { { 1, ACC, 1, FRESH, 4 },
	    { 1, ACC, 0, FRESH, 0 } }, true },
	{ "hung peer ignored", { { 1, ACC, 1, FRESH, 4 },
	    { 1, ACC, 1, STALE, 0 } }, true },
	{ "heartbeat ahead of our clock counts", { { 1, ACC, 1, FRESH, 4 },
	    { 1, ACC, 1, AHEAD, 0 } }, false },
	{ "free slot ignored", { { 1, ACC, 1, FRESH, 4 },
	    { 0, SCOREBOARD_FREE, 0, FRESH, 0 } }, true },
	{ "1000 vs 880: within an eighth", { { 1, ACC, 1, FRESH, 990 },
	    { 1, ACC, 1, FRESH, 880 } }, true },
	{ "1000 vs 880: past an eighth", { { 1, ACC, 1, FRESH, 991 },
	    { 1, ACC, 1, FRESH, 880 } }, false },
};

/* The board a case describes; "watching" may be NULL (none watches). */
static void
fill(struct scoreboard_slot *board, const struct peer *p,
    const uint32_t *watching)
{
	size_t	i;

	memset(board, 0, PEERS * sizeof(*board));
	for (i = 0; i < PEERS; i++) {
		board[i].generation = p[i].generation;
		board[i].state = p[i].state;
		board[i].taking = p[i].taking;
		board[i].heartbeat_ms = p[i].heartbeat_ms;
		board[i].conns_open = p[i].open;
		board[i].watching = watching ? watching[i] : 0;
	}
}

START_TEST(test_eligible)
{
	const struct eligible_case	*c = &cases[_i];
	struct scoreboard_slot		 board[PEERS];

	fill(board, c->p, NULL);
	ck_assert_msg(balance_eligible(board, PEERS, 0, NOW) == c->eligible,
	    "%s: expected %s", c->what, c->eligible ? "eligible" : "not");
}
END_TEST

/* Slots past "nused" are not read, whatever they hold. */
START_TEST(test_reads_only_used_slots)
{
	struct scoreboard_slot	board[2];

	memset(board, 0, sizeof(board));
	board[0] = (struct scoreboard_slot){ .generation = 1, .state = ACC,
	    .taking = 1, .heartbeat_ms = NOW, .conns_open = 3 };
	board[1] = board[0];
	board[1].conns_open = 0;
	ck_assert(!balance_eligible(board, 2, 0, NOW));
	ck_assert(balance_eligible(board, 1, 0, NOW));
}
END_TEST

/* Slot 0 is "self": does a peer watch the listeners, so that none need waking? */
static const struct watched_case {
	const char	*what;
	struct peer	 p[PEERS];
	uint32_t	 watching[PEERS];
	bool		 watched;
} watched_cases[] = {
	{ "alone", { { 1, ACC, 1, FRESH, 5 } }, { 1 }, false },
	{ "a peer watches", { { 1, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, FRESH, 4 } }, { 0, 1 }, true },
	{ "no peer watches", { { 1, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, FRESH, 4 } }, { 0, 0 }, false },
	{ "only self watches", { { 1, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, FRESH, 4 } }, { 1, 0 }, false },
	{ "a retiring peer watches", { { 1, ACC, 1, FRESH, 5 },
	    { 1, RET, 1, FRESH, 4 } }, { 0, 1 }, true },
	{ "a hung peer's flag", { { 1, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, STALE, 4 } }, { 0, 1 }, false },
	{ "another generation's flag", { { 2, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, FRESH, 4 } }, { 0, 1 }, false },
	{ "a draining peer's flag", { { 1, ACC, 1, FRESH, 5 },
	    { 1, DRN, 0, FRESH, 4 } }, { 0, 1 }, false },
	{ "the third of four", { { 1, ACC, 1, FRESH, 5 },
	    { 1, ACC, 1, FRESH, 4 }, { 1, ACC, 1, FRESH, 4 },
	    { 1, ACC, 1, FRESH, 9 } }, { 0, 0, 1, 0 }, true },
};

START_TEST(test_watched)
{
	const struct watched_case	*c = &watched_cases[_i];
	struct scoreboard_slot		 board[PEERS];

	fill(board, c->p, c->watching);
	ck_assert_msg(balance_watched(board, PEERS, 0, NOW) == c->watched,
	    "%s: expected %s", c->what, c->watched ? "watched" : "not");
}
END_TEST

START_TEST(test_slack)
{
	ck_assert_uint_eq(balance_slack(0), 0);
	ck_assert_uint_eq(balance_slack(7), 0);
	ck_assert_uint_eq(balance_slack(8), 1);
	ck_assert_uint_eq(balance_slack(800), 100);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("balance");
	TCase	*tc = tcase_create("balance");

	tcase_add_loop_test(tc, test_eligible, 0, (int)nitems(cases));
	tcase_add_loop_test(tc, test_watched, 0, (int)nitems(watched_cases));
	tcase_add_test(tc, test_reads_only_used_slots);
	tcase_add_test(tc, test_slack);
	suite_add_tcase(s, tc);
	return s;
}
