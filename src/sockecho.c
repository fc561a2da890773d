/* SPDX-License-Identifier: ISC */
/*
 * sockecho.c: sockecho's main: its command line, and the one table of its
 * modes. Plain echo over a stream (sockecho_stream.c) or UDP
 * (sockecho_udp.c) takes the options below; --bulk and -p (with --stamp
 * and --metrics-listen) are measuring modes with command lines of their
 * own (src/measure/). It names the modes; no mode names it.
 */
#include "build-config.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "client/cli.h"
#include "client/sockecho_stream.h"
#include "client/sockecho_udp.h"
#include "core/sig.h"
#include "measure/bulk.h"
#include "measure/ping.h"

#define CONNECT_TIMEOUT_MS	10000
#define UDP_WAIT_MS		1000	/* -u: for each answer */
#define UDP_RETRIES		2
#define UDP_RETRIES_MAX		100

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * The measuring modes: each finds itself on the command line (as getopt
 * would scan it) and then reads the whole of it. The first that asks wins;
 * without one, sockecho echoes.
 */
static const struct mode {
	int	(*requested)(int, char *const []);
	int	(*run)(int, char *[]);
} modes[] = {
	{ bulk_requested, bulk_main },	/* --bulk, with or without -p */
	{ ping_requested, ping_main },	/* -p, --stamp, --metrics-listen */
};

/* What the command line asks of plain echo. */
struct options {
	const char	*text;		/* -m */
	bool		 newline;
	bool		 check;
	bool		 quiet;
	uint64_t	 timeout_ms;
	uint64_t	 connect_timeout_ms;
	bool		 udp;		/* -u */
	uint64_t	 udp_wait_ms;
	unsigned	 udp_retries;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sockecho [-cnqhV] [-m TEXT] [-t SECONDS] [-T SECONDS] "
	    "HOST [PORT]\n"
	    "       sockecho -u [-cnq] [-m TEXT] [-t SECONDS] [-w SECONDS] "
	    "[-r N] HOST [PORT]\n"
	    "       sockecho [options] unix:/PATH | unix:@NAME\n"
	    "  -m, --message TEXT          send TEXT and a newline instead "
	    "of standard input\n"
	    "  -n, --no-newline            with -m, send TEXT alone\n"
	    "  -c, --check                 exit 1 unless the reply equals "
	    "what was sent\n"
	    "  -q, --quiet                 do not write the reply\n"
	    "  -t, --timeout SECONDS       give up when the whole exchange "
	    "takes longer\n"
	    "  -T, --connect-timeout SECONDS  give up connecting after "
	    "SECONDS (default 10)\n"
	    "  -u, --udp                   UDP: each line (or TEXT) a "
	    "datagram, each answer\n"
	    "                              awaited\n"
	    "  -w, --wait SECONDS          -u: wait this long for each answer "
	    "(default 1)\n"
	    "  -r, --retries N             -u: send a datagram again N times "
	    "(default 2)\n"
	    "  -p, --ping                  measure round trips instead; "
	    "see sockecho -p -h\n"
	    "      --bulk                  measure throughput (and latency "
	    "under load);\n"
	    "                              see sockecho --bulk -h\n"
	    "  -V, --version               print the version and exit\n"
	    "  -h, --help                  print this help and exit\n"
	    "HOST is a name, an IPv4 address or an IPv6 address, with or "
	    "without\n"
	    "brackets ([::1]); PORT a number or a service name, by default "
	    "%s, the\n"
	    "echo port. unix:/PATH is a socket file, unix:@NAME an abstract "
	    "socket.\n", CLI_DEFAULT_PORT);
}

static uint64_t
parse_seconds(const char *opt, const char *s)
{
	uint64_t	ms;

	if (cli_seconds(s, false, 1000, &ms) == -1) {
		fprintf(stderr, "sockecho: %s: expected a positive number of "
		    "seconds, not \"%s\"\n", opt, s);
		usage(stderr);
		exit(EX_USAGE);
	}
	return ms;
}

static unsigned
parse_retries(const char *s)
{
	uint64_t	v;

	if (cli_number(s, 10, 0, UDP_RETRIES_MAX, &v) == -1) {
		fprintf(stderr, "sockecho: -r: expected a number from 0 to %d, "
		    "not \"%s\"\n", UDP_RETRIES_MAX, s);
		usage(stderr);
		exit(EX_USAGE);
	}
	return (unsigned)v;
}

/* -u: hand over to sockecho_udp.c. */
static int
run_udp(const struct options *o, const struct sockecho_stream *e)
{
	struct sockecho_udp	u;
	size_t			hl = strlen(e->host);
	char			*h;
	int			status;

	if (strncmp(e->host, "unix:", 5) == 0)
		cli_fail(EX_USAGE, "-u: UDP needs HOST [PORT], not a Unix "
		    "socket");
	if ((h = strdup(e->host)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	memset(&u, 0, sizeof(u));
	u.host = h;
	u.port = e->port != NULL ? e->port : CLI_DEFAULT_PORT;
	u.message = e->message;
	u.message_len = e->message_len;
	u.check = e->check;
	u.quiet = e->quiet;
	u.deadline_ms = e->deadline_ms;
	u.wait_ms = o->udp_wait_ms;
	u.retries = o->udp_retries;
	status = sockecho_udp_run(&u);
	free(h);
	return status;
}

/* Option errors in the daemon's words, without getopt's program path. */
static void
bad_option(int ch, const char *arg)
{
	if (ch == ':')
		cli_fail(EX_USAGE, "option %s needs an argument; try --help",
		    arg);
	if (optopt != 0)
		cli_fail(EX_USAGE, "unknown option -%c; try --help", optopt);
	cli_fail(EX_USAGE, "unknown option %s; try --help", arg);
}

/* HOST:PORT is the daemon's form, not the client's; a port fits 16 bits. */
static void
check_target(const char *host, const char *port)
{
	const char	*colon = strchr(host, ':'), *bracket = strstr(host, "]:");

	if (host[0] == '[' && bracket != NULL)
		colon = bracket + 1;
	if (port == NULL && colon != NULL && (strchr(colon + 1, ':') == NULL ||
	    bracket != NULL) && strncmp(host, "unix:", 5) != 0)
		cli_fail(EX_USAGE, "\"%s\" is not a host; the port goes "
		    "after a space: sockecho %.*s %s", host,
		    (int)(colon - host), host, colon + 1);
	if (port != NULL && cli_port(port) == -1)
		cli_fail(EX_USAGE, "port must be between 1 and 65535, "
		    "not \"%s\"", port);
}

static const struct option longopts[] = {
	{ "message", required_argument, NULL, 'm' },
	{ "no-newline", no_argument, NULL, 'n' },
	{ "check", no_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "timeout", required_argument, NULL, 't' },
	{ "connect-timeout", required_argument, NULL, 'T' },
	{ "udp", no_argument, NULL, 'u' },
	{ "wait", required_argument, NULL, 'w' },
	{ "retries", required_argument, NULL, 'r' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option: returns -1 to go on, or the exit status. */
static int
one_option(int ch, char *argv[], struct options *o)
{
	switch (ch) {
	case 'm':
		o->text = optarg;
		break;
	case 'n':
		o->newline = false;
		break;
	case 'c':
		o->check = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 't':
		o->timeout_ms = parse_seconds("-t", optarg);
		break;
	case 'T':
		o->connect_timeout_ms = parse_seconds("-T", optarg);
		break;
	case 'u':
		o->udp = true;
		break;
	case 'w':
		o->udp_wait_ms = parse_seconds("-w", optarg);
		break;
	case 'r':
		o->udp_retries = parse_retries(optarg);
		break;
	case 'V':
		printf("sockecho %s\n", PACKAGE_VERSION);
		return 0;
	case 'h':
		usage(stdout);
		return 0;
	default:
		bad_option(ch, argv[optind - 1]);
	}
	return -1;
}

/* Returns -1 to go on, or the exit status; optind points to HOST. */
static int
parse_options(int argc, char *argv[], struct options *o)
{
	int	ch, status;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:ncqt:T:uw:r:Vh", longopts,
	    NULL)) != -1) {
		if ((status = one_option(ch, argv, o)) != -1)
			return status;
	}
	return -1;
}

/* The text -m sends, with its newline unless -n; NULL: standard input. */
static char *
message_of(const struct options *o)
{
	char	*msg;

	if (o->text == NULL)
		return NULL;
	if (asprintf(&msg, "%s%s", o->text, o->newline ? "\n" : "") == -1)
		cli_fail(EX_OSERR, "out of memory");
	return msg;
}

int
main(int argc, char *argv[])
{
	struct options		 o = { .newline = true,
	    .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	    .udp_wait_ms = UDP_WAIT_MS, .udp_retries = UDP_RETRIES };
	struct sockecho_stream	 e;
	char			*msg;
	size_t			 i;
	int			 status;

	for (i = 0; i < nitems(modes); i++)
		if (modes[i].requested(argc, argv))
			return modes[i].run(argc, argv);
	if ((status = parse_options(argc, argv, &o)) != -1)
		return status;
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "sockecho: expected HOST [PORT] or "
		    "unix:/PATH\n");
		usage(stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&e, 0, sizeof(e));
	e.host = argv[0];
	e.port = argc == 2 ? argv[1] : NULL;
	e.check = o.check;
	e.quiet = o.quiet;
	e.connect_timeout_ms = o.connect_timeout_ms;
	if (o.timeout_ms)
		e.deadline_ms = sig_monotonic_ms() + o.timeout_ms;
	if ((msg = message_of(&o)) != NULL) {
		e.message = msg;
		e.message_len = strlen(msg);
	}
	check_target(e.host, e.port);
	status = o.udp ? run_udp(&o, &e) : sockecho_stream_run(&e);
	free(msg);
	return status;
}
