/* SPDX-License-Identifier: ISC */
/* integ.h: what the integration test programs share: one daemon per test. */
#ifndef SOCKECHOD_TEST_INTEG_H
#define SOCKECHOD_TEST_INTEG_H

#include <stddef.h>

#include "harness/harness.h"

extern struct daemon	d;

void	integ_setup(void);
void	integ_teardown(void);
void	start(const char *config_body);
void	expect_log(const char *needle, int timeout_ms);
void	expect_notify(const char *needle, int timeout_ms, char *msg,
	    size_t size);

#endif
