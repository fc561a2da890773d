/* SPDX-License-Identifier: ISC */
/* peerlog.h: the budget of the log lines that remote peers can make us write. */
#ifndef SOCKECHOD_PEERLOG_H
#define SOCKECHOD_PEERLOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What a line that a peer triggers is, as the summary counts it. A new
 * kind is one line here.
 */
#define PEERLOG_KINDS(X)						\
	X(REFUSAL,	"refusal notices")				\
	X(CONNLOG,	"connection log lines of unserved connections")	\
	X(WARNING,	"warnings about clients' messages")

enum peerlog_kind {
#define PEERLOG_ENUM(name, text)	PEERLOG_##name,
	PEERLOG_KINDS(PEERLOG_ENUM)
#undef PEERLOG_ENUM
	PEERLOG_NKINDS
};

#define PEERLOG_DEFAULT_PER_SECOND	10
/* A burst of this many seconds' worth is logged at once. */
#define PEERLOG_BURST_SECONDS		2
/* A summary once the lines have not been cut for a second, or each minute. */
#define PEERLOG_QUIET_MS		1000
#define PEERLOG_PERIOD_MS		60000

/*
 * In the shared mapping (the scoreboard's head), one for all workers of
 * all generations; updated with atomics only, so that a worker that dies
 * in the middle holds nothing.
 */
struct peerlog {
	uint64_t	tat_us;		/* GCRA: when the bucket is full again */
	uint64_t	since_ms;	/* first line cut in this period; 0: none */
	uint64_t	last_ms;	/* the latest line cut */
	uint64_t	cut[PEERLOG_NKINDS];
};

struct peerlog_summary {
	uint64_t	cut[PEERLOG_NKINDS];
	uint64_t	total;
	uint64_t	period_ms;
};

bool	peerlog_allow(struct peerlog *, enum peerlog_kind, uint64_t now_us,
	    uint64_t per_second);
bool	peerlog_summary_due(uint64_t since_ms, uint64_t last_ms,
	    uint64_t now_ms);
bool	peerlog_summary(struct peerlog *, uint64_t now_ms,
	    struct peerlog_summary *);
const char *peerlog_kind_name(enum peerlog_kind);
int	peerlog_format(const struct peerlog_summary *, char *, size_t);

#endif
