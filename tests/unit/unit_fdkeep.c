/* SPDX-License-Identifier: ISC */
/* unit_fdkeep.c: fdkeep.c: the ranges to close, and each way of closing them. */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"

#include "core/fdkeep.h"
#include "core/log.h"

#define KEEP_MAX	8
#define SCAN_MAX	2048	/* past the highest descriptor the tests open */

static const struct ranges_case {
	const char		*what;
	int			 keep[KEEP_MAX];
	size_t			 nkeep;
	struct fdkeep_range	 want[KEEP_MAX + 1];
	size_t			 nwant;
} cases[] = {
	{ "nothing kept", { 0 }, 0, { { 0, UINT_MAX } }, 1 },
	{ "0, 1, 2", { 0, 1, 2 }, 3, { { 3, UINT_MAX } }, 1 },
	{ "unsorted, with gaps", { 9, 0, 2, 5 }, 4,
	    { { 1, 1 }, { 3, 4 }, { 6, 8 }, { 10, UINT_MAX } }, 4 },
	{ "duplicates", { 4, 4, 0, 4 }, 4, { { 1, 3 }, { 5, UINT_MAX } }, 2 },
	{ "-1 (a logger without a socket)", { -1, 0, 1, 2, 7 }, 5,
	    { { 3, 6 }, { 8, UINT_MAX } }, 2 },
	{ "neighbours", { 3, 4, 5, 0 }, 4, { { 1, 2 }, { 6, UINT_MAX } }, 2 },
	{ "a high one", { 0, 1, 2, 1000 }, 4,
	    { { 3, 999 }, { 1001, UINT_MAX } }, 2 },
};

START_TEST(test_ranges)
{
	const struct ranges_case	*c = &cases[_i];
	struct fdkeep_range		 got[KEEP_MAX + 1];
	int				 keep[KEEP_MAX];
	size_t				 n, i;

	memcpy(keep, c->keep, sizeof(keep));
	n = fdkeep_ranges(keep, c->nkeep, got);
	ck_assert_msg(n == c->nwant, "%s: %zu ranges, not %zu", c->what, n,
	    c->nwant);
	for (i = 0; i < n; i++)
		ck_assert_msg(got[i].first == c->want[i].first &&
		    got[i].last == c->want[i].last, "%s: range %zu is %u-%u, "
		    "not %u-%u", c->what, i, got[i].first, got[i].last,
		    c->want[i].first, c->want[i].last);
}
END_TEST

/* The descriptors a grandchild opens; those marked kept must survive. */
static const struct {
	int	fd;
	bool	kept;
} opened[] = {
	{ 10, false }, { 11, true }, { 12, false }, { 79, false },
	{ 80, false }, { 81, true }, { 500, false }, { 1500, true },
	{ 1501, false },
};

enum way { WAY_ANY, WAY_LISTED, WAY_COUNTED, WAY_NO_CLOSE_RANGE };

/*
 * From now on close_range(2) fails with EPERM, as a seccomp policy older
 * than the call makes it (container profiles, systemd's
 * SystemCallErrorNumber=EPERM). -1 where there is no such call to forbid.
 */
static int
forbid_close_range(void)
{
#ifdef SYS_close_range
	struct sock_filter	f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	prog = { (unsigned short)nitems(f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	return -1;
#endif
}

/*
 * In a grandchild (Check's own descriptors must live): open the table's
 * descriptors, close all but the kept ones and standard error one way,
 * and exit with the number of descriptors that are open and should not
 * be, or closed and should not be.
 */
static int
close_in_child(enum way way)
{
	struct fdkeep_range	r[nitems(opened) + 2];
	int			keep[nitems(opened) + 1], status, wrong = 0;
	size_t			i, nkeep = 0, nr;
	pid_t			pid;

	if ((pid = fork()) != 0) {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		return WEXITSTATUS(status);
	}
	keep[nkeep++] = STDERR_FILENO;
	for (i = 0; i < nitems(opened); i++) {
		if (dup2(STDERR_FILENO, opened[i].fd) == -1)
			coverage_exit(100);
		if (opened[i].kept)
			keep[nkeep++] = opened[i].fd;
	}
	if (way == WAY_NO_CLOSE_RANGE && forbid_close_range() == -1)
		coverage_exit(103);
	if ((way == WAY_ANY || way == WAY_NO_CLOSE_RANGE) &&
	    fdkeep_close_others(keep, nkeep) == -1)
		coverage_exit(101);
	nr = fdkeep_ranges(keep, nkeep, r);
	if (way == WAY_LISTED && fdkeep_close_listed(keep, nkeep) == -1)
		coverage_exit(102);
	if (way == WAY_COUNTED)
		(void)fdkeep_close_counted(r, nr, SCAN_MAX);
	for (i = 0; i < SCAN_MAX; i++)
		if ((fcntl((int)i, F_GETFD) != -1) !=
		    (i == STDERR_FILENO || i == 11 || i == 81 || i == 1500))
			wrong++;
	coverage_exit(wrong);
}

START_TEST(test_close_others)
{
	ck_assert_int_eq(close_in_child(WAY_ANY), 0);
}
END_TEST

/*
 * close_range(2) forbidden with EPERM: the fallback closes them all the
 * same (before: fdkeep_close_others() failed, and every worker died).
 */
START_TEST(test_close_range_forbidden)
{
	ck_assert_int_eq(close_in_child(WAY_NO_CLOSE_RANGE), 0);
}
END_TEST

START_TEST(test_close_listed)
{
	ck_assert_int_eq(close_in_child(WAY_LISTED), 0);
}
END_TEST

START_TEST(test_close_counted)
{
	ck_assert_int_eq(close_in_child(WAY_COUNTED), 0);
}
END_TEST

/*
 * Under systemd the logger writes to libsystemd's socket, which a new
 * worker must keep: log_keep_fd() names it once the first message went.
 */
START_TEST(test_logger_names_the_journal_socket)
{
	struct stat	st;
	char		stream[64];
	int		fd, type;
	socklen_t	len = sizeof(type);

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	log_init("unit_fdkeep");
	ck_assert_int_eq(log_keep_fd(), -1);
	fd = fcntl(STDERR_FILENO, F_DUPFD, 0);
	close(fd);
	log_notice("unit_fdkeep: a test message");
	ck_assert_int_eq(log_keep_fd(), fd);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	/* It stays the same one. */
	log_notice("unit_fdkeep: another test message");
	ck_assert_int_eq(log_keep_fd(), fd);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("fdkeep");
	TCase	*tc = tcase_create("fdkeep");

	tcase_add_loop_test(tc, test_ranges, 0, (int)nitems(cases));
	tcase_add_test(tc, test_close_others);
	tcase_add_test(tc, test_close_range_forbidden);
	tcase_add_test(tc, test_close_listed);
	tcase_add_test(tc, test_close_counted);
	tcase_add_test(tc, test_logger_names_the_journal_socket);
	suite_add_tcase(s, tc);
	return s;
}
