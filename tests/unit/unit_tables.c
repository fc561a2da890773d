/* SPDX-License-Identifier: ISC */
/*
 * unit_tables.c: the tables a peer's address indexes: SipHash-2-4 against
 * the reference vectors, a key of its own per table, UDP groups that
 * colliding sources cannot empty or refill, the clients table's probe
 * bound, and both tables' locks after a holder was killed inside.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"

#include "shm/clients.h"
#include "core/fault_point.h"
#include "core/sig.h"
#include "core/siphash.h"
#include "shm/udp_limit.h"

/* The reference implementation's vectors.h: key 00..0f, message 00..n-1. */
static const char *const sip64[64] = {
	"310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
	"b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
	"6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
	"db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
	"98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
	"94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
	"a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
	"ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
	"b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
	"d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
	"f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
	"51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
	"b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
	"bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
	"e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
};

/* Set in a child: the fault point tells the parent, then waits to die. */
static const char	*hold_at;
static int		 hold_fd = -1;

void
fault_point(const char *where)
{
	if (hold_at == NULL || strcmp(where, hold_at) != 0)
		return;
	(void)!write(hold_fd, "x", 1);
	pause();
}

START_TEST(test_siphash_vectors)
{
	uint8_t			kb[SIPHASH_KEY_BYTES], msg[64];
	struct siphash_key	k;
	char			hex[17];
	uint64_t		h;
	int			i, b;

	for (i = 0; i < SIPHASH_KEY_BYTES; i++)
		kb[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	siphash_key_bytes(&k, kb);
	for (i = 0; i < 64; i++) {
		h = siphash24(&k, msg, (size_t)i);
		for (b = 0; b < 8; b++)	/* the vectors are little-endian */
			snprintf(hex + 2 * b, 3, "%02x",
			    (unsigned)(h >> (8 * b)) & 0xff);
		ck_assert_msg(strcmp(hex, sip64[i]) == 0, "length %d: %s, "
		    "want %s", i, hex, sip64[i]);
	}
}
END_TEST

static void
sa4(uint32_t host_order, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4000);
	sin->sin_addr.s_addr = htonl(host_order);
}

/* Two tables, two keys: 64 sources do not fall in the same groups. */
START_TEST(test_keys_differ)
{
	struct udp_limit	*a = udp_limit_create(), *b = udp_limit_create();
	struct clients		*ca = clients_create(65536);
	struct clients		*cb = clients_create(65536);
	struct sockaddr_storage	 src;
	struct acl_addr		 k;
	unsigned		 i, same = 0, same_home = 0;

	ck_assert(a && b && ca && cb);
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	for (i = 0; i < 64; i++) {
		sa4(0x7f000001 + i, &src);
		same += udp_limit_group(a, (struct sockaddr *)&src) ==
		    udp_limit_group(b, (struct sockaddr *)&src);
		k.bytes[3] = (uint8_t)i;
		same_home += clients_home(ca, &k, 1) ==
		    clients_home(cb, &k, 1);
	}
	ck_assert_uint_lt(same, 4);
	ck_assert_uint_lt(same_home, 4);
	udp_limit_destroy(a);
	udp_limit_destroy(b);
	clients_destroy(ca);
	clients_destroy(cb);
}
END_TEST

/* The victim's group and eight attackers in it, under the table's own key. */
static void
colliding(struct udp_limit *l, struct sockaddr_storage *v, int n)
{
	uint32_t	a = 0x7f010001;
	size_t		g;
	int		found = 1;

	sa4(a, &v[0]);
	g = udp_limit_group(l, (struct sockaddr *)&v[0]);
	while (found < n) {
		sa4(++a, &v[found]);
		if (udp_limit_group(l, (struct sockaddr *)&v[found]) == g)
			found++;
	}
}

/*
 * A victim sends 20 a millisecond; then eight sources of its group send
 * one each, so that the victim is the oldest when the eighth comes. It
 * keeps its bucket: 100/s for 2 s plus its burst of 100.
 */
START_TEST(test_eviction_refills_nothing)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 100, 0, 0, 0 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 s[9];
	unsigned		 answered = 0, attackers = 0, i;
	uint64_t		 t;

	colliding(l, s, 9);
	for (t = 1000; t < 3000; t += 2) {
		for (i = 0; i < 20; i++)
			answered += udp_limit_take(l, (struct sockaddr *)&s[0],
			    &client, &global, t, 64) == UDP_DROP_NONE;
		for (i = 1; i < 9; i++)
			attackers += udp_limit_take(l, (struct sockaddr *)&s[i],
			    &client, &global, t + 1, 64) == UDP_DROP_NONE;
	}
	ck_assert_msg(answered <= 100 + 2 * 100 + 1, "victim got %u", answered);
	/* Seven own buckets and the overflow: 8 x (100 + 200) at most. */
	ck_assert_uint_le(attackers, 8 * 301);
	udp_limit_destroy(l);
}
END_TEST

/*
 * A new source is answered as long as its group has a cold place: one
 * whose bucket is full again. While all eight sources of a group spend
 * at their rate, a ninth uses its overflow bucket.
 */
START_TEST(test_new_source_answered)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 10, 0, 0, 0 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 s[10];
	unsigned		 i, j;

	colliding(l, s, 10);
	for (i = 0; i < 8; i++)
		for (j = 0; j < 10; j++)
			ck_assert_int_eq(udp_limit_take(l,
			    (struct sockaddr *)&s[i], &client, &global, 5000,
			    64), UDP_DROP_NONE);
	/* All eight places hot: the ninth gets a full overflow bucket. */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&s[8],
		    &client, &global, 5100, 64), UDP_DROP_NONE);
	ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&s[8],
	    &client, &global, 5100, 64), UDP_DROP_CLIENT_RATE);
	/* A second later the places are full again: a place of its own. */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(udp_limit_take(l, (struct sockaddr *)&s[9],
		    &client, &global, 6000, 64), UDP_DROP_NONE);
	udp_limit_destroy(l);
}
END_TEST

/*
 * One source of a full group floods its overflow bucket: of 16 new
 * sources of that group, most are answered, in the others of its
 * UDP_LIMIT_SPILLS overflow buckets (one shared bucket: none).
 */
START_TEST(test_overflow_spread)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { 10, 0, 0, 0 }, global = { 0, 0, 0, 0 };
	struct sockaddr_storage	 s[25];
	unsigned		 i, j, answered = 0;

	colliding(l, s, 25);
	for (i = 0; i < 9; i++)
		for (j = 0; j < 20; j++)
			udp_limit_take(l, (struct sockaddr *)&s[i], &client,
			    &global, 5000, 64);
	for (i = 9; i < 25; i++)
		answered += udp_limit_take(l, (struct sockaddr *)&s[i],
		    &client, &global, 5000, 64) == UDP_DROP_NONE;
	ck_assert_msg(answered >= 8, "%u of 16 answered", answered);
	udp_limit_destroy(l);
}
END_TEST

#define FLOOD_RATE	10		/* udp_max_datagrams_per_client */
#define FLOODERS	4096		/* each at twice that rate */
#define FLOOD_STEP_MS	10

/* Eight holders in every group: sources 10.0.0.1 and on, by the table's key. */
static struct sockaddr_storage *
holders(struct udp_limit *l)
{
	struct sockaddr_storage	*h, ss;
	unsigned		 n[UDP_LIMIT_GROUPS] = { 0 }, found = 0;
	uint32_t		 a = 0x0a000001;
	size_t			 g;

	h = calloc(UDP_LIMIT_GROUPS * UDP_LIMIT_WAYS, sizeof(*h));
	ck_assert_ptr_nonnull(h);
	while (found < UDP_LIMIT_GROUPS * UDP_LIMIT_WAYS) {
		sa4(a++, &ss);
		g = udp_limit_group(l, (struct sockaddr *)&ss);
		if (n[g] < UDP_LIMIT_WAYS) {
			h[g * UDP_LIMIT_WAYS + n[g]++] = ss;
			found++;
		}
	}
	return h;
}

/*
 * One 10 ms step: the holders' turn, then the flooders' after the first
 * second, when the holders have their places.
 */
static void
flood_step(struct udp_limit *l, const struct sockaddr_storage *h,
    unsigned step, uint64_t t)
{
	struct udp_rate		client = { FLOOD_RATE, 0, 32, 64 };
	struct udp_rate		global = { 0, 0, 0, 0 };
	struct sockaddr_storage	ss;
	unsigned		i, per_second = 1000 / FLOOD_STEP_MS;

	for (i = step % per_second; i < UDP_LIMIT_GROUPS * UDP_LIMIT_WAYS;
	    i += per_second)
		udp_limit_take(l, (const struct sockaddr *)&h[i], &client,
		    &global, t, 64);
	for (i = step % 5; step >= per_second && i < FLOODERS; i += 5) {
		sa4(0xac100001 + i, &ss);
		udp_limit_take(l, (struct sockaddr *)&ss, &client, &global,
		    t, 64);
	}
}

/*
 * The reviewer's flood (issue 21, second round): 8,192 holders touch
 * every place once a second, 4,096 flooders send twice the per-client
 * rate, never near the server's ceiling. A fresh source's first datagram
 * must still be answered: it was 10 in 30 before, as the old rule kept
 * every place "hot" and the one overflow bucket of a group was empty.
 */
START_TEST(test_flood_does_not_starve_new_sources)
{
	struct udp_limit	*l = udp_limit_create();
	struct udp_rate		 client = { FLOOD_RATE, 0, 32, 64 };
	struct udp_rate		 global = { 0, 0, 0, 0 };
	struct sockaddr_storage	*h = holders(l), probe;
	unsigned		 step, probes = 0, answered = 0;
	uint64_t		 t = 10000;

	for (step = 0; step < 600; step++, t += FLOOD_STEP_MS) {
		flood_step(l, h, step, t);
		if (step < 300)
			continue;
		sa4(0xc0a80001 + step, &probe);
		probes++;
		answered += udp_limit_take(l, (struct sockaddr *)&probe,
		    &client, &global, t, 64) == UDP_DROP_NONE;
	}
	fprintf(stderr, "flood: %u of %u fresh sources answered\n", answered,
	    probes);
	ck_assert_msg(answered * 100 >= probes * 95, "only %u of %u fresh "
	    "sources answered", answered, probes);
	free(h);
	udp_limit_destroy(l);
}
END_TEST

/* Fork a child that stops inside the critical section "where"; kill it. */
static void
kill_inside(const char *where, void (*enter)(void *), void *arg)
{
	int	p[2], status;
	char	c;
	pid_t	pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		hold_at = where;
		hold_fd = p[1];
		enter(arg);
		coverage_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(p[0]);
	close(p[1]);
}

static struct sockaddr_storage	udp_src;
static struct udp_rate		udp_client = { 100, 0, 0, 0 }, udp_global = { 1000, 0, 0, 0 };

static void
udp_enter(void *arg)
{
	udp_limit_take(arg, (struct sockaddr *)&udp_src, &udp_client,
	    &udp_global, 1000, 64);
}

/* Killed inside a group's lock, or the global one: the next take goes on. */
START_TEST(test_udp_holder_killed)
{
	static const char *const where[] = { "udp-limit", "udp-limit-global" };
	struct udp_limit	*l = udp_limit_create();
	unsigned		 i, ok = 0;

	sa4(0x7f000005, &udp_src);
	kill_inside(where[_i], udp_enter, l);
	for (i = 0; i < 50; i++)
		ok += udp_limit_take(l, (struct sockaddr *)&udp_src,
		    &udp_client, &udp_global, 1001, 64) == UDP_DROP_NONE;
	ck_assert_uint_eq(ok, 50);
	udp_limit_destroy(l);
}
END_TEST

static const struct clients_limits	lim = { 10, 0, 32, 64 };
static struct acl_addr			cl_key;

static void
clients_enter_one(void *arg)
{
	clients_enter(arg, &cl_key, 7, &lim, 0);
}

START_TEST(test_clients_holder_killed)
{
	struct clients	*t = clients_create(1024);

	memset(&cl_key, 0, sizeof(cl_key));
	cl_key.family = AF_INET;
	cl_key.bytes[0] = 127;
	kill_inside("clients", clients_enter_one, t);
	ck_assert_int_eq(clients_enter(t, &cl_key, 1, &lim, 0), CLIENTS_OK);
	ck_assert_uint_eq(clients_count(t, &cl_key), 1);
	clients_destroy(t);
}
END_TEST

static struct acl_addr	shift_a, shift_b;

/*
 * B: an address with A's home under this table's random key. One byte
 * alone found none in 256 for about one key in 55 (the test hung).
 */
static void
pick_same_home(struct clients *t)
{
	unsigned	n;

	shift_b = shift_a;
	for (n = 1; n < 65536; n++) {
		shift_b.bytes[2] = (uint8_t)(n >> 8);
		shift_b.bytes[3] = (uint8_t)n;
		if (clients_home(t, &shift_b, 1) == clients_home(t, &shift_a, 1))
			return;
	}
	ck_abort_msg("no address shares A's home");
}

static void
clients_leave_a(void *arg)
{
	clients_leave(arg, &shift_a, 1);
}

/*
 * Killed while a removal moves an entry back: the entry is in two places
 * and the count of places one short. The next holder repairs both.
 */
START_TEST(test_clients_killed_in_shift)
{
	struct clients	*t = clients_create(64);
	size_t		 used;
	uint64_t	 full;

	memset(&shift_a, 0, sizeof(shift_a));
	shift_a.family = AF_INET;
	pick_same_home(t);
	ck_assert_int_eq(clients_enter(t, &shift_a, 1, &lim, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &shift_b, 1, &lim, 0), CLIENTS_OK);
	kill_inside("clients-shift", clients_leave_a, t);
	ck_assert_uint_eq(clients_count(t, &shift_b), 1);
	clients_stats(t, &used, &full);
	ck_assert_uint_eq(used, 2);	/* B's of worker 1 and its total */
	clients_leave(t, &shift_b, 1);
	ck_assert_uint_eq(clients_count(t, &shift_b), 0);
	clients_stats(t, &used, &full);
	ck_assert_uint_eq(used, 0);
	clients_destroy(t);
}
END_TEST

/*
 * Killed right after a removal freed A's place, before B (same home,
 * next place) moved back into it: B is out of reach of its lookup. The
 * next holder puts it back; before, repair() deleted it, and client B's
 * two connections counted 0.
 */
START_TEST(test_clients_killed_at_hole)
{
	struct clients	*t = clients_create(64);
	size_t		 used;
	uint64_t	 full;

	memset(&shift_a, 0, sizeof(shift_a));
	shift_a.family = AF_INET;
	pick_same_home(t);
	ck_assert_int_eq(clients_enter(t, &shift_a, 1, &lim, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &shift_b, 1, &lim, 0), CLIENTS_OK);
	ck_assert_int_eq(clients_enter(t, &shift_b, 1, &lim, 0), CLIENTS_OK);
	kill_inside("clients-hole", clients_leave_a, t);
	ck_assert_uint_eq(clients_count(t, &shift_b), 2);
	clients_stats(t, &used, &full);
	ck_assert_uint_eq(used, 2);	/* B's of worker 1 and its total */
	clients_leave(t, &shift_b, 1);
	clients_leave(t, &shift_b, 1);
	ck_assert_uint_eq(clients_count(t, &shift_b), 0);
	clients_stats(t, &used, &full);
	ck_assert_uint_eq(used, 0);
	clients_destroy(t);
}
END_TEST

static const struct {
	size_t			probed;
	bool			used, same;
	enum clients_probe	want;
} probe_cases[] = {
	{ 0, false, false, CLIENTS_PROBE_FREE },
	{ 0, true, true, CLIENTS_PROBE_HIT },
	{ 0, true, false, CLIENTS_PROBE_NEXT },
	{ CLIENTS_PROBE_MAX - 2, true, false, CLIENTS_PROBE_NEXT },
	{ CLIENTS_PROBE_MAX - 1, true, false, CLIENTS_PROBE_GIVE_UP },
	{ CLIENTS_PROBE_MAX - 1, true, true, CLIENTS_PROBE_HIT },
	{ CLIENTS_PROBE_MAX - 1, false, false, CLIENTS_PROBE_FREE },
	{ CLIENTS_PROBE_MAX, true, false, CLIENTS_PROBE_GIVE_UP },
};

START_TEST(test_probe_step)
{
	ck_assert_int_eq(clients_probe_step(probe_cases[_i].probed,
	    probe_cases[_i].used, probe_cases[_i].same), probe_cases[_i].want);
}
END_TEST

/* Is the client's total entry's home away from [home - 512, home + 512)? */
static bool
total_far(struct clients *t, const struct acl_addr *k, size_t home)
{
	return ((clients_home(t, k, CLIENTS_TOTAL) - home + 512) & 4095) >=
	    1024;
}

/*
 * 300 clients whose entries of worker 1 have one home (found under the
 * table's key; their totals elsewhere): the first CLIENTS_PROBE_MAX are
 * counted, the rest refused as a full table, and a client of another
 * home is not slowed down or refused.
 */
START_TEST(test_probe_bound)
{
	struct clients	*t = clients_create(4096);
	struct acl_addr	 k, other;
	unsigned	 ok = 0, full = 0, n = 0;
	uint32_t	 a = 0x0a000001;
	size_t		 home;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	home = clients_home(t, &k, 1);
	for (; n < 300; a++) {
		memcpy(k.bytes, &a, 4);
		if (clients_home(t, &k, 1) != home || !total_far(t, &k, home))
			continue;
		n++;
		switch (clients_enter(t, &k, 1, &lim, 0)) {
		case CLIENTS_OK:
			ok++;
			break;
		case CLIENTS_FULL:
			full++;
			break;
		default:
			ck_abort_msg("unexpected verdict");
		}
		ck_assert_uint_eq(clients_count(t, &k), ok == n ? 1 : 0);
	}
	ck_assert_uint_eq(ok, CLIENTS_PROBE_MAX);
	ck_assert_uint_eq(full, 300 - CLIENTS_PROBE_MAX);
	other = k;
	other.bytes[0] ^= 0x80;
	while (((clients_home(t, &other, 1) - home) & 4095) <
	    2 * CLIENTS_PROBE_MAX)
		other.bytes[1]++;
	ck_assert_int_eq(clients_enter(t, &other, 1, &lim, 0), CLIENTS_OK);
	clients_destroy(t);
}
END_TEST

/* How main's clients.c before the keyed hash placed a key: FNV-1a. */
static size_t
fnv_home(const struct acl_addr *key)
{
	const uint8_t	*p = (const uint8_t *)key;
	uint64_t	 h = 14695981039346656037ULL;
	size_t		 i;

	for (i = 0; i < sizeof(*key); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)h & (CLIENTS_ENTRIES - 1);
}

#define CRAFTED		20000
#define CRAFT_FROM	0x1000	/* the old homes they are given */
#define CRAFT_SPAN	0x1000
#define TIMED_OPS	2000

/* The next address after *a whose old home lies in [from, from + span). */
static void
craft(uint32_t *a, size_t from, size_t span, struct acl_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	do {
		++*a;
		memcpy(k->bytes, a, 4);
	} while (fnv_home(k) - from >= span);
}

/* The fastest of three rounds of TIMED_OPS admissions of key k. */
static uint64_t
admit_ns(struct clients *t, const struct acl_addr *k)
{
	uint64_t	best = UINT64_MAX, t0, d;
	int		r, i;

	for (r = 0; r < 3; r++) {
		t0 = sig_monotonic_ns();
		for (i = 0; i < TIMED_OPS; i++) {
			ck_assert_int_eq(clients_enter(t, k, 2, &lim, 0),
			    CLIENTS_OK);
			clients_leave(t, k, 2);
		}
		if ((d = sig_monotonic_ns() - t0) < best)
			best = d;
	}
	return best;
}

/*
 * 20,000 clients whose addresses FNV-1a put in one stretch of 4,096
 * homes: under the old hash one run of 20,000 entries that every
 * admission of such an address walked; under the keyed hash, nothing
 * special. The admission of another such address costs what an
 * ordinary one does (before: 700 times as much).
 */
START_TEST(test_crafted_runs_harmless)
{
	struct clients	*t = clients_create(CLIENTS_ENTRIES);
	struct acl_addr	 k, victim, plain;
	uint32_t	 a = 0x0b000000, b = 0x0c000000;
	uint64_t	 slow, fast;
	unsigned	 i;

	for (i = 0; i < CRAFTED; i++) {
		craft(&a, CRAFT_FROM, CRAFT_SPAN, &k);
		ck_assert_int_eq(clients_enter(t, &k, 1, &lim, 0), CLIENTS_OK);
	}
	craft(&a, CRAFT_FROM, CRAFT_SPAN, &victim);
	craft(&b, 0x9000, CRAFT_SPAN, &plain);
	slow = admit_ns(t, &victim);
	fast = admit_ns(t, &plain);
	printf("crafted address: %.0f ns an admission, ordinary: %.0f ns\n",
	    (double)slow / TIMED_OPS, (double)fast / TIMED_OPS);
	ck_assert_msg(slow < 20 * fast + 2000000, "crafted %llu ns, ordinary "
	    "%llu ns", (unsigned long long)slow, (unsigned long long)fast);
	clients_destroy(t);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("tables");
	TCase	*tc = tcase_create("tables");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_siphash_vectors);
	tcase_add_test(tc, test_keys_differ);
	tcase_add_test(tc, test_eviction_refills_nothing);
	tcase_add_test(tc, test_new_source_answered);
	tcase_add_test(tc, test_overflow_spread);
	tcase_add_test(tc, test_flood_does_not_starve_new_sources);
	tcase_add_loop_test(tc, test_udp_holder_killed, 0, 2);
	tcase_add_test(tc, test_clients_holder_killed);
	tcase_add_test(tc, test_clients_killed_in_shift);
	tcase_add_test(tc, test_clients_killed_at_hole);
	tcase_add_loop_test(tc, test_probe_step, 0, nitems(probe_cases));
	tcase_add_test(tc, test_probe_bound);
	tcase_add_test(tc, test_crafted_runs_harmless);
	suite_add_tcase(s, tc);
	return s;
}
