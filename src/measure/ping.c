/* SPDX-License-Identifier: ISC */
/*
 * ping.c: sockecho --ping: its command line, its signals (read from a
 * signalfd: SIGINT and SIGTERM stop, SIGQUIT shows the running summary),
 * the probe schedule and the exit status. The probes themselves are in
 * ping_tcp.c and ping_udp.c; what is printed is in ping_report.c; the
 * waits, the signals and the fatal exit in ping_wait.c.
 */
#include "build-config.h"

#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "measure/ping.h"
#include "measure/ping_int.h"
#include "measure/probe.h"
#include "measure/stamp.h"
#include "core/sig.h"

#define EXIT_LOST	1
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

static int
parse_seconds(const char *s, bool zero_ok, uint64_t *ns)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
	    (v == 0 && !zero_ok) || v > 86400.0 * 365)
		return -1;
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return *ns > 0 || zero_ok ? 0 : -1;
}

static int
parse_count(const char *s, uint64_t max, uint64_t *v)
{
	char			*end;
	unsigned long long	 n;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > max)
		return -1;
	*v = n;
	return 0;
}

static int
bad(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return EX_USAGE;
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
		if (parse_count(arg, PING_MAX_COUNT, &o->count) == -1)
			return bad(err, errsize, "-C: expected a count from 1 to "
			    "%llu, not \"%s\"", PING_MAX_COUNT, arg);
		return 0;
	case 'i':
		if (parse_seconds(arg, true, &o->interval_ns) == -1)
			return bad(err, errsize, "-i: expected a number of "
			    "seconds, not \"%s\"", arg);
		return 0;
	case 's':
		if (parse_count(arg, PING_TCP_MAX_SIZE, &v) == -1)
			return bad(err, errsize, "-s: expected a size from 1 to "
			    "%u bytes, not \"%s\"", PING_TCP_MAX_SIZE, arg);
		o->size = v;
		return 0;
	case 'w':
	case 't':
	case 'T':
		if (parse_seconds(arg, false, &v) == -1)
			return bad(err, errsize, "-%c: expected a positive "
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
	case 'c':
		return bad(err, errsize, "-c: --ping checks every echo anyway; "
		    "the probe count is -C");
	case 'r':
		return bad(err, errsize, "-r: --ping counts a lost probe, it "
		    "does not send it again");
	case 'n':
	case 'm':
		return bad(err, errsize, "-%c: --ping sends probes of its own "
		    "(their size is -s)", ch);
	default:
		return bad(err, errsize, "unknown option");
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
		return bad(err, errsize, "expected HOST [PORT] or unix:/PATH");
	o->host = argv[0];
	if (argc == 2)
		o->port = argv[1];
	else
		split_host_port(o);
	if (strncmp(o->host, "unix:", 5) == 0 && (argc == 2 || o->udp))
		return bad(err, errsize, "%s", argc == 2 ? "a Unix socket "
		    "takes no port" : "-u: UDP needs HOST [PORT]");
	if (o->stamp && argc == 1)
		o->port = STAMP_PORT;
	if (o->size == 0)
		o->size = o->stamp ? STAMP_MIN_SIZE : PING_SIZE;
	if ((o->ptp || o->stateful) && !o->stamp)
		return bad(err, errsize, "--%s: for --stamp only", o->ptp ?
		    "ptp" : "stateful");
	if (o->stamp && strncmp(o->host, "unix:", 5) == 0)
		return bad(err, errsize, "--stamp: STAMP needs HOST [PORT]");
	if (o->stamp && (o->size < STAMP_MIN_SIZE ||
	    o->size > STAMP_MAX_SIZE))
		return bad(err, errsize, "-s: a STAMP packet has %u to %u bytes",
		    STAMP_MIN_SIZE, STAMP_MAX_SIZE);
	if (o->udp && o->connect_each)
		return bad(err, errsize, "-N: a connection per probe is for "
		    "TCP, not with -u");
	if (o->udp && (o->size < PROBE_MIN_UDP_SIZE ||
	    o->size > PING_UDP_MAX_SIZE))
		return bad(err, errsize, "-s: a UDP probe has %u to %u bytes",
		    PROBE_MIN_UDP_SIZE, PING_UDP_MAX_SIZE);
	if (o->metrics_listen != NULL && (o->count || o->json))
		return bad(err, errsize, "--metrics-listen probes until stopped "
		    "and shows its counts at /metrics: not with -%c",
		    o->count ? 'C' : 'j');
	if (o->metrics_listen != NULL)
		o->quiet = true;	/* a line a probe, forever: no */
	if (!ping_interval_allowed(o->interval_ns, geteuid() == 0))
		return bad(err, errsize, "-i: an interval below 0.002 s floods; "
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
	o->port = "7";
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
			return bad(err, errsize, "%s: %s", argv[optind - 1],
			    ch == ':' || (optopt && strchr(ARG_LETTERS, optopt))
			    ? "needs a value" : "unknown option");
		if ((r = parse_one(ch, optarg, o, err, errsize)) != 0)
			return r;
	}
	return check_opts(argc - optind, argv + optind, o, err, errsize);
}

/* "unix:/path" or "unix:@name" as a socket address. */
static void
resolve_unix(struct ping *p, const char *path)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&p->addr;
	size_t			 len = strlen(path);

	if (len == 0 || len >= sizeof(sun->sun_path))
		ping_fatal(EX_USAGE, "unix:%s: invalid socket path", path);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	p->addrlen = offsetof(struct sockaddr_un, sun_path) + len + 1;
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		p->addrlen--;
	}
	snprintf(p->label, sizeof(p->label), "unix:%s", path);
}

/* The addresses of HOST [PORT]; "[::1]" may be written with brackets. */
static struct addrinfo *
resolve_inet(struct ping *p)
{
	struct addrinfo	 hints, *res;
	size_t		 hl = strlen(p->o.host);
	char		*h;
	int		 r;

	if ((h = strdup(p->o.host)) == NULL)
		ping_fatal(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = p->socktype;
	if ((r = getaddrinfo(h, p->o.port, &hints, &res)) != 0)
		ping_fatal(EX_NOHOST, "%s port %s: %s", h, p->o.port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	free(h);
	return res;
}

/* Remember the address the probes go to, and its name for the lines. */
static void
set_target(struct ping *p, const struct sockaddr *sa, socklen_t len)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	memcpy(&p->addr, sa, len);
	p->addrlen = len;
	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(p->label, sizeof(p->label), sa->sa_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, serv);
}

/* Find the target: the first address that connects (TCP) or the first. */
static int
open_target(struct ping *p)
{
	struct addrinfo	*res, *ai;
	const char	*port = p->o.port;

	if (strncmp(p->o.host, "unix:", 5) == 0) {
		resolve_unix(p, p->o.host + 5);
		port = NULL;
		if (ping_tcp_first_connect(p) == 0)
			return 0;
	} else {
		res = resolve_inet(p);
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			set_target(p, ai->ai_addr, ai->ai_addrlen);
			if (p->o.udp ? ping_udp_open(p) == 0 :
			    ping_tcp_first_connect(p) == 0)
				break;
		}
		freeaddrinfo(res);
		if (ai != NULL)
			return 0;
	}
	if (p->interrupted)
		return EXIT_LOST;
	if (p->prober != NULL && !p->o.udp) {
		/* The prober counts the target down as loss, and retries. */
		fprintf(stderr, "sockecho: cannot connect to %s: %s; probing "
		    "on\n", p->label, strerror(p->connect_err));
		return 0;
	}
	fprintf(stderr, "sockecho: cannot connect to %s%s%s: %s\n", p->o.host,
	    port ? " port " : "", port ? port : "", strerror(p->connect_err));
	return p->connect_timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

/* One probe after another, "interval" apart, until count or stop. */
static void
run_tcp(struct ping *p)
{
	uint64_t	next = sig_monotonic_ns(), start;

	for (;;) {
		if (p->o.count && p->probes.next_seq > p->o.count)
			break;
		if (ping_wait(p, -1, 0, next) == PING_STOP)
			break;
		start = sig_monotonic_ns();
		ping_tcp_probe(p);
		if (p->stopping)
			break;
		next = start + p->o.interval_ns;
	}
}

static int
exit_status(const struct ping *p)
{
	const struct stats_probes	*s = &p->probes;
	bool				 deadline_hit = p->end_ns >= p->stop_at_ns;

	if (p->prober != NULL)
		return 0;	/* its loss was at /metrics, not a failure */
	if (stats_probes_all_back(s, deadline_hit ? p->o.count : 0))
		return 0;
	/* Every probe refused by ICMP: nobody listens there. */
	if (s->received == 0 && s->mismatched == 0 && p->refused > 0)
		return EX_UNAVAILABLE;
	return EXIT_LOST;
}

static void
setup(struct ping *p)
{
	static const int	signals[] = { SIGINT, SIGTERM, SIGQUIT };
	unsigned char		seed[4];

	signal(SIGPIPE, SIG_IGN);
	if ((p->sigfd = sig_open(signals, nitems(signals))) == -1)
		ping_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
	/* One byte more than the payload: -s 0 is a payload, not a failure. */
	if ((p->out = malloc(p->o.size + 1)) == NULL ||
	    (p->in = malloc(p->o.size + 1)) == NULL)
		ping_fatal(EX_OSERR, "out of memory");
	if (getentropy(seed, sizeof(seed)) == -1)
		ping_fatal(EX_OSERR, "getentropy: %s", strerror(errno));
	memcpy(&p->run_id, seed, sizeof(p->run_id));
	stats_probes_init(&p->probes);
	p->fd = -1;
	p->socktype = p->o.udp ? SOCK_DGRAM : SOCK_STREAM;
	ping_kts_keep(p);
	p->fp = stdout;
	p->start_ns = sig_monotonic_ns();
	p->stop_at_ns = p->o.deadline_ns ? p->start_ns + p->o.deadline_ns :
	    UINT64_MAX;
}

/* --metrics-listen: the target's label and the HTTP server; 0 or -1. */
static int
prober_open(struct ping *p, char *err, size_t errsize)
{
	const char	*h = p->o.host;
	bool		 v6 = strchr(h, ':') != NULL && h[0] != '[';

	if ((p->prober = calloc(1, sizeof(*p->prober))) == NULL)
		return snprintf(err, errsize, "out of memory"), -1;
	if (strncmp(h, "unix:", 5) == 0)
		snprintf(p->prober->target, sizeof(p->prober->target), "%s", h);
	else
		snprintf(p->prober->target, sizeof(p->prober->target),
		    v6 ? "[%s]:%s" : "%s:%s", h, p->o.port);
	return phttp_listen(&p->prober->http, p->o.metrics_listen,
	    ping_report_metrics, p, err, errsize);
}

static void
teardown(struct ping *p)
{
	if (p->prober != NULL) {
		phttp_close(&p->prober->http);
		free(p->prober);
	}
	if (p->fd >= 0)
		close(p->fd);
	close(p->sigfd);
	free(p->out);
	free(p->in);
	stampc_free(p);
	ping_kts_close(p);
	stats_rtt_free(&p->kts.user);
	stats_rtt_free(&p->kts.sched);
	stats_rtt_free(&p->rtt);
	stats_rtt_free(&p->conn);
	free(p);
}

/* sockecho --ping: returns the exit status. */
int
ping_main(int argc, char *argv[])
{
	struct ping	*p;
	char		 err[256];
	int		 r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		ping_fatal(EX_OSERR, "out of memory");
	if ((r = ping_parse(argc, argv, &p->o, err, sizeof(err))) != 0) {
		free(p);
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
	setup(p);
	if (p->o.metrics_listen != NULL &&
	    prober_open(p, err, sizeof(err)) == -1)
		ping_fatal(EX_UNAVAILABLE, "--metrics-listen %s", err);
	if ((r = open_target(p)) != 0) {
		if (p->interrupted)
			ping_report_summary(p, stdout);
		teardown(p);
		return r;
	}
	ping_report_header(p);
	if (p->o.udp)
		ping_udp_run(p);
	else
		run_tcp(p);
	p->end_ns = sig_monotonic_ns();
	if (p->o.json)
		ping_report_json(p, stdout);
	else
		ping_report_summary(p, stdout);
	r = exit_status(p);
	teardown(p);
	return r;
}

static ssize_t
discard_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	(void)buf;
	return (ssize_t)n;
}

/*
 * Probe as sockecho -p -q would until o->deadline_ns, printing nothing but
 * errors: what --bulk --ping runs before and under the load. Returns the
 * exit status ping_main would.
 */
int
ping_measure(const struct ping_opts *o, struct ping_result *res)
{
	cookie_io_functions_t	 discard = { NULL, discard_write, NULL, NULL };
	struct ping		*p;
	int			 r;

	memset(res, 0, sizeof(*res));
	if ((p = calloc(1, sizeof(*p))) == NULL)
		ping_fatal(EX_OSERR, "out of memory");
	p->o = *o;
	p->o.quiet = true;
	setup(p);
	if ((p->fp = fopencookie(NULL, "w", discard)) == NULL)
		ping_fatal(EX_OSERR, "fopencookie: %s", strerror(errno));
	if ((r = open_target(p)) == 0) {
		if (p->o.udp)
			ping_udp_run(p);
		else
			run_tcp(p);
		r = exit_status(p);
	}
	res->sent = stats_probes_transmitted(&p->probes);
	res->received = p->probes.received;
	res->lost = p->probes.lost;
	stats_rtt_summary(&p->rtt, &res->rtt);
	fclose(p->fp);
	teardown(p);
	return r;
}
