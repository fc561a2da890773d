/* SPDX-License-Identifier: ISC */
/*
 * bench_udp.c: the UDP case of make bench-daemon. Each thread has a connected
 * socket and keeps a few 64-byte datagrams in flight, for a fixed time,
 * on loopback only; a datagram not answered within 100 ms counts as lost
 * and frees its place. In STAMP mode the datagrams are 44-byte STAMP test
 * packets (RFC 8762), and an answer is right when it is 44 bytes and
 * carries the question's sequence number as the Session-Sender's. It
 * measures, it never asserts a speed.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress/bench_udp.h"
#include "harness/harness.h"

#define UDP_BYTES		64
#define UDP_IN_FLIGHT		8
#define UDP_LOST_MS		100
#define UDP_THREADS_MAX		16
#define STAMP_BYTES		44	/* RFC 8762's unauthenticated packet */
#define STAMP_SENDER_SEQ	24	/* in the reflector's answer */

struct flow {
	const char		*host;
	unsigned		 port;
	uint64_t		 end_ms;
	unsigned		 id;
	bool			 stamp;
	struct bench_udp_result	 r;
};

static int
udp_connect(const char *host, unsigned port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Ready is when a datagram comes back: 0, or -1 at the deadline. It is
 * as long as a STAMP test packet, which an echo and a reflector answer.
 */
int
bench_udp_answers(const char *host, unsigned port, int timeout_ms)
{
	uint64_t	deadline = sig_monotonic_ms() + (uint64_t)timeout_ms;
	struct pollfd	pfd;
	char		q[STAMP_BYTES] = "ready?", buf[STAMP_BYTES + 1];
	int		fd = udp_connect(host, port), r = -1;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (fd >= 0 && r == -1 && sig_monotonic_ms() < deadline) {
		(void)send(fd, q, sizeof(q), 0);
		if (poll(&pfd, 1, 100) == 1 && recv(fd, buf, sizeof(buf),
		    MSG_DONTWAIT) == STAMP_BYTES)
			r = 0;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static void
question(unsigned char *q, unsigned id, uint64_t n)
{
	memset(q, 'a' + id % 26, UDP_BYTES);
	memcpy(q, &n, sizeof(n));
}

static void
stamp_question(unsigned char *q, uint64_t n)
{
	uint32_t	be = htonl((uint32_t)n);

	memset(q, 0, STAMP_BYTES);
	memcpy(q, &be, sizeof(be));
}

/* Whether an answer is right, and which question it answers. */
static bool
answer_ok(const struct flow *f, const unsigned char *a, ssize_t got)
{
	unsigned char	q[UDP_BYTES];
	uint64_t	n;

	if (f->stamp)
		return got == STAMP_BYTES;
	memcpy(&n, a, sizeof(n));
	question(q, f->id, n);
	return got == UDP_BYTES && memcmp(a, q, UDP_BYTES) == 0;
}

static void *
flow_run(void *arg)
{
	struct flow	*f = arg;
	unsigned char	 q[UDP_BYTES], a[UDP_BYTES + 1];
	struct pollfd	 pfd;
	unsigned	 out = 0;
	size_t		 len = f->stamp ? STAMP_BYTES : UDP_BYTES;
	ssize_t		 got;

	if ((pfd.fd = udp_connect(f->host, f->port)) == -1)
		return NULL;
	pfd.events = POLLIN;
	while (sig_monotonic_ms() < f->end_ms) {
		for (; out < UDP_IN_FLIGHT; out++) {
			if (f->stamp)
				stamp_question(q, f->r.sent++);
			else
				question(q, f->id, f->r.sent++);
			(void)send(pfd.fd, q, len, 0);
		}
		if (poll(&pfd, 1, UDP_LOST_MS) != 1) {
			out = 0;
			continue;
		}
		while ((got = recv(pfd.fd, a, sizeof(a), MSG_DONTWAIT)) >= 0) {
			if (answer_ok(f, a, got))
				f->r.answered++;
			else
				f->r.wrong++;
			if (out > 0)
				out--;
		}
	}
	close(pfd.fd);
	return NULL;
}

void
bench_udp_run(const char *host, unsigned port, unsigned threads,
    unsigned duration_ms, bool stamp, struct bench_udp_result *r)
{
	struct flow	f[UDP_THREADS_MAX];
	pthread_t	t[UDP_THREADS_MAX];
	uint64_t	t0 = sig_monotonic_ms();
	unsigned	i;

	if (threads > UDP_THREADS_MAX)
		threads = UDP_THREADS_MAX;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < threads; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].host = host;
		f[i].port = port;
		f[i].end_ms = t0 + duration_ms;
		f[i].id = i;
		f[i].stamp = stamp;
		if (pthread_create(&t[i], NULL, flow_run, &f[i]) != 0)
			h_die("pthread_create failed");
	}
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		r->sent += f[i].r.sent;
		r->answered += f[i].r.answered;
		r->wrong += f[i].r.wrong;
	}
	r->seconds = (sig_monotonic_ms() - t0) / 1000.0;
}
