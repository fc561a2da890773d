/* SPDX-License-Identifier: ISC */
/*
 * listen.c: open (bind, options, backlog), reuse across a reload, mark and
 * close the listening sockets. Parsing is listen_addr.c's, resolving
 * listen_resolve.c's, systemd's sockets listen_adopt.c's. It never accepts
 * a connection and never shutdown()s a listening socket.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/listen.h"
#include "net/listen_int.h"
#include "core/log.h"
#include "core/safepath.h"

#define UNIX_SOCKET_MODE	0666	/* an echo service is for every local user */

/* A listener's name: its address, after "udp:" or "stamp:" for a datagram socket. */
void
listen_name_listener(struct listener *l)
{
	size_t	off = 0;

	if (l->socktype == SOCK_DGRAM)
		off = (size_t)snprintf(l->name, sizeof(l->name), "%s",
		    l->stamp ? "stamp:" : "udp:");
	listen_format((struct sockaddr *)&l->sa.ss, l->sa.len, l->name + off,
	    sizeof(l->name) - off);
}

/*
 * A UDP socket learns the address each datagram was sent to, so that the
 * answer leaves from it (a wildcard socket on a host with several
 * addresses) and the loop rules can see it. An IPv6 socket asks for
 * IP_PKTINFO too: on a dual-stack one (systemd's ListenDatagram=7), only
 * that says whether an IPv4 datagram was sent to a broadcast address.
 */
int
listen_dgram_setup(int fd, int family)
{
	int	one = 1;

	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVPKTINFO, &one, sizeof(one)) == -1)
		return -1;
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/*
 * A STAMP reflector's socket also gives each datagram's kernel receive
 * time (T2, SO_TIMESTAMPNS) and its TTL or hop limit, which the answer
 * reports; answers leave with TTL 255 (RFC 5357 section 4.2, which
 * STAMP's reflectors follow), so that the sender may check them.
 */
int
listen_stamp_setup(int fd, int family)
{
	int	one = 1, ttl = 255;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == -1)
		return -1;
	if (family != AF_INET6)
		return 0;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
	    sizeof(ttl)) == -1)
		return -1;
	return 0;
}

/*
 * Echo is interactive: never hold a small reply back (Nagle). Set on the
 * listening socket, TCP_NODELAY is inherited by every connection that
 * accept() returns, so no connection pays a system call for it.
 */
int
listen_stream_setup(int fd, int family)
{
	int	one = 1;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * A socket file left behind by a crashed run is removed; one that a live
 * process listens on, or a file that is not a socket, is an error.
 */
static int
unix_prepare(const char *path, char *err, size_t errlen)
{
	if (safepath_unix_clear(path) == 0)
		return 0;
	if (errno == SAFEPATH_EKIND) {
		snprintf(err, errlen, "unix:%s exists and is not a socket",
		    path);
		errno = EEXIST;
	} else if (errno == EADDRINUSE)
		snprintf(err, errlen, "unix:%s: another process listens on it",
		    path);
	return -1;
}

/*
 * The address, a socket file through safepath: its mode is set as it is
 * created, never by a chmod() of the path afterwards.
 */
static int
bind_one(int fd, const struct listener *l, bool file)
{
	const struct sockaddr_un *sun = (struct sockaddr_un *)&l->sa.ss;

	if (file)
		return safepath_bind_unix(fd, sun->sun_path, UNIX_SOCKET_MODE);
	return bind(fd, (struct sockaddr *)&l->sa.ss, l->sa.len);
}

static int
open_one(struct listener *l, int backlog, char *err, size_t errlen)
{
	const struct sockaddr_un	*sun = (struct sockaddr_un *)&l->sa.ss;
	int				 family = l->sa.ss.ss_family;
	int				 fd, one = 1, saved;
	bool				 file;

	file = family == AF_UNIX && sun->sun_path[0] != '\0';
	err[0] = '\0';
	if (file && unix_prepare(sun->sun_path, err, errlen) == -1)
		goto fail;
	fd = socket(family, l->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (l->socktype == SOCK_DGRAM && listen_dgram_setup(fd, family) == -1)
		goto fail_close;
	if (l->stamp && listen_stamp_setup(fd, family) == -1)
		goto fail_close;
	if (l->socktype == SOCK_STREAM &&
	    listen_stream_setup(fd, family) == -1)
		goto fail_close;
	if (family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail_close;
	/* [::] means IPv6 only; "*" binds 0.0.0.0 separately. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail_close;
	if (bind_one(fd, l, file) == -1)
		goto fail_close;
	if (l->socktype == SOCK_STREAM && listen(fd, backlog) == -1)
		goto fail_unlink;
	l->fd = fd;
	l->unlink_on_close = file;
	l->activated = false;
	return 0;

fail_unlink:
	saved = errno;
	if (file)
		(void)safepath_unlink(sun->sun_path, S_IFSOCK);
	errno = saved;
fail_close:
	saved = errno;
	close(fd);
	errno = saved;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "cannot listen on %s: %s", l->name,
		    strerror(errno));
	return -1;
}

static const struct listener *
find_same(const struct listeners *ls, const struct listen_sockaddr *sa,
    int socktype)
{
	size_t	i;

	for (i = 0; ls != NULL && i < ls->n; i++)
		if (ls->v[i].socktype == socktype &&
		    listen_sockaddr_equal(&ls->v[i].sa, sa))
			return &ls->v[i];
	return NULL;
}

static int
add_address(struct listeners *out, const struct listeners *keep,
    const struct listen_addr *a, int backlog, char *err, size_t errlen)
{
	struct listen_sockaddr	*sav;
	const struct listener	*old;
	struct listener		*l;
	const char		*why;
	size_t			 nsa, i;

	if (listen_resolve(a, &sav, &nsa, &why) == -1) {
		snprintf(err, errlen, "cannot resolve %s%s%s%s: %s",
		    a->stamp ? "stamp:" : a->socktype == SOCK_DGRAM ? "udp:" : "",
		    a->kind == LISTEN_UNIX ? "unix:" : a->host,
		    a->kind == LISTEN_UNIX ? a->path : ":",
		    a->kind == LISTEN_UNIX ? "" : a->port, why);
		return -1;
	}
	for (i = 0; i < nsa; i++) {
		if (find_same(out, &sav[i], a->socktype) != NULL)
			continue;
		l = reallocarray(out->v, out->n + 1, sizeof(*out->v));
		if (l == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			free(sav);
			return -1;
		}
		out->v = l;
		l = &out->v[out->n];
		memset(l, 0, sizeof(*l));
		l->sa = sav[i];
		l->socktype = a->socktype;
		l->stamp = a->stamp;
		listen_name_listener(l);
		if ((old = find_same(keep, &sav[i], a->socktype)) != NULL) {
			*l = *old;
			/* udp: and stamp: may trade a socket on a reload. */
			if (l->stamp != a->stamp && (!a->stamp ||
			    listen_stamp_setup(l->fd, l->sa.ss.ss_family) == 0)) {
				l->stamp = a->stamp;
				listen_name_listener(l);
			}
			/* A reload may change the backlog of a kept socket. */
			if (!l->activated && l->socktype == SOCK_STREAM)
				(void)listen(l->fd, backlog);
			out->n++;
			continue;
		}
		if (open_one(l, backlog, err, errlen) == -1) {
			if (a->wildcard && errno == EAFNOSUPPORT) {
				log_notice("%s: IPv6 is not available here, "
				    "listening on IPv4 only", l->name);
				continue;
			}
			free(sav);
			return -1;
		}
		out->n++;
	}
	free(sav);
	return 0;
}

/*
 * "backlog = 0" means the kernel's own limit, net.core.somaxconn (4096
 * since Linux 5.4): asking for more is capped to it anyway, and a fixed
 * default would be too short on a host tuned for bursts. Unreadable, it
 * is the C library's SOMAXCONN.
 */
int
listen_backlog(unsigned configured, long somaxconn)
{
	if (configured > 0)
		return (int)configured;
	if (somaxconn > 0 && somaxconn <= INT_MAX)
		return (int)somaxconn;
	return SOMAXCONN;
}

/* net.core.somaxconn, or -1. */
long
listen_somaxconn(void)
{
	char	buf[32];

	if (safepath_read("/proc/sys/net/core/somaxconn", buf, sizeof(buf),
	    NULL) == -1)
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * Make the listening sockets for a list of addresses. Sockets of "keep"
 * whose address is asked for again are reused (same descriptor), so a
 * reload that keeps an address never closes it. On failure nothing that
 * was opened here stays open, and "keep" is untouched.
 */
int
listen_build(struct listeners *out, const struct listeners *keep,
    const struct listen_addr *addrs, size_t naddr, int backlog,
    char *err, size_t errlen)
{
	size_t	i;

	out->v = NULL;
	out->n = 0;
	/* Read at every build: a reload applies a changed sysctl too. */
	backlog = listen_backlog((unsigned)backlog, backlog > 0 ? 0 :
	    listen_somaxconn());
	for (i = 0; i < naddr; i++)
		if (add_address(out, keep, &addrs[i], backlog, err,
		    errlen) == -1)
			goto fail;
	if (out->n == 0) {
		snprintf(err, errlen, "no address to listen on");
		goto fail;
	}
	return 0;

fail:
	listen_close_unused(out, keep);
	return -1;
}

bool
listen_has_fd(const struct listeners *ls, int fd)
{
	size_t	i;

	for (i = 0; ls != NULL && i < ls->n; i++)
		if (ls->v[i].fd == fd)
			return true;
	return false;
}

bool
listen_has_dgram(const struct listeners *ls)
{
	size_t	i;

	for (i = 0; ls != NULL && i < ls->n; i++)
		if (ls->v[i].socktype == SOCK_DGRAM)
			return true;
	return false;
}

bool
listen_has_stamp(const struct listeners *ls)
{
	size_t	i;

	for (i = 0; ls != NULL && i < ls->n; i++)
		if (ls->v[i].stamp)
			return true;
	return false;
}

bool
listen_has_proxy(const struct listeners *ls)
{
	size_t	i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].proxy)
			return true;
	return false;
}

static void
close_one(struct listener *l)
{
	const struct sockaddr_un *sun = (struct sockaddr_un *)&l->sa.ss;

	if (l->unlink_on_close && !l->activated)
		(void)safepath_unlink(sun->sun_path, S_IFSOCK);
	close(l->fd);
	l->fd = -1;
}

static void
listen_free(struct listeners *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

/* Close the sockets of "old" that "cur" does not use, then free "old". */
void
listen_close_unused(struct listeners *old, const struct listeners *cur)
{
	size_t	i;

	for (i = 0; i < old->n; i++)
		if (old->v[i].fd != -1 && !listen_has_fd(cur, old->v[i].fd))
			close_one(&old->v[i]);
	listen_free(old);
}

void
listen_close_all(struct listeners *ls)
{
	size_t	i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].fd != -1)
			close_one(&ls->v[i]);
	listen_free(ls);
}

void
listen_describe(const struct listeners *ls, char *buf, size_t size)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; i < ls->n && off < size; i++) {
		n = snprintf(buf + off, size - off, "%s%s", i ? " " : "",
		    ls->v[i].name);
		if (n < 0)
			break;
		off += n;
	}
}

/*
 * Mark the sockets that expect a PROXY header: with "all", every stream
 * socket (passed ones that no address names too), then as each address
 * that says on or off asks. Returns -1 if an address no longer resolves.
 */
int
listen_mark_proxy(struct listeners *ls, const struct listen_addr *addrs,
    size_t naddr, bool all, const char **why)
{
	struct listen_sockaddr	*sav;
	size_t			 i, j, k, nsa;

	for (k = 0; k < ls->n; k++)
		ls->v[k].proxy = all && ls->v[k].socktype == SOCK_STREAM;
	for (i = 0; i < naddr; i++) {
		if (addrs[i].proxy == LISTEN_PROXY_DEFAULT)
			continue;
		if (listen_resolve(&addrs[i], &sav, &nsa, why) == -1)
			return -1;
		for (j = 0; j < nsa; j++)
			for (k = 0; k < ls->n; k++)
				if (ls->v[k].socktype == addrs[i].socktype &&
				    listen_sockaddr_equal(&ls->v[k].sa,
				    &sav[j]))
					ls->v[k].proxy =
					    addrs[i].proxy == LISTEN_PROXY_ON;
		free(sav);
	}
	return 0;
}
