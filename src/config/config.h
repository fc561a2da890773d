/* SPDX-License-Identifier: ISC */
/* config.h: the daemon's configuration as a plain struct. */
#ifndef SOCKECHOD_CONFIG_H
#define SOCKECHOD_CONFIG_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net/acl.h"
#include "net/echo.h"
#include "net/listen.h"
#include "core/log.h"

#define CONFIG_WORKERS_MAX	512
#define CONFIG_UDP_DROP_PORTS_MAX 64
#define CONFIG_ERRORS_MAX	20	/* messages kept from one load */
#define CONFIG_PROXY_TIMEOUT_MAX_MS 600000

struct config {
	char			*path;		/* NULL: built-in defaults */
	char		       **listen_text;
	struct listen_addr	*listen;
	size_t			 nlisten;
	unsigned		 workers;	/* 0: one per online CPU */
	enum echo_mode		 mode;
	uint64_t		 max_message_bytes;
	uint64_t		 buffer_bytes;
	bool			 splice;	/* stream echo by splice(2) */
	bool			 stamp_stateful; /* STAMP: count per session */
	unsigned		 max_connections;	/* per worker */
	unsigned		 backlog;	/* 0: net.core.somaxconn */
	unsigned		 idle_timeout_ms;	/* 0: never */
	unsigned		 shutdown_timeout_ms;
	unsigned		 worker_timeout_ms;	/* 0: never */
	uint64_t		 max_connections_per_worker; /* 0: never */
	uint64_t		 recycle_jitter;
	int			 log_level;
	enum log_format		 log_format;
	bool			 log_connections;	/* one line per connection */
	bool			 log_timestamps;	/* ISO 8601 on stderr lines */
	uint64_t		 log_peer_lines_per_second; /* 0: no limit */
	char			*user;		/* NULL: keep the master's */
	char			*group;
	uid_t			 uid;
	gid_t			 gid;
	/* UDP: sources never answered, and rates a second (0: no limit). */
	uint16_t		 udp_drop_source_ports[CONFIG_UDP_DROP_PORTS_MAX];
	size_t			 nudp_drop_source_ports;
	uint64_t		 udp_max_datagrams_per_client;
	uint64_t		 udp_max_bytes_per_client;
	uint64_t		 udp_max_datagrams;
	struct acl		 acl;		/* allow and deny */
	/* Per client, across all workers; see config_per_client(). */
	uint64_t		 max_connections_per_client; /* 0: no limit */
	uint64_t		 max_new_connections_per_client; /* a second */
	unsigned		 client_prefix_v4;
	unsigned		 client_prefix_v6;
	uint64_t		 socket_buffer_bytes;	/* 0: the kernel's */
	uint64_t		 autotuned_connections;	/* exempt from it */
	uint64_t		 max_buffered_bytes;	/* per worker; derived */
	/* PROXY protocol, on stream listeners that do not say otherwise. */
	bool			 proxy_protocol;
	struct acl_list		 proxy_trusted;	/* who may send a header */
	unsigned		 proxy_header_timeout_ms; /* the whole header */
	/* Prometheus exporter: NULL, or the address as written. */
	char			*metrics_listen;
	struct listen_addr	 metrics_addr;
};

/* max_connections_per_client when it is not set: half of max_connections. */
#define CONFIG_DERIVED		UINT64_MAX
#define CONFIG_PER_CLIENT_MIN	64

/* Every message of one load, each "file:line: text" where a line is known. */
struct config_errors {
	char	**v;
	size_t	  n;
};

void	config_defaults(struct config *);
int	config_load(struct config *, const char *path, bool optional,
	    struct config_errors *);
int	config_set_listen(struct config *, char *const *texts, size_t n,
	    struct config_errors *);
unsigned config_workers(const struct config *);
uint64_t config_per_client(const struct config *);
uint64_t config_buffered(const struct config *);
const char *config_warning(const struct config *);
bool	config_listen_proxy(const struct config *, size_t i);
void	config_free(struct config *);

/* What the command line says, applied again on every reload. */
struct config_options {
	const char	*config_path;
	bool		 config_optional;	/* the default path: may be absent */
	char	       **listen;		/* -l: replaces the config's list */
	size_t		 nlisten;
	int		 workers;		/* -w, or -1 */
	bool		 verbose;		/* -v: debug logging */
	const char	*pid_file;		/* --pid-file, or NULL */
};

int	config_load_options(const struct config_options *, struct config *,
	    struct config_errors *);
void	config_discard(struct config *);
void	config_errors_free(struct config_errors *);
void	config_errors_print(FILE *, const struct config_errors *);

#endif
