/* SPDX-License-Identifier: ISC */
/*
 * load_proc.c: the server under test as a process tree: start it in a
 * process group of its own, wait until it listens, read its CPU time,
 * memory and descriptors from /proc, and stop everything it started.
 * It drives no traffic.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define STOP_WAIT_MS	5000
#define PEER_STOP_WAIT_MS	1000
#define POLL_US		10000	/* how often a wait looks again */

/* The ppid of every process in /proc (a snapshot). */
static int
procs_all(struct procs *all)
{
	char		 path[300], buf[512], *p;
	struct dirent	*de;
	DIR		*dir;
	FILE		*fp;

	all->n = 0;
	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL && all->n < LOAD_PROCS_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), fp) ? strrchr(buf, ')') : NULL;
		fclose(fp);
		if (p == NULL)
			continue;
		all->pid[all->n] = atoi(de->d_name);
		all->ppid[all->n++] = atoi(p + 4);	/* ") S PPID" */
	}
	closedir(dir);
	return 0;
}

static unsigned
fd_total(pid_t pid)
{
	char		 path[64];
	struct dirent	*de;
	DIR		*dir;
	unsigned	 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Its sockets: Go's splice pipes and the like are not connections. */
static unsigned
socket_count(pid_t pid)
{
	char		 path[300], link[64];
	struct dirent	*de;
	DIR		*dir;
	unsigned	 n = 0;
	ssize_t		 len;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid,
		    de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		n += len > 7 && strncmp(link, "socket:", 7) == 0;
	}
	closedir(dir);
	return n;
}

/* root and its descendants, parents before children; fds if asked. */
int
procs_read(pid_t root, struct procs *t, bool fds)
{
	static struct procs	all;
	int			i, j;

	if (procs_all(&all) == -1)
		return -1;
	t->n = 1;
	t->pid[0] = root;
	t->ppid[0] = 0;
	for (i = 0; i < t->n; i++)
		for (j = 0; j < all.n && t->n < LOAD_PROCS_MAX; j++)
			if (all.ppid[j] == t->pid[i]) {
				t->pid[t->n] = all.pid[j];
				t->ppid[t->n++] = t->pid[i];
			}
	for (i = 0; i < t->n; i++)
		t->fds[i] = fds ? socket_count(t->pid[i]) : 0;
	return 0;
}

/* Its soft RLIMIT_NOFILE, from /proc/PID/limits; 0 if unknown. */
static unsigned
nofile_limit(pid_t pid)
{
	char		 path[64], line[256];
	unsigned	 n = 0;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Max open files %u", &n) == 1)
			break;
	fclose(fp);
	return n;
}

/* Some process of root's tree has (nearly) all the descriptors it may. */
bool
procs_at_fd_limit(pid_t root)
{
	static struct procs	t;
	unsigned		lim;
	int			i;

	if (procs_read(root, &t, false) == -1)
		return false;
	for (i = 0; i < t.n; i++) {
		lim = nofile_limit(t.pid[i]);
		if (lim > 0 && fd_total(t.pid[i]) + 8 >= lim)
			return true;
	}
	return false;
}

bool
procs_has_children(const struct procs *t, int i)
{
	int	j;

	for (j = 0; j < t->n; j++)
		if (t->ppid[j] == t->pid[i])
			return true;
	return false;
}

/*
 * The run time of pid's live threads in ns: the first field of each
 * /proc/PID/task/TID/schedstat. utime and stime come in clock ticks
 * (10 ms), too coarse for a cell of 1 s.
 */
static uint64_t
run_ns(pid_t pid)
{
	unsigned long long	 ns;
	char			 path[300];
	struct dirent		*de;
	DIR			*dir;
	FILE			*fp;
	uint64_t		 sum = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
		    (int)pid, de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(fp, "%llu", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(dir);
	return sum;
}

/*
 * The CPU time of the children pid has reaped (cutime and cstime, in
 * ns): what a process that exited during a cell (xinetd's and socat's
 * child per connection) ran. The kernel adds them up in ns and shows
 * the sum in ticks, so this is off by less than one tick.
 */
static uint64_t
reaped_ns(pid_t pid)
{
	unsigned long long	 cu, cs;
	char			 path[64], buf[1024], *p;
	FILE			*fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), fp) ? strrchr(buf, ')') : NULL;
	fclose(fp);
	/* Fields 16 and 17; p is at the end of field 2. */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %*u %*u %llu %llu", &cu, &cs) != 2)
		return 0;
	return (cu + cs) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* What a live process ran, and what its reaped children did. */
static uint64_t
cpu_ns(pid_t pid)
{
	return run_ns(pid) + reaped_ns(pid);
}

static uint64_t
rss_kb(pid_t pid)
{
	char		 path[64], line[256];
	unsigned long	 kb = 0;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %lu", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/* f of every process in root's tree, added up. */
static uint64_t
procs_sum(pid_t root, uint64_t (*f)(pid_t))
{
	static struct procs	t;
	uint64_t		sum = 0;
	int			i;

	if (procs_read(root, &t, false) == -1)
		return 0;
	for (i = 0; i < t.n; i++)
		sum += f(t.pid[i]);
	return sum;
}

uint64_t
procs_cpu_ns(pid_t root)
{
	return procs_sum(root, cpu_ns);
}

uint64_t
procs_rss_kb(pid_t root)
{
	return procs_sum(root, rss_kb);
}

/*
 * Listening is not serving yet: wait (up to 5 s) until the server's
 * processes and their sockets have not changed for 100 ms, so that
 * a baseline taken now holds every worker.
 */
void
procs_settle(pid_t root)
{
	static struct procs	t;
	uint64_t		now, end, stable;
	unsigned		sum, last = 0;
	int			i;

	end = sig_monotonic_ns() + 5000 * 1000000ULL;
	stable = sig_monotonic_ns();
	while ((now = sig_monotonic_ns()) < end) {
		if (procs_read(root, &t, true) == -1)
			return;
		for (sum = t.n, i = 0; i < t.n; i++)
			sum += t.fds[i] << 12;
		if (sum != last) {
			last = sum;
			stable = now;
		} else if (now - stable >= 100 * 1000000ULL)
			return;
		usleep(POLL_US);
	}
}

/* The server in a process group of its own, killed if we die. */
pid_t
server_spawn(const struct opts *o)
{
	pid_t	pid;
	int	fd;

	/* What the server orphans is ours to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if ((pid = fork()) == -1) {
		load_warn("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	signal(SIGPIPE, SIG_DFL);
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "bench/load: %s: %s\n", o->argv[0], strerror(errno));
	_exit(127);
}

/* Connect until it works, the server exits, or ms pass. */
int
server_wait_listening(pid_t pid, const struct sockaddr_in *dst, unsigned ms)
{
	uint64_t	end = sig_monotonic_ns() + ms * 1000000ULL;
	int		fd, status;

	while (sig_monotonic_ns() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return -1;
		if ((fd = load_connect(dst, NULL, false)) != -1) {
			close(fd);
			return 0;
		}
		usleep(POLL_US);
	}
	return -1;
}

static bool
reap_until(pid_t pid, uint64_t end)
{
	pid_t	r;
	int	status;

	for (;;) {
		/* ECHILD: reaped already, when it died before listening. */
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r == -1 && errno == ECHILD))
			return true;
		if (sig_monotonic_ns() >= end)
			return false;
		usleep(POLL_US);
	}
}

/*
 * SIGTERM to the group, SIGKILL to whatever is left after 5 s (1 s for a
 * peer, whose way of stopping is not measured), then reap every child we
 * have (subreaper). -1 if sockechod needed the SIGKILL.
 */
int
server_stop(pid_t pid, bool kill_ok)
{
	unsigned	ms = kill_ok ? PEER_STOP_WAIT_MS : STOP_WAIT_MS;
	bool		clean;

	kill(-pid, SIGTERM);
	clean = reap_until(pid, sig_monotonic_ns() + ms * 1000000ULL);
	kill(-pid, SIGKILL);
	if (!clean) {
		if (!kill_ok)
			load_warn("server %d: still running %u ms after "
			    "SIGTERM", (int)pid, ms);
		waitpid(pid, NULL, 0);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	return clean || kill_ok ? 0 : -1;
}
