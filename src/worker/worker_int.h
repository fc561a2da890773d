/* SPDX-License-Identifier: ISC */
/*
 * worker_int.h: one worker's state, shared by worker.c and its rooms
 * (worker_accept.c, worker_conn.c, worker_proxy.c, worker_budget.c). Not
 * for use outside the worker.
 */
#ifndef SOCKECHOD_WORKER_INT_H
#define SOCKECHOD_WORKER_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/admit.h"
#include "config/config.h"
#include "worker/connlog.h"
#include "net/echo.h"
#include "shm/scoreboard.h"
#include "worker/udp.h"

enum ev_kind {
	EV_SIGNAL,
	EV_LISTENER,
	EV_CONN,
	EV_TURN,	/* a peer stopped taking: see worker_turn_wake() */
	EV_HANDOFF,	/* a peer's turn ended, connections may wait */
};

/* The first member of everything registered with epoll. */
struct ev {
	enum ev_kind	kind;
};

#define HEARTBEAT_MS		500	/* the longest the loop sleeps */

struct wlistener {
	struct ev	 ev;
	int		 fd;
	bool		 dgram;		/* UDP: always watched, read by udp.c */
	bool		 proxy;		/* a PROXY header comes first */
	bool		 stamp;		/* a STAMP reflector's datagram socket */
	bool		 in_epoll;	/* stream: added, EPOLLIN or muted */
	const char	*name;
};

struct conn {
	struct ev		 ev;
	struct echo_conn	 echo;
	uint32_t		 events;	/* registered with epoll */
	uint64_t		 last_progress_ms;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct admit_ticket	 ticket;	/* its place in the client table */
	bool			 parked;	/* waits for room in the budget */
	bool			 header;	/* waits for its PROXY header */
	bool			 autotuned;	/* kernel-sized socket buffers */
	bool			 lingering;	/* done, its send queue drains */
	uint64_t		 linger_queued;	/* bytes in it at the last look */
	uint64_t		 header_deadline_ms;
	const char		*listener;	/* its name, for the log */
	uint64_t		 opened_usec;	/* when the log is on */
	TAILQ_ENTRY(conn)	 entry;	/* idle or header order, or spares */
};

TAILQ_HEAD(connq, conn);

struct worker {
	const struct config	*cfg;
	struct scoreboard_slot	*slot;
	unsigned		 slot_index;
	struct scoreboard_slot	*board;		/* every worker's slot */
	struct scoreboard_head	*head;
	int			 turn_fd;
	struct ev		 turnev;
	int			 handoff_fd;
	struct ev		 handoffev;
	int			 epfd;
	int			 sigfd;
	int			 master_fd;
	struct ev		 sigev;
	struct wlistener	*lv;
	size_t			 nl;
	struct udp_server	*udp;	/* NULL: no UDP socket */
	bool			 taking;	/* wants connections: see can_take() */
	bool			 accepting;	/* listeners are in epoll */
	bool			 exclusive;	/* ...with EPOLLEXCLUSIVE */
	uint64_t		 accept_polled_ms; /* see worker_accept_poll() */
	uint64_t		 accept_resume_ms; /* paused until, 0: not */
	uint64_t		 accept_warned_ms;
	struct connq		 active;	/* least recent progress first */
	struct connq		 headers;	/* waiting for a PROXY header */
	struct connq		 spare;
	unsigned		 nopen;
	uint64_t		 served;
	bool			 retiring;
	bool			 draining;
	uint64_t		 drain_deadline_ms;
	bool			 quit;
	struct echo_limits	 lim;
	struct admit		 admit;
	struct echo_budget	 budget;	/* max_buffered_bytes */
	struct echo_pipes	 pipes;		/* spare, for stream echo */
	unsigned		 nautotuned;	/* connections with autotuned set */
	unsigned		 nparked;
	uint64_t		 now_ms;
	bool			 log_conns;	/* log_connections, or -v */
};

/*
 * worker_conn.c: a connection's name, its I/O path, idle timeout, end and
 * lingering send queue
 */
void	worker_peer_name(const struct conn *, char *, size_t);
void	worker_conn_release(struct worker *, struct conn *);
void	worker_conn_close(struct worker *, struct conn *, enum connlog_reason,
	    const char *);
int	worker_conn_watch(struct worker *, struct conn *, uint32_t);
void	worker_conn_io(struct worker *, struct conn *);
void	worker_linger_event(struct worker *, struct conn *, uint32_t);
void	worker_expire_idle(struct worker *);

/* worker_accept.c: accepting on or off, accept, admit or refuse, open */
void	worker_update_accepting(struct worker *);
int	worker_accept_some(struct worker *, struct wlistener *, unsigned);
void	worker_accept_turn(struct worker *, struct wlistener *);
void	worker_handoff_event(struct worker *);
void	worker_accept_poll(struct worker *);
enum connlog_reason worker_refusal_reason(enum admit_reason);
void	worker_refuse_log(struct worker *, const struct sockaddr_storage *,
	    socklen_t, const char *, enum connlog_reason);

/* worker_proxy.c: connections waiting for their PROXY header */
void	worker_header_io(struct worker *, struct conn *, uint32_t);
void	worker_expire_headers(struct worker *);

/* worker_budget.c: max_buffered_bytes, parked connections and victims */
void	worker_budget_check(struct worker *);

#endif
