/* SPDX-License-Identifier: ISC */
/*
 * listen_int.h: what listen.c, listen_addr.c, listen_resolve.c and
 * listen_adopt.c share and nobody else uses.
 */
#ifndef SOCKECHOD_LISTEN_INT_H
#define SOCKECHOD_LISTEN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/listen.h"

/* n > 0 characters, all decimal digits. */
bool	listen_all_digits(const char *, size_t);
/* Sets l->name from l->sa and l->socktype. */
void	listen_name_listener(struct listener *);
/* Asks a UDP socket for each datagram's destination address. */
int	listen_dgram_setup(int fd, int family);
int	listen_stream_setup(int fd, int family);

#endif
