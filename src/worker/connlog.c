/* SPDX-License-Identifier: ISC */
/*
 * connlog.c: the connection log (log_connections): one line per finished
 * connection, in logfmt (key=value) on stderr and with structured fields
 * in the journal. It formats and emits; it decides nothing about when.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "worker/connlog.h"
#include "core/log.h"
#include "core/msgid.h"

static const char *const reason_names[] = {
#define CONNLOG_NAME(name, text)	[CONNLOG_##name] = text,
	CONNLOG_REASONS(CONNLOG_NAME)
#undef CONNLOG_NAME
};

const char *
connlog_reason_name(enum connlog_reason r)
{
	if ((unsigned)r >= CONNLOG_NREASONS)
		return "unknown";
	return reason_names[r];
}

/*
 * The message text: "connection peer=... listener=... reason=...
 * bytes_in=N bytes_out=N duration_ms=N.NNN", and detail="..." when there
 * is one. Returns what snprintf returns.
 */
int
connlog_format(const struct connlog_entry *e, char *buf, size_t size)
{
	int	n;

	n = snprintf(buf, size, "connection peer=%s listener=%s reason=%s "
	    "bytes_in=%llu bytes_out=%llu duration_ms=%llu.%03llu", e->peer,
	    e->listener, connlog_reason_name(e->reason),
	    (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
	    (unsigned long long)(e->duration_usec / 1000),
	    (unsigned long long)(e->duration_usec % 1000));
	if (e->detail != NULL && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " detail=\"%s\"", e->detail);
	return n;
}

/*
 * Info, or warning for what an operator should look at: a message too
 * large, or one that could no longer fit in max_buffered_bytes.
 */
int
connlog_priority(enum connlog_reason reason)
{
	return reason == CONNLOG_TOO_LARGE || reason == CONNLOG_OVER_BUDGET ?
	    LOG_WARNING : LOG_INFO;
}

/*
 * Ended before it was served: refused, or its PROXY header failed. A
 * peer makes these at no cost and no limit bounds them, so their lines
 * share the budget of log_peer_lines_per_second; a served connection's
 * line is always written.
 */
bool
connlog_unserved(enum connlog_reason reason)
{
	switch (reason) {
	case CONNLOG_PROXY_BAD:
	case CONNLOG_PROXY_TIMEOUT:
	case CONNLOG_REFUSED_DENIED:
	case CONNLOG_REFUSED_TOO_MANY:
	case CONNLOG_REFUSED_TOO_FAST:
	case CONNLOG_REFUSED_TABLE_FULL:
	case CONNLOG_REFUSED_NO_MEMORY:
	case CONNLOG_REFUSED_PROXY_UNTRUSTED:
		return true;
	default:
		return false;
	}
}

void
connlog_emit(const struct connlog_entry *e)
{
	struct log_fields	f = LOG_FIELDS_INIT;
	char			line[512];

	log_field(&f, "REMOTE_ADDR", "%s", e->peer);
	log_field(&f, "LISTENER", "%s", e->listener);
	log_field(&f, "BYTES_IN", "%llu", (unsigned long long)e->bytes_in);
	log_field(&f, "BYTES_OUT", "%llu", (unsigned long long)e->bytes_out);
	log_field(&f, "DURATION_USEC", "%llu",
	    (unsigned long long)e->duration_usec);
	log_field(&f, "CLOSE_REASON", "%s", connlog_reason_name(e->reason));
	(void)connlog_format(e, line, sizeof(line));
	log_always(connlog_priority(e->reason), MSGID_CONNECTION, &f, "%s",
	    line);
}
