/* SPDX-License-Identifier: ISC */
/* unit_pidfile.c: what a PID file says, and who may take it over. */
#include "build-config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"
#include "core/pidfile.h"

static const struct {
	const char	*text;
	int		 result;
	pid_t		 pid;
} parse_cases[] = {
	{ "4711\n", 1, 4711 },
	{ "4711", 1, 4711 },
	{ "", 0, 0 },
	{ "1\n", 1, 1 },
	{ "0\n", -1, 0 },
	{ "-5\n", -1, 0 },
	{ " 4711\n", -1, 0 },
	{ "4711\n\n", -1, 0 },
	{ "4711 x\n", -1, 0 },
	{ "99999999999999999999\n", -1, 0 },
	{ "root:x:0:0:root:/root:/bin/bash\n", -1, 0 },
};

START_TEST(test_parse)
{
	pid_t	pid = 0;

	ck_assert_int_eq(pidfile_parse(parse_cases[_i].text, &pid),
	    parse_cases[_i].result);
	if (parse_cases[_i].result == 1)
		ck_assert_int_eq(pid, parse_cases[_i].pid);
}
END_TEST

static char	dir[64], path[128];
static const char *kind;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unit_pidfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sockechod.pid", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void
put(const char *text)
{
	FILE	*fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
put_pid(pid_t pid)
{
	char	text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)pid);
	put(text);
}

/* A process of this very program, so it looks like a live master. */
static pid_t
twin(void)
{
	pid_t	pid;

	if ((pid = fork()) == 0) {
		pause();
		coverage_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

START_TEST(test_check_states)
{
	pid_t	holder, pid;

	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_FREE);
	put("");
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_FREE);
	put("not a pid\n");
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_FOREIGN);
	/* A process that has exited: stale. */
	pid = twin();
	reap(pid);
	put_pid(pid);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_STALE);
	ck_assert_int_eq(holder, pid);
	/* A live process of the same program holds it. */
	pid = twin();
	put_pid(pid);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_HELD);
	ck_assert_int_eq(holder, pid);
	reap(pid);
	/* Our own PID (a restart under the same PID): ours to take. */
	put_pid(getpid());
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_STALE);
}
END_TEST

/* A live process of another program: its PID was reused, the file is stale. */
START_TEST(test_check_reused_pid)
{
	pid_t	holder, pid;

	if ((pid = fork()) == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		coverage_exit(127);
	}
	/* Wait until it runs sleep, not a copy of this program. */
	for (;;) {
		char	exe[256], link[64];
		ssize_t	n;

		snprintf(link, sizeof(link), "/proc/%ld/exe", (long)pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0 && (exe[n] = '\0', strstr(exe, "sleep") != NULL))
			break;
		usleep(1000);
	}
	put_pid(pid);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_STALE);
	reap(pid);
}
END_TEST

/*
 * A live process of another user: kill(2) answers EPERM and its program
 * cannot be read. It may be a master (started by that user): the file is
 * held, never taken over ("refusing to start is the safe mistake"). The
 * holder runs as nobody, the checker as another unprivileged user.
 */
START_TEST(test_check_other_users_process)
{
	pid_t	holder, pid, checker;
	int	status;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot run processes as two users");
	ck_assert_int_eq(chmod(dir, 0755), 0);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			coverage_exit(126);
		pause();
		coverage_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	/* Wait until it runs as nobody. */
	for (;;) {
		struct stat	st;
		char		proc[64];

		snprintf(proc, sizeof(proc), "/proc/%ld", (long)pid);
		ck_assert_int_eq(stat(proc, &st), 0);
		if (st.st_uid == 65534)
			break;
		usleep(1000);
	}
	put_pid(pid);
	ck_assert_int_eq(chmod(path, 0644), 0);
	if ((checker = fork()) == 0) {
		if (setgid(65533) == -1 || setuid(65533) == -1)
			coverage_exit(126);
		if (kill(pid, 0) != -1 || errno != EPERM)
			coverage_exit(125);
		coverage_exit(pidfile_check(path, &holder, &kind) ==
		    PIDFILE_HELD && holder == pid ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(checker, &status, 0), checker);
	reap(pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/*
 * A master whose binary was upgraded under it: /proc/PID/exe ends in
 * " (deleted)". It is still a master of this program and holds the file.
 * The twin here is /bin/sleep copied under this program's name, then
 * removed.
 */
START_TEST(test_check_deleted_binary)
{
	char	ours[256], copy[512], cmd[1024], exe[600], link[64];
	pid_t	holder, pid;
	ssize_t	n;

	ck_assert_int_eq(pidfile_program_of("self", ours, sizeof(ours)), 0);
	snprintf(copy, sizeof(copy), "%s/%s", dir, ours);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep '%s'", copy);
	ck_assert_int_eq(system(cmd), 0);
	if ((pid = fork()) == 0) {
		execl(copy, ours, "60", (char *)NULL);
		coverage_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	snprintf(link, sizeof(link), "/proc/%ld/exe", (long)pid);
	for (;;) {
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0 && (exe[n] = '\0', strcmp(exe, copy) == 0))
			break;
		usleep(1000);
	}
	ck_assert_int_eq(unlink(copy), 0);
	n = readlink(link, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_msg(strstr(exe, " (deleted)") != NULL, "%s", exe);
	put_pid(pid);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_HELD);
	ck_assert_int_eq(holder, pid);
	reap(pid);
}
END_TEST

START_TEST(test_write_and_remove)
{
	char	text[32], want[32];
	pid_t	holder, other;
	FILE	*fp;

	ck_assert_int_eq(pidfile_write(path), 0);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
	fclose(fp);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_str_eq(text, want);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(pidfile_remove(path), 0);	/* already gone */
	/* Someone else's file stays. */
	other = twin();
	put_pid(other);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_HELD);
	reap(other);
	/* Over a stale file; no temporary file is left behind. */
	ck_assert_int_eq(pidfile_write(path), 0);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	/* A directory that does not exist: -1 and errno. */
	snprintf(text, sizeof(text), "/nonexistent/x.pid");
	errno = 0;
	ck_assert_int_eq(pidfile_write(text), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * What a local user may put at the PID file's path: read, it never blocks
 * (alarm() turns a hang into a failure) and a link is never followed.
 */
START_TEST(test_fifo_and_link_refused)
{
	char	target[160], text[32];
	pid_t	holder;
	FILE	*fp;

	alarm(5);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_FOREIGN);
	ck_assert_str_eq(kind, "a FIFO");
	ck_assert_int_eq(pidfile_remove(path), 0);	/* not ours: stays */
	ck_assert_int_eq(unlink(path), 0);
	/* A link to a file that names us: not read, not removed. */
	snprintf(target, sizeof(target), "%s/target", dir);
	fp = fopen(target, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_FOREIGN);
	ck_assert_str_eq(kind, "a symbolic link");
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(target, F_OK), 0);
	/* Written, the link is replaced, its target untouched. */
	ck_assert_int_eq(truncate(target, 0), 0);
	ck_assert_int_eq(pidfile_write(path), 0);
	fp = fopen(target, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	ck_assert_int_eq(pidfile_check(path, &holder, &kind), PIDFILE_STALE);
	ck_assert_ptr_null(kind);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(unlink(target), 0);
	alarm(0);
}
END_TEST

/*
 * The temporary file: a FIFO at the name the writer once used
 * (FILE.PID.tmp) neither blocks it nor stays in its way.
 */
START_TEST(test_write_past_planted_temp)
{
	char	tmp[192];

	alarm(5);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	ck_assert_int_eq(mkfifo(tmp, 0600), 0);
	ck_assert_int_eq(pidfile_write(path), 0);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(unlink(tmp), 0);
	alarm(0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("pidfile");
	TCase	*tc = tcase_create("pidfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_parse, 0,
	    nitems(parse_cases));
	tcase_add_test(tc, test_check_states);
	tcase_add_test(tc, test_check_reused_pid);
	tcase_add_test(tc, test_check_other_users_process);
	tcase_add_test(tc, test_check_deleted_binary);
	tcase_add_test(tc, test_write_and_remove);
	tcase_add_test(tc, test_fifo_and_link_refused);
	tcase_add_test(tc, test_write_past_planted_temp);
	suite_add_tcase(s, tc);
	return s;
}
