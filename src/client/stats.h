/* SPDX-License-Identifier: ISC */
/*
 * stats.h: the statistics of an echo ping: durations (min/avg/max/mdev and
 * percentiles, as ping(8) reports them) and the fate of every probe by its
 * sequence number (received, lost, late, duplicated, reordered, mismatched).
 */
#ifndef SOCKECHOD_STATS_H
#define SOCKECHOD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Beyond this many durations, a uniform sample of them is kept. */
#define STATS_MAX_SAMPLES	(1u << 20)
/* How many probes may be out at once; sending waits beyond that. */
#define STATS_WINDOW		65536u

#define STATS_NPCTL		3
extern const unsigned stats_pctl[STATS_NPCTL];	/* 50, 90, 99 */

/* A set of durations in nanoseconds. */
struct stats_rtt {
	uint64_t	*ns;		/* kept samples, at most STATS_MAX_SAMPLES */
	size_t		 kept;
	size_t		 cap;
	uint64_t	 n;		/* all samples seen */
	uint64_t	 min_ns;
	uint64_t	 max_ns;
	double		 mean_ns;	/* Welford: running mean and */
	double		 m2;		/* sum of squared deviations */
	uint64_t	 rng;		/* for the sample beyond the cap */
};

struct stats_summary {
	uint64_t	n;
	double		min_ms;
	double		avg_ms;
	double		max_ms;
	double		mdev_ms;
	bool		has_pctl[STATS_NPCTL];
	double		pctl_ms[STATS_NPCTL];
};

int	stats_rtt_add(struct stats_rtt *, uint64_t ns);
void	stats_rtt_summary(struct stats_rtt *, struct stats_summary *);
void	stats_rtt_free(struct stats_rtt *);
bool	stats_pctl_enough(uint64_t n, unsigned pctl);
uint64_t stats_pctl_of(const uint64_t *sorted, size_t n, unsigned pctl);

/* What a reply says about the probe it answers. */
enum stats_reply {
	STATS_BACK,		/* the first reply to a probe still out */
	STATS_REORDERED,	/* the same, but a later probe came back first */
	STATS_DUPLICATE,	/* a probe that already came back */
	STATS_LATE,		/* a probe already counted lost */
	STATS_UNKNOWN,		/* a sequence number never sent */
};

enum stats_slot_state {
	STATS_FREE,
	STATS_OUT,
	STATS_DONE,		/* back, mismatched or failed */
	STATS_LOST,		/* timed out: a reply now is late */
};

struct stats_slot {
	uint64_t	seq;
	uint64_t	sent_ns;
	uint8_t		state;
};

/* The probes sent, by sequence number (the first is 1). */
struct stats_probes {
	struct stats_slot	 ring[STATS_WINDOW];
	uint64_t		 next_seq;
	uint64_t		 oldest_out;	/* no probe below is out */
	uint64_t		 highest_back;	/* 0: none yet */
	uint64_t		 out;		/* probes whose fate is unknown */
	uint64_t		 received;
	uint64_t		 mismatched;
	uint64_t		 lost;		/* timed out or failed */
	uint64_t		 errors;	/* of the lost: failed, not timed out */
	uint64_t		 duplicates;
	uint64_t		 reordered;
	uint64_t		 late;
	uint64_t		 unknown;
};

void	stats_probes_init(struct stats_probes *);
uint64_t stats_probes_send(struct stats_probes *, uint64_t now_ns);
enum stats_reply stats_probes_reply(struct stats_probes *, uint64_t seq,
	    uint64_t now_ns, uint64_t *rtt_ns);
int	stats_probes_mismatch(struct stats_probes *, uint64_t seq);
int	stats_probes_fail(struct stats_probes *, uint64_t seq);
int	stats_probes_timed_out(struct stats_probes *, uint64_t seq);
bool	stats_probes_expire(struct stats_probes *, uint64_t now_ns,
	    uint64_t timeout_ns, uint64_t *seq);
uint64_t stats_probes_next_expiry(const struct stats_probes *,
	    uint64_t timeout_ns);
bool	stats_probes_full(const struct stats_probes *);
uint64_t stats_probes_transmitted(const struct stats_probes *);
double	stats_probes_loss_pct(const struct stats_probes *);
bool	stats_probes_all_back(const struct stats_probes *, uint64_t count);

#endif
