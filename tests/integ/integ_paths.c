/* SPDX-License-Identifier: ISC */
/*
 * integ_paths.c: a local user against the paths the root master is given
 * (issue 21, items 1 and 8). A user who can write a Unix socket's
 * directory swaps each new socket file for a link to a root file, as fast
 * as it can, over many starts and reloads: the target's mode never
 * changes. A FIFO at the PID file's old temporary name, at the PID file
 * itself, or swapped in while the master runs, never hangs it, and a link
 * there is never followed. A listener whose queue the user keeps full,
 * at the socket's name, makes the start fail at once instead of hanging
 * it in connect(). A master that is not root binds its socket from a
 * current directory it may not search, and one started with fds 0-2
 * closed gives its workers /dev/null there.
 */
#include "build-config.h"

#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define RACE_ROUNDS	40	/* starts or reloads per race */
#define RACE_MS		30000	/* and at most this long */
#define TARGET_MODE	0600


static char	shared[160];	/* the directory the local user can write */

/* A root-owned file of mode 0600 that the racer's links point to. */
static void
make_target(const char *path)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, TARGET_MODE);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, TARGET_MODE), 0);
	close(fd);
}

/* 1 if the target's mode changed (and set it back), else 0. */
static int
target_changed(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(lstat(path, &st), 0);
	if ((st.st_mode & 07777) == TARGET_MODE)
		return 0;
	ck_assert_int_eq(chmod(path, TARGET_MODE), 0);
	return 1;
}

/* d.dir for "nobody" to pass through, and a directory it may write. */
static void
make_shared(void)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		CHECK_SKIP("not root: no other user to race with");
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	ck_assert_int_eq(chmod(d.dir, 0711), 0);
	snprintf(shared, sizeof(shared), "%s/shared", d.dir);
	ck_assert_int_eq(mkdir(shared, 0755), 0);
	ck_assert_int_eq(chown(shared, pw->pw_uid, pw->pw_gid), 0);
}

/*
 * As "nobody", in the shared directory: as soon as a socket appears at
 * names[i] (inotify), rename a link to targets[i], made in advance, over
 * it. The racer is real-time and on the master's CPU, so the wakeup that
 * bind() causes runs it at once, before the master's next system call:
 * what a patient attacker wins now and then, every time.
 */
static void
racer_loop(int in, const char *const *names, const char *const *targets,
    int n)
{
	char				 buf[4096], tmp[64];
	const struct inotify_event	*ev;
	ssize_t				 len, off;
	int				 i;

	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "link.%d", i);
		(void)symlink(targets[i], tmp);
	}
	while ((len = read(in, buf, sizeof(buf))) > 0)
		for (off = 0; off < len; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			for (i = 0; i < n && ev->len > 0; i++) {
				if (strcmp(ev->name, names[i]) != 0 ||
				    !(ev->mask & IN_CREATE))
					continue;
				snprintf(tmp, sizeof(tmp), "link.%d", i);
				(void)rename(tmp, names[i]);
				(void)symlink(targets[i], tmp);
			}
		}
	_exit(2);
}

/* This process, the racer and the daemons to come share one CPU. */
static void
one_cpu(void)
{
	cpu_set_t	set;
	int		cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu >= 0 ? cpu : 0, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

static pid_t
racer_start(const char *const *names, const char *const *targets, int n)
{
	struct sched_param	 sp = { .sched_priority = 1 };
	struct passwd		*pw = getpwnam("nobody");
	pid_t			 pid;
	int			 in;

	ck_assert_ptr_nonnull(pw);
	one_cpu();
	ck_assert_int_ge(in = inotify_init1(IN_CLOEXEC), 0);
	ck_assert_int_ge(inotify_add_watch(in, shared, IN_CREATE), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1)
			(void)setpriority(PRIO_PROCESS, 0, -20);
		if (setgroups(0, NULL) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1 ||
		    chdir(shared) == -1)
			_exit(1);
		racer_loop(in, names, targets, n);
	}
	close(in);
	ck_assert_int_gt(pid, 0);
	return pid;
}

static void
racer_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* 1 if the racer has put its link at the name. */
static int
swapped(const char *name)
{
	char		path[256];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/%s", shared, name);
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Whatever the racer left at the name (the daemon leaves a link alone). */
static void
clear_name(const char *name)
{
	char	path[256];

	snprintf(path, sizeof(path), "%s/%s", shared, name);
	if (unlink(path) == -1)
		ck_assert_int_eq(errno, ENOENT);
}

/*
 * Start after start with a listener and the metrics exporter on Unix
 * sockets in the shared directory, while the racer swaps them: bind()
 * then chmod() made the targets world-writable in about half the starts.
 */
START_TEST(test_start_race_never_chmods_a_link)
{
	static const char *const names[] = { "echo.sock", "metrics.sock" };
	char		 t_echo[192], t_metrics[192];
	char		 p_echo[192], p_metrics[192];
	const char	*targets[] = { t_echo, t_metrics };
	uint64_t	 deadline = sig_monotonic_ms() + RACE_MS;
	int		 rounds, echo = 0, metrics = 0, swaps = 0;
	pid_t		 racer;

	make_shared();
	snprintf(t_echo, sizeof(t_echo), "%s/target-echo", d.dir);
	snprintf(t_metrics, sizeof(t_metrics), "%s/target-metrics", d.dir);
	make_target(t_echo);
	make_target(t_metrics);
	snprintf(p_echo, sizeof(p_echo), "%s/%s", shared, names[0]);
	snprintf(p_metrics, sizeof(p_metrics), "%s/%s", shared, names[1]);
	racer = racer_start(names, targets, 2);
	for (rounds = 0; rounds < RACE_ROUNDS && h_remaining_ms(deadline) > 0;
	    rounds++) {
		clear_name(names[0]);
		clear_name(names[1]);
		h_notify_drain(&d);
		if (h_start_config(&d, "listen = [ \"127.0.0.1:%%P\", "
		    "\"unix:%s\" ];\nmetrics_listen = \"unix:%s\";\n"
		    "workers = 1;\n", p_echo, p_metrics) != 0) {
			racer_stop(racer);
			h_log_dump(&d);
			ck_abort_msg("start %d: not ready", rounds);
		}
		swaps += swapped(names[0]) + swapped(names[1]);
		ck_assert_int_eq(h_stop(&d, SIGTERM, 20000), 0);
		echo += target_changed(t_echo);
		metrics += target_changed(t_metrics);
	}
	racer_stop(racer);
	printf("PATHS start race: %d of %d starts chmodded the listener's "
	    "link target, %d the metrics socket's (%d sockets swapped)\n",
	    echo, rounds, metrics, swaps);
	fflush(stdout);
	ck_assert_msg(swaps > 0, "the racer never swapped a socket");
	ck_assert_msg(echo == 0 && metrics == 0, "%d and %d of %d starts "
	    "changed a root file's mode", echo, metrics, rounds);
}
END_TEST

static int
reload_command(void)
{
	const char	*argv[4];
	char		 pid[32], err[1024];
	size_t		 outlen;

	snprintf(pid, sizeof(pid), "%ld", (long)d.pid);
	argv[0] = d.binary;
	argv[1] = "--reload";
	argv[2] = pid;
	argv[3] = NULL;
	return h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err), 30000);
}

/* The same window at every reload that binds a new Unix path. */
START_TEST(test_reload_race_never_chmods_a_link)
{
	static const char *const names[] = { "reload.sock" };
	char		 target[192], path[192];
	const char	*targets[] = { target };
	uint64_t	 deadline = sig_monotonic_ms() + RACE_MS;
	int		 rounds, changed = 0, swaps = 0;
	pid_t		 racer;

	make_shared();
	snprintf(target, sizeof(target), "%s/target", d.dir);
	make_target(target);
	snprintf(path, sizeof(path), "%s/%s", shared, names[0]);
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	racer = racer_start(names, targets, 1);
	for (rounds = 0; rounds < RACE_ROUNDS && h_remaining_ms(deadline) > 0;
	    rounds++) {
		clear_name(names[0]);
		h_write_config(&d, "listen = [ \"127.0.0.1:%%P\", \"unix:%s\" "
		    "];\nworkers = 1;\n", path);
		ck_assert_int_eq(reload_command(), 0);
		swaps += swapped(names[0]);
		changed += target_changed(target);
		h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\n"
		    "workers = 1;\n");
		ck_assert_int_eq(reload_command(), 0);
		h_notify_drain(&d);
	}
	racer_stop(racer);
	printf("PATHS reload race: %d of %d reloads chmodded the link's "
	    "target (%d sockets swapped)\n", changed, rounds, swaps);
	fflush(stdout);
	ck_assert_msg(swaps > 0, "the racer never swapped a socket");
	ck_assert_msg(changed == 0, "%d of %d reloads changed a root file's "
	    "mode", changed, rounds);
}
END_TEST

static char	pid_path[256];

static void
with_pid_file(void)
{
	snprintf(pid_path, sizeof(pid_path), "%s/sockechod.pid", d.dir);
	d.argv[0] = "--pid-file";
	d.argv[1] = pid_path;
	d.argv[2] = NULL;
}

/*
 * A wrapper that plants a FIFO at "PIDFILE.PID.tmp", the temporary name
 * the master used to open, then becomes the daemon under the same PID.
 */
static void
wrap_with_fifo(void)
{
	static char	 wrapper[256];
	FILE		*fp;

	snprintf(wrapper, sizeof(wrapper), "%s/plant-fifo", d.dir);
	ck_assert_ptr_nonnull(fp = fopen(wrapper, "w"));
	fprintf(fp, "#!/bin/sh\nmkfifo \"%s.$$.tmp\" || exit 99\n"
	    "exec '%s' \"$@\"\n", pid_path, d.binary);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	d.binary = wrapper;
}

static const char *
pid_line(pid_t pid)
{
	static char	line[32];

	snprintf(line, sizeof(line), "%ld\n", (long)pid);
	return line;
}

static const char *
file_text(const char *path)
{
	static char	 text[64];
	FILE		*fp;
	size_t		 n;

	text[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL)
		return text;
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

/* Hung in open() on the FIFO, the master was never ready, nor stopped. */
START_TEST(test_fifo_at_old_temp_name_does_not_hang)
{
	with_pid_file();
	wrap_with_fifo();
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	if (h_notify_wait(&d, "READY=1", 10000, NULL, 0, NULL) != 0) {
		h_log_dump(&d);
		ck_abort_msg("not ready in 10 s with a FIFO at %s.%ld.tmp",
		    pid_path, (long)d.pid);
	}
	ck_assert_str_eq(file_text(pid_path), pid_line(d.pid));
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "served"), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	ck_assert_int_eq(access(pid_path, F_OK), -1);
}
END_TEST

/* At the PID file itself: a clear refusal at once, exit status 71. */
START_TEST(test_fifo_at_pid_file_fails_fast)
{
	struct stat	st;

	with_pid_file();
	ck_assert_int_eq(mkfifo(pid_path, 0600), 0);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_wait_exit(&d, 5000), 71);
	ck_assert(h_log_has(&d, "is a FIFO, not a PID file: not overwriting "
	    "it"));
	ck_assert_int_eq(lstat(pid_path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

/* A link at the PID file is neither read, nor written through, nor removed. */
START_TEST(test_link_at_pid_file_not_followed)
{
	char		target[256];
	struct stat	st;
	FILE		*fp;

	with_pid_file();
	snprintf(target, sizeof(target), "%s/target", d.dir);
	ck_assert_ptr_nonnull(fp = fopen(target, "w"));
	fprintf(fp, "1\n");	/* a live process, of another program */
	fclose(fp);
	ck_assert_int_eq(symlink(target, pid_path), 0);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n");
	d.no_wait_ready = true;
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_wait_exit(&d, 5000), 71);
	ck_assert(h_log_has(&d, "is a symbolic link, not a PID file: not "
	    "overwriting it"));
	ck_assert_str_eq(file_text(target), "1\n");
	ck_assert_int_eq(lstat(pid_path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

/* Swapped in while it runs: the master still stops, and leaves it. */
START_TEST(test_fifo_swapped_in_does_not_hang_the_stop)
{
	char		fifo[256];
	struct stat	st;

	with_pid_file();
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_str_eq(file_text(pid_path), pid_line(d.pid));
	snprintf(fifo, sizeof(fifo), "%s/fifo", d.dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(rename(fifo, pid_path), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	ck_assert_int_eq(lstat(pid_path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

/* A listener at "at" whose queue is full: a connect() to it would block. */
static int
squat(const char *at, int *client)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd, c, i;

	ck_assert_uint_lt(strlen(at), sizeof(sun.sun_path));
	memcpy(sun.sun_path, at, strlen(at));
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 0), 0);
	for (i = 0; i < 4; i++) {
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
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
 * At the listener's and at the metrics socket's name: the start fails at
 * once, exit 71, with the reason. The blocking probe slept in connect()
 * for as long as the squatter liked: no READY, no exit, no SIGTERM.
 */
START_TEST(test_full_queue_at_socket_fails_fast)
{
	char	at[192];
	int	fd, client = -1, i;

	snprintf(at, sizeof(at), "%s/squat.sock", d.dir);
	fd = squat(at, &client);
	for (i = 0; i < 2; i++) {
		if (i == 0)
			h_write_config(&d, "listen = [ \"unix:%s\" ];\n"
			    "workers = 1;\n", at);
		else
			h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];"
			    "\nmetrics_listen = \"unix:%s\";\nworkers = 1;\n",
			    at);
		d.no_wait_ready = true;
		ck_assert_int_eq(h_start(&d), 0);
		if (h_wait_exit(&d, 5000) != 71) {
			h_log_dump(&d);
			ck_abort_msg("case %d: no exit 71 in 5 s with a full "
			    "queue at %s", i, at);
		}
		ck_assert(h_log_has(&d, "another process listens on it"));
	}
	close(client);
	close(fd);
}
END_TEST

/*
 * As "nobody", started from a directory only root may search: the
 * socket is bound all the same (it failed, "Permission denied", when
 * bind() needed an fd of "." to come back to).
 */
START_TEST(test_unix_bind_from_unsearchable_cwd)
{
	char		priv[192], at[192];
	struct stat	st;
	int		cwd, r;

	make_shared();
	snprintf(priv, sizeof(priv), "%s/priv", d.dir);
	snprintf(at, sizeof(at), "%s/nr.sock", shared);
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	ck_assert_int_ge(cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), 0);
	ck_assert_int_eq(chdir(priv), 0);
	d.as_nobody = true;
	h_write_config(&d, "listen = [ \"unix:%s\" ];\nworkers = 1;\n", at);
	r = h_start(&d);
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	if (r != 0) {
		h_log_dump(&d);
		ck_abort_msg("not ready as nobody from a 0700 directory");
	}
	ck_assert_int_eq(lstat(at, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
}
END_TEST

/* 1 if fd of process pid is /dev/null. */
static int
is_null(pid_t pid, int fd)
{
	char	path[64], to[64];
	ssize_t	n;

	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
	if ((n = readlink(path, to, sizeof(to) - 1)) == -1)
		return 0;
	to[n] = '\0';
	return strcmp(to, "/dev/null") == 0;
}

/*
 * Started with fds 0, 1 and 2 closed: the master and its workers have
 * /dev/null there, not the signalfd and eventfds that took those numbers
 * (and every log line to a signalfd as "standard error" was lost).
 */
START_TEST(test_closed_std_fds_become_dev_null)
{
	pid_t	pids[8];
	int	n, i, fd;

	d.close_std = true;
	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	ck_assert_int_eq(h_wait_children(d.pid, 2, 5000), 0);
	ck_assert_int_ge(n = h_children(d.pid, pids + 1, 7), 2);
	pids[0] = d.pid;
	for (i = 0; i <= n; i++)
		for (fd = 0; fd <= 2; fd++)
			ck_assert_msg(is_null(pids[i], fd), "process %ld "
			    "(%s): fd %d is not /dev/null", (long)pids[i],
			    i == 0 ? "master" : "worker", fd);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "served"), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("paths");
	TCase	*tc = tcase_create("paths");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_start_race_never_chmods_a_link);
	tcase_add_test(tc, test_reload_race_never_chmods_a_link);
	tcase_add_test(tc, test_fifo_at_old_temp_name_does_not_hang);
	tcase_add_test(tc, test_fifo_at_pid_file_fails_fast);
	tcase_add_test(tc, test_link_at_pid_file_not_followed);
	tcase_add_test(tc, test_fifo_swapped_in_does_not_hang_the_stop);
	tcase_add_test(tc, test_full_queue_at_socket_fails_fast);
	tcase_add_test(tc, test_unix_bind_from_unsearchable_cwd);
	tcase_add_test(tc, test_closed_std_fds_become_dev_null);
	suite_add_tcase(s, tc);
	return s;
}
