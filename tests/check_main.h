/* SPDX-License-Identifier: ISC */
/* check_main.h: every Check program defines its suite; check_main.c runs it. */
#ifndef SOCKECHOD_TEST_CHECK_MAIN_H
#define SOCKECHOD_TEST_CHECK_MAIN_H

#include <check.h>

Suite	*suite(void);

#endif
