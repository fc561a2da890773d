/* SPDX-License-Identifier: ISC */
/*
 * load_report.c: what bench/load's scenarios print: warnings, and the
 * RESULT line of a tally (bench/report.awk reads it). It drives no
 * traffic and starts no server.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>

#include "load.h"

void
load_warn(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "bench/load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
tally_merge(struct tally *t, const struct tally *o)
{
	t->ops += o->ops;
	t->bytes += o->bytes;
	t->errors += o->errors;
	load_hist_merge(&t->lat, &o->lat);
}

/* One line for the report; every figure beside its errors. */
void
load_result(const struct opts *o, const char *scenario, const char *unit,
    double rate, const struct tally *t, double cpu_us, const char *extra)
{
	printf("RESULT scenario=%s server=%s rep=%u unit=%s rate=%.6g "
	    "p50_us=%.1f p99_us=%.1f cpu_us=%.4g ops=%llu errors=%llu "
	    "verified=%llu%s%s\n", scenario, o->server, o->rep, unit, rate,
	    load_hist_pctl_us(&t->lat, 0.50), load_hist_pctl_us(&t->lat, 0.99),
	    cpu_us, (unsigned long long)t->ops, (unsigned long long)t->errors,
	    (unsigned long long)t->bytes, extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}
