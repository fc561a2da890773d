/* SPDX-License-Identifier: ISC */
/*
 * harness.c: what every part of the test harness shares: deadlines (on
 * core's sig_monotonic_ms(), the one clock), the environment, dying. The
 * parts, all declared in harness.h: h_daemon.c (a running sockechod),
 * h_socket.c (talking to it), h_proc.c (/proc probes), h_run.c (running a
 * command).
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

/* Milliseconds left until "deadline" (sig_monotonic_ms()), 0 once past. */
int
h_remaining_ms(uint64_t deadline)
{
	uint64_t	now = sig_monotonic_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* A test program that cannot go on: say why, exit 99 (a hard error). */
void
h_die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(99);
}

const char *
h_env(const char *name, const char *fallback)
{
	const char	*v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}
