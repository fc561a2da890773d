/* SPDX-License-Identifier: ISC */
/*
 * ping_opts.c: the command line of sockecho -p and --stamp (and
 * --metrics-listen): whether it asks for them, its options and operands
 * checked into struct ping_opts, its help. Pure but for the help and the
 * error it prints; it opens nothing and never exits.
 */
#include "build-config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "client/cli.h"
#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/probe.h"
#include "measure/stamp.h"

#define OPT_METRICS_LISTEN	256	/* a long option only */

/* The options that take an argument, so that their value is not an option. */
#define ARG_LETTERS	"mtTCiswr"

static const struct option ping_longopts[] = {
	{ "ping", no_argument, NULL, 'p' },
	{ "stamp", no_argument, NULL, 'S' },
	{ "ptp", no_argument, NULL, 'Z' },
	{ "stateful", no_argument, NULL, 'F' },
	{ "count", required_argument, NULL, 'C' },
	{ "interval", required_argument, NULL, 'i' },
	{ "size", required_argument, NULL, 's' },
	{ "wait", required_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ "deadline", required_argument, NULL, 't' },
	{ "connect-timeout", required_argument, NULL, 'T' },
	{ "connect", no_argument, NULL, 'N' },
	{ "udp", no_argument, NULL, 'u' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "check", no_argument, NULL, 'c' },
	{ "no-newline", no_argument, NULL, 'n' },
	{ "message", required_argument, NULL, 'm' },
	{ "retries", required_argument, NULL, 'r' },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sockecho -p [-Nqju] [-C COUNT] [-i SECONDS] [-s BYTES] "
	    "[-w SECONDS]\n"
	    "                [-t SECONDS] [-T SECONDS] HOST [PORT]\n"
	    "       sockecho -p [-Nu] [-i SECONDS] [-w SECONDS] --metrics-listen "
	    "ADDR HOST [PORT]\n"
	    "       sockecho -p [options] unix:/PATH\n"
	    "       sockecho --stamp [--ptp] [--stateful] [-qj] [-C COUNT] "
	    "[-i SECONDS]\n"
	    "                [-s 44..1472] [-w SECONDS] [-t SECONDS] HOST "
	    "[PORT]\n"
	    "  -p, --ping                  measure: send probes, time their "
	    "echoes\n"
	    "  -C, --count COUNT           stop after COUNT probes\n"
	    "  -i, --interval SECONDS      between probes (default 1; below "
	    "0.002 only root)\n"
	    "  -s, --size BYTES            bytes per probe (default %d)\n"
	    "  -w, --wait SECONDS          a probe not back by then is lost "
	    "(default 10)\n"
	    "  -t, --timeout, --deadline SECONDS  stop after SECONDS\n"
	    "  -T, --connect-timeout SECONDS  give up connecting after "
	    "SECONDS (default 10)\n"
	    "  -N, --connect               a new connection per probe (TCP)\n"
	    "  -u, --udp                   probe with UDP datagrams\n"
	    "      --stamp                 STAMP test packets (RFC 8762) to "
	    "a reflector (port 862)\n"
	    "      --ptp                   --stamp: PTP timestamps, not NTP\n"
	    "      --stateful              --stamp: the reflector is stateful "
	    "(RFC 8762 4.3)\n"
	    "  -q, --quiet                 only the first line and the "
	    "summary\n"
	    "  -j, --json                  the summary as JSON, nothing "
	    "else\n"
	    "      --metrics-listen ADDR   probe forever, serve Prometheus "
	    "metrics at\n"
	    "                              http://ADDR/metrics (HOST:PORT or "
	    "unix:/PATH)\n"
	    "SIGINT stops and prints the summary; SIGQUIT prints the running "
	    "summary.\n", PING_SIZE);
}

/* Does the command line ask for --ping? Scans as getopt would. */
int
ping_requested(int argc, char *const argv[])
{
	const char	*a;
	int		 i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return 0;
		if (strcmp(a, "--ping") == 0 || strcmp(a, "--stamp") == 0)
			return 1;
		if (a[0] != '-' || a[1] == '-' || a[1] == '\0')
			continue;
		for (a++; *a != '\0'; a++) {
			if (*a == 'p')
				return 1;
			if (strchr(ARG_LETTERS, *a) != NULL) {
				if (a[1] == '\0')
					i++;	/* the value is the next word */
				break;
			}
		}
	}
	return 0;
}

/* ping(8)'s rule: faster than every 2 ms floods, so only root may. */
bool
ping_interval_allowed(uint64_t interval_ns, bool root)
{
	return root || interval_ns >= PING_USER_MIN_INTERVAL_NS;
}

/* An option without a value. */
static void
parse_flag(int ch, struct ping_opts *o)
{
	switch (ch) {
	case 'N':
		o->connect_each = true;
		break;
	case 'S':
		o->stamp = true;
		/* FALLTHROUGH */
	case 'u':
		o->udp = true;
		break;
	case 'Z':
		o->ptp = true;
		break;
	case 'F':
		o->stateful = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'j':
		o->json = true;
		break;
	}
}

/* The echo's options, which --ping refuses, and an unknown one: EX_USAGE. */
static int
parse_refused(int ch, char *err, size_t errsize)
{
	switch (ch) {
	case 'c':
		return cli_bad(err, errsize, "-c: --ping checks every echo "
		    "anyway; the probe count is -C");
	case 'r':
		return cli_bad(err, errsize, "-r: --ping counts a lost probe, "
		    "it does not send it again");
	case 'n':
	case 'm':
		return cli_bad(err, errsize, "-%c: --ping sends probes of its "
		    "own (their size is -s)", ch);
	}
	return cli_bad(err, errsize, "unknown option");
}

/* One option; 0, or EX_USAGE with the reason in err. */
static int
parse_one(int ch, const char *arg, struct ping_opts *o, char *err,
    size_t errsize)
{
	uint64_t	v;

	switch (ch) {
	case 'p':
		return 0;
	case 'C':
		if (cli_number(arg, 10, 1, PING_MAX_COUNT, &o->count) == -1)
			return cli_bad(err, errsize,
			    "-C: expected a count from 1 to "
			    "%llu, not \"%s\"", PING_MAX_COUNT, arg);
		return 0;
	case 'i':
		if (cli_seconds(arg, true, PING_NS_PER_S,
		    &o->interval_ns) == -1)
			return cli_bad(err, errsize, "-i: expected a number of "
			    "seconds, not \"%s\"", arg);
		return 0;
	case 's':
		if (cli_number(arg, 10, 1, PING_TCP_MAX_SIZE, &v) == -1)
			return cli_bad(err, errsize,
			    "-s: expected a size from 1 to "
			    "%u bytes, not \"%s\"", PING_TCP_MAX_SIZE, arg);
		o->size = v;
		return 0;
	case 'w':
	case 't':
	case 'T':
		if (cli_seconds(arg, false, PING_NS_PER_S, &v) == -1)
			return cli_bad(err, errsize, "-%c: expected a positive "
			    "number of seconds, not \"%s\"", ch, arg);
		*(ch == 'w' ? &o->timeout_ns : ch == 'T' ?
		    &o->connect_timeout_ns : &o->deadline_ns) = v;
		return 0;
	case 'N':
	case 'u':
	case 'S':
	case 'Z':
	case 'F':
	case 'q':
	case 'j':
		parse_flag(ch, o);
		return 0;
	case OPT_METRICS_LISTEN:
		o->metrics_listen = arg;
		return 0;
	default:
		return parse_refused(ch, err, errsize);
	}
}

/* One operand "HOST:PORT" or "[V6]:PORT" (a unit's %I): split in two. */
static void
split_host_port(struct ping_opts *o)
{
	const char	*c = strrchr(o->host, ':');
	size_t		 hl;

	if (c == NULL || c[1] == '\0' || strncmp(o->host, "unix:", 5) == 0 ||
	    strspn(c + 1, "0123456789") != strlen(c + 1))
		return;
	hl = c - o->host;
	if (hl == 0 || hl >= sizeof(o->hostbuf))
		return;
	if (o->host[0] == '[' ? o->host[hl - 1] != ']' :
	    memchr(o->host, ':', hl) != NULL)
		return;		/* a bare IPv6 address: no port in it */
	memcpy(o->hostbuf, o->host, hl);
	o->hostbuf[hl] = '\0';
	o->port = c + 1;
	o->host = o->hostbuf;
}

/* What the options say together, and the operands. */
static int
check_opts(int argc, char *argv[], struct ping_opts *o, char *err,
    size_t errsize)
{
	if (argc < 1 || argc > 2)
		return cli_bad(err, errsize,
		    "expected HOST [PORT] or unix:/PATH");
	o->host = argv[0];
	if (argc == 2)
		o->port = argv[1];
	else
		split_host_port(o);
	if (strncmp(o->host, "unix:", 5) == 0 && (argc == 2 || o->udp))
		return cli_bad(err, errsize, "%s", argc == 2 ? "a Unix socket "
		    "takes no port" : "-u: UDP needs HOST [PORT]");
	/* HOST:PORT gave one: STAMP's port is only the default. */
	if (o->stamp && argc == 1 && o->host != o->hostbuf)
		o->port = STAMP_PORT;
	if (cli_port(o->port) == -1)
		return cli_bad(err, errsize, "port must be between 1 and "
		    "65535, not \"%s\"", o->port);
	if (o->size == 0)
		o->size = o->stamp ? STAMP_MIN_SIZE : PING_SIZE;
	if ((o->ptp || o->stateful) && !o->stamp)
		return cli_bad(err, errsize, "--%s: for --stamp only", o->ptp ?
		    "ptp" : "stateful");
	if (o->stamp && strncmp(o->host, "unix:", 5) == 0)
		return cli_bad(err, errsize,
		    "--stamp: STAMP needs HOST [PORT]");
	if (o->stamp && (o->size < STAMP_MIN_SIZE ||
	    o->size > STAMP_MAX_SIZE))
		return cli_bad(err, errsize,
		    "-s: a STAMP packet has %u to %u bytes",
		    STAMP_MIN_SIZE, STAMP_MAX_SIZE);
	if (o->udp && o->connect_each)
		return cli_bad(err, errsize,
		    "-N: a connection per probe is for "
		    "TCP, not with -u");
	if (o->udp && (o->size < PROBE_MIN_UDP_SIZE ||
	    o->size > PING_UDP_MAX_SIZE))
		return cli_bad(err, errsize,
		    "-s: a UDP probe has %u to %u bytes",
		    PROBE_MIN_UDP_SIZE, PING_UDP_MAX_SIZE);
	if (o->metrics_listen != NULL && (o->count || o->json))
		return cli_bad(err, errsize,
		    "--metrics-listen probes until stopped "
		    "and shows its counts at /metrics: not with -%c",
		    o->count ? 'C' : 'j');
	if (o->metrics_listen != NULL)
		o->quiet = true;	/* a line a probe, forever: no */
	if (!ping_interval_allowed(o->interval_ns, geteuid() == 0))
		return cli_bad(err, errsize,
		    "-i: an interval below 0.002 s floods; "
		    "only root may");
	return 0;
}

/*
 * Parse the command line into "o": 0, -1 for --help, -2 for --version, or
 * EX_USAGE with the message in "err".
 */
int
ping_parse(int argc, char *argv[], struct ping_opts *o, char *err,
    size_t errsize)
{
	int	ch, r;

	memset(o, 0, sizeof(*o));
	o->port = CLI_DEFAULT_PORT;
	o->interval_ns = PING_INTERVAL_NS;
	o->timeout_ns = PING_TIMEOUT_NS;
	o->connect_timeout_ns = PING_CONNECT_TIMEOUT_NS;
	o->size = 0;	/* the default depends on --stamp */
	optind = 0;	/* GNU: start afresh, also when called again */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "pC:i:s:w:t:T:NuqjVhcnm:r:SZF",
	    ping_longopts, NULL)) != -1) {
		if (ch == 'h')
			return -1;
		if (ch == 'V')
			return -2;
		if (ch == '?' || ch == ':')
			return cli_bad_option(err, errsize, argv[optind - 1],
			    ch, ARG_LETTERS);
		if ((r = parse_one(ch, optarg, o, err, errsize)) != 0)
			return r;
	}
	return check_opts(argc - optind, argv + optind, o, err, errsize);
}

/*
 * The command line into "o": -1 to go on, or the exit status once the
 * help, the version or the usage error is printed.
 */
int
ping_options(int argc, char *argv[], struct ping_opts *o)
{
	char	err[256];
	int	r;

	if ((r = ping_parse(argc, argv, o, err, sizeof(err))) == 0)
		return -1;
	if (r == -1)
		usage(stdout);
	else if (r == -2)
		printf("sockecho %s\n", PACKAGE_VERSION);
	else {
		fprintf(stderr, "sockecho: %s\n", err);
		usage(stderr);
	}
	return r < 0 ? 0 : r;
}
