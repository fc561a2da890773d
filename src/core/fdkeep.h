/* SPDX-License-Identifier: ISC */
/* fdkeep.h: close every descriptor of the process but a few it keeps. */
#ifndef SOCKECHOD_FDKEEP_H
#define SOCKECHOD_FDKEEP_H

#include <stddef.h>

/* Descriptors first..last, both included, to close. */
struct fdkeep_range {
	unsigned	first;
	unsigned	last;
};

size_t	fdkeep_ranges(int *keep, size_t n, struct fdkeep_range *out);
int	fdkeep_close_others(int *keep, size_t n);
int	fdkeep_close_listed(const int *keep, size_t n);
int	fdkeep_close_counted(const struct fdkeep_range *, size_t n,
	    unsigned limit);

#endif
