/* SPDX-License-Identifier: ISC */
/* ctl.h: sockechod -t, -T and --reload PID (ctl.c). */
#ifndef SOCKECHOD_CTL_H
#define SOCKECHOD_CTL_H

struct config_options;

/*
 * Fills *o, zeroed, from a command line (a running master's, from /proc)
 * as sockechod reads its own: 0, or -1 when it does not parse. *o's
 * listen array is the caller's to free either way.
 */
typedef int ctl_options_fn(int argc, char *argv[], struct config_options *o);

int	ctl_test_config(const struct config_options *);
int	ctl_dump_config(const struct config_options *);
int	ctl_reload(const char *pid_arg, ctl_options_fn *);

#endif
