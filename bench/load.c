/* SPDX-License-Identifier: ISC */
/*
 * load.c: bench/load's command line and main(), the top of its calls: it
 * starts and stops the server (load_proc.c) around one scenario
 * (load_rr.c, load_conn.c), which print with load_report.c and drive
 * the load engine of load/. Nothing calls back up into it; it judges
 * no figure.
 */
#include "build-config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define NOFILE_WANT		65536
#define LISTEN_WAIT_MS		10000

/* The server inherits the limit: 10,000 idle connections need 20,000. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max < NOFILE_WANT) {
		rl.rlim_max = NOFILE_WANT;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max < NOFILE_WANT ? rl.rlim_max : NOFILE_WANT;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench/load --mode rr|sessions|idle|balance "
	    "--port PORT --scenario NAME --server NAME [--rep N]\n"
	    "\t[--conns N] [--size BYTES] [--threads N] [--ms MS] "
	    "[--warm-ms MS]\n\t[--bursts N,N,...] [--log FILE] [--kill-ok] "
	    "-- SERVER-COMMAND...\n");
	exit(2);
}

static void
parse_bursts(struct opts *o, char *s)
{
	char	*tok, *save;

	for (tok = strtok_r(s, ",", &save); tok != NULL &&
	    o->nbursts < LOAD_BURSTS_MAX; tok = strtok_r(NULL, ",", &save))
		o->bursts[o->nbursts++] = strtoul(tok, NULL, 10);
}

static void
parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", 1, NULL, 'm' }, { "port", 1, NULL, 'p' },
		{ "scenario", 1, NULL, 's' }, { "server", 1, NULL, 'S' },
		{ "rep", 1, NULL, 'r' }, { "conns", 1, NULL, 'c' },
		{ "size", 1, NULL, 'b' }, { "threads", 1, NULL, 't' },
		{ "ms", 1, NULL, 'd' }, { "warm-ms", 1, NULL, 'w' },
		{ "bursts", 1, NULL, 'B' }, { "log", 1, NULL, 'l' },
		{ "kill-ok", 0, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(o, 0, sizeof(*o));
	o->conns = o->threads = 1;
	o->size = 64;
	o->ms = 1000;
	o->warm_ms = 200;
	o->log = "/dev/null";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': o->mode = optarg; break;
		case 'p': o->port = strtoul(optarg, NULL, 10); break;
		case 's': o->scenario = optarg; break;
		case 'S': o->server = optarg; break;
		case 'r': o->rep = strtoul(optarg, NULL, 10); break;
		case 'c': o->conns = strtoul(optarg, NULL, 10); break;
		case 'b': o->size = strtoul(optarg, NULL, 10); break;
		case 't': o->threads = strtoul(optarg, NULL, 10); break;
		case 'd': o->ms = strtoul(optarg, NULL, 10); break;
		case 'w': o->warm_ms = strtoul(optarg, NULL, 10); break;
		case 'B': parse_bursts(o, optarg); break;
		case 'l': o->log = optarg; break;
		case 'k': o->kill_ok = true; break;
		default: usage();
		}
	}
	o->argv = argv + optind;
	if (o->mode == NULL || o->port == 0 || o->scenario == NULL ||
	    o->server == NULL || o->argv[0] == NULL || o->conns == 0 ||
	    o->size == 0 || o->size > (4 << 20) || o->threads == 0 ||
	    o->threads > LOAD_THREADS_MAX || o->threads > o->conns)
		usage();
}

static int
run(const struct opts *o, pid_t server)
{
	if (strcmp(o->mode, "rr") == 0)
		return run_rr(o, server);
	if (strcmp(o->mode, "sessions") == 0)
		return run_sessions(o, server);
	if (strcmp(o->mode, "idle") == 0)
		return run_idle(o, server);
	if (strcmp(o->mode, "balance") == 0)
		return run_balance(o, server);
	usage();
	return -1;
}

int
main(int argc, char **argv)
{
	struct opts	o;
	pid_t		server;
	int		failed;

	parse(&o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (load_pattern_init() == -1) {
		load_warn("out of memory");
		return 2;
	}
	load_addr(&o.dst, "127.0.0.1", o.port);
	if ((server = server_spawn(&o)) == -1)
		return 1;
	if (server_wait_listening(server, &o.dst, LISTEN_WAIT_MS) == -1) {
		load_warn("%s: not listening on port %u (it exited, or "
		    "%d ms passed; log: %s)", o.server, o.port,
		    LISTEN_WAIT_MS, o.log);
		server_stop(server, o.kill_ok);
		return 1;
	}
	/* Only the connection counts need a baseline of every worker. */
	if (strcmp(o.mode, "idle") == 0 || strcmp(o.mode, "balance") == 0)
		procs_settle(server);
	failed = run(&o, server) == -1;
	if (server_stop(server, o.kill_ok) == -1)
		failed = 1;
	return failed;
}
