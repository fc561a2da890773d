/* SPDX-License-Identifier: ISC */
/*
 * unit_safepath.c: what a path's directory writers can put at it (a FIFO,
 * a link, a device, a directory, a socket) is refused without being
 * followed, opened or waited on; files are created exclusively and
 * replaced atomically; a socket file gets its mode from bind() itself.
 * alarm() turns a hang into a failure.
 */
#include "build-config.h"

#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
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
#include "core/safepath.h"

#define HANG_S		10	/* a call still running after this has hung */
#define RACE_ROUNDS	1000000
#define RACE_S		3	/* or this long */

static char	dir[64], path[128], target[128];

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
	suite_add_tcase(s, tc);
	return s;
}
