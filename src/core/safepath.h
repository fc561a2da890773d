/* SPDX-License-Identifier: ISC */
/* safepath.h: act on a given path without following its last link or blocking. */
#ifndef SOCKECHOD_SAFEPATH_H
#define SOCKECHOD_SAFEPATH_H

#include <sys/types.h>
#include <sys/stat.h>

/*
 * errno when a path names a file of the wrong kind (a FIFO, a link, a
 * directory where a regular file is expected): *st, where there is one,
 * says which, and safepath_kind() names it.
 */
#define SAFEPATH_EKIND		EMEDIUMTYPE

/* safepath_open_read(): follow a link at the last component too. */
#define SAFEPATH_FOLLOW		0x1

const char *safepath_kind(mode_t mode);
int	safepath_open_read(const char *path, int flags, struct stat *st);
ssize_t	safepath_read(const char *path, char *buf, size_t size,
	    struct stat *st);
int	safepath_create(const char *path, mode_t mode);
int	safepath_replace(const char *path, const void *data, size_t len,
	    mode_t mode);
int	safepath_unlink(const char *path, mode_t type);
int	safepath_unix_clear(const char *path);
int	safepath_bind_unix(int fd, const char *path, mode_t mode);
int	safepath_std_fds(void);

#endif
