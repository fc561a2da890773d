/* SPDX-License-Identifier: ISC */
/*
 * hold.c: one client process of "make bench-scale" (bench/scale): it opens
 * many TCP connections to one server, each from an explicitly bound
 * loopback source address (so that 64K ports per address are no limit),
 * holds them, and on a command echoes once on each, checking the bytes,
 * or waits for the server to close them, telling a clean close (FIN) from
 * a reset. It starts no server and judges no figure: bench/scale does.
 *
 * Usage: hold DST PORT SRC_FIRST NSRC ID; commands on standard input, one
 * a line, each answered with one line on standard output:
 *   connect N MS	open N connections	-> connected OK FAIL MS ERROR
 *   echo MS		8 bytes on each		-> echoed OK FAIL MS
 *   finish MS		8 bytes, half-close, the echo and the server's close
 *			on each			-> finished OK RST FAIL MS
 *   wait-close MS	until the server closes	-> closed CLEAN RST OTHER OPEN MS
 *   drop		close every connection	-> dropped N
 *   quit
 * MS in a command is the phase's deadline; in an answer, its duration.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW		2048	/* connects or echoes in flight */
#define EVENTS		1024
#define MSG		8

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { C_FREE, C_CONNECTING, C_OPEN, C_SENT, C_FIN_WAIT };

struct conn {
	int		fd;
	uint8_t		st;
	uint8_t		got;
};

static struct conn	*cv;
static uint32_t		 cn, ccap;
static int		 ep;
static struct sockaddr_in dst;
static uint32_t		 src_first, nsrc, id;

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
conn_drop(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
}

static int
open_one(uint32_t i)
{
	struct sockaddr_in	src = { .sin_family = AF_INET };
	struct epoll_event	ev = { .events = EPOLLOUT, .data.u32 = i };
	int			fd, one = 1;

	src.sin_addr.s_addr = htonl(src_first + i % nsrc);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		one = errno;
		close(fd);
		return one;
	}
	cv[i].fd = fd;
	cv[i].st = C_CONNECTING;
	cv[i].got = 0;
	return 0;
}

/* One connect finished: keep it, or count its error. */
static int
connected(struct conn *c, uint32_t i)
{
	struct epoll_event	ev = { .events = EPOLLIN, .data.u32 = i };
	socklen_t		len = sizeof(int);
	int			err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0 && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		err = errno;
	if (err != 0) {
		conn_drop(c);
		return err;
	}
	c->st = C_OPEN;
	return 0;
}

static void
cmd_connect(uint32_t n, uint64_t deadline)
{
	struct epoll_event	ev[EVENTS];
	uint64_t		t0 = now_ms();
	uint32_t		i = cn, ok = 0, fail = 0, busy = 0;
	int			k, j, err, first = 0;

	if (cn + n > ccap)
		n = ccap - cn;
	while ((i < cn + n || busy > 0) && now_ms() < deadline) {
		while (i < cn + n && busy < WINDOW) {
			if ((err = open_one(i++)) == 0)
				busy++;
			else if (fail++ == 0)
				first = err;
		}
		k = epoll_wait(ep, ev, EVENTS, 100);
		for (j = 0; j < k; j++) {
			struct conn *c = &cv[ev[j].data.u32];

			if (c->st != C_CONNECTING)
				continue;
			busy--;
			if ((err = connected(c, ev[j].data.u32)) == 0)
				ok++;
			else if (fail++ == 0)
				first = err;
		}
	}
	for (j = (int)cn; (uint32_t)j < i; j++)
		if (cv[j].st == C_CONNECTING) {
			conn_drop(&cv[j]);
			fail++;
		}
	fail += cn + n - i;
	cn = i > cn + n ? i : cn + n;
	printf("connected %u %u %llu %s\n", ok, fail,
	    (unsigned long long)(now_ms() - t0),
	    first ? strerror(first) : "-");
}

static void
msg_of(uint32_t i, unsigned char *m)
{
	uint32_t	a = htonl(id), b = htonl(i);

	memcpy(m, &a, 4);
	memcpy(m + 4, &b, 4);
}

/* Read what came back on c; 1 complete, 0 not yet, -1 wrong or closed. */
static int
echo_read(struct conn *c, uint32_t i)
{
	unsigned char	m[MSG], r[MSG];
	ssize_t		n;

	msg_of(i, m);
	n = recv(c->fd, r, MSG - c->got, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || memcmp(r, m + c->got, (size_t)n) != 0)
		return -1;
	c->got += (uint8_t)n;
	if (c->got < MSG)
		return 0;
	c->got = 0;
	c->st = C_OPEN;
	return 1;
}

static int
echo_send(struct conn *c, uint32_t i)
{
	unsigned char	m[MSG];

	msg_of(i, m);
	if (send(c->fd, m, MSG, MSG_NOSIGNAL) != MSG)
		return -1;
	c->st = C_SENT;
	return 0;
}

static void
cmd_echo(uint64_t deadline)
{
	struct epoll_event	ev[EVENTS];
	uint64_t		t0 = now_ms();
	uint32_t		i = 0, ok = 0, fail = 0, busy = 0;
	int			k, j, rc;

	while ((i < cn || busy > 0) && now_ms() < deadline) {
		for (; i < cn && busy < WINDOW; i++) {
			if (cv[i].st != C_OPEN)
				continue;
			if (echo_send(&cv[i], i) == 0)
				busy++;
			else {
				conn_drop(&cv[i]);
				fail++;
			}
		}
		k = epoll_wait(ep, ev, EVENTS, 100);
		for (j = 0; j < k; j++) {
			struct conn *c = &cv[ev[j].data.u32];

			if (c->st != C_SENT) {
				/* Closed while held: lost before its turn. */
				if (c->st == C_OPEN) {
					conn_drop(c);
					fail++;
				}
				continue;
			}
			if ((rc = echo_read(c, ev[j].data.u32)) == 0)
				continue;
			busy--;
			if (rc == 1)
				ok++;
			else {
				conn_drop(c);
				fail++;
			}
		}
	}
	for (j = 0; (uint32_t)j < cn; j++)
		if (cv[j].st == C_SENT || (cv[j].st == C_OPEN &&
		    (uint32_t)j >= i)) {
			conn_drop(&cv[j]);
			fail++;
		}
	printf("echoed %u %u %llu\n", ok, fail,
	    (unsigned long long)(now_ms() - t0));
}

/* The server closed c: 0 a clean end of file, 1 a reset, 2 data. */
static int close_kind(struct conn *);

/* One event of a finishing connection: -1 not done, else close_kind's. */
static int
finish_event(struct conn *c, uint32_t i)
{
	int	rc;

	if (c->st == C_SENT) {
		if ((rc = echo_read(c, i)) == 0)
			return -1;
		if (rc == -1)
			return errno == ECONNRESET ? 1 : 2;
		c->st = C_FIN_WAIT;
	}
	return close_kind(c);
}

static int
finish_send(struct conn *c, uint32_t i)
{
	if (echo_send(c, i) == -1 || shutdown(c->fd, SHUT_WR) == -1)
		return -1;
	return 0;
}

/*
 * A session's end, as a client finishes it during a drain: the last
 * echo, a half-close, the echo back and the server's clean close.
 */
static void
cmd_finish(uint64_t deadline)
{
	struct epoll_event	ev[EVENTS];
	uint64_t		t0 = now_ms();
	uint32_t		i = 0, busy = 0, kind[3] = { 0, 0, 0 };
	int			k, j, rc;

	while ((i < cn || busy > 0) && now_ms() < deadline) {
		for (; i < cn && busy < WINDOW; i++) {
			if (cv[i].st != C_OPEN)
				continue;
			if (finish_send(&cv[i], i) == 0)
				busy++;
			else {
				conn_drop(&cv[i]);
				kind[2]++;
			}
		}
		k = epoll_wait(ep, ev, EVENTS, 100);
		for (j = 0; j < k; j++) {
			struct conn *c = &cv[ev[j].data.u32];

			if (c->st == C_OPEN) {
				/* Closed before its turn: lost. */
				if ((rc = close_kind(c)) == -1)
					continue;
				kind[rc == 0 ? 2 : rc]++;
				conn_drop(c);
				continue;
			}
			if ((c->st != C_SENT && c->st != C_FIN_WAIT) ||
			    (rc = finish_event(c, ev[j].data.u32)) == -1)
				continue;
			busy--;
			kind[rc]++;
			conn_drop(c);
		}
	}
	for (j = 0; (uint32_t)j < cn; j++)
		if (cv[j].st != C_FREE) {
			conn_drop(&cv[j]);
			kind[2]++;
		}
	printf("finished %u %u %u %llu\n", kind[0], kind[1], kind[2],
	    (unsigned long long)(now_ms() - t0));
}

static int
close_kind(struct conn *c)
{
	char		b[64];
	ssize_t		n;

	n = recv(c->fd, b, sizeof(b), 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n == 0)
		return 0;
	return n < 0 ? 1 : 2;
}

static void
cmd_wait_close(uint64_t deadline)
{
	struct epoll_event	ev[EVENTS];
	uint64_t		t0 = now_ms(), last = t0;
	uint32_t		left = 0, kind[3] = { 0, 0, 0 };
	int			k, j, rc;

	for (j = 0; (uint32_t)j < cn; j++)
		if (cv[j].st == C_OPEN)
			left++;
	while (left > 0 && now_ms() < deadline) {
		k = epoll_wait(ep, ev, EVENTS, 100);
		for (j = 0; j < k; j++) {
			struct conn *c = &cv[ev[j].data.u32];

			if (c->st != C_OPEN || (rc = close_kind(c)) == -1)
				continue;
			kind[rc]++;
			conn_drop(c);
			left--;
			last = now_ms();
		}
	}
	printf("closed %u %u %u %u %llu\n", kind[0], kind[1], kind[2], left,
	    (unsigned long long)(last - t0));
}

static void
cmd_drop(void)
{
	uint32_t	i, n = 0;

	for (i = 0; i < cn; i++)
		if (cv[i].fd != -1) {
			conn_drop(&cv[i]);
			n++;
		}
	cn = 0;
	printf("dropped %u\n", n);
}

static int
setup(int argc, char **argv)
{
	struct rlimit	rl;
	struct in_addr	a;
	uint32_t	i;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &a) != 1)
		return -1;
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
	src_first = ntohl(a.s_addr);
	nsrc = (uint32_t)strtoul(argv[4], NULL, 10);
	id = (uint32_t)strtoul(argv[5], NULL, 10);
	if (nsrc == 0 || getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	ccap = rl.rlim_cur > 64 ? (uint32_t)rl.rlim_cur - 64 : 0;
	if ((cv = calloc(ccap + 1, sizeof(*cv))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i <= ccap; i++)
		cv[i].fd = -1;
	return 0;
}

int
main(int argc, char **argv)
{
	char		line[128];
	unsigned long	a, b;

	if (setup(argc, argv) == -1) {
		fprintf(stderr, "usage: hold DST PORT SRC_FIRST NSRC ID\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		a = b = 0;
		if (sscanf(line, "connect %lu %lu", &a, &b) == 2)
			cmd_connect((uint32_t)a, now_ms() + b);
		else if (sscanf(line, "echo %lu", &a) == 1)
			cmd_echo(now_ms() + a);
		else if (sscanf(line, "finish %lu", &a) == 1)
			cmd_finish(now_ms() + a);
		else if (sscanf(line, "wait-close %lu", &a) == 1)
			cmd_wait_close(now_ms() + a);
		else if (strncmp(line, "drop", 4) == 0)
			cmd_drop();
		else if (strncmp(line, "quit", 4) == 0)
			break;
		else
			printf("error unknown command\n");
	}
	return 0;
}
