/* SPDX-License-Identifier: ISC */
/* listen.h: listen addresses, and the listening sockets made from them. */
#ifndef SOCKECHOD_LISTEN_H
#define SOCKECHOD_LISTEN_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>
#include <stddef.h>

/* "unix:@" and a name of 107 bytes, each maybe escaped as \xNN. */
#define LISTEN_NAME_MAX		(4 * sizeof(((struct sockaddr_un *)0)->sun_path) + 8)
#define LISTEN_HOST_MAX		256
#define LISTEN_PORT_MAX		32
/* listen_describe()'s text, and the errors of listen_adopt()/listen_build(). */
#define LISTEN_DESCRIBE_BYTES	512
#define LISTEN_ERROR_BYTES	512

enum listen_kind {
	LISTEN_INET,		/* host:port, [v6]:port or *:port */
	LISTEN_UNIX,		/* unix:/path, or unix:@name (abstract) */
};

/* UDP datagram sizes: 65535 less the IP (v4 only) and UDP headers. */
#define LISTEN_UDP4_MAX_BYTES	65507
#define LISTEN_UDP6_MAX_BYTES	65527

/* Whether an address's connections begin with a PROXY header. */
enum listen_proxy {
	LISTEN_PROXY_DEFAULT,	/* as the global proxy_protocol says */
	LISTEN_PROXY_OFF,
	LISTEN_PROXY_ON,
};

/* One "listen" string of the configuration, parsed but not resolved. */
struct listen_addr {
	enum listen_kind kind;
	enum listen_proxy proxy;	/* listen_parse() leaves DEFAULT */
	int		 socktype;	/* SOCK_STREAM, or SOCK_DGRAM: "udp:" */
	bool		 wildcard;	/* "*:PORT": every IPv4 and IPv6 address */
	bool		 stamp;		/* "stamp:": a STAMP reflector (datagram) */
	char		 host[LISTEN_HOST_MAX];
	char		 port[LISTEN_PORT_MAX];
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One socket address a listen_addr stands for. */
struct listen_sockaddr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

struct listener {
	int			fd;
	int			socktype;	/* SOCK_STREAM or SOCK_DGRAM */
	struct listen_sockaddr	sa;
	char			name[LISTEN_NAME_MAX];
	bool			activated;	/* passed by systemd: never unlink */
	bool			unlink_on_close; /* we made this socket file */
	bool			proxy;		/* a PROXY header comes first */
	bool			stamp;		/* a STAMP reflector, not UDP echo */
};

struct listeners {
	struct listener	*v;
	size_t		 n;
};

int	listen_parse(const char *text, struct listen_addr *, const char **why);
int	listen_resolve(const struct listen_addr *, struct listen_sockaddr **,
	    size_t *, const char **why);
void	listen_format(const struct sockaddr *, socklen_t, char *, size_t);
bool	listen_sockaddr_equal(const struct listen_sockaddr *,
	    const struct listen_sockaddr *);

/* The listen(2) backlog for a "backlog" setting; 0: net.core.somaxconn. */
int	listen_backlog(unsigned configured, long somaxconn);
long	listen_somaxconn(void);

/* FileDescriptorName= of the metrics endpoint's socket unit. */
#define LISTEN_METRICS_NAME	"metrics"
/* FileDescriptorName= of STAMP reflector sockets: "stamp", or "stamp-..." */
#define LISTEN_STAMP_NAME	"stamp"
int	listen_adopt(struct listeners *, struct listeners *metrics, char *err,
	    size_t errlen);
int	listen_build(struct listeners *, const struct listeners *keep,
	    const struct listen_addr *, size_t naddr, int backlog,
	    char *err, size_t errlen);
void	listen_close_unused(struct listeners *old, const struct listeners *cur);
void	listen_close_all(struct listeners *);
bool	listen_has_fd(const struct listeners *, int fd);
bool	listen_has_dgram(const struct listeners *);
bool	listen_has_stamp(const struct listeners *);
int	listen_stamp_setup(int fd, int family);
bool	listen_has_proxy(const struct listeners *);
int	listen_mark_proxy(struct listeners *, const struct listen_addr *,
	    size_t naddr, bool all, const char **why);
void	listen_describe(const struct listeners *, char *, size_t);

#endif
