/* SPDX-License-Identifier: ISC */
/* sig.h: signals as a file descriptor, and the monotonic clock. */
#ifndef SOCKECHOD_SIG_H
#define SOCKECHOD_SIG_H

#include <sys/signalfd.h>

#include <stddef.h>
#include <stdint.h>

int	sig_open(const int *signals, size_t n);
int	sig_read(int fd, struct signalfd_siginfo *);
uint64_t sig_monotonic_ns(void);
uint64_t sig_monotonic_ms(void);
uint64_t sig_monotonic_us(void);

#endif
