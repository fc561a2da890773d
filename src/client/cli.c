/* SPDX-License-Identifier: ISC */
/*
 * cli.c: how the sockecho client (TCP, UDP and --ping) gives up: one
 * "sockecho: " line on standard error and its exit status. Only the
 * client calls it; the daemon never exits from a helper.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "client/cli.h"

void
cli_vfail(int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "sockecho: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	exit(status);
}

void
cli_fail(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cli_vfail(status, fmt, ap);
}
