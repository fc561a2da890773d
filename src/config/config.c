/* SPDX-License-Identifier: ISC */
/*
 * config.c: load sockecho.conf with libconfig into a plain struct config:
 * the defaults and the values derived from them, the walk over the file's
 * settings (each handed to confkeys.c), the checks of one setting against
 * another, and freeing. libconfig types never leave the config files
 * (config_int.h); no exit() and no logging here: errors go to the caller.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/peerlog.h"

void
config_free(struct config *cfg)
{
	config_listen_free(cfg);
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

/*
 * Sources that answer whatever they get, so that an echo answering them
 * would loop: echo, daytime, quote of the day, chargen, time, NTP, whose
 * servers answer from 123 and which no echo client sends from, and STAMP
 * (RFC 8762), whose reflectors answer from 862: a reflector's answer
 * differs from its question, so the loop detector cannot see that loop.
 */
static void
udp_defaults(struct config *cfg)
{
	static const uint16_t	ports[] = { 7, 13, 17, 19, 37, 123, 862 };

	memcpy(cfg->udp_drop_source_ports, ports, sizeof(ports));
	cfg->nudp_drop_source_ports = nitems(ports);
	cfg->udp_max_datagrams_per_client = 100;
	cfg->udp_max_bytes_per_client = 1 * MIB;
	cfg->udp_max_datagrams = 100000;
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
	cfg->buffer_bytes = 256 * 1024;	/* bulk echo: few syscalls per byte */
	cfg->splice = true;		/* and no copies */
	cfg->stamp_stateful = true;	/* forward and backward loss apart */
	cfg->max_connections = 1024;
	cfg->backlog = 0;	/* net.core.somaxconn: listen_backlog() */
	cfg->idle_timeout_ms = 60 * MS_PER_SEC;
	cfg->shutdown_timeout_ms = 10 * MS_PER_SEC;
	cfg->worker_timeout_ms = 30 * MS_PER_SEC;
	cfg->log_level = LOG_INFO;
	cfg->log_peer_lines_per_second = PEERLOG_DEFAULT_PER_SECOND;
	cfg->uid = (uid_t)-1;
	cfg->gid = (gid_t)-1;
	udp_defaults(cfg);
	(void)config_listen_add(cfg, "*:7", &builtin, &errs);
	config_default_allow(cfg);
	cfg->max_connections_per_client = CONFIG_DERIVED;
	cfg->client_prefix_v4 = 32;
	cfg->client_prefix_v6 = 64;	/* one subnet, as most sites get */
	/* A client that never reads pins at most this much kernel memory. */
	cfg->socket_buffer_bytes = 128 * 1024;
	/* A few connections at full speed: at most 8 x 10 MiB pinned. */
	cfg->autotuned_connections = 8;
	cfg->max_buffered_bytes = CONFIG_DERIVED;
	cfg->proxy_header_timeout_ms = 3 * MS_PER_SEC;
	config_errors_free(&errs);
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

/*
 * What a valid configuration allows that it should not, or NULL. The
 * per-client datagram rate is what bounds a loop with another echo service
 * whose answers differ each time (a counter appended): the loop detector
 * knows only answers that come back the same.
 */
const char *
config_warning(const struct config *cfg)
{
	if (cfg->udp_max_datagrams_per_client == 0)
		return "udp_max_datagrams_per_client = 0: a UDP loop with "
		    "another echo service that changes its answers is bounded "
		    "only by udp_max_bytes_per_client and udp_max_datagrams";
	return NULL;
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

static void
read_settings(struct config *cfg, config_t *lc, const struct conffile *cf,
    struct config_errors *errs)
{
	config_setting_t	*root, *s;
	struct where		 w = { NULL, 0, cf, 0 };
	const struct key	*k;
	int			 n, j;

	root = config_root_setting(lc);
	n = config_setting_length(root);
	for (j = 0; j < n; j++) {
		s = config_setting_get_elem(root, j);
		w.merged_line = config_setting_source_line(s);
		conffile_where(cf, w.merged_line, &w.file, &w.line);
		if ((k = config_key_find(config_setting_name(s))) == NULL) {
			config_key_unknown(config_setting_name(s), &w, errs);
			continue;
		}
		(void)config_key_apply(cfg, k, s, &w, errs);
	}
	config_proxy_where(lc, cf, &w);
	config_check_proxy(cfg, &w, errs);
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
		config_errorf(errs, &w, "%s", config_error_text(&lc));
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
		config_errorf(errs, &w, "%s", cf.error);
		conffile_free(&cf);
		return -1;
	}
	if ((cfg->path = strdup(path)) == NULL)
		config_errorf(errs, &w, "%s", strerror(errno));
	else
		parse(cfg, &cf, errs);
	conffile_free(&cf);
	if (cfg->group != NULL && cfg->user == NULL)
		config_errorf(errs, &w,
		    "group: only applies together with user");
	if (cfg->mode == ECHO_MODE_MESSAGE && config_buffered(cfg) != 0 &&
	    config_buffered(cfg) < cfg->max_message_bytes)
		config_errorf(errs, &w, "max_buffered_bytes (%llu) must be 0 "
		    "or at least max_message_bytes (%llu): no message would "
		    "fit", (unsigned long long)config_buffered(cfg),
		    (unsigned long long)cfg->max_message_bytes);
	return errs->n == before ? 0 : -1;
}

/* The configuration file, then the command line's overrides. */
int
config_load_options(const struct config_options *o, struct config *cfg,
    struct config_errors *errs)
{
	if (config_load(cfg, o->config_path, o->config_optional, errs) == -1)
		return -1;
	if (o->nlisten > 0 &&
	    config_set_listen(cfg, o->listen, o->nlisten, errs) == -1)
		return -1;
	if (o->workers >= 0)
		cfg->workers = o->workers;
	if (o->verbose)
		cfg->log_level = LOG_DEBUG;
	return 0;
}
