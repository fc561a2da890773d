/* SPDX-License-Identifier: ISC */
/*
 * coverage.c: owns writing a process's gcov counts before it leaves by
 * _exit(), abort() or a signal (exit(3) writes them itself); a no-op unless
 * configure --enable-coverage. It must not do anything else: the daemon's
 * behaviour is the same with and without the switch.
 */
#include "build-config.h"

#include <unistd.h>

#include "core/coverage.h"

#ifdef SOCKECHOD_COVERAGE
/* libgcov's: writes every object's counts, merged with the .gcda on disk. */
void	__gcov_dump(void);
#endif

void
coverage_flush(void)
{
#ifdef SOCKECHOD_COVERAGE
	__gcov_dump();
#endif
}

/* _exit(2), the counts written first: a forked child's way out. */
void
coverage_exit(int status)
{
	coverage_flush();
	_exit(status);
}
