/* SPDX-License-Identifier: ISC */
/* confscan.h: the lexical check of one configuration file's text. */
#ifndef SOCKECHOD_CONFSCAN_H
#define SOCKECHOD_CONFSCAN_H

#include <stddef.h>

#define CONFSCAN_MAX_DEPTH		32	/* nested groups, lists, arrays */
#define CONFSCAN_MAX_TOKEN_BYTES	4096	/* a name, string or number */
#define CONFSCAN_MAX_SETTINGS		4096	/* "=" or ":", all files */
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

/* The outcome of one file: its @include lines, or the first problem. */
struct confscan {
	struct confscan_include	 inc[CONFSCAN_MAX_INCLUDES];
	size_t			 ninc;
	unsigned		 error_line;
	char			 error[256];
};

int	confscan_check(const char *text, size_t len,
	    struct confscan_totals *, struct confscan *);

#endif
