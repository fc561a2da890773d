/* SPDX-License-Identifier: ISC */
/*
 * unit_stamp_refl.c: net/stamp.c's packet formats against vectors made by the
 * independent reference (tests/stamp/stamp_ref.py), and
 * shm/stamp_sessions.c's per-session counters.
 */
#include "build-config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"

#include "net/stamp.h"
#include "shm/stamp_sessions.h"

#define HEX_MAX_BYTES	128

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t		n = 0;
	unsigned	v;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		ck_assert_uint_lt(n, HEX_MAX_BYTES);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static const struct ts_case {
	long long	sec;
	long		nsec;
	bool		ptp;
	int		tai;
	uint64_t	want;
} ts_cases[] = {
	{ 0, 0, false, 0, 0x83aa7e8000000000ULL },
	{ 1, 500000000, false, 37, 0x83aa7e8180000000ULL },
	{ 0, 999999999, false, 0, 0x83aa7e80fffffffbULL },
	{ 1, 500000000, true, 37, 0x261dcd6500ULL },
	{ 1, 500000000, true, 0, 0x11dcd6500ULL },
};

START_TEST(test_timestamp)
{
	const struct ts_case	*c = &ts_cases[_i];
	struct timespec		 ts = { c->sec, c->nsec };

	ck_assert_uint_eq(stamp_timestamp(&ts, c->ptp, c->tai), c->want);
}
END_TEST

static const struct ee_case {
	bool		synced;
	bool		ptp;
	uint64_t	error_ns;
	uint16_t	want;
} ee_cases[] = {
	{ false, false, 0, 0x0001 },		/* never a multiplier of 0 */
	{ false, false, 1, 0x0005 },		/* 4.29 units, rounded up */
	{ false, false, 1000, 0x0587 },		/* 135 * 2^5 units >= 1 us */
	{ true, false, 1000, 0x8587 },
	{ true, true, 1000, 0xc587 },
	{ false, true, 1000, 0x4587 },
	{ false, false, 16000000000ULL, 0x1d80 },	/* 16 s: 128 * 2^29 */
	{ false, false, UINT64_MAX / 4, 0x398a },	/* 138 * 2^57 units */
};

START_TEST(test_error_estimate)
{
	const struct ee_case	*c = &ee_cases[_i];

	ck_assert_uint_eq(stamp_error_estimate(c->synced, c->ptp, c->error_ns),
	    c->want);
}
END_TEST

/* Honest: the estimate never says less than the error, with the least scale. */
START_TEST(test_error_estimate_covers)
{
	uint64_t	ns, mult, scale;
	long double	said, error;
	uint16_t	ee;

	for (ns = 1; ns < 100000000000ULL; ns = ns * 3 + 7) {
		ee = stamp_error_estimate(true, false, ns);
		mult = ee & 0xff;
		scale = (ee >> 8) & 0x3f;
		said = (long double)mult * (1ULL << scale) / 4294967296.0L;
		error = (long double)ns / 1e9L;
		ck_assert_msg(said >= error, "%llu ns: %04x",
		    (unsigned long long)ns, ee);
		ck_assert_uint_ne(mult, 0);
		if (scale > 0)
			ck_assert_msg(said / 2 < error ||
			    mult * 2 > 255, "%llu ns: %04x not the least scale",
			    (unsigned long long)ns, ee);
	}
}
END_TEST

START_TEST(test_parse)
{
	uint8_t			p[HEX_MAX_BYTES];
	struct stamp_request	q;
	size_t			n;

	n = unhex("01020304e8fe6f801f9add374001abcd00000000000000000000000000"
	    "000000000000000000000000000000", p);
	ck_assert_uint_eq(n, 44);
	ck_assert_int_eq(stamp_parse(p, 43, &q), STAMP_DROP_SHORT);
	ck_assert_int_eq(stamp_parse(p, 0, &q), STAMP_DROP_SHORT);
	ck_assert_int_eq(stamp_parse(p, 44, &q), STAMP_DROP_NONE);
	ck_assert_uint_eq(q.seq, 0x01020304);
	ck_assert_uint_eq(q.timestamp, 0xe8fe6f801f9add37ULL);
	ck_assert_uint_eq(q.error_estimate, 0x4001);
	ck_assert_uint_eq(q.ssid, 0xabcd);
	ck_assert(q.ptp);
	p[12] = 0x00;
	ck_assert_int_eq(stamp_parse(p, 44, &q), STAMP_DROP_NONE);
	ck_assert(!q.ptp);
}
END_TEST

/* The reflector's 44 bytes, as stamp_ref.py's expected_reply() writes them. */
START_TEST(test_write_base)
{
	uint8_t			p[HEX_MAX_BYTES], want[HEX_MAX_BYTES];
	struct stamp_request	q;
	struct stamp_answer	a = { 7, 0x1111111122222222ULL,
				    0x3333333344444444ULL, 0x8587, 61 };

	/* MBZ bytes of the request that are not zero must not leak. */
	unhex("01020304e8fe6f801f9add370001abcd11111111111111111111111111"
	    "111111111111111111111111111111", p);
	unhex("0000000733333333444444448587abcd111111112222222201020304e8fe6f"
	    "801f9add37000100003d000000", want);
	ck_assert_int_eq(stamp_parse(p, 44, &q), STAMP_DROP_NONE);
	stamp_write_base(p, &q, &a);
	ck_assert_mem_eq(p, want, 44);
	stamp_write_t3(p, 0x0102030405060708ULL);
	ck_assert_mem_eq(p + 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_mem_eq(p + 12, want + 12, 32);
}
END_TEST

static const struct tlv_case {
	const char	*in;
	const char	*want;
	unsigned	 tlvs;
	unsigned	 unknown;
	bool		 malformed;
} tlv_cases[] = {
	{ "", "", 0, 0, false },
	{ "00c800046162636400c90000", "80c800046162636480c90000", 2, 2,
	    false },
	{ "000100080000000000000000", "000100080000000000000000", 1, 0,
	    false },
	{ "070809", "470809", 1, 0, true },
	{ "00010000000500096162", "00010000400500096162", 2, 0, true },
	{ "000900027a7a0000000000000000", "800900027a7a0000000000000000", 1,
	    1, false },
	{ "000000000000000000000000", "000000000000000000000000", 0, 0,
	    false },
	{ "00", "00", 0, 0, false },
	{ "0001ffff00", "4001ffff00", 1, 0, true },
};

START_TEST(test_tlvs)
{
	const struct tlv_case	*c = &tlv_cases[_i];
	uint8_t			 p[HEX_MAX_BYTES], want[HEX_MAX_BYTES];
	struct stamp_tlv_result	 r;
	size_t			 n, m;

	memset(p, 0, STAMP_BASE_BYTES);
	n = unhex(c->in, p + STAMP_BASE_BYTES);
	m = unhex(c->want, want);
	ck_assert_uint_eq(n, m);
	stamp_reflect_tlvs(p, STAMP_BASE_BYTES + n, &r);
	ck_assert_mem_eq(p + STAMP_BASE_BYTES, want, n);
	ck_assert_uint_eq(r.tlvs, c->tlvs);
	ck_assert_uint_eq(r.unknown, c->unknown);
	ck_assert_int_eq(r.malformed, c->malformed);
}
END_TEST

/*
 * The largest datagram of empty TLVs (type 0, length 0) and a last byte
 * that is not padding: about 16,000 TLVs, each walked once. Walking them
 * costs a worker well under a millisecond; the old walk looked at the
 * rest of the packet at every TLV, 0.15 s a datagram, which one client's
 * byte allowance turned into seconds of a worker a second (found in
 * review). 20 datagrams must take less than a second of CPU, a margin of
 * more than a hundred whatever the build (ASan, -O0 for coverage).
 */
START_TEST(test_tlvs_linear)
{
	static uint8_t		 p[65507];
	struct stamp_tlv_result	 r;
	struct timespec		 t0, t1;
	double			 cpu_s;
	int			 i;

	ck_assert_int_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0), 0);
	for (i = 0; i < 20; i++) {
		memset(p, 0, sizeof(p));
		p[sizeof(p) - 1] = 1;
		stamp_reflect_tlvs(p, sizeof(p), &r);
		ck_assert_uint_eq(r.tlvs, (sizeof(p) - STAMP_BASE_BYTES) / 4 + 1);
		ck_assert(r.malformed);
	}
	ck_assert_int_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1), 0);
	cpu_s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(cpu_s < 1.0, "20 datagrams of empty TLVs took %.2f s "
	    "of CPU", cpu_s);
}
END_TEST

static void
sa4(const char *host, unsigned port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, host, &sin->sin_addr), 1);
}

/* A session is (address, port, SSID): each counts from 0 on its own. */
START_TEST(test_sessions)
{
	struct stamp_sessions	*s = stamp_sessions_create();
	struct sockaddr_in	 a, b;
	const struct sockaddr	*pa = (struct sockaddr *)&a;
	const struct sockaddr	*pb = (struct sockaddr *)&b;

	ck_assert_ptr_nonnull(s);
	sa4("192.0.2.1", 40000, &a);
	sa4("192.0.2.1", 40001, &b);
	ck_assert_uint_eq(stamp_sessions_next(s, pa, 1, 10), 0);
	ck_assert_uint_eq(stamp_sessions_next(s, pa, 1, 11), 1);
	ck_assert_uint_eq(stamp_sessions_next(s, pb, 1, 12), 0);
	ck_assert_uint_eq(stamp_sessions_next(s, pa, 2, 13), 0);
	ck_assert_uint_eq(stamp_sessions_next(s, pa, 1, 14), 2);
	ck_assert_uint_eq(stamp_sessions_next(s, pb, 1, 15), 1);
	stamp_sessions_destroy(s);
}
END_TEST

/*
 * Bounded: many more sessions than places evict the least recently used,
 * and a session kept busy keeps its count.
 */
START_TEST(test_sessions_evict)
{
	struct stamp_sessions	*s = stamp_sessions_create();
	struct sockaddr_in	 a, busy;
	uint32_t		 i, want = 0;

	ck_assert_ptr_nonnull(s);
	sa4("198.51.100.7", 862, &busy);
	sa4("192.0.2.1", 40000, &a);
	for (i = 0; i < 50 * STAMP_SESSIONS_GROUPS * STAMP_SESSIONS_WAYS;
	    i++) {
		a.sin_port = htons((uint16_t)(i % 60000 + 1));
		(void)stamp_sessions_next(s, (struct sockaddr *)&a,
		    (uint16_t)(i / 60000), 100 + i);
		if (i % 16 == 0)
			ck_assert_uint_eq(stamp_sessions_next(s,
			    (struct sockaddr *)&busy, 9, 100 + i), want++);
	}
	stamp_sessions_destroy(s);
}
END_TEST

/*
 * Workers racing for one new session (its first packets read by several
 * at once) number its packets 0, 1, 2... with none twice: RACERS
 * processes, released together through a pipe, each take a number of
 * each of ROUNDS new sessions.
 */
#define RACERS	4
#define ROUNDS	300

static void
race(struct stamp_sessions *s, unsigned *arrived, int go, int out)
{
	struct sockaddr_in	a;
	uint32_t		n[ROUNDS];
	char			c;
	int			i;

	sa4("192.0.2.9", 50000, &a);
	if (read(go, &c, 1) != 1)
		_exit(2);
	for (i = 0; i < ROUNDS; i++) {
		/* All at the start line of round i, then all at once. */
		__atomic_add_fetch(&arrived[i], 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&arrived[i], __ATOMIC_SEQ_CST) < RACERS)
			;
		n[i] = stamp_sessions_next(s, (struct sockaddr *)&a,
		    (uint16_t)(i + 1), 1000);
	}
	_exit(write(out, n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : 3);
}

START_TEST(test_sessions_race)
{
	struct stamp_sessions	*s = stamp_sessions_create();
	static uint32_t		 got[RACERS][ROUNDS];
	unsigned		 seen, dup = 0;
	unsigned		*arrived;
	int			 go[2], out[2], i, r, status;

	ck_assert_ptr_nonnull(s);
	arrived = mmap(NULL, ROUNDS * sizeof(*arrived), PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(arrived != MAP_FAILED);
	memset(arrived, 0, ROUNDS * sizeof(*arrived));
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(out), 0);
	for (i = 0; i < RACERS; i++)
		if (fork() == 0)
			race(s, arrived, go[0], out[1]);
	ck_assert_int_eq(write(go[1], "gogo", RACERS), RACERS);
	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(read(out[0], got[i], sizeof(got[i])),
		    (ssize_t)sizeof(got[i]));
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (r = 0; r < ROUNDS; r++) {
		for (seen = 0, i = 0; i < RACERS; i++)
			if (got[i][r] < RACERS)
				seen |= 1u << got[i][r];
		if (seen != (1u << RACERS) - 1)
			dup++;
	}
	ck_assert_msg(dup == 0, "%u of %d new sessions numbered a packet "
	    "twice", dup, ROUNDS);
	munmap(arrived, ROUNDS * sizeof(*arrived));
	stamp_sessions_destroy(s);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("stamp");
	TCase	*tc = tcase_create("stamp");

	tcase_add_loop_test(tc, test_timestamp, 0,
	    sizeof(ts_cases) / sizeof(ts_cases[0]));
	tcase_add_loop_test(tc, test_error_estimate, 0,
	    sizeof(ee_cases) / sizeof(ee_cases[0]));
	tcase_add_test(tc, test_error_estimate_covers);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_write_base);
	tcase_add_loop_test(tc, test_tlvs, 0,
	    sizeof(tlv_cases) / sizeof(tlv_cases[0]));
	tcase_add_test(tc, test_tlvs_linear);
	tcase_add_test(tc, test_sessions);
	tcase_add_test(tc, test_sessions_evict);
	tcase_add_test(tc, test_sessions_race);
	suite_add_tcase(s, tc);
	return s;
}
