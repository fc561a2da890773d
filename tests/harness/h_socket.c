/* SPDX-License-Identifier: ISC */
/*
 * h_socket.c: talking to a daemon over real sockets, each step with a
 * deadline: connect, send everything, receive exactly n bytes, echo.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static int
connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
    int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	elen = sizeof(int);
	int		err = 0, flags;

	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, sa, len) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		if (poll(&pfd, 1, timeout_ms) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

/* A blocking, connected socket, or -1 with errno. */
int
h_connect(const char *host, unsigned port, int timeout_ms)
{
	struct addrinfo	hints, *res;
	char		service[16];
	int		fd, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect_deadline(fd, res->ai_addr, res->ai_addrlen,
	    timeout_ms) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	freeaddrinfo(res);
	return fd;
}

/* errno of a connect attempt (0 when it connected). */
int
h_connect_error(const char *host, unsigned port)
{
	int	fd = h_connect(host, port, 2000);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

int
h_connect_unix(const char *path, int timeout_ms)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect_deadline(fd, (struct sockaddr *)&sun,
	    sizeof(sun), timeout_ms) == -1) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	return fd;
}

int
h_send_all(int fd, const void *buf, size_t n, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	uint64_t	 deadline = sig_monotonic_ms() + timeout_ms;
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if (poll(&pfd, 1, h_remaining_ms(deadline)) != 1)
			return -1;
		if ((w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Receive exactly n bytes; returns how many came before EOF, error or timeout. */
ssize_t
h_recv_n(int fd, void *buf, size_t n, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	uint64_t	 deadline = sig_monotonic_ms() + timeout_ms;
	char		*p = buf;
	size_t		 got = 0;
	ssize_t		 r;

	while (got < n) {
		if (poll(&pfd, 1, h_remaining_ms(deadline)) != 1)
			break;
		r = recv(fd, p + got, n - got, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	return (ssize_t)got;
}

/* 0 when the peer closes (EOF or reset) in time, 1 if data came, -1 timeout. */
int
h_recv_eof(int fd, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;
	ssize_t		r;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	if (r == 0 || (r == -1 && errno == ECONNRESET))
		return 0;
	return r == 1 ? 1 : -1;
}

/* Send "out" and receive as many bytes, both at once (no deadlock). */
int
h_echo(int fd, const void *out, size_t n, void *in, int timeout_ms)
{
	struct pollfd	 pfd;
	uint64_t	 deadline = sig_monotonic_ms() + timeout_ms;
	const char	*o = out;
	char		*i = in;
	size_t		 sent = 0, got = 0;
	ssize_t		 r;

	while (got < n) {
		pfd.fd = fd;
		pfd.events = POLLIN | (sent < n ? POLLOUT : 0);
		if (poll(&pfd, 1, h_remaining_ms(deadline)) != 1)
			return -1;
		if (pfd.revents & POLLOUT && sent < n) {
			r = send(fd, o + sent, n - sent, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			if (r > 0)
				sent += r;
			else if (r == -1 && errno != EAGAIN)
				return -1;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, i + got, n - got, MSG_DONTWAIT);
			if (r == 0 || (r == -1 && errno != EAGAIN))
				return -1;
			if (r > 0)
				got += r;
		}
	}
	return 0;
}

/* Connect, send "text", half-close, expect it back and EOF (both modes). */
int
h_roundtrip(const char *host, unsigned port, const char *text)
{
	size_t	n = strlen(text);
	char	buf[4096];
	int	fd, r = -1;

	if (n > sizeof(buf) || (fd = h_connect(host, port, 5000)) == -1)
		return -1;
	if (h_send_all(fd, text, n, 10000) == 0 && shutdown(fd, SHUT_WR) == 0 &&
	    h_recv_n(fd, buf, n, 10000) == (ssize_t)n &&
	    memcmp(buf, text, n) == 0 && h_recv_eof(fd, 10000) == 0)
		r = 0;
	close(fd);
	return r;
}

void
h_random(void *buf, size_t n, unsigned seed)
{
	unsigned char	*p = buf;
	uint64_t	 x = seed * 2654435761u + 1;
	size_t		 i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}
