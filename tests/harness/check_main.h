/* SPDX-License-Identifier: ISC */
/* check_main.h: every Check program defines its suite; check_main.c runs it. */
#ifndef SOCKECHOD_TEST_CHECK_MAIN_H
#define SOCKECHOD_TEST_CHECK_MAIN_H

#include <check.h>

Suite	*suite(void);

/*
 * A test that cannot run here records why and returns: the program then
 * reports SKIP (exit 77) instead of PASS, unless another test failed.
 */
void	check_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CHECK_SKIP(...)	do { check_skip(__VA_ARGS__); return; } while (0)

#endif
