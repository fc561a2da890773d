/* SPDX-License-Identifier: ISC */
/*
 * integ_sockbuf.c: the real sockechod's kernel buffers. Its socket
 * buffers, as ss(8) reads them off the kernel: the first
 * autotuned_connections connections of the whole daemon keep the kernel's
 * autotuning, every other one gets socket_buffer_bytes, and a closed
 * connection gives its turn back only once its send queue is empty. Its
 * pipes, as /proc shows them: with splice, a client that does not read
 * holds one, and only that client.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

/* An odd size that the kernel doubles: autotuning never lands on it. */
#define CAP		100000
#define AUTOTUNED	3
#define CONNS		8

static const char *config_body =
    "listen = [ \"127.0.0.1:%P\" ];\n"
    "workers = 2;\n"
    "socket_buffer_bytes = 100000;\n"
    "autotuned_connections = 3;\n";

/* The server's sockets on the port, in any state, and how many are capped. */
static int
server_sockets(unsigned *capped)
{
	static char	 out[256 * 1024];
	char		 filter[64], *p;
	const char	*argv[] = { "/usr/bin/ss", "-tamnH", filter, NULL };
	unsigned long	 rb, tb;
	size_t		 len = 0;
	int		 n = 0;

	snprintf(filter, sizeof(filter), "( sport = :%u )", d.port);
	if (h_run(argv, NULL, 0, out, sizeof(out) - 1, &len, NULL, 0,
	    10000) != 0)
		return -1;
	out[len] = '\0';
	*capped = 0;
	for (p = out; (p = strstr(p, "skmem:(r")) != NULL; p++) {
		if (sscanf(p, "skmem:(r%*u,rb%lu,t%*u,tb%lu", &rb, &tb) != 2)
			continue;
		n++;
		*capped += rb == 2 * CAP && tb == 2 * CAP;
	}
	return n - 1;	/* less the listening socket */
}

/* Wait until the server holds "want" connections; how many are capped. */
static unsigned
settle(int want)
{
	uint64_t	deadline = sig_monotonic_ms() + 5000;
	unsigned	capped = 0;
	int		n;

	while ((n = server_sockets(&capped)) != want &&
	    h_remaining_ms(deadline) > 0)
		usleep(20 * 1000);
	ck_assert_msg(n == want, "%d server sockets, expected %d", n, want);
	return capped;
}

/* Open a connection and see it served, so that it is accepted in order. */
static int
served(void)
{
	char	in[2];
	int	fd = h_connect(d.host, d.port, 5000);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(h_echo(fd, "x", 1, in, 5000), 0);
	return fd;
}

START_TEST(test_a_few_connections_keep_autotuning)
{
	int	fds[CONNS + AUTOTUNED], i;

	start(config_body);
	for (i = 0; i < CONNS; i++)
		fds[i] = served();
	ck_assert_uint_eq(settle(CONNS), CONNS - AUTOTUNED);
	/* The first ones leave: their turns go to the next ones. */
	for (i = 0; i < AUTOTUNED; i++)
		close(fds[i]);
	ck_assert_uint_eq(settle(CONNS - AUTOTUNED), CONNS - AUTOTUNED);
	for (i = CONNS; i < CONNS + AUTOTUNED; i++)
		fds[i] = served();
	ck_assert_uint_eq(settle(CONNS), CONNS - AUTOTUNED);
	for (i = AUTOTUNED; i < CONNS + AUTOTUNED; i++)
		close(fds[i]);
}
END_TEST

/* autotuned_connections = 0 caps every one; socket_buffer_bytes = 0 none. */
START_TEST(test_zero_caps_all_or_none)
{
	int	fds[CONNS], i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 2;\n"
	    "socket_buffer_bytes = 100000;\nautotuned_connections = 0;\n");
	for (i = 0; i < CONNS; i++)
		fds[i] = served();
	ck_assert_uint_eq(settle(CONNS), CONNS);
	for (i = 0; i < CONNS; i++)
		close(fds[i]);
}
END_TEST

/*
 * Clients that send FLOOD_BYTES, half-close and never read their echo,
 * one after the other: each ends with its echo in the server's send
 * queue. Closed there, a socket gave its autotuning turn back and left
 * the echo in the kernel, counted nowhere, so the next one was autotuned
 * too: 20 of them pinned 38 MiB with autotuned_connections = 2.
 */
#define FLOOD_CLIENTS	20
#define FLOOD_BYTES	(2 * 1024 * 1024)
#define FLOOD_AUTOTUNED	2
#define STALL_MS	100	/* no room to send for this long: stuck */
#define LINGER_S	4	/* idle_timeout: the longest a queue stays put */

static const char *flood_body =
    "listen = [ \"127.0.0.1:%P\" ];\n"
    "workers = 1;\n"
    "socket_buffer_bytes = 100000;\n"
    "autotuned_connections = 2;\n"
    "idle_timeout = 4;\n";

/* What the server's sockets hold in their send queues, as ss(8) reads them. */
struct queues {
	unsigned long	total;		/* Send-Q bytes of them all */
	int		sockets;	/* less the listening one */
	int		queued;		/* with a Send-Q */
	int		autotuned;	/* with a Send-Q, and not capped */
};

/* One socket's lines: "STATE RECV-Q SEND-Q ...", then its skmem. */
static void
queues_add(struct queues *q, const char *line, const char *skmem)
{
	unsigned long	sendq, tb;
	char		state[32];

	if (sscanf(line, "%31s %*u %lu", state, &sendq) != 2 ||
	    strcmp(state, "LISTEN") == 0 ||
	    sscanf(skmem, "skmem:(r%*u,rb%*u,t%*u,tb%lu", &tb) != 1)
		return;
	q->sockets++;
	q->total += sendq;
	q->queued += sendq > 0;
	q->autotuned += sendq > 0 && tb != 2 * CAP;
}

static void
server_queues(struct queues *q)
{
	static char	 out[1024 * 1024];
	char		 filter[64], *line, *next, *skmem;
	const char	*argv[] = { "/usr/bin/ss", "-tamnH", filter, NULL };
	size_t		 len = 0;

	memset(q, 0, sizeof(*q));
	snprintf(filter, sizeof(filter), "( sport = :%u )", d.port);
	ck_assert_int_eq(h_run(argv, NULL, 0, out, sizeof(out) - 1, &len,
	    NULL, 0, 10000), 0);
	out[len] = '\0';
	for (line = out; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == ' ' || *line == '\t' || next == NULL ||
		    (skmem = strstr(next, "skmem:(")) == NULL)
			continue;
		queues_add(q, line, skmem);
	}
}

/* The most in tcp_wmem: what one autotuned send queue may reach. */
static unsigned long
wmem_max(void)
{
	unsigned long	lo, def, max;
	FILE		*fp = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%lu %lu %lu", &lo, &def, &max), 3);
	fclose(fp);
	return max;
}

/* Send FLOOD_BYTES and half-close; false when the server stops taking. */
static bool
flood_client(int fd)
{
	static char	buf[65536];
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	size_t		sent = 0;
	ssize_t		n;

	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	while (sent < FLOOD_BYTES) {
		if (poll(&pfd, 1, STALL_MS) != 1)
			return false;
		n = send(fd, buf, sizeof(buf) < FLOOD_BYTES - sent ?
		    sizeof(buf) : FLOOD_BYTES - sent, MSG_NOSIGNAL);
		ck_assert_msg(n > 0 || errno == EAGAIN, "send: %s",
		    strerror(errno));
		sent += n > 0 ? (size_t)n : 0;
	}
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	return true;
}

START_TEST(test_unread_echo_keeps_its_turn_and_its_count)
{
	struct queues	q;
	unsigned long	bound;
	uint64_t	began, deadline;
	char		line[128];
	int		fds[FLOOD_CLIENTS], i, done = 0;

	start(flood_body);
	began = sig_monotonic_ms();
	for (i = 0; i < FLOOD_CLIENTS; i++) {
		ck_assert_int_ge(fds[i] = h_connect(d.host, d.port, 5000), 0);
		done += flood_client(fds[i]);
	}
	server_queues(&q);
	bound = FLOOD_AUTOTUNED * wmem_max() +
	    (FLOOD_CLIENTS - FLOOD_AUTOTUNED) * 2 * CAP;
	fprintf(stderr, "%d clients done in %llu ms; server: %d sockets, %d "
	    "with a send queue, %d of them autotuned, %lu bytes queued (bound "
	    "%lu)\n", done, (unsigned long long)(sig_monotonic_ms() - began),
	    q.sockets, q.queued, q.autotuned, q.total, bound);
	ck_assert_msg(q.autotuned <= FLOOD_AUTOTUNED && q.total <= bound,
	    "%d autotuned send queues hold %lu bytes, more than "
	    "autotuned_connections allow (%lu)", q.autotuned, q.total, bound);
	/* Every socket that holds echo is a connection open. */
	snprintf(line, sizeof(line), "%d connections open, %d served",
	    FLOOD_CLIENTS, FLOOD_CLIENTS);
	ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	expect_log(line, 5000);
	/* A client that closes unread resets its lingering socket: gone. */
	close(fds[0]);
	fds[0] = -1;
	snprintf(line, sizeof(line), "%d connections open, %d served",
	    FLOOD_CLIENTS - 1, FLOOD_CLIENTS);
	deadline = sig_monotonic_ms() + 2000;
	do
		ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	while (h_log_wait(&d, line, 100) != 0 && h_remaining_ms(deadline) > 0);
	ck_assert_msg(h_log_has(&d, line), "no \"%s\" 2 s after a client's "
	    "reset (idle_timeout %d s)", line, LINGER_S);
	/*
	 * A queue that stays put is freed: a lingering one at the idle
	 * timeout after its last shrink, which the worker sees at an idle
	 * timeout (its client's kernel may compact what it received, and
	 * take a little more), so within two.
	 */
	deadline = sig_monotonic_ms() + (2 * LINGER_S + 3) * 1000;
	do
		server_queues(&q);
	while (q.sockets > 0 && h_remaining_ms(deadline) > 0 &&
	    usleep(50 * 1000) == 0);
	ck_assert_msg(q.sockets == 0, "%d server sockets, %lu bytes queued, "
	    "%d s after the clients stopped", q.sockets, q.total,
	    2 * LINGER_S + 3);
	for (i = 1; i < FLOOD_CLIENTS; i++)
		close(fds[i]);
}
END_TEST

/*
 * A connection with a small echo (4,000 bytes) to a client that keeps its
 * window shut (SO_RCVBUF 1) and half-closes lingers, counted, like a
 * large one: closed at once, its socket would keep the echo as an orphan
 * that no limit counts, pinning a shared page of the worker's for each
 * byte (an outside review measured about 40 MiB an orphan). So the
 * client's third connection finds its limit of two.
 */
static int
shut_window_client(size_t bytes)
{
	struct sockaddr_in	sin;
	static char		buf[8192];
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)d.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(buf, 'w', sizeof(buf));
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one,
	    sizeof(one)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(h_send_all(fd, buf, bytes, 5000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	return fd;
}

START_TEST(test_small_unread_echo_still_counts)
{
	uint64_t	deadline;
	int		fd[2];

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "max_connections_per_client = 2;\nidle_timeout = 60;\n");
	fd[0] = shut_window_client(4000);
	fd[1] = shut_window_client(4000);
	deadline = sig_monotonic_ms() + 5000;
	do
		ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
	while (h_log_wait(&d, "2 connections open, 2 served", 100) != 0 &&
	    h_remaining_ms(deadline) > 0);
	ck_assert_msg(h_log_has(&d, "2 connections open, 2 served"),
	    "the two half-closed connections with echo queued are not counted");
	ck_assert_msg(h_roundtrip(d.host, d.port, "third") != 0,
	    "a third connection of the client was served");
	close(fd[0]);
	close(fd[1]);
}
END_TEST

/*
 * A stop waits for lingering connections no longer than a drain waits
 * (SIGTERM: shutdown_timeout; SIGQUIT: not at all), and leaves none of
 * their echo behind in the kernel once the daemon is gone.
 */
static void
stop_with_echo_queued(int sig)
{
	struct queues	q;
	uint64_t	began, deadline;
	int		fds[FLOOD_AUTOTUNED + 1], i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "socket_buffer_bytes = 100000;\nautotuned_connections = 2;\n"
	    "shutdown_timeout = 1;\n");
	for (i = 0; i < FLOOD_AUTOTUNED + 1; i++) {
		ck_assert_int_ge(fds[i] = h_connect(d.host, d.port, 5000), 0);
		(void)flood_client(fds[i]);
	}
	/* The worker echoes what the clients sent: wait for it to queue. */
	deadline = sig_monotonic_ms() + 10000;
	do
		server_queues(&q);
	while (q.queued < FLOOD_AUTOTUNED && h_remaining_ms(deadline) > 0 &&
	    usleep(20 * 1000) == 0);
	ck_assert_int_ge(q.queued, FLOOD_AUTOTUNED);
	began = sig_monotonic_ms();
	ck_assert_int_eq(h_stop(&d, sig, 10000), 0);
	ck_assert_msg(sig_monotonic_ms() - began < 5000, "stopped after %llu ms",
	    (unsigned long long)(sig_monotonic_ms() - began));
	server_queues(&q);
	ck_assert_msg(q.sockets == 0, "%d server sockets, %lu bytes queued, "
	    "left by a stop", q.sockets, q.total);
	for (i = 0; i < FLOOD_AUTOTUNED + 1; i++)
		close(fds[i]);
}

START_TEST(test_stop_resets_echo_queued)
{
	stop_with_echo_queued(SIGTERM);
}
END_TEST

START_TEST(test_fast_stop_resets_echo_queued)
{
	stop_with_echo_queued(SIGQUIT);
}
END_TEST

/* The pipes the daemon's one worker holds open (ends of, halved). */
static int
worker_pipes(void)
{
	char		 dir[64], path[320], link[64];
	struct dirent	*e;
	pid_t		 kid;
	ssize_t		 n;
	DIR		*dp;
	int		 ends = 0;

	ck_assert_int_eq(h_children(d.pid, &kid, 1), 1);
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)kid);
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((e = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) > 0) {
			link[n] = '\0';
			ends += strncmp(link, "pipe:", 5) == 0;
		}
	}
	closedir(dp);
	return ends / 2;
}

/* Send until the server stops taking: it holds echo owed for this client. */
static int
stuck_client(void)
{
	char	buf[65536];
	int	fd = h_connect(d.host, d.port, 5000), i;

	ck_assert_int_ge(fd, 0);
	memset(buf, 'z', sizeof(buf));
	for (i = 0; i < 1000; i++)
		if (h_send_all(fd, buf, sizeof(buf), 500) != 0)
			break;
	ck_assert_msg(i < 1000, "the server kept reading a client that "
	    "does not read");
	return fd;
}

START_TEST(test_splice_lends_a_pipe_to_a_client_that_does_not_read)
{
	uint64_t	deadline;
	int		fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	fd = stuck_client();
	ck_assert_int_eq(worker_pipes(), 1);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "unaffected"), 0);
	/* A small echo is copied: it borrows no pipe. */
	ck_assert_int_eq(worker_pipes(), 1);
	close(fd);
	/* Gone with it, and an idle worker keeps no spare. */
	deadline = sig_monotonic_ms() + 5000;
	while (worker_pipes() != 0 && h_remaining_ms(deadline) > 0)
		usleep(20 * 1000);
	ck_assert_int_eq(worker_pipes(), 0);
}
END_TEST

/*
 * A pipe that a bulk echo emptied is given back, a spare while its worker
 * has connections, closed with the last of them (whether the test above
 * ends with a pipe lent or given back depends on timing).
 */
START_TEST(test_idle_worker_closes_its_spare_pipe)
{
	static char	out[65536], in[65536];
	uint64_t	deadline;
	int		fd, i;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n");
	ck_assert_int_ge(fd = h_connect(d.host, d.port, 5000), 0);
	memset(out, 'b', sizeof(out));
	/* The first 64 KiB read makes it bulk; the next ones splice. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(h_echo(fd, out, sizeof(out), in, 5000), 0);
	ck_assert_int_eq(worker_pipes(), 1);
	close(fd);
	deadline = sig_monotonic_ms() + 5000;
	while (worker_pipes() != 0 && h_remaining_ms(deadline) > 0)
		usleep(20 * 1000);
	ck_assert_int_eq(worker_pipes(), 0);
}
END_TEST

START_TEST(test_splice_false_copies)
{
	int	fd;

	start("listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
	    "splice = false;\n");
	fd = stuck_client();
	ck_assert_int_eq(worker_pipes(), 0);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "unaffected"), 0);
	close(fd);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("socket buffers");
	TCase	*tc = tcase_create("socket buffers");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_a_few_connections_keep_autotuning);
	tcase_add_test(tc, test_zero_caps_all_or_none);
	tcase_add_test(tc, test_unread_echo_keeps_its_turn_and_its_count);
	tcase_add_test(tc, test_small_unread_echo_still_counts);
	tcase_add_test(tc, test_stop_resets_echo_queued);
	tcase_add_test(tc, test_fast_stop_resets_echo_queued);
	tcase_add_test(tc, test_splice_lends_a_pipe_to_a_client_that_does_not_read);
	tcase_add_test(tc, test_splice_false_copies);
	tcase_add_test(tc, test_idle_worker_closes_its_spare_pipe);
	suite_add_tcase(s, tc);
	return s;
}
