/* SPDX-License-Identifier: ISC */
/*
 * admit.c: a worker's door. Right after accept() and before any byte is
 * read or written it asks the access list (and the per-client limits)
 * whether to serve the peer; a refused connection is reset at once,
 * counted on the scoreboard and noticed at most once a minute per source.
 * It owns no connection that it lets in.
 */
#include "build-config.h"

#include <arpa/inet.h>

#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "listen.h"
#include "log.h"

void
admit_init(struct admit *a, const struct config *cfg,
    struct scoreboard_slot *slot)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->slot = slot;
}

const char *
admit_reason_text(enum admit_reason r)
{
	switch (r) {
	case ADMIT_OK:
		return "admitted";
	case ADMIT_DENIED:
		return "denied by allow/deny";
	case ADMIT_TOO_MANY:
		return "over max_connections_per_client";
	case ADMIT_TOO_FAST:
		return "over max_new_connections_per_client";
	case ADMIT_TABLE_FULL:
		return "the client table is full";
	}
	return "?";
}

/*
 * Whether to log a notice about this source now: once a minute at most
 * per source, for the ADMIT_NOTICE_SOURCES most recent sources; a new
 * source takes the place of the one noticed longest ago.
 */
bool
admit_notice_due(struct admit_notices *n, const struct acl_addr *addr,
    uint64_t now_ms)
{
	size_t	i, oldest = 0;

	for (i = 0; i < ADMIT_NOTICE_SOURCES; i++) {
		if (n->at_ms[i] != 0 &&
		    memcmp(&n->addr[i], addr, sizeof(*addr)) == 0) {
			if (now_ms - n->at_ms[i] < ADMIT_NOTICE_EVERY_MS)
				return false;
			n->at_ms[i] = now_ms;
			return true;
		}
		if (n->at_ms[i] < n->at_ms[oldest])
			oldest = i;
	}
	n->addr[oldest] = *addr;
	n->at_ms[oldest] = now_ms == 0 ? 1 : now_ms;
	return true;
}

/*
 * A reset, not a FIN: the peer learns at once that it is refused, and
 * the worker keeps no socket in FIN-WAIT or TIME-WAIT for it.
 */
static void
refuse(int fd)
{
	struct linger	l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void
say_refused(struct admit *a, const struct sockaddr *sa, socklen_t len,
    enum admit_reason r, uint64_t now_ms)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	struct acl_addr		addr;
	char			peer[LISTEN_NAME_MAX];
	bool			due;

	if (acl_addr_from_sockaddr(sa, len, &addr) == -1)
		memset(&addr, 0, sizeof(addr));
	due = admit_notice_due(&a->notices, &addr, now_ms);
	if (!due && !log_enabled(LOG_DEBUG))
		return;
	listen_format(sa, len, peer, sizeof(peer));
	log_field(&f, "REMOTE_ADDR", "%s", peer);
	log_field(&f, "REFUSED", "%s", admit_reason_text(r));
	log_event(due ? LOG_NOTICE : LOG_DEBUG, NULL, &f, "%s: connection "
	    "refused: %s%s", peer, admit_reason_text(r), due ?
	    " (further refusals of this source within a minute are logged "
	    "at debug level)" : "");
}

/* Serve the connection (true), or refuse and close it (false). */
bool
admit_connection(struct admit *a, int fd, const struct sockaddr *sa,
    socklen_t len, uint64_t now_ms)
{
	enum admit_reason	r = ADMIT_OK;

	if (acl_check(&a->cfg->acl, sa, len) != ACL_ALLOW)
		r = ADMIT_DENIED;
	if (r == ADMIT_OK)
		return true;
	refuse(fd);
	if (r == ADMIT_DENIED)
		SCOREBOARD_ADD(a->slot->refused_acl, 1);
	else
		SCOREBOARD_ADD(a->slot->refused_limit, 1);
	say_refused(a, sa, len, r, now_ms);
	return false;
}
