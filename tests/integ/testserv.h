/* SPDX-License-Identifier: ISC */
/*
 * testserv.h: test-only echo servers on loopback that misbehave on
 * purpose, each in a child process: slow, altering a byte, silent, and a
 * UDP one that drops, duplicates, reorders and alters by sequence number.
 */
#ifndef SOCKECHOD_TEST_TESTSERV_H
#define SOCKECHOD_TEST_TESTSERV_H

#include <sys/types.h>

enum testserv_kind {
	TESTSERV_SLOW,		/* echoes each read after "param" ms */
	TESTSERV_ALTER,		/* flips byte "param" of each connection */
	TESTSERV_SILENT,	/* accepts and reads, never answers */
	TESTSERV_DEAF,		/* accepts, never reads */
	TESTSERV_TRICKLE,	/* echoes a byte every "param" ms */
	TESTSERV_UDP_CHAOS,	/* by probe seq % 6: see testserv.c */
};

pid_t	testserv_start(enum testserv_kind, unsigned param, unsigned *port);
void	testserv_stop(pid_t);

#endif
