/* SPDX-License-Identifier: ISC */
/* stamp_reflect.h: a worker's STAMP reflector: answer a test packet in place, with the kernel's times. */
#ifndef SOCKECHOD_STAMP_REFLECT_H
#define SOCKECHOD_STAMP_REFLECT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/stamp.h"
#include "shm/scoreboard.h"
#include "shm/stamp_sessions.h"

/* Room for what a STAMP socket's datagrams come with: T2 and TTL. */
#define STAMP_REFLECT_CMSG_BYTES \
	(CMSG_SPACE(sizeof(struct timespec)) + 2 * CMSG_SPACE(sizeof(int)))

/* The clock's state, read once a batch (adjtimex()). */
struct stamp_clock {
	bool		synced;
	int		tai_offset_s;
	uint64_t	error_ns;
};

/* One answer being made: whether its T3 is PTP, where it goes. */
struct stamp_pending {
	uint8_t		*packet;
	bool		 ptp;
};

void	stamp_reflect_clock(struct stamp_clock *);
int	stamp_reflect(uint8_t *, size_t, struct msghdr *, const struct sockaddr *,
	    struct stamp_sessions *, const struct stamp_clock *,
	    uint64_t now_ms, struct scoreboard_udp *, struct stamp_pending *);
void	stamp_reflect_t3(struct stamp_pending *, size_t n,
	    const struct stamp_clock *);

#endif
