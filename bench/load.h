/* SPDX-License-Identifier: ISC */
/*
 * load.h: the side-by-side benchmark's load generator (bench/load). It
 * starts one server, drives one scenario against it and prints RESULT
 * lines; what the figures mean is the report's (bench/report.awk), which
 * servers and scenarios run is the driver's (bench/run).
 */
#ifndef SOCKECHOD_BENCH_LOAD_H
#define SOCKECHOD_BENCH_LOAD_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sig.h"		/* sig_monotonic_ns(): the one clock */

#define LOAD_THREADS_MAX	16
#define LOAD_BURSTS_MAX		8
#define LOAD_PROCS_MAX		4096
#define LOAD_STALL_NS		(5ULL * 1000000000)	/* no progress: a timeout */
/* Latency buckets: 5 bits of mantissa, about 3% wide; up to 2^42 ns. */
#define HIST_SUB_BITS		5
#define HIST_BUCKETS		(38 << HIST_SUB_BITS)

struct hist {
	uint64_t	n;
	uint32_t	b[HIST_BUCKETS];
};

/* What one thread (or the whole run, once merged) counted. */
struct tally {
	uint64_t	ops;
	uint64_t	bytes;		/* echoed and compared */
	uint64_t	errors;
	struct hist	lat;		/* ns per operation */
};

struct opts {
	const char	*scenario;	/* label of the RESULT line */
	const char	*server;	/* label */
	const char	*mode;		/* rr, sessions, idle, balance */
	unsigned	 rep;
	unsigned	 port;
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

/* load.c: the histogram, the pattern, the RESULT line. */
void		hist_add(struct hist *, uint64_t ns);
void		pattern_init(void);
void		hist_merge(struct hist *, const struct hist *);
double		hist_pctl_us(const struct hist *, double p);
void		tally_merge(struct tally *, const struct tally *);
const unsigned char *pattern_at(uint64_t pos);
bool		pattern_check(uint64_t pos, const unsigned char *, size_t);
uint64_t	pattern_start(unsigned conn);
void		load_result(const struct opts *, const char *scenario,
		    const char *unit, double rate, const struct tally *,
		    double cpu_us, const char *extra);
int		load_connect(unsigned port, bool nonblock);
void		load_warn(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* load_proc.c: the server's process tree in /proc. */
int		procs_read(pid_t root, struct procs *, bool fds);
uint64_t	procs_cpu_ns(pid_t root);
uint64_t	procs_rss_kb(pid_t root);
bool		procs_has_children(const struct procs *, int i);
bool		procs_at_fd_limit(pid_t root);
pid_t		server_spawn(const struct opts *);
int		server_wait_listening(pid_t, unsigned port, unsigned ms);
void		procs_settle(pid_t);
int		server_stop(pid_t, bool kill_ok);

/* load_rr.c: request/response (and bulk) and sessions. */
int		run_rr(const struct opts *, pid_t server);
int		run_sessions(const struct opts *, pid_t server);

/* load_conn.c: idle connections, and balance across processes. */
int		run_idle(const struct opts *, pid_t server);
int		run_balance(const struct opts *, pid_t server);

#endif
