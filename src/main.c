/* SPDX-License-Identifier: ISC */
/*
 * main.c: the sockechod command line. It loads and checks the
 * configuration, then hands over to master_run(); -t, -T and --reload are
 * ctl.c's. Exit statuses follow sysexits(3): 64 bad usage, 71 cannot
 * start, 78 bad configuration.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <libconfig.h>

#include "config/config.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/pidfile.h"
#include "core/safepath.h"
#include "master/master.h"
#include "ctl.h"

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

/* -l must be right on its own: a bad one is a usage error, not a config error. */
static int
check_listen(const struct config_options *o)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	int			r;

	config_defaults(&cfg);
	r = config_set_listen(&cfg, o->listen, o->nlisten, &errs);
	config_errors_print(stderr, &errs);
	config_errors_free(&errs);
	config_free(&cfg);
	return r;
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
start(const struct config_options *o)
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
	if (config_load_options(o, cfg, &errs) == -1) {
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
set_option(int ch, char *arg, char *argv[], struct config_options *o)
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
one_option(int ch, char *argv[], struct config_options *o,
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
parse_args(int argc, char *argv[], struct config_options *o,
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

/* What a command line without options means. */
static void
options_init(struct config_options *o)
{
	memset(o, 0, sizeof(*o));
	o->config_path = SOCKECHOD_CONFIG_PATH;
	o->config_optional = true;
	o->workers = -1;
}

/* For ctl.c: the options of a running master's command line (from /proc). */
static int
master_command_line(int argc, char *argv[], struct config_options *o)
{
	enum action	 action = ACTION_RUN;
	const char	*reload = NULL;

	options_init(o);
	optind = 0;
	return parse_args(argc, argv, o, &action, &reload) == -1 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct config_options	 o;
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
	options_init(&o);
	log_init(PACKAGE);
	if ((status = parse_args(argc, argv, &o, &action, &reload)) == -1) {
		switch (action) {
		case ACTION_RELOAD:
			status = ctl_reload(reload, master_command_line);
			break;
		case ACTION_TEST:
			status = ctl_test_config(&o);
			break;
		case ACTION_DUMP:
			status = ctl_dump_config(&o);
			break;
		case ACTION_RUN:
			status = start(&o);
			break;
		}
	}
	free(o.listen);
	return status;
}
