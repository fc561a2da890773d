/* SPDX-License-Identifier: ISC */
/*
 * scale.h: the scale-out test's parts. scale_net.c owns the network
 * namespaces the test creates (and only those); scale_haproxy.c owns
 * HAProxy: the configuration README shows, its process and its runtime
 * API; scale.c owns the backends, the load and the waiting;
 * scale_cases.c the five cases.
 */
#ifndef SOCKECHOD_TEST_SCALE_H
#define SOCKECHOD_TEST_SCALE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "harness/harness.h"
#include "load/load.h"

#define SCALE_BACKENDS	3
#define SCALE_LB_ADDR	"10.77.0.1"	/* the balancer, on the bridge */
#define SCALE_ROGUE_ADDR "10.77.0.99"	/* a stranger on the same bridge */
#define SCALE_ECHO_PORT	7

/* The namespaces: the balancer, the backends 1..SCALE_BACKENDS, a stranger. */
enum {
	NET_LB = 0,
	NET_ROGUE = SCALE_BACKENDS + 1,
	NET_COUNT
};

/* scale_net.c */
int	net_create(char *why, size_t size);
void	net_destroy(void);
void	net_enter(int ns);
const char *net_backend_addr(int backend, char *buf, size_t size);
int	net_connect(int ns, const char *src, const char *host, unsigned port,
	    int timeout_ms);

/* scale_haproxy.c */
struct haproxy {
	pid_t	pid;
	char	dir[128];
	char	conf[192];
	char	log[192];
	char	stats[192];	/* the runtime API's Unix socket */
};

struct hstat {
	char		status[32];	/* "UP", "DOWN", "DRAIN", "UP 1/2", ... */
	unsigned	scur;		/* sessions open now */
	unsigned	stot;		/* sessions in all */
	unsigned	wretr;		/* connection retries */
	unsigned	wredis;		/* redispatches */
	unsigned	econ;		/* connection errors */
};

size_t	haproxy_config(char *buf, size_t size, const char *stats_path);
int	haproxy_start(struct haproxy *);
void	haproxy_stop(struct haproxy *);
int	haproxy_cmd(const struct haproxy *, const char *cmd, char *out,
	    size_t size);
int	haproxy_stat(const struct haproxy *, const char *server,
	    struct hstat *);
void	haproxy_log_dump(const struct haproxy *);

/* scale.c: the backends, waiting, the load, reporting. */
#define SCALE_SOURCES	16		/* load clients 127.0.0.10 and up */
#define LIMIT_PER_CLIENT 4		/* the backends' max_connections_per_client */
#define WAIT_MS		10000		/* the longest an awaited state may take */
#define CLIENT_A	"127.0.0.2"
#define CLIENT_B	"127.0.0.3"
#define FRONT		"127.0.0.1"	/* HAProxy's frontend */
#define METRICS_PORT	9107		/* each backend's, on its own loopback */

struct backend {
	struct daemon	 d;
	int		 ns;
	char		 addr[32];
	char		 name[8];	/* HAProxy's name for it: "b1" */
	bool		 made;		/* d is initialised */
	bool		 starting;	/* its READY=1 is awaited: keep it */
	int		 base;		/* client lines in its log, at mark() */
};

/* The test's state: the process is its natural scope. */
struct scale {
	struct backend		 b[SCALE_BACKENDS + 1];	/* 1-based */
	struct haproxy		 h;
	struct daemon		 front;	/* HAProxy's frontend, for load.c */
	struct load		*l;	/* the load under way, or NULL */
	struct sockaddr_in	 src[SCALE_SOURCES];
	int			 failures;
};

extern struct scale	S;

void	pump(int ms);
bool	wait_for(bool (*cond)(void *), void *arg, int timeout_ms);
bool	wait_status(const struct backend *, const char *status);
bool	is_idle(void *backend);
bool	has_exited(void *backend);
bool	is_ready(void *backend);
void	backend_spawn(struct backend *);
bool	backend_restart(struct backend *);
int	log_lines(struct backend *, const char *a, const char *b2);
int	client_lines(struct backend *);
void	mark(void);
int	served_since_mark(struct backend *);
void	hstat_of(const char *server, struct hstat *);
void	load_begin(struct load *, unsigned seed);
void	load_end(struct load *);
void	report(const char *name, unsigned sessions, unsigned failed, bool pass,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const char *failures(const struct load *);

/* scale_cases.c */
void	case_spread(void);
void	case_real_client(void);
void	case_stopped(void);
void	case_rolling(void);
void	case_untrusted(void);

#endif
