/* SPDX-License-Identifier: ISC */
/* stamp_sessions.h: the stateful STAMP reflector's sequence counters, one per session, shared by all workers. */
#ifndef SOCKECHOD_STAMP_SESSIONS_H
#define SOCKECHOD_STAMP_SESSIONS_H

#include <sys/socket.h>

#include <stdint.h>

#define STAMP_SESSIONS_WAYS	8	/* places a session may take */
#define STAMP_SESSIONS_GROUPS	1024	/* a power of 2 */

struct stamp_sessions;

struct stamp_sessions *stamp_sessions_create(void);
void	stamp_sessions_destroy(struct stamp_sessions *);
/*
 * The next reflector sequence number of the session (source address and
 * port, SSID): 0 for a session not seen before (or evicted since).
 */
uint32_t stamp_sessions_next(struct stamp_sessions *, const struct sockaddr *,
	    uint16_t ssid, uint64_t now_ms);

#endif
