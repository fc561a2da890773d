/* SPDX-License-Identifier: ISC */
/*
 * listen_adopt.c: take over the sockets systemd passed (socket
 * activation, sd_listen_fds). It never binds, closes or unlinks a socket:
 * an adopted listener is closed by listen_close_*() like any other.
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "listen_int.h"

/*
 * What a passed socket is for: SOCK_STREAM (listening), SOCK_DGRAM
 * (ListenDatagram= on an Internet address), or -1: neither.
 */
static int
adopted_type(int fd)
{
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
		return SOCK_STREAM;
	if (sd_is_socket(fd, AF_INET, SOCK_DGRAM, -1) > 0 ||
	    sd_is_socket(fd, AF_INET6, SOCK_DGRAM, -1) > 0)
		return SOCK_DGRAM;
	return -1;
}

static void
adopt_error(char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot use the sockets passed by systemd: %s",
	    strerror(errno));
}

/* Take over one socket systemd passed: non-blocking, close-on-exec. */
static int
adopt_one(struct listener *l, int fd, const char *name, char *err,
    size_t errlen)
{
	int	flags;

	if ((l->socktype = adopted_type(fd)) == -1) {
		snprintf(err, errlen, "file descriptor %d passed by systemd "
		    "(%s) is neither a listening stream socket nor an "
		    "Internet datagram socket", fd, name);
		errno = ENOTSOCK;
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		goto fail_errno;
	l->fd = fd;
	l->activated = true;
	l->sa.len = sizeof(l->sa.ss);
	if (getsockname(fd, (struct sockaddr *)&l->sa.ss, &l->sa.len) == -1)
		goto fail_errno;
	if (l->socktype == SOCK_DGRAM &&
	    listen_dgram_setup(fd, l->sa.ss.ss_family) == -1)
		goto fail_errno;
	if (l->socktype == SOCK_STREAM &&
	    listen_stream_setup(fd, l->sa.ss.ss_family) == -1)
		goto fail_errno;
	listen_name_listener(l);
	return 0;

fail_errno:
	adopt_error(err, errlen);
	return -1;
}

/* Take over the sockets systemd passed (LISTEN_FDS), and clear LISTEN_*. */
int
listen_adopt(struct listeners *out, char *err, size_t errlen)
{
	char	**names = NULL;
	int	  n, i;

	out->v = NULL;
	out->n = 0;
	if ((n = sd_listen_fds_with_names(1, &names)) < 0) {
		snprintf(err, errlen, "cannot read the sockets passed by "
		    "systemd: %s", strerror(-n));
		errno = -n;
		return -1;
	}
	if (n == 0)
		return 0;
	if ((out->v = calloc(n, sizeof(*out->v))) == NULL) {
		adopt_error(err, errlen);
		goto fail;
	}
	for (i = 0; i < n; i++, out->n++)
		if (adopt_one(&out->v[i], SD_LISTEN_FDS_START + i,
		    names != NULL ? names[i] : "?", err, errlen) == -1)
			goto fail;
done:
	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
	return n;

fail:
	free(out->v);
	out->v = NULL;
	out->n = 0;
	n = -1;
	goto done;
}
