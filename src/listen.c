/* SPDX-License-Identifier: ISC */
/*
 * listen.c: parse listen addresses, and open, adopt (systemd socket
 * activation), reuse and close the listening sockets. It never accepts a
 * connection and never shutdown()s a listening socket.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "log.h"

#define UNIX_SOCKET_MODE	0666	/* an echo service is for every local user */

static bool
all_digits(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
parse_port(const char *port, struct listen_addr *a, const char **why)
{
	size_t	i, n = strlen(port);

	if (n == 0) {
		*why = "missing port";
		return -1;
	}
	if (n >= sizeof(a->port)) {
		*why = "port too long";
		return -1;
	}
	if (all_digits(port, n)) {
		if (n > 5 || atoi(port) < 1 || atoi(port) > 65535) {
			*why = "port must be between 1 and 65535";
			return -1;
		}
	} else {
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)port[i]) && port[i] != '-' &&
			    port[i] != '_') {
				*why = "port must be a number or a service name";
				return -1;
			}
	}
	memcpy(a->port, port, n + 1);
	return 0;
}

static int
parse_unix(const char *path, struct listen_addr *a, const char **why)
{
	size_t	n = strlen(path);

	a->kind = LISTEN_UNIX;
	if (n == 0) {
		*why = "empty Unix socket path";
		return -1;
	}
	if (path[0] != '/' && path[0] != '@') {
		*why = "Unix socket path must be absolute (or @NAME for an "
		    "abstract socket)";
		return -1;
	}
	if (n >= sizeof(a->path)) {
		*why = "Unix socket path too long";
		return -1;
	}
	memcpy(a->path, path, n + 1);
	return 0;
}

static int
set_host(struct listen_addr *a, const char *host, size_t n, const char **why)
{
	if (n == 0) {
		*why = "missing host (write *:PORT for every address)";
		return -1;
	}
	if (n >= sizeof(a->host)) {
		*why = "host name too long";
		return -1;
	}
	memcpy(a->host, host, n);
	a->host[n] = '\0';
	return 0;
}

/*
 * Forms: HOST:PORT, [IPV6]:PORT, *:PORT (every IPv4 and IPv6 address),
 * PORT (the same as *:PORT), unix:/path and unix:@abstract; "udp:"
 * before an Internet form asks for a datagram socket instead.
 */
int
listen_parse(const char *text, struct listen_addr *a, const char **why)
{
	const char	*end, *colon;

	memset(a, 0, sizeof(*a));
	a->socktype = SOCK_STREAM;
	if (strncmp(text, "udp:", 4) == 0) {
		a->socktype = SOCK_DGRAM;
		text += 4;
		if (strncmp(text, "unix:", 5) == 0) {
			*why = "UDP listens on Internet addresses only: "
			    "udp:HOST:PORT, udp:[IPV6]:PORT or udp:*:PORT";
			return -1;
		}
	} else if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, a, why);
	a->kind = LISTEN_INET;
	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL) {
			*why = "missing ']' after the IPv6 address";
			return -1;
		}
		if (end[1] != ':') {
			*why = "expected :PORT after ']'";
			return -1;
		}
		if (end == text + 1 || memchr(text + 1, ':', end - text - 1) ==
		    NULL) {
			*why = "brackets must hold an IPv6 address";
			return -1;
		}
		if (set_host(a, text + 1, end - text - 1, why) == -1)
			return -1;
		return parse_port(end + 2, a, why);
	}
	if (all_digits(text, strlen(text))) {
		a->wildcard = true;
		return parse_port(text, a, why);
	}
	if ((colon = strrchr(text, ':')) == NULL) {
		*why = "expected HOST:PORT, [IPV6]:PORT, *:PORT, unix:/PATH "
		    "or udp:HOST:PORT";
		return -1;
	}
	if (memchr(text, ':', colon - text) != NULL) {
		*why = "an IPv6 address needs brackets: [ADDRESS]:PORT";
		return -1;
	}
	if (colon - text == 1 && text[0] == '*')
		a->wildcard = true;
	else if (set_host(a, text, colon - text, why) == -1)
		return -1;
	return parse_port(colon + 1, a, why);
}

static int
resolve_unix(const struct listen_addr *a, struct listen_sockaddr *sa)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&sa->ss;
	size_t			 n = strlen(a->path);

	memset(sa, 0, sizeof(*sa));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, a->path, n);
	if (a->path[0] == '@') {
		sun->sun_path[0] = '\0';
		sa->len = offsetof(struct sockaddr_un, sun_path) + n;
	} else
		sa->len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

/* A listener's name: its address, after "udp:" for a datagram socket. */
static void
name_listener(struct listener *l)
{
	size_t	off = 0;

	if (l->socktype == SOCK_DGRAM)
		off = (size_t)snprintf(l->name, sizeof(l->name), "udp:");
	listen_format((struct sockaddr *)&l->sa.ss, l->sa.len, l->name + off,
	    sizeof(l->name) - off);
}

/*
 * A UDP socket learns the address each datagram was sent to, so that the
 * answer leaves from it (a wildcard socket on a host with several
 * addresses) and the loop rules can see it.
 */
static int
dgram_setup(int fd, int family)
{
	int	one = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

static bool
contains(const struct listen_sockaddr *v, size_t n,
    const struct listen_sockaddr *sa)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (listen_sockaddr_equal(&v[i], sa))
			return true;
	return false;
}

/* Digits and dots only: meant as an IPv4 address, not a host name. */
static bool
looks_ipv4(const char *host)
{
	return host[0] != '\0' && strspn(host, "0123456789.") == strlen(host);
}

/*
 * Why getaddrinfo() failed, in the user's terms where we can tell: the
 * resolver's text for a bad port ("Servname not supported for
 * ai_socktype") names neither the port nor what would be right.
 */
static const char *
resolve_error(const struct listen_addr *a, int r)
{
	struct in_addr	in;

	if (r == EAI_SERVICE || ((r == EAI_NONAME || r == EAI_ADDRFAMILY) &&
	    !all_digits(a->port, strlen(a->port)) &&
	    getservbyname(a->port, NULL) == NULL))
		return "not a valid port: a number from 1 to 65535 or a "
		    "service name from /etc/services";
	if (!a->wildcard && looks_ipv4(a->host) &&
	    inet_pton(AF_INET, a->host, &in) != 1)
		return "not an IPv4 address";
	return r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r);
}

/* A Unix socket address stands for one socket address, its own. */
static int
resolve_unix_one(const struct listen_addr *a, struct listen_sockaddr **out,
    size_t *nout, const char **why)
{
	struct listen_sockaddr	*v;

	if ((v = malloc(sizeof(*v))) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	resolve_unix(a, v);
	*out = v;
	*nout = 1;
	return 0;
}

/* Appends ai's address to v[n], unless it is too long or there already. */
static int
add_unique(struct listen_sockaddr **v, size_t *n, const struct addrinfo *ai)
{
	struct listen_sockaddr	sa, *nv;

	if (ai->ai_addrlen > sizeof(sa.ss))
		return 0;
	memset(&sa, 0, sizeof(sa));
	memcpy(&sa.ss, ai->ai_addr, ai->ai_addrlen);
	sa.len = ai->ai_addrlen;
	if (contains(*v, *n, &sa))
		return 0;
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	(*v)[(*n)++] = sa;
	return 0;
}

/* Two passes put IPv4 first, so names and order are predictable. */
static int
collect(const struct addrinfo *res, struct listen_sockaddr **v, size_t *n)
{
	const struct addrinfo	*ai;
	size_t			 pass;

	for (pass = 0; pass < 2; pass++)
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((pass == 0) != (ai->ai_family == AF_INET))
				continue;
			if (add_unique(v, n, ai) == -1)
				return -1;
		}
	return 0;
}

/*
 * The socket addresses one listen address stands for: a host name may
 * resolve to several. The wildcard yields 0.0.0.0 first, then [::].
 */
int
listen_resolve(const struct listen_addr *a, struct listen_sockaddr **out,
    size_t *nout, const char **why)
{
	struct addrinfo		 hints, *res;
	struct listen_sockaddr	*v = NULL;
	size_t			 n = 0;
	int			 r;

	*out = NULL;
	*nout = 0;
	if (a->kind == LISTEN_UNIX)
		return resolve_unix_one(a, out, nout, why);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = a->socktype == SOCK_DGRAM ? SOCK_DGRAM :
	    SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	r = getaddrinfo(a->wildcard ? NULL : a->host, a->port, &hints, &res);
	if (r != 0) {
		*why = resolve_error(a, r);
		return -1;
	}
	r = collect(res, &v, &n);
	freeaddrinfo(res);
	if (r == -1) {
		free(v);
		*why = strerror(ENOMEM);
		return -1;
	}
	if (n == 0) {
		*why = "no usable address";
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

void
listen_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)sa;
	char				 host[INET6_ADDRSTRLEN];
	size_t				 pathlen;
	struct in_addr			 v4;

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
			inet_ntop(AF_INET, &v4, host, sizeof(host));
			snprintf(buf, size, "%s:%u", host,
			    ntohs(sin6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, host,
			    sizeof(host));
			snprintf(buf, size, "[%s]:%u", host,
			    ntohs(sin6->sin6_port));
		}
		break;
	case AF_UNIX:
		if (len <= offsetof(struct sockaddr_un, sun_path)) {
			snprintf(buf, size, "unix:(unnamed)");
			break;
		}
		pathlen = len - offsetof(struct sockaddr_un, sun_path);
		if (sun->sun_path[0] == '\0')
			snprintf(buf, size, "unix:@%.*s", (int)pathlen - 1,
			    sun->sun_path + 1);
		else
			snprintf(buf, size, "unix:%.*s", (int)pathlen,
			    sun->sun_path);
		break;
	default:
		snprintf(buf, size, "(address family %d)", sa->sa_family);
		break;
	}
}

bool
listen_sockaddr_equal(const struct listen_sockaddr *a,
    const struct listen_sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	default:
		return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
	}
}

/*
 * A socket file left behind by a crashed run is removed; one that a live
 * process listens on, or a file that is not a socket, is an error.
 */
static int
unix_prepare(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, r, saved;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "unix:%s exists and is not a socket",
		    path);
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strnlen(path, sizeof(sun.sun_path) - 1));
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "unix:%s: another process listens on it",
		    path);
		errno = EADDRINUSE;
		return -1;
	}
	if (saved != ECONNREFUSED)
		return 0;
	return unlink(path);
}

static int
open_one(struct listener *l, int backlog, char *err, size_t errlen)
{
	const struct sockaddr_un	*sun = (struct sockaddr_un *)&l->sa.ss;
	int				 family = l->sa.ss.ss_family;
	int				 fd, one = 1;
	bool				 file;

	file = family == AF_UNIX && sun->sun_path[0] != '\0';
	err[0] = '\0';
	if (file && unix_prepare(sun->sun_path, err, errlen) == -1)
		goto fail;
	fd = socket(family, l->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (l->socktype == SOCK_DGRAM && dgram_setup(fd, family) == -1)
		goto fail_close;
	if (family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail_close;
	/* [::] means IPv6 only; "*" binds 0.0.0.0 separately. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail_close;
	if (bind(fd, (struct sockaddr *)&l->sa.ss, l->sa.len) == -1)
		goto fail_close;
	if (file && chmod(sun->sun_path, UNIX_SOCKET_MODE) == -1)
		goto fail_unlink;
	if (l->socktype == SOCK_STREAM && listen(fd, backlog) == -1)
		goto fail_unlink;
	l->fd = fd;
	l->unlink_on_close = file;
	l->activated = false;
	return 0;

fail_unlink:
	if (file)
		unlink(sun->sun_path);
fail_close:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
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
		    a->socktype == SOCK_DGRAM ? "udp:" : "",
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
		name_listener(l);
		if ((old = find_same(keep, &sav[i], a->socktype)) != NULL) {
			*l = *old;
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
	long	n = -1;
	FILE	*fp;

	if ((fp = fopen("/proc/sys/net/core/somaxconn", "re")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		n = strtol(buf, NULL, 10);
	fclose(fp);
	return n;
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
	    dgram_setup(fd, l->sa.ss.ss_family) == -1)
		goto fail_errno;
	name_listener(l);
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
		(void)unlink(sun->sun_path);
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
