/* SPDX-License-Identifier: ISC */
/*
 * testserv.c: echo servers that misbehave on purpose, for the ping and
 * bulk tests: what sockechod never does (delay, alter, stay silent, stop
 * reading, lose, duplicate, reorder) has to be played by someone. Each
 * runs in a child that dies with the test (PR_SET_PDEATHSIG), on
 * 127.0.0.1 and a port of its own.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "integ/testserv.h"

static int
bound_socket(int type, unsigned *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		h_die("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 16) == -1) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		h_die("bind");
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
write_all(int fd, const unsigned char *b, size_t n)
{
	ssize_t	w;

	while (n > 0 && (w = write(fd, b, n)) > 0) {
		b += w;
		n -= w;
	}
}

/* One connection at a time: the ping tests make one at a time. */
static void
serve_stream(int lfd, enum testserv_kind kind, unsigned param)
{
	unsigned char	buf[65536];
	uint64_t	off;
	ssize_t		n, i;
	int		c;

	while ((c = accept(lfd, NULL, NULL)) >= 0) {
		if (kind == TESTSERV_DEAF) {
			pause();	/* holds the connection, reads nothing */
			continue;
		}
		off = 0;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			if (kind == TESTSERV_SILENT)
				continue;
			for (i = 0; i < n; i++, off++)
				if (kind == TESTSERV_ALTER && off == param)
					buf[i] ^= 0x55;
			if (kind == TESTSERV_SLOW)
				usleep(param * 1000);
			if (kind == TESTSERV_TRICKLE) {
				for (i = 0; i < n; i++) {
					usleep(param * 1000);
					write_all(c, buf + i, 1);
				}
				continue;
			}
			write_all(c, buf, n);
		}
		close(c);
	}
}

/*
 * By the probe's sequence number (its first 4 bytes) modulo 6: 1 dropped,
 * 2 answered twice, 3 held back and answered after 4, 5 answered with
 * byte 30 altered, 0 and 4 answered as they are.
 */
static void
serve_udp_chaos(int fd)
{
	unsigned char		buf[65536], held[65536];
	struct sockaddr_in	from, held_from;
	socklen_t		len;
	size_t			held_n = 0;
	ssize_t			n;
	uint32_t		seq;

	for (;;) {
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &len);
		if (n < 8)
			continue;
		seq = (uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 |
		    buf[3];
		switch (seq % 6) {
		case 1:
			continue;
		case 3:
			memcpy(held, buf, n);
			held_n = n;
			held_from = from;
			continue;
		case 5:
			if (n > 30)
				buf[30] ^= 0x55;
			break;
		}
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
		if (seq % 6 == 2)
			sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
		if (seq % 6 == 4 && held_n > 0) {
			sendto(fd, held, held_n, 0,
			    (struct sockaddr *)&held_from, sizeof(held_from));
			held_n = 0;
		}
	}
}

pid_t
testserv_start(enum testserv_kind kind, unsigned param, unsigned *port)
{
	int	fd;
	pid_t	pid;

	fd = bound_socket(kind == TESTSERV_UDP_CHAOS ? SOCK_DGRAM :
	    SOCK_STREAM, port);
	if ((pid = fork()) == -1)
		h_die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		if (kind == TESTSERV_UDP_CHAOS)
			serve_udp_chaos(fd);
		else
			serve_stream(fd, kind, param);
		_exit(0);
	}
	close(fd);
	return pid;
}

void
testserv_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
