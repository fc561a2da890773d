/* SPDX-License-Identifier: ISC */
/*
 * faults.c: the fault-injection suite. It drives continuous load at the
 * real daemon from many concurrent client sessions and injects faults:
 * storms of reloads, SIGKILLed and SIGSTOPped workers, workers that crash
 * at start, SIGTERM under load, TTIN/TTOU storms, workers that retire
 * while their listen queue is full. Each case is bounded in
 * time and prints one "FAULT" line with its counts; the suite fails when a
 * count is not what sockechod promises.
 *
 * A session connects, sends four chunks (of random sizes) 20 ms apart,
 * half-closes, and must read back exactly what it sent, then EOF.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
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
#include <unistd.h>

#include "harness/harness.h"
#include "load/load.h"

#define CONCURRENCY	32
#define CHUNKS		4
#define CHUNK_MAX	4096
#define CHUNK_GAP_MS	20
#define STALL_MS	8000	/* no progress this long: the session timed out */
#define MAX_VICTIMS	256
#define MAX_PORTS	512

/* The client ports that were open on a worker when it was killed. */
struct victim {
	uint64_t	t_ms;
	unsigned	ports[MAX_PORTS];
	int		nports;
};

/* This case's killed workers, and the failures they explain. */
static struct {
	struct victim	v[MAX_VICTIMS];
	int		n;
	unsigned	attributed;	/* failures on a killed worker */
} victims;

static int	failures_total;

/* Four chunks of load/'s pattern, of random sizes. */
static void
prepare(struct load *l, struct load_session *s)
{
	load_random_chunks(l, s, CHUNKS, 256, CHUNK_MAX);
}

/* Was this failed session open on a worker we killed on purpose? */
static void
attribute(struct load *l, const struct load_session *s, enum load_outcome o)
{
	int	v, p;

	(void)l;
	if (o == LOAD_OK)
		return;
	for (v = 0; v < victims.n; v++) {
		if (s->started_ms > victims.v[v].t_ms)
			continue;
		for (p = 0; p < victims.v[v].nports; p++)
			if (victims.v[v].ports[p] == s->lport) {
				victims.attributed++;
				return;
			}
	}
}

static void
start_load(struct load *l, struct daemon *d, unsigned seed)
{
	memset(&victims, 0, sizeof(victims));
	h_load_init(l, d, CONCURRENCY, seed);
	l->chunk_gap_ms = CHUNK_GAP_MS;
	l->stall_ms = STALL_MS;
	l->prepare = prepare;
	l->done = attribute;
}

/* Stop launching and let every session in flight end. */
static void
settle(struct load *l)
{
	load_settle(l, STALL_MS + 2000);
}

static void
report(int n, const char *name, const struct load *l, bool pass,
    const char *fmt, ...)
{
	char	extra[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	printf("FAULT %d %-22s sessions=%u ok=%u failed=%u (on killed "
	    "workers %u) resets=%u refused=%u short=%u timeouts=%u; %s => %s\n",
	    n, name, l->sessions, l->outcome[LOAD_OK],
	    load_failures(l->outcome), victims.attributed,
	    l->outcome[LOAD_RESET],
	    l->outcome[LOAD_REFUSED], l->outcome[LOAD_SHORT],
	    l->outcome[LOAD_TIMEOUT], extra, pass ? "PASS" : "FAIL");
	if (!pass) {
		int i;

		failures_total++;
		for (i = LOAD_OK + 1; i < LOAD_NOUTCOMES; i++)
			if (l->outcome[i])
				printf("      %s: %u\n", load_outcome_names[i],
				    l->outcome[i]);
		h_log_dump(h_load_daemon(l));
	}
	fflush(stdout);
}

static void
start_daemon(struct daemon *d, const char *body)
{
	h_init(d);
	if (h_start_config(d, "%s", body) != 0) {
		h_log_dump(d);
		h_die("sockechod did not start");
	}
}

static int
children(pid_t pid, pid_t *v, int max)
{
	int	n = h_children(pid, v, max);

	return n < 0 ? 0 : n;
}

/* The sockets of the system: inode, and local and remote port. */
struct tcpsock {
	unsigned long	inode;
	unsigned	lport;
	unsigned	rport;
};

/*
 * Read /proc/net/tcp{,6} once per snapshot (it can hold many thousands of
 * TIME_WAIT sockets after a benchmark); returns how many sockets have
 * "port" at one end.
 */
static size_t
read_tcp_table(struct tcpsock **out, unsigned port)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	struct tcpsock	*v = NULL, *nv;
	char		 line[512], local[64], remote[64], hexport[8], *c1, *c2;
	size_t		 n = 0, cap = 0, i;
	unsigned long	 ino;
	FILE		*fp;

	/* Other tests' thousands of sockets: skip their lines unparsed. */
	snprintf(hexport, sizeof(hexport), ":%04X ", port);
	for (i = 0; i < 2; i++) {
		if ((fp = fopen(files[i], "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strstr(line, hexport) == NULL)
				continue;
			if (sscanf(line, "%*d: %63s %63s %*x %*s %*s %*s %*u "
			    "%*d %lu", local, remote, &ino) != 3 || ino == 0 ||
			    (c1 = strrchr(local, ':')) == NULL ||
			    (c2 = strrchr(remote, ':')) == NULL)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
					break;
				v = nv;
			}
			v[n++] = (struct tcpsock){ ino, strtoul(c1 + 1, NULL, 16),
			    strtoul(c2 + 1, NULL, 16) };
		}
		fclose(fp);
	}
	*out = v;
	return n;
}

/* Remember the client ports of the sessions open on a (stopped) worker. */
static void
snapshot_victim(const struct load *l, pid_t pid)
{
	struct tcpsock	*tcp;
	struct victim	*v;
	struct dirent	*de;
	char		 path[64], link[128], fdpath[320];
	unsigned long	 inode;
	size_t		 ntcp, i;
	DIR		*dir;
	ssize_t		 n;

	if (victims.n >= MAX_VICTIMS)
		return;
	v = &victims.v[victims.n++];
	v->t_ms = sig_monotonic_ms();
	v->nports = 0;
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	ntcp = read_tcp_table(&tcp, h_load_daemon(l)->port);
	while ((de = readdir(dir)) != NULL && v->nports < MAX_PORTS) {
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		if ((n = readlink(fdpath, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		for (i = 0; i < ntcp; i++)
			if (tcp[i].inode == inode &&
			    tcp[i].lport == h_load_daemon(l)->port) {
				v->ports[v->nports++] = tcp[i].rport;
				break;
			}
	}
	closedir(dir);
	free(tcp);
}

/* Stop a worker, note its sessions, kill it: its failures are expected. */
static void
kill_worker(struct load *l, pid_t pid)
{
	kill(pid, SIGSTOP);
	snapshot_victim(l, pid);
	kill(pid, SIGKILL);
}

static bool
wait_pool(pid_t master, int n, int timeout_ms)
{
	return h_wait_children(master, n, timeout_ms) == 0;
}

/* ---- case 1: 20 reloads in 10 s, alternating worker counts ---- */

struct reloads {
	uint64_t	next_ms;
	int		done;
};

static const char *const reload_configs[] = {
	"listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\nshutdown_timeout = 10;\n",
	"listen = [ \"127.0.0.1:%P\" ];\nworkers = 3;\nshutdown_timeout = 10;\n",
};

static void
reload_tick(struct load *l, void *arg)
{
	struct reloads	*r = arg;

	if (r->done >= 20 || sig_monotonic_ms() < r->next_ms)
		return;
	r->done++;
	h_write_config(h_load_daemon(l), "%s", reload_configs[r->done % 2]);
	kill(h_load_daemon(l)->pid, SIGHUP);
	r->next_ms = sig_monotonic_ms() + 500;
}

static void
case_reloads(void)
{
	struct reloads	r = { 0, 0 };
	struct daemon	d;
	struct load	l;
	int		reloaded;
	bool		pass;

	start_daemon(&d, reload_configs[0]);
	start_load(&l, &d, 1);
	r.next_ms = sig_monotonic_ms() + 250;
	load_run_for(&l, 10000, reload_tick, &r);
	settle(&l);
	h_log_wait_count(&d, "configuration reloaded", 20, 5000);
	reloaded = h_log_count(&d, "configuration reloaded");
	pass = load_failures(l.outcome) == 0 && r.done == 20 &&
	    reloaded == 20 && l.sessions > 1000;
	report(1, "reload storm", &l, pass, "reloads=%d completed=%d",
	    r.done, reloaded);
	load_free(&l);
	h_cleanup(&d);
}

/*
 * ---- case 2: SIGKILL a random worker every 200 ms, 50 times ----
 * Until 50 kills, not for a fixed 10 s: on a loaded machine respawns are
 * slower and a round without a live worker kills nothing (bounded at 30 s).
 */

struct killer {
	uint64_t	next_ms;
	int		kills;
};

static void
kill_tick(struct load *l, void *arg)
{
	struct killer	*k = arg;
	pid_t		 v[64];
	int		 n;

	if (k->kills >= 50 || sig_monotonic_ms() < k->next_ms)
		return;
	/* Every 200 ms on the clock: a slow round must not thin the storm. */
	k->next_ms += 200;
	if ((n = children(h_load_daemon(l)->pid, v, 64)) == 0)
		return;
	kill_worker(l, v[rand_r(&l->seed) % n]);
	k->kills++;
}

static void
case_kill_storm(void)
{
	struct killer	k = { 0, 0 };
	struct daemon	d;
	struct load	l;
	uint64_t	t0;
	bool		pool, pass;

	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 3;\n");
	start_load(&l, &d, 2);
	k.next_ms = sig_monotonic_ms() + 200;
	for (t0 = sig_monotonic_ms(); k.kills < 50 &&
	    sig_monotonic_ms() - t0 < 30000;)
		load_run_for(&l, 200, kill_tick, &k);
	t0 = sig_monotonic_ms() - t0;
	settle(&l);
	pool = wait_pool(d.pid, 3, 5000);
	pass = load_failures(l.outcome) == victims.attributed &&
	    l.outcome[LOAD_REFUSED] == 0 && pool &&
	    k.kills == 50 && l.sessions > 200;
	report(2, "SIGKILL storm", &l, pass, "kills=%d in %.1f s, pool back "
	    "to 3: %s", k.kills, (double)t0 / 1000,
	    pool ? "yes" : "no");
	load_free(&l);
	h_cleanup(&d);
}

/* ---- case 3: SIGSTOP a worker; replaced within worker_timeout + 1 s ---- */

static void
case_sigstop(void)
{
	struct daemon	d;
	struct load	l;
	pid_t		v[8], now[8], victim;
	uint64_t	t0, replaced_ms = 0;
	int		n;
	bool		pass;

	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "worker_timeout = 2;\n");
	start_load(&l, &d, 3);
	load_run_for(&l, 1000, NULL, NULL);
	if (children(d.pid, v, 8) != 2)
		h_die("case 3: no pool");
	victim = v[0];
	kill(victim, SIGSTOP);
	snapshot_victim(&l, victim);
	t0 = sig_monotonic_ms();
	while (sig_monotonic_ms() - t0 < 10000) {
		load_step(&l, 5);
		n = children(d.pid, now, 8);
		if (n == 2 && !h_has_pid(now, n, victim)) {
			replaced_ms = sig_monotonic_ms() - t0;
			break;
		}
	}
	load_run_for(&l, 1000, NULL, NULL);
	settle(&l);
	pass = replaced_ms > 0 && replaced_ms <= 3000 &&
	    load_failures(l.outcome) == victims.attributed && l.sessions > 200;
	report(3, "SIGSTOP worker", &l, pass, "worker_timeout=2000 ms "
	    "replaced after %llu ms (limit 3000)",
	    (unsigned long long)replaced_ms);
	load_free(&l);
	h_cleanup(&d);
}

/* ---- case 4: workers that crash at start ---- */

static void
case_crash_at_start(void)
{
	struct daemon	d;
	struct load	l;
	char		record[256], line[64], gaps[256];
	uint64_t	t[256], prev;
	unsigned long	cpu;
	int		n = 0, lines, g = 0, i, off = 0;
	FILE		*fp;
	bool		growing = true, pass;

	h_init(&d);
	d.binary = h_env("SOCKECHOD_FAULTY", "./sockechod-faulty");
	d.no_wait_ready = true;
	snprintf(record, sizeof(record), "%s/crashes", d.dir);
	setenv("SOCKECHOD_FAULT", "crash-at-start", 1);
	setenv("SOCKECHOD_FAULT_RECORD", record, 1);
	h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\nworkers = 2;\n");
	if (h_start(&d) != 0)
		h_die("case 4: cannot start");
	unsetenv("SOCKECHOD_FAULT");
	unsetenv("SOCKECHOD_FAULT_RECORD");
	start_load(&l, &d, 4);
	l.launching = false;	/* nobody can serve: no load to measure */
	load_run_for(&l, 10000, NULL, NULL);
	cpu = h_cpu_ms(d.pid, true);
	lines = h_log_count(&d, "\n");
	if ((fp = fopen(record, "r")) != NULL) {
		while (n < 256 && fgets(line, sizeof(line), fp) != NULL)
			t[n++] = strtoull(line, NULL, 10);
		fclose(fp);
	}
	/* Crashes come in rounds (one per worker); rounds grow apart. */
	prev = 0;
	for (i = 1; i < n; i++) {
		uint64_t gap = t[i] - t[i - 1];

		if (gap < 50)
			continue;	/* same round */
		if (gap + 50 < prev)
			growing = false;
		prev = gap;
		if (off < (int)sizeof(gaps) - 16)
			off += snprintf(gaps + off, sizeof(gaps) - off, "%s%llu",
			    g++ ? "," : "", (unsigned long long)gap);
	}
	gaps[off] = '\0';
	pass = n >= 4 && n <= 40 && growing && prev >= 1500 && lines <= 25 &&
	    cpu <= 500 && h_log_has(&d, "respawning with a delay that grows");
	report(4, "crash at start", &l, pass, "crashes=%d in 10 s, respawn gaps "
	    "ms=[%s], log lines=%d, CPU=%lu ms", n, gaps, lines, cpu);
	load_free(&l);
	h_cleanup(&d);
}

/* ---- case 5: SIGTERM under load ---- */

#define QUEUED	8	/* clients waiting in the listen queue at SIGTERM */

/* Connect and send one short message each, half-closed; count them. */
static int
queue_clients(struct daemon *d, int *fd, int n)
{
	char	msg[16];
	int	i;

	for (i = 0; i < n; i++) {
		if ((fd[i] = h_connect(d->host, d->port, 2000)) == -1)
			break;
		snprintf(msg, sizeof(msg), "queued %04d", i);
		if (h_send_all(fd[i], msg, 11, 2000) != 0 ||
		    shutdown(fd[i], SHUT_WR) == -1) {
			close(fd[i]);
			break;
		}
	}
	return i;
}

/* How many queued clients got exactly their message back, then EOF. */
static int
queued_served(int *fd, int n)
{
	char	msg[16], in[16];
	int	i, ok = 0;

	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "queued %04d", i);
		if (h_recv_n(fd[i], in, 11, 10000) == 11 &&
		    memcmp(in, msg, 11) == 0 && h_recv_eof(fd[i], 5000) == 0)
			ok++;
		close(fd[i]);
	}
	return ok;
}

static void
case_sigterm(void)
{
	struct daemon	d;
	struct load	l;
	pid_t		v[8], pid;
	uint64_t	t0;
	int		nkids, status, code, left = 0, i, inflight;
	int		qfd[QUEUED], queued, served;
	bool		pass;

	while (waitpid(-1, &status, WNOHANG) > 0)
		continue;	/* orphans of earlier cases */
	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "shutdown_timeout = 20;\n");
	start_load(&l, &d, 5);
	load_run_for(&l, 2000, NULL, NULL);
	nkids = children(d.pid, v, 8);
	/* Sessions in flight: every one launched, once it has connected. */
	l.launching = false;
	t0 = sig_monotonic_ms();
	while (load_count(&l, LOAD_CONNECTING) > 0 && sig_monotonic_ms() - t0 < 2000)
		load_step(&l, 1);
	inflight = load_active(&l);
	/*
	 * Clients in the listen queue at SIGTERM are in flight too: stop the
	 * workers, queue some, and let the workers go once the drain began.
	 */
	for (i = 0; i < nkids; i++)
		kill(v[i], SIGSTOP);
	queued = queue_clients(&d, qfd, QUEUED);
	kill(d.pid, SIGTERM);
	(void)h_log_wait(&d, "stopping: draining", 5000);
	for (i = 0; i < nkids; i++)
		kill(v[i], SIGCONT);
	settle(&l);
	served = queued_served(qfd, queued);
	code = h_wait_exit(&d, 25000);
	/* A worker the master did not reap would be our orphan now. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (h_has_pid(v, nkids, pid))
			left++;
	for (i = 0; i < nkids; i++)
		if (kill(v[i], 0) == 0)
			left++;
	pass = load_failures(l.outcome) == 0 && code == 0 && left == 0 &&
	    inflight > 0 && queued == QUEUED && served == queued;
	report(5, "SIGTERM under load", &l, pass, "in flight at SIGTERM=%d, "
	    "queued=%d served=%d, exit status %d, processes left %d", inflight,
	    queued, served, code, left);
	load_free(&l);
	h_cleanup(&d);
}

/* ---- case 6: TTIN/TTOU storm ---- */

struct storm {
	uint64_t	next_ms;
	int		sent;
};

static void
storm_tick(struct load *l, void *arg)
{
	struct storm	*s = arg;

	if (s->sent >= 60 || sig_monotonic_ms() < s->next_ms)
		return;
	kill(h_load_daemon(l)->pid, rand_r(&l->seed) % 2 ? SIGTTIN : SIGTTOU);
	s->sent++;
	s->next_ms = sig_monotonic_ms() + 50;
}

/* The master's own count, from the SIGUSR1 table. */
static int
wanted_workers(struct daemon *d)
{
	char		line[512];
	unsigned	gen;
	int		before, n;

	before = h_log_count(d, "status: generation");
	kill(d->pid, SIGUSR1);
	if (h_log_wait_count(d, "status: generation", before + 1, 5000) != 0 ||
	    h_log_last(d, "status: generation", line, sizeof(line)) != 0)
		return -1;
	if (sscanf(strstr(line, "status: generation"), "status: generation "
	    "%u, %d workers wanted", &gen, &n) != 2)
		return -1;
	return n;
}

static void
case_resize_storm(void)
{
	struct storm	s = { 0, 0 };
	struct daemon	d;
	struct load	l;
	int		wanted, n = 0;
	pid_t		v[600];
	bool		converged, pass;

	start_daemon(&d, "listen = [ \"127.0.0.1:%P\" ];\nworkers = 3;\n");
	start_load(&l, &d, 6);
	s.next_ms = sig_monotonic_ms() + 200;
	load_run_for(&l, 4000, storm_tick, &s);
	settle(&l);
	wanted = wanted_workers(&d);
	converged = wanted > 0 && wait_pool(d.pid, wanted, 10000);
	n = children(d.pid, v, 600);
	pass = load_failures(l.outcome) == 0 && converged && s.sent == 60;
	report(6, "TTIN/TTOU storm", &l, pass, "signals=%d wanted=%d "
	    "processes=%d converged=%s", s.sent, wanted, n,
	    converged ? "yes" : "no");
	load_free(&l);
	h_cleanup(&d);
}

/* ---- case 7: workers retire while their listen queue is full ---- */

#define RETIRE_BACKLOG		23	/* 24 queued at most: 2 x 4 + 24 = 32 */
#define RETIRE_AFTER		25	/* max_connections_per_worker */

/* The listening socket's accept queue, from /proc/net/tcp ("rx_queue"). */
static int
listen_queue(unsigned port)
{
	char		 line[512], want[40], *st;
	unsigned	 txq, rxq;
	FILE		*fp;
	int		 q = -1;

	snprintf(want, sizeof(want), ":%04X 00000000:0000 0A ", port);
	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if ((st = strstr(line, want)) != NULL &&
		    sscanf(st + strlen(want), "%x:%x", &txq, &rxq) == 2)
			q = (int)rxq;
	fclose(fp);
	return q;
}

struct queue_watch {
	int	most;		/* the longest queue seen */
	int	full;		/* samples with the queue full */
};

static void
queue_tick(struct load *l, void *arg)
{
	struct queue_watch	*qw = arg;
	int			 q = listen_queue(h_load_daemon(l)->port);

	if (q > qw->most)
		qw->most = q;
	if (q >= RETIRE_BACKLOG)
		qw->full++;
}

static void
case_retire_queue_full(void)
{
	struct queue_watch	qw = { 0, 0 };
	struct daemon		d;
	struct load		l;
	char			body[512];
	int			retired;
	bool			pass;

	snprintf(body, sizeof(body), "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = 2;\nmax_connections = 4;\nbacklog = %d;\n"
	    "max_connections_per_client = 0;\n"
	    "max_connections_per_worker = %d;\nshutdown_timeout = 20;\n",
	    RETIRE_BACKLOG, RETIRE_AFTER);
	start_daemon(&d, body);
	start_load(&l, &d, 7);
	load_run_for(&l, 10000, queue_tick, &qw);
	settle(&l);
	retired = h_log_count(&d, "reached its max_connections_per_worker");
	/* A loaded machine serves fewer sessions: ask for 3 retirements. */
	pass = load_failures(l.outcome) == 0 && retired >= 3 &&
	    qw.full > 0 && l.sessions >= 3 * RETIRE_AFTER;
	report(7, "retire, queue full", &l, pass, "retired=%d, listen queue "
	    "up to %d of %d (full in %d samples)", retired, qw.most,
	    RETIRE_BACKLOG, qw.full);
	load_free(&l);
	h_cleanup(&d);
}

int
main(int argc, char *argv[])
{
	static void (*const cases[])(void) = { case_reloads, case_kill_storm,
	    case_sigstop, case_crash_at_start, case_sigterm,
	    case_resize_storm, case_retire_queue_full };
	int	i, only = argc > 1 ? atoi(argv[1]) : 0;

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < (int)nitems(cases); i++)
		if (only == 0 || only == i + 1)
			cases[i]();
	printf("FAULT summary: %d of %d cases failed\n", failures_total,
	    only ? 1 : (int)nitems(cases));
	return failures_total == 0 ? 0 : 1;
}
