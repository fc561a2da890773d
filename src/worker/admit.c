/* SPDX-License-Identifier: ISC */
/*
 * admit.c: a worker's door. Right after accept() and before any byte is
 * read or written it asks the access list (and the per-client limits)
 * and the per-client table (clients.c) whether to serve the peer; a refused connection is reset at once,
 * counted on the scoreboard and noticed at most once a minute per source.
 * It owns no connection that it lets in.
 */
#include "build-config.h"

#include <arpa/inet.h>

#include <string.h>
#include <unistd.h>

#include "worker/admit.h"
#include "net/listen.h"
#include "core/log.h"

void
admit_init(struct admit *a, const struct config *cfg,
    struct scoreboard_slot *slot, struct clients *clients, uint32_t owner)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->slot = slot;
	a->owner = owner;
	a->limits.max_connections = config_per_client(cfg);
	a->limits.max_new_per_second = cfg->max_new_connections_per_client;
	a->limits.prefix_v4 = cfg->client_prefix_v4;
	a->limits.prefix_v6 = cfg->client_prefix_v6;
	if (a->limits.max_connections > 0 || a->limits.max_new_per_second > 0)
		a->clients = clients;
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
	case ADMIT_PROXY_UNTRUSTED:
		return "not in proxy_trusted (or, on a Unix socket, not root, "
		    "our user or our group), on a PROXY listener";
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
 * The notice admit_notice_due() gave this source was not written (the
 * log's budget cut it): the source is due again at its next refusal.
 */
void
admit_notice_forget(struct admit_notices *n, const struct acl_addr *addr)
{
	size_t	i;

	for (i = 0; i < ADMIT_NOTICE_SOURCES; i++)
		if (n->at_ms[i] != 0 &&
		    memcmp(&n->addr[i], addr, sizeof(*addr)) == 0)
			n->at_ms[i] = 0;
}

/*
 * A line about a peer, within log_peer_lines_per_second for all workers
 * together: a flood of sources (an IPv6 /64 holds 2^64) cannot flood the
 * log, and the master sums up what was cut.
 */
bool
admit_line_allowed(struct admit *a, enum peerlog_kind kind, uint64_t now_ms)
{
	return a->peerlog == NULL || peerlog_allow(a->peerlog, kind,
	    now_ms * 1000, a->cfg->log_peer_lines_per_second);
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
	if (!log_enabled(due ? LOG_NOTICE : LOG_DEBUG))
		return;
	if (!admit_line_allowed(a, PEERLOG_REFUSAL, now_ms)) {
		if (due)
			admit_notice_forget(&a->notices, &addr);
		return;
	}
	listen_format(sa, len, peer, sizeof(peer));
	log_field(&f, "REMOTE_ADDR", "%s", peer);
	log_field(&f, "REFUSED", "%s", admit_reason_text(r));
	log_event(due ? LOG_NOTICE : LOG_DEBUG, NULL, &f, "%s: connection "
	    "refused: %s%s", peer, admit_reason_text(r), due ?
	    " (further refusals of this source within a minute are logged "
	    "at debug level)" : "");
}

/* The per-client limits; peers without an address have none. */
static enum admit_reason
enter(struct admit *a, const struct sockaddr *sa, socklen_t len,
    uint64_t now_ms, struct admit_ticket *t)
{
	struct acl_addr	addr;

	if (a->clients == NULL || acl_addr_from_sockaddr(sa, len, &addr) == -1)
		return ADMIT_OK;
	clients_key(&addr, &a->limits, &t->key);
	switch (clients_enter(a->clients, &t->key, a->owner, &a->limits,
	    now_ms)) {
	case CLIENTS_OK:
		t->counted = true;
		return ADMIT_OK;
	case CLIENTS_TOO_MANY:
		return ADMIT_TOO_MANY;
	case CLIENTS_TOO_FAST:
		return ADMIT_TOO_FAST;
	case CLIENTS_FULL:
		break;
	}
	return ADMIT_TABLE_FULL;
}

void
admit_leave(struct admit *a, struct admit_ticket *t)
{
	if (t->counted && a->clients != NULL)
		clients_leave(a->clients, &t->key, a->owner);
	t->counted = false;
}

/* Serve the connection (true), or refuse and close it (false). */
bool
admit_connection(struct admit *a, int fd, const struct sockaddr *sa,
    socklen_t len, uint64_t now_ms, struct admit_ticket *t)
{
	enum admit_reason	r = ADMIT_OK;

	memset(t, 0, sizeof(*t));
	if (acl_check(&a->cfg->acl, sa, len) != ACL_ALLOW)
		r = ADMIT_DENIED;
	else
		r = enter(a, sa, len, now_ms, t);
	t->why = r;
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

/*
 * A PROXY listener serves only the load balancers in proxy_trusted: from
 * anyone else a header would be a forged client address. A Unix socket's
 * peers have no address to list: admit_unix_peer_trusted() decides.
 */
bool
admit_proxy_trusted(const struct acl_list *trusted, const struct sockaddr *sa,
    socklen_t len)
{
	struct acl_addr	addr;
	size_t		i;

	if (acl_addr_from_sockaddr(sa, len, &addr) == -1)
		return false;
	for (i = 0; i < trusted->n; i++)
		if (acl_prefix_match(&trusted->v[i], &addr))
			return true;
	return false;
}

/*
 * The peer of a Unix PROXY listener, by the credentials the kernel gives
 * (SO_PEERCRED): root, our own user, or a process whose group is ours
 * (HAProxy's "group" setting). Any local user may connect to the socket
 * (its file is 0666; an abstract one has no file), and none of them may
 * name a client address.
 */
bool
admit_unix_peer_trusted(uid_t uid, gid_t gid, uid_t self_uid, gid_t self_gid)
{
	return uid == 0 || uid == self_uid || gid == self_gid;
}

static bool
proxy_peer_trusted(const struct admit *a, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	struct ucred	cred;
	socklen_t	clen = sizeof(cred);

	if (sa->sa_family != AF_UNIX)
		return admit_proxy_trusted(&a->cfg->proxy_trusted, sa, len);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
		return false;
	return admit_unix_peer_trusted(cred.uid, cred.gid, geteuid(),
	    getegid());
}

/* A peer of a PROXY listener: true if it may send a header, else reset. */
bool
admit_proxy_peer(struct admit *a, int fd, const struct sockaddr *sa,
    socklen_t len, uint64_t now_ms)
{
	if (proxy_peer_trusted(a, fd, sa, len))
		return true;
	refuse(fd);
	SCOREBOARD_ADD(a->slot->proxy[SCOREBOARD_PROXY_UNTRUSTED], 1);
	say_refused(a, sa, len, ADMIT_PROXY_UNTRUSTED, now_ms);
	return false;
}

/*
 * A connection whose PROXY header is read. With an address, it is that
 * client's, admitted as if it had come itself. A v2 LOCAL header is the
 * trusted balancer's own connection, its health check: admitted, and
 * outside the per-client limits (proxy_trusted let the balancer in at
 * accept; refusing its checks because allow lists only the client
 * networks would take every backend out of its pool). Any other header
 * without a usable address (v1 UNKNOWN, v2 UNSPEC or AF_UNIX) passes on a
 * client we cannot name: it is admitted as the balancer, "peer", with
 * allow/deny and the per-client limits.
 */
bool
admit_proxied(struct admit *a, int fd, const struct proxy_header *h,
    const struct sockaddr *peer, socklen_t peerlen, uint64_t now_ms,
    struct admit_ticket *t)
{
	if (h->local) {
		memset(t, 0, sizeof(*t));
		return true;
	}
	if (h->has_addr)
		return admit_connection(a, fd, (const struct sockaddr *)&h->src,
		    h->srclen, now_ms, t);
	return admit_connection(a, fd, peer, peerlen, now_ms, t);
}
