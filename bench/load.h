/* SPDX-License-Identifier: ISC */
/*
 * load.h: the side-by-side benchmark's load generator (bench/load). It
 * starts one server, drives one scenario against it with the load engine
 * of load/ (the tests' too) and prints RESULT lines; what the figures
 * mean is the report's (bench/report.awk), which servers and scenarios
 * run is the driver's (bench/run). Calls run down: load.c (main) ->
 * load_rr.c, load_conn.c -> load_proc.c -> load_report.c -> load/.
 */
#ifndef SOCKECHOD_BENCH_LOAD_H
#define SOCKECHOD_BENCH_LOAD_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/load.h"		/* the engine, the pattern, the histogram */

#define LOAD_THREADS_MAX	16
#define LOAD_BURSTS_MAX		8
#define LOAD_PROCS_MAX		4096

/* What one thread (or the whole run, once merged) counted. */
struct tally {
	uint64_t	ops;
	uint64_t	bytes;		/* echoed and compared */
	uint64_t	errors;
	struct load_hist lat;		/* ns per operation */
};

struct opts {
	const char	*scenario;	/* label of the RESULT line */
	const char	*server;	/* label */
	const char	*mode;		/* rr, sessions, idle, balance */
	unsigned	 rep;
	unsigned	 port;
	struct sockaddr_in dst;		/* 127.0.0.1:port */
	unsigned	 conns;
	size_t		 size;		/* bytes an operation sends */
	unsigned	 threads;
	unsigned	 ms;		/* the measured window */
	unsigned	 warm_ms;
	unsigned	 bursts[LOAD_BURSTS_MAX];
	unsigned	 nbursts;
	const char	*log;		/* the server's stdout and stderr */
	bool		 kill_ok;	/* a peer: SIGKILL after 1 s is no failure */
	char		**argv;		/* the server's command */
};

/* A process tree's figures, from /proc. */
struct procs {
	pid_t		pid[LOAD_PROCS_MAX];
	pid_t		ppid[LOAD_PROCS_MAX];
	unsigned	fds[LOAD_PROCS_MAX];	/* sockets open */
	int		n;
};

/* load_report.c: the RESULT line, warnings, the tallies. */
void		tally_merge(struct tally *, const struct tally *);
void		load_result(const struct opts *, const char *scenario,
		    const char *unit, double rate, const struct tally *,
		    double cpu_us, const char *extra);
void		load_warn(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* load_proc.c: the server's process tree in /proc. */
int		procs_read(pid_t root, struct procs *, bool fds);
uint64_t	procs_cpu_ns(pid_t root);
uint64_t	procs_rss_kb(pid_t root);
bool		procs_has_children(const struct procs *, int i);
bool		procs_at_fd_limit(pid_t root);
pid_t		server_spawn(const struct opts *);
int		server_wait_listening(pid_t, const struct sockaddr_in *,
		    unsigned ms);
void		procs_settle(pid_t);
int		server_stop(pid_t, bool kill_ok);

/* load_rr.c: request/response (and bulk) and sessions. */
int		run_rr(const struct opts *, pid_t server);
int		run_sessions(const struct opts *, pid_t server);

/* load_conn.c: idle connections, and balance across processes. */
int		run_idle(const struct opts *, pid_t server);
int		run_balance(const struct opts *, pid_t server);

#endif
