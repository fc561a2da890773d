/* SPDX-License-Identifier: ISC */
/*
 * pidfile.c: the --pid-file of a master that runs without systemd. It
 * refuses a file that a live sockechod holds, or that is no regular file,
 * writes the master's process ID atomically once the sockets are open, and
 * removes the file on exit if it is still ours. Every step on the path is
 * safepath's: no link followed, nothing that blocks. It logs nothing and
 * never exits.
 */
#include "build-config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pidfile.h"
#include "core/safepath.h"

#define PIDFILE_BYTES	32	/* "4194304\n" and room for junk to show */
#define PIDFILE_MODE	0644	/* anyone may read it, less the umask */

/*
 * The text of a PID file: digits and one optional newline. Returns 1 with
 * the PID, 0 when the file is empty (a writer that died before writing),
 * -1 when it is something else.
 */
int
pidfile_parse(const char *text, pid_t *pid)
{
	char	*end;
	long	 v;

	if (text[0] == '\0')
		return 0;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || v <= 0 || v > INT_MAX)
		return -1;
	if (*end == '\n')
		end++;
	if (*end != '\0')
		return -1;
	*pid = (pid_t)v;
	return 1;
}

/*
 * The name of the program a process runs ("self" or a pid), without
 * directory and " (deleted)": how --reload and the pid file tell a master.
 */
int
pidfile_program_of(const char *pid, char *buf, size_t size)
{
	char	 path[64], exe[PATH_MAX], *base, *deleted;
	ssize_t	 n;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if ((deleted = strstr(exe, " (deleted)")) != NULL && deleted[10] == '\0')
		*deleted = '\0';
	base = strrchr(exe, '/');
	snprintf(buf, size, "%s", base ? base + 1 : exe);
	return 0;
}

/*
 * Is "pid" a live process of our program? When its program cannot be
 * read (another user's process), it is assumed to be: refusing to start
 * is the safe mistake.
 */
static bool
live_master(pid_t pid)
{
	char	arg[32], theirs[PATH_MAX], ours[PATH_MAX];

	if (pid == getpid() || (kill(pid, 0) == -1 && errno != EPERM))
		return false;
	snprintf(arg, sizeof(arg), "%ld", (long)pid);
	if (pidfile_program_of(arg, theirs, sizeof(theirs)) == -1 ||
	    pidfile_program_of("self", ours, sizeof(ours)) == -1)
		return true;
	return strcmp(theirs, ours) == 0;
}

/*
 * May this process take "path"? PIDFILE_FREE when there is no file, or
 * it is empty or names a dead process or another program (stale);
 * PIDFILE_HELD with *holder when a live sockechod holds it;
 * PIDFILE_FOREIGN when it is not a PID file at all, *kind then naming
 * what it is when it is no regular file (a FIFO, a link: never opened,
 * never followed); -1 with errno when it cannot be read.
 */
int
pidfile_check(const char *path, pid_t *holder, const char **kind)
{
	char		text[PIDFILE_BYTES];
	struct stat	st;

	*holder = 0;
	*kind = NULL;
	if (safepath_read(path, text, sizeof(text), &st) == -1) {
		if (errno == ENOENT)
			return PIDFILE_FREE;
		if (errno != SAFEPATH_EKIND)
			return -1;
		*kind = safepath_kind(st.st_mode);
		return PIDFILE_FOREIGN;
	}
	switch (pidfile_parse(text, holder)) {
	case -1:
		return PIDFILE_FOREIGN;
	case 0:
		return PIDFILE_FREE;
	}
	return live_master(*holder) ? PIDFILE_HELD : PIDFILE_STALE;
}

/*
 * Write our PID to a temporary file beside "path", under a name nobody can
 * guess, then rename it over.
 */
int
pidfile_write(const char *path)
{
	char	text[PIDFILE_BYTES];
	int	n;

	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	return safepath_replace(path, text, (size_t)n, PIDFILE_MODE);
}

/* Only a file that still names this process: a successor's stays. */
int
pidfile_remove(const char *path)
{
	char	text[PIDFILE_BYTES];
	pid_t	pid;

	if (safepath_read(path, text, sizeof(text), NULL) == -1)
		return errno == ENOENT || errno == SAFEPATH_EKIND ? 0 : -1;
	if (pidfile_parse(text, &pid) != 1 || pid != getpid())
		return 0;
	return safepath_unlink(path, S_IFREG);
}
