/* SPDX-License-Identifier: ISC */
/*
 * ping.h: sockecho --ping, an echo ping over TCP or UDP. The parts share
 * one struct ping: ping.c (command line, signals, the run), ping_tcp.c
 * (TCP probes), ping_udp.c (UDP probes) and ping_report.c (what is shown).
 */
#ifndef SOCKECHOD_PING_H
#define SOCKECHOD_PING_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "measure/prober.h"
#include "client/stats.h"

#define PING_NS_PER_MS		1000000ull
#define PING_NS_PER_S		1000000000ull
#define PING_INTERVAL_NS	PING_NS_PER_S		/* -i */
#define PING_USER_MIN_INTERVAL_NS (2 * PING_NS_PER_MS)	/* ping(8)'s floor */
#define PING_TIMEOUT_NS		(10 * PING_NS_PER_S)	/* -W */
#define PING_CONNECT_TIMEOUT_NS	(10 * PING_NS_PER_S)	/* -T */
#define PING_SIZE		64			/* -s */
#define PING_TCP_MAX_SIZE	(1u << 20)
#define PING_UDP_MAX_SIZE	65507u		/* the largest IPv4 datagram */
#define PING_MAX_COUNT		1000000000ull

struct ping_opts {
	const char	*host;
	const char	*port;
	uint64_t	 count;		/* 0: until stopped */
	uint64_t	 interval_ns;
	uint64_t	 timeout_ns;	/* per probe */
	uint64_t	 deadline_ns;	/* the whole run; 0: none */
	uint64_t	 connect_timeout_ns;
	size_t		 size;
	bool		 udp;
	bool		 connect_each;	/* --connect */
	bool		 quiet;
	bool		 json;
	bool		 stamp;		/* --stamp: a STAMP session */
	bool		 ptp;		/* --ptp: PTP timestamps (Z flag) */
	bool		 stateful;	/* --stateful: the reflector is */
	const char	*metrics_listen;	/* the prober: serve /metrics there */
	char		 hostbuf[256];	/* HOST of one operand HOST:PORT */
};

/* How a wait ended. */
enum ping_wait {
	PING_READY,
	PING_TIMEOUT,		/* the probe's own time is up */
	PING_STOP,		/* SIGINT, SIGTERM or the deadline */
};

/*
 * The kernel's timestamps of the probes (ktstamp.c), when it gives them:
 * send stamps by probe, found by the key the kernel numbers sends with.
 */
struct ping_kts {
	bool			 on;		/* SO_TIMESTAMPING accepted */
	int			 fd;		/* the socket stamped */
	int			 keeper;	/* keeps the kernel stamping */
	uint64_t		 tcp_krx;	/* TCP: the echo's last stamp */
	int			 err;		/* why not */
	uint32_t		 next_key;	/* UDP: the next send's key */
	uint64_t		 tcp_sent;	/* TCP: bytes sent on this fd */
	size_t			 tcp_mss;	/* TCP: the segment size */
	uint64_t		 key_seq[STATS_WINDOW];	/* UDP: key to seq */
	uint64_t		 tx_ns[STATS_WINDOW];	/* by seq; 0: none yet */
	uint64_t		 user_tx_ns[STATS_WINDOW]; /* CLOCK_REALTIME */
	uint64_t		 tx_got;
	uint64_t		 rx_got;
	uint64_t		 both;		/* probes timed by the kernel */
	uint64_t		 tcp_start;	/* TCP: the probe's first byte */
	uint64_t		 tcp_seq;	/* TCP: the probe out */
	uint64_t		 last_sched_ns;	/* the last probe's, if timed */
	bool			 last_kernel;
	struct stats_rtt	 user;		/* round trips timed by us */
	struct stats_rtt	 sched;		/* ours less the kernel's */
};

struct stamp_run;

struct ping {
	struct ping_opts	 o;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 socktype;
	char			 label[320];	/* 127.0.0.1:7, [::1]:7, unix:/p */
	int			 fd;		/* the connection or socket */
	int			 sigfd;
	uint32_t		 run_id;
	unsigned char		*out;		/* the probe being sent */
	unsigned char		*in;		/* what came back */
	uint64_t		 start_ns;
	uint64_t		 stop_at_ns;	/* the deadline; UINT64_MAX: none */
	uint64_t		 end_ns;
	bool			 stopping;
	bool			 interrupted;	/* by SIGINT or SIGTERM */
	bool			 connect_timed_out;
	int			 connect_err;	/* why the first connect failed */
	uint64_t		 refused;	/* UDP: ICMP errors seen */
	uint64_t		 first_t0_ns;	/* --connect: the first probe's */
	uint64_t		 first_connect_ns; /* connect, done to find the target */
	FILE			*fp;		/* per-probe lines and summary */
	struct stats_probes	 probes;
	struct stats_rtt	 rtt;		/* time to the full echo */
	struct stats_rtt	 conn;		/* --connect: time to connect */
	struct ping_kts		 kts;
	struct stamp_run	*stamp;		/* --stamp */
	struct prober		*prober;	/* NULL: not --metrics-listen */
};

/* What ping_measure() found. */
struct ping_result {
	uint64_t		sent;
	uint64_t		received;
	uint64_t		lost;
	struct stats_summary	rtt;
};

/* ping.c */
int	ping_requested(int argc, char *const argv[]);
int	ping_main(int argc, char *argv[]);
int	ping_parse(int argc, char *argv[], struct ping_opts *, char *err,
	    size_t errsize);
int	ping_measure(const struct ping_opts *, struct ping_result *);
bool	ping_interval_allowed(uint64_t interval_ns, bool root);
enum ping_wait ping_wait(struct ping *, int fd, short events,
	    uint64_t until_ns);
void	ping_fatal(int status, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

/* ping_tcp.c */
int	ping_tcp_first_connect(struct ping *);
void	ping_tcp_probe(struct ping *);

/* ping_udp.c */
int	ping_udp_open(struct ping *);
void	ping_udp_run(struct ping *);

/* ping_report.c */
void	ping_report_header(struct ping *);
void	ping_report_back(struct ping *, uint64_t seq, enum stats_reply,
	    uint64_t rtt_ns, uint64_t connect_ns);
void	ping_report_mismatch(struct ping *, uint64_t seq, size_t offset,
	    size_t got, uint64_t rtt_ns);
void	ping_report_lost(struct ping *, uint64_t seq, const char *why);
void	ping_report_summary(struct ping *, FILE *);
void	ping_report_running(struct ping *, FILE *);
void	ping_report_json(struct ping *, FILE *);
int	ping_report_metrics(void *ping, char **buf, size_t *len);
const char *ping_report_protocol(const struct ping *);

#endif
