/* SPDX-License-Identifier: ISC */
/*
 * fuzz_echo.c: the echo state machine over a socket pair, driven by the
 * input: the first byte picks the mode and limits, each next byte an
 * event on the peer's side (write some bytes, read some, half-close,
 * reset) or a step of the state machine. Whatever the order, what comes
 * back is a prefix of what was sent, and the machine never spins.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/echo.h"
#include "fuzz.h"

#define SCRATCH_BYTES	4096
#define SENT_MAX	(64 * 1024)

struct peer {
	int	fd;
	char	sent[SENT_MAX];
	size_t	nsent;
	size_t	nback;		/* bytes read back, each checked */
	bool	shut;
};

static void
peer_write(struct peer *p, const uint8_t *data, size_t n)
{
	ssize_t	w;

	if (p->shut || n > SENT_MAX - p->nsent)
		return;
	if ((w = write(p->fd, data, n)) > 0) {
		memcpy(p->sent + p->nsent, data, (size_t)w);
		p->nsent += (size_t)w;
	}
}

static void
peer_read(struct peer *p, enum echo_mode mode)
{
	char	buf[8192];
	ssize_t	r;

	while ((r = read(p->fd, buf, sizeof(buf))) > 0) {
		/* Stream or message: the reply is what was sent, in order. */
		if (p->nback + (size_t)r > p->nsent ||
		    memcmp(buf, p->sent + p->nback, (size_t)r) != 0)
			abort();
		p->nback += (size_t)r;
	}
	(void)mode;
}

static void
set_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 scratch[SCRATCH_BYTES];
	struct echo_limits	 lim = { ECHO_MODE_STREAM, 0, scratch,
				    SCRATCH_BYTES };
	struct echo_conn	 c;
	struct peer		*p;
	enum echo_status	 st = ECHO_AGAIN;
	size_t			 i = 1, n;
	int			 sv[2];

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		abort();
	p->fd = sv[1];
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
	lim.mode = data[0] & 1 ? ECHO_MODE_MESSAGE : ECHO_MODE_STREAM;
	lim.max_message_bytes = (size_t)(data[0] >> 1) * 512 + 1;
	lim.scratch_bytes = (size_t)(data[0] >> 4) * 256 + 1;
	echo_init(&c, sv[0]);
	while (i < size && st == ECHO_AGAIN) {
		n = data[i] >> 3;
		switch (data[i++] & 7) {
		case 0:
		case 1:
			n = n < size - i ? n : size - i;
			peer_write(p, data + i, n);
			i += n;
			break;
		case 2:
			peer_read(p, lim.mode);
			break;
		case 3:
			if (!p->shut)
				shutdown(p->fd, SHUT_WR);
			p->shut = true;
			break;
		case 4:
			/* A reset: close with unread data pending. */
			if (n == 31) {
				close(p->fd);
				p->fd = -1;
				p->shut = true;
			}
			break;
		default:
			st = echo_step(&c, &lim);
			break;
		}
		if (p->fd == -1)
			st = echo_step(&c, &lim);
	}
	if (p->fd != -1)
		peer_read(p, lim.mode);
	echo_release(&c);
	close(sv[0]);
	if (p->fd != -1)
		close(p->fd);
	free(p);
	return 0;
}
