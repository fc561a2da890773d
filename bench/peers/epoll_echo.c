/* SPDX-License-Identifier: ISC */
/*
 * epoll_echo.c: the "limit" reference for the benchmark: the least an
 * epoll echo server can do. Level-triggered, one shared read buffer, a
 * per-connection copy only of what a short write left unsent, and no
 * reading on a connection until that is sent (backpressure). No limits,
 * no timeouts, no logging: it must not grow features.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

#define READ_BUF_BYTES	65536
#define EVENTS_MAX	256

struct pending {
	size_t		 off;
	size_t		 len;
	unsigned char	 data[];
};

static struct pending	**pending;	/* by descriptor */
static unsigned char	  rbuf[READ_BUF_BYTES];

static void
conn_close(int fd)
{
	free(pending[fd]);
	pending[fd] = NULL;
	close(fd);
}

/* Write from p; 1 when all is sent, 0 when some is left, -1 on error. */
static int
conn_write(int fd, const unsigned char *p, size_t len, size_t *off)
{
	ssize_t n;

	while (*off < len) {
		n = send(fd, p + *off, len - *off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		*off += (size_t)n;
	}
	return 1;
}

static void
conn_readable(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
	struct pending *p;
	ssize_t n;
	size_t off = 0;
	int rc;

	n = recv(fd, rbuf, sizeof(rbuf), 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(fd);
		return;
	}
	if ((rc = conn_write(fd, rbuf, (size_t)n, &off)) == 1)
		return;
	if (rc == -1 || (p = malloc(sizeof(*p) + (size_t)n - off)) == NULL) {
		conn_close(fd);
		return;
	}
	p->off = 0;
	p->len = (size_t)n - off;
	memcpy(p->data, rbuf + off, p->len);
	pending[fd] = p;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void
conn_writable(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	struct pending *p = pending[fd];
	int rc;

	if ((rc = conn_write(fd, p->data, p->len, &p->off)) == 0)
		return;
	if (rc == -1) {
		conn_close(fd);
		return;
	}
	free(p);
	pending[fd] = NULL;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void
accept_all(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    != -1) {
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			close(fd);
	}
}

static int
echo_loop(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	struct epoll_event evs[EVENTS_MAX];
	int ep, i, n;

	if ((pending = calloc(peer_fds_max(), sizeof(*pending))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		return -1;
	for (;;) {
		if ((n = epoll_wait(ep, evs, EVENTS_MAX, -1)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(ep, lfd);
			else if (pending[evs[i].data.fd] != NULL)
				conn_writable(ep, evs[i].data.fd);
			else
				conn_readable(ep, evs[i].data.fd);
		}
	}
}

int
main(int argc, char **argv)
{
	return peer_main(argc, argv, echo_loop);
}
