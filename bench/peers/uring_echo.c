/* SPDX-License-Identifier: ISC */
/*
 * uring_echo.c: an io_uring echo server for the benchmark, the experiment
 * of issue 11: multishot accept, multishot receive into a provided buffer
 * ring, one send in flight per connection that resubmits what a short
 * write left, and one io_uring_submit_and_wait() per loop. A received
 * buffer stays with its connection until every byte of it is sent; a
 * connection holding QUEUE_SOFT_MAX buffers (256 KiB) has its receive cancelled
 * until they are sent (backpressure). It must not grow features: no
 * limits, no timeouts, no logging.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "peer.h"

/* From the kernel ABI, for headers older than the running kernel. */
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN	(1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define SQ_ENTRIES	1024
#define CQ_ENTRIES	8192
#define BUF_GROUP	0
#ifndef BUF_COUNT
#define BUF_COUNT	1024		/* a power of two */
#endif
#ifndef BUF_BYTES
#define BUF_BYTES	65536		/* as the epoll peer reads */
#endif
#ifndef QUEUE_SOFT_MAX
#define QUEUE_SOFT_MAX	4		/* buffers held before receiving stops */
#endif
#ifndef QUEUE_RESUME_MAX
#define QUEUE_RESUME_MAX	(QUEUE_SOFT_MAX / 2)	/* and resumes */
#endif
#define SEND_IOV_MAX	8		/* buffers one send takes at most */
#define NO_BUF		UINT16_MAX

enum op {
	OP_ACCEPT,
	OP_RECV,
	OP_SEND,
	OP_CANCEL,
};

struct conn {
	uint16_t	 head;		/* queued buffers, oldest first */
	uint16_t	 tail;
	unsigned	 queued;
	uint32_t	 sent;		/* of the head buffer */
	bool		 open;
	bool		 recv_armed;
	bool		 send_busy;
	bool		 cancel_busy;
	bool		 eof;
	bool		 dead;
	bool		 starved;	/* its receive found no buffer */
	int		 next_starved;
	struct msghdr	 msg;		/* of the send in flight */
	struct iovec	 iov[SEND_IOV_MAX];
};

static struct io_uring		 ring;
static struct io_uring_buf_ring	*br;
static unsigned char		*bufs;
static uint16_t			 buf_next[BUF_COUNT];	/* queue links */
static uint32_t			 buf_len[BUF_COUNT];
static unsigned			 buf_returned;	/* since the last advance */
static struct conn		*conns;		/* by descriptor */
static int			 starved_head = -1;
static int			 listen_fd;

static void	conn_progress(int);

static struct io_uring_sqe *
sqe_get(void)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&ring)) == NULL)
		io_uring_submit(&ring);
	return sqe;
}

static void
sqe_tag(struct io_uring_sqe *sqe, int fd, enum op op)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)fd << 8 | op);
}

static unsigned char *
buf_base(uint16_t bid)
{
	return bufs + (size_t)bid * BUF_BYTES;
}

static void
buf_return(uint16_t bid)
{
	io_uring_buf_ring_add(br, buf_base(bid), BUF_BYTES, bid,
	    io_uring_buf_ring_mask(BUF_COUNT), (int)buf_returned++);
}

static int
buf_ring_setup(void)
{
	struct io_uring_buf_reg reg;
	size_t ringsz = BUF_COUNT * sizeof(struct io_uring_buf);
	uint16_t bid;

	br = mmap(NULL, ringsz, PROT_READ | PROT_WRITE,
	    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_BYTES,
	    PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (br == MAP_FAILED || bufs == MAP_FAILED)
		return -1;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = BUF_COUNT;
	reg.bgid = BUF_GROUP;
	if ((errno = -io_uring_register_buf_ring(&ring, &reg, 0)) != 0)
		return -1;
	io_uring_buf_ring_init(br);
	for (bid = 0; bid < BUF_COUNT; bid++)
		buf_return(bid);
	return 0;
}

static void
arm_accept(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL,
	    SOCK_CLOEXEC);
	sqe_tag(sqe, listen_fd, OP_ACCEPT);
}

static void
arm_recv(int fd)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BUF_GROUP;
	sqe_tag(sqe, fd, OP_RECV);
	conns[fd].recv_armed = true;
}

/* Send the queue from its oldest unsent byte: one buffer, or several. */
static void
arm_send(int fd)
{
	struct conn *c = &conns[fd];
	struct io_uring_sqe *sqe = sqe_get();
	uint16_t bid = c->head;
	unsigned n;

	c->send_busy = true;
	sqe_tag(sqe, fd, OP_SEND);
	if (c->queued == 1) {
		io_uring_prep_send(sqe, fd, buf_base(bid) + c->sent,
		    buf_len[bid] - c->sent, MSG_NOSIGNAL);
		return;
	}
	c->iov[0].iov_base = buf_base(bid) + c->sent;
	c->iov[0].iov_len = buf_len[bid] - c->sent;
	for (n = 1; n < c->queued && n < SEND_IOV_MAX; n++) {
		bid = buf_next[bid];
		c->iov[n].iov_base = buf_base(bid);
		c->iov[n].iov_len = buf_len[bid];
	}
	memset(&c->msg, 0, sizeof(c->msg));
	c->msg.msg_iov = c->iov;
	c->msg.msg_iovlen = n;
	io_uring_prep_sendmsg(sqe, fd, &c->msg, MSG_NOSIGNAL);
}

static void
arm_cancel(int fd)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_cancel64(sqe, (uint64_t)fd << 8 | OP_RECV, 0);
	sqe_tag(sqe, fd, OP_CANCEL);
	conns[fd].cancel_busy = true;
}

static void
queue_push(struct conn *c, uint16_t bid, uint32_t len)
{
	buf_len[bid] = len;
	buf_next[bid] = NO_BUF;
	if (c->queued++ == 0) {
		c->head = bid;
		c->sent = 0;
	} else
		buf_next[c->tail] = bid;
	c->tail = bid;
}

static void
queue_pop(struct conn *c)
{
	uint16_t bid = c->head;

	c->head = buf_next[bid];
	c->sent = 0;
	c->queued--;
	buf_return(bid);
}

static void
conn_kill(int fd)
{
	struct conn *c = &conns[fd];

	c->dead = true;
	while (c->queued > 0 && !c->send_busy)
		queue_pop(c);
}

static void
conn_close(int fd)
{
	conns[fd].open = false;
	close(fd);
}

static void
on_accept(int res, unsigned flags)
{
	struct conn *c;

	if (!(flags & IORING_CQE_F_MORE))
		arm_accept();
	if (res < 0)
		return;
	if (res >= peer_fds_max()) {
		close(res);
		return;
	}
	c = &conns[res];
	memset(c, 0, sizeof(*c));
	c->open = true;
	c->next_starved = -1;
	arm_recv(res);
}

static void
on_recv(int fd, int res, unsigned flags)
{
	struct conn *c = &conns[fd];

	if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
		uint16_t bid = flags >> IORING_CQE_BUFFER_SHIFT;

		if (c->dead)
			buf_return(bid);
		else
			queue_push(c, bid, (uint32_t)res);
	}
	if (flags & IORING_CQE_F_MORE)
		return;
	c->recv_armed = false;
	if (res == 0)
		c->eof = true;
	else if (res == -ENOBUFS && !c->starved) {
		c->starved = true;
		c->next_starved = starved_head;
		starved_head = fd;
	} else if (res < 0 && res != -ECANCELED && res != -ENOBUFS)
		conn_kill(fd);
}

static void
on_send(int fd, int res)
{
	struct conn *c = &conns[fd];

	c->send_busy = false;
	if (res < 0) {
		conn_kill(fd);
		return;
	}
	/* A short write leaves the rest queued, to be sent again. */
	while (res > 0 && (uint32_t)res >= buf_len[c->head] - c->sent) {
		res -= (int)(buf_len[c->head] - c->sent);
		queue_pop(c);
	}
	c->sent += (uint32_t)res;
	if (c->dead)
		conn_kill(fd);
}

/*
 * Decide what a connection needs next: a send of its oldest buffer, a
 * receive again, a cancelled receive, or its close.
 */
static void
conn_progress(int fd)
{
	struct conn *c = &conns[fd];

	if (!c->open)
		return;
	if (!c->send_busy && c->queued > 0 && !c->dead)
		arm_send(fd);
	if (c->recv_armed && !c->cancel_busy &&
	    (c->dead || c->queued >= QUEUE_SOFT_MAX))
		arm_cancel(fd);
	if (!c->recv_armed && !c->cancel_busy && !c->eof && !c->dead &&
	    !c->starved && c->queued <= QUEUE_RESUME_MAX)
		arm_recv(fd);
	if ((c->dead || (c->eof && c->queued == 0)) && !c->recv_armed &&
	    !c->send_busy && !c->cancel_busy && !c->starved)
		conn_close(fd);
}

static void
on_cqe(const struct io_uring_cqe *cqe)
{
	int fd = (int)(cqe->user_data >> 8);

	switch ((enum op)(cqe->user_data & 0xff)) {
	case OP_ACCEPT:
		on_accept(cqe->res, cqe->flags);
		return;
	case OP_RECV:
		on_recv(fd, cqe->res, cqe->flags);
		break;
	case OP_SEND:
		on_send(fd, cqe->res);
		break;
	case OP_CANCEL:
		conns[fd].cancel_busy = false;
		break;
	}
	conn_progress(fd);
}

/* Buffers came back: hand them to the kernel, then wake the starved. */
static void
buffers_flush(void)
{
	int fd;

	if (buf_returned == 0)
		return;
	io_uring_buf_ring_advance(br, (int)buf_returned);
	buf_returned = 0;
	while ((fd = starved_head) != -1) {
		starved_head = conns[fd].next_starved;
		conns[fd].starved = false;
		conn_progress(fd);
	}
}

static int
ring_setup(void)
{
	struct io_uring_params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
	    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = CQ_ENTRIES;
	if ((rc = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p)) == -EINVAL) {
		/* A kernel older than 6.1: the plain ring. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		rc = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
	}
	if ((errno = -rc) != 0)
		return -1;
	return buf_ring_setup();
}

static int
echo_loop(int lfd)
{
	struct io_uring_cqe *cqe;
	unsigned head, n;
	int rc;

	listen_fd = lfd;
	if ((conns = calloc(peer_fds_max(), sizeof(*conns))) == NULL ||
	    ring_setup() == -1)
		return -1;
	arm_accept();
	for (;;) {
		rc = io_uring_submit_and_wait(&ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EBUSY)
			return -1;
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			on_cqe(cqe);
			n++;
		}
		io_uring_cq_advance(&ring, n);
		buffers_flush();
	}
}

int
main(int argc, char **argv)
{
	return peer_main(argc, argv, echo_loop);
}
