/* SPDX-License-Identifier: ISC */
/* confscan.h: the lexical check of one configuration file's text. */
#ifndef SOCKECHOD_CONFSCAN_H
#define SOCKECHOD_CONFSCAN_H

#include <stddef.h>

#define CONFSCAN_MAX_DEPTH		32	/* nested groups, lists, arrays */
#define CONFSCAN_MAX_TOKEN_BYTES	4096	/* a name, string or number */
#define CONFSCAN_MAX_SETTINGS		1024	/* "=" or ":", all files */
#define CONFSCAN_MAX_ELEMENTS		65536	/* "," in lists, all files */
#define CONFSCAN_MAX_INCLUDES		64	/* @include lines, all files */
#define CONFSCAN_MAX_INCLUDE_BYTES	1024	/* the path of one @include */

/* One @include line: bytes [start, end) of the text are the directive. */
struct confscan_include {
	size_t		 start;
	size_t		 end;
	unsigned	 line;
	char		 path[CONFSCAN_MAX_INCLUDE_BYTES];
};

/* What the files of one configuration add up to, checked against the caps. */
struct confscan_totals {
	size_t	settings;
	size_t	elements;
	size_t	includes;
};

/* A text of n bytes has at most this many integers that need an "L". */
#define CONFSCAN_WIDEN_MAX(n)	((n) / 10 + 1)

/*
 * The outcome of one file: its @include lines, and the offsets after
 * integers that libconfig needs to see with an "L" to keep them whole
 * (into widen[], of widen_cap entries, which the caller provides); or the
 * first problem.
 */
struct confscan {
	struct confscan_include	 inc[CONFSCAN_MAX_INCLUDES];
	size_t			 ninc;
	size_t			*widen;
	size_t			 nwiden;
	size_t			 widen_cap;
	unsigned		 error_line;
	char			 error[256];
};

int	confscan_check(const char *text, size_t len,
	    struct confscan_totals *, struct confscan *);

#endif
