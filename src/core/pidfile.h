/* SPDX-License-Identifier: ISC */
/* pidfile.h: the master's --pid-file. */
#ifndef SOCKECHOD_PIDFILE_H
#define SOCKECHOD_PIDFILE_H

#include <sys/types.h>

#include <stdbool.h>

enum pidfile_state {
	PIDFILE_FREE,		/* no file, or an empty one */
	PIDFILE_STALE,		/* names a dead process or another program */
	PIDFILE_HELD,		/* names a live sockechod */
	PIDFILE_FOREIGN,	/* not a PID file: never overwritten */
};

int	pidfile_parse(const char *text, pid_t *pid);
int	pidfile_check(const char *path, pid_t *holder, const char **kind);
int	pidfile_write(const char *path);
int	pidfile_remove(const char *path);
int	pidfile_program_of(const char *pid, char *buf, size_t size);

#endif
