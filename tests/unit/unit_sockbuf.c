/* SPDX-License-Identifier: ISC */
/*
 * unit_sockbuf.c: sockbuf.c: which connections keep autotuned buffers, and
 * what becomes of a send queue at a connection's end.
 */
#include "build-config.h"

#include <string.h>

#include <check.h>

#include "harness/check_main.h"

#include "worker/sockbuf.h"

#define SLOTS	4

/* One slot of the board: its state and its autotuned connections. */
struct slot {
	uint32_t	state;
	uint64_t	autotuned;
};

#define FREE	SCOREBOARD_FREE
#define STA	SCOREBOARD_STARTING
#define ACC	SCOREBOARD_ACCEPTING
#define RET	SCOREBOARD_RETIRING
#define DRN	SCOREBOARD_DRAINING

static const struct may_case {
	const char	*what;
	struct slot	 s[SLOTS];
	uint64_t	 limit;
	uint64_t	 sum;
	bool		 may;
} cases[] = {
	{ "none yet", { { ACC, 0 }, { ACC, 0 } }, 8, 0, true },
	{ "one below the limit", { { ACC, 4 }, { ACC, 3 } }, 8, 7, true },
	{ "at the limit", { { ACC, 4 }, { ACC, 4 } }, 8, 8, false },
	{ "over it (two said yes at once)", { { ACC, 5 }, { ACC, 4 } }, 8, 9,
	    false },
	{ "limit 0: every connection capped", { { ACC, 0 } }, 0, 0, false },
	{ "a draining worker's count", { { ACC, 0 }, { DRN, 8 } }, 8, 8,
	    false },
	{ "a retiring worker's count", { { ACC, 1 }, { RET, 7 } }, 8, 8,
	    false },
	{ "a starting worker's count", { { STA, 2 }, { ACC, 1 } }, 3, 3,
	    false },
	{ "a free slot's stale count", { { ACC, 1 }, { FREE, 7 } }, 8, 1,
	    true },
	{ "all four slots", { { ACC, 1 }, { DRN, 1 }, { ACC, 1 }, { RET, 1 } },
	    5, 4, true },
};

START_TEST(test_may_autotune)
{
	const struct may_case	*c = &cases[_i];
	struct scoreboard_slot	 board[SLOTS];
	size_t			 i;

	memset(board, 0, sizeof(board));
	for (i = 0; i < SLOTS; i++) {
		board[i].state = c->s[i].state;
		board[i].conns_autotuned = c->s[i].autotuned;
	}
	ck_assert_msg(sockbuf_autotuned(board, SLOTS) == c->sum,
	    "%s: sum %llu, expected %llu", c->what,
	    (unsigned long long)sockbuf_autotuned(board, SLOTS),
	    (unsigned long long)c->sum);
	ck_assert_msg(sockbuf_may_autotune(board, SLOTS, c->limit) == c->may,
	    "%s: expected %s", c->what, c->may ? "yes" : "no");
}
END_TEST

/* Slots past "nused" are not read, whatever they hold. */
START_TEST(test_reads_only_used_slots)
{
	struct scoreboard_slot	board[2];

	memset(board, 0, sizeof(board));
	board[0].state = ACC;
	board[0].conns_autotuned = 2;
	board[1] = board[0];
	ck_assert(!sockbuf_may_autotune(board, 2, 4));
	ck_assert(sockbuf_may_autotune(board, 1, 4));
}
END_TEST

static const struct end_case {
	const char		*what;
	uint64_t		 queued;
	bool			 emptying;
	enum sockbuf_end	 end;
} ends[] = {
	{ "finished, queue empty", 0, true, SOCKBUF_CLOSE },
	{ "cut short, queue empty", 0, false, SOCKBUF_CLOSE },
	{ "finished, one byte queued (or our FIN)", 1, true, SOCKBUF_LINGER },
	{ "finished, 2 MiB queued", 2097152, true, SOCKBUF_LINGER },
	{ "cut short, one byte queued", 1, false, SOCKBUF_RESET },
	{ "idle with 200 kB queued", 200000, false, SOCKBUF_RESET },
	{ "lingering, queue shrank", 1968641, true, SOCKBUF_LINGER },
	{ "lingering, queue stayed put", 1968641, false, SOCKBUF_RESET },
	{ "the most SIOCOUTQ says", UINT64_MAX, false, SOCKBUF_RESET },
};

START_TEST(test_end)
{
	const struct end_case	*c = &ends[_i];

	ck_assert_msg(sockbuf_end(c->queued, c->emptying) == c->end,
	    "%s: %d, expected %d", c->what,
	    (int)sockbuf_end(c->queued, c->emptying), (int)c->end);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("sockbuf");
	TCase	*tc = tcase_create("sockbuf");

	tcase_add_loop_test(tc, test_may_autotune, 0, (int)nitems(cases));
	tcase_add_test(tc, test_reads_only_used_slots);
	tcase_add_loop_test(tc, test_end, 0, (int)nitems(ends));
	suite_add_tcase(s, tc);
	return s;
}
