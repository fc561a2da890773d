/* SPDX-License-Identifier: ISC */
/*
 * proxy_conn.c: take a PROXY header off a connected socket. It peeks at
 * what has arrived, lets proxy.c judge it, and consumes exactly the
 * header, so that the bytes behind it stay for the echo. It keeps no
 * state between calls: no timers, no counters, no logging.
 */
#include "build-config.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "net/proxy_conn.h"

/*
 * Read the header if it is whole. The kernel keeps what was peeked, so
 * each call parses again from the first byte (a header is short). With
 * "hangup" the peer has closed its side: a prefix will never be whole.
 */
enum proxy_conn_status
proxy_conn_read(int fd, bool hangup, struct proxy_header *h, const char **why)
{
	char	buf[PROXY_MAX_BYTES];
	ssize_t	n;

	if ((n = recv(fd, buf, sizeof(buf), MSG_PEEK)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return PROXY_CONN_AGAIN;
		*why = strerror(errno);
		return PROXY_CONN_BAD;
	}
	if (n == 0) {
		*why = "closed before a PROXY header";
		return PROXY_CONN_BAD;
	}
	switch (proxy_parse(buf, (size_t)n, h, why)) {
	case PROXY_OK:
		break;
	case PROXY_ERROR:
		return PROXY_CONN_BAD;
	case PROXY_NEED_MORE:
		if ((size_t)n == sizeof(buf)) {
			*why = "longer than a PROXY header may be";
			return PROXY_CONN_BAD;
		}
		if (hangup) {
			*why = "closed within the PROXY header";
			return PROXY_CONN_BAD;
		}
		return PROXY_CONN_AGAIN;
	}
	/* What was peeked is there: this read takes all of it at once. */
	if (recv(fd, buf, h->bytes, 0) != (ssize_t)h->bytes) {
		*why = "the PROXY header could not be consumed";
		return PROXY_CONN_BAD;
	}
	return PROXY_CONN_OK;
}

/*
 * The client's address: the header's, unless it carries none we can use
 * (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC or AF_UNIX), then the balancer's.
 */
const struct sockaddr *
proxy_conn_source(const struct proxy_header *h, const struct sockaddr *peer,
    socklen_t peerlen, socklen_t *len)
{
	if (h->has_addr) {
		*len = h->srclen;
		return (const struct sockaddr *)&h->src;
	}
	*len = peerlen;
	return peer;
}
