/* SPDX-License-Identifier: ISC */
/*
 * h_daemon.c: the integration tests' view of a running sockechod. Each
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
#include <ftw.h>
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

#include "harness/harness.h"

void
h_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->notify_fd = -1;
	d->listen_fd = -1;
	d->metrics_fd = -1;
	d->pid = -1;
	d->binary = h_env("SOCKECHOD", "../../src/sockechod");
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
		seed = (unsigned)getpid() * 2654435761u ^
		    (unsigned)sig_monotonic_ms();
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
	    (unsigned long long)sig_monotonic_ms());
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
	if (d->listen_fd >= 0 && d->metrics_fd >= 0) {
		/* fd 4 first: the metrics socket may be at 3. */
		if ((fd = fcntl(d->metrics_fd, F_DUPFD, 10)) == -1 ||
		    dup2(d->listen_fd, 3) == -1 || dup2(fd, 4) == -1)
			_exit(126);
		setenv("LISTEN_FDS", "2", 1);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDNAMES", "echo:metrics", 1);
	} else if (d->listen_fd >= 0) {
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
	if (d->close_std) {
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
	}
	execv(d->binary, (char *const *)argv);
	_exit(127);
}

/* READY=1 from the daemon, or -1 as soon as it has exited or timed out. */
static int
wait_ready(struct daemon *d)
{
	uint64_t	deadline = sig_monotonic_ms() + H_START_MS;

	while (h_remaining_ms(deadline) > 0) {
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
	uint64_t	 deadline = sig_monotonic_ms() + timeout_ms;
	ssize_t		 n;

	while (h_remaining_ms(deadline) > 0) {
		if (poll(&pfd, 1, h_remaining_ms(deadline)) <= 0)
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
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;
	pid_t		r;

	if (d->pid <= 0)
		return -1;
	while (!d->reaped) {
		r = waitpid(d->pid, &d->status, WNOHANG);
		if (r == d->pid) {
			d->reaped = true;
			break;
		}
		if (h_remaining_ms(deadline) == 0)
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

static int
remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

void
h_cleanup(struct daemon *d)
{
	/*
	 * SIGQUIT first, the daemon's own immediate stop, so that its master
	 * and workers leave through their exit paths (and a coverage build
	 * writes their counts); SIGKILL only if it does not go in time.
	 */
	if (d->pid > 0 && !d->reaped && h_stop(d, SIGQUIT, 3000) == -1) {
		kill(d->pid, SIGKILL);
		h_wait_exit(d, 5000);
	}
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	/* Depth first, not following links: the directory goes last. */
	if (getenv("SOCKECHOD_TEST_KEEP") == NULL && d->dir[0] != '\0' &&
	    nftw(d->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cannot remove %s: %s\n", d->dir,
		    strerror(errno));
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
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;

	do {
		if (h_log_has(d, needle))
			return 0;
		usleep(20000);
	} while (h_remaining_ms(deadline) > 0);
	return -1;
}

/* Wait until "needle" appears at least "count" times. */
int
h_log_wait_count(struct daemon *d, const char *needle, int count,
    int timeout_ms)
{
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;

	do {
		if (h_log_count(d, needle) >= count)
			return 0;
		usleep(20000);
	} while (h_remaining_ms(deadline) > 0);
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
