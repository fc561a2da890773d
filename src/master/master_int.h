/* SPDX-License-Identifier: ISC */
/* master_int.h: the master's state, shared by master.c and its helper rooms. */
#ifndef SOCKECHOD_MASTER_INT_H
#define SOCKECHOD_MASTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/clients.h"
#include "master/health.h"
#include "master/master.h"
#include "master/metrics.h"
#include "master/metrics_http.h"
#include "master/pool.h"
#include "master/reload.h"
#include "master/supervise.h"
#include "shm/stamp_sessions.h"
#include "shm/udp_limit.h"

#define TICK_MS			250	/* housekeeping: hung workers, status */
#define CLIENTS_SWEEP_MS	1000	/* rate entries of seconds gone by */
#define CLIENTS_OWED_MAX	64	/* releases waiting for a busy table */
#define STATUS_EVERY_MS		5000
#define STOP_GRACE_MS		2000	/* past shutdown_timeout, then SIGKILL */
#define EXTEND_EVERY_MS		1000
#define EXTEND_MARGIN_MS	5000
#define FORK_RETRY_MS		1000
#define MASTER_STATUS_BYTES	1024

enum phase {
	PHASE_RUNNING,
	PHASE_STOPPING,
};

/* Keeping the pool at its size, and the crash-loop backoff. */
struct respawn {
	unsigned	owed;		/* lost workers to announce as replaced */
	struct backoff	backoff;
	bool		max_logged;
	uint64_t	next_ms;	/* no spawning before */
};

struct stop {
	bool		fast;
	uint64_t	deadline_ms;
	uint64_t	next_extend_ms;
	uint64_t	last_open;
};

struct master {
	const struct config_options *opts;
	struct reload_gen	 gen;		/* the one being served */
	bool			 activated;	/* sockets came from systemd */
	struct pool		 pool;
	const struct pool_ops	*ops;
	struct reload		 reload;
	struct respawn		 respawn;
	enum phase		 phase;
	struct stop		 stop;
	struct health		 health;
	struct metrics_counters	 counters;
	struct metrics_http	 http;		/* metrics_listen, if set */
	int			 sigfd;
	int			 evfd;
	struct udp_limit	*udp_limit;	/* shared by all generations */
	struct stamp_sessions	*stamp_sessions; /* the same */
	struct clients		*clients;	/* connections per client, too */
	uint64_t		 clients_swept_ms;
	uint32_t		 clients_owed[CLIENTS_OWED_MAX]; /* dead pids */
	size_t			 nclients_owed;
	bool			 ready_sent;
	uint64_t		 next_status_ms;
	char			 status[MASTER_STATUS_BYTES];
	uint64_t		 now_ms;
	int			 exit_status;
};


/* stop.c */
bool	stop_begin(struct master *, bool);
void	stop_progress(struct master *);

/* master_clients.c */
void	master_release_clients(struct master *, uint32_t);
void	master_clients_housekeeping(struct master *);
void	master_report_clients(struct master *);

/* master_metrics.c */
int	master_render_metrics(void *, char *, size_t);
int	master_open_metrics(struct master *, char *what, size_t size);

#endif
