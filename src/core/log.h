/* SPDX-License-Identifier: ISC */
/* log.h: the process-wide logger (journald's native protocol or stderr). */
#ifndef SOCKECHOD_LOG_H
#define SOCKECHOD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <syslog.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The plural ending of a count: "1 worker", "2 workers". */
#define LOG_S(n)	((n) == 1 ? "" : "s")

/* Extra journal fields of one message, such as WORKER_PID=123. */
#define LOG_FIELDS_MAX		8
#define LOG_FIELD_BYTES		160
struct log_fields {
	size_t	n;
	char	field[LOG_FIELDS_MAX][LOG_FIELD_BYTES];
};
#define LOG_FIELDS_INIT		{ 0 }

/* How lines look on a standard error that is neither a terminal nor the journal. */
enum log_format {
	LOG_FORMAT_AUTO,	/* syslog-prefix on systemd's stream, else plain */
	LOG_FORMAT_PLAIN,	/* sockechod[pid]: warning: message */
	LOG_FORMAT_SYSLOG_PREFIX, /* <N>sockechod[pid]: message */
};

void	log_init(const char *ident);
int	log_keep_fd(void);
void	log_setformat(enum log_format);
void	log_settimestamps(bool);
/* "2026-12-01T23:59:01.123+00:00": local time, milliseconds, UTC offset. */
#define LOG_TIMESTAMP_BYTES	40
size_t	log_timestamp_format(const struct timespec *, char *, size_t);
void	log_batch_stderr(bool);
void	log_flush(void);
int	log_format_parse(const char *name);
bool	log_format_prefixed(enum log_format, bool journal_stream);
void	log_setlevel(int priority);
bool	log_enabled(int priority);
int	log_level_parse(const char *name);

void	log_error(const char *, ...) LOG_PRINTF(1, 2);
void	log_errorx(const char *, ...) LOG_PRINTF(1, 2);
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_notice(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	log_report(const char *, ...) LOG_PRINTF(1, 2);

size_t	log_escape(char *dst, size_t size, const void *src, size_t n,
	    bool all);
void	log_field(struct log_fields *, const char *key, const char *fmt, ...)
	    LOG_PRINTF(3, 4);
void	log_event(int priority, const char *message_id,
	    const struct log_fields *, const char *fmt, ...) LOG_PRINTF(4, 5);
void	log_always(int priority, const char *message_id,
	    const struct log_fields *, const char *fmt, ...) LOG_PRINTF(4, 5);
void	log_vmessage(int priority, const char *message_id,
	    const struct log_fields *, const char *fmt, va_list) LOG_PRINTF(4, 0);

#endif
