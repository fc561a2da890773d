/* SPDX-License-Identifier: ISC */
/* cli.h: what the sockecho client's parts share: dying with a message. */
#ifndef SOCKECHOD_CLI_H
#define SOCKECHOD_CLI_H

#include <stdarg.h>

/* "sockecho: MESSAGE" on standard error, then exit(status). */
void	cli_fail(int status, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
void	cli_vfail(int status, const char *fmt, va_list)
	    __attribute__((noreturn, format(printf, 2, 0)));

#endif
