/* SPDX-License-Identifier: ISC */
/*
 * integ.c: the fixture of the integration tests: a fresh daemon record per
 * test, started from a config body, and assertions that dump the daemon's
 * log when they fail.
 */
#include "build-config.h"

#include <signal.h>

#include <check.h>

#include "integ/integ.h"

struct daemon	d;

void
integ_setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	h_init(&d);
}

void
integ_teardown(void)
{
	h_cleanup(&d);
}

/* Start with this config ("%P" is the port) and wait for READY=1. */
void
start(const char *body)
{
	if (h_start_config(&d, "%s", body) != 0) {
		h_log_dump(&d);
		ck_abort_msg("sockechod did not get ready");
	}
}

void
expect_log(const char *needle, int timeout_ms)
{
	if (h_log_wait(&d, needle, timeout_ms) != 0) {
		h_log_dump(&d);
		ck_abort_msg("no log line with \"%s\"", needle);
	}
}

void
expect_notify(const char *needle, int timeout_ms, char *msg, size_t size)
{
	char	buf[2048];

	if (h_notify_wait(&d, needle, timeout_ms, msg ? msg : buf,
	    msg ? size : sizeof(buf), NULL) != 0) {
		h_log_dump(&d);
		ck_abort_msg("no notification with \"%s\"", needle);
	}
}
