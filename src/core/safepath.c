/* SPDX-License-Identifier: ISC */
/*
 * safepath.c: every open, create, rename, unlink and bind that the daemon
 * makes on a path it was given (listen, metrics_listen, --pid-file, the
 * configuration, /proc). While the master is root such a path is hostile:
 * whoever can write its directory can put a link, a FIFO or anything else
 * at its last component at any moment. So the last component is never
 * followed (unless the caller asks, for the configuration), nothing opened
 * can block, what we create is created new under a name nobody can guess,
 * a socket gets its mode from a umask around bind() (never a chmod on the
 * path after it), and each step acts on a descriptor or relative to the
 * directory, opened once. The directories leading to the last component
 * are the configuration's, links included (/var/run is one). A socket
 * looked at is probed through /proc/self/fd, never by its name again,
 * and bound through its directory's /proc/self/fd/N/NAME: the current
 * directory changes only for a name too long for that. It logs nothing
 * and never exits.
 */
#include "build-config.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/safepath.h"

#define TEMP_TRIES	16	/* names tried before a temporary file fails */
#define STD_FDS		3	/* standard input, output and error */
#define TEMP_SUFFIX	".0123456789abcdef.tmp"

/* A path as its directory, held open, and its last component. */
struct where {
	int	dirfd;
	char	name[NAME_MAX + 1];
};

/* A name for a file of this kind, for messages. */
const char *
safepath_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFCHR:
	case S_IFBLK:
		return "a device";
	}
	return "not a regular file";
}

static void
where_close(struct where *w)
{
	int	saved = errno;

	if (w->dirfd != -1)
		close(w->dirfd);
	w->dirfd = -1;
	errno = saved;
}

/* Open the directory of "path" (relative: the current one). */
static int
where_open(struct where *w, const char *path)
{
	const char	*slash = strrchr(path, '/');
	const char	*base = slash != NULL ? slash + 1 : path;
	size_t		 dirlen = slash != NULL ? (size_t)(slash - path) : 0;
	char		 dir[PATH_MAX];

	w->dirfd = -1;
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		errno = EISDIR;
		return -1;
	}
	if (strlen(base) >= sizeof(w->name) || dirlen >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (dirlen == 0)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)dirlen, path);
	snprintf(w->name, sizeof(w->name), "%s", base);
	w->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return w->dirfd == -1 ? -1 : 0;
}

static void
close_keep_errno(int fd)
{
	int	saved = errno;

	close(fd);
	errno = saved;
}

static int
wrong_kind(void)
{
	errno = SAFEPATH_EKIND;
	return -1;
}

/*
 * A regular file, opened to read. Its kind is looked at before open(), so
 * that a device is never opened at all, and again after it, on what was
 * opened, in case it was replaced in between: O_NONBLOCK keeps a FIFO
 * swapped in then from blocking the open.
 */
static int
open_checked(int dirfd, const char *name, int nofollow, struct stat *st)
{
	struct stat	now;
	int		fd;

	memset(st, 0, sizeof(*st));
	if (fstatat(dirfd, name, st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) == -1)
		return -1;
	if (!S_ISREG(st->st_mode))
		return wrong_kind();
	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
	    (nofollow ? O_NOFOLLOW : 0));
	if (fd == -1)
		return -1;
	if (fstat(fd, &now) == -1) {
		close_keep_errno(fd);
		return -1;
	}
	*st = now;
	if (!S_ISREG(now.st_mode)) {
		close(fd);
		return wrong_kind();
	}
	return fd;
}

/*
 * Open the regular file at path to read; *st is what was opened. Anything
 * else, a link at the last component included, fails with SAFEPATH_EKIND
 * and *st says what it is. SAFEPATH_FOLLOW follows links (the
 * configuration, which its author may link anywhere).
 */
int
safepath_open_read(const char *path, int flags, struct stat *st)
{
	struct where	w;
	int		fd;

	if (flags & SAFEPATH_FOLLOW)
		return open_checked(AT_FDCWD, path, 0, st);
	if (where_open(&w, path) == -1)
		return -1;
	fd = open_checked(w.dirfd, w.name, 1, st);
	where_close(&w);
	return fd;
}

/*
 * Read a small regular file (a PID file, a /proc file) into buf, at most
 * size - 1 bytes (size > 0), NUL-terminated; returns how many. st may be
 * NULL.
 */
ssize_t
safepath_read(const char *path, char *buf, size_t size, struct stat *st)
{
	struct stat	own;
	size_t		got = 0;
	ssize_t		n;
	int		fd;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = safepath_open_read(path, 0, st != NULL ? st : &own)) == -1)
		return -1;
	while (got + 1 < size) {
		n = read(fd, buf + got, size - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close_keep_errno(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* A new file: never one that was there, whatever it was. */
static int
create_at(int dirfd, const char *name, mode_t mode)
{
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
}

/* Create the regular file at path, which must not exist; its descriptor. */
int
safepath_create(const char *path, mode_t mode)
{
	struct where	w;
	int		fd;

	if (where_open(&w, path) == -1)
		return -1;
	fd = create_at(w.dirfd, w.name, mode);
	where_close(&w);
	return fd;
}

static unsigned long long
temp_suffix(void)
{
	unsigned long long	v;
	struct timespec		ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_nsec << 20) ^
	    (unsigned long long)ts.tv_sec ^
	    ((unsigned long long)getpid() << 40);
}

/*
 * A temporary file beside w's name, under a name that nobody can plant a
 * FIFO or a link at in advance; a name already taken is passed over.
 */
static int
create_temp(const struct where *w, char *tmp, size_t size, mode_t mode)
{
	int	fd = -1, i, keep;

	keep = NAME_MAX - (int)strlen(TEMP_SUFFIX);
	for (i = 0; i < TEMP_TRIES; i++) {
		snprintf(tmp, size, "%.*s.%016llx.tmp", keep, w->name,
		    temp_suffix());
		if ((fd = create_at(w->dirfd, tmp, mode)) != -1 ||
		    errno != EEXIST)
			break;
	}
	if (fd == -1)
		tmp[0] = '\0';
	return fd;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replace the file at path with one that holds data, atomically: a
 * reader sees the old file or the whole new one. A link at path is
 * replaced, not followed.
 */
int
safepath_replace(const char *path, const void *data, size_t len,
    mode_t mode)
{
	struct where	w;
	char		tmp[NAME_MAX + 1];
	int		fd, saved;

	if (where_open(&w, path) == -1)
		return -1;
	if ((fd = create_temp(&w, tmp, sizeof(tmp), mode)) == -1)
		goto fail;
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1)
		goto fail;
	saved = close(fd);
	fd = -1;
	if (saved == -1 || renameat(w.dirfd, tmp, w.dirfd, w.name) == -1)
		goto fail;
	where_close(&w);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlinkat(w.dirfd, tmp, 0);
	where_close(&w);
	errno = saved;
	return -1;
}

/*
 * Remove the file at path if it is of this kind (S_IFREG, S_IFSOCK);
 * anything else there, a link included, stays (SAFEPATH_EKIND).
 */
int
safepath_unlink(const char *path, mode_t type)
{
	struct where	w;
	struct stat	st;
	int		r;

	if (where_open(&w, path) == -1)
		return -1;
	if ((r = fstatat(w.dirfd, w.name, &st, AT_SYMLINK_NOFOLLOW)) == 0)
		r = (st.st_mode & S_IFMT) == type ?
		    unlinkat(w.dirfd, w.name, 0) : wrong_kind();
	where_close(&w);
	return r;
}

/*
 * The address of "name" inside the directory dirfd without a change of
 * directory: /proc/self/fd/DIRFD/NAME, which the kernel resolves through
 * the descriptor (name NULL: the file that dirfd itself holds). -1 with
 * ENAMETOOLONG when it does not fit in sun_path.
 */
static int
sun_fd(struct sockaddr_un *sun, int dirfd, const char *name)
{
	int	n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (name != NULL)
		n = snprintf(sun->sun_path, sizeof(sun->sun_path),
		    "/proc/self/fd/%d/%s", dirfd, name);
	else
		n = snprintf(sun->sun_path, sizeof(sun->sun_path),
		    "/proc/self/fd/%d", dirfd);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * 1 if a process listens on the socket that sockfd (O_PATH) holds, 0 if
 * nobody does, -1 if that cannot be told. The connect() goes through the
 * descriptor, so it reaches that very socket whatever is at its name by
 * then, and never waits: a full queue (EAGAIN) is a listener too.
 */
static int
listened(int sockfd)
{
	struct sockaddr_un	sun;
	int			probe, r, saved;

	if (sun_fd(&sun, sockfd, NULL) == -1)
		return -1;
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(probe);
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS)
		return 1;
	if (saved == ECONNREFUSED)
		return 0;
	errno = saved;
	return -1;
}

/* Remove w's name if it is still the file st describes. */
static int
unlink_same(const struct where *w, const struct stat *st)
{
	struct stat	now;

	if (fstatat(w->dirfd, w->name, &now, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return 0;	/* replaced: whoever did it owns the name */
	return unlinkat(w->dirfd, w->name, 0);
}

/* Remove w's name if it is a socket that nobody listens on. */
static int
clear_at(const struct where *w)
{
	struct stat	st;
	int		fd, r;

	fd = openat(w->dirfd, w->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1) {
		close_keep_errno(fd);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		close(fd);
		return wrong_kind();
	}
	r = listened(fd);
	close_keep_errno(fd);
	if (r == 1) {
		errno = EADDRINUSE;
		return -1;
	}
	if (r == -1)
		return 0;	/* bind() will say what is wrong */
	return unlink_same(w, &st);
}

/*
 * Make path free for a socket: a socket file left behind by a dead
 * process is removed. EADDRINUSE when a live process listens on it (or
 * fills its queue), SAFEPATH_EKIND when it is not a socket (a link to
 * one included). A link is never followed, not even by connect().
 */
int
safepath_unix_clear(const char *path)
{
	struct where	w;
	int		r;

	if (where_open(&w, path) == -1)
		return -1;
	r = clear_at(&w);
	where_close(&w);
	return r;
}

/* The socket file is born with its mode. */
static int
bind_mode(int fd, const struct sockaddr_un *sun, mode_t mode)
{
	mode_t	old;
	int	r;

	old = umask(~mode & 0777);
	r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	return r;
}

/*
 * Bind the Unix socket fd to the file at path, created with "mode". The
 * mode comes from a umask around bind(): a chmod() on the path after it
 * would follow whatever link the directory's writers put there meanwhile.
 * The path is bound as it is (the configuration gives absolute ones):
 * bind() never follows a link at the name (EADDRINUSE), the directories
 * before it are the administrator's, the current directory does not
 * matter, and ss(8), getsockname() and the clients see the name that
 * was configured.
 */
int
safepath_bind_unix(int fd, const char *path, mode_t mode)
{
	struct sockaddr_un	sun;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	return bind_mode(fd, &sun, mode);
}

/*
 * Put /dev/null at each of fds 0, 1 and 2 that is closed, so that what
 * the process opens next (a signalfd, a socket) is never taken for its
 * standard input, output or error, by it or by the children that inherit
 * them. The device is checked to be one after it is opened.
 */
int
safepath_std_fds(void)
{
	struct stat	st;
	int		fd, i;

	for (i = 0; i < STD_FDS; i++) {
		if (fcntl(i, F_GETFD) != -1 || errno != EBADF)
			continue;
		fd = open("/dev/null", O_RDWR | O_NOCTTY | O_NOFOLLOW);
		if (fd == -1)
			return -1;
		/* The lowest free descriptor: i, as 0 to i - 1 are open. */
		if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode)) {
			close(fd);
			return wrong_kind();
		}
	}
	return 0;
}
