/* SPDX-License-Identifier: ISC */
/* notify.h: what the master tells systemd (sd_notify). */
#ifndef SOCKECHOD_NOTIFY_H
#define SOCKECHOD_NOTIFY_H

#include <stdint.h>

#include "core/log.h"

void	notify_ready(const char *status);
void	notify_reloading(void);
void	notify_stopping(const char *status);
void	notify_status(const char *fmt, ...) LOG_PRINTF(1, 2);
void	notify_extend_timeout(uint64_t usec);
void	notify_watchdog(void);
void	notify_failure(int errnum, const char *status);
uint64_t notify_watchdog_usec(void);
void	notify_claim_environment(void);
void	notify_forget(void);

#endif
