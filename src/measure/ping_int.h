/* SPDX-License-Identifier: ISC */
/*
 * ping_int.h: what the parts of sockecho --ping and --stamp share beyond
 * ping.h: the kernel's timestamps (ping_kts.c), the STAMP session
 * (stamp.c, stamp_report.c) and the report's helpers (ping_report.c).
 * Private to src/measure/ping*.c and stamp*.c.
 */
#ifndef SOCKECHOD_PING_INT_H
#define SOCKECHOD_PING_INT_H

#include "measure/ping.h"

/* ping_opts.c: -1 to go on, or the exit status (help, usage error). */
int	ping_options(int argc, char *argv[], struct ping_opts *);

/* ping_kts.c */
void	ping_kts_keep(struct ping *);
void	ping_kts_close(struct ping *);
void	ping_kts_open(struct ping *, int fd);
void	ping_kts_sent(struct ping *, uint64_t seq, uint64_t user_rt_ns,
	    size_t bytes);
void	ping_kts_drain(struct ping *);
void	ping_kts_back(struct ping *, uint64_t seq, uint64_t krx_ns,
	    uint64_t user_ns, uint64_t *rtt_ns);
const char *ping_kts_mode(const struct ping *);

/* stamp.c */
int	stampc_open(struct ping *);
void	stampc_prepare(struct ping *, uint64_t seq, uint64_t rt_ns);
void	stampc_take(struct ping *, size_t len, uint64_t krx_ns,
	    uint64_t now_ns);
void	stampc_free(struct ping *);
void	stampc_report_back(struct ping *, uint64_t seq, enum stats_reply);
void	stampc_report_summary(struct ping *, FILE *);
void	stampc_report_json(struct ping *, FILE *);

/* ping_report.c, for stamp_report.c */
void	ping_report_kts(struct ping *, FILE *);
void	ping_report_json_kts(struct ping *, FILE *);
const char *ping_report_ms(char *buf, size_t size, uint64_t ns);
void	ping_report_counts(const struct stats_probes *, FILE *);
void	ping_report_durations(const char *what, const struct stats_summary *,
	    FILE *);
void	ping_report_json_string(FILE *, const char *);
void	ping_report_json_summary(FILE *, const char *key,
	    const struct stats_summary *);

#endif
