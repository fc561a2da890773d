/* SPDX-License-Identifier: ISC */
/*
 * sig.c: block signals and read them from a signalfd inside an event loop,
 * so no work ever happens in an asynchronous handler.
 */
#include "build-config.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "core/sig.h"

/* Block "signals" in this process and return a non-blocking signalfd for them. */
int
sig_open(const int *signals, size_t n)
{
	sigset_t	set;
	size_t		i;

	sigemptyset(&set);
	for (i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* 1 with a signal, 0 when none is pending, -1 on error. */
int
sig_read(int fd, struct signalfd_siginfo *si)
{
	ssize_t	n;

	do
		n = read(fd, si, sizeof(*si));
	while (n == -1 && errno == EINTR);
	if (n == sizeof(*si))
		return 1;
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

/* The one monotonic clock of both programs, in ns, us and ms. */
uint64_t
sig_monotonic_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t
sig_monotonic_us(void)
{
	return sig_monotonic_ns() / 1000;
}

uint64_t
sig_monotonic_ms(void)
{
	return sig_monotonic_us() / 1000;
}
