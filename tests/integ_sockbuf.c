/* SPDX-License-Identifier: ISC */
/*
 * integ_sockbuf.c: the real sockechod's kernel buffers. Its socket
 * buffers, as ss(8) reads them off the kernel: the first
 * autotuned_connections connections of the whole daemon keep the kernel's
 * autotuning, every other one gets socket_buffer_bytes, and a closed
 * connection gives its turn back. Its pipes, as /proc shows them: with
 * splice, a client that does not read holds one, and only that client.
 */
#include "build-config.h"

#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "integ.h"

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
	uint64_t	deadline = h_now_ms() + 5000;
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
	deadline = h_now_ms() + 5000;
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
	tcase_add_test(tc, test_splice_lends_a_pipe_to_a_client_that_does_not_read);
	tcase_add_test(tc, test_splice_false_copies);
	suite_add_tcase(s, tc);
	return s;
}
