/* SPDX-License-Identifier: ISC */
/*
 * harness.h: start the real sockechod binary on loopback and talk to it
 * over real sockets, waiting on real signals (its READY=1 datagram, a
 * connect, a log line) with deadlines, never on bare sleeps. The one
 * header of every part of the harness.
 */
#ifndef SOCKECHOD_TEST_HARNESS_H
#define SOCKECHOD_TEST_HARNESS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sig.h"		/* sig_monotonic_ms(): the one clock */

#define H_START_MS	15000	/* the longest a daemon may take to be ready */

struct daemon {
	pid_t		 pid;
	char		 dir[128];	/* private temporary directory */
	char		 conf[192];
	char		 log[192];	/* its stdout and stderr */
	int		 notify_fd;	/* our NOTIFY_SOCKET */
	char		 notify_name[64];
	char		 host[64];
	unsigned	 port;
	int		 status;	/* wait status, once reaped */
	int		 foreign_notify; /* datagrams not sent by the master */
	bool		 reaped;
	/* What the test may set before h_start(). */
	const char	*binary;	/* default: $SOCKECHOD */
	const char	*argv[16];	/* extra arguments */
	int		 listen_fd;	/* >= 0: pass as socket activation fd 3 */
	int		 metrics_fd;	/* and >= 0: fd 4, named "metrics" */
	const char	*watchdog_usec;	/* WATCHDOG_USEC for the master */
	bool		 as_nobody;	/* drop to "nobody" before exec */
	unsigned	 nofile;	/* > 0: RLIMIT_NOFILE for the daemon */
	bool		 no_wait_ready;
	bool		 close_std;	/* exec with fds 0, 1 and 2 closed */
};

/* harness.c */
int	h_remaining_ms(uint64_t deadline);
void	h_die(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
const char *h_env(const char *name, const char *fallback);

/* h_daemon.c */
void	h_init(struct daemon *);
unsigned h_free_port(const char *host);
int	h_write_config(struct daemon *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	h_start(struct daemon *);
int	h_start_config(struct daemon *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	h_notify_wait(struct daemon *, const char *needle, int timeout_ms,
	    char *msg, size_t size, pid_t *sender);
void	h_notify_drain(struct daemon *);

/*
 * h_load.c (only in the programs that link load/libload.a): load/'s
 * engine against a test daemon, its sd_notify drained every round.
 */
struct load;
void	h_load_init(struct load *, struct daemon *, unsigned sessions,
	    unsigned seed);
struct daemon *h_load_daemon(const struct load *);
int	h_wait_exit(struct daemon *, int timeout_ms);
int	h_stop(struct daemon *, int sig, int timeout_ms);
void	h_cleanup(struct daemon *);
bool	h_log_has(struct daemon *, const char *needle);
int	h_log_wait(struct daemon *, const char *needle, int timeout_ms);
int	h_log_count(struct daemon *, const char *needle);
int	h_log_wait_count(struct daemon *, const char *needle, int count,
	    int timeout_ms);
void	h_log_dump(struct daemon *);
int	h_log_last(struct daemon *, const char *needle, char *line,
	    size_t size);

/* h_socket.c */
int	h_connect(const char *host, unsigned port, int timeout_ms);
int	h_connect_unix(const char *path, int timeout_ms);
int	h_connect_error(const char *host, unsigned port);
int	h_send_all(int fd, const void *buf, size_t n, int timeout_ms);
ssize_t	h_recv_n(int fd, void *buf, size_t n, int timeout_ms);
int	h_recv_eof(int fd, int timeout_ms);
int	h_echo(int fd, const void *out, size_t n, void *in, int timeout_ms);
int	h_roundtrip(const char *host, unsigned port, const char *text);
void	h_random(void *buf, size_t n, unsigned seed);

/* h_proc.c */
int	h_children(pid_t, pid_t *out, int max);
unsigned long h_cpu_ms(pid_t, bool with_reaped_children);
int	h_wait_children(pid_t, int count, int timeout_ms);
bool	h_has_pid(const pid_t *v, int n, pid_t pid);

/* h_run.c */
int	h_run(const char *const argv[], const char *input, size_t inlen,
	    char *out, size_t outsize, size_t *outlen, char *err,
	    size_t errsize, int timeout_ms);

#endif
