/* SPDX-License-Identifier: ISC */
/*
 * unit_load.c: load/, the tests' and the benchmark's load client: each
 * outcome from a server that misbehaves in one way (a thread on
 * 127.0.0.1), operations on a kept connection, a stream stopped midway,
 * the percentiles of the histogram and the pattern's offsets. The engine is the instrument of
 * the fault, scale and bench figures: a failure it missed they would too.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "load/load.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define SESSION_BYTES	3000
#define STALL_MS	300
#define RUN_MS		5000	/* every case ends long before */

/* How the server answers a session: after its EOF, or as it reads. */
enum serve {
	SERVE_ECHO,		/* everything, then EOF */
	SERVE_STREAM,		/* each read at once (a kept connection) */
	SERVE_CORRUPT,		/* one byte changed */
	SERVE_TRUNCATE,		/* all but the last byte, then EOF */
	SERVE_EXTRA,		/* one byte more */
	SERVE_RESET,		/* nothing: an RST */
	SERVE_SILENT,		/* nothing, and no EOF */
};

struct server {
	enum serve	 serve;
	int		 lfd;
	unsigned	 conns;		/* to accept, one after the other */
};

static void
answer(const struct server *sv, int fd)
{
	static unsigned char	buf[LOAD_BYTES_MAX / 64];
	struct linger		lg = { 1, 0 };
	size_t			n = 0;
	ssize_t			r;

	while ((r = read(fd, buf + n, sizeof(buf) - n)) > 0) {
		if (sv->serve == SERVE_STREAM && write(fd, buf, r) != r)
			return;
		n += sv->serve == SERVE_STREAM ? 0 : (size_t)r;
	}
	switch (sv->serve) {
	case SERVE_CORRUPT:
		buf[n / 2] ^= 1;
		break;
	case SERVE_TRUNCATE:
		n--;
		break;
	case SERVE_EXTRA:
		buf[n++] = 'x';
		break;
	case SERVE_RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return;
	case SERVE_SILENT:
		poll(NULL, 0, 2 * STALL_MS);
		return;
	default:
		break;
	}
	if (write(fd, buf, n) != (ssize_t)n)
		return;
}

static void *
serve(void *arg)
{
	struct server	*sv = arg;
	unsigned	 i;
	int		 fd;

	for (i = 0; i < sv->conns; i++) {
		if ((fd = accept(sv->lfd, NULL, NULL)) == -1)
			break;
		answer(sv, fd);
		close(fd);
	}
	return NULL;
}

/* A listener on 127.0.0.1, any port, into dst. */
static int
listener(struct sockaddr_in *dst)
{
	socklen_t	len = sizeof(*dst);
	int		fd;

	load_addr(dst, "127.0.0.1", 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)dst, sizeof(*dst)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)dst, &len), 0);
	return fd;
}

/* Three chunks, half-closed, as the fault tests send them. */
static void
prepare(struct load *l, struct load_session *s)
{
	(void)l;
	s->nchunks = 3;
	s->chunk_end[0] = 1000;
	s->chunk_end[1] = 2000;
	s->chunk_end[2] = SESSION_BYTES;
}

static const struct outcome_case {
	const char		*what;
	enum serve		 serve;
	enum load_outcome	 want;
} outcome_cases[] = {
	{ "echo", SERVE_ECHO, LOAD_OK },
	{ "a byte changed", SERVE_CORRUPT, LOAD_MISMATCH },
	{ "a byte short", SERVE_TRUNCATE, LOAD_SHORT },
	{ "a byte more", SERVE_EXTRA, LOAD_MISMATCH },
	{ "reset", SERVE_RESET, LOAD_RESET },
	{ "no answer", SERVE_SILENT, LOAD_TIMEOUT },
};

/* One session against a server that answers so: its one outcome. */
START_TEST(test_outcome)
{
	const struct outcome_case	*c = &outcome_cases[_i];
	struct server			 sv = { c->serve, -1, 1 };
	struct sockaddr_in		 dst;
	struct load			 l;
	pthread_t			 tid;
	char				 failed[128];

	sv.lfd = listener(&dst);
	ck_assert_int_eq(pthread_create(&tid, NULL, serve, &sv), 0);
	ck_assert_int_eq(load_init(&l, &dst, 1, 1), 0);
	l.half_close = true;
	l.stall_ms = STALL_MS;
	l.chunk_gap_ms = 10;
	l.prepare = prepare;
	load_step(&l, 0);		/* launches the one session */
	l.launching = false;
	load_settle(&l, RUN_MS);
	load_describe_failures(l.outcome, failed, sizeof(failed));
	ck_assert_msg(l.sessions == 1 && l.outcome[c->want] == 1 &&
	    load_failures(l.outcome) == (c->want != LOAD_OK),
	    "%s: want %s, got ok=%u failed: %s", c->what,
	    load_outcome_names[c->want], l.outcome[LOAD_OK], failed);
	if (c->want == LOAD_OK)
		ck_assert_uint_eq(l.bytes, SESSION_BYTES);
	load_free(&l);
	pthread_join(tid, NULL);
	close(sv.lfd);
}
END_TEST

/* Nobody listens: refused, not another failure. */
START_TEST(test_refused)
{
	struct sockaddr_in	dst;
	struct load		l;
	int			fd = listener(&dst);

	close(fd);
	ck_assert_int_eq(load_init(&l, &dst, 1, 1), 0);
	load_step(&l, 0);
	l.launching = false;
	load_settle(&l, RUN_MS);
	ck_assert_uint_eq(l.outcome[LOAD_REFUSED], 1);
	ck_assert_uint_eq(load_failures(l.outcome), 1);
	load_free(&l);
}
END_TEST

/* bench/load's rr: operation after operation on one connection. */
START_TEST(test_kept_connection)
{
	struct server		sv = { SERVE_STREAM, -1, 1 };
	struct sockaddr_in	dst;
	struct load		l;
	pthread_t		tid;
	uint64_t		end;

	sv.lfd = listener(&dst);
	ck_assert_int_eq(pthread_create(&tid, NULL, serve, &sv), 0);
	ck_assert_int_eq(load_init(&l, &dst, 1, 1), 0);
	l.keep = true;
	l.size = 64;
	end = sig_monotonic_ms() + RUN_MS;
	while (l.outcome[LOAD_OK] < 100 && sig_monotonic_ms() < end)
		load_step(&l, 5);
	load_settle(&l, RUN_MS);
	ck_assert_uint_eq(l.sessions, 1);
	ck_assert_uint_ge(l.outcome[LOAD_OK], 100);
	ck_assert_uint_eq(load_failures(l.outcome), 0);
	ck_assert_uint_eq(l.bytes, 64ULL * l.outcome[LOAD_OK]);
	load_free(&l);
	pthread_join(tid, NULL);
	close(sv.lfd);
}
END_TEST

/* A stream stopped midway: what was sent comes back, then EOF: ok. */
START_TEST(test_stream_stopped)
{
	struct server		sv = { SERVE_STREAM, -1, 1 };
	struct sockaddr_in	dst;
	struct load		l;
	pthread_t		tid;

	sv.lfd = listener(&dst);
	ck_assert_int_eq(pthread_create(&tid, NULL, serve, &sv), 0);
	ck_assert_int_eq(load_init(&l, &dst, 1, 1), 0);
	l.half_close = true;
	l.size = (size_t)1 << 32;	/* more than it can send in the time */
	load_run_for(&l, 200, NULL, NULL);
	load_stop_sending(&l);
	load_settle(&l, RUN_MS);
	ck_assert_uint_eq(l.sessions, 1);
	ck_assert_uint_eq(l.outcome[LOAD_OK], 1);
	ck_assert(l.bytes > 0 && l.bytes < l.size);
	load_free(&l);
	pthread_join(tid, NULL);
	close(sv.lfd);
}
END_TEST

/*
 * Stopped between two chunks, without half_close: the first chunk's echo
 * is all back, nothing more will come, and that is ok, not a stall (the
 * session waited for bytes that were never owed, then timed out).
 */
START_TEST(test_stopped_between_chunks)
{
	struct server		sv = { SERVE_STREAM, -1, 1 };
	struct sockaddr_in	dst;
	struct load		l;
	pthread_t		tid;
	uint64_t		end;

	sv.lfd = listener(&dst);
	ck_assert_int_eq(pthread_create(&tid, NULL, serve, &sv), 0);
	ck_assert_int_eq(load_init(&l, &dst, 1, 1), 0);
	l.stall_ms = STALL_MS;
	l.chunk_gap_ms = RUN_MS;	/* paused after the first chunk */
	l.prepare = prepare;
	load_step(&l, 0);
	l.launching = false;
	end = sig_monotonic_ms() + RUN_MS;
	while ((load_count(&l, LOAD_PAUSED) != 1 || l.bytes < 1000) &&
	    sig_monotonic_ms() < end)
		load_step(&l, 5);
	ck_assert_uint_eq(l.bytes, 1000);
	load_stop_sending(&l);
	load_settle(&l, RUN_MS);
	ck_assert_uint_eq(l.outcome[LOAD_OK], 1);
	ck_assert_uint_eq(load_failures(l.outcome), 0);
	load_free(&l);
	pthread_join(tid, NULL);
	close(sv.lfd);
}
END_TEST

static const struct pctl_case {
	double		p;
	double		want_us;	/* within a bucket, 1/32 */
} pctl_cases[] = {
	{ 0.0, 1 }, { 0.50, 500 }, { 0.99, 990 }, { 1.0, 1000 },
};

/* 1..1000 us once each: the percentiles within a bucket's width. */
START_TEST(test_percentiles)
{
	static struct load_hist	h;
	const struct pctl_case	*c = &pctl_cases[_i];
	double			got;
	unsigned		us;

	memset(&h, 0, sizeof(h));
	for (us = 1; us <= 1000; us++)
		load_hist_add(&h, us * 1000ULL);
	got = load_hist_pctl_us(&h, c->p);
	ck_assert_msg(got >= c->want_us * (1 - 1.0 / 32) &&
	    got <= c->want_us * (1 + 1.0 / 32), "p%.2f: %.1f us, want %.0f",
	    c->p, got, c->want_us);
}
END_TEST

/* Two connections' bytes differ at every offset tried. */
START_TEST(test_pattern_offsets)
{
	const unsigned char	*a, *b;
	unsigned		 conn;

	ck_assert_int_eq(load_pattern_init(), 0);
	for (conn = 0; conn < 64; conn++) {
		a = load_pattern_at(load_pattern_start(conn));
		b = load_pattern_at(load_pattern_start(conn + 1));
		ck_assert(memcmp(a, b, 64) != 0);
		ck_assert(load_pattern_check(load_pattern_start(conn), a, 64));
		ck_assert(!load_pattern_check(load_pattern_start(conn), b, 64));
	}
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("load");
	TCase	*tc = tcase_create("load");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_outcome, 0, (int)nitems(outcome_cases));
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_kept_connection);
	tcase_add_test(tc, test_stream_stopped);
	tcase_add_test(tc, test_stopped_between_chunks);
	tcase_add_loop_test(tc, test_percentiles, 0, (int)nitems(pctl_cases));
	tcase_add_test(tc, test_pattern_offsets);
	suite_add_tcase(s, tc);
	return s;
}
