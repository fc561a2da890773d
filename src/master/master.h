/* SPDX-License-Identifier: ISC */
/* master.h: the supervising process. */
#ifndef SOCKECHOD_MASTER_H
#define SOCKECHOD_MASTER_H

#include <sys/signalfd.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

int	master_run(const struct config_options *, struct config *);

/*
 * master_run()'s steps, for the unit tests too: they drive a master with
 * their own pool_ops and clock, one signal or tick at a time.
 */
struct master;
struct pool;
struct pool_ops;
struct reload;
struct reload_gen;

struct master *master_new(const struct config_options *, struct config *,
	    const struct pool_ops *);
void	master_set_clock(struct master *, uint64_t now_ms);
int	master_start(struct master *);
void	master_signal(struct master *, const struct signalfd_siginfo *);
void	master_tick(struct master *);
bool	master_done(const struct master *);
int	master_end(struct master *, bool started);
const struct pool *master_pool(const struct master *);
const struct reload *master_reload(const struct master *);
const struct reload_gen *master_current(const struct master *);

#endif
