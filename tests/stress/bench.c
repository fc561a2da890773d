/* SPDX-License-Identifier: ISC */
/*
 * bench.c: figures about sockechod's speed and memory, for "make bench-daemon";
 * "make check" never runs it. Each case starts a fresh daemon through the
 * harness on loopback, is bounded in time and bytes, checks every byte
 * that comes back and counts every failure. A figure is printed with its
 * failures, never without them, and any failure makes the exit status 1.
 *
 * The cases: stream throughput over 1 and 16 connections that send and
 * read at once; the rate of short sessions, 64 at a time; the round-trip
 * time of one byte; the memory an idle connection costs a worker. For
 * comparison, the same client code drives, when they are installed, socat
 * forking a process per connection that runs cat (the textbook server.c
 * model) and xinetd's internal echo service.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
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

#include "stress/bench_udp.h"
#include "harness/harness.h"
#include "load/load.h"

#define MIB			(1024 * 1024)
/* A throughput case sends this much, or for this long, whichever ends first. */
#define STREAM_MAX_BYTES	((size_t)4096 * MIB)
#define STREAM_SEND_MS		2000
#define STREAM_FLOWS_MAX	16
#define CASE_DEADLINE_MS	15000	/* a case gives up here */
#define STALL_MS		5000	/* no progress this long: timed out */
#define START_MS		5000	/* for socat and xinetd to listen */
#define RATE_RUN_MS		5000
#define RATE_SESSIONS		64
#define RATE_MSG_BYTES		16
#define PING_WARMUP		1000
#define PING_ITERATIONS		20000
#define PING_TIMEOUT_MS		5000
#define IDLE_CONNS		10000
#define IDLE_BATCH		500	/* connects at once, < the backlog */
#define IDLE_NOFILE		(2 * IDLE_CONNS)	/* the daemon's limit */
#define ROWS_MAX		32
#define WORKERS_MAX		16

enum kind {
	SOCKECHOD,
	SOCAT,
	XINETD,
};

struct server {
	enum kind	 kind;
	const char	*name;
	struct daemon	 d;
	char		 program[256];	/* socat or xinetd, found at run time */
	bool		 udp;		/* this case serves UDP echo */
	int		 resident;	/* its children, between connections */
};

/* One line of the summary table. */
struct row {
	char		 what[24];
	char		 server[12];
	char		 figure[80];
	unsigned	 failures;
};

/*
 * Loopback's own losses, system-wide: they explain a slow figure that the
 * server did not cause (the bench is meant to run on an otherwise idle box).
 */
struct netcount {
	unsigned long long	 retrans;	/* TCP segments sent again */
	unsigned long long	 overflows;	/* accept queue full */
	unsigned long long	 drops;		/* netdev backlog full */
};

/* What a case cost: CPU of the server's processes and of this client. */
struct usage {
	uint64_t	 t0_ns;
	unsigned long	 server0_ms;
	unsigned long	 client0_ms;
	struct netcount	 net0;
	double		 wall_s;
	unsigned long	 server_ms;	/* CPU time, during the case */
	double		 server_pct;	/* of one CPU */
	double		 client_pct;
	struct netcount	 net;		/* during the case */
	char		 text[160];	/* all of the above, for the report */
};

/* Process-wide by nature: the results. */
static struct row	 rows[ROWS_MAX];
static int		 nrows;
static unsigned		 failures_total;

static void
add_row(const char *what, const char *server, unsigned failures,
    const char *fmt, ...)
{
	struct row	*r;
	va_list		 ap;

	failures_total += failures;
	if (nrows == ROWS_MAX)
		return;
	r = &rows[nrows++];
	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->server, sizeof(r->server), "%s", server);
	va_start(ap, fmt);
	vsnprintf(r->figure, sizeof(r->figure), fmt, ap);
	va_end(ap);
	r->failures = failures;
}

/* ---- processes: CPU, memory, descriptors, from /proc ---- */

/* CPU of a process, of its reaped children, and of its live descendants. */
static unsigned long
tree_cpu_ms(pid_t pid)
{
	unsigned long	ms = h_cpu_ms(pid, true);
	pid_t		kids[256];
	int		n, i;

	n = h_children(pid, kids, 256);
	for (i = 0; i < n; i++)
		ms += tree_cpu_ms(kids[i]);
	return ms;
}

static unsigned long
self_cpu_ms(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
	    ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

/*
 * One counter of /proc/net/snmp or /proc/net/netstat, where a line of
 * names comes before a line of values with the same prefix.
 */
static unsigned long long
snmp_value(const char *path, const char *prefix, const char *name)
{
	char			 head[8192], vals[8192], *hs, *vs, *h, *v;
	unsigned long long	 n = 0;
	size_t			 len = strlen(prefix);
	FILE			*fp;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(head, sizeof(head), fp) != NULL &&
	    fgets(vals, sizeof(vals), fp) != NULL) {
		if (strncmp(head, prefix, len) != 0)
			continue;
		h = strtok_r(head + len, " \n", &hs);
		v = strtok_r(vals + len, " \n", &vs);
		while (h != NULL && v != NULL && strcmp(h, name) != 0) {
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		if (h != NULL && v != NULL)
			n = strtoull(v, NULL, 10);
		break;
	}
	fclose(fp);
	return n;
}

static void
net_read(struct netcount *c)
{
	unsigned int	dropped;
	char		line[512];
	FILE		*fp;

	c->retrans = snmp_value("/proc/net/snmp", "Tcp:", "RetransSegs");
	c->overflows = snmp_value("/proc/net/netstat", "TcpExt:",
	    "ListenOverflows");
	c->drops = 0;
	if ((fp = fopen("/proc/net/softnet_stat", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%*x %x", &dropped) == 1)
			c->drops += dropped;
	fclose(fp);
}

/*
 * A child's CPU time moves into its parent's when the parent reaps it;
 * reading in between would lose it. Wait until the processes of the
 * connections just closed are reaped.
 */
static void
wait_reaped(const struct server *s)
{
	uint64_t	deadline = sig_monotonic_ms() + 2000;
	pid_t		v[256];

	while (h_children(s->d.pid, v, 256) > s->resident &&
	    sig_monotonic_ms() < deadline)
		usleep(10000);	/* a poll of /proc with a deadline */
}

static void
usage_begin(struct usage *u, const struct server *s)
{
	memset(u, 0, sizeof(*u));
	u->server0_ms = tree_cpu_ms(s->d.pid);
	u->client0_ms = self_cpu_ms();
	net_read(&u->net0);
	u->t0_ns = sig_monotonic_ns();
}

static void
usage_end(struct usage *u, const struct server *s)
{
	u->wall_s = (sig_monotonic_ns() - u->t0_ns) / 1e9;
	wait_reaped(s);
	u->server_ms = tree_cpu_ms(s->d.pid) - u->server0_ms;
	u->server_pct = u->server_ms / 10.0 / u->wall_s;
	u->client_pct = (self_cpu_ms() - u->client0_ms) / 10.0 / u->wall_s;
	net_read(&u->net);
	u->net.retrans -= u->net0.retrans;
	u->net.overflows -= u->net0.overflows;
	u->net.drops -= u->net0.drops;
	snprintf(u->text, sizeof(u->text), "server CPU %.0f%%, client CPU "
	    "%.0f%%; loopback: %llu retransmits, %llu listen overflows, %llu "
	    "backlog drops", u->server_pct, u->client_pct, u->net.retrans,
	    u->net.overflows, u->net.drops);
}

/* A "Name:  1234 kB" line of /proc/PID/status or /proc/meminfo, in kB. */
static long
proc_kb(const char *path, const char *field)
{
	char	line[256];
	long	kb = -1;
	size_t	len = strlen(field);
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, len) == 0) {
			kb = strtol(line + len, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

static long
rss_kb(pid_t pid)
{
	char	path[64];

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	return proc_kb(path, "VmRSS:");
}

static int
fd_count(pid_t pid)
{
	struct dirent	*de;
	char		 path[64];
	DIR		*dir;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* ---- the servers: start, find the workers, stop without leftovers ---- */

static bool
find_program(const char *name, char *buf, size_t size)
{
	const char	*path = h_env("PATH", "/usr/bin:/bin");
	char		 dirs[4096], *dir, *save = NULL;

	/* xinetd lives in sbin, which is not on every user's PATH. */
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, size, "%s/%s", dir, name);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

/*
 * The comparison servers run in a process group of their own, so that
 * stopping them also stops the per-connection processes they fork.
 */
static void
spawn_foreign(struct server *s, const char *const argv[])
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		h_die("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(s->d.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid);
	s->d.pid = pid;
}

/* Ready is when a connection is accepted: retry until the deadline. */
static int
wait_listening(struct server *s)
{
	uint64_t	deadline = sig_monotonic_ms() + START_MS;
	int		fd;

	while (sig_monotonic_ms() < deadline) {
		if ((fd = h_connect(s->d.host, s->d.port, 1000)) >= 0) {
			close(fd);
			return 0;
		}
		if (h_wait_exit(&s->d, 20) >= 0)
			return -1;	/* it died: see its log */
	}
	return -1;
}

static void
xinetd_config(struct server *s, char *path, size_t size)
{
	FILE	*fp;

	snprintf(path, size, "%s/xinetd.conf", s->d.dir);
	if ((fp = fopen(path, "w")) == NULL)
		h_die("%s: %s", path, strerror(errno));
	/*
	 * UNLISTED: echo is port 7 in /etc/services, and xinetd refuses any
	 * other port for a listed service. No per-connection logging and no
	 * rate limit (the default cps stops the service at 50 per second).
	 */
	fprintf(fp, "service echo\n{\n\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-%s\n\tsocket_type = %s\n\tprotocol = %s\n"
	    "\tuser = root\n\twait = %s\n\tbind = 127.0.0.1\n\tport = %u\n"
	    "\tflags = REUSE\n\tinstances = UNLIMITED\n"
	    "\tper_source = UNLIMITED\n\tcps = 1000000 1\n"
	    "\tlog_on_success =\n\tlog_on_failure =\n}\n",
	    s->udp ? "dgram" : "stream", s->udp ? "dgram" : "stream",
	    s->udp ? "udp" : "tcp", s->udp ? "yes" : "no", s->d.port);
	if (fclose(fp) == EOF)
		h_die("%s: %s", path, strerror(errno));
}

static int
start_foreign(struct server *s)
{
	char		 listen[128], conf[256];
	const char	*socat_argv[] = { s->program, listen, "EXEC:cat",
	    NULL };
	/* One child per datagram; -T ends each one soon after its answer. */
	const char	*socat_udp_argv[] = { s->program, "-T", "0.2", listen,
	    "EXEC:cat", NULL };
	const char	*xinetd_argv[] = { s->program, "-dontfork", "-filelog",
	    s->d.log, "-f", conf, NULL };

	s->d.port = h_free_port(s->d.host);
	if (s->kind == SOCAT && s->udp) {
		snprintf(listen, sizeof(listen), "UDP-RECVFROM:%u,bind=%s,"
		    "fork", s->d.port, s->d.host);
		spawn_foreign(s, socat_udp_argv);
	} else if (s->kind == SOCAT) {
		/*
		 * socat's default backlog is 5, which would measure SYN
		 * retransmissions; 511 is sockechod's default.
		 */
		snprintf(listen, sizeof(listen), "TCP-LISTEN:%u,bind=%s,fork,"
		    "reuseaddr,backlog=511", s->d.port, s->d.host);
		spawn_foreign(s, socat_argv);
	} else {
		xinetd_config(s, conf, sizeof(conf));
		spawn_foreign(s, xinetd_argv);
	}
	if (s->udp)
		return bench_udp_answers(s->d.host, s->d.port, START_MS);
	return wait_listening(s);
}

/*
 * Reap what the server left to us (we are a subreaper), give stragglers
 * 5 s, then kill them: count them, and leave nothing running.
 */
static int
leftovers(void)
{
	uint64_t	deadline = sig_monotonic_ms() + 5000;
	pid_t		v[64];
	int		n, i, status;

	for (;;) {
		while (waitpid(-1, &status, WNOHANG) > 0)
			continue;
		if ((n = h_children(getpid(), v, 64)) <= 0)
			return 0;
		if (sig_monotonic_ms() >= deadline)
			break;
		usleep(10000);	/* a poll of waitpid, as in the harness */
	}
	for (i = 0; i < n; i++)
		kill(v[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(v[i], &status, 0);
	return n;
}

/* Stop the server and everything it forked; returns the problems found. */
static unsigned
server_stop(struct server *s)
{
	unsigned	problems = 0;
	int		code, left;

	if (s->kind == SOCKECHOD) {
		code = h_stop(&s->d, SIGTERM, 15000);
		if (code != 0) {
			printf("BENCH %s: exit status %d after SIGTERM\n",
			    s->name, code);
			problems++;
		}
	} else {
		kill(-s->d.pid, SIGTERM);
		if (h_wait_exit(&s->d, 5000) == -1) {
			printf("BENCH %s: still running 5 s after SIGTERM\n",
			    s->name);
			problems++;
		}
		kill(-s->d.pid, SIGKILL);	/* its connections' processes */
	}
	if ((left = leftovers()) > 0) {
		printf("BENCH %s: %d processes left after stop\n", s->name,
		    left);
		problems++;
	}
	h_cleanup(&s->d);
	return problems;
}

/* socat and xinetd are compared with only when installed. */
static bool
server_available(struct server *s)
{
	static const char *const programs[] = { "", "socat", "xinetd" };

	return s->kind == SOCKECHOD ||
	    find_program(programs[s->kind], s->program, sizeof(s->program));
}

/*
 * "conf" and "nofile" are sockechod's. If sockechod cannot start, there
 * is nothing to measure; a comparison that cannot start is skipped.
 */
static int
server_start(struct server *s, const char *conf, unsigned nofile)
{
	pid_t	v[WORKERS_MAX];

	h_init(&s->d);
	s->resident = 0;
	if (s->kind == SOCKECHOD) {
		s->d.nofile = nofile;
		if (h_start_config(&s->d, "%s", conf) == 0) {
			s->resident = h_children(s->d.pid, v, WORKERS_MAX);
			return 0;
		}
	} else if (start_foreign(s) == 0)
		return 0;
	h_log_dump(&s->d);
	if (s->kind == SOCKECHOD) {
		h_cleanup(&s->d);
		h_die("sockechod did not start");
	}
	(void)server_stop(s);
	return -1;
}

/* ---- per-worker shares, from the master's SIGUSR1 status table ---- */

struct wstat {
	unsigned long long	served;
	unsigned long long	bytes_out;
};

static int
read_table(struct daemon *d, struct wstat *w, int max)
{
	unsigned long long	open, served, in, out;
	char			line[512], *p;
	unsigned		slot;
	FILE			*fp;
	int			n = 0;

	if ((fp = fopen(d->log, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((p = strstr(line, "status: ")) == NULL)
			continue;
		if (strncmp(p, "status: generation", 18) == 0)
			n = 0;	/* a newer table starts */
		if (sscanf(p, "status: %u %*d %*u %*s %*s %llu %llu %llu %llu",
		    &slot, &open, &served, &in, &out) == 5 && n < max) {
			w[n].served = served;
			w[n].bytes_out = out;
			n++;
		}
	}
	fclose(fp);
	return n;
}

/* "served 510+498 bytes 49%+51%": how evenly the workers shared a case. */
static void
worker_shares(struct daemon *d, char *buf, size_t size)
{
	struct wstat		 w[WORKERS_MAX];
	unsigned long long	 total = 0;
	pid_t			 kids[WORKERS_MAX];
	size_t			 off;
	int			 nw, n, i, before;

	nw = h_children(d->pid, kids, WORKERS_MAX);
	before = h_log_count(d, "status: ");
	kill(d->pid, SIGUSR1);
	/* The generation line, the header, one line per worker. */
	if (nw <= 0 || h_log_wait_count(d, "status: ", before + 2 + nw,
	    5000) != 0 || (n = read_table(d, w, WORKERS_MAX)) <= 0) {
		snprintf(buf, size, "workers: no status table");
		return;
	}
	for (i = 0; i < n; i++)
		total += w[i].bytes_out;
	off = snprintf(buf, size, "per worker: served");
	for (i = 0; i < n && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%llu", i ? "+" : " ",
		    w[i].served);
	off += snprintf(buf + off, off < size ? size - off : 0, " bytes");
	for (i = 0; i < n && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%.0f%%",
		    i ? "+" : " ", total ? 100.0 * w[i].bytes_out / total : 0);
}

/* ---- stream throughput: flows that send and read at once ---- */

/*
 * load/'s sessions as flows: one chunk of a share of STREAM_MAX_BYTES
 * each, sent while the echo comes back; after STREAM_SEND_MS they send
 * no more, half-close and expect back exactly what they sent, then EOF.
 */
static void
flows_run(struct load *l, struct server *s, unsigned n)
{
	uint64_t	stop = sig_monotonic_ms() + STREAM_SEND_MS;

	h_load_init(l, &s->d, n, 1);
	l->size = STREAM_MAX_BYTES / n;
	load_step(l, 0);		/* every flow connects */
	l->launching = false;
	while (load_active(l) > 0 && sig_monotonic_ms() < stop)
		load_step(l, 100);
	load_stop_sending(l);
	load_settle(l, CASE_DEADLINE_MS);
	l->outcome[LOAD_TIMEOUT] += load_active(l);
}

static void
case_stream(struct server *s, unsigned nflows, const char *what)
{
	struct load	 l;
	struct usage	 u;
	char		 fails[128], shares[128] = "";
	unsigned	 nfail;
	double		 mbs;

	usage_begin(&u, s);
	flows_run(&l, s, nflows);
	usage_end(&u, s);
	if (s->kind == SOCKECHOD && nflows > 1)
		worker_shares(&s->d, shares, sizeof(shares));
	nfail = load_failures(l.outcome);
	load_describe_failures(l.outcome, fails, sizeof(fails));
	mbs = l.bytes / 1e6 / u.wall_s;
	printf("BENCH %s %s %.1f MB/s (%.1f MiB echoed and verified in %.2f s "
	    "over %u connections; %s%s%s; failures: %s)\n", what, s->name,
	    mbs, l.bytes / (double)MIB, u.wall_s, nflows, u.text,
	    shares[0] ? "; " : "", shares, fails);
	add_row(what, s->name, nfail, "%.1f MB/s, server CPU %.0f%%", mbs,
	    u.server_pct);
	load_free(&l);
}

/* ---- connection rate: many short sessions at once ---- */

/* The latencies of the good sessions, with the load that made them. */
struct rate_run {
	struct load	 load;		/* first: rate_done() finds the rest */
	struct load_hist lat;		/* ns */
};

static void
rate_done(struct load *l, const struct load_session *s, enum load_outcome o)
{
	struct rate_run	*r = (struct rate_run *)l;	/* its first member */

	if (o == LOAD_OK)
		load_hist_add(&r->lat, sig_monotonic_ns() - s->started_ns);
}

static void
rate_run(struct rate_run *r, struct server *s)
{
	struct load	*l = &r->load;
	uint64_t	 end;

	memset(r, 0, sizeof(*r));
	h_load_init(l, &s->d, RATE_SESSIONS, 1);
	/* Each session sends other bytes of the pattern: no mix-up passes. */
	l->size = RATE_MSG_BYTES;
	l->stall_ms = STALL_MS;
	l->done = rate_done;
	end = sig_monotonic_ms() + RATE_RUN_MS;
	while (sig_monotonic_ms() < end)
		(void)load_step(l, 100);
	/* The sessions in flight end on their own, or time out. */
	l->launching = false;
	while (load_step(l, 100) > 0)
		continue;
	load_free(l);
}

/* Returns the sessions that ended well; *launched, all that were tried. */
static unsigned
rate_case(struct server *s, const char *what, unsigned *launched)
{
	struct rate_run	r;
	struct usage	u;
	char		fails[128], shares[128] = "";
	double		rate, p50, p99, max, cpu_us;

	usage_begin(&u, s);
	rate_run(&r, s);
	usage_end(&u, s);
	if (s->kind == SOCKECHOD)
		worker_shares(&s->d, shares, sizeof(shares));
	rate = r.load.outcome[LOAD_OK] / u.wall_s;
	p50 = load_hist_pctl_us(&r.lat, 0.50);
	p99 = load_hist_pctl_us(&r.lat, 0.99);
	max = load_hist_pctl_us(&r.lat, 1.0);
	cpu_us = r.load.sessions ? u.server_ms * 1000.0 / r.load.sessions : 0;
	load_describe_failures(r.load.outcome, fails, sizeof(fails));
	printf("BENCH %s %s %.0f sessions/s (%u of %u sessions ok in "
	    "%.2f s, %d at once; session latency p50 %.0f us p99 %.0f us "
	    "max %.0f us; server CPU per session %.0f us; %s%s%s; failures: "
	    "%s)\n", what, s->name, rate, r.load.outcome[LOAD_OK], r.load.sessions,
	    u.wall_s,
	    RATE_SESSIONS, p50, p99, max, cpu_us, u.text,
	    shares[0] ? "; " : "", shares, fails);
	add_row(what, s->name, load_failures(r.load.outcome),
	    "%.0f sessions/s, p50 %.0f us, p99 %.0f us, CPU %.0f us/session",
	    rate, p50, p99, cpu_us);
	*launched = r.load.sessions;
	return r.load.outcome[LOAD_OK];
}

static void
case_rate(struct server *s)
{
	unsigned	launched;

	(void)rate_case(s, "conn-rate", &launched);
}

/*
 * The same with log_connections (to the log file, as under a plain
 * supervisor): the rate it costs, and a line for every good session.
 */
static void
case_rate_logged(struct server *s)
{
	unsigned	ok, launched, lines;

	ok = rate_case(s, "conn-rate-log", &launched);
	/* A worker writes its lines at the end of the loop's turn that closed. */
	(void)h_log_wait_count(&s->d, "connection peer=", (int)ok, 2000);
	lines = (unsigned)h_log_count(&s->d, "connection peer=");
	printf("BENCH conn-rate-log %s %u connection log lines for %u good "
	    "sessions of %u\n", s->name, lines, ok, launched);
	if (lines < ok || lines > launched)
		add_row("conn-rate-log", s->name, 1, "%u log lines for %u good "
		    "sessions of %u", lines, ok, launched);
}

/* ---- round-trip latency: ping-pong on one connection ---- */

/* One byte there and back; its time in ns, or 0 on failure. */
static uint64_t
ping(int fd, unsigned char c)
{
	unsigned char	back;
	uint64_t	t0 = sig_monotonic_ns();

	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 ||
	    recv(fd, &back, 1, 0) != 1 || back != c)
		return 0;
	return sig_monotonic_ns() - t0;
}

/* Warm up, then time the round trips into h; returns how many succeeded. */
static unsigned
ping_pong(struct server *s, struct load_hist *h)
{
	struct timeval	tv = { PING_TIMEOUT_MS / 1000, 0 };
	unsigned	i, n = 0;
	uint64_t	ns;
	int		fd, one = 1;

	if ((fd = h_connect(s->d.host, s->d.port, 5000)) == -1)
		return 0;
	/* A blocking socket, but a lost reply must not hang the bench. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (i = 0; i < PING_WARMUP; i++)
		if (ping(fd, (unsigned char)i) == 0)
			goto out;
	h_notify_drain(&s->d);
	while (n < PING_ITERATIONS && (ns = ping(fd, (unsigned char)n)) > 0) {
		load_hist_add(h, ns);
		n++;
	}
out:
	close(fd);
	return n;
}

static void
case_pingpong(struct server *s)
{
	static struct load_hist	h;
	unsigned		n, failed;
	double			p50, p99, max;

	memset(&h, 0, sizeof(h));
	n = ping_pong(s, &h);
	/* The first failure ends the case: the rest were not tried. */
	failed = PING_ITERATIONS - n;
	p50 = load_hist_pctl_us(&h, 0.50);
	p99 = load_hist_pctl_us(&h, 0.99);
	max = load_hist_pctl_us(&h, 1.0);
	printf("BENCH ping-pong %s 1 byte: p50 %.1f us p99 %.1f us max %.1f us "
	    "(%u of %d round trips after %d warm-up; failures: %u)\n",
	    s->name, p50, p99, max, n, PING_ITERATIONS, PING_WARMUP, failed);
	add_row("ping-pong", s->name, failed, "p50 %.1f us, p99 %.1f us, "
	    "max %.1f us", p50, p99, max);
}

/* ---- memory per idle connection ---- */

static int
raise_nofile(rlim_t need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* root may; others get EPERM */
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Start "n" connects at once and wait for all of them; returns failures. */
static unsigned
connect_batch(struct daemon *d, int *fds, unsigned n)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd[IDLE_BATCH];
	socklen_t		len;
	unsigned		i, failed = 0;
	int			err;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(d->port);
	inet_pton(AF_INET, d->host, &sin.sin_addr);
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		pfd[i].fd = fds[i];
		pfd[i].events = POLLOUT;
		if (connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) ==
		    -1 && errno != EINPROGRESS)
			pfd[i].fd = -1;	/* counted below */
	}
	for (i = 0; i < n; i++) {
		len = sizeof(err);
		err = 0;
		if (pfd[i].fd == -1 || poll(&pfd[i], 1, STALL_MS) != 1 ||
		    getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1 || err != 0)
			failed++;
	}
	return failed;
}

/* Wait until the worker holds "want" descriptors: it accepted them all. */
static int
wait_fds(pid_t worker, int want, struct daemon *d)
{
	uint64_t	deadline = sig_monotonic_ms() + STALL_MS;
	int		n;

	while ((n = fd_count(worker)) != want && sig_monotonic_ms() < deadline) {
		h_notify_drain(d);
		usleep(20000);	/* a poll of /proc with a deadline */
	}
	return n;
}

/* Echo one byte on every connection, all at once; returns the failures. */
static unsigned
echo_each(const int *fds, unsigned n, struct daemon *d)
{
	struct pollfd	*pfd;
	uint64_t	 deadline = sig_monotonic_ms() + CASE_DEADLINE_MS;
	unsigned	 i, pending = 0, ok = 0;
	char		 c = 'x', back;

	if ((pfd = calloc(n, sizeof(*pfd))) == NULL)
		h_die("out of memory");
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
		if (send(fds[i], &c, 1, MSG_NOSIGNAL) == 1)
			pending++;
		else
			pfd[i].fd = -1;
	}
	while (pending > 0 && sig_monotonic_ms() < deadline) {
		if (poll(pfd, n, 100) <= 0)
			continue;
		h_notify_drain(d);
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (recv(fds[i], &back, 1, MSG_DONTWAIT) == 1 &&
			    back == c)
				ok++;
			pfd[i].fd = -1;	/* answered, well or badly */
			pending--;
		}
	}
	free(pfd);
	return n - ok;
}

struct idle {
	long		 worker_kb[3];	/* before, with them, after them */
	long		 master_kb[2];
	long		 slab_kb[2];
	int		 fds0;		/* the worker's own descriptors */
	int		 accepted;
	unsigned	 failed;
	unsigned	 unechoed;
};

/*
 * Open the connections in batches smaller than the listen backlog, each
 * once the worker has accepted the one before: a full accept queue would
 * measure SYN retransmissions. Returns how many connected.
 */
static unsigned
idle_open(struct daemon *d, pid_t worker, struct idle *m, int *fds)
{
	unsigned	i, batch, bad = 0;

	for (i = 0; i < IDLE_CONNS; i += batch) {
		batch = IDLE_CONNS - i < IDLE_BATCH ? IDLE_CONNS - i :
		    IDLE_BATCH;
		bad += connect_batch(d, fds + i, batch);
		(void)wait_fds(worker, m->fds0 + (int)(i + batch - bad), d);
	}
	m->failed += bad;
	return IDLE_CONNS - bad;
}

static void
idle_close(int *fds, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

static void
idle_measure(struct server *s, pid_t worker, struct idle *m, int *fds)
{
	unsigned	n;

	/* A first session, so no first-use page counts as per connection. */
	if (h_roundtrip(s->d.host, s->d.port, "warm-up") != 0)
		m->failed++;
	m->fds0 = fd_count(worker);
	m->worker_kb[0] = rss_kb(worker);
	m->master_kb[0] = rss_kb(s->d.pid);
	m->slab_kb[0] = proc_kb("/proc/meminfo", "Slab:");
	n = idle_open(&s->d, worker, m, fds);
	m->accepted = wait_fds(worker, m->fds0 + n, &s->d) - m->fds0;
	if (m->accepted < (int)n)
		m->failed += n - m->accepted;
	n = IDLE_CONNS;
	m->worker_kb[1] = rss_kb(worker);
	m->master_kb[1] = rss_kb(s->d.pid);
	m->slab_kb[1] = proc_kb("/proc/meminfo", "Slab:");
	/* Idle, not dead: every one of them must still echo. */
	m->unechoed = echo_each(fds, n, &s->d);
	idle_close(fds, n);
	(void)wait_fds(worker, m->fds0, &s->d);
	m->worker_kb[2] = rss_kb(worker);
}

static void
idle_report(const struct server *s, const struct idle *m)
{
	int	n = m->accepted > 0 ? m->accepted : 1;
	double	per = (m->worker_kb[1] - m->worker_kb[0]) * 1024.0 / n;
	double	slab = (m->slab_kb[1] - m->slab_kb[0]) * 1024.0 / n;

	printf("BENCH idle-memory %s %.0f bytes/connection in the worker "
	    "(VmRSS %ld kB -> %ld kB with %d idle connections accepted; "
	    "master VmRSS %ld kB -> %ld kB; worker VmRSS after closing them "
	    "%ld kB; kernel slab, both ends, system-wide: %.0f bytes/"
	    "connection; failures: %u not connected or accepted, %u did not "
	    "echo a byte afterwards)\n", s->name, per, m->worker_kb[0],
	    m->worker_kb[1], m->accepted, m->master_kb[0], m->master_kb[1],
	    m->worker_kb[2], slab, m->failed, m->unechoed);
	add_row("idle-memory", s->name, m->failed + m->unechoed,
	    "%.0f B/conn worker, master %ld kB, worker %ld kB", per,
	    m->master_kb[1], m->worker_kb[1]);
}

static void
case_idle(struct server *s)
{
	struct idle	 m;
	pid_t		 worker;
	int		*fds;

	if (raise_nofile(IDLE_CONNS + 256) == -1) {
		printf("BENCH idle-memory %s skipped: cannot raise "
		    "RLIMIT_NOFILE to %d: %s\n", s->name, IDLE_CONNS + 256,
		    strerror(errno));
		add_row("idle-memory", s->name, 0, "skipped: RLIMIT_NOFILE");
		return;
	}
	if (h_children(s->d.pid, &worker, 1) != 1)
		h_die("idle-memory: no worker");
	if ((fds = calloc(IDLE_CONNS, sizeof(*fds))) == NULL)
		h_die("out of memory");
	memset(&m, 0, sizeof(m));
	idle_measure(s, worker, &m, fds);
	idle_report(s, &m);
	free(fds);
}

/* ---- main: the cases, the comparisons, the summary ---- */

/* The defaults: one worker per CPU, 16 KiB buffers, backlog 511. */
#define SPEED_CONF	"listen = [ \"127.0.0.1:%P\" ];\n"
/* One worker holds them all; no idle timeout: idle is what is measured. */
#define LOGGED_CONF	SPEED_CONF "log_connections = true;\n"
#define IDLE_CONF	"listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n" \
			"max_connections = %d;\nidle_timeout = 0;\n" \
			"max_connections_per_client = 0;\n"

/*
 * UDP: datagrams a second, 64 bytes, from several threads at once; the
 * rate limits are off, since every datagram comes from one address.
 */
#define UDP_CONF	"listen = [ \"udp:127.0.0.1:%P\" ];\n" \
			"udp_max_datagrams_per_client = 0;\n" \
			"udp_max_bytes_per_client = 0;\n" \
			"udp_max_datagrams = 0;\n"
#define UDP_THREADS	4
#define UDP_RUN_MS	3000
/* STAMP: 44-byte test packets to a stateful reflector, the same load. */
#define STAMP_CONF	"listen = [ \"stamp:127.0.0.1:%P\" ];\n" \
			"udp_max_datagrams_per_client = 0;\n" \
			"udp_max_bytes_per_client = 0;\n" \
			"udp_max_datagrams = 0;\n"

static void
udp_load(struct server *s, const char *what, bool stamp)
{
	struct bench_udp_result	r;
	struct usage		u;
	double			rate, lost, cpu_us;

	usage_begin(&u, s);
	bench_udp_run(s->d.host, s->d.port, UDP_THREADS, UDP_RUN_MS, stamp,
	    &r);
	usage_end(&u, s);
	rate = r.answered / r.seconds;
	lost = r.sent ? 100.0 * (double)(r.sent - r.answered) / r.sent : 0;
	cpu_us = r.answered ? u.server_ms * 1000.0 / (double)r.answered : 0;
	printf("BENCH %s %s: %.0f datagrams/s answered, %llu sent, %.1f%% "
	    "unanswered, %llu wrong, %d threads, %.1f s, %.2f us server CPU "
	    "each; %s\n", what, s->name, rate, (unsigned long long)r.sent,
	    lost, (unsigned long long)r.wrong, UDP_THREADS, r.seconds, cpu_us,
	    u.text);
	add_row(what, s->name, (unsigned)r.wrong, "%.0f datagrams/s, "
	    "%.1f%% unanswered, server CPU %.0f%% (%.2f us each)", rate, lost,
	    u.server_pct, cpu_us);
}

static void
case_udp(struct server *s)
{
	udp_load(s, "udp-64B", false);
}

static void
case_stamp(struct server *s)
{
	udp_load(s, "stamp-44B", true);
}

struct bcase {
	const char	*what;
	void		(*run)(struct server *);
	bool		 idle;		/* with IDLE_CONF, not SPEED_CONF */
	bool		 compared;	/* with socat and xinetd too */
	bool		 udp;		/* with UDP_CONF */
	bool		 logged;	/* with LOGGED_CONF */
	bool		 stamp;		/* with STAMP_CONF */
};

static void
stream_one(struct server *s)
{
	case_stream(s, 1, "stream-1conn");
}

static void
stream_many(struct server *s)
{
	case_stream(s, STREAM_FLOWS_MAX, "stream-16conn");
}

static const struct bcase bcases[] = {
	{ "stream-1conn", stream_one, false, true, false, false, false },
	{ "stream-16conn", stream_many, false, true, false, false, false },
	{ "conn-rate", case_rate, false, true, false, false, false },
	{ "conn-rate-log", case_rate_logged, false, false, false, true, false },
	{ "ping-pong", case_pingpong, false, false, false, false, false },
	{ "idle-memory", case_idle, true, false, false, false, false },
	{ "udp-64B", case_udp, false, true, true, false, false },
	{ "stamp-44B", case_stamp, false, false, true, false, true },
};

/* Every case gets a fresh server, so its figures are its own. */
static void
run_case(struct server *s, const struct bcase *c)
{
	char		conf[256];
	unsigned	problems;

	if (!server_available(s)) {
		printf("BENCH %s %s skipped: %s is not installed\n", c->what,
		    s->name, s->name);
		add_row(c->what, s->name, 0, "skipped: not installed");
		return;
	}
	s->udp = c->udp;
	if (c->idle)
		snprintf(conf, sizeof(conf), IDLE_CONF, IDLE_CONNS + 1000);
	else if (c->udp)
		snprintf(conf, sizeof(conf), "%s", c->stamp ? STAMP_CONF :
		    UDP_CONF);
	else
		snprintf(conf, sizeof(conf), "%s", c->logged ? LOGGED_CONF :
		    SPEED_CONF);
	if (server_start(s, conf, c->idle ? IDLE_NOFILE : 0) == -1) {
		printf("BENCH %s %s skipped: it did not start (its log is "
		    "above)\n", c->what, s->name);
		add_row(c->what, s->name, 0, "skipped: did not start");
		return;
	}
	c->run(s);
	if ((problems = server_stop(s)) > 0)
		add_row("stop", s->name, problems, "did not stop cleanly");
}

static void
summary(double wall_s)
{
	struct utsname	un;
	int		i;

	uname(&un);
	printf("BENCH summary: %ld CPUs, Linux %s, %.0f s; indicative "
	    "figures, loopback only\n", sysconf(_SC_NPROCESSORS_ONLN),
	    un.release, wall_s);
	printf("BENCH   %-14s %-10s %-68s %s\n", "case", "server", "result",
	    "failures");
	for (i = 0; i < nrows; i++)
		printf("BENCH   %-14s %-10s %-68s %u\n", rows[i].what,
		    rows[i].server, rows[i].figure, rows[i].failures);
	printf("BENCH %s: %u failures\n", failures_total ? "FAIL" : "PASS",
	    failures_total);
}

int
main(void)
{
	struct server	servers[] = {
		{ .kind = SOCKECHOD, .name = "sockechod" },
		{ .kind = SOCAT, .name = "socat" },
		{ .kind = XINETD, .name = "xinetd" },
	};
	uint64_t	t0 = sig_monotonic_ns();
	const char	*only = getenv("BENCH_CASE");	/* one case only */
	size_t		i, j;

	signal(SIGPIPE, SIG_IGN);
	/* What the servers leave behind comes to us, to be counted. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The bytes every flow and session sends: load/'s pattern. */
	if (load_pattern_init() == -1)
		h_die("out of memory");
	for (i = 0; i < nitems(servers); i++)
		for (j = 0; j < nitems(bcases); j++)
			if ((servers[i].kind == SOCKECHOD ||
			    bcases[j].compared) && (only == NULL ||
			    strcmp(only, bcases[j].what) == 0))
				run_case(&servers[i], &bcases[j]);
	summary((sig_monotonic_ns() - t0) / 1e9);
	return failures_total == 0 ? 0 : 1;
}
