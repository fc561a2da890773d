/* SPDX-License-Identifier: ISC */
/* connlog.h: how a connection ended, and its line in the connection log. */
#ifndef SOCKECHOD_CONNLOG_H
#define SOCKECHOD_CONNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every way a connection ends: the enum name and the CLOSE_REASON value
 * (part of the interface: journalctl CLOSE_REASON=..., sockechod(8)). A
 * new reason is one line here and a sentence in sockechod(8).
 */
#define CONNLOG_REASONS(X)						\
	X(CLIENT_CLOSED,	"client-closed")   /* half-closed, all echoed */ \
	X(IDLE_TIMEOUT,		"idle-timeout")				\
	X(TOO_LARGE,		"message-too-large")			\
	X(OVER_BUDGET,		"over-budget")	/* max_buffered_bytes */ \
	X(RESET,		"reset")	/* ECONNRESET, EPIPE */	\
	X(ERROR,		"error")	/* another socket error */ \
	X(SHUTDOWN,		"shutdown")	/* stop, drain deadline */ \
	X(PROXY_BAD,		"proxy-header-bad")			\
	X(PROXY_TIMEOUT,	"proxy-header-timeout")			\
	/* Refusals: accepted, then closed unserved ("refused-..."). */	\
	X(REFUSED_DENIED,	"refused-denied")  /* allow/deny */	\
	X(REFUSED_TOO_MANY,	"refused-per-client-limit")		\
	X(REFUSED_TOO_FAST,	"refused-per-client-rate")		\
	X(REFUSED_TABLE_FULL,	"refused-client-table-full")		\
	X(REFUSED_NO_MEMORY,	"refused-no-memory")			\
	X(REFUSED_PROXY_UNTRUSTED, "refused-proxy-untrusted")

enum connlog_reason {
#define CONNLOG_ENUM(name, text)	CONNLOG_##name,
	CONNLOG_REASONS(CONNLOG_ENUM)
#undef CONNLOG_ENUM
	CONNLOG_NREASONS
};

struct connlog_entry {
	const char		*peer;		/* REMOTE_ADDR */
	const char		*listener;	/* LISTENER */
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	uint64_t		 duration_usec;
	enum connlog_reason	 reason;
	const char		*detail;	/* strerror() and such, or NULL */
};

const char *connlog_reason_name(enum connlog_reason);
int	connlog_format(const struct connlog_entry *, char *buf, size_t size);
int	connlog_priority(enum connlog_reason);
bool	connlog_unserved(enum connlog_reason);
void	connlog_emit(const struct connlog_entry *);

#endif
