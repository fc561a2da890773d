/* SPDX-License-Identifier: ISC */
/*
 * integ_descriptors.c: which descriptors each process of the real daemon
 * holds: a reload that drops listeners leaves none of them open anywhere
 * (master or new workers), and no worker holds the metrics endpoint, be it
 * bound by the master or passed by systemd as "metrics".
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define NPORTS		100
#define START_TRIES	5
#define CLOSE_MS	10000	/* for the old workers to leave, at most */
#define SOCKETS_MAX	256

static unsigned	ports[NPORTS], metrics_port;

static bool
port_taken(unsigned port, size_t n)
{
	size_t	i;

	if (port == metrics_port)
		return true;
	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

static void
pick_ports(void)
{
	size_t		n = 0;
	unsigned	p;

	metrics_port = h_free_port("127.0.0.1");
	ck_assert_uint_ne(metrics_port, 0);
	while (n < NPORTS) {
		ck_assert_uint_ne(p = h_free_port("127.0.0.1"), 0);
		if (!port_taken(p, n))
			ports[n++] = p;
	}
	d.port = ports[0];
}

/* The configuration with listeners ports[0..n-1], and "extra" if not 0. */
static void
write_config(size_t n, unsigned extra)
{
	char	body[8192];
	size_t	len, i;

	len = (size_t)snprintf(body, sizeof(body), "listen = [ ");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "%s\"127.0.0.1:%u\"", i ? ", " : "", ports[i]);
	if (extra != 0)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    ", \"127.0.0.1:%u\"", extra);
	snprintf(body + len, sizeof(body) - len, " ];\nworkers = 2;\n"
	    "shutdown_timeout = 2;\nmetrics_listen = \"127.0.0.1:%u\";\n",
	    metrics_port);
	ck_assert_int_eq(h_write_config(&d, "%s", body), 0);
}

/* Start on NPORTS fresh ports; another test may have taken one of ours. */
static void
start_on_all_ports(void)
{
	int	tries;

	for (tries = 0; tries < START_TRIES; tries++) {
		pick_ports();
		write_config(NPORTS, 0);
		if (h_start(&d) == 0)
			return;
		if (h_wait_exit(&d, 5000) != 71 ||
		    !h_log_has(&d, "Address already in use"))
			break;
		h_cleanup(&d);
		h_init(&d);
	}
	h_log_dump(&d);
	ck_abort_msg("sockechod did not get ready on %d ports", NPORTS);
}

static int
reload_command(void)
{
	const char	*argv[4];
	char		 pid[32], err[1024];
	size_t		 outlen;

	snprintf(pid, sizeof(pid), "%ld", (long)d.pid);
	argv[0] = d.binary;
	argv[1] = "--reload";
	argv[2] = pid;
	argv[3] = NULL;
	return h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err), 30000);
}

/* The inodes of the sockets process "pid" holds; -1 if it is gone. */
static int
proc_sockets(pid_t pid, unsigned long *ino, int max)
{
	char		 dir[64], path[384], link[64];
	struct dirent	*de;
	DIR		*dp;
	ssize_t		 len;
	int		 n = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL && n < max) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino[n]) == 1)
			n++;
	}
	closedir(dp);
	return n;
}

/* The inode of the TCP socket listening on 127.0.0.1:port, or 0. */
static unsigned long
listener_inode(unsigned port)
{
	char		 line[512];
	unsigned	 addr, lport, state;
	unsigned long	 ino, found = 0;
	FILE		*fp;

	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, " %*u: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
		    "%*u %*u %lu", &addr, &lport, &state, &ino) == 4 &&
		    addr == 0x0100007f && lport == port && state == 0x0a)
			found = ino;
	fclose(fp);
	return found;
}

/* How many of ports[from..NPORTS-1] accept a connection. */
static int
count_accepting(size_t from)
{
	size_t	i;
	int	n = 0;

	for (i = from; i < NPORTS; i++)
		if (h_connect_error("127.0.0.1", ports[i]) != ECONNREFUSED)
			n++;
	return n;
}

static int
wait_all_refused(size_t from, int timeout_ms)
{
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;
	int		n;

	while ((n = count_accepting(from)) > 0 && h_remaining_ms(deadline) > 0)
		usleep(50 * 1000);
	return n;
}

static bool
has_inode(const unsigned long *v, int n, unsigned long ino)
{
	int	i;

	for (i = 0; i < n; i++)
		if (v[i] == ino)
			return true;
	return false;
}

/* Each worker holds one socket: the listener on ports[0]. */
static void
expect_workers_hold_one_listener(void)
{
	unsigned long	 ino[SOCKETS_MAX], kept, metrics;
	pid_t		 kids[8];
	int		 n, i, ns;

	kept = listener_inode(ports[0]);
	metrics = listener_inode(metrics_port);
	ck_assert_uint_ne(kept, 0);
	ck_assert_uint_ne(metrics, 0);
	ck_assert_int_eq(h_wait_children(d.pid, 2, CLOSE_MS), 0);
	ck_assert_int_eq(n = h_children(d.pid, kids, 8), 2);
	for (i = 0; i < n; i++) {
		ns = proc_sockets(kids[i], ino, SOCKETS_MAX);
		ck_assert_msg(!has_inode(ino, ns, metrics),
		    "worker %ld holds the metrics listener", (long)kids[i]);
		ck_assert_msg(ns == 1 && ino[0] == kept, "worker %ld holds %d "
		    "sockets, not just the listener on port %u",
		    (long)kids[i], ns, ports[0]);
	}
	/* The master: the kept listener and the metrics endpoint. */
	ns = proc_sockets(d.pid, ino, SOCKETS_MAX);
	ck_assert_msg(ns == 2 && has_inode(ino, ns, kept) &&
	    has_inode(ino, ns, metrics), "the master holds %d sockets", ns);
}

/*
 * 100 listeners reloaded down to 1: the 99 others refuse connections at
 * once, no process holds them, and one of them can be listed again.
 */
START_TEST(test_reload_drops_a_hundred_listeners)
{
	int	left;

	start_on_all_ports();
	ck_assert_int_eq(count_accepting(1), NPORTS - 1);
	write_config(1, 0);
	ck_assert_int_eq(reload_command(), 0);
	left = wait_all_refused(1, CLOSE_MS);
	ck_assert_msg(left == 0, "%d of the %d dropped ports still accept "
	    "connections %d s after the reload", left, NPORTS - 1,
	    CLOSE_MS / 1000);
	expect_workers_hold_one_listener();
	ck_assert_int_eq(h_roundtrip("127.0.0.1", ports[0], "kept"), 0);
	/* One of them again: nobody holds the address any more. */
	write_config(1, ports[NPORTS / 2]);
	if (reload_command() != 0) {
		h_log_dump(&d);
		ck_abort_msg("listing port %u again failed", ports[NPORTS / 2]);
	}
	ck_assert_int_eq(h_roundtrip("127.0.0.1", ports[NPORTS / 2], "back"),
	    0);
}
END_TEST

static int
tcp_listener(unsigned port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	/* The first test's hundred ports may still hold TIME_WAIT sockets. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* GET /metrics on 127.0.0.1:port: the whole answer into buf. */
static void
get_metrics(unsigned port, char *buf, size_t size)
{
	static const char	req[] = "GET /metrics HTTP/1.1\r\n"
	    "Host: localhost\r\n\r\n";
	ssize_t			n;
	int			fd;

	ck_assert_int_ge(fd = h_connect("127.0.0.1", port, 5000), 0);
	ck_assert_int_eq(h_send_all(fd, req, sizeof(req) - 1, 5000), 0);
	n = h_recv_n(fd, buf, size - 1, 5000);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * Socket activation with a socket named "metrics" (sockechod-metrics.socket):
 * the master serves GET /metrics on it, metrics_listen is not bound, and
 * no worker holds it.
 */
START_TEST(test_metrics_socket_passed_by_systemd)
{
	unsigned long	 ino[SOCKETS_MAX], metrics;
	unsigned	 echo_port, passed, configured;
	char		 body[256], answer[16384];
	pid_t		 kids[8];
	int		 echo_fd, metrics_fd, n, i, ns;

	pick_ports();
	echo_port = ports[0];
	passed = ports[1];
	configured = metrics_port;
	ck_assert_int_ge(echo_fd = tcp_listener(echo_port), 0);
	ck_assert_int_ge(metrics_fd = tcp_listener(passed), 0);
	d.listen_fd = echo_fd;
	d.metrics_fd = metrics_fd;
	d.port = echo_port;
	snprintf(body, sizeof(body), "workers = 2;\n"
	    "metrics_listen = \"127.0.0.1:%u\";\n", configured);
	start(body);
	expect_log("socket activation: serving the 1 sockets systemd passed",
	    1);
	expect_log("the socket systemd passed as \"metrics\"; metrics_listen "
	    "is not used", 1);
	get_metrics(passed, answer, sizeof(answer));
	ck_assert_msg(strncmp(answer, "HTTP/1.1 200 ", 13) == 0 &&
	    strstr(answer, "sockechod_workers") != NULL, "%.300s", answer);
	ck_assert_int_eq(h_connect_error("127.0.0.1", configured),
	    ECONNREFUSED);
	ck_assert_int_eq(h_roundtrip("127.0.0.1", echo_port, "activated"), 0);
	metrics = listener_inode(passed);
	ck_assert_uint_ne(metrics, 0);
	ck_assert_int_eq(n = h_children(d.pid, kids, 8), 2);
	for (i = 0; i < n; i++) {
		ns = proc_sockets(kids[i], ino, SOCKETS_MAX);
		ck_assert_msg(ns == 1 && !has_inode(ino, ns, metrics),
		    "worker %ld holds %d sockets", (long)kids[i], ns);
	}
	close(echo_fd);
	close(metrics_fd);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("descriptors");
	TCase	*tc = tcase_create("integration");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reload_drops_a_hundred_listeners);
	tcase_add_test(tc, test_metrics_socket_passed_by_systemd);
	suite_add_tcase(s, tc);
	return s;
}
