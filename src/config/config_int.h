/* SPDX-License-Identifier: ISC */
/*
 * config_int.h: what the files of the configuration reader share (config.c,
 * confwhere.c, confkeys.c, conflisten.c, confacl.c): the key table's types,
 * where a message points, and the functions one calls in another. It holds
 * libconfig types: only those files include it, never a header.
 */
#ifndef SOCKECHOD_CONFIG_INT_H
#define SOCKECHOD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/conffile.h"
#include "config/config.h"
#include "core/log.h"

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

/* How each type of key is read, checked and stored. */
typedef int key_getter(struct config *, const struct key *,
    const config_setting_t *, const struct where *, struct config_errors *);

/* confwhere.c: messages and the lines of list elements. */
void	config_errorf(struct config_errors *, const struct where *,
	    const char *, ...) LOG_PRINTF(3, 4);
void	config_element_line(const struct where *, const config_setting_t *,
	    struct where *);
void	config_element_where(struct where *, const char *text, size_t *cursor);

/* confkeys.c: the key table and the getters of single values. */
const struct key *config_key_find(const char *name);
int	config_key_apply(struct config *, const struct key *,
	    const config_setting_t *, const struct where *,
	    struct config_errors *);
void	config_key_unknown(const char *name, const struct where *,
	    struct config_errors *);
bool	config_is_list(const config_setting_t *);

/* conflisten.c: listen addresses and where PROXY is on. */
void	config_listen_free(struct config *);
int	config_listen_add(struct config *, const char *text,
	    const struct where *, struct config_errors *);
key_getter config_get_listen;
void	config_check_proxy(const struct config *, const struct where *,
	    struct config_errors *);
void	config_proxy_where(config_t *, const struct conffile *, struct where *);

/* confacl.c: the prefix lists allow, deny and proxy_trusted. */
void	config_default_allow(struct config *);
key_getter config_get_prefixes;

#endif
