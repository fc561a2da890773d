/* SPDX-License-Identifier: ISC */
/*
 * hostile.c: the hostile-client suite. The real daemon on loopback meets
 * clients that abuse it (slowloris, never-reading pumps, floods, denied
 * sources, resets, descriptor exhaustion, killed workers) while other
 * sources (127.0.0.2, 127.0.0.3, ::1) must still be served. Each case
 * prints one "HOSTILE" line with its counts and the workers' memory, and
 * the suite fails when a promise of sockecho.conf(5) breaks.
 * HOSTILE_SCALE (a percentage, default 100) scales the client counts.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

/*
 * Under AddressSanitizer (make check-sanitizers builds the daemon and this
 * suite alike) freed memory waits in ASan's quarantine, so a worker's RSS
 * says nothing about what it holds: the memory bounds are then reported,
 * not asserted. Every other promise still is.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_ASSERTED	false
#else
#define RSS_ASSERTED	true
#endif

#define KIB		1024UL
#define MIB		(1024 * KIB)
#define MAX_WORKERS	16

static int	failures;
static unsigned	scale_pct = 100;

/* A case's count, scaled by HOSTILE_SCALE but never below "floor". */
static unsigned
scaled(unsigned n, unsigned floor)
{
	unsigned long	v = (unsigned long)n * scale_pct / 100;

	return v < floor ? floor : (unsigned)v;
}

static void
start_daemon(struct daemon *d, const char *body)
{
	if (h_start_config(d, "%s", body) != 0) {
		h_log_dump(d);
		h_die("sockechod did not start");
	}
}

/* A kernel status field of a process, in KiB (VmRSS, VmHWM); 0 if unknown. */
static unsigned long
proc_kib(pid_t pid, const char *field)
{
	char		 path[64], line[256];
	unsigned long	 v = 0;
	size_t		 len = strlen(field);
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = strtoul(line + len + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

struct workers_mem {
	int		n;
	unsigned long	rss_kib;	/* the largest worker's */
	unsigned long	hwm_kib;	/* the largest worker's peak */
};

static struct workers_mem
workers_mem(const struct daemon *d)
{
	struct workers_mem	m = { 0, 0, 0 };
	pid_t			v[MAX_WORKERS];
	unsigned long		r;
	int			i;

	m.n = h_children(d->pid, v, MAX_WORKERS);
	for (i = 0; i < m.n; i++) {
		if ((r = proc_kib(v[i], "VmRSS")) > m.rss_kib)
			m.rss_kib = r;
		if ((r = proc_kib(v[i], "VmHWM")) > m.hwm_kib)
			m.hwm_kib = r;
	}
	return m;
}

/* The kernel's TCP memory in KiB (the "mem" pages of /proc/net/sockstat). */
static unsigned long
tcp_mem_kib(void)
{
	char		 line[256], *p;
	unsigned long	 pages = 0;
	FILE		*fp;

	if ((fp = fopen("/proc/net/sockstat", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "TCP:", 4) == 0 &&
		    (p = strstr(line, " mem ")) != NULL)
			pages = strtoul(p + 5, NULL, 10);
	fclose(fp);
	return pages * (unsigned long)sysconf(_SC_PAGESIZE) / KIB;
}

/* The largest a buffer grows to (the third of tcp_wmem or tcp_rmem), in KiB. */
static unsigned long
tcp_buffer_max_kib(const char *sysctl)
{
	char		 path[128];
	unsigned long	 lo, def, max = 0;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", sysctl);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu %lu", &lo, &def, &max) != 3)
		max = 0;
	fclose(fp);
	return max / KIB;
}

static void
verdict(int n, const char *name, bool pass, const struct daemon *d,
    const char *fmt, ...)
{
	struct workers_mem	m = workers_mem(d);
	char			extra[768];
	va_list			ap;

	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	printf("HOSTILE %d %-18s %s; workers=%d rss_max=%luKiB peak_max=%luKiB "
	    "tcp_mem=%luKiB%s => %s\n", n, name, extra, m.n, m.rss_kib,
	    m.hwm_kib, tcp_mem_kib(), RSS_ASSERTED ? "" :
	    " (ASan: RSS not asserted)", pass ? "PASS" : "FAIL");
	fflush(stdout);
	if (!pass) {
		failures++;
		h_log_dump((struct daemon *)(void *)(uintptr_t)d);
	}
}

/* A TCP connection to host:port from the local address "src" (NULL: any). */
static int
connect_from(const char *src, const char *host, unsigned port, int timeout_ms)
{
	struct sockaddr_storage	ss, from;
	socklen_t		len;
	struct pollfd		pfd;
	int			fd, err = 0;

	memset(&ss, 0, sizeof(ss));
	memset(&from, 0, sizeof(from));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, host, &s4->sin_addr);
		len = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (src != NULL) {
		from.ss_family = ss.ss_family;
		if (ss.ss_family == AF_INET)
			inet_pton(AF_INET, src,
			    &((struct sockaddr_in *)&from)->sin_addr);
		else
			inet_pton(AF_INET6, src,
			    &((struct sockaddr_in6 *)&from)->sin6_addr);
		if (bind(fd, (struct sockaddr *)&from, len) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* One short echo session from "src": 0 when the bytes came back, then EOF. */
static int
session(const char *src, const char *host, unsigned port, int timeout_ms)
{
	char	out[64], in[64];
	int	fd, r;

	snprintf(out, sizeof(out), "hostile %s", src ? src : "-");
	if ((fd = connect_from(src, host, port, timeout_ms)) == -1)
		return -1;
	r = h_echo(fd, out, strlen(out), in, timeout_ms);
	if (r == 0)
		r = memcmp(in, out, strlen(out)) == 0 ? 0 : -1;
	if (r == 0 && (shutdown(fd, SHUT_WR) == -1 ||
	    h_recv_eof(fd, timeout_ms) != 0))
		r = -1;
	close(fd);
	return r;
}

/*
 * What a client sees next on its connection: 'R' for a reset, 'F' for an
 * orderly close (FIN) with no byte, 'D' if data came, 'T' if nothing
 * happened in time.
 */
static char
wire_outcome(int fd, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;
	ssize_t		r;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return 'T';
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	if (r == 1)
		return 'D';
	if (r == 0)
		return 'F';
	return errno == ECONNRESET ? 'R' : 'T';
}

/*
 * Connect from "src", send "n" bytes of junk, and say what came back (see
 * wire_outcome); a reset that beats the connect or the send is an 'R'.
 */
static char
refused_sees(const char *src, const char *host, unsigned port, size_t n,
    int timeout_ms)
{
	static char	junk[64 * KIB];
	char		seen;
	int		fd;

	if ((fd = connect_from(src, host, port, timeout_ms)) == -1)
		return errno == ECONNRESET ? 'R' : 'E';
	if (n > sizeof(junk))
		n = sizeof(junk);
	if (n > 0 && send(fd, junk, n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 &&
	    errno == ECONNRESET) {
		close(fd);
		return 'R';
	}
	seen = wire_outcome(fd, timeout_ms);
	close(fd);
	return seen;
}

/* 1 when a datagram from "src" to 127.0.0.1:port is echoed in time. */
static int
udp_answered(const char *src, unsigned port, int timeout_ms)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	char			buf[32];
	int			fd, r = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto out;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	sin.sin_port = htons(port);
	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) != 4)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) == 1 &&
	    recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 4)
		r = 1;
out:
	close(fd);
	return r;
}

/* The SIGUSR1 table's summary: how many were denied and limited. */
static int
refusals(struct daemon *d, unsigned long long *denied,
    unsigned long long *limited)
{
	char		line[1024], *p;
	int		before = h_log_count(d, "status: generation");

	kill(d->pid, SIGUSR1);
	if (h_log_wait_count(d, "status: generation", before + 1, 5000) != 0 ||
	    h_log_last(d, "status: generation", line, sizeof(line)) != 0 ||
	    (p = strstr(line, " out, ")) == NULL ||
	    sscanf(p, " out, %llu denied, %llu over a client limit", denied,
	    limited) != 2)
		return -1;
	return 0;
}

/*
 * 5: allow/deny. A denied source gets no byte back and costs no buffer;
 * an allowed one is served, over IPv4, IPv6 and IPv4-mapped IPv6. A
 * reload that denies a source leaves its open connection served.
 */
static void
case_access(void)
{
	struct daemon		 d;
	struct workers_mem	 before, after;
	unsigned long long	 denied = 0, limited = 0;
	unsigned		 i, n = scaled(2000, 50), bad = 0;
	char			 seen2, seen6, buf[16];
	bool			 ok = true, udp_ok, udp_denied;
	int			 keep;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\", \"[::1]:%P\", "
	    "\"udp:127.0.0.1:%P\" ];\n"
	    "workers = 2;\nallow = [ \"127.0.0.0/8\", \"::/0\" ];\n"
	    "deny = [ \"127.0.0.2\" ];\n");
	/* UDP: a denied source gets no answer either. */
	udp_ok = udp_answered("127.0.0.3", d.port, 2000) == 1;
	udp_denied = udp_answered("127.0.0.2", d.port, 500) == 0;
	ok &= udp_ok && udp_denied;
	ok &= session("127.0.0.3", "127.0.0.1", d.port, 5000) == 0;
	ok &= session("::1", "::1", d.port, 5000) == 0;
	seen2 = refused_sees("127.0.0.2", "127.0.0.1", d.port, 0, 5000);
	ok &= seen2 == 'R';
	/* A flood of denied clients, each pushing 64 KiB: no buffer kept. */
	before = workers_mem(&d);
	for (i = 0; i < n; i++)
		if (refused_sees("127.0.0.2", "127.0.0.1", d.port, 64 * KIB,
		    5000) != 'R')
			bad++;
	after = workers_mem(&d);
	ok &= bad == 0 &&
	    (after.rss_kib < before.rss_kib + 1024 || !RSS_ASSERTED);
	/* Reload denying ::1: its open connection is still served. */
	keep = connect_from("::1", "::1", d.port, 5000);
	ok &= keep >= 0 && h_echo(keep, "x", 1, buf, 5000) == 0;
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\", \"[::1]:%%P\", "
	    "\"udp:127.0.0.1:%%P\" ];\n"
	    "workers = 2;\nallow = [ \"127.0.0.0/8\" ];\n"
	    "deny = [ \"127.0.0.2\" ];\n");
	h_notify_drain(&d);
	kill(d.pid, SIGHUP);
	ok &= h_notify_wait(&d, "READY=1", 10000, NULL, 0, NULL) == 0;
	ok &= keep >= 0 && h_echo(keep, "y", 1, buf, 5000) == 0;
	if (keep >= 0)
		close(keep);
	/*
	 * Probe once the old generation is gone: a connection that arrives
	 * while it drains can wait in the queue until the next one comes
	 * (seen here about once in six runs; a daemon issue of its own).
	 */
	ok &= h_log_wait_count(&d, "after a reload", 2, 15000) == 0;
	seen6 = refused_sees("::1", "::1", d.port, 0, 5000);
	ok &= seen6 == 'R';
	ok &= session("127.0.0.3", "127.0.0.1", d.port, 5000) == 0;
	ok &= refusals(&d, &denied, &limited) == 0 && denied >= n + 2;
	ok &= h_log_count(&d, "127.0.0.2") >= 1 &&
	    h_log_count(&d, "connection refused: denied") <= 4;
	verdict(5, "allow/deny", ok, &d, "denied_flood=%u not_reset=%u "
	    "refused_v4_sees=%c refused_v6_sees=%c denied=%llu "
	    "notices=%d rss_before=%luKiB rss_after=%luKiB udp_allowed=%s "
	    "udp_denied_unanswered=%s", n, bad,
	    seen2, seen6, denied, h_log_count(&d, "connection refused"),
	    before.rss_kib, after.rss_kib, udp_ok ? "yes" : "no",
	    udp_denied ? "yes" : "no");
	h_cleanup(&d);
}

/* 5b: a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
static void
case_mapped(void)
{
	struct sockaddr_in6	 sin6;
	struct daemon		 d;
	char			 seen;
	bool			 ok = true, served;
	int			 fd, zero = 0, one = 1;

	h_init(&d);
	d.port = h_free_port("127.0.0.1");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(d.port);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1 ||
	    listen(fd, 64) == -1)
		h_die("dual-stack listener: %s", strerror(errno));
	d.listen_fd = fd;
	start_daemon(&d, "workers = 1;\nallow = [ \"::ffff:127.0.0.3\" ];\n");
	close(fd);
	served = session("127.0.0.3", "127.0.0.1", d.port, 5000) == 0;
	seen = refused_sees("127.0.0.2", "127.0.0.1", d.port, 0, 5000);
	ok &= served && seen == 'R';
	ok &= h_log_wait(&d, "127.0.0.2", 5000) == 0;
	verdict(5, "allow/deny mapped", ok, &d, "mapped_allowed_served=%s "
	    "mapped_refused_sees=%c", served ? "yes" : "no", seen);
	h_cleanup(&d);
}

/* Open "n" connections from "src" and keep those that echo; the others are closed. */
static unsigned
hold(const char *src, unsigned port, int *fds, unsigned n)
{
	unsigned	i, served = 0;
	char		buf[8];

	for (i = 0; i < n; i++) {
		fds[i] = connect_from(src, "127.0.0.1", port, 5000);
		if (fds[i] >= 0 && h_echo(fds[i], "held", 4, buf, 5000) == 0) {
			served++;
			continue;
		}
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return served;
}

static void
close_all(int *fds, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * 4: a flood from one source with max_connections_per_client: it holds
 * at most the limit over both workers, a second source is served at once;
 * with max_new_connections_per_client, a burst gets at most the rate.
 */
static void
case_per_client(void)
{
	enum { LIMIT = 20, RATE = 10 };
	static int		 fds[1000];
	struct daemon		 d;
	unsigned		 n = scaled(1000, 100), held, burst = 0, i;
	unsigned long long	 denied, limited = 0;
	uint64_t		 t0, other_ms;
	bool			 ok;
	int			 fd;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "max_connections_per_client = 20;\n"
	    "max_new_connections_per_client = 0;\n");
	held = hold("127.0.0.2", d.port, fds, n);
	t0 = sig_monotonic_ms();
	ok = session("127.0.0.3", "127.0.0.1", d.port, 1000) == 0;
	other_ms = sig_monotonic_ms() - t0;
	ok &= held == LIMIT && other_ms < 1000;
	ok &= refusals(&d, &denied, &limited) == 0 && limited == n - LIMIT;
	close_all(fds, n);
	h_cleanup(&d);
	/* The rate: a burst of connections in well under a second. */
	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "max_new_connections_per_client = 10;\n");
	t0 = sig_monotonic_ms();
	for (i = 0; i < 30; i++)
		if ((fd = connect_from("127.0.0.2", "127.0.0.1", d.port,
		    5000)) >= 0) {
			char	buf[8];

			burst += h_echo(fd, "burst", 5, buf, 5000) == 0;
			close(fd);
		}
	/* Within one second at most RATE; a burst across a boundary 2 RATE. */
	ok &= burst >= RATE && burst <= (sig_monotonic_ms() - t0 < 1000 ? 2 : 4) * RATE;
	ok &= session("127.0.0.3", "127.0.0.1", d.port, 1000) == 0;
	verdict(4, "per-client limit", ok, &d, "flood=%u held=%u (limit %d) "
	    "limited=%llu other_source_ms=%llu burst=30 admitted=%u (rate %d/s)",
	    n, held, LIMIT, limited, (unsigned long long)other_ms, burst, RATE);
	h_cleanup(&d);
}

/*
 * 8: a SIGKILLed worker held connections of a limited client: once the
 * master has reaped it, the client can connect again up to the limit.
 */
static void
case_killed_worker(void)
{
	enum { LIMIT = 10 };
	int		 fds[LIMIT + 1], again[LIMIT + 1];
	pid_t		 kids[MAX_WORKERS];
	struct daemon	 d;
	unsigned	 before, after;
	int		 i, n;
	bool		 ok;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "max_connections_per_client = 10;\n");
	before = hold("127.0.0.2", d.port, fds, LIMIT + 1);
	n = h_children(d.pid, kids, MAX_WORKERS);
	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	close_all(fds, LIMIT + 1);
	ok = before == LIMIT && n == 2;
	/* The replacements serve once the master has reaped the dead. */
	ok &= h_log_wait_count(&d, "SIGKILL", 2, 5000) == 0;
	after = hold("127.0.0.2", d.port, again, LIMIT + 1);
	ok &= after == LIMIT;
	verdict(8, "killed worker", ok, &d, "held_before=%u (limit %d) "
	    "workers_killed=%d held_after=%u", before, LIMIT, n, after);
	close_all(again, LIMIT + 1);
	h_cleanup(&d);
}

static int
count_dir(const char *path)
{
	struct dirent	*de;
	DIR		*dir;
	int		 n = 0;

	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* The descriptors of all workers together. */
static int
worker_fds(const struct daemon *d)
{
	pid_t	kids[MAX_WORKERS];
	char	path[64];
	int	n, i, total = 0;

	n = h_children(d->pid, kids, MAX_WORKERS);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd", (long)kids[i]);
		total += count_dir(path);
	}
	return total;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "n" short sessions from "src": how many succeeded, and p50/p99 in ms. */
static unsigned
timed_sessions(const char *src, unsigned port, unsigned n, double *p50,
    double *p99)
{
	uint64_t	*us = calloc(n, sizeof(*us));
	uint64_t	 t0;
	unsigned	 i, ok = 0;

	for (i = 0; i < n; i++) {
		t0 = sig_monotonic_us();
		ok += session(src, "127.0.0.1", port, 5000) == 0;
		us[i] = sig_monotonic_us() - t0;
	}
	qsort(us, n, sizeof(*us), cmp_u64);
	*p50 = us[n / 2] / 1000.0;
	*p99 = us[n * 99 / 100] / 1000.0;
	free(us);
	return ok;
}

/*
 * 1: slowloris. 10,000 idle connections from twenty sources (127.0.1.x)
 * are held open while 127.0.0.3 runs 2,000 short sessions: all served.
 */
static void
case_slowloris(void)
{
	enum { SOURCES = 20 };
	struct daemon	 d;
	unsigned	 n = scaled(10000, 200), sessions = scaled(2000, 100);
	unsigned	 i, idle = 0, ok;
	char		 src[32];
	double		 p50, p99;
	int		*fds = calloc(n, sizeof(*fds));
	bool		 pass;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "max_connections = 6000;\nmax_connections_per_client = 600;\n"
	    "backlog = 4096;\n");
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.0.1.%u", i % SOURCES + 1);
		fds[i] = connect_from(src, "127.0.0.1", d.port, 5000);
		idle += fds[i] >= 0;
	}
	ok = timed_sessions("127.0.0.3", d.port, sessions, &p50, &p99);
	/* The idle ones are still there, and still served when they speak. */
	pass = idle == n && ok == sessions && worker_fds(&d) >= (int)n &&
	    session("127.0.0.2", "127.0.0.1", d.port, 5000) == 0;
	verdict(1, "slowloris", pass, &d, "idle=%u of %u from %d sources "
	    "sessions=%u served=%u p50=%.2fms p99=%.2fms", idle, n, SOURCES,
	    sessions, ok, p50, p99);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	h_cleanup(&d);
}

/*
 * The kernel memory of the server's own sockets on "port", in KiB: the
 * receive and send queues (skmem r and w) that ss(8) reports for each.
 * Unlike /proc/net/sockstat it counts no other process's sockets.
 */
static unsigned long
server_kernel_kib(unsigned port)
{
	static char	 out[1024 * 1024];
	char		 filter[64], *p;
	const char	*argv[] = { "/usr/bin/ss", "-tmnH", "state", "established",
	    filter, NULL };
	unsigned long	 r, w, sum = 0;
	size_t		 len = 0;

	snprintf(filter, sizeof(filter), "( sport = :%u )", port);
	if (h_run(argv, NULL, 0, out, sizeof(out) - 1, &len, NULL, 0,
	    10000) != 0)
		return 0;
	out[len] = '\0';
	for (p = out; (p = strstr(p, "skmem:(r")) != NULL; p++)
		if (sscanf(p, "skmem:(r%lu,rb%*u,t%*u,tb%*u,f%*u,w%lu", &r,
		    &w) == 2)
			sum += r + w;
	return sum / KIB;
}

/* A client with small buffers of its own, so that loopback measures the server's. */
static int
small_client(const char *src, unsigned port)
{
	struct sockaddr_in	sin;
	int			fd, bytes = 32 * KIB;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Send what the sockets take, for "ms", at most "cap" bytes each when
 * "each" counts them (NULL: no cap); return the bytes sent.
 */
static uint64_t
pump_capped(int *fds, unsigned n, int ms, uint64_t *each, uint64_t cap)
{
	static char	 chunk[16 * KIB];
	struct pollfd	 pfd[256];
	uint64_t	 sent = 0, end = sig_monotonic_ms() + ms, left;
	unsigned	 i;
	ssize_t		 r;

	if (n > nitems(pfd))
		n = nitems(pfd);
	while (sig_monotonic_ms() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = each && each[i] >= cap ? -1 : fds[i];
			pfd[i].events = POLLOUT;
		}
		if (poll(pfd, n, 50) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			left = each ? cap - each[i] : sizeof(chunk);
			if (!(pfd[i].revents & POLLOUT) || left == 0 ||
			    (r = send(fds[i], chunk, left < sizeof(chunk) ?
			    left : sizeof(chunk), MSG_NOSIGNAL |
			    MSG_DONTWAIT)) <= 0)
				continue;
			sent += (uint64_t)r;
			if (each)
				each[i] += (uint64_t)r;
		}
	}
	return sent;
}

static uint64_t
pump(int *fds, unsigned n, int ms)
{
	return pump_capped(fds, n, ms, NULL, 0);
}

/*
 * 2: 200 clients pump data for 10 s and never read. Each holds at most
 * buffer_bytes in the worker and socket_buffer_bytes in the kernel, but
 * for the autotuned_connections (8) that keep the kernel's autotuning;
 * the workers stay within that, and another source is served all along.
 */
static void
case_never_reading(void)
{
	enum { PUMPERS = 200, SECONDS = 10, AUTOTUNED = 8 };
	static int		 fds[PUMPERS];
	struct daemon		 d;
	struct workers_mem	 base, m;
	unsigned long		 tcp0, tcp, tcp_max = 0, rss_max = 0, budget;
	unsigned long		 kern, kern_max = 0, kern_budget, tuned;
	unsigned		 n = scaled(PUMPERS, 20), i, probes = 0, ok = 0;
	uint64_t		 sent = 0;
	bool			 pass;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	base = workers_mem(&d);
	tcp0 = tcp_mem_kib();
	for (i = 0; i < n; i++)
		fds[i] = small_client("127.0.0.2", d.port);
	for (i = 0; i < SECONDS; i++) {
		sent += pump(fds, n, 1000);
		probes++;
		ok += session("127.0.0.3", "127.0.0.1", d.port, 2000) == 0;
		m = workers_mem(&d);
		if (m.rss_kib > rss_max)
			rss_max = m.rss_kib;
		if ((tcp = tcp_mem_kib()) > tcp_max)
			tcp_max = tcp;
		if ((kern = server_kernel_kib(d.port)) > kern_max)
			kern_max = kern;
	}
	/*
	 * A worker may hold buffer_bytes (256 KiB) for each of them, up to
	 * max_buffered_bytes (16 MiB) for each of the 2 workers: slack 4 MiB.
	 */
	budget = base.rss_kib + (n * 256 < 2 * 16384 ? n * 256 : 2 * 16384) +
	    4096;
	/*
	 * The kernel: the server's two buffers of socket_buffer_bytes (128
	 * KiB, doubled by the kernel), 512 KiB a pumper, and 64 KiB slack;
	 * the autotuned ones up to tcp_wmem's and tcp_rmem's maximum each.
	 * (/proc/net/sockstat is shown too, but it counts the whole system.)
	 */
	tuned = n < AUTOTUNED ? n : AUTOTUNED;
	kern_budget = (n - tuned) * (4 * 128 + 64) + tuned *
	    (tcp_buffer_max_kib("tcp_wmem") + tcp_buffer_max_kib("tcp_rmem") +
	    64);
	pass = ok == probes && (rss_max <= budget || !RSS_ASSERTED) &&
	    kern_max > 0 && kern_max <= kern_budget;
	verdict(2, "never reading", pass, &d, "pumpers=%u for %ds sent=%lluMiB "
	    "probes_served=%u/%u worker_rss_max=%luKiB (budget %luKiB) "
	    "server_socket_mem_max=%luKiB (%.0fKiB a pumper, limit %luKiB, "
	    "%u autotuned) system_tcp_mem_before=%luKiB max=%luKiB", n,
	    SECONDS, (unsigned long long)(sent >> 20), ok, probes, rss_max,
	    budget, kern_max, n ? (double)kern_max / n : 0.0, kern_budget,
	    tuned, tcp0, tcp_max);
	close_all(fds, n);
	h_cleanup(&d);
}

/*
 * 3: message mode, 1,000 clients each sending just under max_message_bytes
 * without half-closing: the worker holds no more than max_buffered_bytes
 * (16 MiB by default) plus a slack, and a normal client is still served.
 */
static void
case_messages(void)
{
	enum { CLIENTS = 1000, SOURCES = 4, PUMP_MS = 5000 };
	static int		 fds[CLIENTS];
	static uint64_t		 each[CLIENTS];
	struct daemon		 d;
	struct workers_mem	 base, m;
	uint64_t		 total = 0;
	unsigned		 n = scaled(CLIENTS, 40), i, sent_to = 0;
	unsigned long		 budget, slack = 4 * KIB;	/* KiB */
	char			 src[32], msg[1000], back[1000];
	bool			 served, pass;
	int			 fd;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "mode = \"message\";\n");
	base = workers_mem(&d);
	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.0.2.%u", i % SOURCES + 1);
		fds[i] = small_client(src, d.port);
		sent_to += fds[i] >= 0;
	}
	/* Each pushes what its socket takes, up to just under 1 MiB each. */
	for (i = 0; i < n; i += 250)
		total += pump_capped(fds + i, n - i < 250 ? n - i : 250,
		    PUMP_MS / ((n + 249) / 250), each + i, MIB - 100);
	memset(msg, 'm', sizeof(msg));
	fd = connect_from("127.0.0.3", "127.0.0.1", d.port, 5000);
	served = fd >= 0 && h_send_all(fd, msg, sizeof(msg), 5000) == 0 &&
	    shutdown(fd, SHUT_WR) == 0 &&
	    h_recv_n(fd, back, sizeof(back), 10000) == sizeof(back) &&
	    memcmp(back, msg, sizeof(msg)) == 0;
	if (fd >= 0)
		close(fd);
	m = workers_mem(&d);
	budget = base.hwm_kib + 16 * KIB + slack;
	pass = served && sent_to == n && (m.hwm_kib <= budget || !RSS_ASSERTED);
	verdict(3, "big messages", pass, &d, "clients=%u from %d sources "
	    "sent=%lluMiB normal_client_served=%s worker_peak=%luKiB (budget: base %luKiB + "
	    "max_buffered_bytes 16384KiB + slack %luKiB) closed_no_fit=%d",
	    n, SOURCES, (unsigned long long)(total >> 20),
	    served ? "yes" : "no", m.hwm_kib, base.hwm_kib, slack,
	    h_log_count(&d, "can no longer fit"));
	close_all(fds, n);
	h_cleanup(&d);
}

/* Connect, send "n" bytes, read some of the echo, and reset (SO_LINGER 0). */
static int
reset_mid_echo(unsigned port, size_t n)
{
	static char	buf[16 * KIB];
	struct linger	l = { 1, 0 };
	int		fd;

	if ((fd = connect_from("127.0.0.3", "127.0.0.1", port, 5000)) == -1)
		return -1;
	(void)!send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)h_recv_n(fd, buf, 1, 2000);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
	return 0;
}

/* 6: 2,000 connections reset mid-echo: no descriptor leak, still serving. */
static void
case_resets(void)
{
	struct daemon	 d;
	unsigned	 n = scaled(2000, 100), i, failed = 0;
	uint64_t	 deadline;
	int		 before, after;
	bool		 pass;

	h_init(&d);
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n");
	before = worker_fds(&d);
	for (i = 0; i < n; i++)
		failed += reset_mid_echo(d.port, 16 * KIB) == -1;
	deadline = sig_monotonic_ms() + 5000;
	while ((after = worker_fds(&d)) > before && sig_monotonic_ms() < deadline)
		usleep(20000);
	pass = failed == 0 && after == before &&
	    session("127.0.0.2", "127.0.0.1", d.port, 5000) == 0;
	verdict(6, "resets mid-echo", pass, &d, "resets=%u failed=%u "
	    "worker_fds_before=%d after=%d", n, failed, before, after);
	h_cleanup(&d);
}

/*
 * 7: out of descriptors (RLIMIT_NOFILE 256): the open connections keep
 * working, the worker does not spin, and queued clients are served as
 * soon as some close.
 */
static void
case_nofile(void)
{
	enum { CLIENTS = 300, CLOSE = 60 };
	static int	 fds[CLIENTS];
	static bool	 echoed[CLIENTS];
	struct daemon	 d;
	pid_t		 kid;
	unsigned long	 cpu_ms;
	unsigned	 i, held = 0, waiting = 0, later = 0, still = 0;
	uint64_t	 deadline;
	char		 buf[8];
	bool		 pass;

	h_init(&d);
	d.nofile = 256;
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "backlog = 1024;\n");
	h_children(d.pid, &kid, 1);
	for (i = 0; i < CLIENTS; i++)
		if ((fds[i] = connect_from("127.0.0.3", "127.0.0.1", d.port,
		    5000)) >= 0)
			(void)!send(fds[i], "fd", 2, MSG_NOSIGNAL);
	/* CPU use over two seconds at the limit; then who was echoed. */
	cpu_ms = h_cpu_ms(kid, false);
	usleep(2000 * 1000);
	cpu_ms = h_cpu_ms(kid, false) - cpu_ms;
	for (i = 0; i < CLIENTS; i++) {
		echoed[i] = fds[i] >= 0 &&
		    recv(fds[i], buf, 2, MSG_DONTWAIT) == 2;
		held += echoed[i];
		waiting += fds[i] >= 0 && !echoed[i];
	}
	for (i = 0; i < CLIENTS && still < 10; i++)
		if (echoed[i] && h_echo(fds[i], "ok", 2, buf, 2000) == 0)
			still++;
	for (i = 0; i < CLIENTS && i < CLOSE; i++)
		close(fds[i]);
	deadline = sig_monotonic_ms() + 5000;
	for (i = CLOSE; i < CLIENTS; i++)
		if (fds[i] >= 0 && !echoed[i] && later < 30 && h_recv_n(fds[i],
		    buf, 2, (int)(deadline > sig_monotonic_ms() ? deadline -
		    sig_monotonic_ms() : 1)) == 2)
			later++;
	pass = held > 200 && held < CLIENTS && waiting > 0 && still == 10 &&
	    cpu_ms < 200 && later >= (waiting < 30 ? waiting : 30);
	verdict(7, "out of descriptors", pass, &d, "connected=%d echoing=%u "
	    "queued=%u worker_cpu=%lums/2000ms served_after_close=%u",
	    CLIENTS, held, waiting, cpu_ms, later);
	for (i = CLOSE; i < CLIENTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	h_cleanup(&d);
}

int
main(int argc, char *argv[])
{
	/* In the order; "tests/stress/hostile N" runs the Nth (5b is 6). */
	static void (*const cases[])(void) = { case_slowloris,
	    case_never_reading, case_messages, case_per_client, case_access,
	    case_mapped, case_resets, case_nofile, case_killed_worker };
	const char	*scale = getenv("HOSTILE_SCALE");
	int		 i, only = argc > 1 ? atoi(argv[1]) : 0;

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (scale != NULL && atoi(scale) > 0)
		scale_pct = (unsigned)atoi(scale);
	for (i = 0; i < (int)nitems(cases); i++)
		if (only == 0 || only == i + 1)
			cases[i]();
	printf("HOSTILE summary: %d failed\n", failures);
	return failures == 0 ? 0 : 1;
}
