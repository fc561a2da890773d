/* SPDX-License-Identifier: ISC */
/*
 * unit_safepath.c: what a path's directory writers can put at it (a FIFO,
 * a link, a device, a directory, a socket) is refused without being
 * followed, opened or waited on; files are created exclusively and
 * replaced atomically; a socket file gets its mode from bind() itself.
 * The stale-socket probe never waits on a full queue and never connects
 * through a link swapped in after the look. alarm() turns a hang into a
 * failure.
 */
#include "build-config.h"

#include <sys/inotify.h>
#include <sys/param.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"
#include "core/safepath.h"

#define HANG_S		10	/* a call still running after this has hung */
#define RACE_ROUNDS	1000000
#define RACE_S		3	/* or this long */

static char	dir[64], path[128], target[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unit_safepath.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	alarm(HANG_S);
}

static void
teardown(void)
{
	char	cmd[128];

	alarm(0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static void
put(const char *file, const char *text)
{
	FILE	*fp = fopen(file, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static const char *
text_of(const char *file)
{
	static char	 text[64];
	FILE		*fp;
	size_t		 n;

	text[0] = '\0';
	if ((fp = fopen(file, "r")) == NULL)
		return "(none)";
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static int
entries(void)
{
	struct dirent	*e;
	DIR		*dp = opendir(dir);
	int		 n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static void
expect_refused(const char *kind)
{
	struct stat	st;
	char		buf[32];

	errno = 0;
	ck_assert_int_eq(safepath_read(path, buf, sizeof(buf), &st), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	ck_assert_str_eq(safepath_kind(st.st_mode), kind);
}

START_TEST(test_read_only_regular_files)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	char			buf[32];
	int			fd;

	put(path, "4711\n");
	ck_assert_int_eq(safepath_read(path, buf, sizeof(buf), NULL), 5);
	ck_assert_str_eq(buf, "4711\n");
	ck_assert_int_eq(safepath_read(path, buf, 3, NULL), 2);
	ck_assert_str_eq(buf, "47");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	expect_refused("a FIFO");
	ck_assert_int_eq(unlink(path), 0);
	put(target, "secret\n");
	ck_assert_int_eq(symlink(target, path), 0);
	expect_refused("a symbolic link");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("/dev/zero", path), 0);
	expect_refused("a symbolic link");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	expect_refused("a directory");
	ck_assert_int_eq(rmdir(path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	expect_refused("a socket");
	close(fd);
	errno = 0;
	ck_assert_int_eq(safepath_read("/nonexistent/x", buf, sizeof(buf),
	    NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * A FIFO is refused before it is opened, not after: opening it would
 * wake a writer blocked on it, and a device's open() has effects of its
 * own. inotify sees every open.
 */
START_TEST(test_fifo_never_opened)
{
	struct inotify_event	ev;
	struct stat		st;
	int			in;

	ck_assert_int_eq(mkfifo(target, 0600), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_ge(in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), 0);
	ck_assert_int_ge(inotify_add_watch(in, target, IN_OPEN), 0);
	errno = 0;
	ck_assert_int_eq(safepath_open_read(target, 0, &st), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	ck_assert(S_ISFIFO(st.st_mode));
	/* The configuration follows links: to the FIFO, not into it. */
	ck_assert_int_eq(safepath_open_read(path, SAFEPATH_FOLLOW, &st), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(read(in, &ev, sizeof(ev)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(in);
}
END_TEST

/*
 * Between the look and the open, a writer of the directory swaps a FIFO
 * in and out as fast as it can: no open may wait on it.
 */
START_TEST(test_fifo_swapped_in_never_blocks)
{
	struct timespec	ts;
	struct stat	st;
	char		fifo[160], file[160], buf[32];
	pid_t		pid;
	long		rounds, fifos = 0;
	time_t		end;

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(file, sizeof(file), "%s/regular", dir);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			(void)mkfifo(fifo, 0600);
			(void)rename(fifo, path);
			put(file, "x");
			(void)rename(file, path);
		}
	}
	ck_assert_int_gt(pid, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + RACE_S;
	for (rounds = 0; rounds < RACE_ROUNDS; rounds++) {
		if (safepath_read(path, buf, sizeof(buf), &st) == -1 &&
		    errno == SAFEPATH_EKIND && S_ISFIFO(st.st_mode))
			fifos++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec >= end)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_int_gt(fifos, 0);
}
END_TEST

/* Nothing that is there already is opened, truncated or followed. */
START_TEST(test_create_is_exclusive)
{
	int	fd;

	put(path, "keep\n");
	errno = 0;
	ck_assert_int_eq(safepath_create(path, 0644), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(text_of(path), "keep\n");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(safepath_create(path, 0644), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(access(target, F_OK), -1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(safepath_create(path, 0644), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ge(fd = safepath_create(path, 0600), 0);
	close(fd);
}
END_TEST

/* Atomic, through no link, leaving no temporary file. */
START_TEST(test_replace)
{
	struct stat	st;
	mode_t		old;

	put(target, "target\n");
	ck_assert_int_eq(symlink(target, path), 0);
	old = umask(022);
	ck_assert_int_eq(safepath_replace(path, "42\n", 3, 0644), 0);
	umask(old);
	ck_assert_str_eq(text_of(target), "target\n");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_str_eq(text_of(path), "42\n");
	ck_assert_int_eq(entries(), 2);
	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	ck_assert_int_eq(safepath_replace(path, "42\n", 3, 0644), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* Only the kind of file asked for goes; a link is never followed. */
START_TEST(test_unlink_only_its_kind)
{
	put(path, "x");
	ck_assert_int_eq(safepath_unlink(path, S_IFSOCK), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(safepath_unlink(path, S_IFREG), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	put(target, "x");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(safepath_unlink(path, S_IFREG), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	ck_assert_int_eq(access(target, F_OK), 0);
	ck_assert_int_eq(safepath_unlink(path, S_IFLNK), 0);
	ck_assert_int_eq(safepath_unlink(path, S_IFREG), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* The name a Unix socket is bound to, as getsockname() tells it. */
static const char *
bound_name(int fd)
{
	static struct sockaddr_un	sun;
	socklen_t			len = sizeof(sun);

	memset(&sun, 0, sizeof(sun));
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sun, &len), 0);
	return sun.sun_path;
}

/*
 * The socket's mode is the one asked for whatever the umask, the umask
 * and the current directory are as they were, and a stale socket is
 * replaced while a live one and a link are not.
 */
START_TEST(test_bind_unix)
{
	char		cwd[PATH_MAX], now[PATH_MAX];
	struct stat	st;
	mode_t		old;
	int		fd, again;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	old = umask(077);
	ck_assert_int_eq(safepath_unix_clear(path), 0);
	ck_assert_int_eq(safepath_bind_unix(fd, path, 0666), 0);
	ck_assert_uint_eq(umask(old), 077);
	ck_assert_str_eq(bound_name(fd), path);
	ck_assert_ptr_nonnull(getcwd(now, sizeof(now)));
	ck_assert_str_eq(now, cwd);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0666);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(safepath_unix_clear(path), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(fd);
	ck_assert_int_eq(safepath_unix_clear(path), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	put(target, "x");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(safepath_unix_clear(path), -1);
	ck_assert_int_eq(errno, SAFEPATH_EKIND);
	again = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(safepath_bind_unix(again, path, 0666), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(again);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644 & ~old);
	/* As long as sun_path takes: bound, the current directory kept. */
	ck_assert_int_lt(snprintf(target, sizeof(target), "%s/%0*d", dir,
	    (int)(sizeof(((struct sockaddr_un *)0)->sun_path) - 2 -
	    strlen(dir)), 0), (int)sizeof(target));
	again = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(safepath_bind_unix(again, target, 0600), 0);
	ck_assert_str_eq(bound_name(again), target);
	close(again);
	ck_assert_ptr_nonnull(getcwd(now, sizeof(now)));
	ck_assert_str_eq(now, cwd);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	/* One byte more does not fit. */
	strcat(target, "0");
	again = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(safepath_bind_unix(again, target, 0600), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	close(again);
}
END_TEST

/* A socket at "at" that listens with a full queue; *client holds it full. */
static int
full_listener(const char *at, int *client)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd, c, i;

	ck_assert_uint_lt(strlen(at), sizeof(sun.sun_path));
	memcpy(sun.sun_path, at, strlen(at));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 0), 0);
	*client = -1;
	for (i = 0; i < 4; i++) {
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(c, 0);
		if (connect(c, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			close(c);
			return fd;
		}
		*client = c;
	}
	ck_abort_msg("the queue of %s never filled", at);
	return -1;
}

/*
 * A listener whose queue a local user keeps full: in use, said at once.
 * A blocking probe slept in connect() until alarm() ended the test.
 */
START_TEST(test_full_queue_is_in_use)
{
	struct stat	st;
	int		fd, client;

	fd = full_listener(path, &client);
	ck_assert_int_eq(safepath_unix_clear(path), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	close(client);
	close(fd);
}
END_TEST

/* A socket bound at "at", then closed: a stale one. */
static void
stale_socket(const char *at)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd;

	memcpy(sun.sun_path, at, MIN(strlen(at), sizeof(sun.sun_path) - 1));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		coverage_exit(1);
	(void)bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
}

/* Connections waiting on the listener fd (non-blocking), accepted. */
static int
drain(int fd)
{
	int	c, n = 0;

	while ((c = accept(fd, NULL, NULL)) != -1) {
		close(c);
		n++;
	}
	return n;
}

/*
 * Between the look at the name (a stale socket) and the probe, a writer
 * of the directory puts a link to a victim socket there, in a loop: the
 * probe never reaches the victim, and the link is never removed in the
 * stale socket's place. By name, the probe connected in about 1 call of
 * 20 (the reviewer's figure: 9 of 60 root daemon starts).
 */
START_TEST(test_probe_never_follows_a_swapped_link)
{
	char		victim[160], stale[160], link[160];
	struct timespec	ts;
	long		rounds, sockets = 0, links = 0;
	int		vfd, reached = 0, client;
	pid_t		pid;
	time_t		end;

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(stale, sizeof(stale), "%s/stale", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	vfd = full_listener(victim, &client);
	close(client);
	ck_assert_int_eq(fcntl(vfd, F_SETFL, O_NONBLOCK), 0);
	drain(vfd);
	ck_assert_int_eq(listen(vfd, SOMAXCONN), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			stale_socket(stale);
			(void)rename(stale, path);
			(void)symlink(victim, link);
			(void)rename(link, path);
		}
	}
	ck_assert_int_gt(pid, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + RACE_S;
	for (rounds = 0; rounds < RACE_ROUNDS; rounds++) {
		if (safepath_unix_clear(path) == 0)
			sockets++;
		else if (errno == SAFEPATH_EKIND)
			links++;
		reached += drain(vfd);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec >= end)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	reached += drain(vfd);
	printf("SAFEPATH probe race: %d of %ld probes reached the victim "
	    "(%ld sockets, %ld links seen)\n", reached, rounds, sockets, links);
	ck_assert_msg(sockets > 0 && links > 0, "the race never ran");
	ck_assert_int_eq(reached, 0);
	close(vfd);
}
END_TEST

/* In the child, as nobody in priv: the exit status says what failed. */
static void
bind_as_nobody(const struct passwd *pw, const char *priv, const char *pub,
    const char *longname)
{
	char	at[PATH_MAX], cwd[PATH_MAX];
	ssize_t	n;
	int	fd;

	snprintf(at, sizeof(at), "%s/short", pub);
	if (chdir(priv) == -1 || setgroups(0, NULL) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		coverage_exit(2);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (safepath_unix_clear(at) == -1 ||
	    safepath_bind_unix(fd, at, 0600) == -1)
		coverage_exit(3);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (safepath_bind_unix(fd, longname, 0600) == -1)
		coverage_exit(4);
	n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
	if (n == -1)
		coverage_exit(5);
	cwd[n] = '\0';
	coverage_exit(strcmp(cwd, priv) == 0 ? 0 : 6);
}

/*
 * Bound as a user who may not search the current directory (a daemon
 * started from root's home): an absolute path needs no current directory
 * (before: open(".") failed, EACCES, exit 3), a short name and one as long
 * as sun_path takes, and the process stays where it was.
 */
START_TEST(test_bind_from_unsearchable_cwd)
{
	char		priv[160], pub[160], name[400];
	struct passwd	*pw;
	pid_t		pid;
	int		status;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return;
	snprintf(priv, sizeof(priv), "%s/priv", dir);
	snprintf(pub, sizeof(pub), "%s/pub", dir);
	ck_assert_int_eq(chmod(dir, 0711), 0);
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	ck_assert_int_eq(mkdir(pub, 0777), 0);
	ck_assert_int_eq(chmod(pub, 0777), 0);
	ck_assert_int_lt(snprintf(name, sizeof(name), "%s/%0*d", pub,
	    (int)(sizeof(((struct sockaddr_un *)0)->sun_path) - 2 -
	    strlen(pub)), 0), (int)sizeof(name));
	if ((pid = fork()) == 0)
		bind_as_nobody(pw, priv, pub, name);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "bind as nobody from a 0700 directory: exit %d",
	    WEXITSTATUS(status));
	ck_assert_int_eq(access(name, F_OK), 0);
}
END_TEST

/*
 * issue 23, from safepath.h's contract ("act on a given path"): a path
 * whose last component names no file ("", "dir/", ".", "..") is EISDIR, a
 * component longer than NAME_MAX is ENAMETOOLONG, for every call that
 * takes a path; a name in "/" or in the current directory is looked up
 * there; a read of size 0 is EINVAL.
 */
static const struct {
	const char	*path;
	int		 err;
} name_cases[] = {
	{ "", EISDIR },
	{ "/tmp/", EISDIR },
	{ ".", EISDIR },
	{ "/tmp/..", EISDIR },
	{ "/no-such-file-unit-safepath", ENOENT },
	{ "no-such-file-unit-safepath", ENOENT },
	{ "/tmp/LONG", ENAMETOOLONG },
};

START_TEST(test_path_forms)
{
	char		 p[PATH_MAX], buf[8];
	const char	*long_at;
	struct stat	 st;

	snprintf(p, sizeof(p), "%s", name_cases[_i].path);
	if ((long_at = strstr(name_cases[_i].path, "LONG")) != NULL)
		snprintf(p + (long_at - name_cases[_i].path),
		    sizeof(p) - (size_t)(long_at - name_cases[_i].path),
		    "%0*d", NAME_MAX + 1, 0);
	errno = 0;
	ck_assert_int_eq(safepath_read(p, buf, sizeof(buf), &st), -1);
	ck_assert_int_eq(errno, name_cases[_i].err);
	errno = 0;
	ck_assert_int_eq(safepath_unlink(p, S_IFREG), -1);
	ck_assert_int_eq(errno, name_cases[_i].err);
	if (name_cases[_i].err != ENOENT) {
		errno = 0;
		ck_assert_int_eq(safepath_create(p, 0600), -1);
		ck_assert_int_eq(errno, name_cases[_i].err);
		errno = 0;
		ck_assert_int_eq(safepath_replace(p, "x", 1, 0600), -1);
		ck_assert_int_eq(errno, name_cases[_i].err);
	}
	errno = 0;
	ck_assert_int_eq(safepath_read(path, buf, 0, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The kinds that messages name ("... is a device"). */
START_TEST(test_kind_names)
{
	ck_assert_str_eq(safepath_kind(S_IFREG), "a regular file");
	ck_assert_str_eq(safepath_kind(S_IFDIR), "a directory");
	ck_assert_str_eq(safepath_kind(S_IFIFO), "a FIFO");
	ck_assert_str_eq(safepath_kind(S_IFSOCK), "a socket");
	ck_assert_str_eq(safepath_kind(S_IFLNK), "a symbolic link");
	ck_assert_str_eq(safepath_kind(S_IFCHR), "a device");
	ck_assert_str_eq(safepath_kind(S_IFBLK), "a device");
	ck_assert_str_eq(safepath_kind(0), "not a regular file");
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("safepath");
	TCase	*tc = tcase_create("safepath");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_read_only_regular_files);
	tcase_add_test(tc, test_fifo_never_opened);
	tcase_add_test(tc, test_fifo_swapped_in_never_blocks);
	tcase_add_test(tc, test_create_is_exclusive);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_unlink_only_its_kind);
	tcase_add_test(tc, test_bind_unix);
	tcase_add_test(tc, test_full_queue_is_in_use);
	tcase_add_test(tc, test_probe_never_follows_a_swapped_link);
	tcase_add_test(tc, test_bind_from_unsearchable_cwd);
	tcase_add_loop_test(tc, test_path_forms, 0,
	    (int)(sizeof(name_cases) / sizeof(name_cases[0])));
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);
	return s;
}
