/* SPDX-License-Identifier: ISC */
/*
 * unit_priv.c: priv.c: dropping capabilities where capset(2) is forbidden,
 * as in sockechod.service (SystemCallFilter=~@privileged, no capability),
 * and the switch to the workers' user: for good, supplementary groups too.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"
#include "core/priv.h"

/* From now on capset(2) fails with EPERM, as systemd's filter makes it. */
static int
forbid_capset(void)
{
	struct sock_filter	f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_capset, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	prog = { (unsigned short)nitems(f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * In a child: drop the capabilities first if "drop_first", then forbid
 * capset(2), then drop them (again). Exits with what the last
 * priv_drop_capabilities() returned, plus 1 (0: the child broke).
 */
static int
drop_in_child(bool drop_first)
{
	pid_t	pid;
	int	status;

	if ((pid = fork()) == 0) {
		if (drop_first && priv_drop_capabilities() == -1)
			coverage_exit(0);
		if (forbid_capset() == -1)
			coverage_exit(0);
		coverage_exit(priv_drop_capabilities() + 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), 0);
	return WEXITSTATUS(status) - 2;
}

/* Holding nothing, there is nothing to drop: no capset(2) call at all. */
START_TEST(test_nothing_held_needs_no_capset)
{
	ck_assert_int_eq(drop_in_child(true), 0);
}
END_TEST

/* Holding capabilities, a forbidden capset(2) is an error, not ignored. */
START_TEST(test_held_capabilities_need_capset)
{
	if (geteuid() != 0)
		CHECK_SKIP("not root: no capability to hold");
	ck_assert_int_eq(drop_in_child(false), -1);
}
END_TEST

/*
 * In a child: switch to "nobody" as priv_switch_user() does for a worker,
 * then check all three user and group ids, the supplementary groups and
 * that root cannot come back; a second switch to the same user is a no-op.
 * Exits 0 when all held, else the number of the first check that failed.
 */
static int
switch_in_child(const struct passwd *pw)
{
	uid_t	r, e, s;
	gid_t	gr, ge, gs, groups[64];
	int	n, i;

	if (priv_switch_user(pw->pw_name, pw->pw_uid, pw->pw_gid) == -1)
		return 1;
	if (getresuid(&r, &e, &s) == -1 || r != pw->pw_uid ||
	    e != pw->pw_uid || s != pw->pw_uid)
		return 2;
	if (getresgid(&gr, &ge, &gs) == -1 || gr != pw->pw_gid ||
	    ge != pw->pw_gid || gs != pw->pw_gid)
		return 3;
	if ((n = getgroups(nitems(groups), groups)) == -1)
		return 4;
	for (i = 0; i < n; i++)
		if (groups[i] == 0)
			return 5;	/* root's group kept */
	if (setuid(0) != -1 || seteuid(0) != -1)
		return 6;
	if (priv_switch_user(pw->pw_name, pw->pw_uid, pw->pw_gid) == -1)
		return 7;
	return 0;
}

START_TEST(test_switch_user_for_good)
{
	struct passwd	*pw;
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot switch users");
	if ((pw = getpwnam("nobody")) == NULL)
		CHECK_SKIP("no user nobody");
	ck_assert_int_eq(setgroups(1, (gid_t[]){ 0 }), 0);
	if ((pid = fork()) == 0)
		coverage_exit(switch_in_child(pw));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("priv");
	TCase	*tc = tcase_create("priv");

	tcase_add_test(tc, test_nothing_held_needs_no_capset);
	tcase_add_test(tc, test_held_capabilities_need_capset);
	tcase_add_test(tc, test_switch_user_for_good);
	suite_add_tcase(s, tc);
	return s;
}
