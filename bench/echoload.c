/* SPDX-License-Identifier: ISC */
/*
 * echoload.c: a small load client for comparing echo servers side by side
 * (bench/IO_URING.md). Threads with an epoll loop each drive connections
 * in one of three shapes: rr (send SIZE, read SIZE back, again), bulk (a
 * stream with up to two SIZE blocks in flight) and sessions (connect, send
 * SIZE, read it back, close). Every byte that comes back is compared. It
 * prints one line: the rate, latency percentiles, failures and the CPU the
 * server processes named with -p spent per operation. It judges nothing.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX	16
#define PIDS_MAX	64
#define PERIOD		251		/* the pattern repeats with it */
#define IO_BYTES	65536
#define HIST_US		100000		/* latencies above land in the last */
#define EVENTS_MAX	256
#define WARMUP_MS	500

enum shape { RR, BULK, SESSIONS };

struct opts {
	enum shape	 shape;
	unsigned	 conns;
	size_t		 size;
	unsigned	 threads;
	unsigned	 ms;
	unsigned	 port;
	int		 pids[PIDS_MAX];
	unsigned	 npids;
};

struct conn {
	int		 fd;
	uint64_t	 sent;
	uint64_t	 recvd;
	uint64_t	 op_start_ns;
	bool		 connecting;
};

struct worker {
	pthread_t	 tid;
	unsigned	 first;		/* its connections: [first, first+n) */
	unsigned	 n;
	struct conn	*c;
	int		 ep;
	uint64_t	 ops;
	uint64_t	 bytes;
	uint64_t	 errors;
	uint32_t	*hist;		/* microseconds */
};

static struct opts		 o;
static unsigned char		 pattern[IO_BYTES + PERIOD];
static volatile int		 measuring;	/* 0 warm-up, 1 on, 2 stop */
static struct sockaddr_in	 sin_srv;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t
window(void)
{
	return o.shape == BULK ? 2 * o.size : o.size;
}

static int
conn_open(struct worker *w, struct conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c
	};
	int on = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->fd, (struct sockaddr *)&sin_srv, sizeof(sin_srv)) == -1 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	c->connecting = true;
	c->op_start_ns = now_ns();
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
op_done(struct worker *w, struct conn *c)
{
	uint64_t t = now_ns(), us = (t - c->op_start_ns) / 1000;

	c->op_start_ns = t;
	if (measuring != 1)
		return;
	w->ops++;
	w->hist[us < HIST_US ? us : HIST_US - 1]++;
}

/* Send while the window allows; -1 on an error. */
static int
conn_send(struct conn *c)
{
	uint64_t limit = (c->recvd / o.size) * o.size + window();
	size_t len;
	ssize_t n;

	if (o.shape == SESSIONS)
		limit = o.size;
	while (c->sent < limit) {
		len = limit - c->sent < IO_BYTES ? limit - c->sent : IO_BYTES;
		n = send(c->fd, pattern + c->sent % PERIOD, len, MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		c->sent += (uint64_t)n;
	}
	return 0;
}

/* Read and compare; the number of operations completed, or -1. */
static int
conn_recv(struct worker *w, struct conn *c)
{
	unsigned char buf[IO_BYTES];
	uint64_t before = c->recvd;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			return -1;
		if (n == -1)
			break;
		if (c->recvd + (uint64_t)n > c->sent ||
		    memcmp(buf, pattern + c->recvd % PERIOD, (size_t)n) != 0)
			return -1;
		c->recvd += (uint64_t)n;
		if (measuring == 1)
			w->bytes += (uint64_t)n;
	}
	return (int)(c->recvd / o.size - before / o.size);
}

static int
conn_event(struct worker *w, struct conn *c)
{
	int done, i;

	c->connecting = false;
	if ((done = conn_recv(w, c)) == -1)
		return -1;
	for (i = 0; i < done; i++)
		op_done(w, c);
	if (o.shape == SESSIONS && done > 0) {
		close(c->fd);
		return conn_open(w, c);
	}
	return conn_send(c);
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[EVENTS_MAX];
	unsigned i;
	int n;

	for (i = 0; i < w->n; i++)
		if (conn_open(w, &w->c[i]) == -1)
			w->errors++;
	while (measuring != 2) {
		n = epoll_wait(w->ep, evs, EVENTS_MAX, 100);
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++) {
			struct conn *c = evs[i].data.ptr;

			if (conn_event(w, c) == 0)
				continue;
			if (measuring != 2)
				w->errors++;
			close(c->fd);
			if (conn_open(w, c) == -1)
				w->errors++;
		}
	}
	return NULL;
}

/*
 * The CPU time of the server's processes in nanoseconds, from schedstat:
 * utime and stime come in clock ticks and miss a process that sleeps at
 * every tick, as a server answering one connection does.
 */
static uint64_t
server_ns(void)
{
	char path[64];
	unsigned long long ns;
	uint64_t sum = 0;
	unsigned i;
	FILE *f;

	for (i = 0; i < o.npids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/schedstat", o.pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	return sum;
}

static uint64_t
percentile(uint32_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;
	unsigned us;

	for (us = 0; us < HIST_US; us++)
		if ((seen += hist[us]) > want)
			return us;
	return HIST_US;
}

static void
report(struct worker *w, double secs, uint64_t cpu_ns)
{
	static uint32_t hist[HIST_US];
	uint64_t ops = 0, bytes = 0, errors = 0;
	double cpu_us = (double)cpu_ns / 1e3;
	unsigned i, us;

	for (i = 0; i < o.threads; i++) {
		ops += w[i].ops;
		bytes += w[i].bytes;
		errors += w[i].errors;
		for (us = 0; us < HIST_US; us++)
			hist[us] += w[i].hist[us];
	}
	printf("ops_per_s=%.0f MB_per_s=%.1f p50_us=%llu p99_us=%llu "
	    "cpu_us_per_op=%.2f cpu_us_per_MB=%.0f errors=%llu\n",
	    (double)ops / secs, (double)bytes / secs / 1e6,
	    (unsigned long long)percentile(hist, ops, 0.50),
	    (unsigned long long)percentile(hist, ops, 0.99),
	    ops ? cpu_us / (double)ops : 0.0,
	    bytes ? cpu_us / ((double)bytes / 1e6) : 0.0,
	    (unsigned long long)errors);
}

static int
parse(int argc, char **argv)
{
	char *tok;
	int ch;

	o.conns = 1;
	o.size = 64;
	o.threads = 1;
	o.ms = 2000;
	while ((ch = getopt(argc, argv, "c:s:t:d:p:")) != -1) {
		switch (ch) {
		case 'c': o.conns = (unsigned)atoi(optarg); break;
		case 's': o.size = (size_t)atol(optarg); break;
		case 't': o.threads = (unsigned)atoi(optarg); break;
		case 'd': o.ms = (unsigned)atoi(optarg); break;
		case 'p':
			for (tok = strtok(optarg, ","); tok != NULL &&
			    o.npids < PIDS_MAX; tok = strtok(NULL, ","))
				o.pids[o.npids++] = atoi(tok);
			break;
		default: return -1;
		}
	}
	if (argc - optind != 2 || o.conns == 0 || o.size == 0 ||
	    o.threads == 0 || o.threads > THREADS_MAX || o.conns < o.threads)
		return -1;
	if (strcmp(argv[optind], "rr") == 0)
		o.shape = RR;
	else if (strcmp(argv[optind], "bulk") == 0)
		o.shape = BULK;
	else if (strcmp(argv[optind], "sessions") == 0)
		o.shape = SESSIONS;
	else
		return -1;
	o.port = (unsigned)atoi(argv[optind + 1]);
	return 0;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	static struct worker w[THREADS_MAX];
	uint64_t t0, t1, cpu_ns;
	unsigned i;

	if (parse(argc, argv) == -1) {
		fprintf(stderr, "usage: echoload [-c CONNS] [-s SIZE] [-t THREADS] "
		    "[-d MS] [-p PID,...] rr|bulk|sessions PORT\n");
		return 2;
	}
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i % PERIOD * 7 + 1);
	sin_srv.sin_family = AF_INET;
	sin_srv.sin_port = htons(o.port);
	sin_srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < o.threads; i++) {
		w[i].first = o.conns * i / o.threads;
		w[i].n = o.conns * (i + 1) / o.threads - w[i].first;
		w[i].c = calloc(w[i].n, sizeof(*w[i].c));
		w[i].hist = calloc(HIST_US, sizeof(*w[i].hist));
		if (w[i].c == NULL || w[i].hist == NULL ||
		    (w[i].ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0)
			return 1;
	}
	sleep_ms(WARMUP_MS);
	cpu_ns = server_ns();
	t0 = now_ns();
	measuring = 1;
	sleep_ms(o.ms);
	measuring = 2;
	t1 = now_ns();
	cpu_ns = server_ns() - cpu_ns;
	for (i = 0; i < o.threads; i++)
		pthread_join(w[i].tid, NULL);
	report(w, (double)(t1 - t0) / 1e9, cpu_ns);
	return 0;
}
