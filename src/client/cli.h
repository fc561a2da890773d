/* SPDX-License-Identifier: ISC */
/*
 * cli.h: what the sockecho client's parts share on the command line: the
 * numbers its options take, the usage error, dying with a message.
 */
#ifndef SOCKECHOD_CLI_H
#define SOCKECHOD_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The port of every mode without one: the echo service's. */
#define CLI_DEFAULT_PORT	"7"

/* "sockecho: MESSAGE" on standard error, then exit(status). */
void	cli_fail(int status, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
void	cli_vfail(int status, const char *fmt, va_list)
	    __attribute__((noreturn, format(printf, 2, 0)));

/* A usage error: the reason into err, and EX_USAGE to return. */
int	cli_bad(char *err, size_t errsize, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * getopt's '?' or ':' (ch) for the option in arg: "needs a value" when it
 * is one of the letters in takes_value, else "unknown option"; EX_USAGE.
 */
int	cli_bad_option(char *err, size_t errsize, const char *arg, int ch,
	    const char *takes_value);
/*
 * SECONDS, a decimal fraction of at most a year, as a count of
 * 1/per_second units, rounded: 0 or -1. Zero (or a value that rounds to
 * it) only when zero_ok.
 */
int	cli_seconds(const char *s, bool zero_ok, double per_second,
	    uint64_t *out);
/*
 * A whole number in [min, max], digits only (base 10, or as strtoull's
 * base 0 reads them: 0x hex, 0 octal): 0 or -1.
 */
int	cli_number(const char *s, int base, uint64_t min, uint64_t max,
	    uint64_t *out);
/* BYTES: a number (base 0) with an optional K, M or G (powers of 1024). */
int	cli_bytes(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/*
 * PORT as an operand gives it: one that starts with a digit is a number
 * from 1 to 65535 (getaddrinfo() would take 65543 as 7), anything else a
 * service name for getaddrinfo(): 0 or -1.
 */
int	cli_port(const char *s);

#endif
