/* SPDX-License-Identifier: ISC */
/* udp_limit.h: the token buckets of UDP sources, in memory all workers share. */
#ifndef SOCKECHOD_UDP_LIMIT_H
#define SOCKECHOD_UDP_LIMIT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "shm/udp_policy.h"

#define UDP_LIMIT_GROUPS	1024	/* of UDP_LIMIT_WAYS sources each */
#define UDP_LIMIT_WAYS		8
#define UDP_LIMIT_SPILLS	8	/* overflow buckets a group */

struct udp_limit;

struct udp_limit *udp_limit_create(void);
void	udp_limit_destroy(struct udp_limit *);
enum udp_drop udp_limit_take(struct udp_limit *, const struct sockaddr *src,
	    const struct udp_rate *client, const struct udp_rate *global,
	    uint64_t now_ms, uint64_t bytes);
size_t	udp_limit_group(const struct udp_limit *, const struct sockaddr *);

#endif
