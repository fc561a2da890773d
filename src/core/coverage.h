/* SPDX-License-Identifier: ISC */
/* coverage.h: a process about to leave without exit(3) writes its coverage counts first. */
#ifndef SOCKECHOD_COVERAGE_H
#define SOCKECHOD_COVERAGE_H

void	coverage_flush(void);
void	coverage_exit(int) __attribute__((noreturn));

#endif
