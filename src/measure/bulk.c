/* SPDX-License-Identifier: ISC */
/*
 * bulk.c: sockecho --bulk: its command line, the target's address, the
 * run (an idle probe phase first with --ping, then the streams, with the
 * probes in a child process beside them) and the exit status. The streams
 * are in bulk_run.c, what is shown in bulk_report.c. Only main()'s caller
 * exits.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "measure/bulk.h"
#include "client/cli.h"
#include "measure/ping.h"
#include "core/coverage.h"
#include "core/sig.h"

/* The options that take a value, so that their value is not an option. */
#define ARG_LETTERS	"PtilnwWTS"

enum {
	OPT_BULK = 256,
	OPT_JSON_STREAM,
	OPT_IDLE,
	OPT_PING_INTERVAL,
};

static const struct option bulk_longopts[] = {
	{ "bulk", no_argument, NULL, OPT_BULK },
	{ "parallel", required_argument, NULL, 'P' },
	{ "time", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "length", required_argument, NULL, 'l' },
	{ "bytes", required_argument, NULL, 'n' },
	{ "window", required_argument, NULL, 'w' },
	{ "stall", required_argument, NULL, 'W' },
	{ "connect-timeout", required_argument, NULL, 'T' },
	{ "seed", required_argument, NULL, 'S' },
	{ "json-stream", no_argument, NULL, OPT_JSON_STREAM },
	{ "quiet", no_argument, NULL, 'q' },
	{ "ping", no_argument, NULL, 'p' },
	{ "udp", no_argument, NULL, 'u' },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "ping-interval", required_argument, NULL, OPT_PING_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sockecho --bulk [-pqu] [-P N] [-t SECONDS | -n BYTES] "
	    "[-i SECONDS]\n"
	    "                [-l BYTES] [-w BYTES] [-W SECONDS] [-T SECONDS] "
	    "[-S SEED]\n"
	    "                [--idle SECONDS] [--ping-interval SECONDS] "
	    "[--json-stream]\n"
	    "                HOST [PORT]\n"
	    "  --bulk                      measure throughput: stream to the "
	    "echo server,\n"
	    "                              check every byte that comes back\n"
	    "  -P, --parallel N            N connections at once (default 1, "
	    "at most %d)\n"
	    "  -t, --time SECONDS          send for SECONDS (default 10)\n"
	    "  -n, --bytes BYTES           send BYTES on each connection "
	    "instead\n"
	    "  -i, --interval SECONDS      report every SECONDS (default 1; 0: "
	    "totals only)\n"
	    "  -l, --length BYTES          bytes a write (default %u, at most "
	    "%u)\n"
	    "  -w, --window BYTES          at most BYTES sent and not yet "
	    "back, per\n"
	    "                              connection (default: no limit)\n"
	    "  -W, --stall SECONDS         fail when no byte moves for SECONDS "
	    "(default 10)\n"
	    "  -T, --connect-timeout SECONDS  give up connecting (default 10)\n"
	    "  -S, --seed SEED             the pattern's seed (default: "
	    "random)\n"
	    "      --json-stream           a JSON object per interval and one "
	    "at the end\n"
	    "  -q, --quiet                 totals only\n"
	    "  -p, --ping                  latency under load: probe idle, "
	    "then beside\n"
	    "                              the load\n"
	    "  -u, --udp                   -p: probe with UDP datagrams\n"
	    "      --idle SECONDS          -p: the idle phase (default 3)\n"
	    "      --ping-interval SECONDS -p: between probes (default 0.1)\n"
	    "Exit status: 0 every byte back and checked, 1 a byte differed, "
	    "3 no progress,\n"
	    "4 the server closed early, 69 no connection, 75 connect "
	    "timed out.\n", BULK_MAX_PARALLEL, BULK_LENGTH, BULK_MAX_LENGTH);
}

/* Does the command line ask for --bulk? Scans as getopt would. */
int
bulk_requested(int argc, char *const argv[])
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--bulk") == 0)
			return 1;
	}
	return 0;
}

static int
parse_one(int ch, const char *arg, struct bulk_opts *o, char *err,
    size_t errsize)
{
	uint64_t	v;

	switch (ch) {
	case 'P':
		if (cli_number(arg, 10, 1, BULK_MAX_PARALLEL, &v) == -1)
			return cli_bad(err, errsize, "-P: expected 1 to %d "
			    "connections, not \"%s\"", BULK_MAX_PARALLEL, arg);
		o->parallel = (unsigned)v;
		return 0;
	case 'l':
		if (cli_bytes(arg, 1, BULK_MAX_LENGTH, &v) == -1)
			return cli_bad(err, errsize,
			    "-l: expected 1 to %u bytes, "
			    "not \"%s\"", BULK_MAX_LENGTH, arg);
		o->length = (size_t)v;
		return 0;
	case 'n':
		if (cli_bytes(arg, 1, UINT64_MAX >> 1, &o->bytes) == -1)
			return cli_bad(err, errsize, "-n: expected a positive "
			    "number of bytes, not \"%s\"", arg);
		return 0;
	case 'w':
		if (cli_bytes(arg, 1, UINT64_MAX >> 1, &o->window) == -1)
			return cli_bad(err, errsize, "-w: expected a positive "
			    "number of bytes, not \"%s\"", arg);
		return 0;
	case 'S':
		if (cli_number(arg, 10, 0, UINT64_MAX, &o->seed) == -1)
			return cli_bad(err, errsize,
			    "-S: expected a number, not "
			    "\"%s\"", arg);
		o->seeded = true;
		return 0;
	case 'p':
		o->ping = true;
		return 0;
	case 'u':
		o->udp = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_JSON_STREAM:
		o->json = true;
		return 0;
	case OPT_BULK:
		return 0;
	}
	return -3;	/* a duration */
}

/* The options that take SECONDS. */
static int
parse_duration(int ch, const char *arg, struct bulk_opts *o, char *err,
    size_t errsize)
{
	static const struct {
		int		 ch;
		const char	*name;
		bool		 zero_ok;
		size_t		 field;
	} d[] = {
		{ 't', "-t", false, offsetof(struct bulk_opts, time_ns) },
		{ 'i', "-i", true, offsetof(struct bulk_opts, interval_ns) },
		{ 'W', "-W", false, offsetof(struct bulk_opts, stall_ns) },
		{ 'T', "-T", false, offsetof(struct bulk_opts, connect_ns) },
		{ OPT_IDLE, "--idle", false,
		    offsetof(struct bulk_opts, idle_ns) },
		{ OPT_PING_INTERVAL, "--ping-interval", false,
		    offsetof(struct bulk_opts, ping_interval_ns) },
	};
	size_t	i;

	for (i = 0; i < nitems(d); i++) {
		if (d[i].ch != ch)
			continue;
		if (cli_seconds(arg, d[i].zero_ok, BULK_NS_PER_S,
		    (uint64_t *)(void *)((char *)o + d[i].field)) == 0)
			return 0;
		return cli_bad(err, errsize, "%s: expected %s number of "
		    "seconds, not \"%s\"", d[i].name, d[i].zero_ok ?
		    "a" : "a positive", arg);
	}
	return cli_bad(err, errsize, "unknown option");
}

static int
check_opts(int argc, char *argv[], struct bulk_opts *o, char *err,
    size_t errsize)
{
	if (argc < 1 || argc > 2)
		return cli_bad(err, errsize, "expected HOST [PORT] or "
		    "unix:/PATH");
	o->host = argv[0];
	o->port = argc == 2 ? argv[1] : CLI_DEFAULT_PORT;
	if (o->ping && o->bytes)
		return cli_bad(err, errsize,
		    "-p measures for a time: -t, not -n");
	if (o->udp && !o->ping)
		return cli_bad(err, errsize, "-u: the bulk streams are TCP; -u "
		    "goes with -p, for the probes");
	if (o->ping && strncmp(o->host, "unix:", 5) == 0 && o->udp)
		return cli_bad(err, errsize, "-u: UDP needs HOST [PORT]");
	if (argc == 2 && strncmp(o->host, "unix:", 5) == 0)
		return cli_bad(err, errsize, "a Unix socket takes no port");
	if (cli_port(o->port) == -1)
		return cli_bad(err, errsize, "port must be between 1 and "
		    "65535, not \"%s\"", o->port);
	if (strncmp(o->host, "unix:", 5) == 0)
		o->port = NULL;
	return 0;
}

/* Returns 0, -1 for --help, -2 for --version, or an exit status. */
int
bulk_parse(int argc, char *argv[], struct bulk_opts *o, char *err,
    size_t errsize)
{
	int	ch, r;

	*o = (struct bulk_opts){ .parallel = 1, .time_ns = BULK_TIME_NS,
	    .interval_ns = BULK_INTERVAL_NS, .stall_ns = BULK_STALL_NS,
	    .connect_ns = BULK_CONNECT_NS, .length = BULK_LENGTH,
	    .idle_ns = BULK_IDLE_NS,
	    .ping_interval_ns = BULK_PING_INTERVAL_NS };
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":P:t:i:l:n:w:W:T:S:pquhV",
	    bulk_longopts, NULL)) != -1) {
		if (ch == 'h')
			return -1;
		if (ch == 'V')
			return -2;
		if (ch == '?' || ch == ':')
			return cli_bad_option(err, errsize, argv[optind - 1],
			    ch, ARG_LETTERS);
		if ((r = parse_one(ch, optarg, o, err, errsize)) == -3)
			r = parse_duration(ch, optarg, o, err, errsize);
		if (r != 0)
			return r;
	}
	return check_opts(argc - optind, argv + optind, o, err, errsize);
}

static int
connect_failed(const struct bulk *b, int err)
{
	fprintf(stderr, "sockecho: cannot connect to %s%s%s: %s\n",
	    b->o.host, b->o.port ? " port " : "", b->o.port ? b->o.port : "",
	    strerror(err));
	return err == ETIMEDOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

/* unix:/PATH or unix:@NAME: connect the streams there. */
static int
open_unix(struct bulk *b)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&b->addr;
	const char		*path = b->o.host + 5;
	size_t			 len = strlen(path);

	if (len == 0 || len >= sizeof(sun->sun_path))
		cli_fail(EX_USAGE, "%s: invalid socket path", b->o.host);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	b->addrlen = offsetof(struct sockaddr_un, sun_path) + len + 1;
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		b->addrlen--;
	}
	snprintf(b->label, sizeof(b->label), "%s", b->o.host);
	if (bulk_connect(b) == 0)
		return 0;
	return connect_failed(b, errno);
}

static struct addrinfo *
resolve(const struct bulk *b)
{
	struct addrinfo	 hints, *res = NULL;
	size_t		 hl = strlen(b->o.host);
	char		*h;
	int		 r;

	if ((h = strdup(b->o.host)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(h, b->o.port, &hints, &res);
	free(h);
	if (r != 0)
		cli_fail(EX_NOHOST, "%s port %s: %s", b->o.host, b->o.port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	return res;
}

/* Connect the streams to the first address of HOST [PORT] that takes them. */
static int
open_target(struct bulk *b)
{
	struct addrinfo	*res, *ai;
	char		 host[NI_MAXHOST], serv[NI_MAXSERV];
	int		 err = 0;

	if (strncmp(b->o.host, "unix:", 5) == 0)
		return open_unix(b);
	res = resolve(b);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
		b->addrlen = ai->ai_addrlen;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), serv, sizeof(serv), NI_NUMERICHOST |
		    NI_NUMERICSERV) != 0)
			snprintf(host, sizeof(host), "?");
		snprintf(b->label, sizeof(b->label), ai->ai_family ==
		    AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
		if (bulk_connect(b) == 0)
			break;
		err = errno;
		bulk_close(b);
	}
	freeaddrinfo(res);
	return ai != NULL ? 0 : connect_failed(b, err);
}

/*
 * --ping: the probes in a child, for "ns"; *rfd will carry the result. The
 * child leaves by coverage_exit(), so that a coverage build counts it.
 */
static pid_t
ping_start(struct bulk *b, uint64_t ns, int *rfd)
{
	struct ping_opts	po;
	struct ping_result	res;
	struct bulk_ping	out;
	int			fds[2];
	pid_t			pid;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		cli_fail(EX_OSERR, "--ping: %s", strerror(errno));
	if (pid > 0) {
		close(fds[1]);
		*rfd = fds[0];
		return pid;
	}
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	close(fds[0]);
	memset(&po, 0, sizeof(po));
	po.host = b->o.host;
	po.port = b->o.port;
	po.interval_ns = b->o.ping_interval_ns;
	po.timeout_ns = PING_TIMEOUT_NS;
	po.deadline_ns = ns;
	po.connect_timeout_ns = b->o.connect_ns;
	po.size = PING_SIZE;
	po.udp = b->o.udp;
	out.status = ping_measure(&po, &res);
	out.sent = res.sent;
	out.received = res.received;
	out.lost = res.lost;
	out.rtt = res.rtt;
	coverage_exit(write(fds[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ?
	    0 : EX_IOERR);
}

static void
ping_collect(pid_t pid, int rfd, struct bulk_ping *p)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < sizeof(*p)) {
		n = read(rfd, (char *)p + got, sizeof(*p) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(*p)) {
		memset(p, 0, sizeof(*p));
		p->status = -1;
	}
	close(rfd);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static int
exit_status(const struct bulk *b)
{
	switch (b->end) {
	case BULK_OK:
		break;
	case BULK_MISMATCH:
		return BULK_EXIT_MISMATCH;
	case BULK_STALLED:
		return BULK_EXIT_STALLED;
	case BULK_CLOSED:
		return BULK_EXIT_CLOSED;
	case BULK_ERROR:
		return EX_OSERR;
	}
	/* The load ran, but the probes could not: say so by their status. */
	if (b->o.ping && b->loaded.status >= EX__BASE)
		return b->loaded.status;
	return 0;
}

/* The streams, with the loaded probes beside them under --ping. */
static void
run(struct bulk *b)
{
	pid_t	pid = -1;
	int	rfd = -1;

	b->start_ns = sig_monotonic_ns();
	b->stop_send_ns = b->start_ns + b->o.time_ns;
	b->cpu_mark_s = b->cpu_int_s = bulk_cpu_seconds();
	if (b->o.ping)
		pid = ping_start(b, b->o.time_ns, &rfd);
	bulk_loop(b);
	b->cpu_s = bulk_cpu_seconds() - b->cpu_mark_s;
	/* The last, short interval too: the intervals add up to the total. */
	if (b->o.interval_ns && b->end_ns > b->mark_ns)
		bulk_report_interval(b, b->end_ns);
	if (pid > 0) {
		if (b->end != BULK_OK)
			(void)kill(pid, SIGTERM);
		ping_collect(pid, rfd, &b->loaded);
	}
}

/* sockecho --bulk: returns the exit status. */
int
bulk_main(int argc, char *argv[])
{
	struct bulk	*b;
	char		 err[256];
	pid_t		 pid;
	int		 r, rfd;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if ((r = bulk_parse(argc, argv, &b->o, err, sizeof(err))) != 0) {
		free(b);
		if (r == -1)
			usage(stdout);
		else if (r == -2)
			printf("sockecho %s\n", PACKAGE_VERSION);
		else
			fprintf(stderr, "sockecho: %s; try --bulk --help\n",
			    err);
		return r < 0 ? 0 : r;
	}
	signal(SIGPIPE, SIG_IGN);
	b->fp = stdout;
	if (!b->o.seeded && getentropy(&b->o.seed, sizeof(b->o.seed)) == -1)
		cli_fail(EX_OSERR, "getentropy: %s", strerror(errno));
	if (b->o.ping) {
		pid = ping_start(b, b->o.idle_ns, &rfd);
		ping_collect(pid, rfd, &b->idle);
	}
	if ((r = open_target(b)) == 0) {
		bulk_report_header(b);
		run(b);
		bulk_report_end(b);
		if (b->end != BULK_OK)
			fprintf(stderr, "sockecho: %s\n", b->why);
		r = exit_status(b);
	}
	bulk_close(b);
	free(b);
	return r;
}
