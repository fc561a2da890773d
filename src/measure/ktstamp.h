/* SPDX-License-Identifier: ISC */
/*
 * ktstamp.h: the kernel's software timestamps of a client socket
 * (SO_TIMESTAMPING): when a datagram or a TCP write left (read from the
 * socket's error queue) and when one arrived (a recvmsg() control message).
 * The times are CLOCK_REALTIME nanoseconds, as the kernel stamps them.
 */
#ifndef SOCKECHOD_KTSTAMP_H
#define SOCKECHOD_KTSTAMP_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the control messages of one recvmsg() with a timestamp. */
#define KTSTAMP_CMSG_BYTES	512

int	ktstamp_enable(int fd);
bool	ktstamp_rx(struct msghdr *, uint64_t *ns);
int	ktstamp_tx(int fd, uint32_t *key, uint64_t *ns);
uint64_t ktstamp_realtime_ns(void);
uint64_t ktstamp_ts_ns(const struct timespec *);

#endif
