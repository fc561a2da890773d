/* SPDX-License-Identifier: ISC */
/*
 * ctl.c: what sockechod does besides serving: check a configuration (-t),
 * show it as the master would read it (-T), and ask a running master to
 * reload (--reload PID) and wait for its answer. None of it starts a
 * master or opens a listener; the command line itself is main.c's, which
 * it is handed (ctl_options_fn) to read a running master's.
 */
#include "build-config.h"

#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config/confdump.h"
#include "config/config.h"
#include "core/pidfile.h"
#include "core/safepath.h"
#include "core/sig.h"
#include "master/reload.h"
#include "ctl.h"

/* -T: "configuration OK" goes to stderr, the configuration alone to stdout. */
int
ctl_dump_config(const struct config_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	r = config_load_options(o, &cfg, &errs);
	config_errors_print(stderr, &errs);
	if (r == 0) {
		confdump_write(stdout, &cfg);
		fprintf(stderr, "sockechod: configuration OK\n");
	}
	config_errors_free(&errs);
	config_free(&cfg);
	if (fflush(stdout) == EOF)
		return EX_IOERR;
	return r == 0 ? 0 : EX_CONFIG;
}

int
ctl_test_config(const struct config_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	r = config_load_options(o, &cfg, &errs);
	config_errors_print(stderr, &errs);
	if (r == 0 && config_warning(&cfg) != NULL)
		fprintf(stderr, "sockechod: warning: %s\n",
		    config_warning(&cfg));
	if (r == 0)
		printf("configuration OK%s%s%s\n",
		    cfg.path ? "" : " (no ", cfg.path ? "" : o->config_path,
		    cfg.path ? "" : ": built-in defaults)");
	config_errors_free(&errs);
	config_free(&cfg);
	return r == 0 ? 0 : EX_CONFIG;
}


/* The parent of a process, from /proc/PID/stat, or -1. */
static long
parent_of(long pid)
{
	char	path[64], buf[1024], *p;
	long	ppid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (safepath_read(path, buf, sizeof(buf), NULL) == -1)
		return -1;
	/* The command name may hold anything but ends at the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %ld",
	    &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * A typo must not send SIGHUP to some other program, nor to a worker
 * (which would ignore it): the process must run sockechod, and its parent
 * must not.
 */
static int
check_master(long pid)
{
	char	theirs[PATH_MAX], ours[PATH_MAX], parent[PATH_MAX], id[32];
	long	ppid;

	snprintf(id, sizeof(id), "%ld", pid);
	if (pidfile_program_of(id, theirs, sizeof(theirs)) == -1 ||
	    pidfile_program_of("self", ours, sizeof(ours)) == -1)
		return 0;	/* no /proc: the master's answer will tell */
	if (strcmp(theirs, ours) != 0) {
		fprintf(stderr, "sockechod: process %ld runs %s, not %s\n", pid,
		    theirs, ours);
		return -1;
	}
	snprintf(id, sizeof(id), "%ld", ppid = parent_of(pid));
	if (ppid > 1 && pidfile_program_of(id, parent, sizeof(parent)) == 0 &&
	    strcmp(parent, ours) == 0) {
		fprintf(stderr, "sockechod: process %ld is a sockechod worker; "
		    "its master is process %ld\n", pid, ppid);
		return -1;
	}
	return 0;
}

/*
 * The master answers with a signal, which it may only send to its own
 * user: root asking a master that runs as another user becomes that user
 * first.
 */
static int
become_owner(long pid)
{
	char		proc[64];
	struct stat	st;

	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	if (geteuid() == 0 && stat(proc, &st) == 0 && st.st_uid != 0 &&
	    (setgroups(0, NULL) == -1 || setresgid(st.st_gid, st.st_gid,
	    st.st_gid) == -1 || setresuid(st.st_uid, st.st_uid,
	    st.st_uid) == -1)) {
		fprintf(stderr, "sockechod: cannot become the user of process "
		    "%ld: %s\n", pid, strerror(errno));
		return -1;
	}
	return 0;
}

/* SIGHUP with the cookie; through the pidfd when there is one (no PID reuse). */
static int
send_reload(long pid, int pidfd)
{
	union sigval	v = { .sival_int = RELOAD_COOKIE };
	siginfo_t	si;

	if (pidfd != -1) {
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGHUP;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value = v;
		if (syscall(SYS_pidfd_send_signal, pidfd, SIGHUP, &si, 0) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
	}
	return sigqueue((pid_t)pid, SIGHUP, v);
}

/* Whether the process has exited, where there is no pidfd to poll. */
static bool
gone(long pid)
{
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

#define CMDLINE_BYTES	65536
#define CMDLINE_ARGS	64

/* The command line of process pid, from /proc, split into argv. */
static int
command_line(long pid, char *buf, char **argv, int *argc)
{
	char	path[64];
	ssize_t	n;
	size_t	i;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((n = safepath_read(path, buf, CMDLINE_BYTES, NULL)) <= 0)
		return -1;
	*argc = 0;
	for (i = 0; i < (size_t)n && *argc < CMDLINE_ARGS - 1;
	    i += strlen(buf + i) + 1)
		argv[(*argc)++] = buf + i;
	argv[*argc] = NULL;
	return 0;
}

/*
 * Why a reload failed, when it is the configuration: read it again as
 * the master does, with the master's command line and directory, and
 * print the errors. Returns -1 if it finds none (the log says why).
 */
static int
explain_failure(long pid, ctl_options_fn *options)
{
	struct config_options	 o;
	struct config_errors	 errs = { NULL, 0 };
	struct config		 cfg;
	char			*buf, *argv[CMDLINE_ARGS], cwd[PATH_MAX];
	char			 path[PATH_MAX * 2], proc[64];
	ssize_t			 n;
	int			 argc, r = -1;

	memset(&o, 0, sizeof(o));
	if ((buf = malloc(CMDLINE_BYTES)) == NULL ||
	    command_line(pid, buf, argv, &argc) == -1 ||
	    options(argc, argv, &o) == -1)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/%ld/cwd", pid);
	if (o.config_path[0] != '/' &&
	    (n = readlink(proc, cwd, sizeof(cwd) - 1)) > 0) {
		cwd[n] = '\0';
		snprintf(path, sizeof(path), "%s/%s", cwd, o.config_path);
		o.config_path = path;
	}
	if (config_load_options(&o, &cfg, &errs) == -1 && errs.n > 0) {
		fprintf(stderr, "sockechod: the reload failed; the previous "
		    "configuration is still serving. The configuration:\n");
		config_errors_print(stderr, &errs);
		r = 0;
	}
	config_errors_free(&errs);
	config_free(&cfg);
out:
	free(o.listen);
	free(buf);
	return r;
}

/*
 * Wait for the master's answer on a signalfd, and for its death on the
 * pidfd (Linux 5.3 and later; elsewhere a check every second): a master
 * that dies is noticed at once, not after RELOAD_WAIT_MS.
 */
static int
wait_answer(long pid, int pidfd, int sigfd, ctl_options_fn *options)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2] = { { sigfd, POLLIN, 0 },
				    { pidfd, POLLIN, 0 } };
	long long		 deadline_ms, left_ms;

	deadline_ms = (long long)sig_monotonic_ms() + RELOAD_WAIT_MS;
	for (;;) {
		left_ms = deadline_ms - (long long)sig_monotonic_ms();
		if (left_ms <= 0) {
			fprintf(stderr, "sockechod: no answer from process %ld "
			    "within %d s\n", pid, RELOAD_WAIT_MS / 1000);
			return EX_TEMPFAIL;
		}
		if (poll(pfd, pidfd != -1 ? 2 : 1, pidfd != -1 ? (int)left_ms :
		    1000) == -1 && errno != EINTR)
			return EX_OSERR;
		if ((pidfd != -1 && pfd[1].revents != 0) ||
		    (pidfd == -1 && gone(pid))) {
			fprintf(stderr, "sockechod: process %ld exited before "
			    "the reload was over\n", pid);
			return EX_UNAVAILABLE;
		}
		if (pfd[0].revents == 0 ||
		    read(sigfd, &si, sizeof(si)) != sizeof(si) ||
		    si.ssi_pid != (uint32_t)pid)
			continue;
		if (si.ssi_signo == RELOAD_OK)
			return 0;
		if (explain_failure(pid, options) == -1)
			fprintf(stderr, "sockechod: the reload failed; the "
			    "previous configuration is still serving (the log "
			    "says why)\n");
		return 1;
	}
}

/*
 * --reload: SIGHUP with a cookie tells the master to answer when the
 * reload is over, so "systemctl reload" returns when the new
 * configuration serves, and fails when it does not.
 */
int
ctl_reload(const char *arg, ctl_options_fn *options)
{
	sigset_t	 set;
	char		*end;
	long		 pid;
	int		 pidfd, sigfd, r;

	errno = 0;
	pid = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || pid <= 1 ||
	    pid > INT_MAX) {
		fprintf(stderr, "sockechod: --reload: expected the process ID "
		    "of the sockechod master, not \"%s\" (try --help)\n", arg);
		return EX_USAGE;
	}
	/* The pidfd first: what is checked below is what gets the signal. */
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd == -1 && errno == ESRCH) {
		fprintf(stderr, "sockechod: no process %ld\n", pid);
		return EX_UNAVAILABLE;
	}
	sigfd = -1;
	if (check_master(pid) == -1) {
		r = EX_UNAVAILABLE;
		goto out;
	}
	if (become_owner(pid) == -1) {
		r = EX_OSERR;
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, RELOAD_OK);
	sigaddset(&set, RELOAD_FAILED);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1 ||
	    send_reload(pid, pidfd) == -1) {
		fprintf(stderr, "sockechod: cannot signal process %ld: %s\n",
		    pid, strerror(errno));
		r = EX_UNAVAILABLE;
	} else
		r = wait_answer(pid, pidfd, sigfd, options);
out:
	if (sigfd != -1)
		close(sigfd);
	if (pidfd != -1)
		close(pidfd);
	return r;
}
