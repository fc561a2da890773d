/* SPDX-License-Identifier: ISC */
/*
 * config.c: read sockecho.conf with libconfig into a plain struct config,
 * apply defaults and validate every setting in one place. Every error
 * names file:line. libconfig types never leave this file.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "conffile.h"
#include "config.h"
#include "log.h"

#define MS_PER_SEC		1000ULL
#define MIB			(1024ULL * 1024)

enum key_type {
	KEY_NUMBER,		/* integer, stored in a field of width "size" */
	KEY_SECONDS,		/* integer or float seconds, stored as ms */
	KEY_STRING,
	KEY_MODE,
	KEY_LOG_LEVEL,
	KEY_LOG_FORMAT,
	KEY_BOOL,
	KEY_LISTEN,
	KEY_METRICS_LISTEN,
	KEY_USER,
	KEY_GROUP,
	KEY_PORTS,		/* a list of port numbers */
	KEY_PREFIXES,		/* a list of CIDR prefixes: struct acl_list */
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 offset;
	size_t		 size;
	uint64_t	 min;	/* for KEY_SECONDS: in ms, unless 0 (off) */
	uint64_t	 max;	/* for KEY_SECONDS: in seconds */
};

#define FIELD(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct key keys[] = {
	{ "listen", KEY_LISTEN, FIELD(listen), 0, 0 },
	{ "metrics_listen", KEY_METRICS_LISTEN, FIELD(metrics_listen), 0, 0 },
	{ "workers", KEY_NUMBER, FIELD(workers), 0, CONFIG_WORKERS_MAX },
	{ "mode", KEY_MODE, FIELD(mode), 0, 0 },
	{ "max_message_bytes", KEY_NUMBER, FIELD(max_message_bytes), 1,
	    1024 * MIB },
	{ "buffer_bytes", KEY_NUMBER, FIELD(buffer_bytes), 512, 16 * MIB },
	{ "max_connections", KEY_NUMBER, FIELD(max_connections), 1, 1000000 },
	{ "backlog", KEY_NUMBER, FIELD(backlog), 0, 65535 },
	{ "idle_timeout", KEY_SECONDS, FIELD(idle_timeout_ms), 0, 86400 },
	{ "shutdown_timeout", KEY_SECONDS, FIELD(shutdown_timeout_ms), 0, 86400 },
	/* Workers show life twice a second: less than 1 s would kill them. */
	{ "worker_timeout", KEY_SECONDS, FIELD(worker_timeout_ms), 1000, 86400 },
	{ "max_connections_per_worker", KEY_NUMBER,
	    FIELD(max_connections_per_worker), 0, UINT32_MAX },
	{ "recycle_jitter", KEY_NUMBER, FIELD(recycle_jitter), 0, UINT32_MAX },
	{ "log_level", KEY_LOG_LEVEL, FIELD(log_level), 0, 0 },
	{ "log_format", KEY_LOG_FORMAT, FIELD(log_format), 0, 0 },
	{ "log_connections", KEY_BOOL, FIELD(log_connections), 0, 0 },
	{ "log_timestamps", KEY_BOOL, FIELD(log_timestamps), 0, 0 },
	{ "user", KEY_USER, FIELD(user), 0, 0 },
	{ "group", KEY_GROUP, FIELD(group), 0, 0 },
	{ "udp_drop_source_ports", KEY_PORTS, FIELD(udp_drop_source_ports), 1,
	    65535 },
	{ "udp_max_datagrams_per_client", KEY_NUMBER,
	    FIELD(udp_max_datagrams_per_client), 0, 1000000000 },
	{ "udp_max_bytes_per_client", KEY_NUMBER,
	    FIELD(udp_max_bytes_per_client), 0, 1024 * 1024 * MIB },
	{ "udp_max_datagrams", KEY_NUMBER, FIELD(udp_max_datagrams), 0,
	    1000000000 },
	{ "allow", KEY_PREFIXES, FIELD(acl.allow), 0, 0 },
	{ "max_connections_per_client", KEY_NUMBER,
	    FIELD(max_connections_per_client), 0, 1000000 },
	{ "max_new_connections_per_client", KEY_NUMBER,
	    FIELD(max_new_connections_per_client), 0, 1000000 },
	{ "client_prefix_v4", KEY_NUMBER, FIELD(client_prefix_v4), 1, 32 },
	{ "client_prefix_v6", KEY_NUMBER, FIELD(client_prefix_v6), 1, 128 },
	{ "socket_buffer_bytes", KEY_NUMBER, FIELD(socket_buffer_bytes), 0,
	    64 * MIB },
	{ "max_buffered_bytes", KEY_NUMBER, FIELD(max_buffered_bytes), 0,
	    64 * 1024 * MIB },
	{ "deny", KEY_PREFIXES, FIELD(acl.deny), 0, 0 },
	{ "proxy_protocol", KEY_BOOL, FIELD(proxy_protocol), 0, 0 },
	{ "proxy_trusted", KEY_PREFIXES, FIELD(proxy_trusted), 0, 0 },
	{ "proxy_header_timeout_ms", KEY_NUMBER, FIELD(proxy_header_timeout_ms),
	    1, CONFIG_PROXY_TIMEOUT_MAX_MS },
};

#define NKEYS	nitems(keys)

/*
 * Where a message points: a file and line, or the command line; for a
 * setting, also its line in the text libconfig read (see conffile.c).
 */
struct where {
	const char		*file;
	unsigned		 line;
	const struct conffile	*cf;
	unsigned		 merged_line;
};

static void errorf(struct config_errors *, const struct where *,
    const char *, ...) LOG_PRINTF(3, 4);

static void
errorf(struct config_errors *errs, const struct where *w, const char *fmt, ...)
{
	char	 msg[1024], *line, **v;
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w != NULL && w->file != NULL && w->line > 0)
		r = asprintf(&line, "%s:%u: %s", w->file, w->line, msg);
	else if (w != NULL && w->file != NULL)
		r = asprintf(&line, "%s: %s", w->file, msg);
	else
		r = asprintf(&line, "%s", msg);
	if (r == -1)
		return;
	/* A hostile file has as many errors as settings: show the first. */
	if (errs->n == CONFIG_ERRORS_MAX) {
		free(line);
		r = asprintf(&line, "(more errors not shown)");
	}
	if (r == -1 || errs->n > CONFIG_ERRORS_MAX) {
		free(line);
		return;
	}
	if ((v = reallocarray(errs->v, errs->n + 1, sizeof(*v))) == NULL) {
		free(line);
		return;
	}
	errs->v = v;
	errs->v[errs->n++] = line;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

static void
free_listen(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen_text[i]);
	free(cfg->listen_text);
	free(cfg->listen);
	cfg->listen_text = NULL;
	cfg->listen = NULL;
	cfg->nlisten = 0;
}

void
config_free(struct config *cfg)
{
	free_listen(cfg);
	free(cfg->path);
	free(cfg->user);
	free(cfg->group);
	acl_list_free(&cfg->acl.allow);
	acl_list_free(&cfg->acl.deny);
	acl_list_free(&cfg->proxy_trusted);
	free(cfg->metrics_listen);
	memset(cfg, 0, sizeof(*cfg));
}

/* config_free() for a configuration that was itself allocated; NULL is fine. */
void
config_discard(struct config *cfg)
{
	if (cfg == NULL)
		return;
	config_free(cfg);
	free(cfg);
}

static int
add_listen(struct config *cfg, const char *text, const struct where *w,
    struct config_errors *errs)
{
	struct listen_sockaddr	*sa;
	struct listen_addr	 a, *av;
	char			**tv, *copy;
	const char		*why;
	size_t			 nsa;

	if (listen_parse(text, &a, &why) == -1) {
		errorf(errs, w, "listen: invalid address \"%s\": %s", text, why);
		return -1;
	}
	if (listen_resolve(&a, &sa, &nsa, &why) == -1) {
		errorf(errs, w, "listen: cannot resolve \"%s\": %s", text, why);
		return -1;
	}
	free(sa);
	if ((copy = strdup(text)) == NULL)
		return -1;
	tv = reallocarray(cfg->listen_text, cfg->nlisten + 1, sizeof(*tv));
	if (tv == NULL) {
		free(copy);
		return -1;
	}
	cfg->listen_text = tv;
	av = reallocarray(cfg->listen, cfg->nlisten + 1, sizeof(*av));
	if (av == NULL) {
		free(copy);
		return -1;
	}
	cfg->listen = av;
	cfg->listen_text[cfg->nlisten] = copy;
	cfg->listen[cfg->nlisten] = a;
	cfg->nlisten++;
	return 0;
}

/*
 * Sources that answer whatever they get, so that an echo answering them
 * would loop: echo, daytime, quote of the day, chargen, time, and NTP,
 * whose servers answer from 123 and which no echo client sends from.
 */
static void
udp_defaults(struct config *cfg)
{
	static const uint16_t	ports[] = { 7, 13, 17, 19, 37, 123 };

	memcpy(cfg->udp_drop_source_ports, ports, sizeof(ports));
	cfg->nudp_drop_source_ports = nitems(ports);
	cfg->udp_max_datagrams_per_client = 100;
	cfg->udp_max_bytes_per_client = 1 * MIB;
	cfg->udp_max_datagrams = 100000;
}

/*
 * Secure by default: loopback and the private ranges. "allow = [];"
 * opens the service to everyone.
 */
static void
default_allow(struct config *cfg)
{
	static const char *const private[] = { "127.0.0.0/8", "10.0.0.0/8",
	    "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1",
	    "fc00::/7", "fe80::/10" };
	struct acl_prefix	 p;
	char			 why[ACL_WHY_BYTES];
	size_t			 i;

	for (i = 0; i < nitems(private); i++)
		if (acl_parse(private[i], &p, why, sizeof(why)) == 0)
			(void)acl_list_add(&cfg->acl.allow, &p);
}

void
config_defaults(struct config *cfg)
{
	static const struct where builtin = { "built-in default", 0, NULL, 0 };
	struct config_errors	  errs = { NULL, 0 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 0;
	cfg->mode = ECHO_MODE_STREAM;
	cfg->max_message_bytes = 1 * MIB;
	cfg->buffer_bytes = 64 * 1024;	/* bulk echo: few syscalls per byte */
	cfg->max_connections = 1024;
	cfg->backlog = 0;	/* net.core.somaxconn: listen_backlog() */
	cfg->idle_timeout_ms = 60 * MS_PER_SEC;
	cfg->shutdown_timeout_ms = 10 * MS_PER_SEC;
	cfg->worker_timeout_ms = 30 * MS_PER_SEC;
	cfg->log_level = LOG_INFO;
	cfg->uid = (uid_t)-1;
	cfg->gid = (gid_t)-1;
	udp_defaults(cfg);
	(void)add_listen(cfg, "*:7", &builtin, &errs);
	default_allow(cfg);
	cfg->max_connections_per_client = CONFIG_DERIVED;
	cfg->client_prefix_v4 = 32;
	cfg->client_prefix_v6 = 64;	/* one subnet, as most sites get */
	/* A client that never reads pins at most this much kernel memory. */
	cfg->socket_buffer_bytes = 128 * 1024;
	cfg->max_buffered_bytes = CONFIG_DERIVED;
	cfg->proxy_header_timeout_ms = 3 * MS_PER_SEC;
	config_errors_free(&errs);
}

/* Whether the connections of listen address i begin with a PROXY header. */
bool
config_listen_proxy(const struct config *cfg, size_t i)
{
	const struct listen_addr	*a = &cfg->listen[i];

	if (a->socktype != SOCK_STREAM)
		return false;
	if (a->proxy != LISTEN_PROXY_DEFAULT)
		return a->proxy == LISTEN_PROXY_ON;
	return cfg->proxy_protocol;
}

/* A PROXY listener trusts only proxy_trusted, which must then be listed. */
static void
check_proxy(const struct config *cfg, const struct where *w,
    struct config_errors *errs)
{
	size_t	i;

	if (cfg->proxy_trusted.n > 0)
		return;
	for (i = 0; i < cfg->nlisten; i++)
		if (config_listen_proxy(cfg, i)) {
			errorf(errs, w, "proxy_protocol is on for %s, but "
			    "proxy_trusted is empty: list the load balancers "
			    "that may send a PROXY header",
			    cfg->listen_text[i]);
			return;
		}
}

/* Replace the listen list, as -l on the command line does. */
int
config_set_listen(struct config *cfg, char *const *texts, size_t n,
    struct config_errors *errs)
{
	static const struct where cmdline = { "command line", 0, NULL, 0 };
	size_t	 i, before = errs->n;

	free_listen(cfg);
	for (i = 0; i < n; i++)
		if (add_listen(cfg, texts[i], &cmdline, errs) == -1 &&
		    errs->n == before)
			errorf(errs, &cmdline, "listen: %s", strerror(ENOMEM));
	check_proxy(cfg, &cmdline, errs);
	return errs->n == before ? 0 : -1;
}

/*
 * One source may hold half of one worker's connections by default, so
 * that it can never take the whole pool, even with one worker; but at
 * least CONFIG_PER_CLIENT_MIN (all of them in smaller setups, which are
 * tests and laboratories).
 */
uint64_t
config_per_client(const struct config *cfg)
{
	uint64_t	half = cfg->max_connections / 2;

	if (cfg->max_connections_per_client != CONFIG_DERIVED)
		return cfg->max_connections_per_client;
	if (half >= CONFIG_PER_CLIENT_MIN)
		return half;
	return cfg->max_connections < CONFIG_PER_CLIENT_MIN ?
	    cfg->max_connections : CONFIG_PER_CLIENT_MIN;
}

/*
 * What one worker's connections may hold together by default: sixteen
 * connections' worth of their largest holding (a whole message, or
 * buffer_bytes of unsent stream echo), and at least 16 MiB. 0: no limit.
 */
uint64_t
config_buffered(const struct config *cfg)
{
	uint64_t	one = cfg->mode == ECHO_MODE_MESSAGE ?
	    cfg->max_message_bytes : cfg->buffer_bytes;

	if (cfg->max_buffered_bytes != CONFIG_DERIVED)
		return cfg->max_buffered_bytes;
	return 16 * one > 16 * MIB ? 16 * one : 16 * MIB;
}

unsigned
config_workers(const struct config *cfg)
{
	long	n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX : (unsigned)n;
}

static bool
is_integer(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int
get_number(const config_setting_t *s, const struct key *k,
    const struct where *w, struct config_errors *errs, uint64_t *out)
{
	long long	v;

	if (!is_integer(s)) {
		errorf(errs, w, "%s: expected an integer", k->name);
		return -1;
	}
	/* confscan_check() refused every literal libconfig would wrap. */
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < k->min || (uint64_t)v > k->max) {
		errorf(errs, w, "%s: must be between %llu and %llu (got %lld)",
		    k->name, (unsigned long long)k->min,
		    (unsigned long long)k->max, v);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

/* Integer or fractional seconds, as milliseconds (rounded up, never to 0). */
static int
get_seconds(const config_setting_t *s, const struct key *k,
    const struct where *w, struct config_errors *errs, uint64_t *ms)
{
	double		sec;

	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		sec = config_setting_get_float(s);
	else if (is_integer(s))
		sec = (double)config_setting_get_int64(s);
	else {
		errorf(errs, w, "%s: expected a number of seconds", k->name);
		return -1;
	}
	if (!isfinite(sec) || sec < 0 || sec > (double)k->max) {
		errorf(errs, w, "%s: must be between 0 and %llu seconds "
		    "(got %g)", k->name, (unsigned long long)k->max, sec);
		return -1;
	}
	*ms = (uint64_t)ceil(sec * MS_PER_SEC);
	if (*ms < k->min && *ms != 0) {
		errorf(errs, w, "%s: must be 0 (off) or at least %llu ms "
		    "(got %g seconds)", k->name, (unsigned long long)k->min,
		    sec);
		return -1;
	}
	return 0;
}

/* The line of the text that holds byte "off" (lines start at 1). */
static unsigned
merged_line_of(const struct conffile *cf, size_t off)
{
	unsigned	lo = 1, hi = cf->lines + 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (cf->line_start[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Where libconfig says a list element is (see element_where). */
static void
element_line(const struct where *w, const config_setting_t *e,
    struct where *ew)
{
	*ew = *w;
	if (w->cf != NULL && config_setting_source_line(e) > 0) {
		ew->merged_line = config_setting_source_line(e);
		conffile_where(w->cf, ew->merged_line, &ew->file, &ew->line);
	}
}

/*
 * libconfig gives a list element the line its parser had reached, which
 * may be past the element: find the quoted text between *cursor and the
 * end of that line, and move *cursor past it. The cursor only moves
 * forward, so a list costs one pass over the text; after a miss (an
 * escape sequence) it stops looking and libconfig's line stands.
 */
static void
element_where(struct where *ew, const char *text, size_t *cursor)
{
	const struct conffile	*cf = ew->cf;
	const char		*hit;
	size_t			 end, n = strlen(text);

	if (cf == NULL || *cursor >= cf->len || ew->merged_line > cf->lines + 1)
		return;
	end = ew->merged_line <= cf->lines ? cf->line_start[ew->merged_line + 1] :
	    cf->len;
	while (*cursor < end && (hit = memchr(cf->text + *cursor, '"',
	    end - *cursor)) != NULL) {
		*cursor = (size_t)(hit - cf->text) + 1;
		if (cf->len - *cursor > n && memcmp(hit + 1, text, n) == 0 &&
		    hit[n + 1] == '"') {
			conffile_where(cf, merged_line_of(cf, *cursor),
			    &ew->file, &ew->line);
			*cursor += n + 1;
			return;
		}
	}
	*cursor = cf->len;
}

/* Called for each string of a list setting, with its own file:line. */
typedef int (*string_fn)(struct config *, const struct key *, const char *,
    const struct where *, struct config_errors *);

/*
 * A list setting of strings, each handed to "fn" with the line it is on;
 * a lone string is a list of one.
 */
static int
each_string(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs, string_fn fn)
{
	const config_setting_t	*e;
	struct where		 ew;
	const char		*text;
	size_t			 cursor = 0;
	int			 i, n, bad = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return fn(cfg, k, config_setting_get_string(s), w, errs);
	n = config_setting_length(s);
	if (w->cf != NULL && w->merged_line > 0 && w->merged_line <= w->cf->lines)
		cursor = w->cf->line_start[w->merged_line];
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		element_line(w, e, &ew);
		if ((text = config_setting_get_string(e)) == NULL) {
			errorf(errs, &ew, "%s: element %d is not a string",
			    k->name, i + 1);
			bad = 1;
			continue;
		}
		element_where(&ew, text, &cursor);
		if (fn(cfg, k, text, &ew, errs) == -1)
			bad = 1;
	}
	return bad ? -1 : 0;
}

/* A list of port numbers: [ 7, 19 ], or [ ] for none. */
static int
get_ports(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	const config_setting_t	*e;
	struct where		 ew = *w;
	uint64_t		 v;
	int			 i, n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		errorf(errs, w, "%s: expected a list of port numbers, such as "
		    "[ 7, 19 ]", k->name);
		return -1;
	}
	if ((n = config_setting_length(s)) > CONFIG_UDP_DROP_PORTS_MAX) {
		errorf(errs, w, "%s: at most %d ports", k->name,
		    CONFIG_UDP_DROP_PORTS_MAX);
		return -1;
	}
	cfg->nudp_drop_source_ports = 0;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		element_line(w, e, &ew);
		if (get_number(e, k, &ew, errs, &v) == -1) {
			bad = 1;
			continue;
		}
		cfg->udp_drop_source_ports[cfg->nudp_drop_source_ports++] =
		    (uint16_t)v;
	}
	return bad ? -1 : 0;
}

static bool
is_list(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ||
	    config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(s) == CONFIG_TYPE_LIST;
}

/* A listen group's proxy_protocol; UDP has no PROXY header. */
static int
listen_group_proxy(struct config *cfg, const config_setting_t *proxy,
    const struct where *w, struct config_errors *errs)
{
	struct listen_addr	*a = &cfg->listen[cfg->nlisten - 1];

	if (config_setting_type(proxy) != CONFIG_TYPE_BOOL) {
		errorf(errs, w, "listen: proxy_protocol: expected true or false");
		return -1;
	}
	if (a->socktype == SOCK_DGRAM && config_setting_get_bool(proxy)) {
		errorf(errs, w, "listen: proxy_protocol does not apply to UDP "
		    "(\"%s\")", cfg->listen_text[cfg->nlisten - 1]);
		return -1;
	}
	a->proxy = config_setting_get_bool(proxy) ? LISTEN_PROXY_ON :
	    LISTEN_PROXY_OFF;
	return 0;
}

/* { address = "HOST:PORT"; proxy_protocol = true; } */
static int
listen_group(struct config *cfg, const config_setting_t *g,
    const struct where *w, struct config_errors *errs)
{
	const config_setting_t	*m, *addr = NULL, *proxy = NULL;
	struct where		 mw, pw;
	int			 i, bad = 0;

	for (i = 0; (m = config_setting_get_elem(g, i)) != NULL; i++) {
		element_line(w, m, &mw);
		if (strcmp(config_setting_name(m), "address") == 0)
			addr = m;
		else if (strcmp(config_setting_name(m), "proxy_protocol") == 0) {
			proxy = m;
			pw = mw;
		} else {
			errorf(errs, &mw, "listen: unknown setting \"%s\" in a "
			    "listener (known: address, proxy_protocol)",
			    config_setting_name(m));
			bad = 1;
		}
	}
	if (addr == NULL || config_setting_type(addr) != CONFIG_TYPE_STRING) {
		errorf(errs, w, "listen: a listener group needs "
		    "address = \"HOST:PORT\";");
		return -1;
	}
	element_line(w, addr, &mw);
	if (add_listen(cfg, config_setting_get_string(addr), &mw, errs) == -1)
		return -1;
	if (proxy != NULL && listen_group_proxy(cfg, proxy, &pw, errs) == -1)
		return -1;
	return bad ? -1 : 0;
}

/* Each element: an address, or a group with its address and options. */
static int
listen_elements(struct config *cfg, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	const config_setting_t	*e;
	struct where		 ew;
	const char		*text;
	size_t			 cursor = 0;
	int			 i, n = config_setting_length(s), bad = 0;

	if (w->cf != NULL && w->merged_line > 0 && w->merged_line <= w->cf->lines)
		cursor = w->cf->line_start[w->merged_line];
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		element_line(w, e, &ew);
		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			if (listen_group(cfg, e, &ew, errs) == -1)
				bad = 1;
			continue;
		}
		if ((text = config_setting_get_string(e)) == NULL) {
			errorf(errs, &ew, "listen: element %d is neither an "
			    "address nor a group", i + 1);
			bad = 1;
			continue;
		}
		element_where(&ew, text, &cursor);
		if (add_listen(cfg, text, &ew, errs) == -1)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int
get_listen(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	(void)k;
	free_listen(cfg);
	if (!is_list(s)) {
		errorf(errs, w, "listen: expected a list of addresses, "
		    "such as [ \"*:7\" ]");
		return -1;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return add_listen(cfg, config_setting_get_string(s), w, errs);
	if (config_setting_length(s) == 0) {
		errorf(errs, w, "listen: the list is empty");
		return -1;
	}
	return listen_elements(cfg, s, w, errs);
}

static int
prefix_element(struct config *cfg, const struct key *k, const char *text,
    const struct where *w, struct config_errors *errs)
{
	struct acl_list		*l = (struct acl_list *)(void *)((char *)cfg +
	    k->offset);
	struct acl_prefix	 p;
	char			 why[ACL_WHY_BYTES];

	if (acl_parse(text, &p, why, sizeof(why)) == -1) {
		errorf(errs, w, "%s: \"%s\": %s", k->name, text, why);
		return -1;
	}
	if (acl_list_add(l, &p) == -1) {
		errorf(errs, w, "%s: %s", k->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* "allow" and "deny": one prefix, or a list of them (which may be empty). */
static int
get_prefixes(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	acl_list_free((struct acl_list *)(void *)((char *)cfg + k->offset));
	if (!is_list(s)) {
		errorf(errs, w, "%s: expected a list of prefixes, such as "
		    "[ \"192.0.2.0/24\", \"2001:db8::/32\" ]", k->name);
		return -1;
	}
	return each_string(cfg, k, s, w, errs, prefix_element);
}

static void
store(struct config *cfg, const struct key *k, uint64_t v)
{
	char	*field = (char *)cfg + k->offset;

	if (k->size == sizeof(uint64_t))
		*(uint64_t *)(void *)field = v;
	else
		*(unsigned *)(void *)field = (unsigned)v;
}

static int
get_string(const config_setting_t *s, const struct key *k,
    const struct where *w, struct config_errors *errs, const char **out)
{
	if ((*out = config_setting_get_string(s)) == NULL) {
		errorf(errs, w, "%s: expected a string", k->name);
		return -1;
	}
	return 0;
}

static int
set_string(struct config *cfg, const struct key *k, const char *str,
    const struct where *w, struct config_errors *errs)
{
	char	**field = (char **)(void *)((char *)cfg + k->offset);

	if (str[0] == '\0') {
		errorf(errs, w, "%s: must not be empty", k->name);
		return -1;
	}
	free(*field);
	if ((*field = strdup(str)) == NULL) {
		errorf(errs, w, "%s: %s", k->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* One TCP or Unix stream address for the Prometheus exporter. */
static int
get_metrics_listen(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	struct listen_sockaddr	*sa;
	const char		*str, *why;
	size_t			 nsa;

	if (get_string(s, k, w, errs, &str) == -1)
		return -1;
	if (listen_parse(str, &cfg->metrics_addr, &why) == -1) {
		errorf(errs, w, "metrics_listen: invalid address \"%s\": %s",
		    str, why);
		return -1;
	}
	if (cfg->metrics_addr.socktype != SOCK_STREAM) {
		errorf(errs, w, "metrics_listen: \"%s\" is not a TCP or Unix "
		    "stream address", str);
		return -1;
	}
	if (listen_resolve(&cfg->metrics_addr, &sa, &nsa, &why) == -1) {
		errorf(errs, w, "metrics_listen: cannot resolve \"%s\": %s",
		    str, why);
		return -1;
	}
	free(sa);
	return set_string(cfg, k, str, w, errs);
}

static int
get_bool(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		errorf(errs, w, "%s: expected true or false", k->name);
		return -1;
	}
	*(bool *)(void *)((char *)cfg + k->offset) =
	    config_setting_get_bool(s) != 0;
	return 0;
}

static int
get_log_format(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	const char	*str;
	int		 format;

	if (get_string(s, k, w, errs, &str) == -1)
		return -1;
	if ((format = log_format_parse(str)) == -1) {
		errorf(errs, w, "log_format: must be \"auto\", \"plain\" or "
		    "\"syslog-prefix\" (got \"%s\")", str);
		return -1;
	}
	cfg->log_format = (enum log_format)format;
	return 0;
}

static int
get_integer(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	uint64_t	v;

	if (get_number(s, k, w, errs, &v) == -1)
		return -1;
	store(cfg, k, v);
	return 0;
}

static int
get_duration(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	uint64_t	v;

	if (get_seconds(s, k, w, errs, &v) == -1)
		return -1;
	store(cfg, k, v);
	return 0;
}

static int
get_text(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	const char	*str;

	if (get_string(s, k, w, errs, &str) == -1)
		return -1;
	return set_string(cfg, k, str, w, errs);
}

/* user also sets the group, unless group is set too. */
static int
get_user(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	struct passwd	*pw;
	const char	*str;

	if (get_string(s, k, w, errs, &str) == -1 ||
	    set_string(cfg, k, str, w, errs) == -1)
		return -1;
	errno = 0;
	if ((pw = getpwnam(str)) == NULL) {
		errorf(errs, w, "user: no such user \"%s\"", str);
		return -1;
	}
	cfg->uid = pw->pw_uid;
	if (cfg->group == NULL)
		cfg->gid = pw->pw_gid;
	return 0;
}

static int
get_group(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	struct group	*gr;
	const char	*str;

	if (get_string(s, k, w, errs, &str) == -1 ||
	    set_string(cfg, k, str, w, errs) == -1)
		return -1;
	if ((gr = getgrnam(str)) == NULL) {
		errorf(errs, w, "group: no such group \"%s\"", str);
		return -1;
	}
	cfg->gid = gr->gr_gid;
	return 0;
}

static int
get_mode(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	const char	*str;

	if (get_string(s, k, w, errs, &str) == -1)
		return -1;
	if (echo_mode_parse(str, &cfg->mode) == -1) {
		errorf(errs, w, "mode: must be \"stream\" or "
		    "\"message\" (got \"%s\")", str);
		return -1;
	}
	return 0;
}

static int
get_log_level(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	const char	*str;
	int		 level;

	if (get_string(s, k, w, errs, &str) == -1)
		return -1;
	if ((level = log_level_parse(str)) == -1) {
		errorf(errs, w, "log_level: must be one of error, "
		    "warning, notice, info, debug (got \"%s\")", str);
		return -1;
	}
	cfg->log_level = level;
	return 0;
}

/* How each type of key is read, checked and stored. */
typedef int key_getter(struct config *, const struct key *,
    const config_setting_t *, const struct where *, struct config_errors *);

static key_getter *const getters[] = {
	[KEY_NUMBER] = get_integer,
	[KEY_SECONDS] = get_duration,
	[KEY_STRING] = get_text,
	[KEY_MODE] = get_mode,
	[KEY_LOG_LEVEL] = get_log_level,
	[KEY_LOG_FORMAT] = get_log_format,
	[KEY_BOOL] = get_bool,
	[KEY_LISTEN] = get_listen,
	[KEY_METRICS_LISTEN] = get_metrics_listen,
	[KEY_USER] = get_user,
	[KEY_GROUP] = get_group,
	[KEY_PORTS] = get_ports,
	[KEY_PREFIXES] = get_prefixes,
};

static int
apply_key(struct config *cfg, const struct key *k, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	if ((size_t)k->type >= nitems(getters) || getters[k->type] == NULL)
		return -1;
	return getters[k->type](cfg, k, s, w, errs);
}

/* Levenshtein distance of two short strings, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, tmp, d[64];

	if (la >= 63 || lb >= 63)
		return 64;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = prev + (a[i - 1] != b[j - 1]);
			if (d[j] > d[j - 1] + 1)
				d[j] = d[j - 1] + 1;
			if (d[j] > tmp + 1)
				d[j] = tmp + 1;
			prev = tmp;
		}
	}
	return d[lb];
}

static void
unknown_key(const char *name, const struct where *w,
    struct config_errors *errs)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 3;

	for (i = 0; i < NKEYS; i++)
		if ((d = distance(name, keys[i].name)) < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	if (best != NULL)
		errorf(errs, w, "unknown setting \"%s\" (did you mean \"%s\"?)",
		    name, best);
	else
		errorf(errs, w, "unknown setting \"%s\"", name);
}

/*
 * Where the PROXY protocol was turned on, for check_proxy(): the first
 * listen group that says so, else the global setting.
 */
static void
proxy_where(config_t *lc, const struct conffile *cf, struct where *w)
{
	config_setting_t	*s, *l, *e, *p;
	int			 i;

	s = config_lookup(lc, "proxy_protocol");
	if ((l = config_lookup(lc, "listen")) != NULL &&
	    config_setting_type(l) == CONFIG_TYPE_LIST)
		for (i = 0; (e = config_setting_get_elem(l, i)) != NULL; i++)
			if (config_setting_type(e) == CONFIG_TYPE_GROUP &&
			    (p = config_setting_get_member(e,
			    "proxy_protocol")) != NULL &&
			    config_setting_type(p) == CONFIG_TYPE_BOOL &&
			    config_setting_get_bool(p)) {
				s = p;
				break;
			}
	w->file = cf->nfiles > 0 ? cf->files[0] : NULL;
	w->line = 0;
	if (s != NULL) {
		w->merged_line = config_setting_source_line(s);
		conffile_where(cf, w->merged_line, &w->file, &w->line);
	}
}

static void
read_settings(struct config *cfg, config_t *lc, const struct conffile *cf,
    struct config_errors *errs)
{
	config_setting_t	*root, *s;
	struct where		 w = { NULL, 0, cf, 0 };
	const struct key	*k;
	size_t			 i;
	int			 n, j;

	root = config_root_setting(lc);
	n = config_setting_length(root);
	for (j = 0; j < n; j++) {
		s = config_setting_get_elem(root, j);
		w.merged_line = config_setting_source_line(s);
		conffile_where(cf, w.merged_line, &w.file, &w.line);
		k = NULL;
		for (i = 0; i < NKEYS; i++)
			if (strcmp(config_setting_name(s), keys[i].name) == 0)
				k = &keys[i];
		if (k == NULL) {
			unknown_key(config_setting_name(s), &w, errs);
			continue;
		}
		(void)apply_key(cfg, k, s, &w, errs);
	}
	proxy_where(lc, cf, &w);
	check_proxy(cfg, &w, errs);
}

/*
 * libconfig parses the checked text from memory. Should an @include
 * slip past confscan_check(), libconfig would look for it under this
 * directory, which does not exist, and fail instead of opening it.
 */
#define NO_INCLUDE_DIR	"/nonexistent/sockechod: includes are read by conffile.c"

static void
parse(struct config *cfg, const struct conffile *cf,
    struct config_errors *errs)
{
	struct where	w = { NULL, 0, cf, 0 };
	config_t	lc;

	config_init(&lc);
	config_set_include_dir(&lc, NO_INCLUDE_DIR);
	if (config_read_string(&lc, cf->text) == CONFIG_FALSE) {
		conffile_where(cf, (unsigned)config_error_line(&lc), &w.file,
		    &w.line);
		errorf(errs, &w, "%s", config_error_text(&lc));
	} else
		read_settings(cfg, &lc, cf, errs);
	config_destroy(&lc);
}

/*
 * Load "path" over the defaults. With "optional", a file that does not
 * exist leaves the defaults (cfg->path stays NULL). Returns 0, or -1 with
 * every problem found in "errs" (the first CONFIG_ERRORS_MAX).
 */
int
config_load(struct config *cfg, const char *path, bool optional,
    struct config_errors *errs)
{
	struct where	 w = { path, 0, NULL, 0 };
	struct conffile	 cf;
	size_t		 before = errs->n;

	config_defaults(cfg);
	if (conffile_read(&cf, path) == -1) {
		if (cf.missing && optional) {
			conffile_free(&cf);
			return 0;
		}
		w.file = cf.error_file ? cf.error_file : path;
		w.line = cf.error_line;
		errorf(errs, &w, "%s", cf.error);
		conffile_free(&cf);
		return -1;
	}
	if ((cfg->path = strdup(path)) == NULL)
		errorf(errs, &w, "%s", strerror(errno));
	else
		parse(cfg, &cf, errs);
	conffile_free(&cf);
	if (cfg->group != NULL && cfg->user == NULL)
		errorf(errs, &w, "group: only applies together with user");
	if (cfg->mode == ECHO_MODE_MESSAGE && config_buffered(cfg) != 0 &&
	    config_buffered(cfg) < cfg->max_message_bytes)
		errorf(errs, &w, "max_buffered_bytes (%llu) must be 0 or at "
		    "least max_message_bytes (%llu): no message would fit",
		    (unsigned long long)config_buffered(cfg),
		    (unsigned long long)cfg->max_message_bytes);
	return errs->n == before ? 0 : -1;
}
