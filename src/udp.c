/* SPDX-License-Identifier: ISC */
/*
 * udp.c: a worker's side of UDP echo (RFC 862 section 2). It reads
 * datagrams in batches (recvmmsg), asks udp_policy.c which ones it may
 * answer, and sends those back byte for byte in batches (sendmmsg), from
 * the address they were sent to. An answer is never larger than its
 * question. It never binds, never blocks and never logs per datagram.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "udp.h"
#include "udp_policy.h"

#define UDP_BATCH		32	/* datagrams per recvmmsg/sendmmsg */
#define UDP_ROUNDS		4	/* batches per wakeup, then others' turn */
#define UDP_BUF_BYTES		65536	/* more than any UDP payload */
#define UDP_WARN_EVERY_MS	10000

union udp_cmsg {
	char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr	align;
};

struct udp_server {
	const struct config	*cfg;
	struct scoreboard_slot	*slot;
	struct udp_limit	*limit;
	struct udp_policy	 policy;
	struct sockaddr_storage	*self;		/* our UDP sockets' addresses */
	struct udp_rate		 client_rate;
	struct udp_rate		 global_rate;
	uint64_t		 warned_ms;
	unsigned char		*bufs;		/* UDP_BATCH * UDP_BUF_BYTES */
	struct mmsghdr		 in[UDP_BATCH];
	struct iovec		 iov_in[UDP_BATCH];
	struct sockaddr_storage	 peer[UDP_BATCH];
	struct sockaddr_storage	 dst[UDP_BATCH];	/* sent to, if known */
	union udp_cmsg		 cmsg_in[UDP_BATCH];
	struct mmsghdr		 out[UDP_BATCH];
	struct iovec		 iov_out[UDP_BATCH];
	union udp_cmsg		 cmsg_out[UDP_BATCH];
};

/* What the loop rules must know: the ports to ignore, our own sockets. */
static int
policy_init(struct udp_server *u, const struct listeners *ls)
{
	const struct config	*cfg = u->cfg;
	size_t			 i;

	if ((u->self = calloc(ls->n + 1, sizeof(*u->self))) == NULL)
		return -1;
	for (i = 0; i < ls->n; i++)
		if (ls->v[i].socktype == SOCK_DGRAM)
			memcpy(&u->self[u->policy.nself++], &ls->v[i].sa.ss,
			    ls->v[i].sa.len);
	u->policy.self = u->self;
	u->policy.drop_ports = cfg->udp_drop_source_ports;
	u->policy.ndrop_ports = cfg->nudp_drop_source_ports;
	u->client_rate.datagrams = cfg->udp_max_datagrams_per_client;
	u->client_rate.bytes = cfg->udp_max_bytes_per_client;
	u->global_rate.datagrams = cfg->udp_max_datagrams;
	return 0;
}

struct udp_server *
udp_server_new(const struct config *cfg, struct scoreboard_slot *slot,
    const struct listeners *ls, struct udp_limit *limit)
{
	struct udp_server	*u;
	size_t			 i;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->cfg = cfg;
	u->slot = slot;
	u->limit = limit;
	if ((u->bufs = malloc((size_t)UDP_BATCH * UDP_BUF_BYTES)) == NULL ||
	    policy_init(u, ls) == -1) {
		udp_server_free(u);
		return NULL;
	}
	for (i = 0; i < UDP_BATCH; i++) {
		u->iov_in[i].iov_base = u->bufs + i * UDP_BUF_BYTES;
		u->in[i].msg_hdr.msg_name = &u->peer[i];
		u->in[i].msg_hdr.msg_iov = &u->iov_in[i];
		u->in[i].msg_hdr.msg_iovlen = 1;
		u->in[i].msg_hdr.msg_control = u->cmsg_in[i].buf;
		u->out[i].msg_hdr.msg_iov = &u->iov_out[i];
		u->out[i].msg_hdr.msg_iovlen = 1;
	}
	return u;
}

void
udp_server_free(struct udp_server *u)
{
	if (u == NULL)
		return;
	free(u->bufs);
	free(u->self);
	free(u);
}

static void
arm_receive(struct udp_server *u)
{
	size_t	i;

	for (i = 0; i < UDP_BATCH; i++) {
		u->iov_in[i].iov_len = UDP_BUF_BYTES;
		u->in[i].msg_hdr.msg_namelen = sizeof(u->peer[i]);
		u->in[i].msg_hdr.msg_controllen = sizeof(u->cmsg_in[i].buf);
		u->in[i].msg_hdr.msg_flags = 0;
	}
}

/* The address a question was sent to, from its pktinfo; false: unknown. */
static bool
question_dest(struct msghdr *in, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct cmsghdr		*c;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;

	memset(ss, 0, sizeof(*ss));
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin->sin_family = AF_INET;
			sin->sin_addr = pi.ipi_addr;
			return true;
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = pi6.ipi6_addr;
			return true;
		}
	}
	return false;
}

/*
 * The pktinfo that makes the answer leave from the address the question
 * was sent to, built from the one the kernel gave with the question.
 * Returns its length, 0 if there is none to give.
 */
static size_t
reply_source(struct msghdr *in, union udp_cmsg *out)
{
	struct cmsghdr		*c, *o = &out->align;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;

	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			/* A dual-stack socket's IPv4 question: let routing pick. */
			if (IN6_IS_ADDR_V4MAPPED(&pi6.ipi6_addr))
				return 0;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi6));
			memcpy(CMSG_DATA(o), &pi6, sizeof(pi6));
			return CMSG_SPACE(sizeof(pi6));
		}
	}
	return 0;
}

/*
 * Whether datagram i gets an answer: allow/deny first, as for TCP, then
 * the loop and forgery rules, then the rates, so that a dropped datagram
 * costs its source no tokens.
 */
static enum udp_drop
judge(struct udp_server *u, size_t i, uint64_t now_ms)
{
	struct mmsghdr		*m = &u->in[i];
	const struct sockaddr	*src = (struct sockaddr *)&u->peer[i];
	enum udp_drop		 why;
	bool			 known;

	if (m->msg_hdr.msg_flags & MSG_TRUNC)
		return UDP_DROP_TRUNCATED;
	if (acl_check(&u->cfg->acl, src, m->msg_hdr.msg_namelen) != ACL_ALLOW)
		return UDP_DROP_DENIED;
	known = question_dest(&m->msg_hdr, &u->dst[i]);
	why = udp_policy_check(&u->policy, src, known ?
	    (struct sockaddr *)&u->dst[i] : NULL);
	if (why != UDP_DROP_NONE)
		return why;
	return udp_limit_take(u->limit, src, &u->client_rate, &u->global_rate,
	    now_ms, m->msg_len);
}

/* Queue datagram i as answer k: the same bytes, back to where it came from. */
static void
queue_answer(struct udp_server *u, size_t k, size_t i)
{
	struct msghdr	*h = &u->out[k].msg_hdr;

	h->msg_name = &u->peer[i];
	h->msg_namelen = u->in[i].msg_hdr.msg_namelen;
	u->iov_out[k].iov_base = u->iov_in[i].iov_base;
	u->iov_out[k].iov_len = u->in[i].msg_len;
	h->msg_controllen = reply_source(&u->in[i].msg_hdr, &u->cmsg_out[k]);
	h->msg_control = h->msg_controllen ? u->cmsg_out[k].buf : NULL;
	h->msg_flags = 0;
}

static void
count_drop(struct udp_server *u, enum udp_drop why, uint64_t n)
{
	SCOREBOARD_ADD(u->slot->udp.dropped[why], n);
}

/* Send answers [0, n); one that fails is counted and skipped. */
static void
send_answers(struct udp_server *u, int fd, size_t n)
{
	size_t	done = 0, k;
	int	r;

	while (done < n) {
		r = sendmmsg(fd, u->out + done, n - done, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			count_drop(u, UDP_DROP_SEND, 1);
			done++;
			continue;
		}
		for (k = done; k < done + (size_t)r; k++)
			SCOREBOARD_ADD(u->slot->bytes_out, u->iov_out[k].iov_len);
		SCOREBOARD_ADD(u->slot->udp.echoed, (uint64_t)r);
		done += (size_t)r;
	}
}

static void
warn_error(struct udp_server *u, uint64_t now_ms)
{
	if (u->warned_ms != 0 && now_ms - u->warned_ms < UDP_WARN_EVERY_MS)
		return;
	u->warned_ms = now_ms;
	log_warn("worker: UDP receive");
}

/* One batch: 1 if it was full (more may wait), 0 if not, -1 on error. */
static int
serve_batch(struct udp_server *u, int fd, uint64_t now_ms)
{
	enum udp_drop	why;
	size_t		i, k = 0;
	int		n;

	arm_receive(u);
	n = recvmmsg(fd, u->in, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		warn_error(u, now_ms);
		return -1;
	}
	SCOREBOARD_ADD(u->slot->udp.received, (uint64_t)n);
	for (i = 0; i < (size_t)n; i++) {
		SCOREBOARD_ADD(u->slot->bytes_in, u->in[i].msg_len);
		if ((why = judge(u, i, now_ms)) != UDP_DROP_NONE) {
			count_drop(u, why, 1);
			continue;
		}
		queue_answer(u, k++, i);
	}
	if (k > 0)
		send_answers(u, fd, k);
	return n == UDP_BATCH;
}

int
udp_server_serve(struct udp_server *u, int fd, uint64_t now_ms)
{
	unsigned	round;
	int		r = 1;

	for (round = 0; round < UDP_ROUNDS && r == 1; round++)
		r = serve_batch(u, fd, now_ms);
	return r == -1 ? -1 : 0;
}
