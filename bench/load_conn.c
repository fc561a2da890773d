/* SPDX-License-Identifier: ISC */
/*
 * load_conn.c: scenarios about connections rather than traffic: many
 * idle ones (the server's memory per connection, then one echo each),
 * and bursts of them (how the server's processes share them, from their
 * open descriptors in /proc). Bounded in time; it judges no figure.
 */
#include "build-config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/socket.h>

#include "load.h"

#define BATCH		500		/* connects at once, < the backlog */
#define CONNECT_MS	10000
#define ACCEPT_MS	20000
#define ECHO_MS		5000
#define POLL_US		10000
#define INFINITE_RATIO	(-1.0)		/* a process got none */
#define NOFILE_SPARE	64		/* our descriptors besides them */

static unsigned
nofile_soft(void)
{
	struct rlimit	rl;

	return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned)rl.rlim_cur : 0;
}

/* Wait until every descriptor of fds is writable (connected). */
static unsigned
wait_connected(const int *fds, unsigned n, unsigned ms)
{
	struct pollfd	*p;
	uint64_t	 end = sig_monotonic_ns() + ms * 1000000ULL;
	unsigned	 i, left = n, bad = 0;

	if ((p = calloc(n, sizeof(*p))) == NULL)
		return n;
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLOUT;
	}
	while (left > 0 && sig_monotonic_ns() < end) {
		if (poll(p, n, 50) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (p[i].revents == 0)
				continue;
			bad += (p[i].revents & (POLLERR | POLLHUP)) != 0;
			p[i].fd = -1;
			left--;
		}
	}
	free(p);
	return bad + left;
}

/* n connections into fds (-1 for a failed one); -> the failures. */
static unsigned
open_conns(const struct opts *o, int *fds, unsigned n)
{
	unsigned	i, k, bad = 0;

	for (i = 0; i < n; i += k) {
		k = n - i < BATCH ? n - i : BATCH;
		for (unsigned j = 0; j < k; j++)
			if ((fds[i + j] = load_connect(&o->dst, NULL,
			    true)) == -1)
				bad++;
		bad += wait_connected(fds + i, k, CONNECT_MS);
	}
	if (bad)
		load_warn("%s: %u of %u connections failed", o->server, bad, n);
	return bad;
}

static void
close_conns(int *fds, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* Descriptors the server's processes have more than in base (leaves). */
static int
fd_growth(pid_t server, const struct procs *base, unsigned *grown)
{
	static struct procs	now;
	int			i, j, sum = 0;

	if (procs_read(server, &now, true) == -1)
		return -1;
	for (i = 0; i < base->n; i++) {
		grown[i] = 0;
		for (j = 0; j < now.n; j++)
			if (now.pid[j] == base->pid[i] &&
			    now.fds[j] > base->fds[i])
				grown[i] = now.fds[j] - base->fds[i];
		if (base->n == 1 || !procs_has_children(base, i))
			sum += grown[i];
	}
	return sum;
}

/* Poll /proc until the server's leaves hold want more descriptors. */
static int
wait_growth(pid_t server, const struct procs *base, unsigned *grown,
    int want, unsigned ms)
{
	uint64_t	end = sig_monotonic_ns() + ms * 1000000ULL;
	int		sum;

	for (;;) {
		sum = fd_growth(server, base, grown);
		if ((want > 0 && sum >= want) || (want == 0 && sum <= 0) ||
		    sig_monotonic_ns() >= end)
			return sum;
		/* A server out of descriptors accepts no more. */
		if (want > 0 && procs_at_fd_limit(server))
			return -1;
		usleep(POLL_US);
	}
}

/* The byte connection i sent came back within ECHO_MS. */
static bool
echo_back(int fd, unsigned i)
{
	struct pollfd	p;
	unsigned char	c;

	p.fd = fd;
	p.events = POLLIN;
	return poll(&p, 1, ECHO_MS) == 1 &&
	    recv(fd, &c, 1, MSG_DONTWAIT) == 1 && c == *load_pattern_at(i);
}

static void
echo_count(int fd, unsigned i, uint64_t t0, struct tally *t)
{
	if (!echo_back(fd, i)) {
		t->errors++;
		return;
	}
	load_hist_add(&t->lat, sig_monotonic_ns() - t0);
	t->ops++;
	t->bytes++;
}

/*
 * One byte echoed on every connection, timed from its send: one after
 * the other, or all sent at once and then all read.
 */
static void
echo_each(const int *fds, unsigned n, struct tally *t, bool at_once)
{
	uint64_t	*t0;
	unsigned	 i;

	if ((t0 = calloc(n, sizeof(*t0))) == NULL) {
		t->errors++;
		return;
	}
	for (i = 0; i < n; i++) {
		t0[i] = sig_monotonic_ns();
		if (fds[i] == -1 ||
		    send(fds[i], load_pattern_at(i), 1, MSG_NOSIGNAL) != 1) {
			t->errors++;
			t0[i] = 0;
			continue;
		}
		if (!at_once)
			echo_count(fds[i], i, t0[i], t);
	}
	for (i = 0; i < n && at_once; i++)
		if (t0[i] != 0)
			echo_count(fds[i], i, t0[i], t);
	free(t0);
}

/*
 * idle: the server tree's resident memory before, with conns idle
 * connections (accepted: its descriptors grew), and after one echo on
 * each, one after the other (the latency and CPU of those echoes).
 */
int
run_idle(const struct opts *o, pid_t server)
{
	static struct procs	 base;
	static unsigned		 grown[LOAD_PROCS_MAX];
	struct tally		 t;
	uint64_t		 rss0, rss_idle, rss_echo, cpu0, ns;
	char			 extra[128];
	int			*fds, accepted;

	memset(&t, 0, sizeof(t));
	if (nofile_soft() < o->conns + NOFILE_SPARE) {
		/* RLIMIT_NOFILE could not be raised: a note, not a failure. */
		snprintf(extra, sizeof(extra), "nofile=%u", nofile_soft());
		load_result(o, o->scenario, "skipped:RLIMIT_NOFILE", 0, &t, 0,
		    extra);
		return 0;
	}
	if ((fds = calloc(o->conns, sizeof(*fds))) == NULL ||
	    procs_read(server, &base, true) == -1)
		return -1;
	rss0 = procs_rss_kb(server);
	t.errors += open_conns(o, fds, o->conns);
	accepted = wait_growth(server, &base, grown, o->conns, ACCEPT_MS);
	if (accepted == -1) {
		/* Not the server's fault: our limit, which it inherited. */
		close_conns(fds, o->conns);
		free(fds);
		snprintf(extra, sizeof(extra), "nofile=%u", nofile_soft());
		load_result(o, o->scenario, "skipped:RLIMIT_NOFILE", 0, &t, 0,
		    extra);
		return 0;
	}
	if (accepted < (int)o->conns) {
		load_warn("%s: %d of %u connections accepted", o->server,
		    accepted, o->conns);
		t.errors++;
	}
	rss_idle = procs_rss_kb(server);
	cpu0 = procs_cpu_ns(server);
	ns = sig_monotonic_ns();
	echo_each(fds, o->conns, &t, false);
	ns = sig_monotonic_ns() - ns;
	cpu0 = procs_cpu_ns(server) - cpu0;
	rss_echo = procs_rss_kb(server);
	close_conns(fds, o->conns);
	free(fds);
	snprintf(extra, sizeof(extra), "idle_B=%.0f echo_per_s=%.0f",
	    (double)(rss_idle - rss0) * 1024 / o->conns,
	    t.ops * 1e9 / (ns ? ns : 1));
	load_result(o, o->scenario, "B/conn", (double)(rss_echo - rss0) *
	    1024 / o->conns, &t, t.ops ? cpu0 / 1e3 / t.ops : 0, extra);
	return t.errors ? -1 : 0;
}

/* max/min of the connections the leaves got, "3/13" in dist. */
static double
burst_ratio(const struct procs *base, const unsigned *grown, char *dist,
    size_t size, int *nprocs)
{
	unsigned	max = 0, min = ~0U;
	size_t		off = 0;
	int		i;

	*nprocs = 0;
	dist[0] = '\0';
	for (i = 0; i < base->n; i++) {
		if (base->n > 1 && procs_has_children(base, i))
			continue;
		(*nprocs)++;
		max = grown[i] > max ? grown[i] : max;
		min = grown[i] < min ? grown[i] : min;
		if (off < size)
			off += snprintf(dist + off, size - off, "%s%u",
			    off ? "/" : "", grown[i]);
	}
	if (*nprocs == 0 || max == 0)
		return 0;
	return min == 0 ? INFINITE_RATIO : (double)max / min;
}

/* One burst: open them at once, count per process, echo, close. */
static int
burst(const struct opts *o, pid_t server, unsigned n)
{
	static struct procs	 base;
	static unsigned		 grown[LOAD_PROCS_MAX];
	struct tally		 t;
	char			 scen[64], dist[256], extra[320];
	double			 ratio;
	int			*fds, nprocs;

	memset(&t, 0, sizeof(t));
	if ((fds = calloc(n, sizeof(*fds))) == NULL ||
	    procs_read(server, &base, true) == -1)
		return -1;
	t.errors += open_conns(o, fds, n);
	if (wait_growth(server, &base, grown, n, ACCEPT_MS) < (int)n)
		t.errors++;
	ratio = burst_ratio(&base, grown, dist, sizeof(dist), &nprocs);
	echo_each(fds, n, &t, true);
	close_conns(fds, n);
	free(fds);
	/* The next burst starts from a server with no connection. */
	wait_growth(server, &base, grown, 0, ACCEPT_MS);
	snprintf(scen, sizeof(scen), "%s-%u", o->scenario, n);
	snprintf(extra, sizeof(extra), "procs=%d dist=%s", nprocs, dist);
	load_result(o, scen, "max/min", ratio, &t, 0, extra);
	return t.errors ? -1 : 0;
}

int
run_balance(const struct opts *o, pid_t server)
{
	unsigned	i;
	int		rc = 0;

	for (i = 0; i < o->nbursts; i++)
		if (burst(o, server, o->bursts[i]) == -1)
			rc = -1;
	return rc;
}
