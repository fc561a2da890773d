/* SPDX-License-Identifier: ISC */
/*
 * listen_addr.c: the text of listen addresses, parsed into struct
 * listen_addr, and socket addresses formatted and compared. Pure: it
 * opens no socket, resolves no name and never logs.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/listen.h"
#include "core/log.h"
#include "net/listen_int.h"

#define STAMP_DEFAULT_PORT	"862"	/* RFC 8762 section 4.1 */

bool
listen_all_digits(const char *s, size_t n)
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
	if (listen_all_digits(port, n)) {
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
 * "stamp:" and an Internet form, or a host alone (a name, an IPv4
 * address, [IPV6] or *) for STAMP's port 862.
 */
static int
parse_stamp(const char *text, struct listen_addr *a, const char **why)
{
	char		buf[LISTEN_HOST_MAX + LISTEN_PORT_MAX + 8];
	const char	*close = strrchr(text, ']');
	bool		 bare;

	if (strncmp(text, "unix:", 5) == 0 || strncmp(text, "udp:", 4) == 0) {
		*why = "STAMP listens on Internet addresses only: "
		    "stamp:HOST[:PORT], stamp:[IPV6][:PORT] or stamp:*[:PORT]";
		return -1;
	}
	bare = text[0] == '[' ? close != NULL && close[1] == '\0' :
	    strchr(text, ':') == NULL && !listen_all_digits(text, strlen(text));
	if (bare && strlen(text) < sizeof(buf) - sizeof(STAMP_DEFAULT_PORT)) {
		snprintf(buf, sizeof(buf), "%s:%s", text, STAMP_DEFAULT_PORT);
		text = buf;
	}
	if (listen_parse(text, a, why) == -1)
		return -1;
	if (a->kind != LISTEN_INET) {
		*why = "STAMP listens on Internet addresses only";
		return -1;
	}
	a->socktype = SOCK_DGRAM;
	a->stamp = true;
	return 0;
}

/*
 * Forms: HOST:PORT, [IPV6]:PORT, *:PORT (every IPv4 and IPv6 address),
 * PORT (the same as *:PORT), unix:/path and unix:@abstract; "udp:"
 * before an Internet form asks for a datagram socket instead, "stamp:"
 * for a STAMP reflector's, whose port may be left out (862).
 */
int
listen_parse(const char *text, struct listen_addr *a, const char **why)
{
	const char	*end, *colon;

	memset(a, 0, sizeof(*a));
	a->socktype = SOCK_STREAM;
	if (strncmp(text, "stamp:", 6) == 0)
		return parse_stamp(text + 6, a, why);
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
	if (listen_all_digits(text, strlen(text))) {
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

/*
 * A Unix peer chose its own name, and an abstract name may hold any byte:
 * escaped (log_escape()), it cannot forge a log line or a field.
 */
static void
unix_format(const struct sockaddr_un *sun, socklen_t len, char *buf,
    size_t size)
{
	size_t	pathlen, at;

	if (len <= offsetof(struct sockaddr_un, sun_path) || size < 7) {
		snprintf(buf, size, "unix:(unnamed)");
		return;
	}
	pathlen = len - offsetof(struct sockaddr_un, sun_path);
	if (pathlen > sizeof(sun->sun_path))
		pathlen = sizeof(sun->sun_path);
	if (sun->sun_path[0] == '\0') {
		memcpy(buf, "unix:@", 7);
		at = 1;
		pathlen--;
	} else {
		memcpy(buf, "unix:", 6);
		at = 0;
		pathlen = strnlen(sun->sun_path, pathlen);
	}
	(void)log_escape(buf + 5 + at, size - 5 - at, sun->sun_path + at,
	    pathlen, true);
}

/* Peer and listener addresses as logs and the status show them, escaped. */
void
listen_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)sa;
	char				 host[INET6_ADDRSTRLEN];
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
		unix_format(sun, len, buf, size);
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
