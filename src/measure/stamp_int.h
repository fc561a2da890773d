/* SPDX-License-Identifier: ISC */
/* stamp_int.h: the state of a --stamp session, for stamp.c and stamp_report.c. */
#ifndef SOCKECHOD_STAMP_INT_H
#define SOCKECHOD_STAMP_INT_H

#include "measure/stamp.h"

struct stamp_run {
	uint16_t		ssid;
	uint16_t		err;		/* our Error Estimate */
	int			tai;		/* TAI - UTC, s, for PTP */
	bool			self_synced;
	struct stamp_seqs	seqs;
	struct stats_rtt	fwd;		/* T2 - T1, biased */
	struct stats_rtt	back;		/* T4 - T3, biased */
	struct stats_rtt	res;		/* T3 - T2, biased */
	uint64_t		refl_unsynced;	/* replies without the S bit */
	uint64_t		negative;	/* a one-way figure below 0 */
	struct {
		uint64_t	rtt;
		int64_t		fwd, back, res;
		unsigned	ttl;
	} last;
};

#endif
