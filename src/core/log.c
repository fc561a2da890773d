/* SPDX-License-Identifier: ISC */
/*
 * log.c: the logger of one process. Under systemd (stderr is the journal
 * stream) it speaks journald's native protocol with structured fields;
 * elsewhere it writes one line per message to stderr. It decides nothing
 * about what is fatal.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * Every message goes through journal_sendv(): the CODE_FILE, CODE_LINE and
 * CODE_FUNC that sd_journal_sendv() would add name that one line for all,
 * which says nothing and misleads a reader of journalctl -o verbose.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "core/log.h"

#define LOG_LINE_BYTES	2048
/* Batched lines are flushed in writes that pipes keep whole (PIPE_BUF). */
#define LOG_BATCH_BYTES	4096

static const char	*log_ident = PACKAGE;
static int		 log_level = LOG_INFO;
static bool		 log_journal;
static bool		 log_tty;
static bool		 log_stream;	/* stderr is systemd's journal stream */
static bool		 log_prefix;	/* <N> before each line off a terminal */
static bool		 log_stamps;	/* log_timestamps, off the journal */
static bool		 log_batching;	/* stderr lines wait for log_flush() */
static char		 log_batch[LOG_BATCH_BYTES];
static size_t		 log_batch_len;
static int		 log_journal_fd = -1; /* libsystemd's, once known */

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",
	[LOG_ALERT] = "alert",
	[LOG_CRIT] = "crit",
	[LOG_ERR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* True when stderr is the stream systemd connected to the journal. */
static bool
stderr_is_journal(void)
{
	const char		*e;
	unsigned long long	 dev, ino;
	struct stat		 st;

	if ((e = getenv("JOURNAL_STREAM")) == NULL)
		return false;
	if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* The journal when stderr is systemd's journal stream, else stderr. */
void
log_init(const char *ident)
{
	log_ident = ident;
	log_stream = log_journal = stderr_is_journal();
	log_tty = isatty(STDERR_FILENO);
	log_setformat(LOG_FORMAT_AUTO);
}

/*
 * systemd's journal stream reads the <N> prefix as the priority (its
 * SyslogLevelPrefix=); a file, a pipe to runit's or s6's logger, or a
 * container's log would show it as noise. A terminal never gets it.
 */
bool
log_format_prefixed(enum log_format format, bool journal_stream)
{
	switch (format) {
	case LOG_FORMAT_PLAIN:
		return false;
	case LOG_FORMAT_SYSLOG_PREFIX:
		return true;
	case LOG_FORMAT_AUTO:
		break;
	}
	return journal_stream;
}

void
log_setformat(enum log_format format)
{
	log_prefix = log_format_prefixed(format, log_stream);
}

/* Under journald the journal keeps its own time: only other stderrs get one. */
void
log_settimestamps(bool on)
{
	log_stamps = on;
}

/* ISO 8601 of "ts" in local time; returns the length, 0 if it does not fit. */
size_t
log_timestamp_format(const struct timespec *ts, char *buf, size_t size)
{
	struct tm	tm;
	char		date[32];
	long		off;
	int		n;

	if (localtime_r(&ts->tv_sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return 0;
	off = tm.tm_gmtoff / 60;
	n = snprintf(buf, size, "%s.%03ld%c%02ld:%02ld", date,
	    ts->tv_nsec / 1000000, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

int
log_format_parse(const char *name)
{
	if (strcmp(name, "auto") == 0)
		return LOG_FORMAT_AUTO;
	if (strcmp(name, "plain") == 0)
		return LOG_FORMAT_PLAIN;
	if (strcmp(name, "syslog-prefix") == 0)
		return LOG_FORMAT_SYSLOG_PREFIX;
	return -1;
}

void
log_setlevel(int priority)
{
	log_level = priority;
}

bool
log_enabled(int priority)
{
	return priority <= log_level;
}

/* Accepts the names of sockecho.conf(5): error, warning, notice, info, debug. */
int
log_level_parse(const char *name)
{
	int	i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "warn") == 0)
		return LOG_WARNING;
	if (strcasecmp(name, "err") == 0)
		return LOG_ERR;
	return -1;
}

/*
 * Whether a byte is written as \xNN: controls always; with "all" also
 * what is not ASCII, the backslash, and the space, '=' and '"' that
 * delimit the connection log's key=value fields.
 */
static bool
escaped(unsigned char c, bool all)
{
	if (c < 0x20 || c == 0x7f)
		return true;
	return all && (c > 0x7e || c == '\\' || c == ' ' || c == '=' ||
	    c == '"');
}

/*
 * Copy "n" bytes of "src" into "dst" as text that cannot break a line:
 * with "all", every byte that is not printable ASCII, the backslash,
 * space, '=' and '"' become \xNN (so that the text reads back
 * unambiguously and stays one key=value field); without, only
 * the control characters. Returns the length written; "dst" is always
 * terminated, and cut before an escape that would not fit whole.
 */
size_t
log_escape(char *dst, size_t size, const void *src, size_t n, bool all)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = src;
	size_t			 i, o = 0;

	if (size == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!escaped(s[i], all)) {
			if (o + 1 >= size)
				break;
			dst[o++] = (char)s[i];
			continue;
		}
		if (o + 4 >= size)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 0xf];
	}
	dst[o] = '\0';
	return o;
}

/* A message or field with a control character in it, made safe in place. */
static void
defuse(char *text, size_t size)
{
	char	copy[LOG_LINE_BYTES];
	size_t	n = strlen(text), i;

	for (i = 0; i < n; i++)
		if (escaped((unsigned char)text[i], false))
			break;
	if (i == n)
		return;
	if (n >= sizeof(copy))
		n = sizeof(copy) - 1;
	memcpy(copy, text, n);
	(void)log_escape(text, size, copy, n, false);
}

static const char *
log_level_name(int priority)
{
	if (priority < LOG_EMERG || priority > LOG_DEBUG)
		return "unknown";
	return level_names[priority];
}

void
log_field(struct log_fields *f, const char *key, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (f->n >= LOG_FIELDS_MAX)
		return;
	n = snprintf(f->field[f->n], LOG_FIELD_BYTES, "%s=", key);
	if (n < 0 || n >= LOG_FIELD_BYTES)
		return;
	va_start(ap, fmt);
	vsnprintf(f->field[f->n] + n, LOG_FIELD_BYTES - n, fmt, ap);
	va_end(ap);
	defuse(f->field[f->n] + n, LOG_FIELD_BYTES - n);
	f->n++;
}

/* The lowest descriptor number free now: the next socket(2) gets it. */
static int
lowest_free_fd(void)
{
	int	fd;

	if ((fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) != -1)
		(void)close(fd);
	return fd;
}

static bool
is_unix_dgram(int fd)
{
	int		domain = -1, type = -1;
	socklen_t	dlen = sizeof(domain), tlen = sizeof(type);

	if (fd < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		return false;
	return domain == AF_UNIX && type == SOCK_DGRAM;
}

/*
 * libsystemd keeps one socket to journald open for good, and opens it at
 * the first message: the lowest free number then. A new worker closes
 * every descriptor it does not know (fdkeep.c), so this one has to be
 * known; if it cannot be, the journal is given up for stderr, which is
 * the journal's stream too, rather than have libsystemd write to whatever
 * later takes that number.
 */
static int
journal_sendv(const struct iovec *iov, size_t n)
{
	int	lowest = -1, rc;

	if (log_journal_fd == -1)
		lowest = lowest_free_fd();
	rc = sd_journal_sendv(iov, (int)n);
	if (log_journal_fd != -1)
		return rc;
	if (is_unix_dgram(lowest))
		log_journal_fd = lowest;
	else if (rc >= 0)
		log_journal = false;
	return rc;
}

/* The descriptor the logger needs in a new process, or -1: none. */
int
log_keep_fd(void)
{
	return log_journal ? log_journal_fd : -1;
}

static int
journal_send(int priority, const char *message_id,
    const struct log_fields *f, const char *message)
{
	struct iovec	 iov[LOG_FIELDS_MAX + 4];
	char		 msg[LOG_LINE_BYTES + 8], prio[16], ident[64], id[64];
	size_t		 n = 0, i;

	snprintf(msg, sizeof(msg), "MESSAGE=%s", message);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n++] = (struct iovec){ msg, strlen(msg) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ ident, strlen(ident) };
	if (message_id != NULL) {
		snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
		iov[n++] = (struct iovec){ id, strlen(id) };
	}
	for (i = 0; f != NULL && i < f->n; i++)
		iov[n++] = (struct iovec){ (void *)f->field[i],
		    strlen(f->field[i]) };
	return journal_sendv(iov, n);
}

static void
write_all(const char *buf, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(STDERR_FILENO, buf, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		n -= w;
	}
}

/* Write the batched lines, in one write(2). */
void
log_flush(void)
{
	int	saved_errno;

	if (log_batch_len == 0)
		return;		/* once a turn of a worker's loop: cheap */
	saved_errno = errno;
	write_all(log_batch, log_batch_len);
	log_batch_len = 0;
	errno = saved_errno;
}

/*
 * A worker under a flood of connections logs a line for each: batched, it
 * pays one write(2) per turn of its loop instead of one per line. The
 * journal's native protocol is never batched.
 */
void
log_batch_stderr(bool on)
{
	if (!on)
		log_flush();
	log_batching = on;
}

static void
line_out(const char *line, size_t n)
{
	if (!log_batching) {
		write_all(line, n);
		return;
	}
	if (log_batch_len + n > sizeof(log_batch))
		log_flush();
	if (n > sizeof(log_batch)) {
		write_all(line, n);
		return;
	}
	memcpy(log_batch + log_batch_len, line, n);
	log_batch_len += n;
}

/*
 * One write(2) per line, or per batch of whole lines, so that lines from
 * the master and its workers never interleave. With the <N> prefix (see log_setformat) the priority
 * is in the prefix; otherwise warnings and errors say so in words.
 */
static void
stderr_send(int priority, const char *message)
{
	char		line[LOG_LINE_BYTES + 128], stamp[LOG_TIMESTAMP_BYTES + 1];
	struct timespec	now;
	int		n;

	stamp[0] = '\0';
	if (log_stamps && !log_stream &&
	    clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    log_timestamp_format(&now, stamp, sizeof(stamp) - 1) > 0)
		strcat(stamp, " ");
	if (log_tty || !log_prefix)
		n = snprintf(line, sizeof(line), "%s%s[%ld]: %s%s%s\n", stamp,
		    log_ident, (long)getpid(),
		    priority <= LOG_WARNING ? log_level_name(priority) : "",
		    priority <= LOG_WARNING ? ": " : "", message);
	else
		n = snprintf(line, sizeof(line), "<%d>%s%s[%ld]: %s\n", priority,
		    stamp, log_ident, (long)getpid(), message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	line_out(line, (size_t)n);
}

static void
emit(int priority, bool force, const char *message_id,
    const struct log_fields *f, const char *fmt, va_list ap)
{
	char	message[LOG_LINE_BYTES];
	int	saved_errno = errno;

	if (!force && !log_enabled(priority))
		return;
	vsnprintf(message, sizeof(message), fmt, ap);
	defuse(message, sizeof(message));
	if (!log_journal || journal_send(priority, message_id, f, message) < 0)
		stderr_send(priority, message);
	errno = saved_errno;
}

void
log_vmessage(int priority, const char *message_id,
    const struct log_fields *f, const char *fmt, va_list ap)
{
	emit(priority, false, message_id, f, fmt, ap);
}

/* What the configuration asked for on its own (log_connections): whatever log_level says. */
void
log_always(int priority, const char *message_id, const struct log_fields *f,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	emit(priority, true, message_id, f, fmt, ap);
	va_end(ap);
}

/* What an operator asked for (SIGUSR1): logged whatever log_level says. */
void
log_report(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	emit(LOG_NOTICE, true, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_event(int priority, const char *message_id, const struct log_fields *f,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmessage(priority, message_id, f, fmt, ap);
	va_end(ap);
}

/* The errno variants append ": strerror(errno)", as err(3) does. */
static void
log_verrno(int priority, const char *fmt, va_list ap)
{
	char	buf[LOG_LINE_BYTES];
	int	saved_errno = errno;

	if (!log_enabled(priority))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_event(priority, NULL, NULL, "%s: %s", buf, strerror(saved_errno));
	errno = saved_errno;
}

#define LOG_DEFINE(name, priority, with_errno)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	if (with_errno)						\
		log_verrno(priority, fmt, ap);			\
	else							\
		log_vmessage(priority, NULL, NULL, fmt, ap);	\
	va_end(ap);						\
}

LOG_DEFINE(log_error, LOG_ERR, 1)
LOG_DEFINE(log_errorx, LOG_ERR, 0)
LOG_DEFINE(log_warn, LOG_WARNING, 1)
LOG_DEFINE(log_warnx, LOG_WARNING, 0)
LOG_DEFINE(log_notice, LOG_NOTICE, 0)
LOG_DEFINE(log_info, LOG_INFO, 0)
LOG_DEFINE(log_debug, LOG_DEBUG, 0)
