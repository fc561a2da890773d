/* SPDX-License-Identifier: ISC */
/*
 * listen_resolve.c: the socket addresses a parsed listen address stands
 * for (getaddrinfo, or the Unix path itself), with errors in the user's
 * terms. It opens no socket and never logs.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "net/listen.h"
#include "net/listen_int.h"

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
	    !listen_all_digits(a->port, strlen(a->port)) &&
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
