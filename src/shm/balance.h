/* SPDX-License-Identifier: ISC */
/* balance.h: which workers may take the next connection, by their load. */
#ifndef SOCKECHOD_BALANCE_H
#define SOCKECHOD_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/scoreboard.h"

/*
 * A peer whose loop has not turned for this long is hung or stopped: its
 * load no longer holds the others back. Idle loops turn every 500 ms.
 */
#define BALANCE_STALE_MS	1500

/* An ineligible worker looks at its peers again after this long at most. */
#define BALANCE_RECHECK_MS	100

uint64_t balance_slack(uint64_t min_open);
bool	balance_eligible(const struct scoreboard_slot *board, size_t nused,
	    size_t self, uint64_t now_ms);
bool	balance_watched(const struct scoreboard_slot *board, size_t nused,
	    size_t self, uint64_t now_ms);

#endif
