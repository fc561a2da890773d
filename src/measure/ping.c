/* SPDX-License-Identifier: ISC */
/*
 * ping.c: sockecho --ping, its run: the target, its signals (read from a
 * signalfd: SIGINT and SIGTERM stop, SIGQUIT shows the running summary),
 * the probe schedule and the exit status; and ping_measure(), the same
 * run for --bulk -p. Its command line is ping_opts.c's; the probes
 * themselves are in ping_tcp.c and ping_udp.c; what is printed is in
 * ping_report.c; the waits, the signals and the fatal exit in ping_wait.c.
 */
#include "build-config.h"

#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
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

/* The summary at the end, as text or, with --json, one JSON document. */
static void
report(struct ping *p)
{
	if (p->o.json)
		ping_report_json(p, stdout);
	else
		ping_report_summary(p, stdout);
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
	if ((r = ping_options(argc, argv, &p->o)) != -1) {
		free(p);
		return r;
	}
	setup(p);
	if (p->o.metrics_listen != NULL &&
	    prober_open(p, err, sizeof(err)) == -1)
		ping_fatal(EX_UNAVAILABLE, "--metrics-listen %s", err);
	if ((r = open_target(p)) != 0) {
		p->end_ns = sig_monotonic_ns();
		if (p->interrupted)
			report(p);
		teardown(p);
		return r;
	}
	ping_report_header(p);
	if (p->o.udp)
		ping_udp_run(p);
	else
		run_tcp(p);
	p->end_ns = sig_monotonic_ns();
	report(p);
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
