/* SPDX-License-Identifier: ISC */
/*
 * peer.h: what the benchmark peers in bench/peers share: one process per
 * CPU, each with its own SO_REUSEPORT listener on 127.0.0.1:PORT. It owns
 * no event loop; each peer brings its own.
 */
#ifndef SOCKECHOD_BENCH_PEER_H
#define SOCKECHOD_BENCH_PEER_H

/* Run one process's loop on its listening socket; return only on error. */
typedef int	peer_loop_fn(int listen_fd);

/* The descriptor limit, raised as far as allowed before the fork. */
int	peer_fds_max(void);

/* Parse argv (PORT [PROCESSES]), fork the processes, wait; main's value. */
int	peer_main(int argc, char **argv, peer_loop_fn *loop);

#endif
