/* SPDX-License-Identifier: ISC */
/*
 * confdump.c: sockechod -T, the effective configuration (defaults, the
 * file with its includes, and the command line) written in sockecho.conf
 * syntax, one setting a line, so that the output passes sockechod -t.
 */
#include "build-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <syslog.h>

#include "config/confdump.h"

#define MS_PER_SEC	1000

/* A string literal: libconfig's escapes for '"' and '\', control bytes as \xNN. */
static void
put_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
put_text(FILE *fp, const char *name, const char *value)
{
	fprintf(fp, "%s = ", name);
	put_string(fp, value);
	fputs(";\n", fp);
}

/* Past 32 bits libconfig wants the L suffix of a 64-bit integer. */
static void
put_number(FILE *fp, const char *name, uint64_t v, const char *comment)
{
	fprintf(fp, "%s = %" PRIu64 "%s;%s%s\n", name, v,
	    v > INT32_MAX ? "L" : "", comment ? "\t# " : "",
	    comment ? comment : "");
}

/* Milliseconds as seconds, with a fraction only where there is one. */
static void
put_seconds(FILE *fp, const char *name, unsigned ms)
{
	if (ms % MS_PER_SEC == 0)
		fprintf(fp, "%s = %u;\n", name, ms / MS_PER_SEC);
	else
		fprintf(fp, "%s = %u.%03u;\n", name, ms / MS_PER_SEC,
		    ms % MS_PER_SEC);
}

static void
put_bool(FILE *fp, const char *name, bool v)
{
	fprintf(fp, "%s = %s;\n", name, v ? "true" : "false");
}

static void
put_optional(FILE *fp, const char *name, const char *value, const char *unset)
{
	if (value != NULL)
		put_text(fp, name, value);
	else
		fprintf(fp, "# %s is not set: %s\n", name, unset);
}

static void
put_strings(FILE *fp, const char *name, char *const *v, size_t n)
{
	size_t	i;

	fprintf(fp, "%s = [", name);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : " ", fp);
		put_string(fp, v[i]);
	}
	fputs(n ? " ];\n" : "];\n", fp);
}

/* listen: strings, and a group for an address that sets its own proxy_protocol. */
static void
put_listen(FILE *fp, const struct config *c)
{
	size_t	i;
	bool	groups = false;

	for (i = 0; i < c->nlisten; i++)
		groups = groups || c->listen[i].proxy != LISTEN_PROXY_DEFAULT;
	if (!groups) {
		put_strings(fp, "listen", c->listen_text, c->nlisten);
		return;
	}
	fputs("listen = (", fp);
	for (i = 0; i < c->nlisten; i++) {
		fputs(i ? ", " : " ", fp);
		if (c->listen[i].proxy == LISTEN_PROXY_DEFAULT) {
			put_string(fp, c->listen_text[i]);
			continue;
		}
		fputs("{ address = ", fp);
		put_string(fp, c->listen_text[i]);
		fprintf(fp, "; proxy_protocol = %s; }", c->listen[i].proxy ==
		    LISTEN_PROXY_ON ? "true" : "false");
	}
	fputs(" );\n", fp);
}

static void
put_prefixes(FILE *fp, const char *name, const struct acl_list *l)
{
	char	buf[ACL_TEXT_MAX + 8];
	size_t	i;

	fprintf(fp, "%s = [", name);
	for (i = 0; i < l->n; i++) {
		acl_prefix_format(&l->v[i], buf, sizeof(buf));
		fprintf(fp, "%s\"%s\"", i ? ", " : " ", buf);
	}
	fputs(l->n ? " ];\n" : "];\n", fp);
}

static void
put_ports(FILE *fp, const char *name, const uint16_t *v, size_t n)
{
	size_t	i;

	fprintf(fp, "%s = [", name);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%u", i ? ", " : " ", (unsigned)v[i]);
	fputs(n ? " ];\n" : "];\n", fp);
}

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

static const char *
format_name(enum log_format f)
{
	switch (f) {
	case LOG_FORMAT_PLAIN:
		return "plain";
	case LOG_FORMAT_SYSLOG_PREFIX:
		return "syslog-prefix";
	default:
		return "auto";
	}
}

static void
write_service(FILE *fp, const struct config *c)
{
	put_listen(fp, c);
	put_optional(fp, "metrics_listen", c->metrics_listen, "no exporter");
	put_number(fp, "workers", c->workers, c->workers ? NULL :
	    "one per online CPU");
	put_text(fp, "mode", echo_mode_name(c->mode));
	put_number(fp, "max_message_bytes", c->max_message_bytes, NULL);
	put_number(fp, "buffer_bytes", c->buffer_bytes, NULL);
	put_bool(fp, "splice", c->splice);
	put_bool(fp, "stamp_stateful", c->stamp_stateful);
	put_number(fp, "max_connections", c->max_connections, NULL);
	put_number(fp, "backlog", c->backlog, c->backlog ? NULL :
	    "net.core.somaxconn");
	put_seconds(fp, "idle_timeout", c->idle_timeout_ms);
	put_seconds(fp, "shutdown_timeout", c->shutdown_timeout_ms);
	put_seconds(fp, "worker_timeout", c->worker_timeout_ms);
	put_number(fp, "max_connections_per_worker",
	    c->max_connections_per_worker, NULL);
	put_number(fp, "recycle_jitter", c->recycle_jitter, NULL);
}

static void
write_logging(FILE *fp, const struct config *c)
{
	put_text(fp, "log_level", level_name(c->log_level));
	put_text(fp, "log_format", format_name(c->log_format));
	put_bool(fp, "log_connections", c->log_connections);
	put_bool(fp, "log_timestamps", c->log_timestamps);
	put_number(fp, "log_peer_lines_per_second",
	    c->log_peer_lines_per_second, NULL);
	put_optional(fp, "user", c->user, "the master's user");
	put_optional(fp, "group", c->group, c->user ? "the user's group" :
	    "the master's group");
}

/* Derived limits are written as the values they come to, and say so. */
static void
write_limits(FILE *fp, const struct config *c)
{
	put_ports(fp, "udp_drop_source_ports", c->udp_drop_source_ports,
	    c->nudp_drop_source_ports);
	put_number(fp, "udp_max_datagrams_per_client",
	    c->udp_max_datagrams_per_client, NULL);
	put_number(fp, "udp_max_bytes_per_client",
	    c->udp_max_bytes_per_client, NULL);
	put_number(fp, "udp_max_datagrams", c->udp_max_datagrams, NULL);
	put_prefixes(fp, "allow", &c->acl.allow);
	put_prefixes(fp, "deny", &c->acl.deny);
	put_number(fp, "max_connections_per_client", config_per_client(c),
	    c->max_connections_per_client == CONFIG_DERIVED ?
	    "derived from max_connections" : NULL);
	put_number(fp, "max_new_connections_per_client",
	    c->max_new_connections_per_client, NULL);
	put_number(fp, "client_prefix_v4", c->client_prefix_v4, NULL);
	put_number(fp, "client_prefix_v6", c->client_prefix_v6, NULL);
	put_number(fp, "socket_buffer_bytes", c->socket_buffer_bytes, NULL);
	put_number(fp, "autotuned_connections", c->autotuned_connections,
	    NULL);
	put_number(fp, "max_buffered_bytes", config_buffered(c),
	    c->max_buffered_bytes == CONFIG_DERIVED ?
	    "derived from mode and message or buffer size" : NULL);
	put_bool(fp, "proxy_protocol", c->proxy_protocol);
	put_prefixes(fp, "proxy_trusted", &c->proxy_trusted);
	put_number(fp, "proxy_header_timeout_ms", c->proxy_header_timeout_ms,
	    NULL);
}

void
confdump_write(FILE *fp, const struct config *c)
{
	fprintf(fp, "# effective configuration: %s\n", c->path ? c->path :
	    "built-in defaults (no file)");
	write_service(fp, c);
	write_logging(fp, c);
	write_limits(fp, c);
}
