/* SPDX-License-Identifier: ISC */
/*
 * cli.c: the sockecho client's command line, shared by every mode (TCP,
 * UDP, --ping, --stamp, --bulk, the prober): the numbers its options take
 * (seconds, counts, bytes; pure), the usage error, and how the client
 * gives up: one "sockecho: " line on standard error and its exit status.
 * Only the client calls it; the daemon never exits from a helper.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "client/cli.h"

/* No duration longer than a year: a typo, and its nanoseconds overflow. */
#define CLI_MAX_SECONDS	(86400.0 * 365)

void
cli_vfail(int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "sockecho: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	exit(status);
}

void
cli_fail(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cli_vfail(status, fmt, ap);
}

int
cli_bad(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return EX_USAGE;
}

int
cli_bad_option(char *err, size_t errsize, const char *arg, int ch,
    const char *takes_value)
{
	return cli_bad(err, errsize, "%s: %s", arg, ch == ':' ||
	    (optopt && strchr(takes_value, optopt)) ? "needs a value" :
	    "unknown option");
}

int
cli_seconds(const char *s, bool zero_ok, double per_second, uint64_t *out)
{
	char		*end;
	double		 v;
	uint64_t	 n;

	/* strtod would take " 1", "+1", "-0" and ".5" too. */
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
	    v > CLI_MAX_SECONDS)
		return -1;
	n = (uint64_t)(v * per_second + 0.5);
	if (n == 0 && !zero_ok)
		return -1;
	*out = n;
	return 0;
}

int
cli_number(const char *s, int base, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char			*end;
	unsigned long long	 n;

	/* strtoull would take "-1" as 2^64 - 1, and " 1" or "+1" too. */
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
cli_bytes(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const char	suffix[] = "KMG";
	const char		*sp;
	char			 num[32];
	size_t			 len = strlen(s);
	unsigned		 shift = 0;
	uint64_t		 v;
	char			 c;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	/* ' ' & ~0x20 is '\0', which strchr() finds at the end of suffix. */
	c = num[len - 1] & ~0x20;
	if (c != '\0' && (sp = strchr(suffix, c)) != NULL) {
		shift = 10 * (unsigned)(sp - suffix + 1);
		num[len - 1] = '\0';
	}
	if (cli_number(num, 0, 0, UINT64_MAX >> shift, &v) == -1)
		return -1;
	v <<= shift;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_port(const char *s)
{
	uint64_t	v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	return cli_number(s, 10, 1, 65535, &v);
}
