/* SPDX-License-Identifier: ISC */
/* udp.h: a worker's UDP echo: read datagrams in batches, answer the ones policy allows. */
#ifndef SOCKECHOD_UDP_H
#define SOCKECHOD_UDP_H

#include "config/config.h"
#include "net/listen.h"
#include "shm/scoreboard.h"
#include "shm/udp_limit.h"

struct udp_server;

struct udp_server *udp_server_new(const struct config *,
	    struct scoreboard_slot *, const struct listeners *,
	    struct udp_limit *);
/* Serve one readable socket for a while; returns -1 on a socket error. */
int	udp_server_serve(struct udp_server *, int fd, uint64_t now_ms);
void	udp_server_free(struct udp_server *);

#endif
