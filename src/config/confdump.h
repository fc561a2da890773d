/* SPDX-License-Identifier: ISC */
/* confdump.h: the effective configuration written back as sockecho.conf. */
#ifndef SOCKECHOD_CONFDUMP_H
#define SOCKECHOD_CONFDUMP_H

#include <stdio.h>

#include "config/config.h"

void	confdump_write(FILE *, const struct config *);

#endif
