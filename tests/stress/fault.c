/* SPDX-License-Identifier: ISC */
/*
 * fault.c: the fault hooks of tests/stress/sockechod-faulty, a test-only build of
 * the daemon. It replaces the weak no-op worker_fault_point() of
 * src/worker/worker.c; the production binary has no hooks at all.
 *
 * SOCKECHOD_FAULT=crash-at-start: every worker aborts right before it
 * would start serving, after appending "MONOTONIC_MS PID" to the file
 * named by SOCKECHOD_FAULT_RECORD.
 *
 * SOCKECHOD_FAULT=one-slow-start: the first worker to create the file
 * named by SOCKECHOD_FAULT_RECORD waits SLOW_START_MS before it serves.
 *
 * SOCKECHOD_FAULT=kill-in-WHERE (kill-in-udp-limit, kill-in-udp-limit-global,
 * kill-in-clients, kill-in-clients-hole, kill-in-clients-shift): the first
 * worker to reach fault_point("WHERE"), inside
 * that shared table's lock, and to create the file named by
 * SOCKECHOD_FAULT_RECORD, SIGKILLs itself there, lock held.
 */
#include "build-config.h"

#include <sys/resource.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/coverage.h"
#include "core/fault_point.h"
#include "core/sig.h"
#include "worker/worker.h"

#define SLOW_START_MS	1500

void
worker_fault_point(const char *where)
{
	const char	*fault = getenv("SOCKECHOD_FAULT");
	const char	*record = getenv("SOCKECHOD_FAULT_RECORD");
	struct rlimit	 nocore = { 0, 0 };
	char		 line[64];
	int		 fd, n;

	if (fault == NULL || strcmp(where, "start") != 0)
		return;
	if (strcmp(fault, "one-slow-start") == 0) {
		if (record != NULL && (fd = open(record, O_WRONLY | O_CREAT |
		    O_EXCL, 0644)) >= 0) {
			close(fd);
			usleep(SLOW_START_MS * 1000);
		}
		return;
	}
	if (strcmp(fault, "crash-at-start") != 0)
		return;
	if (record != NULL &&
	    (fd = open(record, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
		n = snprintf(line, sizeof(line), "%llu %ld\n",
		    (unsigned long long)sig_monotonic_ms(), (long)getpid());
		(void)!write(fd, line, n);
		close(fd);
	}
	setrlimit(RLIMIT_CORE, &nocore);
	coverage_flush();
	abort();
}

void
fault_point(const char *where)
{
	const char	*fault = getenv("SOCKECHOD_FAULT");
	const char	*record = getenv("SOCKECHOD_FAULT_RECORD");
	int		 fd;

	if (fault == NULL || record == NULL ||
	    strncmp(fault, "kill-in-", 8) != 0 || strcmp(fault + 8, where) != 0)
		return;
	if ((fd = open(record, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1)
		return;
	close(fd);
	coverage_flush();
	raise(SIGKILL);
}
