/* SPDX-License-Identifier: ISC */
/*
 * confkeys.c: the table of every setting sockecho.conf knows, with its
 * range, and the getters that read, range-check and store one value
 * (numbers, seconds, strings, modes, levels, user and group, ports,
 * metrics_listen); unknown names get a "did you mean". Lists of addresses
 * and prefixes are read by conflisten.c and confacl.c; nothing here
 * reads a file or checks one setting against another.
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

#define FIELD(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct key keys[] = {
	{ "listen", KEY_LISTEN, FIELD(listen), 0, 0 },
	{ "metrics_listen", KEY_METRICS_LISTEN, FIELD(metrics_listen), 0, 0 },
	{ "workers", KEY_NUMBER, FIELD(workers), 0, CONFIG_WORKERS_MAX },
	{ "mode", KEY_MODE, FIELD(mode), 0, 0 },
	{ "max_message_bytes", KEY_NUMBER, FIELD(max_message_bytes), 1,
	    1024 * MIB },
	{ "buffer_bytes", KEY_NUMBER, FIELD(buffer_bytes), 512, 16 * MIB },
	{ "splice", KEY_BOOL, FIELD(splice), 0, 0 },
	{ "stamp_stateful", KEY_BOOL, FIELD(stamp_stateful), 0, 0 },
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
	{ "log_peer_lines_per_second", KEY_NUMBER,
	    FIELD(log_peer_lines_per_second), 0, 1000000 },
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
	{ "autotuned_connections", KEY_NUMBER, FIELD(autotuned_connections), 0,
	    1000000 },
	{ "max_buffered_bytes", KEY_NUMBER, FIELD(max_buffered_bytes), 0,
	    64 * 1024 * MIB },
	{ "deny", KEY_PREFIXES, FIELD(acl.deny), 0, 0 },
	{ "proxy_protocol", KEY_BOOL, FIELD(proxy_protocol), 0, 0 },
	{ "proxy_trusted", KEY_PREFIXES, FIELD(proxy_trusted), 0, 0 },
	{ "proxy_header_timeout_ms", KEY_NUMBER, FIELD(proxy_header_timeout_ms),
	    1, CONFIG_PROXY_TIMEOUT_MAX_MS },
};

#define NKEYS	nitems(keys)

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
		config_errorf(errs, w, "%s: expected an integer", k->name);
		return -1;
	}
	/* confscan_check() refused every literal libconfig would wrap. */
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < k->min || (uint64_t)v > k->max) {
		config_errorf(errs, w, "%s: must be between %llu and %llu "
		    "(got %lld)", k->name, (unsigned long long)k->min,
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
		config_errorf(errs, w, "%s: expected a number of seconds",
		    k->name);
		return -1;
	}
	if (!isfinite(sec) || sec < 0 || sec > (double)k->max) {
		config_errorf(errs, w, "%s: must be between 0 and %llu seconds "
		    "(got %g)", k->name, (unsigned long long)k->max, sec);
		return -1;
	}
	*ms = (uint64_t)ceil(sec * MS_PER_SEC);
	if (*ms < k->min && *ms != 0) {
		config_errorf(errs, w, "%s: must be 0 (off) or at least %llu "
		    "ms (got %g seconds)", k->name, (unsigned long long)k->min,
		    sec);
		return -1;
	}
	return 0;
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
		config_errorf(errs, w, "%s: expected a list of port numbers, "
		    "such as [ 7, 19 ]", k->name);
		return -1;
	}
	if ((n = config_setting_length(s)) > CONFIG_UDP_DROP_PORTS_MAX) {
		config_errorf(errs, w, "%s: at most %d ports", k->name,
		    CONFIG_UDP_DROP_PORTS_MAX);
		return -1;
	}
	cfg->nudp_drop_source_ports = 0;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		config_element_line(w, e, &ew);
		if (get_number(e, k, &ew, errs, &v) == -1) {
			bad = 1;
			continue;
		}
		cfg->udp_drop_source_ports[cfg->nudp_drop_source_ports++] =
		    (uint16_t)v;
	}
	return bad ? -1 : 0;
}

bool
config_is_list(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ||
	    config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(s) == CONFIG_TYPE_LIST;
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
		config_errorf(errs, w, "%s: expected a string", k->name);
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
		config_errorf(errs, w, "%s: must not be empty", k->name);
		return -1;
	}
	free(*field);
	if ((*field = strdup(str)) == NULL) {
		config_errorf(errs, w, "%s: %s", k->name, strerror(errno));
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
		config_errorf(errs, w, "metrics_listen: invalid address "
		    "\"%s\": %s", str, why);
		return -1;
	}
	if (cfg->metrics_addr.socktype != SOCK_STREAM) {
		config_errorf(errs, w, "metrics_listen: \"%s\" is not a TCP or "
		    "Unix stream address", str);
		return -1;
	}
	if (listen_resolve(&cfg->metrics_addr, &sa, &nsa, &why) == -1) {
		config_errorf(errs, w, "metrics_listen: cannot resolve "
		    "\"%s\": %s", str, why);
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
		config_errorf(errs, w, "%s: expected true or false", k->name);
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
		config_errorf(errs, w, "log_format: must be \"auto\", "
		    "\"plain\" or \"syslog-prefix\" (got \"%s\")", str);
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
		config_errorf(errs, w, "user: no such user \"%s\"", str);
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
		config_errorf(errs, w, "group: no such group \"%s\"", str);
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
		config_errorf(errs, w, "mode: must be \"stream\" or "
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
		config_errorf(errs, w, "log_level: must be one of error, "
		    "warning, notice, info, debug (got \"%s\")", str);
		return -1;
	}
	cfg->log_level = level;
	return 0;
}

/* The key of that name, or NULL. */
const struct key *
config_key_find(const char *name)
{
	const struct key	*k = NULL;
	size_t			 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(name, keys[i].name) == 0)
			k = &keys[i];
	return k;
}

/* How each type of key is read, checked and stored. */
static key_getter *const getters[] = {
	[KEY_NUMBER] = get_integer,
	[KEY_SECONDS] = get_duration,
	[KEY_STRING] = get_text,
	[KEY_MODE] = get_mode,
	[KEY_LOG_LEVEL] = get_log_level,
	[KEY_LOG_FORMAT] = get_log_format,
	[KEY_BOOL] = get_bool,
	[KEY_LISTEN] = config_get_listen,
	[KEY_METRICS_LISTEN] = get_metrics_listen,
	[KEY_USER] = get_user,
	[KEY_GROUP] = get_group,
	[KEY_PORTS] = get_ports,
	[KEY_PREFIXES] = config_get_prefixes,
};

int
config_key_apply(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
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

void
config_key_unknown(const char *name, const struct where *w,
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
		config_errorf(errs, w, "unknown setting \"%s\" (did you mean "
		    "\"%s\"?)", name, best);
	else
		config_errorf(errs, w, "unknown setting \"%s\"", name);
}
