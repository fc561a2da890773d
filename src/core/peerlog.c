/* SPDX-License-Identifier: ISC */
/*
 * peerlog.c: one token bucket for every log line that a remote peer can
 * trigger (refusals, the connection log of connections never served,
 * warnings about its messages), shared by all workers, and the count of
 * the lines it cut for the summary that the master logs. Lock-free: a
 * worker killed anywhere in here leaves the bucket usable. It never logs.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "core/peerlog.h"

#define US_PER_SECOND	1000000

static const char *const kind_names[] = {
#define PEERLOG_NAME(name, text)	[PEERLOG_##name] = text,
	PEERLOG_KINDS(PEERLOG_NAME)
#undef PEERLOG_NAME
};

const char *
peerlog_kind_name(enum peerlog_kind k)
{
	if ((unsigned)k >= PEERLOG_NKINDS)
		return "?";
	return kind_names[k];
}

static void
cut(struct peerlog *p, enum peerlog_kind kind, uint64_t now_ms)
{
	uint64_t	none = 0;

	if (now_ms == 0)
		now_ms = 1;
	__atomic_fetch_add(&p->cut[kind], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->last_ms, now_ms, __ATOMIC_RELAXED);
	(void)__atomic_compare_exchange_n(&p->since_ms, &none, now_ms, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * Whether a line may be written now: the generic cell rate algorithm, a
 * token bucket in one word. Every line moves the time at which the
 * bucket is full again ("tat") on by one interval; a line that would push
 * it further than a burst ahead of now is cut and counted.
 * "per_second" 0: no limit.
 */
bool
peerlog_allow(struct peerlog *p, enum peerlog_kind kind, uint64_t now_us,
    uint64_t per_second)
{
	uint64_t	old, tat, interval, burst;

	if (per_second == 0)
		return true;
	interval = US_PER_SECOND / per_second;
	if (interval == 0)
		interval = 1;
	burst = PEERLOG_BURST_SECONDS * per_second;
	old = __atomic_load_n(&p->tat_us, __ATOMIC_RELAXED);
	do {
		tat = old > now_us ? old : now_us;
		if (tat - now_us > interval * (burst - 1)) {
			cut(p, kind, now_us / 1000);
			return false;
		}
	} while (!__atomic_compare_exchange_n(&p->tat_us, &old,
	    tat + interval, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/*
 * Whether the summary is due at "now_ms": a line was cut ("since_ms" is
 * not 0), and none for PEERLOG_QUIET_MS (the flood is over) or the first
 * PEERLOG_PERIOD_MS ago (it goes on). The workers read their clocks after
 * the master did, so "last_ms" or "since_ms" may lie ahead of "now_ms": a
 * cut that recent is no quiet, and no period has passed since it.
 */
bool
peerlog_summary_due(uint64_t since_ms, uint64_t last_ms, uint64_t now_ms)
{
	if (since_ms == 0)
		return false;
	if (last_ms < now_ms && now_ms - last_ms >= PEERLOG_QUIET_MS)
		return true;
	return since_ms < now_ms && now_ms - since_ms >= PEERLOG_PERIOD_MS;
}

/*
 * The lines cut since the last summary when peerlog_summary_due() says
 * so; false when there is nothing to say yet. Only the master asks, so
 * the period ends once; a line cut meanwhile goes to this summary or
 * opens the next period, which must again be quiet or last a period.
 */
bool
peerlog_summary(struct peerlog *p, uint64_t now_ms, struct peerlog_summary *s)
{
	uint64_t	since, last;
	size_t		i;

	since = __atomic_load_n(&p->since_ms, __ATOMIC_RELAXED);
	last = __atomic_load_n(&p->last_ms, __ATOMIC_RELAXED);
	if (!peerlog_summary_due(since, last, now_ms))
		return false;
	__atomic_store_n(&p->since_ms, 0, __ATOMIC_SEQ_CST);
	memset(s, 0, sizeof(*s));
	for (i = 0; i < PEERLOG_NKINDS; i++) {
		s->cut[i] = __atomic_exchange_n(&p->cut[i], 0,
		    __ATOMIC_RELAXED);
		s->total += s->cut[i];
	}
	s->period_ms = now_ms > since ? now_ms - since : 0;
	return s->total > 0;
}

/*
 * "N lines about clients not logged in the last 1.4 s (N refusal
 * notices, ...)": the kinds that were cut, in the order of the list.
 */
int
peerlog_format(const struct peerlog_summary *s, char *buf, size_t size)
{
	const char	*sep = " (";
	size_t		 i;
	int		 n, len;

	len = snprintf(buf, size, "%llu line%s about clients not logged in "
	    "the last %llu.%llu s, over log_peer_lines_per_second",
	    (unsigned long long)s->total, s->total == 1 ? "" : "s",
	    (unsigned long long)(s->period_ms / 1000),
	    (unsigned long long)(s->period_ms % 1000 / 100));
	for (i = 0; i < PEERLOG_NKINDS && len >= 0 && (size_t)len < size; i++) {
		if (s->cut[i] == 0)
			continue;
		n = snprintf(buf + len, size - len, "%s%llu %s", sep,
		    (unsigned long long)s->cut[i], kind_names[i]);
		if (n < 0)
			return n;
		len += n;
		sep = ", ";
	}
	if (len >= 0 && (size_t)len < size && sep[0] == ',')
		len += snprintf(buf + len, size - len, ")");
	return len;
}
