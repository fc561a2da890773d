/* SPDX-License-Identifier: ISC */
/*
 * listen_adopt.c: take over the sockets systemd passed (socket
 * activation, sd_listen_fds), the echo sockets and the metrics endpoint
 * (the one named "metrics"). It never binds, closes or unlinks a socket:
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

#include "net/listen.h"
#include "net/listen_int.h"

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

/* FileDescriptorName=stamp, or stamp-SOMETHING for several sockets. */
static bool
is_stamp_name(const char *name)
{
	size_t	n = strlen(LISTEN_STAMP_NAME);

	return strncmp(name, LISTEN_STAMP_NAME, n) == 0 &&
	    (name[n] == '\0' || name[n] == '-');
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
	l->stamp = l->socktype == SOCK_DGRAM && is_stamp_name(name);
	if (l->stamp && listen_stamp_setup(fd, l->sa.ss.ss_family) == -1)
		goto fail_errno;
	listen_name_listener(l);
	return 0;

fail_errno:
	adopt_error(err, errlen);
	return -1;
}

/*
 * The socket named "metrics" (FileDescriptorName=metrics) goes to
 * "metrics", once, and must be a listening stream socket.
 */
static struct listeners *
adopt_where(struct listeners *out, struct listeners *metrics,
    const char *name, char *err, size_t errlen)
{
	if (metrics == NULL || strcmp(name, LISTEN_METRICS_NAME) != 0)
		return out;
	if (metrics->n > 0) {
		snprintf(err, errlen, "systemd passed more than one socket "
		    "named \"%s\"", LISTEN_METRICS_NAME);
		errno = EINVAL;
		return NULL;
	}
	if (metrics->v == NULL &&
	    (metrics->v = calloc(1, sizeof(*metrics->v))) == NULL) {
		adopt_error(err, errlen);
		return NULL;
	}
	return metrics;
}

static int
adopt_named(struct listeners *out, struct listeners *metrics, int fd,
    const char *name, char *err, size_t errlen)
{
	struct listeners	*to;

	if ((to = adopt_where(out, metrics, name, err, errlen)) == NULL ||
	    adopt_one(&to->v[to->n], fd, name, err, errlen) == -1)
		return -1;
	to->n++;
	if (to == metrics && to->v[0].socktype != SOCK_STREAM) {
		snprintf(err, errlen, "the socket systemd passed as \"%s\" "
		    "is not a listening stream socket", LISTEN_METRICS_NAME);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * Take over the sockets systemd passed (LISTEN_FDS), and clear LISTEN_*:
 * the echo sockets into "out" (their number is returned), the one named
 * "metrics" into "metrics" unless that is NULL.
 */
int
listen_adopt(struct listeners *out, struct listeners *metrics, char *err,
    size_t errlen)
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
	for (i = 0; i < n; i++)
		if (adopt_named(out, metrics, SD_LISTEN_FDS_START + i,
		    names != NULL ? names[i] : "?", err, errlen) == -1)
			goto fail;
	if ((n = (int)out->n) == 0) {
		free(out->v);
		out->v = NULL;
	}
done:
	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
	return n;

fail:
	free(out->v);
	out->v = NULL;
	out->n = 0;
	if (metrics != NULL) {
		free(metrics->v);
		metrics->v = NULL;
		metrics->n = 0;
	}
	n = -1;
	goto done;
}
