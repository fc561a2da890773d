/* SPDX-License-Identifier: ISC */
/*
 * notify.c: the sd_notify(3) messages of the master. Each is a no-op when
 * systemd is not listening (no NOTIFY_SOCKET). Workers never notify: they
 * forget the variables right after fork.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "core/notify.h"
#include "core/sig.h"

void
notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

/* MONOTONIC_USEC lets systemd tell this reload from an earlier one. */
void
notify_reloading(void)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading "
	    "configuration", (unsigned long long)sig_monotonic_us());
}

void
notify_stopping(const char *status)
{
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
}

void
notify_status(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void
notify_extend_timeout(uint64_t usec)
{
	sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long)usec);
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

void
notify_failure(int errnum, const char *status)
{
	sd_notifyf(0, "STATUS=%s\nERRNO=%d", status, errnum);
}

/* The watchdog interval systemd expects from this process, 0 if none. */
uint64_t
notify_watchdog_usec(void)
{
	uint64_t	usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

/* What systemd tells the master alone. */
static const char *const private_vars[] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
	"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
};
#define NPRIVATE	nitems(private_vars)

/*
 * Call first thing in main(). The master keeps private copies of systemd's
 * variables and wipes the originals in the environment block that exec
 * gave it, which /proc/PID/environ shows for it and for every worker
 * forked from it: a worker must not see them even there.
 */
void
notify_claim_environment(void)
{
	char	*value, *orig, *copy;
	size_t	 i;

	for (i = 0; i < NPRIVATE; i++) {
		if ((value = getenv(private_vars[i])) == NULL)
			continue;
		orig = value - strlen(private_vars[i]) - 1;
		if ((copy = strdup(value)) == NULL ||
		    setenv(private_vars[i], copy, 1) == -1) {
			free(copy);
			continue;
		}
		free(copy);
		memset(orig, 0, strlen(orig));
	}
}

/* In a worker: the variables are gone for good. */
void
notify_forget(void)
{
	size_t	i;

	for (i = 0; i < NPRIVATE; i++)
		unsetenv(private_vars[i]);
}
