/* SPDX-License-Identifier: ISC */
/* echo.h: the echo protocols, as a state machine over one connected socket. */
#ifndef SOCKECHOD_ECHO_H
#define SOCKECHOD_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum echo_mode {
	ECHO_MODE_STREAM,	/* RFC 862: every byte back as it arrives */
	ECHO_MODE_MESSAGE,	/* collect until the client half-closes */
};

enum echo_status {
	ECHO_AGAIN,		/* wait for the events in conn->want */
	ECHO_DONE,		/* everything echoed, peer half-closed: close */
	ECHO_ERROR,		/* socket error, errno says which */
	ECHO_TOO_LARGE,		/* message mode: over max_message_bytes */
	ECHO_BLOCKED,		/* message mode: its buffer must grow, and the
				   worker's budget has no room: wait */
};

/* The memory the connections of one worker hold, against a budget. */
struct echo_budget {
	size_t	held;		/* bytes of connection buffers */
	size_t	max;		/* 0: no budget */
};

#define ECHO_WANT_READ		0x1
#define ECHO_WANT_WRITE		0x2

/* A worker's spare pipes, for stream echo by splice(2) (echo_splice.c). */
#define ECHO_PIPES_SPARE	4

struct echo_pipes {
	int		 spare[ECHO_PIPES_SPARE][2];
	size_t		 spare_size[ECHO_PIPES_SPARE];
	unsigned	 nspare;
	size_t		 bytes;		/* the size asked of a new pipe */
};

struct echo_limits {
	enum echo_mode	 mode;
	size_t		 max_message_bytes;
	char		*scratch;	/* shared by the connections of a worker */
	size_t		 scratch_bytes;	/* also the most one connection holds */
	struct echo_pipes *pipes;	/* NULL: stream echo copies */
	size_t		 splice_min;	/* a read this long: splice; 0 always */
};

struct echo_conn {
	int		 fd;
	unsigned	 want;		/* ECHO_WANT_* */
	bool		 read_eof;
	char		*buf;		/* bytes owed to the peer, or collected */
	size_t		 len;		/* bytes in buf */
	size_t		 off;		/* bytes of buf already sent */
	size_t		 cap;
	struct echo_budget *budget;	/* NULL: none; its cap counts in it */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	int		 pipe[2];	/* lent while it holds echo owed; -1 */
	size_t		 pipe_size;
	size_t		 inpipe;	/* bytes in it */
	bool		 nosplice;	/* its socket cannot splice: copy */
	bool		 bulk;		/* its last read was splice_min long */
};

/*
 * Whether stream echo's next step splices (else it copies). Small echoes
 * are cheaper copied than spliced (a pipe's page handling costs more than
 * a copy of a few bytes): a connection splices once a read has been
 * splice_min long, and copies again after a shorter one; echo owed in a
 * pipe is sent by splice, echo owed in the buffer by copy. The first test
 * is the one that fails for a small echo, which pays nothing more.
 */
static inline bool
echo_splice_wanted(const struct echo_conn *c, const struct echo_limits *lim)
{
	return (c->bulk || c->inpipe > 0 || lim->splice_min == 0) &&
	    lim->pipes != NULL && !c->nosplice && c->off >= c->len;
}

int	echo_mode_parse(const char *, enum echo_mode *);
const char *echo_mode_name(enum echo_mode);
void	echo_init(struct echo_conn *, int fd);
enum echo_status echo_step(struct echo_conn *, const struct echo_limits *);
void	echo_release(struct echo_conn *);
size_t	echo_next_growth(const struct echo_conn *, const struct echo_limits *);
void	echo_pipes_init(struct echo_pipes *, size_t bytes);
void	echo_pipes_close(struct echo_pipes *);

#endif
