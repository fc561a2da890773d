/* SPDX-License-Identifier: ISC */
/*
 * fdkeep.c: close every descriptor of this process but the few it keeps,
 * as a new worker does first: whatever its master holds (a socket a reload
 * dropped, the metrics endpoint, the signal fd, anything inherited) must
 * not live on in it. It decides nothing about which descriptors to keep.
 */
#include "build-config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/fdkeep.h"

static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The gaps between the kept descriptors, up to the highest possible one:
 * at most n + 1 ranges into "out". It sorts "keep"; negative entries and
 * duplicates are ignored.
 */
size_t
fdkeep_ranges(int *keep, size_t n, struct fdkeep_range *out)
{
	unsigned	next = 0;
	size_t		i, nr = 0;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < next)
			continue;
		if ((unsigned)keep[i] > next)
			out[nr++] = (struct fdkeep_range){ next,
			    (unsigned)keep[i] - 1 };
		next = (unsigned)keep[i] + 1;
	}
	out[nr++] = (struct fdkeep_range){ next, UINT_MAX };
	return nr;
}

static bool
kept(const int *keep, size_t n, int fd)
{
	return bsearch(&fd, keep, n, sizeof(*keep), cmp_int) != NULL;
}

/*
 * Without close_range(2) (Linux before 5.9): the descriptors that
 * /proc/self/fd lists, the directory's own excepted. "keep" is sorted.
 */
int
fdkeep_close_listed(const int *keep, size_t n)
{
	struct dirent	*de;
	DIR		*dir;
	char		*end;
	long		 fd;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || fd < 0 ||
		    fd > INT_MAX || fd == dirfd(dir) || kept(keep, n, (int)fd))
			continue;
		(void)close((int)fd);
	}
	return closedir(dir);
}

/* Without /proc either: one close(2) for each number below "limit". */
int
fdkeep_close_counted(const struct fdkeep_range *r, size_t n, unsigned limit)
{
	unsigned	fd;
	size_t		i;

	for (i = 0; i < n; i++)
		for (fd = r[i].first; fd <= r[i].last && fd < limit; fd++)
			(void)close((int)fd);
	return 0;
}

static unsigned
open_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > INT_MAX)
		return INT_MAX;
	return (unsigned)rl.rlim_cur;
}

static int
close_range_call(unsigned first, unsigned last)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Close every descriptor not in "keep" (n entries, sorted here): with
 * close_range(2) around the kept ones, else as fdkeep_close_listed(), else
 * one by one. Any failure of close_range(2) falls back, not only ENOSYS:
 * a seccomp policy older than the call (container profiles, systemd's
 * SystemCallErrorNumber=EPERM) makes it EPERM. Returns 0, or -1 with errno.
 */
int
fdkeep_close_others(int *keep, size_t n)
{
	struct fdkeep_range	*r;
	size_t			 nr, i;
	int			 rc = 0;

	if ((r = calloc(n + 1, sizeof(*r))) == NULL)
		return -1;
	nr = fdkeep_ranges(keep, n, r);
	for (i = 0; i < nr; i++)
		if ((rc = close_range_call(r[i].first, r[i].last)) == -1)
			break;
	if (rc == -1 && (rc = fdkeep_close_listed(keep, n)) == -1)
		rc = fdkeep_close_counted(r, nr, open_limit());
	free(r);
	return rc;
}
