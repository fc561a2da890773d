/* SPDX-License-Identifier: ISC */
/*
 * scale_haproxy.c: HAProxy in front of the backends: the configuration
 * (README's "Scaling out" shows it verbatim, and the test checks that it
 * does), the process in the balancer's namespace, and its runtime API on
 * a Unix socket. It decides nothing about what the backends must do.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "stress/scale.h"

#define HAPROXY_START_MS	10000
#define HAPROXY_CMD_MS		5000

/*
 * The balancer. Checks every 200 ms really echo (through the PROXY
 * header, which HAProxy sends with its checks as LOCAL); two failures
 * take a server out, two successes bring it back. A connection that a
 * stopped server refuses is retried, on another server ("redispatch 1":
 * at every retry), so that the client never sees it.
 */
static const char haproxy_head[] =
    "global\n"
    "    log stdout format raw local0 info\n"
    "    stats socket %s mode 600 level admin\n"
    "\n"
    "defaults\n"
    "    mode tcp\n"
    "    log global\n"
    "    option tcplog\n"
    "    timeout connect 1s\n"
    "    timeout client 30s\n"
    "    timeout server 30s\n"
    "    timeout check 1s\n"
    "    retries 3\n"
    "    option redispatch 1\n"
    "\n"
    "frontend echo\n"
    "    bind 127.0.0.1:%d\n"
    "    default_backend be\n"
    "\n"
    "backend be\n"
    "    balance roundrobin\n"
    "    option tcp-check\n"
    "    tcp-check send sockechod-health-check\\n\n"
    "    tcp-check expect string sockechod-health-check\n"
    "    default-server send-proxy-v2 check inter 200ms fall 2 rise 2\n";

size_t
haproxy_config(char *buf, size_t size, const char *stats_path)
{
	char	addr[32];
	size_t	n;
	int	i;

	n = snprintf(buf, size, haproxy_head, stats_path, SCALE_ECHO_PORT);
	for (i = 1; i <= SCALE_BACKENDS && n < size; i++)
		n += snprintf(buf + n, size - n, "    server b%d %s:%d\n", i,
		    net_backend_addr(i, addr, sizeof(addr)), SCALE_ECHO_PORT);
	return n;
}

static int
write_config(struct haproxy *h)
{
	char	text[4096];
	FILE	*fp;

	haproxy_config(text, sizeof(text), h->stats);
	if ((fp = fopen(h->conf, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void
child_exec(const struct haproxy *h)
{
	const char	*bin = h_env("HAPROXY", "/usr/sbin/haproxy");
	int		 fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, STDIN_FILENO);
	execl(bin, bin, "-db", "-f", h->conf, (char *)NULL);
	_exit(127);
}

/* The runtime API answers: HAProxy is up (its checks may not be yet). */
static int
wait_api(struct haproxy *h)
{
	uint64_t	deadline = sig_monotonic_ms() + HAPROXY_START_MS;
	int		fd, status;

	while (h_remaining_ms(deadline) > 0) {
		if ((fd = h_connect_unix(h->stats, 1000)) >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			h->pid = -1;
			return -1;
		}
		usleep(20000);	/* a poll of connect(), not a guess */
	}
	return -1;
}

/* Start HAProxy in the current namespace; 0 once its API answers. */
int
haproxy_start(struct haproxy *h)
{
	memset(h, 0, sizeof(*h));
	h->pid = -1;
	snprintf(h->dir, sizeof(h->dir), "%s/sockechod-haproxy.XXXXXX",
	    h_env("TMPDIR", "/tmp"));
	if (mkdtemp(h->dir) == NULL)
		return -1;
	snprintf(h->conf, sizeof(h->conf), "%s/haproxy.cfg", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/haproxy.log", h->dir);
	snprintf(h->stats, sizeof(h->stats), "%s/admin.sock", h->dir);
	if (write_config(h) == -1 || (h->pid = fork()) == -1)
		return -1;
	if (h->pid == 0)
		child_exec(h);
	return wait_api(h);
}

void
haproxy_stop(struct haproxy *h)
{
	char	path[256];

	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = -1;
	}
	if (h->dir[0] == '\0' || getenv("SOCKECHOD_TEST_KEEP") != NULL)
		return;
	snprintf(path, sizeof(path), "%s/admin.sock", h->dir);
	unlink(path);
	unlink(h->conf);
	unlink(h->log);
	rmdir(h->dir);
	h->dir[0] = '\0';
}

/* One runtime API command; its answer (NUL terminated) in out. */
int
haproxy_cmd(const struct haproxy *h, const char *cmd, char *out, size_t size)
{
	char	line[512];
	size_t	len;
	ssize_t	r;
	int	fd, n;

	n = snprintf(line, sizeof(line), "%s\n", cmd);
	if ((fd = h_connect_unix(h->stats, HAPROXY_CMD_MS)) == -1)
		return -1;
	if (h_send_all(fd, line, n, HAPROXY_CMD_MS) == -1) {
		close(fd);
		return -1;
	}
	/* Without "prompt", HAProxy answers one command and closes. */
	len = 0;
	while (len + 1 < size &&
	    (r = h_recv_n(fd, out + len, size - 1 - len, HAPROXY_CMD_MS)) > 0)
		len += r;
	out[len] = '\0';
	close(fd);
	return 0;
}

/* The index of "name" in the CSV header "# pxname,svname,...". */
static int
column(const char *header, const char *name)
{
	char	 copy[4096], *p = copy, *w;
	size_t	 n = strcspn(header + 2, "\n");
	int	 i = 0;

	if (n >= sizeof(copy))
		return -1;
	memcpy(copy, header + 2, n);
	copy[n] = '\0';
	while ((w = strsep(&p, ",\n")) != NULL) {
		if (strcmp(w, name) == 0)
			return i;
		i++;
	}
	return -1;
}

static int
parse_row(char *row, const int *col, struct hstat *st)
{
	char	*p = row, *w;
	int	 i = 0;

	memset(st, 0, sizeof(*st));
	while ((w = strsep(&p, ",")) != NULL) {
		if (i == col[0])
			snprintf(st->status, sizeof(st->status), "%s", w);
		else if (i == col[1])
			st->scur = (unsigned)strtoul(w, NULL, 10);
		else if (i == col[2])
			st->stot = (unsigned)strtoul(w, NULL, 10);
		else if (i == col[3])
			st->wretr = (unsigned)strtoul(w, NULL, 10);
		else if (i == col[4])
			st->wredis = (unsigned)strtoul(w, NULL, 10);
		else if (i == col[5])
			st->econ = (unsigned)strtoul(w, NULL, 10);
		i++;
	}
	return st->status[0] != '\0' ? 0 : -1;
}

/* "show stat" for server be/<server> (or "BACKEND" for the sum). */
int
haproxy_stat(const struct haproxy *h, const char *server, struct hstat *st)
{
	static const char *const names[] = { "status", "scur", "stot",
	    "wretr", "wredis", "econ" };
	char	out[65536], prefix[64], *line, *p;
	int	col[6], i;

	if (haproxy_cmd(h, "show stat", out, sizeof(out)) == -1 ||
	    strncmp(out, "# ", 2) != 0)
		return -1;
	for (i = 0; i < 6; i++)
		if ((col[i] = column(out, names[i])) == -1)
			return -1;
	snprintf(prefix, sizeof(prefix), "be,%s,", server);
	for (p = out; (line = strsep(&p, "\n")) != NULL;)
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return parse_row(line, col, st);
	return -1;
}

void
haproxy_log_dump(const struct haproxy *h)
{
	char	buf[8192];
	FILE	*fp;
	size_t	n;

	fprintf(stderr, "---- %s ----\n", h->log);
	if ((fp = fopen(h->log, "r")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(fp);
	}
	fprintf(stderr, "---- end ----\n");
}
