/* SPDX-License-Identifier: ISC */
/*
 * load.h: many concurrent client sessions against a daemon, each sending
 * its bytes in chunks, half-closing and checking that exactly those come
 * back, then EOF. Shared by the fault suite and the benchmark.
 */
#ifndef SOCKECHOD_TEST_LOAD_H
#define SOCKECHOD_TEST_LOAD_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/harness.h"

#define LOAD_CHUNKS_MAX		8

enum load_outcome {
	LOAD_OK,
	LOAD_REFUSED,		/* connect: ECONNREFUSED */
	LOAD_CONNECT,		/* connect: any other error */
	LOAD_RESET,
	LOAD_SHORT,		/* EOF before every byte came back */
	LOAD_MISMATCH,
	LOAD_TIMEOUT,		/* no progress for stall_ms */
	LOAD_OTHER,
	LOAD_NOUTCOMES
};

enum load_state {
	LOAD_FREE,
	LOAD_CONNECTING,
	LOAD_SENDING,
	LOAD_PAUSED,		/* between two chunks */
	LOAD_DRAINING,		/* all sent and half-closed */
};

struct load_session {
	enum load_state	 state;
	int		 fd;
	unsigned	 lport;		/* our port, once connected */
	unsigned	 id;		/* the how-manieth session */
	uint64_t	 started_ms;
	uint64_t	 started_ns;
	uint64_t	 wake_ms;
	uint64_t	 progress_ms;
	size_t		 chunk_end[LOAD_CHUNKS_MAX];
	unsigned	 nchunks;
	unsigned	 chunk;
	size_t		 sent;
	size_t		 received;
	unsigned char	*payload;	/* payload_max bytes */
};

struct load;
/* Fill s->payload and s->chunk_end[0..nchunks-1] for a new session. */
typedef void	load_prepare_fn(struct load *, struct load_session *);
/* A session ended (its descriptor still open). */
typedef void	load_done_fn(struct load *, const struct load_session *,
		    enum load_outcome);

struct load {
	struct daemon		*d;
	struct sockaddr_in	 sin;
	const struct sockaddr_in *src;		/* nsrc source addresses, */
	unsigned		 nsrc;		/* one a session in turn */
	struct load_session	*s;
	unsigned		 n;		/* sessions at once */
	size_t			 payload_max;
	unsigned		 chunk_gap_ms;
	unsigned		 stall_ms;
	load_prepare_fn		*prepare;
	load_done_fn		*done;		/* may be NULL */
	void			*arg;
	bool			 launching;
	unsigned		 seed;
	unsigned		 sessions;	/* launched */
	unsigned		 outcome[LOAD_NOUTCOMES];
};

extern const char *const load_outcome_names[LOAD_NOUTCOMES];

void	load_init(struct load *, struct daemon *, unsigned sessions,
	    size_t payload_max, unsigned seed);
void	load_free(struct load *);
unsigned load_step(struct load *, int max_wait_ms);
void	load_random_chunks(struct load *, struct load_session *,
	    unsigned chunks, size_t min, size_t max);
void	load_run_for(struct load *, uint64_t ms,
	    void (*tick)(struct load *, void *), void *);
void	load_settle(struct load *, uint64_t timeout_ms);
unsigned load_active(const struct load *);
unsigned load_count(const struct load *, enum load_state);
unsigned load_failures(const unsigned *outcome);
void	load_describe_failures(const unsigned *outcome, char *, size_t);

#endif
