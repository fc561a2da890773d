/* SPDX-License-Identifier: ISC */
/*
 * harness.c: the integration tests' view of a running sockechod. Each
 * daemon gets a private directory, a config file, a log file for its
 * stderr, and a NOTIFY_SOCKET owned by the test (as systemd would).
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

uint64_t
h_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining(uint64_t deadline)
{
	uint64_t	now = h_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* A test program that cannot go on: say why, exit 99 (a hard error). */
void
h_die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(99);
}

const char *
h_env(const char *name, const char *fallback)
{
	const char	*v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

void
h_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->notify_fd = -1;
	d->listen_fd = -1;
	d->pid = -1;
	d->binary = h_env("SOCKECHOD", "../src/sockechod");
	snprintf(d->dir, sizeof(d->dir), "%s/sockechod-test.XXXXXX",
	    h_env("TMPDIR", "/tmp"));
	if (mkdtemp(d->dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(d->conf, sizeof(d->conf), "%s/sockecho.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
	snprintf(d->host, sizeof(d->host), "127.0.0.1");
}

/*
 * A free port below the kernel's range of ephemeral ports (32768 and up
 * here), so that no client connection of a test running in parallel can
 * be holding it; bind() says whether another test's daemon does.
 */
#define PORT_LOW	20000
#define PORT_SPAN	12000

unsigned
h_free_port(const char *host)
{
	static unsigned	 seed;
	struct addrinfo	 hints, *res;
	char		 service[16];
	unsigned	 port = 0, tries;
	int		 fd, one = 1;

	if (seed == 0)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)h_now_ms();
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	for (tries = 0; tries < 100 && port == 0; tries++) {
		snprintf(service, sizeof(service), "%u",
		    PORT_LOW + rand_r(&seed) % PORT_SPAN);
		if (getaddrinfo(host, service, &hints, &res) != 0)
			return 0;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0)
			port = (unsigned)atoi(service);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
	}
	return port;
}

static int
write_file(const char *path, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* Write the config file; %P in the text stands for the daemon's port. */
int
h_write_config(struct daemon *d, const char *fmt, ...)
{
	char	body[8192], out[8192 + 512], port[16];
	char	*p, *o = out;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (d->port == 0)
		d->port = h_free_port(d->host);
	snprintf(port, sizeof(port), "%u", d->port);
	for (p = body; *p != '\0' && o < out + sizeof(out) - 16; p++) {
		if (p[0] == '%' && p[1] == 'P') {
			o += snprintf(o, out + sizeof(out) - o, "%s", port);
			p++;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return write_file(d->conf, out);
}

static int
notify_open(struct daemon *d)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			one = 1;

	if (d->notify_fd >= 0)
		return 0;
	snprintf(d->notify_name, sizeof(d->notify_name),
	    "sockechod-test-%ld-%llu", (long)getpid(),
	    (unsigned long long)h_now_ms());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, d->notify_name, strlen(d->notify_name));
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(d->notify_name);
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->notify_fd == -1 ||
	    setsockopt(d->notify_fd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)) == -1 ||
	    bind(d->notify_fd, (struct sockaddr *)&sun, len) == -1)
		return -1;
	return 0;
}

static void
child_exec(struct daemon *d, const char *argv[])
{
	struct passwd	*pw;
	char		 notify[80], pid[32];
	int		 fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, STDIN_FILENO);
	snprintf(notify, sizeof(notify), "@%s", d->notify_name);
	setenv("NOTIFY_SOCKET", notify, 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (d->listen_fd >= 0) {
		if (dup2(d->listen_fd, 3) == -1)
			_exit(126);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDNAMES", "echo", 1);
	}
	if (d->watchdog_usec != NULL) {
		setenv("WATCHDOG_USEC", d->watchdog_usec, 1);
		setenv("WATCHDOG_PID", pid, 1);
	}
	if (d->nofile > 0) {
		struct rlimit rl = { d->nofile, d->nofile };

		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			_exit(126);
	}
	if (d->as_nobody) {
		if ((pw = getpwnam("nobody")) == NULL ||
		    setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(126);
	}
	execv(d->binary, (char *const *)argv);
	_exit(127);
}

/* READY=1 from the daemon, or -1 as soon as it has exited or timed out. */
static int
wait_ready(struct daemon *d)
{
	uint64_t	deadline = h_now_ms() + H_START_MS;

	while (remaining(deadline) > 0) {
		if (h_notify_wait(d, "READY=1", 100, NULL, 0, NULL) == 0)
			return 0;
		if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
			d->reaped = true;
			return -1;
		}
	}
	return -1;
}

int
h_start(struct daemon *d)
{
	const char	*argv[24];
	size_t		 n = 0, i;

	if (notify_open(d) == -1)
		return -1;
	argv[n++] = d->binary;
	argv[n++] = "-c";
	argv[n++] = d->conf;
	for (i = 0; d->argv[i] != NULL && n < 22; i++)
		argv[n++] = d->argv[i];
	argv[n] = NULL;
	if (d->as_nobody) {
		chmod(d->dir, 0755);
		chmod(d->conf, 0644);
	}
	d->reaped = false;
	if ((d->pid = fork()) == -1)
		return -1;
	if (d->pid == 0)
		child_exec(d, argv);
	if (d->no_wait_ready)
		return 0;
	return wait_ready(d);
}

/*
 * Write the config and start. When the port was ours to choose ("%P")
 * and another test took it meanwhile (the daemon exits 71 at once), try
 * again with another port.
 */
int
h_start_config(struct daemon *d, const char *fmt, ...)
{
	char	body[8192];
	va_list	ap;
	int	tries;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	for (tries = 0; tries < 5; tries++) {
		if (h_write_config(d, "%s", body) == -1)
			return -1;
		if (h_start(d) == 0)
			return 0;
		if (strstr(body, "%P") == NULL || h_wait_exit(d, 1000) != 71 ||
		    !h_log_has(d, "Address already in use"))
			return -1;
		d->port = 0;
	}
	return -1;
}

/*
 * Wait for a notification datagram containing "needle". Returns 0 and
 * the message and its sender's pid, or -1 when the deadline passes.
 */
int
h_notify_wait(struct daemon *d, const char *needle, int timeout_ms, char *msg,
    size_t size, pid_t *sender)
{
	char		 buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec	 iov = { buf, sizeof(buf) - 1 };
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	struct ucred	 cred;
	struct pollfd	 pfd = { d->notify_fd, POLLIN, 0 };
	uint64_t	 deadline = h_now_ms() + timeout_ms;
	ssize_t		 n;

	while (remaining(deadline) > 0) {
		if (poll(&pfd, 1, remaining(deadline)) <= 0)
			continue;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(d->notify_fd, &mh, MSG_DONTWAIT)) <= 0)
			continue;
		buf[n] = '\0';
		memset(&cred, 0, sizeof(cred));
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
		if (cred.pid != d->pid)
			d->foreign_notify++;
		if (strstr(buf, needle) == NULL)
			continue;
		if (msg != NULL)
			snprintf(msg, size, "%s", buf);
		if (sender != NULL)
			*sender = cred.pid;
		return 0;
	}
	return -1;
}

/*
 * Read and forget the notifications waiting, as systemd would read them:
 * the master's sd_notify() blocks when nobody reads its socket.
 */
void
h_notify_drain(struct daemon *d)
{
	char	buf[4096];

	while (d->notify_fd >= 0 &&
	    recv(d->notify_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		continue;
}

/* The daemon's exit status (0..255, or 128+signal), -1 on timeout. */
int
h_wait_exit(struct daemon *d, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + timeout_ms;
	pid_t		r;

	if (d->pid <= 0)
		return -1;
	while (!d->reaped) {
		r = waitpid(d->pid, &d->status, WNOHANG);
		if (r == d->pid) {
			d->reaped = true;
			break;
		}
		if (remaining(deadline) == 0)
			return -1;
		usleep(10000);	/* a poll of waitpid, not a guess */
	}
	if (WIFEXITED(d->status))
		return WEXITSTATUS(d->status);
	return 128 + WTERMSIG(d->status);
}

int
h_stop(struct daemon *d, int sig, int timeout_ms)
{
	if (d->pid > 0 && !d->reaped)
		kill(d->pid, sig);
	return h_wait_exit(d, timeout_ms);
}

void
h_cleanup(struct daemon *d)
{
	char	cmd[256];

	if (d->pid > 0 && !d->reaped) {
		kill(d->pid, SIGKILL);
		h_wait_exit(d, 5000);
	}
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	if (getenv("SOCKECHOD_TEST_KEEP") == NULL && d->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		(void)!system(cmd);
	}
}

static char *
read_log(struct daemon *d)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 c;

	if ((fp = fopen(d->log, "r")) == NULL)
		return strdup("");
	FILE *mem = open_memstream(&buf, &len);
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(fp);
	return buf;
}

bool
h_log_has(struct daemon *d, const char *needle)
{
	char	*log = read_log(d);
	bool	 found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

int
h_log_count(struct daemon *d, const char *needle)
{
	char	*log = read_log(d), *p = log;
	int	 n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	free(log);
	return n;
}

int
h_log_wait(struct daemon *d, const char *needle, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + timeout_ms;

	do {
		if (h_log_has(d, needle))
			return 0;
		usleep(20000);
	} while (remaining(deadline) > 0);
	return -1;
}

/* Wait until "needle" appears at least "count" times. */
int
h_log_wait_count(struct daemon *d, const char *needle, int count,
    int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + timeout_ms;

	do {
		if (h_log_count(d, needle) >= count)
			return 0;
		usleep(20000);
	} while (remaining(deadline) > 0);
	return -1;
}

/* The last log line that contains "needle". */
int
h_log_last(struct daemon *d, const char *needle, char *line, size_t size)
{
	char	*log = read_log(d), *p, *found = NULL, *end;

	for (p = log; (p = strstr(p, needle)) != NULL; p++)
		found = p;
	if (found == NULL) {
		free(log);
		return -1;
	}
	while (found > log && found[-1] != '\n')
		found--;
	end = strchr(found, '\n');
	snprintf(line, size, "%.*s", end ? (int)(end - found) : (int)strlen(found),
	    found);
	free(log);
	return 0;
}

void
h_log_dump(struct daemon *d)
{
	char	*log = read_log(d);

	fprintf(stderr, "---- %s ----\n%s---- end ----\n", d->log, log);
	free(log);
}

static int
connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
    int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	elen = sizeof(int);
	int		err = 0, flags;

	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, sa, len) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		if (poll(&pfd, 1, timeout_ms) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

/* A blocking, connected socket, or -1 with errno. */
int
h_connect(const char *host, unsigned port, int timeout_ms)
{
	struct addrinfo	hints, *res;
	char		service[16];
	int		fd, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect_deadline(fd, res->ai_addr, res->ai_addrlen,
	    timeout_ms) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	freeaddrinfo(res);
	return fd;
}

/* errno of a connect attempt (0 when it connected). */
int
h_connect_error(const char *host, unsigned port)
{
	int	fd = h_connect(host, port, 2000);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

int
h_connect_unix(const char *path, int timeout_ms)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect_deadline(fd, (struct sockaddr *)&sun,
	    sizeof(sun), timeout_ms) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	return fd;
}

int
h_send_all(int fd, const void *buf, size_t n, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	uint64_t	 deadline = h_now_ms() + timeout_ms;
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if (poll(&pfd, 1, remaining(deadline)) != 1)
			return -1;
		if ((w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Receive exactly n bytes; returns how many came before EOF, error or timeout. */
ssize_t
h_recv_n(int fd, void *buf, size_t n, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	uint64_t	 deadline = h_now_ms() + timeout_ms;
	char		*p = buf;
	size_t		 got = 0;
	ssize_t		 r;

	while (got < n) {
		if (poll(&pfd, 1, remaining(deadline)) != 1)
			break;
		r = recv(fd, p + got, n - got, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	return (ssize_t)got;
}

/* 0 when the peer closes (EOF or reset) in time, 1 if data came, -1 timeout. */
int
h_recv_eof(int fd, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;
	ssize_t		r;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	if (r == 0 || (r == -1 && errno == ECONNRESET))
		return 0;
	return r == 1 ? 1 : -1;
}

/* Send "out" and receive as many bytes, both at once (no deadlock). */
int
h_echo(int fd, const void *out, size_t n, void *in, int timeout_ms)
{
	struct pollfd	 pfd;
	uint64_t	 deadline = h_now_ms() + timeout_ms;
	const char	*o = out;
	char		*i = in;
	size_t		 sent = 0, got = 0;
	ssize_t		 r;

	while (got < n) {
		pfd.fd = fd;
		pfd.events = POLLIN | (sent < n ? POLLOUT : 0);
		if (poll(&pfd, 1, remaining(deadline)) != 1)
			return -1;
		if (pfd.revents & POLLOUT && sent < n) {
			r = send(fd, o + sent, n - sent, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			if (r > 0)
				sent += r;
			else if (r == -1 && errno != EAGAIN)
				return -1;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, i + got, n - got, MSG_DONTWAIT);
			if (r == 0 || (r == -1 && errno != EAGAIN))
				return -1;
			if (r > 0)
				got += r;
		}
	}
	return 0;
}

/* Connect, send "text", half-close, expect it back and EOF (both modes). */
int
h_roundtrip(const char *host, unsigned port, const char *text)
{
	size_t	n = strlen(text);
	char	buf[4096];
	int	fd, r = -1;

	if (n > sizeof(buf) || (fd = h_connect(host, port, 5000)) == -1)
		return -1;
	if (h_send_all(fd, text, n, 10000) == 0 && shutdown(fd, SHUT_WR) == 0 &&
	    h_recv_n(fd, buf, n, 10000) == (ssize_t)n &&
	    memcmp(buf, text, n) == 0 && h_recv_eof(fd, 10000) == 0)
		r = 0;
	close(fd);
	return r;
}

void
h_random(void *buf, size_t n, unsigned seed)
{
	unsigned char	*p = buf;
	uint64_t	 x = seed * 2654435761u + 1;
	size_t		 i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

/* CPU time of a process (user + system), with its reaped children's. */
unsigned long
h_cpu_ms(pid_t pid, bool with_reaped_children)
{
	unsigned long	utime = 0, stime = 0, cutime = 0, cstime = 0;
	char		path[64], buf[1024], *p;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu %lu %lu", &utime, &stime, &cutime, &cstime);
	fclose(fp);
	if (!with_reaped_children)
		cutime = cstime = 0;
	return (utime + stime + cutime + cstime) * 1000 /
	    sysconf(_SC_CLK_TCK);
}

/* The pids of the children of "pid". */
int
h_children(pid_t pid, pid_t *out, int max)
{
	char	path[64];
	FILE	*fp;
	long	 child;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (n < max && fscanf(fp, "%ld", &child) == 1)
		out[n++] = (pid_t)child;
	fclose(fp);
	return n;
}

int
h_wait_children(pid_t pid, int count, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + timeout_ms;
	pid_t		v[1024];

	do {
		if (h_children(pid, v, 1024) == count)
			return 0;
		usleep(10000);
	} while (remaining(deadline) > 0);
	return -1;
}

bool
h_has_pid(const pid_t *v, int n, pid_t pid)
{
	int	i;

	for (i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static ssize_t
drain_into(int fd, char *buf, size_t size, size_t *len)
{
	char	scratch[65536];
	ssize_t	r;
	size_t	n;

	r = read(fd, scratch, sizeof(scratch));
	if (r > 0 && buf != NULL && *len < size) {
		n = (size_t)r < size - *len ? (size_t)r : size - *len;
		memcpy(buf + *len, scratch, n);
		*len += n;
	}
	return r;
}

/*
 * Run a command with "input" on stdin; collect stdout and stderr (NUL
 * terminated where there is room). Returns the exit status, 128+signal,
 * or -1 on timeout (the command is killed).
 */
int
h_run(const char *const argv[], const char *input, size_t inlen, char *out,
    size_t outsize, size_t *outlen, char *err, size_t errsize, int timeout_ms)
{
	int		 pin[2], pout[2], perr[2], status;
	size_t		 sent = 0, olen = 0, elen = 0;
	uint64_t	 deadline = h_now_ms() + timeout_ms;
	struct pollfd	 pfd[3];
	pid_t		 pid;
	ssize_t		 w;

	signal(SIGPIPE, SIG_IGN);
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (input == NULL || inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	while (pout[0] >= 0 || perr[0] >= 0) {
		pfd[0] = (struct pollfd){ pin[1], POLLOUT, 0 };
		pfd[1] = (struct pollfd){ pout[0], POLLIN, 0 };
		pfd[2] = (struct pollfd){ perr[0], POLLIN, 0 };
		if (poll(pfd, 3, remaining(deadline)) <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (pfd[0].revents) {
			w = write(pin[1], input + sent, inlen - sent);
			if (w > 0)
				sent += w;
			if (w == -1 || sent == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (pfd[1].revents && drain_into(pout[0], out, outsize,
		    &olen) <= 0) {
			close(pout[0]);
			pout[0] = -1;
		}
		if (pfd[2].revents && drain_into(perr[0], err,
		    errsize ? errsize - 1 : 0, &elen) <= 0) {
			close(perr[0]);
			perr[0] = -1;
		}
	}
	if (pin[1] >= 0)
		close(pin[1]);
	if (err != NULL && errsize > 0)
		err[elen] = '\0';
	if (out != NULL && olen < outsize)
		out[olen] = '\0';
	if (outlen != NULL)
		*outlen = olen;
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
