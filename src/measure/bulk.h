/* SPDX-License-Identifier: ISC */
/*
 * bulk.h: sockecho --bulk, throughput and latency under load. The parts
 * share one struct bulk: bulk.c (command line, the run, the exit status),
 * bulk_run.c (the streams and their one poll loop), bulk_report.c (what
 * is shown, text or --json-stream). Bytes come from bulk_pattern.c.
 */
#ifndef SOCKECHOD_BULK_H
#define SOCKECHOD_BULK_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "measure/bulk_pattern.h"
#include "client/stats.h"

#define BULK_NS_PER_S		1000000000ull
#define BULK_TIME_NS		(10 * BULK_NS_PER_S)	/* -t */
#define BULK_INTERVAL_NS	BULK_NS_PER_S		/* -i */
#define BULK_STALL_NS		(10 * BULK_NS_PER_S)	/* -W */
#define BULK_CONNECT_NS		(10 * BULK_NS_PER_S)	/* -T */
#define BULK_IDLE_NS		(3 * BULK_NS_PER_S)	/* --idle */
#define BULK_PING_INTERVAL_NS	(BULK_NS_PER_S / 10)	/* --ping-interval */
#define BULK_LENGTH		(128u << 10)		/* -l */
#define BULK_MAX_LENGTH		BULK_PATTERN_BASE
#define BULK_MAX_PARALLEL	128

/* Exit statuses besides 0 and sysexits(3)'s. */
#define BULK_EXIT_MISMATCH	1	/* a byte came back different */
#define BULK_EXIT_STALLED	3	/* no progress for -W seconds */
#define BULK_EXIT_CLOSED	4	/* the server closed before the echo */

struct bulk_opts {
	const char	*host;
	const char	*port;
	unsigned	 parallel;	/* -P */
	uint64_t	 time_ns;	/* -t */
	uint64_t	 bytes;		/* -n: per stream, instead of -t */
	uint64_t	 interval_ns;	/* -i; 0: no interval reports */
	uint64_t	 stall_ns;	/* -W */
	uint64_t	 connect_ns;	/* -T */
	size_t		 length;	/* -l: bytes per write */
	uint64_t	 window;	/* -w: bytes out, not back; 0: any */
	uint64_t	 seed;		/* -S */
	bool		 seeded;
	bool		 json;		/* --json-stream */
	bool		 quiet;		/* -q: no interval lines */
	bool		 ping;		/* -p: latency under load */
	bool		 udp;		/* -u: UDP probes */
	uint64_t	 idle_ns;	/* --idle */
	uint64_t	 ping_interval_ns;
};

/* Counters of one stream, or of their sum. */
struct bulk_count {
	uint64_t	out;		/* bytes sent */
	uint64_t	back;		/* bytes echoed and checked */
	uint64_t	retrans;	/* TCP_INFO total retransmits */
	uint32_t	rtt_us;		/* TCP_INFO smoothed RTT, now */
};

struct bulk_stream {
	unsigned		 id;	/* 1, 2, ... */
	int			 fd;
	struct bulk_pattern	 pat;
	struct bulk_count	 now;
	struct bulk_count	 mark;	/* at the start of the interval */
	uint64_t		 sent_ns;	/* the last byte sent */
	uint64_t		 back_ns;	/* the last echo, or when
						   none was outstanding */
	bool			 shut_wr;
	bool			 done;	/* everything sent came back */
};

/* What the probes measured in one phase: ping.h's result. */
struct bulk_ping {
	int			status;	/* the ping's exit status; -1: none */
	uint64_t		sent;
	uint64_t		received;
	uint64_t		lost;
	struct stats_summary	rtt;
};

enum bulk_end {
	BULK_OK,
	BULK_MISMATCH,
	BULK_STALLED,
	BULK_CLOSED,
	BULK_ERROR,
};

struct bulk {
	struct bulk_opts	 o;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 label[320];
	struct bulk_stream	*s;
	unsigned char		*buf;	/* o.length bytes, for the echo */
	uint64_t		 start_ns;
	uint64_t		 stop_send_ns;	/* -t: when sending stops */
	uint64_t		 mark_ns;	/* the interval's start */
	uint64_t		 progress_ns;	/* the oldest last echo */
	uint64_t		 end_ns;
	double			 cpu_mark_s;	/* user + system at start */
	double			 cpu_int_s;	/* at the interval's start */
	double			 cpu_s;		/* used during the run */
	enum bulk_end		 end;
	unsigned		 bad_stream;	/* the one that ended the run */
	uint64_t		 bad_offset;
	char			 why[256];
	struct bulk_ping	 idle;
	struct bulk_ping	 loaded;
	FILE			*fp;
};

/* bulk.c */
int	bulk_requested(int argc, char *const argv[]);
int	bulk_main(int argc, char *argv[]);
int	bulk_parse(int argc, char *argv[], struct bulk_opts *, char *err,
	    size_t errsize);

/* bulk_run.c */
int	bulk_connect(struct bulk *);
void	bulk_close(struct bulk *);
void	bulk_loop(struct bulk *);

/* bulk_report.c */
double	bulk_cpu_seconds(void);
void	bulk_report_header(struct bulk *);
void	bulk_report_interval(struct bulk *, uint64_t now_ns);
void	bulk_report_end(struct bulk *);
void	bulk_sum(const struct bulk *, struct bulk_count *now,
	    struct bulk_count *mark);

#endif
