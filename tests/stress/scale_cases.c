/* SPDX-License-Identifier: ISC */
/*
 * scale_cases.c: the scale-out test's five cases, each a run of load or
 * of single connections with its assertions and its one "SCALE" line.
 * The backends, HAProxy and the network are scale.c's and the others'.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "load/load.h"
#include "stress/scale.h"

static bool
logged_all(void *arg)
{
	const unsigned	*want = arg;
	unsigned	 n = 0;
	int		 i;

	for (i = 1; i <= SCALE_BACKENDS; i++)
		n += served_since_mark(&S.b[i]);
	return n >= *want;
}

/* 1: N sessions spread fairly over the backends, by their own logs. */
void
case_spread(void)
{
	struct load	l;
	unsigned	ok;
	int		n[SCALE_BACKENDS + 1], i, fair;
	bool		logged, pass;

	mark();
	load_begin(&l, 1);
	pump(2000);
	load_end(&l);
	ok = l.outcome[LOAD_OK];
	logged = wait_for(logged_all, &ok, WAIT_MS);
	fair = (int)ok / SCALE_BACKENDS;
	pass = load_failures(l.outcome) == 0 && ok >= 50 && logged;
	for (i = 1; i <= SCALE_BACKENDS; i++) {
		n[i] = served_since_mark(&S.b[i]);
		/* Round robin: each gets its share, give or take a few. */
		pass = pass && n[i] >= fair * 9 / 10;
	}
	report("spread", l.sessions, load_failures(l.outcome), pass,
	    "(%s) b1=%d b2=%d b3=%d fair_share=%d logged_as_127.0.0.x=%s",
	    failures(&l), n[1], n[2], n[3], fair, logged ? "all" : "NOT ALL");
	load_free(&l);
}

/* One byte out and back on a connection through HAProxy. */
static bool
echoes(int fd)
{
	char	c;

	return fd >= 0 && h_echo(fd, "x", 1, &c, 2000) == 0 && c == 'x';
}

static int
refusals(const char *client)
{
	char	peer[64];
	int	i, n = 0;

	snprintf(peer, sizeof(peer), "connection peer=%s:", client);
	for (i = 1; i <= SCALE_BACKENDS; i++)
		n += log_lines(&S.b[i], peer, "refused-per-client-limit");
	return n;
}

struct refusal_wait {
	int	base;
	int	want;
};

static bool
refusals_logged(void *arg)
{
	const struct refusal_wait *w = arg;

	return refusals(CLIENT_A) - w->base >= w->want;
}

/*
 * 2: the backends see the real client. Client A holds connections until
 * every backend has A's limit open; its next ones are refused there (the
 * balancer's own address, with B's sessions on it, was never the client),
 * while B is still served everywhere.
 */
void
case_real_client(void)
{
	enum { TRIES = SCALE_BACKENDS * LIMIT_PER_CLIENT + SCALE_BACKENDS };
	struct refusal_wait w = { refusals(CLIENT_A), 0 };
	int		 held[TRIES], nheld = 0, refused = 0, b_ok = 0;
	int		 b_base = refusals(CLIENT_B), fd, i;
	bool		 logged, pass;

	for (i = 0; i < TRIES; i++) {
		fd = net_connect(NET_LB, CLIENT_A, FRONT, SCALE_ECHO_PORT, 2000);
		if (echoes(fd))
			held[nheld++] = fd;
		else {
			refused++;
			if (fd >= 0)
				close(fd);
		}
	}
	for (i = 0; i < SCALE_BACKENDS; i++) {
		fd = net_connect(NET_LB, CLIENT_B, FRONT, SCALE_ECHO_PORT, 2000);
		b_ok += echoes(fd);
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < nheld; i++)
		close(held[i]);
	w.want = refused;
	logged = refused > 0 && wait_for(refusals_logged, &w, WAIT_MS);
	pass = nheld == SCALE_BACKENDS * LIMIT_PER_CLIENT &&
	    refused == SCALE_BACKENDS && b_ok == SCALE_BACKENDS && logged &&
	    refusals(CLIENT_B) == b_base;
	report("real-client", TRIES + SCALE_BACKENDS, 0, pass,
	    "limit_per_client=%d A_served=%d A_refused=%d "
	    "A_refusals_logged_as_%s=%d B_served=%d/%d", LIMIT_PER_CLIENT,
	    nheld, refused, CLIENT_A, refusals(CLIENT_A) - w.base, b_ok,
	    SCALE_BACKENDS);
}

/*
 * 3: under load, SIGTERM one backend as "systemctl stop" would. It drains
 * what it has; HAProxy retries on another server what it refuses until
 * the health check takes it out. No client session fails.
 */
void
case_stopped(void)
{
	struct backend	*v = &S.b[2];
	struct load	 l;
	struct hstat	 st0, st1;
	uint64_t	 t0;
	int		 down_ms = -1, exit_status = -1, others;
	bool		 down, back, pass;

	hstat_of("BACKEND", &st0);
	load_begin(&l, 3);
	pump(1000);
	t0 = sig_monotonic_ms();
	kill(v->d.pid, SIGTERM);
	if ((down = wait_status(v, "DOWN")))
		down_ms = (int)(sig_monotonic_ms() - t0);
	if (wait_for(has_exited, v, WAIT_MS))
		exit_status = h_wait_exit(&v->d, 0);
	mark();
	pump(1000);
	load_end(&l);
	others = served_since_mark(&S.b[1]) + served_since_mark(&S.b[3]);
	hstat_of("BACKEND", &st1);
	back = backend_restart(v);
	pass = load_failures(l.outcome) == 0 && down && exit_status == 0 &&
	    others > 0 && served_since_mark(v) == 0 && back;
	report("backend-stopped", l.sessions, load_failures(l.outcome), pass,
	    "(%s) stopped=%s down_after_ms=%d exit=%d served_by_others_while_"
	    "down=%d retries=%u redispatches=%u restarted_up=%s", failures(&l),
	    v->name, down_ms, exit_status, others, st1.wretr - st0.wretr,
	    st1.wredis - st0.wredis, back ? "yes" : "no");
	load_free(&l);
}

/* Drain one backend in HAProxy, stop it, start it, put it back. */
static bool
roll_one(struct backend *b, int *drain_ms)
{
	char		cmd[128], out[1024];
	uint64_t	t0 = sig_monotonic_ms();

	snprintf(cmd, sizeof(cmd), "set server be/%s state drain", b->name);
	if (haproxy_cmd(&S.h, cmd, out, sizeof(out)) == -1 ||
	    strspn(out, "\n") != strlen(out) || !wait_for(is_idle, b, WAIT_MS))
		return false;
	if ((int)(sig_monotonic_ms() - t0) > *drain_ms)
		*drain_ms = (int)(sig_monotonic_ms() - t0);
	kill(b->d.pid, SIGTERM);
	if (!wait_for(has_exited, b, WAIT_MS) || h_wait_exit(&b->d, 0) != 0)
		return false;
	backend_spawn(b);
	if (!wait_for(is_ready, b, WAIT_MS))
		return false;
	snprintf(cmd, sizeof(cmd), "set server be/%s state ready", b->name);
	if (haproxy_cmd(&S.h, cmd, out, sizeof(out)) == -1 ||
	    strspn(out, "\n") != strlen(out))
		return false;
	return wait_status(b, "UP");
}

/* 4: every backend in turn: drain, stop, start, ready; nothing fails. */
void
case_rolling(void)
{
	struct load	l;
	uint64_t	t0 = sig_monotonic_ms();
	int		i, rolled = 0, drain_ms = 0, after = 1 << 30;
	bool		pass;

	load_begin(&l, 4);
	pump(500);
	for (i = 1; i <= SCALE_BACKENDS; i++) {
		if (!roll_one(&S.b[i], &drain_ms))
			break;
		rolled++;
		mark();
		pump(300);
		/* The restarted one serves again before the next goes. */
		if (served_since_mark(&S.b[i]) < after)
			after = served_since_mark(&S.b[i]);
	}
	load_end(&l);
	pass = load_failures(l.outcome) == 0 && rolled == SCALE_BACKENDS &&
	    after > 0;
	report("rolling-restart", l.sessions, load_failures(l.outcome), pass,
	    "(%s) restarted=%d/%d longest_drain_ms=%d least_served_after_"
	    "restart=%d total_ms=%d", failures(&l), rolled, SCALE_BACKENDS,
	    drain_ms, rolled ? after : 0, (int)(sig_monotonic_ms() - t0));
	load_free(&l);
}

/* A PROXY v2 header, PROXY command, TCP over IPv4, without TLVs. */
static size_t
proxy_v2(unsigned char *buf, const char *src, unsigned sport, const char *dst,
    unsigned dport)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	struct in_addr	a;

	memcpy(buf, sig, sizeof(sig));
	buf[12] = 0x21;
	buf[13] = 0x11;
	buf[14] = 0;
	buf[15] = 12;
	inet_pton(AF_INET, src, &a);
	memcpy(buf + 16, &a, 4);
	inet_pton(AF_INET, dst, &a);
	memcpy(buf + 20, &a, 4);
	buf[24] = sport >> 8;
	buf[25] = sport & 0xff;
	buf[26] = dport >> 8;
	buf[27] = dport & 0xff;
	return 28;
}

/* Send a header and a line from namespace ns to b; did the line come back? */
static bool
header_echoed(int ns, const struct backend *b)
{
	static const char line[] = "after the header\n";
	unsigned char	 out[64], in[sizeof(line)];
	size_t		 n;
	int		 fd;
	bool		 echoed;

	n = proxy_v2(out, CLIENT_B, 40000, b->addr, SCALE_ECHO_PORT);
	memcpy(out + n, line, sizeof(line) - 1);
	n += sizeof(line) - 1;
	if ((fd = net_connect(ns, NULL, b->addr, SCALE_ECHO_PORT, 2000)) == -1)
		return false;
	echoed = h_send_all(fd, out, n, 2000) == 0 &&
	    h_recv_n(fd, in, sizeof(line) - 1, 2000) ==
	    (ssize_t)(sizeof(line) - 1) &&
	    memcmp(in, line, sizeof(line) - 1) == 0;
	close(fd);
	return echoed;
}

/* A counter of b's metrics (the sample line "name{labels} "), or -1. */
static long
metric(const struct backend *b, const char *sample)
{
	static const char get[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char		 page[65536], *p;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	fd = net_connect(b->ns, NULL, "127.0.0.1", METRICS_PORT, 2000);
	if (fd == -1 || h_send_all(fd, get, sizeof(get) - 1, 2000) == -1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (len + 1 < sizeof(page) &&
	    (n = h_recv_n(fd, page + len, sizeof(page) - 1 - len, 2000)) > 0)
		len += n;
	page[len] = '\0';
	close(fd);
	if ((p = strstr(page, sample)) == NULL)
		return -1;
	return strtol(p + strlen(sample), NULL, 10);
}

#define UNTRUSTED	"sockechod_proxy_headers_total{result=\"untrusted\"} "

/*
 * 5: a stranger on the backends' network (not in proxy_trusted) sends a
 * valid PROXY header straight to a backend: refused without an echo,
 * logged and counted. The same bytes from the balancer are served.
 */
void
case_untrusted(void)
{
	enum { TRIES = 10 };
	struct backend	*b = &S.b[1];
	char		 peer[64];
	int		 i, refused = 0, trusted_ok = 0, logged;
	long		 counted = metric(b, UNTRUSTED);
	bool		 pass;

	snprintf(peer, sizeof(peer), "connection peer=%s:", SCALE_ROGUE_ADDR);
	logged = log_lines(b, peer, "refused-proxy-untrusted");
	for (i = 0; i < TRIES; i++) {
		refused += !header_echoed(NET_ROGUE, b);
		trusted_ok += header_echoed(NET_LB, b);
	}
	logged = log_lines(b, peer, "refused-proxy-untrusted") - logged;
	counted = counted == -1 ? -1 : metric(b, UNTRUSTED) - counted;
	pass = refused == TRIES && trusted_ok == TRIES && logged == TRIES &&
	    counted == TRIES;
	report("untrusted", 2 * TRIES, TRIES - refused + TRIES - trusted_ok,
	    pass, "from=%s refused=%d/%d logged=%d counted=%ld "
	    "from_balancer=%s served=%d/%d", SCALE_ROGUE_ADDR, refused, TRIES,
	    logged, counted, SCALE_LB_ADDR, trusted_ok, TRIES);
}
