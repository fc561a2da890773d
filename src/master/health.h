/* SPDX-License-Identifier: ISC */
/* health.h: are the workers alive? Hung ones killed, the systemd watchdog fed. */
#ifndef SOCKECHOD_HEALTH_H
#define SOCKECHOD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "master/pool.h"

struct health {
	uint64_t	watchdog_ms;	/* WATCHDOG_USEC in ms, or 0 */
	bool		ok;		/* no worker stuck beyond recovery */
	bool		held_logged;
	uint64_t	next_ping_ms;
};

void	health_init(struct health *, uint64_t watchdog_ms);
unsigned health_check(struct health *, struct pool *,
	    unsigned worker_timeout_ms, uint64_t now_ms);
void	health_feed_watchdog(struct health *, uint64_t now_ms);

#endif
