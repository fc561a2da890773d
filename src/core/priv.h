/* SPDX-License-Identifier: ISC */
/* priv.h: giving up privileges: user and group, capabilities. */
#ifndef SOCKECHOD_PRIV_H
#define SOCKECHOD_PRIV_H

#include <sys/types.h>

int	priv_switch_user(const char *user, uid_t, gid_t);
int	priv_drop_capabilities(void);

#endif
