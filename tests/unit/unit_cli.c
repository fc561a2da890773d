/* SPDX-License-Identifier: ISC */
/*
 * unit_cli.c: client/cli.c's parsers, the numbers of every sockecho
 * option (seconds, counts, bytes), table-driven: values, units and
 * suffixes, bases, overflow, garbage, zero and negative numbers; and
 * cli_bad()'s message and status.
 */
#include "build-config.h"

#include <stdint.h>
#include <string.h>
#include <sysexits.h>

#include <check.h>

#include "harness/check_main.h"

#include "client/cli.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define NS	1e9
#define MS	1e3
#define NO	-1	/* refused */

static const struct seconds_case {
	const char	*s;
	int		 zero_ok;
	double		 per_second;
	int		 want;
	uint64_t	 value;
} seconds_cases[] = {
	{ "1", 0, NS, 0, 1000000000ull },
	{ "2.5", 0, NS, 0, 2500000000ull },
	{ "0.002", 0, NS, 0, 2000000ull },
	{ "1e-3", 0, NS, 0, 1000000ull },
	{ "0.0000000004", 0, NS, NO, 0 },	/* rounds to 0 ns */
	{ "0.0000000006", 0, NS, 0, 1 },	/* rounds up to 1 ns */
	{ "0.0004", 0, MS, NO, 0 },		/* sockecho -t: 0 ms */
	{ "0.0006", 0, MS, 0, 1 },
	{ "1.5", 0, MS, 0, 1500 },
	{ "0", 0, NS, NO, 0 },
	{ "0", 1, NS, 0, 0 },
	{ "0.0", 1, NS, 0, 0 },
	{ "-1", 1, NS, NO, 0 },
	{ "-0.5", 0, NS, NO, 0 },
	{ "31536000", 0, NS, 0, 31536000000000000ull },	/* a year */
	{ "31536000.1", 0, NS, NO, 0 },
	{ "1e300", 0, NS, NO, 0 },
	{ "inf", 0, NS, NO, 0 },
	{ "nan", 1, NS, NO, 0 },
	{ "", 1, NS, NO, 0 },
	{ "x", 1, NS, NO, 0 },
	{ "1s", 0, NS, NO, 0 },
	{ "1 ", 0, NS, NO, 0 },
	{ "1,5", 0, NS, NO, 0 },
	/* A number starts with a digit (sockecho(1)): no sign, no space. */
	{ " 1", 0, MS, NO, 0 },
	{ "\t1", 0, MS, NO, 0 },
	{ "+1", 0, MS, NO, 0 },
	{ "-0", 1, NS, NO, 0 },
	{ ".5", 0, NS, NO, 0 },
	{ "0x1p-3", 0, MS, 0, 125 },	/* starts with a digit: strtod's */
};

START_TEST(test_seconds)
{
	const struct seconds_case	*c = &seconds_cases[_i];
	uint64_t			 v = 12345;

	ck_assert_msg(cli_seconds(c->s, c->zero_ok, c->per_second, &v) ==
	    c->want, "\"%s\": not %d", c->s, c->want);
	if (c->want == 0)
		ck_assert_uint_eq(v, c->value);
	else
		ck_assert_uint_eq(v, 12345);	/* untouched */
}
END_TEST

static const struct number_case {
	const char	*s;
	int		 base;
	uint64_t	 min;
	uint64_t	 max;
	int		 want;
	uint64_t	 value;
} number_cases[] = {
	{ "1", 10, 1, 10, 0, 1 },
	{ "10", 10, 1, 10, 0, 10 },
	{ "11", 10, 1, 10, NO, 0 },
	{ "0", 10, 1, 10, NO, 0 },
	{ "0", 10, 0, 10, 0, 0 },
	{ "-1", 10, 0, UINT64_MAX, NO, 0 },	/* strtoull: 2^64 - 1 */
	{ "+1", 10, 0, 10, NO, 0 },
	{ " 1", 10, 0, 10, NO, 0 },
	{ "1 ", 10, 0, 10, NO, 0 },
	{ "", 10, 0, 10, NO, 0 },
	{ "x", 10, 0, 10, NO, 0 },
	{ "1x", 10, 0, 10, NO, 0 },
	{ "1.0", 10, 0, 10, NO, 0 },
	{ "0x10", 10, 0, 100, NO, 0 },		/* base 10: no hex */
	{ "010", 10, 0, 100, 0, 10 },
	{ "0x10", 0, 0, 100, 0, 16 },		/* base 0, as --bulk */
	{ "010", 0, 0, 100, 0, 8 },
	{ "18446744073709551615", 10, 0, UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616", 10, 0, UINT64_MAX, NO, 0 },	/* ERANGE */
	{ "99999999999999999999999", 0, 0, UINT64_MAX, NO, 0 },
	{ "65535", 10, 1, 65535, 0, 65535 },
	{ "65536", 10, 1, 65535, NO, 0 },
};

START_TEST(test_number)
{
	const struct number_case	*c = &number_cases[_i];
	uint64_t			 v = 12345;

	ck_assert_msg(cli_number(c->s, c->base, c->min, c->max, &v) ==
	    c->want, "\"%s\" base %d: not %d", c->s, c->base, c->want);
	if (c->want == 0)
		ck_assert_uint_eq(v, c->value);
	else
		ck_assert_uint_eq(v, 12345);
}
END_TEST

static const struct bytes_case {
	const char	*s;
	uint64_t	 min;
	uint64_t	 max;
	int		 want;
	uint64_t	 value;
} bytes_cases[] = {
	{ "1", 1, UINT64_MAX, 0, 1 },
	{ "1K", 1, UINT64_MAX, 0, 1024 },
	{ "32k", 1, UINT64_MAX, 0, 32768 },
	{ "16M", 1, UINT64_MAX, 0, 16u << 20 },
	{ "3G", 1, UINT64_MAX, 0, 3ull << 30 },
	{ "3g", 1, UINT64_MAX, 0, 3ull << 30 },
	{ "0x10K", 1, UINT64_MAX, 0, 16384 },
	{ "1024K", 1, 1u << 20, 0, 1u << 20 },
	{ "1025K", 1, 1u << 20, NO, 0 },
	{ "0", 1, UINT64_MAX, NO, 0 },
	{ "0K", 0, UINT64_MAX, 0, 0 },
	{ "12X", 1, UINT64_MAX, NO, 0 },
	{ "K", 1, UINT64_MAX, NO, 0 },
	{ "", 1, UINT64_MAX, NO, 0 },
	{ "-1K", 1, UINT64_MAX, NO, 0 },
	{ "1KK", 1, UINT64_MAX, NO, 0 },
	{ "1T", 1, UINT64_MAX, NO, 0 },
	/* ' ' & ~0x20 is '\0': a trailing space was read as a suffix, 1T. */
	{ "1 ", 1, UINT64_MAX, NO, 0 },
	{ "8589934591G", 1, UINT64_MAX, 0, 8589934591ull << 30 },
	{ "17179869184G", 1, UINT64_MAX, NO, 0 },	/* 2^64: overflow */
	{ "99999999999G", 1, UINT64_MAX >> 1, NO, 0 },
	{ "123456789012345678901234567890123", 1, UINT64_MAX, NO, 0 },
};

START_TEST(test_bytes)
{
	const struct bytes_case	*c = &bytes_cases[_i];
	uint64_t		 v = 12345;

	ck_assert_msg(cli_bytes(c->s, c->min, c->max, &v) == c->want,
	    "\"%s\": not %d", c->s, c->want);
	if (c->want == 0)
		ck_assert_uint_eq(v, c->value);
	else
		ck_assert_uint_eq(v, 12345);
}
END_TEST

static const struct port_case {
	const char	*s;
	int		 want;
} port_cases[] = {
	{ "1", 0 },
	{ "7", 0 },
	{ "65535", 0 },
	{ "echo", 0 },		/* a service name: getaddrinfo()'s */
	{ "0", NO },
	{ "65536", NO },
	{ "65543", NO },	/* getaddrinfo() took it as 7 */
	{ "99999", NO },
	{ "7x", NO },
	{ "18446744073709551623", NO },
};

START_TEST(test_port)
{
	const struct port_case	*c = &port_cases[_i];

	ck_assert_msg(cli_port(c->s) == c->want, "\"%s\": not %d", c->s,
	    c->want);
}
END_TEST

START_TEST(test_bad)
{
	char	err[16];

	ck_assert_int_eq(cli_bad(err, sizeof(err), "-%c: not \"%s\"", 'P',
	    "0"), EX_USAGE);
	ck_assert_str_eq(err, "-P: not \"0\"");
	/* Truncated to the buffer, never past it. */
	ck_assert_int_eq(cli_bad(err, sizeof(err), "%s", "a reason longer "
	    "than sixteen bytes"), EX_USAGE);
	ck_assert_str_eq(err, "a reason longer");
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc = tcase_create("cli");

	tcase_add_loop_test(tc, test_seconds, 0, nitems(seconds_cases));
	tcase_add_loop_test(tc, test_number, 0, nitems(number_cases));
	tcase_add_loop_test(tc, test_bytes, 0, nitems(bytes_cases));
	tcase_add_loop_test(tc, test_port, 0, nitems(port_cases));
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	return s;
}
