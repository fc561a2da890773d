/* SPDX-License-Identifier: ISC */
/*
 * main.c: the sockechod command line. It loads and checks the
 * configuration, then hands over to master_run(). Exit statuses follow
 * sysexits(3): 64 bad usage, 71 cannot start, 78 bad configuration.
 */
#include "build-config.h"

#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>

#include "confdump.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "pidfile.h"
#include "safepath.h"

#ifndef SOCKECHOD_CONFIG_PATH
#define SOCKECHOD_CONFIG_PATH	"/etc/sockecho.conf"
#endif

/* The version, and what it was built with: for bug reports. */
static void
version(void)
{
	printf("%s %s\n", PACKAGE, PACKAGE_VERSION);
	printf("built with libconfig %d.%d.%d and libsystemd %s\n",
	    LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION,
	    SOCKECHOD_LIBSYSTEMD_VERSION);
	printf("configuration file: %s\n", SOCKECHOD_CONFIG_PATH);
	printf("systemd units: %s\n", SOCKECHOD_UNIT_DIR);
	printf("configure options: %s\n", SOCKECHOD_CONFIGURE_ARGS);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sockechod [-tTvVh] [-c FILE] [-l ADDRESS]... [-w N] "
	    "[--pid-file FILE]\n"
	    "       sockechod -r PID\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "  -l, --listen ADDRESS  listen on ADDRESS instead of the "
	    "configured list;\n"
	    "                        repeatable. ADDRESS is HOST:PORT, "
	    "[IPV6]:PORT,\n"
	    "                        *:PORT or PORT (every address), "
	    "unix:/PATH or\n"
	    "                        unix:@NAME (abstract); udp:HOST:PORT, "
	    "udp:[IPV6]:PORT,\n"
	    "                        udp:*:PORT or udp:PORT for UDP echo\n"
	    "  -w, --workers N       worker processes, 0 for one per CPU\n"
	    "      --pid-file FILE   write the master's process ID to FILE "
	    "once it\n"
	    "                        listens; refuse to start if a live "
	    "master holds it\n"
	    "  -t, --test-config     check the configuration and exit\n"
	    "  -T, --dump-config     check it, then print the effective "
	    "configuration\n"
	    "  -r, --reload PID      make the running master PID reload, "
	    "wait until it\n"
	    "                        has, exit 0 or 1 if the reload failed\n"
	    "  -v, --verbose         log debug messages and one line per "
	    "connection\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n",
	    SOCKECHOD_CONFIG_PATH);
}

static int bad_usage(const char *, ...) LOG_PRINTF(1, 2);

/* One line that says what is wrong and where the help is, not the help. */
static int
bad_usage(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "sockechod: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	return EX_USAGE;
}

static int
parse_workers(const char *s, int *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 ||
	    n > CONFIG_WORKERS_MAX)
		return -1;
	*out = (int)n;
	return 0;
}

/* sockechod -t and a bad -l: each "file:line: message" on a line of its own. */
static void
print_config_errors(const struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "sockechod: %s\n", errs->v[i]);
}

/* -l must be right on its own: a bad one is a usage error, not a config error. */
static int
check_listen(const struct master_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	config_defaults(&cfg);
	r = config_set_listen(&cfg, o->listen, o->nlisten, &errs);
	print_config_errors(&errs);
	config_errors_free(&errs);
	config_free(&cfg);
	return r;
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
	union sigval	v = { .sival_int = MASTER_RELOAD_COOKIE };
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

static int explain_failure(long);

/*
 * Wait for the master's answer on a signalfd, and for its death on the
 * pidfd (Linux 5.3 and later; elsewhere a check every second): a master
 * that dies is noticed at once, not after MASTER_RELOAD_WAIT_MS.
 */
static int
wait_answer(long pid, int pidfd, int sigfd)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2] = { { sigfd, POLLIN, 0 },
				    { pidfd, POLLIN, 0 } };
	struct timespec		 now;
	long long		 deadline_ms, left_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline_ms = now.tv_sec * 1000LL + now.tv_nsec / 1000000 +
	    MASTER_RELOAD_WAIT_MS;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = deadline_ms - (now.tv_sec * 1000LL +
		    now.tv_nsec / 1000000);
		if (left_ms <= 0) {
			fprintf(stderr, "sockechod: no answer from process %ld "
			    "within %d s\n", pid, MASTER_RELOAD_WAIT_MS / 1000);
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
		if (si.ssi_signo == MASTER_RELOAD_OK)
			return 0;
		if (explain_failure(pid) == -1)
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
static int
reload_and_wait(const char *arg)
{
	sigset_t	 set;
	char		*end;
	long		 pid;
	int		 pidfd, sigfd, r;

	errno = 0;
	pid = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || pid <= 1 ||
	    pid > INT_MAX)
		return bad_usage("--reload: expected the process ID of the "
		    "sockechod master, not \"%s\"", arg);
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
	sigaddset(&set, MASTER_RELOAD_OK);
	sigaddset(&set, MASTER_RELOAD_FAILED);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1 ||
	    send_reload(pid, pidfd) == -1) {
		fprintf(stderr, "sockechod: cannot signal process %ld: %s\n",
		    pid, strerror(errno));
		r = EX_UNAVAILABLE;
	} else
		r = wait_answer(pid, pidfd, sigfd);
out:
	if (sigfd != -1)
		close(sigfd);
	if (pidfd != -1)
		close(pidfd);
	return r;
}

/* -T: "configuration OK" goes to stderr, the configuration alone to stdout. */
static int
dump_config(const struct master_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	r = master_configure(o, &cfg, &errs);
	print_config_errors(&errs);
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

static int
test_config(const struct master_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	r = master_configure(o, &cfg, &errs);
	print_config_errors(&errs);
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

/*
 * --pid-file, before anything is bound: a second master must say why it
 * does not start, not fail on an address in use. Nothing is written yet.
 */
static int
claim_pid_file(const char *path)
{
	char		 status[1024];
	const char	*kind;
	pid_t		 holder;

	switch (pidfile_check(path, &holder, &kind)) {
	case PIDFILE_FREE:
		return 0;
	case PIDFILE_STALE:
		log_notice("PID file %s names process %ld, which is not a "
		    "running sockechod: replacing it", path, (long)holder);
		return 0;
	case PIDFILE_HELD:
		snprintf(status, sizeof(status), "sockechod %ld is running "
		    "with the PID file %s: not starting another master",
		    (long)holder, path);
		break;
	case PIDFILE_FOREIGN:
		snprintf(status, sizeof(status), "%s is %s%snot a PID file: "
		    "not overwriting it", path, kind ? kind : "",
		    kind ? ", " : "");
		break;
	default:
		snprintf(status, sizeof(status), "cannot read the PID file "
		    "%s: %s", path, strerror(errno));
		break;
	}
	log_errorx("%s", status);
	notify_failure(EEXIST, status);
	return -1;
}

static int
start(const struct master_options *o)
{
	struct config_errors	 errs = { NULL, 0 };
	struct config		*cfg;
	char			 status[1024];
	size_t			 i;
	int			 rc;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		log_error("cannot start");
		return EX_OSERR;
	}
	if (master_configure(o, cfg, &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			log_errorx("%s", errs.v[i]);
		snprintf(status, sizeof(status), "Failed to start: invalid "
		    "configuration: %s", errs.n ? errs.v[0] : "?");
		notify_failure(EINVAL, status);
		config_errors_free(&errs);
		config_discard(cfg);
		return EX_CONFIG;
	}
	if (cfg->path == NULL)
		log_notice("%s does not exist: using the built-in defaults",
		    o->config_path);
	if (o->pid_file != NULL && claim_pid_file(o->pid_file) == -1) {
		config_discard(cfg);
		return EX_OSERR;
	}
	rc = master_run(o, cfg);
	if (o->pid_file != NULL && pidfile_remove(o->pid_file) == -1)
		log_warn("cannot remove the PID file %s", o->pid_file);
	return rc;
}

enum action {
	ACTION_RUN,
	ACTION_TEST,
	ACTION_DUMP,
	ACTION_RELOAD,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "workers", required_argument, NULL, 'w' },
	{ "test-config", no_argument, NULL, 't' },
	{ "dump-config", no_argument, NULL, 'T' },
	{ "reload", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "pid-file", required_argument, NULL, 'P' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* An option that sets one of the master's options. */
static int
set_option(int ch, char *arg, char *argv[], struct master_options *o)
{
	char	**lv;

	switch (ch) {
	case 'c':
		o->config_path = arg;
		o->config_optional = false;
		return -1;
	case 'l':
		lv = reallocarray(o->listen, o->nlisten + 1, sizeof(*lv));
		if (lv == NULL)
			return EX_OSERR;
		o->listen = lv;
		o->listen[o->nlisten++] = arg;
		return -1;
	case 'w':
		if (parse_workers(arg, &o->workers) == -1)
			return bad_usage("-w: expected a number of workers "
			    "from 0 to %d, not \"%s\"", CONFIG_WORKERS_MAX, arg);
		return -1;
	case 'v':
		o->verbose = true;
		return -1;
	case 'P':
		o->pid_file = arg;
		return -1;
	}
	return bad_usage("unknown option %s", argv[optind - 1]);
}

/* One option: returns -1 to go on, or the exit status. */
static int
one_option(int ch, char *argv[], struct master_options *o,
    enum action *action, const char **reload)
{
	switch (ch) {
	case 't':
		*action = ACTION_TEST;
		return -1;
	case 'T':
		*action = ACTION_DUMP;
		return -1;
	case 'r':
		*action = ACTION_RELOAD;
		*reload = optarg;
		return -1;
	case 'V':
		version();
		return 0;
	case 'h':
		usage(stdout);
		return 0;
	case ':':
		return bad_usage("option %s needs an argument",
		    argv[optind - 1]);
	}
	return set_option(ch, optarg, argv, o);
}

/* Returns -1 to go on with *action, or the exit status. */
static int
parse_args(int argc, char *argv[], struct master_options *o,
    enum action *action, const char **reload)
{
	int	ch, status;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:l:w:r:tTvVh", longopts,
	    NULL)) != -1) {
		if ((status = one_option(ch, argv, o, action, reload)) != -1)
			return status;
	}
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	if (o->nlisten > 0 && check_listen(o) == -1)
		return EX_USAGE;
	return -1;
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
explain_failure(long pid)
{
	struct master_options	 o = { SOCKECHOD_CONFIG_PATH, true, NULL, 0,
				    -1, false, NULL };
	struct config_errors	 errs = { NULL, 0 };
	struct config		 cfg;
	enum action		 action = ACTION_RUN;
	const char		*reload = NULL;
	char			*buf, *argv[CMDLINE_ARGS], cwd[PATH_MAX];
	char			 path[PATH_MAX * 2], proc[64];
	ssize_t			 n;
	int			 argc, r = -1;

	if ((buf = malloc(CMDLINE_BYTES)) == NULL ||
	    command_line(pid, buf, argv, &argc) == -1)
		goto out;
	optind = 0;
	if (parse_args(argc, argv, &o, &action, &reload) != -1)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/%ld/cwd", pid);
	if (o.config_path[0] != '/' &&
	    (n = readlink(proc, cwd, sizeof(cwd) - 1)) > 0) {
		cwd[n] = '\0';
		snprintf(path, sizeof(path), "%s/%s", cwd, o.config_path);
		o.config_path = path;
	}
	if (master_configure(&o, &cfg, &errs) == -1 && errs.n > 0) {
		fprintf(stderr, "sockechod: the reload failed; the previous "
		    "configuration is still serving. The configuration:\n");
		print_config_errors(&errs);
		r = 0;
	}
	config_errors_free(&errs);
	config_free(&cfg);
out:
	free(o.listen);
	free(buf);
	return r;
}

int
main(int argc, char *argv[])
{
	struct master_options	 o;
	enum action		 action = ACTION_RUN;
	const char		*reload = NULL;
	int			 status;

	/*
	 * First of all: a descriptor opened while 0, 1 or 2 is closed
	 * would be taken for standard error by the logger and inherited as
	 * such by every worker.
	 */
	if (safepath_std_fds() == -1)
		return EX_OSERR;
	notify_claim_environment();
	memset(&o, 0, sizeof(o));
	o.config_path = SOCKECHOD_CONFIG_PATH;
	o.config_optional = true;
	o.workers = -1;
	log_init(PACKAGE);
	if ((status = parse_args(argc, argv, &o, &action, &reload)) == -1) {
		switch (action) {
		case ACTION_RELOAD:
			status = reload_and_wait(reload);
			break;
		case ACTION_TEST:
			status = test_config(&o);
			break;
		case ACTION_DUMP:
			status = dump_config(&o);
			break;
		case ACTION_RUN:
			status = start(&o);
			break;
		}
	}
	free(o.listen);
	return status;
}
