/* SPDX-License-Identifier: ISC */
/*
 * stats.c: the numbers of an echo ping, as pure functions of what was sent
 * and what came back when. The caller passes the clock in; nothing here
 * touches a socket, prints or exits.
 */
#include "build-config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/stats.h"

const unsigned stats_pctl[STATS_NPCTL] = { 50, 90, 99 };

/* xorshift64: which kept sample a new one replaces, once there are many. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t	x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static int
keep_sample(struct stats_rtt *r, uint64_t ns)
{
	uint64_t	*p, slot;
	size_t		 cap;

	if (r->kept < r->cap) {
		r->ns[r->kept++] = ns;
		return 0;
	}
	if (r->kept < STATS_MAX_SAMPLES) {
		cap = r->cap ? r->cap * 2 : 1024;
		if (cap > STATS_MAX_SAMPLES)
			cap = STATS_MAX_SAMPLES;
		if ((p = realloc(r->ns, cap * sizeof(*p))) == NULL)
			return -1;
		r->ns = p;
		r->cap = cap;
		r->ns[r->kept++] = ns;
		return 0;
	}
	/* Reservoir sampling: every sample so far is kept with equal odds. */
	slot = next_random(&r->rng) % r->n;
	if (slot < r->kept)
		r->ns[slot] = ns;
	return 0;
}

/* Add one duration; -1 (ENOMEM) if it cannot be kept for the percentiles. */
int
stats_rtt_add(struct stats_rtt *r, uint64_t ns)
{
	double	delta;

	r->n++;
	if (r->n == 1 || ns < r->min_ns)
		r->min_ns = ns;
	if (ns > r->max_ns)
		r->max_ns = ns;
	delta = (double)ns - r->mean_ns;
	r->mean_ns += delta / (double)r->n;
	r->m2 += delta * ((double)ns - r->mean_ns);
	return keep_sample(r, ns);
}

void
stats_rtt_free(struct stats_rtt *r)
{
	free(r->ns);
	memset(r, 0, sizeof(*r));
}

/*
 * A percentile says more than the maximum only when at least one sample
 * lies above it: p50 needs 2 samples, p90 10 and p99 100.
 */
bool
stats_pctl_enough(uint64_t n, unsigned pctl)
{
	return pctl < 100 && n * (100 - pctl) >= 100;
}

/* Nearest rank: the smallest sample with at least pctl% at or below it. */
uint64_t
stats_pctl_of(const uint64_t *sorted, size_t n, unsigned pctl)
{
	size_t	rank;

	if (n == 0)
		return 0;
	rank = ((uint64_t)pctl * n + 99) / 100;
	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Summarise (sorting the kept samples in place); mdev as ping(8) has it. */
void
stats_rtt_summary(struct stats_rtt *r, struct stats_summary *s)
{
	size_t	i;

	memset(s, 0, sizeof(*s));
	s->n = r->n;
	if (r->n == 0)
		return;
	s->min_ms = r->min_ns / 1e6;
	s->max_ms = r->max_ns / 1e6;
	s->avg_ms = r->mean_ns / 1e6;
	s->mdev_ms = sqrt(r->m2 / (double)r->n) / 1e6;
	qsort(r->ns, r->kept, sizeof(*r->ns), cmp_u64);
	for (i = 0; i < STATS_NPCTL; i++) {
		s->has_pctl[i] = stats_pctl_enough(r->n, stats_pctl[i]);
		s->pctl_ms[i] = stats_pctl_of(r->ns, r->kept, stats_pctl[i]) /
		    1e6;
	}
}

void
stats_probes_init(struct stats_probes *p)
{
	memset(p, 0, sizeof(*p));
	p->next_seq = 1;
	p->oldest_out = 1;
}

static struct stats_slot *
slot_of(struct stats_probes *p, uint64_t seq)
{
	struct stats_slot	*s = &p->ring[seq % STATS_WINDOW];

	return s->state != STATS_FREE && s->seq == seq ? s : NULL;
}

/* The oldest probe still out moves on past those whose fate is known. */
static void
advance_oldest(struct stats_probes *p)
{
	struct stats_slot	*s;

	while (p->oldest_out < p->next_seq) {
		s = slot_of(p, p->oldest_out);
		if (s != NULL && s->state == STATS_OUT)
			break;
		p->oldest_out++;
	}
}

/* True when the window is full: the oldest probe must be settled first. */
bool
stats_probes_full(const struct stats_probes *p)
{
	return p->next_seq - p->oldest_out >= STATS_WINDOW;
}

/* Record a probe sent now; returns its sequence number. */
uint64_t
stats_probes_send(struct stats_probes *p, uint64_t now_ns)
{
	struct stats_slot	*s = &p->ring[p->next_seq % STATS_WINDOW];

	s->seq = p->next_seq;
	s->sent_ns = now_ns;
	s->state = STATS_OUT;
	p->out++;
	return p->next_seq++;
}

/* A correct echo of "seq" came back now. */
enum stats_reply
stats_probes_reply(struct stats_probes *p, uint64_t seq, uint64_t now_ns,
    uint64_t *rtt_ns)
{
	struct stats_slot	*s;

	*rtt_ns = 0;
	if (seq == 0 || seq >= p->next_seq) {
		p->unknown++;
		return STATS_UNKNOWN;
	}
	if ((s = slot_of(p, seq)) == NULL || s->state == STATS_LOST) {
		/* Its slot was reused long ago, or it timed out. */
		if (s != NULL)
			*rtt_ns = now_ns - s->sent_ns;
		p->late++;
		return STATS_LATE;
	}
	*rtt_ns = now_ns - s->sent_ns;
	if (s->state == STATS_DONE) {
		p->duplicates++;
		return STATS_DUPLICATE;
	}
	s->state = STATS_DONE;
	p->out--;
	p->received++;
	advance_oldest(p);
	if (seq < p->highest_back) {
		p->reordered++;
		return STATS_REORDERED;
	}
	p->highest_back = seq;
	return STATS_BACK;
}

static int
settle(struct stats_probes *p, uint64_t seq, uint8_t state)
{
	struct stats_slot	*s = slot_of(p, seq);

	if (s == NULL || s->state != STATS_OUT) {
		errno = ENOENT;
		return -1;
	}
	s->state = state;
	p->out--;
	advance_oldest(p);
	return 0;
}

/* "seq" came back, but not as it was sent. */
int
stats_probes_mismatch(struct stats_probes *p, uint64_t seq)
{
	if (settle(p, seq, STATS_DONE) == -1)
		return -1;
	p->mismatched++;
	return 0;
}

/* "seq" failed for a known reason (refused, reset, closed): lost. */
int
stats_probes_fail(struct stats_probes *p, uint64_t seq)
{
	if (settle(p, seq, STATS_DONE) == -1)
		return -1;
	p->lost++;
	p->errors++;
	return 0;
}

/* "seq" did not come back in time: lost, and a reply now is late. */
int
stats_probes_timed_out(struct stats_probes *p, uint64_t seq)
{
	if (settle(p, seq, STATS_LOST) == -1)
		return -1;
	p->lost++;
	return 0;
}

/* The time the oldest probe out times out, or UINT64_MAX if none is out. */
uint64_t
stats_probes_next_expiry(const struct stats_probes *p, uint64_t timeout_ns)
{
	const struct stats_slot	*s;

	if (p->out == 0)
		return UINT64_MAX;
	s = &p->ring[p->oldest_out % STATS_WINDOW];
	return s->sent_ns + timeout_ns;
}

/* Count the oldest probe lost if its time is up; call until false. */
bool
stats_probes_expire(struct stats_probes *p, uint64_t now_ns,
    uint64_t timeout_ns, uint64_t *seq)
{
	if (stats_probes_next_expiry(p, timeout_ns) > now_ns)
		return false;
	*seq = p->oldest_out;
	stats_probes_timed_out(p, *seq);
	return true;
}

/* Probes whose fate is known: those still out when we stop do not count. */
uint64_t
stats_probes_transmitted(const struct stats_probes *p)
{
	return p->received + p->mismatched + p->lost;
}

double
stats_probes_loss_pct(const struct stats_probes *p)
{
	uint64_t	t = stats_probes_transmitted(p);

	return t ? 100.0 * (double)p->lost / (double)t : 0.0;
}

/* Every probe came back intact, and as many as were asked for (0: any). */
bool
stats_probes_all_back(const struct stats_probes *p, uint64_t count)
{
	uint64_t	t = stats_probes_transmitted(p);

	return t > 0 && p->received == t && (count == 0 || t >= count);
}
