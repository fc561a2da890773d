/* SPDX-License-Identifier: ISC */
/*
 * h_proc.c: what /proc says about a process: its CPU time and its
 * children (a master's workers).
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

/* CPU time of a process (user + system), with its reaped children's. */
unsigned long
h_cpu_ms(pid_t pid, bool with_reaped_children)
{
	unsigned long	utime = 0, stime = 0, cutime = 0, cstime = 0;
	char		path[64], buf[1024], *p;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu %lu %lu", &utime, &stime, &cutime, &cstime);
	fclose(fp);
	if (!with_reaped_children)
		cutime = cstime = 0;
	return (utime + stime + cutime + cstime) * 1000 /
	    sysconf(_SC_CLK_TCK);
}

/* The pids of the children of "pid". */
int
h_children(pid_t pid, pid_t *out, int max)
{
	char	path[64];
	FILE	*fp;
	long	 child;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (n < max && fscanf(fp, "%ld", &child) == 1)
		out[n++] = (pid_t)child;
	fclose(fp);
	return n;
}

int
h_wait_children(pid_t pid, int count, int timeout_ms)
{
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;
	pid_t		v[1024];

	do {
		if (h_children(pid, v, 1024) == count)
			return 0;
		usleep(10000);
	} while (h_remaining_ms(deadline) > 0);
	return -1;
}

bool
h_has_pid(const pid_t *v, int n, pid_t pid)
{
	int	i;

	for (i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}
