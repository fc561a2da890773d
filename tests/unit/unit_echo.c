/* SPDX-License-Identifier: ISC */
/*
 * unit_echo.c: echo.c's state machine over a socketpair() or a TCP pair,
 * both protocols; stream echo both copying and through lent pipes
 * (echo_splice.c): every stream case runs in both test cases.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"

#include "net/echo.h"

#define SCRATCH		4096

static int		 srv, peer;	/* the server's end, the client's end */
static struct echo_conn	 conn;
static struct echo_limits lim;
static struct echo_pipes pipes;
static bool		 use_pipes;	/* set by the splice test case */

static void
pipes_on(void)
{
	use_pipes = true;
}

static void
nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
small_buffers(int fd)
{
	int	size = 4096;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static void
setup(enum echo_mode mode, size_t max_message)
{
	int	sv[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	srv = sv[0];
	peer = sv[1];
	small_buffers(srv);
	small_buffers(peer);
	nonblock(srv);
	nonblock(peer);
	echo_init(&conn, srv);
	memset(&lim, 0, sizeof(lim));
	lim.mode = mode;
	lim.max_message_bytes = max_message;
	lim.scratch_bytes = SCRATCH;
	lim.scratch = malloc(SCRATCH);
	echo_pipes_init(&pipes, SCRATCH);
	lim.pipes = use_pipes ? &pipes : NULL;
}

static void
teardown(void)
{
	echo_release(&conn);
	echo_pipes_close(&pipes);
	free(lim.scratch);
	close(srv);
	close(peer);
}

static ssize_t
peer_read(void *buf, size_t n)
{
	ssize_t	r = recv(peer, buf, n, 0);

	return r == -1 && errno == EAGAIN ? 0 : r;
}

static void
send_exactly(const void *buf, size_t n)
{
	ck_assert_int_eq(send(peer, buf, n, 0), (ssize_t)n);
}

START_TEST(test_stream_echoes_as_it_arrives)
{
	static const char	msg[] = "hello\0world";
	char			buf[64];

	setup(ECHO_MODE_STREAM, 0);
	send_exactly(msg, sizeof(msg));
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), sizeof(msg));
	ck_assert_mem_eq(buf, msg, sizeof(msg));
	ck_assert_uint_eq(conn.bytes_in, sizeof(msg));
	ck_assert_uint_eq(conn.bytes_out, sizeof(msg));
	/* Nothing held for a connection that keeps up. */
	ck_assert_ptr_null(conn.buf);
	/* Spliced, where asked: a pipe was lent and given back. */
	ck_assert_uint_eq(pipes.nspare, use_pipes ? 1 : 0);
	ck_assert(!conn.nosplice);
	ck_assert_int_eq(conn.pipe[0], -1);
	teardown();
}
END_TEST

/* Push "n" random bytes through, both ways at once; return bytes verified. */
static size_t
pump(size_t n, bool half_close, enum echo_status *last)
{
	char			*out = malloc(n), *in = malloc(n);
	size_t			 sent = 0, got = 0, i;
	ssize_t			 r;
	int			 rounds = 0;

	for (i = 0; i < n; i++)
		out[i] = (char)(random() & 0xff);
	*last = ECHO_AGAIN;
	while (got < n && rounds++ < 1000000) {
		if (sent < n && (r = send(peer, out + sent, n - sent, 0)) > 0)
			sent += r;
		if (sent == n && half_close) {
			shutdown(peer, SHUT_WR);
			half_close = false;
		}
		if (*last == ECHO_AGAIN)
			*last = echo_step(&conn, &lim);
		ck_assert_msg(*last == ECHO_AGAIN || *last == ECHO_DONE,
		    "status %d: %s", *last, strerror(errno));
		/* Bounded memory: never more than a scratch buffer held. */
		ck_assert_uint_le(conn.cap, lim.mode == ECHO_MODE_STREAM ?
		    SCRATCH : lim.max_message_bytes);
		if ((r = peer_read(in + got, n - got)) > 0)
			got += r;
	}
	ck_assert_uint_eq(got, n);
	ck_assert_mem_eq(in, out, n);
	free(in);
	free(out);
	return got;
}

START_TEST(test_stream_binary_megabytes)
{
	enum echo_status	st;

	setup(ECHO_MODE_STREAM, 0);
	ck_assert_uint_eq(pump(4 << 20, true, &st), 4 << 20);
	if (st == ECHO_AGAIN)
		st = echo_step(&conn, &lim);
	ck_assert_int_eq(st, ECHO_DONE);
	teardown();
}
END_TEST

START_TEST(test_stream_stops_reading_a_client_that_does_not_read)
{
	char		 chunk[1024];
	uint64_t	 in_before;
	int		 i;

	setup(ECHO_MODE_STREAM, 0);
	memset(chunk, 'x', sizeof(chunk));
	/* The client writes and never reads, until the server stops taking. */
	for (i = 0; i < 100000; i++) {
		ssize_t r = send(peer, chunk, sizeof(chunk), 0);

		echo_step(&conn, &lim);
		if (r == -1 && errno == EAGAIN && conn.want == ECHO_WANT_WRITE)
			break;
	}
	ck_assert_uint_eq(conn.want, ECHO_WANT_WRITE);
	ck_assert_uint_le(conn.len - conn.off, SCRATCH);
	ck_assert_uint_le(conn.bytes_in - conn.bytes_out, SCRATCH);
	in_before = conn.bytes_in;
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.bytes_in, in_before);
	/* Once the client reads, the owed bytes flow and reading resumes. */
	while (peer_read(chunk, sizeof(chunk)) > 0 || conn.off < conn.len ||
	    conn.inpipe > 0)
		echo_step(&conn, &lim);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	ck_assert_uint_eq(conn.bytes_out, conn.bytes_in);
	teardown();
}
END_TEST

/*
 * A connected TCP pair on loopback in place of the socketpair: a Unix
 * socket takes a whole small write or none of it, TCP takes part of one.
 */
static void
tcp_pair(int *server, int *client)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(l = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_ge(*client = socket(AF_INET, SOCK_STREAM, 0), 0);
	small_buffers(*client);
	ck_assert_int_eq(connect(*client, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_ge(*server = accept(l, NULL, NULL), 0);
	close(l);
	small_buffers(*server);
	nonblock(*server);
	nonblock(*client);
}

static void
setup_tcp(enum echo_mode mode, size_t max_message)
{
	setup(mode, max_message);
	close(srv);
	close(peer);
	tcp_pair(&srv, &peer);
	conn.fd = srv;
}

/*
 * A client that writes random bytes without reading fills the server's
 * send buffer, so some echo write is short: what comes back must still be
 * exactly what went, in order.
 */
START_TEST(test_stream_short_writes_keep_the_unsent_rest)
{
	size_t		 n = 256 << 10, sent = 0, got = 0, i;
	char		*out = malloc(n), *in = malloc(n);
	ssize_t		 r;
	time_t		 deadline = time(NULL) + 30;
	bool		 blocked;

	setup_tcp(ECHO_MODE_STREAM, 0);
	srandom(16);
	for (i = 0; i < n; i++)
		out[i] = (char)(random() & 0xff);
	while (got < n && time(NULL) < deadline) {
		blocked = false;
		if (sent < n) {
			if ((r = send(peer, out + sent, n - sent, 0)) > 0)
				sent += r;
			else
				blocked = true;
		}
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
		/* Read only when the server is stuck, so its writes run short. */
		if (conn.want == ECHO_WANT_WRITE || blocked || sent == n)
			if ((r = peer_read(in + got, n - got)) > 0)
				got += r;
	}
	ck_assert_uint_eq(got, n);
	ck_assert_mem_eq(in, out, n);
	ck_assert_uint_eq(conn.bytes_out, n);
	free(out);
	free(in);
	teardown();
}
END_TEST

/* A peer that keeps sending gets a bounded number of reads per step. */
START_TEST(test_stream_yields_to_other_connections)
{
	char	buf[1000];

	int	big = 1 << 20;

	setup(ECHO_MODE_STREAM, 0);
	/* Room for every small reply, so only the read bound stops the step. */
	setsockopt(srv, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	lim.scratch_bytes = 10;
	memset(buf, 'y', sizeof(buf));
	send_exactly(buf, sizeof(buf));
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	/* 16 reads (ECHO_READS_PER_STEP) of 10 bytes, then the next step. */
	ck_assert_uint_eq(conn.bytes_in, 160);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.bytes_in, 320);
	teardown();
}
END_TEST

/* A reset (RST) is an error to close on, not a read to wait for. */
START_TEST(test_stream_reset_is_an_error)
{
	struct linger	lg = { 1, 0 };
	char		buf[16];

	setup_tcp(ECHO_MODE_STREAM, 0);
	send_exactly("ping", 4);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 4);
	ck_assert_int_eq(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(peer);
	peer = -1;
	usleep(10000);	/* the RST crosses loopback at once; no event to wait on */
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_ERROR);
	ck_assert_int_eq(errno, ECONNRESET);
	teardown();
}
END_TEST

START_TEST(test_stream_half_close)
{
	char	buf[16];

	setup(ECHO_MODE_STREAM, 0);
	send_exactly("abc", 3);
	shutdown(peer, SHUT_WR);
	/* A short read ends the step: the end of file is the next event. */
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	teardown();
}
END_TEST

START_TEST(test_stream_peer_gone)
{
	setup(ECHO_MODE_STREAM, 0);
	send_exactly("x", 1);
	close(peer);
	peer = -1;
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_ERROR);
	ck_assert(errno == EPIPE || errno == ECONNRESET);
	teardown();
}
END_TEST

START_TEST(test_message_waits_for_half_close)
{
	char	buf[64];

	setup(ECHO_MODE_MESSAGE, 1024);
	send_exactly("part one, ", 10);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 0);
	send_exactly("part two", 8);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 0);
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 18);
	ck_assert_mem_eq(buf, "part one, part two", 18);
	teardown();
}
END_TEST

START_TEST(test_message_cap)
{
	char	buf[16];

	setup(ECHO_MODE_MESSAGE, 10);
	send_exactly("0123456789", 10);
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 10);
	teardown();

	setup(ECHO_MODE_MESSAGE, 10);
	send_exactly("0123456789A", 11);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_TOO_LARGE);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 0);
	ck_assert_uint_le(conn.cap, 10);
	teardown();
}
END_TEST

START_TEST(test_message_large_reply_with_short_writes)
{
	enum echo_status	st;

	setup(ECHO_MODE_MESSAGE, 8 << 20);
	ck_assert_uint_eq(pump(2 << 20, true, &st), 2 << 20);
	ck_assert_int_eq(st, ECHO_DONE);
	teardown();
}
END_TEST

/* A reply the client does not read yet waits for EPOLLOUT, not EPOLLIN. */
START_TEST(test_message_reply_waits_for_a_slow_reader)
{
	char		 chunk[1000];
	size_t		 got = 0;
	ssize_t		 r;
	int		 i;

	setup(ECHO_MODE_MESSAGE, 1 << 20);
	memset(chunk, 'm', sizeof(chunk));
	for (i = 0; i < 100; i++) {
		send_exactly(chunk, sizeof(chunk));
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	}
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert(conn.read_eof);
	ck_assert_uint_eq(conn.want, ECHO_WANT_WRITE);
	for (i = 0; i < 100000 && got < 100000; i++) {
		if ((r = peer_read(chunk, sizeof(chunk))) > 0)
			got += r;
		if (conn.off < conn.len)
			(void)echo_step(&conn, &lim);
	}
	ck_assert_uint_eq(got, 100000);
	ck_assert_uint_eq(conn.bytes_out, 100000);
	teardown();
}
END_TEST

START_TEST(test_empty_exchanges)
{
	setup(ECHO_MODE_MESSAGE, 10);
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	ck_assert_uint_eq(conn.bytes_out, 0);
	teardown();

	setup(ECHO_MODE_STREAM, 0);
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	teardown();
}
END_TEST

START_TEST(test_mode_names)
{
	enum echo_mode	m;

	ck_assert_int_eq(echo_mode_parse("stream", &m), 0);
	ck_assert_int_eq(m, ECHO_MODE_STREAM);
	ck_assert_int_eq(echo_mode_parse("Message", &m), 0);
	ck_assert_int_eq(m, ECHO_MODE_MESSAGE);
	ck_assert_int_eq(echo_mode_parse("STREAM", &m), 0);
	ck_assert_int_eq(m, ECHO_MODE_STREAM);
	ck_assert_int_eq(echo_mode_parse("datagram", &m), -1);
	ck_assert_str_eq(echo_mode_name(ECHO_MODE_MESSAGE), "message");
}
END_TEST

/* Message mode: a growth the worker's budget cannot take waits, then goes on. */
START_TEST(test_message_budget_blocks_and_resumes)
{
	struct echo_budget	budget = { 0, 8192 };
	char			buf[6000], back[6000];

	setup(ECHO_MODE_MESSAGE, 65536);
	conn.budget = &budget;
	budget.held = 4096;		/* another connection holds 4 KiB */
	memset(buf, 'b', sizeof(buf));
	ck_assert_int_eq(send(peer, buf, sizeof(buf), 0), sizeof(buf));
	/* 4 KiB fit and are read; the next 4 KiB do not. */
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_BLOCKED);
	ck_assert_uint_eq(budget.held, 8192);
	ck_assert_uint_eq(conn.len, 4096);
	ck_assert_uint_eq(echo_next_growth(&conn, &lim), 4096);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_BLOCKED);
	budget.held -= 4096;		/* the other one went away */
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	ck_assert_uint_eq(budget.held, 8192);
	ck_assert_int_eq(recv(peer, back, sizeof(back), MSG_WAITALL),
	    sizeof(back));
	ck_assert_mem_eq(back, buf, sizeof(buf));
	echo_release(&conn);
	ck_assert_uint_eq(budget.held, 0);
	teardown();
}
END_TEST

/* Stream mode over the budget keeps nothing: it echoes what fits, via MSG_PEEK. */
START_TEST(test_stream_over_budget_keeps_nothing)
{
	struct echo_budget	budget = { 0, 1 };
	char			buf[3000], back[3000];
	ssize_t			got = 0, r;
	int			i;

	setup(ECHO_MODE_STREAM, 0);
	conn.budget = &budget;
	memset(buf, 's', sizeof(buf));
	ck_assert_int_eq(send(peer, buf, sizeof(buf), 0), sizeof(buf));
	for (i = 0; i < 10 && got < (ssize_t)sizeof(back); i++) {
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
		ck_assert_uint_eq(conn.cap, 0);
		ck_assert_uint_eq(budget.held, 0);
		if ((r = peer_read(back + got, sizeof(back) - got)) > 0)
			got += r;
	}
	ck_assert_int_eq(got, sizeof(back));
	ck_assert_mem_eq(back, buf, sizeof(buf));
	teardown();
}
END_TEST

/* A client that sends without reading: the server's step that blocks. */
static void
block_the_server(struct echo_budget *budget)
{
	char	chunk[1024];
	int	i;

	setup_tcp(ECHO_MODE_STREAM, 0);
	conn.budget = budget;
	memset(chunk, 'p', sizeof(chunk));
	for (i = 0; i < 100000 && conn.want != ECHO_WANT_WRITE; i++) {
		(void)send(peer, chunk, sizeof(chunk), 0);
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	}
	ck_assert_uint_eq(conn.want, ECHO_WANT_WRITE);
}

/*
 * The echo owed waits in a lent pipe, counted in the budget; once the
 * client reads, it flows, and the empty pipe goes back to the spares.
 */
START_TEST(test_splice_lends_a_pipe_while_blocked)
{
	struct echo_budget	budget = { 0, 0 };
	char			chunk[4096];

	block_the_server(&budget);
	ck_assert_int_ge(conn.pipe[0], 0);
	ck_assert_uint_gt(conn.inpipe, 0);
	ck_assert_uint_le(conn.inpipe, conn.pipe_size);
	ck_assert_uint_eq(budget.held, conn.pipe_size);
	ck_assert_ptr_null(conn.buf);
	ck_assert_uint_eq(conn.bytes_in - conn.bytes_out, conn.inpipe);
	while (peer_read(chunk, sizeof(chunk)) > 0 || conn.inpipe > 0)
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(conn.want, ECHO_WANT_READ);
	ck_assert_int_eq(conn.pipe[0], -1);
	ck_assert_uint_eq(pipes.nspare, 1);
	ck_assert_uint_eq(budget.held, 0);
	ck_assert_uint_eq(conn.bytes_out, conn.bytes_in);
	teardown();
}
END_TEST

/* A connection that closes with echo owed closes its pipe, full as it is. */
START_TEST(test_splice_release_closes_the_pipe)
{
	struct echo_budget	budget = { 0, 0 };
	int			r, w;

	block_the_server(&budget);
	r = conn.pipe[0];
	w = conn.pipe[1];
	echo_release(&conn);
	ck_assert_int_eq(conn.pipe[0], -1);
	ck_assert_int_eq(fcntl(r, F_GETFD), -1);
	ck_assert_int_eq(fcntl(w, F_GETFD), -1);
	ck_assert_uint_eq(budget.held, 0);
	ck_assert_uint_eq(pipes.nspare, 0);
	teardown();
}
END_TEST

/* No room in the budget for a pipe: the copying step, and no pipe made. */
START_TEST(test_splice_needs_room_in_the_budget)
{
	struct echo_budget	budget = { 0, SCRATCH - 1 };
	char			buf[64];

	setup_tcp(ECHO_MODE_STREAM, 0);
	conn.budget = &budget;
	send_exactly("room", 4);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_int_eq(conn.pipe[0], -1);
	ck_assert_uint_eq(pipes.nspare, 0);
	ck_assert_uint_eq(budget.held, 0);
	ck_assert_int_eq(poll(&(struct pollfd){ .fd = peer, .events = POLLIN },
	    1, 5000), 1);
	ck_assert_int_eq(peer_read(buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "room", 4);
	teardown();
}
END_TEST

/* Five connections give their pipes back at once: four are kept, one closed. */
START_TEST(test_splice_keeps_few_spares)
{
	enum { N = ECHO_PIPES_SPARE + 1 };
	struct echo_conn	c[N];
	char			chunk[1024];
	int			sv[N], cl[N], i, j;

	setup(ECHO_MODE_STREAM, 0);
	memset(chunk, 'f', sizeof(chunk));
	for (i = 0; i < N; i++) {
		tcp_pair(&sv[i], &cl[i]);
		echo_init(&c[i], sv[i]);
		for (j = 0; j < 100000 && c[i].want != ECHO_WANT_WRITE; j++) {
			(void)send(cl[i], chunk, sizeof(chunk), 0);
			ck_assert_int_eq(echo_step(&c[i], &lim), ECHO_AGAIN);
		}
		ck_assert_int_ge(c[i].pipe[0], 0);
	}
	for (i = 0; i < N; i++) {
		while (recv(cl[i], chunk, sizeof(chunk), 0) > 0 ||
		    c[i].inpipe > 0)
			(void)echo_step(&c[i], &lim);
		ck_assert_int_eq(c[i].pipe[0], -1);
	}
	ck_assert_uint_eq(pipes.nspare, ECHO_PIPES_SPARE);
	for (i = 0; i < N; i++) {
		echo_release(&c[i]);
		close(sv[i]);
		close(cl[i]);
	}
	teardown();
}
END_TEST

/*
 * Where splice_min is set, a connection copies until a read is that long,
 * splices from then on, and copies again after a shorter one.
 */
START_TEST(test_splice_only_after_a_long_read)
{
	char	big[3000], back[3000];

	memset(big, 'b', sizeof(big));
	setup(ECHO_MODE_STREAM, 0);
	lim.splice_min = 1000;
	send_exactly("tiny", 4);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(pipes.nspare, 0);
	ck_assert(!conn.bulk);
	ck_assert_int_eq(peer_read(back, sizeof(back)), 4);
	send_exactly(big, sizeof(big));
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(pipes.nspare, 0);	/* copied, and now bulk */
	ck_assert(conn.bulk);
	ck_assert_int_eq(peer_read(back, sizeof(back)), sizeof(big));
	send_exactly(big, sizeof(big));
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert_uint_eq(pipes.nspare, 1);	/* spliced */
	ck_assert_int_eq(peer_read(back, sizeof(back)), sizeof(big));
	send_exactly("tiny", 4);
	ck_assert_int_eq(echo_step(&conn, &lim), ECHO_AGAIN);
	ck_assert(!conn.bulk);			/* spliced, short */
	ck_assert_int_eq(peer_read(back, sizeof(back)), 4);
	ck_assert_mem_eq(back, "tiny", 4);
	ck_assert_uint_eq(conn.bytes_out, conn.bytes_in);
	teardown();
}
END_TEST

/*
 * A short read while the pipe could not be emptied: the connection is no
 * longer bulk, but the echo in its pipe goes first, in order.
 */
START_TEST(test_splice_pipe_first_after_a_short_read)
{
	struct echo_budget	budget = { 0, 0 };
	char			tail[] = "0123456789abcdef", in[4096];
	size_t			seen = 0;	/* bytes of the tail back */
	ssize_t			r, i;
	int			rounds = 0;

	block_the_server(&budget);
	ck_assert_uint_gt(conn.inpipe, 0);
	lim.splice_min = 1 << 20;
	conn.bulk = false;	/* as a short read that found the socket full */
	send_exactly(tail, sizeof(tail));
	/* Back: every 'p' sent before, then the tail, nothing between. */
	while (seen < sizeof(tail) && rounds++ < 100000) {
		(void)echo_step(&conn, &lim);
		if ((r = peer_read(in, sizeof(in))) <= 0)
			continue;
		for (i = 0; i < r; i++) {
			if (seen == 0 && in[i] == 'p')
				continue;
			ck_assert_msg(seen < sizeof(tail) &&
			    in[i] == tail[seen], "byte %zu of the tail out "
			    "of order", seen);
			seen++;
		}
	}
	ck_assert_uint_eq(seen, sizeof(tail));
	ck_assert_uint_eq(conn.bytes_out, conn.bytes_in);
	teardown();
}
END_TEST

/* echo_splice_wanted(): splice or copy, for every state that decides it. */
static const struct {
	bool		pipes;		/* splice = true, stream mode */
	bool		nosplice;
	size_t		off, len;	/* echo owed in the buffer: off < len */
	size_t		inpipe;
	bool		bulk;
	size_t		splice_min;
	bool		want;
	const char	*what;
} splice_cases[] = {
	{ true, false, 0, 0, 0, false, 32768, false, "a small echo copies" },
	{ true, false, 0, 0, 0, true, 32768, true, "a bulk peer splices" },
	{ true, false, 0, 0, 10, false, 32768, true,
	    "echo owed in a pipe goes by splice, bulk or not" },
	{ true, false, 0, 0, 0, false, 0, true, "splice_min 0: always" },
	{ false, false, 0, 0, 0, true, 32768, false, "splice = false copies" },
	{ false, false, 0, 0, 0, false, 0, false,
	    "splice = false copies, splice_min 0 or not" },
	{ true, true, 0, 0, 0, true, 32768, false,
	    "a socket that cannot splice copies" },
	{ true, false, 3, 10, 0, true, 32768, false,
	    "echo owed in the buffer goes by copy" },
	{ true, false, 10, 10, 0, true, 32768, true,
	    "a buffer sent to its end owes nothing" },
	{ true, false, 3, 10, 0, false, 0, false,
	    "owed in the buffer, splice_min 0: copy first" },
};

START_TEST(test_splice_wanted_table)
{
	struct echo_conn	c;
	struct echo_limits	l;
	struct echo_pipes	p;

	memset(&c, 0, sizeof(c));
	memset(&l, 0, sizeof(l));
	c.nosplice = splice_cases[_i].nosplice;
	c.off = splice_cases[_i].off;
	c.len = splice_cases[_i].len;
	c.inpipe = splice_cases[_i].inpipe;
	c.bulk = splice_cases[_i].bulk;
	l.pipes = splice_cases[_i].pipes ? &p : NULL;
	l.splice_min = splice_cases[_i].splice_min;
	ck_assert_msg(echo_splice_wanted(&c, &l) == splice_cases[_i].want,
	    "%s", splice_cases[_i].what);
}
END_TEST

/*
 * TCP urgent data: splice() stops at the mark, recv() skips the byte.
 * The bytes after it are echoed, the worker does not spin on a socket
 * that stays readable, and an end of file after it is seen (_i = 1).
 */
START_TEST(test_stream_urgent_byte)
{
	char	in[64];
	size_t	got = 0;
	ssize_t	r;
	int	steps = 0;

	setup_tcp(ECHO_MODE_STREAM, 0);
	send_exactly("abc", 3);
	ck_assert_int_eq(send(peer, "U", 1, MSG_OOB), 1);
	send_exactly("def", 3);
	if (_i == 1)
		shutdown(peer, SHUT_WR);
	usleep(10000);	/* all of it across loopback: no event to wait on */
	while (steps++ < 20 && got < 6 &&
	    echo_step(&conn, &lim) == ECHO_AGAIN)
		if ((r = peer_read(in + got, sizeof(in) - got)) > 0)
			got += (size_t)r;
	ck_assert_msg(steps <= 20, "no echo after %d steps", steps);
	if (_i == 1)
		ck_assert_int_eq(echo_step(&conn, &lim), ECHO_DONE);
	while ((r = peer_read(in + got, sizeof(in) - got)) > 0)
		got += (size_t)r;
	ck_assert_uint_eq(got, 6);
	ck_assert_mem_eq(in, "abcdef", 6);
	teardown();
}
END_TEST

/* The stream cases, which run both copying and through lent pipes. */
static void
add_stream_cases(TCase *tc)
{
	tcase_add_test(tc, test_stream_echoes_as_it_arrives);
	tcase_add_test(tc, test_stream_binary_megabytes);
	tcase_add_test(tc, test_stream_stops_reading_a_client_that_does_not_read);
	tcase_add_test(tc, test_stream_short_writes_keep_the_unsent_rest);
	tcase_add_test(tc, test_stream_yields_to_other_connections);
	tcase_add_test(tc, test_stream_reset_is_an_error);
	tcase_add_test(tc, test_stream_half_close);
	tcase_add_test(tc, test_stream_peer_gone);
	tcase_add_test(tc, test_stream_over_budget_keeps_nothing);
	tcase_add_loop_test(tc, test_stream_urgent_byte, 0, 2);
}

Suite *
suite(void)
{
	Suite	*s = suite_create("echo");
	TCase	*tc = tcase_create("echo");

	tcase_set_timeout(tc, 60);
	add_stream_cases(tc);
	tcase_add_test(tc, test_message_waits_for_half_close);
	tcase_add_test(tc, test_message_cap);
	tcase_add_test(tc, test_message_large_reply_with_short_writes);
	tcase_add_test(tc, test_message_reply_waits_for_a_slow_reader);
	tcase_add_test(tc, test_empty_exchanges);
	tcase_add_test(tc, test_mode_names);
	tcase_add_test(tc, test_message_budget_blocks_and_resumes);
	suite_add_tcase(s, tc);
	/* The stream cases again, through lent pipes, and the pipes' own. */
	tc = tcase_create("echo by splice");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, pipes_on, NULL);
	add_stream_cases(tc);
	tcase_add_test(tc, test_splice_lends_a_pipe_while_blocked);
	tcase_add_loop_test(tc, test_splice_wanted_table, 0,
	    nitems(splice_cases));
	tcase_add_test(tc, test_splice_release_closes_the_pipe);
	tcase_add_test(tc, test_splice_needs_room_in_the_budget);
	tcase_add_test(tc, test_splice_keeps_few_spares);
	tcase_add_test(tc, test_splice_only_after_a_long_read);
	tcase_add_test(tc, test_splice_pipe_first_after_a_short_read);
	suite_add_tcase(s, tc);
	return s;
}
