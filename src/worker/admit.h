/* SPDX-License-Identifier: ISC */
/* admit.h: whether a freshly accepted connection is served, decided before any byte. */
#ifndef SOCKECHOD_ADMIT_H
#define SOCKECHOD_ADMIT_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "net/acl.h"
#include "shm/clients.h"
#include "config/config.h"
#include "core/peerlog.h"
#include "net/proxy.h"
#include "shm/scoreboard.h"

/* Sources noticed in the last minute: one notice each, the rest at debug. */
#define ADMIT_NOTICE_SOURCES	64
#define ADMIT_NOTICE_EVERY_MS	60000

struct admit_notices {
	struct acl_addr	addr[ADMIT_NOTICE_SOURCES];
	uint64_t	at_ms[ADMIT_NOTICE_SOURCES];	/* 0: unused */
};

enum admit_reason {
	ADMIT_OK,
	ADMIT_DENIED,		/* deny rule, or not in a non-empty allow */
	ADMIT_TOO_MANY,		/* max_connections_per_client */
	ADMIT_TOO_FAST,		/* max_new_connections_per_client */
	ADMIT_TABLE_FULL,	/* the client table has no room: fail safe */
	ADMIT_PROXY_UNTRUSTED,	/* on a PROXY listener, not in proxy_trusted */
};

struct admit {
	const struct config	*cfg;
	struct scoreboard_slot	*slot;
	struct clients		*clients;	/* NULL: no per-client limits */
	uint32_t		 owner;		/* our slot in the table */
	struct clients_limits	 limits;
	struct admit_notices	 notices;
	struct peerlog		*peerlog;	/* NULL: lines not limited */
};

/* What an admitted connection holds in the client table. */
struct admit_ticket {
	bool			counted;
	struct acl_addr		key;
	enum admit_reason	why;	/* of a refusal, for the connection log */
};

void	admit_init(struct admit *, const struct config *,
	    struct scoreboard_slot *, struct clients *, uint32_t owner);
void	admit_notice_forget(struct admit_notices *, const struct acl_addr *);
bool	admit_connection(struct admit *, int fd, const struct sockaddr *,
	    socklen_t, uint64_t now_ms, struct admit_ticket *);
void	admit_leave(struct admit *, struct admit_ticket *);
bool	admit_proxy_trusted(const struct acl_list *, const struct sockaddr *,
	    socklen_t);
bool	admit_unix_peer_trusted(uid_t, gid_t, uid_t self_uid, gid_t self_gid);
bool	admit_proxy_peer(struct admit *, int fd, const struct sockaddr *,
	    socklen_t, uint64_t now_ms);
bool	admit_proxied(struct admit *, int fd, const struct proxy_header *,
	    const struct sockaddr *peer, socklen_t peerlen, uint64_t now_ms,
	    struct admit_ticket *);
bool	admit_notice_due(struct admit_notices *, const struct acl_addr *,
	    uint64_t now_ms);
const char *admit_reason_text(enum admit_reason);
bool	admit_line_allowed(struct admit *, enum peerlog_kind, uint64_t now_ms);

#endif
