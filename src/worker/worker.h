/* SPDX-License-Identifier: ISC */
/* worker.h: one worker process: its event loop over listeners and connections. */
#ifndef SOCKECHOD_WORKER_H
#define SOCKECHOD_WORKER_H

#include <sys/types.h>

#include <stddef.h>

#include "shm/clients.h"
#include "config/config.h"
#include "net/listen.h"
#include "shm/scoreboard.h"
#include "shm/stamp_sessions.h"
#include "shm/udp_limit.h"

/* Everything a freshly forked worker needs from its master. */
struct worker_params {
	const struct config	*cfg;
	const struct listeners	*ls;		/* the sockets to accept on */
	struct scoreboard_slot	*slot;
	unsigned		 slot_index;
	struct scoreboard_slot	*board;		/* every slot, for balance.c */
	int			 turn_fd;	/* eventfd: worker_turn_wake() */
	int			 handoff_fd;	/* eventfd: one watcher's turn */
	pid_t			 master_pid;
	int			 master_fd;	/* eventfd: wakes the master */
	struct udp_limit	*udp_limit;	/* the shared UDP rate buckets */
	struct stamp_sessions	*stamp_sessions; /* STAMP's shared counters */
	struct clients		*clients;	/* connections per client */
};

/* It could not set up its process: an ordinary crash, respawned. */
#define WORKER_EXIT_SETUP	1
/* It could not start serving (it cannot drop privileges, say): fatal. */
#define WORKER_EXIT_FATAL	71	/* EX_OSERR */

int	worker_main(const struct worker_params *);
void	worker_turn_wake(int turn_fd);
void	worker_handoff(int handoff_fd);

/* Called once per worker, after setup and before serving; tests may replace it. */
void	worker_fault_point(const char *where);

#endif
