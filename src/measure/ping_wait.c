/* SPDX-License-Identifier: ISC */
/*
 * ping_wait.c: the bottom of sockecho --ping: the wait for a socket, the
 * deadline or a signal (SIGINT and SIGTERM stop, SIGQUIT shows the
 * running summary), and the fatal exit. It schedules no probe.
 */
#include "build-config.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "client/cli.h"
#include "measure/ping.h"
#include "measure/ping_int.h"
#include "core/sig.h"

void
ping_fatal(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	va_start(ap, fmt);
	cli_vfail(status, fmt, ap);
}

/* The signals that arrived: 1 if one of them asks to stop. */
static int
read_signals(struct ping *p)
{
	struct signalfd_siginfo	si;
	int			r, stop = 0;

	while ((r = sig_read(p->sigfd, &si)) == 1) {
		switch (si.ssi_signo) {
		case SIGQUIT:
			ping_report_running(p, stderr);
			break;
		default:	/* SIGINT, SIGTERM */
			stop = 1;
			break;
		}
	}
	if (r == -1)
		ping_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
	return stop;
}

/* The prober's HTTP fds after the first two, and its deadline in *end. */
static int
http_fds(struct ping *p, struct pollfd *pfd, int max, uint64_t *end)
{
	uint64_t	t;

	if (p->prober == NULL)
		return 0;
	t = phttp_next_deadline(&p->prober->http);
	if (t < *end)
		*end = t;
	return phttp_pollfds(&p->prober->http, pfd, max);
}

/*
 * Wait until "fd" (-1: none) has "events", or "until" passes, reading the
 * signals meanwhile, and serving the prober's /metrics: every wait of the
 * probes is this one, so a scrape never waits for a probe, nor a probe
 * for a scrape. Nanosecond timeouts (ppoll): probes may be 1 ms apart.
 */
enum ping_wait
ping_wait(struct ping *p, int fd, short events, uint64_t until_ns)
{
	struct pollfd	pfd[2 + PHTTP_MAX_FDS];
	struct timespec	ts;
	uint64_t	now, end;
	int		nh;

	for (;;) {
		now = sig_monotonic_ns();
		if (now >= p->stop_at_ns)
			p->stopping = true;
		if (p->stopping)
			return PING_STOP;
		if (now >= until_ns)
			return PING_TIMEOUT;
		end = until_ns < p->stop_at_ns ? until_ns : p->stop_at_ns;
		pfd[0] = (struct pollfd){ p->sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ fd, events, 0 };
		nh = http_fds(p, pfd + 2, PHTTP_MAX_FDS, &end);
		end = end > now ? end - now : 0;
		ts.tv_sec = end / PING_NS_PER_S;
		ts.tv_nsec = end % PING_NS_PER_S;
		if (ppoll(pfd, 2 + nh, &ts, NULL) == -1) {
			if (errno == EINTR)
				continue;
			ping_fatal(EX_OSERR, "ppoll: %s", strerror(errno));
		}
		if (p->prober != NULL)
			phttp_service(&p->prober->http, pfd + 2, nh,
			    sig_monotonic_ns());
		if (pfd[0].revents && read_signals(p))
			p->stopping = p->interrupted = true;
		else if (pfd[1].revents)
			return PING_READY;
	}
}
