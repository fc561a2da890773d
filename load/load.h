/* SPDX-License-Identifier: ISC */
/*
 * load.h: the one load client of the tests and the benchmark (load/,
 * libload.a): sessions on non-blocking sockets in one epoll set, each
 * sending its bytes from one pattern in chunks and checking that exactly
 * those come back, each ending with one outcome; the pattern, the
 * latency histogram and the connect. It judges no figure and never
 * exits: the tests assert, bench/load reports.
 */
#ifndef SOCKECHOD_LOAD_H
#define SOCKECHOD_LOAD_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sig.h"		/* sig_monotonic_*(): the one clock */

#define LOAD_CHUNKS_MAX		8
#define LOAD_BYTES_MAX		(4 << 20)	/* the pattern in one piece */
/* Latency buckets: 5 bits of mantissa, about 3% wide; up to 2^42 ns. */
#define LOAD_HIST_SUB_BITS	5
#define LOAD_HIST_BUCKETS	(38 << LOAD_HIST_SUB_BITS)

enum load_outcome {
	LOAD_OK,
	LOAD_REFUSED,		/* connect: ECONNREFUSED */
	LOAD_CONNECT,		/* connect: any other error */
	LOAD_RESET,
	LOAD_SHORT,		/* EOF before every byte came back */
	LOAD_MISMATCH,		/* other bytes, or more, came back */
	LOAD_TIMEOUT,		/* no progress for stall_ms */
	LOAD_OTHER,
	LOAD_NOUTCOMES
};

enum load_state {
	LOAD_FREE,
	LOAD_CONNECTING,
	LOAD_SENDING,
	LOAD_PAUSED,		/* between two chunks */
	LOAD_DRAINING,		/* all sent (half-closed if asked), reading */
};

/* One session, or one operation of a kept connection (keep). */
struct load_session {
	enum load_state	 state;
	int		 fd;
	unsigned	 gen;		/* which descriptor of this slot */
	unsigned	 lport;		/* our port, once connected */
	unsigned	 id;		/* the how-manieth session */
	uint64_t	 pos;		/* the pattern's, of its first byte */
	uint64_t	 started_ms;
	uint64_t	 started_ns;
	uint64_t	 wake_ms;
	uint64_t	 progress_ms;
	size_t		 chunk_end[LOAD_CHUNKS_MAX];
	unsigned	 nchunks;
	unsigned	 chunk;
	size_t		 sent;
	size_t		 received;
	bool		 want_out;	/* EPOLLOUT asked for */
};

struct load;
/* Set s->chunk_end[0..nchunks-1]; NULL: one chunk of "size" bytes. */
typedef void	load_prepare_fn(struct load *, struct load_session *);
/* A session (an operation) ended, its descriptor still open. */
typedef void	load_done_fn(struct load *, const struct load_session *,
		    enum load_outcome);

struct load {
	struct sockaddr_in	 dst;
	const struct sockaddr_in *src;		/* nsrc source addresses, */
	unsigned		 nsrc;		/* one a session in turn */
	struct load_session	*s;
	unsigned		 n;		/* sessions at once */
	unsigned		 first;		/* s[0]'s number among all */
	size_t			 size;		/* without prepare */
	bool			 keep;		/* next operation, same fd */
	bool			 half_close;	/* OK needs EOF after it */
	unsigned		 chunk_gap_ms;
	unsigned		 stall_ms;
	unsigned		 sweep_ms;	/* launches, wakes, stalls */
	load_prepare_fn		*prepare;	/* may be NULL */
	load_done_fn		*done;		/* may be NULL */
	void			(*each_step)(struct load *);	/* after each wait */
	void			*arg;		/* the caller's */
	bool			 launching;
	unsigned		 seed;
	unsigned		 sessions;	/* launched */
	unsigned		 live;		/* under way */
	unsigned		 outcome[LOAD_NOUTCOMES];
	uint64_t		 bytes;		/* came back and compared */
	uint64_t		 swept_ms;
	int			 ep;
	unsigned char		*buf;
};

struct load_hist {
	uint64_t	n;
	uint32_t	b[LOAD_HIST_BUCKETS];
};

extern const char *const load_outcome_names[LOAD_NOUTCOMES];

/* load.c: the sessions. */
int	load_init(struct load *, const struct sockaddr_in *dst,
	    unsigned sessions, unsigned seed);
void	load_free(struct load *);
unsigned load_step(struct load *, int max_wait_ms);
void	load_random_chunks(struct load *, struct load_session *,
	    unsigned chunks, size_t min, size_t max);
void	load_run_for(struct load *, uint64_t ms,
	    void (*tick)(struct load *, void *), void *);
void	load_settle(struct load *, uint64_t timeout_ms);
void	load_stop_sending(struct load *);
unsigned load_active(const struct load *);
unsigned load_count(const struct load *, enum load_state);

/* load_util.c: outcomes, the pattern, the histogram, the connect. */
unsigned load_failures(const unsigned *outcome);
void	load_describe_failures(const unsigned *outcome, char *, size_t);
int	load_pattern_init(void);
const unsigned char *load_pattern_at(uint64_t pos);
bool	load_pattern_check(uint64_t pos, const unsigned char *, size_t);
uint64_t load_pattern_start(unsigned conn);
void	load_hist_add(struct load_hist *, uint64_t ns);
void	load_hist_merge(struct load_hist *, const struct load_hist *);
double	load_hist_pctl_us(const struct load_hist *, double p);
int	load_addr(struct sockaddr_in *, const char *host, unsigned port);
int	load_connect(const struct sockaddr_in *dst,
	    const struct sockaddr_in *src, bool nonblock);

#endif
