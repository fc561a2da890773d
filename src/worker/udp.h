/* SPDX-License-Identifier: ISC */
/* udp.h: a worker's UDP echo: read datagrams in batches, answer the ones policy allows. */
#ifndef SOCKECHOD_UDP_H
#define SOCKECHOD_UDP_H

#include "config/config.h"
#include "net/listen.h"
#include "shm/scoreboard.h"
#include "shm/stamp_sessions.h"
#include "shm/udp_limit.h"

struct udp_server;

struct udp_server *udp_server_new(const struct config *,
	    struct scoreboard_slot *, const struct listeners *,
	    struct udp_limit *, struct stamp_sessions *);
/*
 * Serve one readable socket for a while, as UDP echo or as a STAMP
 * reflector; returns -1 on a socket error.
 */
int	udp_server_serve(struct udp_server *, int fd, bool stamp,
	    uint64_t now_ms);
void	udp_server_free(struct udp_server *);

#endif
