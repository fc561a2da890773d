/* SPDX-License-Identifier: ISC */
/*
 * udp.c: a worker's side of UDP echo (RFC 862 section 2). It reads
 * datagrams in batches (recvmmsg), asks udp_policy.c which ones it may
 * answer, and sends those back byte for byte in batches (sendmmsg), from
 * the address they were sent to. An answer is never larger than its
 * question. It remembers a digest of its recent answers, for the loop
 * detector. On a STAMP socket, stamp_reflect.c turns each admitted
 * question into its answer, in place and of the same length, instead.
 * It never binds, never blocks and never logs per datagram.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/siphash.h"
#include "worker/stamp_reflect.h"
#include "worker/udp.h"
#include "shm/udp_policy.h"

#define UDP_BATCH		32	/* datagrams per recvmmsg/sendmmsg */
#define UDP_ROUNDS		4	/* batches per wakeup, then others' turn */
#define UDP_BUF_BYTES		65536	/* more than any UDP payload */
#define UDP_WARN_EVERY_MS	10000
#define UDP_LOOP_SLOTS		4096	/* answers remembered; a power of 2 */
#define UDP_DIGEST_END_BYTES	1024	/* of a long datagram, from each end */

/* An IPv4 datagram on a dual-stack socket comes with both pktinfos. */
union udp_cmsg_in {
	char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			    CMSG_SPACE(sizeof(struct in_pktinfo)) +
			    STAMP_REFLECT_CMSG_BYTES];
	struct cmsghdr	align;
};

union udp_cmsg {
	char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr	align;
};

/* What the kernel said of where a datagram was sent: its pktinfos. */
struct udp_dest {
	bool			has4;	/* IP_PKTINFO, IPv4-mapped ones too */
	bool			has6;	/* IPV6_PKTINFO */
	struct in_pktinfo	pi;
	struct in6_pktinfo	pi6;
};

struct udp_server {
	const struct config	*cfg;
	struct scoreboard_slot	*slot;
	struct udp_limit	*limit;
	struct stamp_sessions	*sessions;	/* NULL: a stateless reflector */
	struct scoreboard_udp	*count;		/* this batch's: udp or stamp */
	struct stamp_clock	 clock;		/* read once a STAMP batch */
	struct stamp_pending	 pend[UDP_BATCH];	/* by answer */
	struct udp_policy	 policy;
	struct sockaddr_storage	*self;		/* our UDP sockets' addresses */
	struct udp_rate		 client_rate;
	struct udp_rate		 global_rate;
	uint64_t		 warned_ms;
	struct siphash_key	 key;		/* of the digests, from getrandom() */
	struct udp_echo_memo	*memo;		/* UDP_LOOP_SLOTS */
	unsigned char		*bufs;		/* UDP_BATCH * UDP_BUF_BYTES */
	struct mmsghdr		 in[UDP_BATCH];
	struct iovec		 iov_in[UDP_BATCH];
	struct sockaddr_storage	 peer[UDP_BATCH];
	struct udp_dest		 dest[UDP_BATCH];
	uint64_t		 digest[UDP_BATCH];	/* of source and bytes */
	union udp_cmsg_in	 cmsg_in[UDP_BATCH];
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
	u->client_rate.prefix_v4 = cfg->client_prefix_v4;
	u->client_rate.prefix_v6 = cfg->client_prefix_v6;
	u->global_rate.datagrams = cfg->udp_max_datagrams;
	return 0;
}

struct udp_server *
udp_server_new(const struct config *cfg, struct scoreboard_slot *slot,
    const struct listeners *ls, struct udp_limit *limit,
    struct stamp_sessions *sessions)
{
	struct udp_server	*u;
	size_t			 i;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->cfg = cfg;
	u->slot = slot;
	u->limit = limit;
	u->sessions = cfg->stamp_stateful ? sessions : NULL;
	u->count = &slot->udp;
	if ((u->bufs = malloc((size_t)UDP_BATCH * UDP_BUF_BYTES)) == NULL ||
	    (u->memo = calloc(UDP_LOOP_SLOTS, sizeof(*u->memo))) == NULL ||
	    siphash_key_random(&u->key) == -1 ||
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
	free(u->memo);
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

/* The pktinfos the kernel gave with a question. */
static void
read_dest(struct msghdr *in, struct udp_dest *d)
{
	struct cmsghdr	*c;

	memset(d, 0, sizeof(*d));
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&d->pi, CMSG_DATA(c), sizeof(d->pi));
			d->has4 = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&d->pi6, CMSG_DATA(c), sizeof(d->pi6));
			d->has6 = true;
		}
	}
}

/*
 * The policy's view of a question: the address it was sent to and, for
 * IPv4, the local one the kernel would answer from; NULL if not known.
 */
static void
policy_addrs(const struct udp_dest *d, struct sockaddr_storage *dst,
    struct sockaddr_in *local, const struct sockaddr **dp,
    const struct sockaddr **lp)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)dst;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)dst;

	memset(dst, 0, sizeof(*dst));
	memset(local, 0, sizeof(*local));
	*dp = *lp = NULL;
	if (d->has4) {
		sin->sin_family = local->sin_family = AF_INET;
		sin->sin_addr = d->pi.ipi_addr;
		local->sin_addr = d->pi.ipi_spec_dst;
		*dp = (struct sockaddr *)dst;
		*lp = (struct sockaddr *)local;
	} else if (d->has6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = d->pi6.ipi6_addr;
		*dp = (struct sockaddr *)dst;
	}
}

/*
 * The pktinfo that makes the answer leave from the address the question
 * was sent to: IP_PKTINFO for IPv4, on a dual-stack socket too, where
 * the kernel takes it for an IPv4-mapped destination. Returns its
 * length, 0 if there is none to give.
 */
static size_t
reply_source(const struct udp_dest *d, union udp_cmsg *out)
{
	struct cmsghdr		*o = &out->align;
	struct in_pktinfo	 pi;

	if (d->has4) {
		pi = d->pi;
		pi.ipi_spec_dst = pi.ipi_addr;
		pi.ipi_ifindex = 0;
		o->cmsg_level = IPPROTO_IP;
		o->cmsg_type = IP_PKTINFO;
		o->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(o), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (!d->has6 || IN6_IS_ADDR_V4MAPPED(&d->pi6.ipi6_addr))
		return 0;
	o->cmsg_level = IPPROTO_IPV6;
	o->cmsg_type = IPV6_PKTINFO;
	o->cmsg_len = CMSG_LEN(sizeof(d->pi6));
	memcpy(CMSG_DATA(o), &d->pi6, sizeof(d->pi6));
	return CMSG_SPACE(sizeof(d->pi6));
}

/*
 * Datagram i's digest, SipHash-2-4 under a key drawn at start, so that a
 * peer cannot choose which of our memos its datagrams share: its source
 * address and port, its length and its bytes; of a datagram longer than
 * twice UDP_DIGEST_END_BYTES, those at either end only, so that a 64 KiB
 * one costs no more than 2 KiB.
 */
static uint64_t
digest(const struct udp_server *u, size_t i)
{
	const struct sockaddr_in	*sin = (const void *)&u->peer[i];
	const struct sockaddr_in6	*sin6 = (const void *)&u->peer[i];
	const unsigned char		*p = u->iov_in[i].iov_base;
	unsigned char			 buf[sizeof(struct in6_addr) +
					     sizeof(uint16_t) + sizeof(uint32_t) +
					     2 * UDP_DIGEST_END_BYTES];
	uint32_t			 len = u->in[i].msg_len;
	size_t				 n = 0;

	memset(buf, 0, sizeof(struct in6_addr) + sizeof(uint16_t));
	if (u->peer[i].ss_family == AF_INET6) {
		memcpy(buf, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
		memcpy(buf + sizeof(struct in6_addr), &sin6->sin6_port, 2);
	} else {
		memcpy(buf, &sin->sin_addr, sizeof(sin->sin_addr));
		memcpy(buf + sizeof(struct in6_addr), &sin->sin_port, 2);
	}
	n = sizeof(struct in6_addr) + sizeof(uint16_t);
	memcpy(buf + n, &len, sizeof(len));
	n += sizeof(len);
	if (len <= 2 * UDP_DIGEST_END_BYTES) {
		memcpy(buf + n, p, len);
		n += len;
	} else {
		memcpy(buf + n, p, UDP_DIGEST_END_BYTES);
		memcpy(buf + n + UDP_DIGEST_END_BYTES,
		    p + len - UDP_DIGEST_END_BYTES, UDP_DIGEST_END_BYTES);
		n += 2 * UDP_DIGEST_END_BYTES;
	}
	return siphash24(&u->key, buf, n);
}

static struct udp_echo_memo *
memo_of(struct udp_server *u, uint64_t digest)
{
	return &u->memo[digest & (UDP_LOOP_SLOTS - 1)];
}

/*
 * Whether datagram i gets an answer: allow/deny first, as for TCP, then
 * the forgery, broadcast and loop rules, then the rates, so that a
 * dropped datagram costs its source no tokens.
 */
static enum udp_drop
judge(struct udp_server *u, size_t i, uint64_t now_ms)
{
	struct mmsghdr		*m = &u->in[i];
	const struct sockaddr	*src = (struct sockaddr *)&u->peer[i];
	const struct sockaddr	*dp, *lp;
	struct sockaddr_storage	 dst;
	struct sockaddr_in	 local;
	enum udp_drop		 why;

	if (m->msg_hdr.msg_flags & MSG_TRUNC)
		return UDP_DROP_TRUNCATED;
	if (acl_check(&u->cfg->acl, src, m->msg_hdr.msg_namelen) != ACL_ALLOW)
		return UDP_DROP_DENIED;
	read_dest(&m->msg_hdr, &u->dest[i]);
	policy_addrs(&u->dest[i], &dst, &local, &dp, &lp);
	if ((why = udp_policy_check(&u->policy, src, dp, lp)) != UDP_DROP_NONE)
		return why;
	u->digest[i] = digest(u, i);
	why = udp_loop_check(memo_of(u, u->digest[i]), u->digest[i], now_ms);
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
	h->msg_controllen = reply_source(&u->dest[i], &u->cmsg_out[k]);
	h->msg_control = h->msg_controllen ? u->cmsg_out[k].buf : NULL;
	h->msg_flags = 0;
}

static void
count_drop(struct udp_server *u, enum udp_drop why, uint64_t n)
{
	SCOREBOARD_ADD(u->count->dropped[why], n);
}

/* Send answers [0, n); one that fails is counted and skipped. */
static void
send_answers(struct udp_server *u, int fd, size_t n)
{
	size_t	done = 0, k;
	int	r;

	if (u->count == &u->slot->stamp)
		stamp_reflect_t3(u->pend, n, &u->clock);
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
		SCOREBOARD_ADD(u->count->echoed, (uint64_t)r);
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

/*
 * Whether question i, admitted, becomes answer k: always for echo; for
 * STAMP, if it is a test packet, answered in place.
 */
static bool
make_answer(struct udp_server *u, size_t k, size_t i, uint64_t now_ms)
{
	u->pend[k].packet = NULL;
	if (u->count != &u->slot->stamp)
		return true;
	if (stamp_reflect(u->iov_in[i].iov_base, u->in[i].msg_len,
	    &u->in[i].msg_hdr, (struct sockaddr *)&u->peer[i], u->sessions,
	    &u->clock, now_ms, u->count, &u->pend[k]) == -1) {
		SCOREBOARD_ADD(u->count->malformed, 1);
		return false;
	}
	return true;
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
	SCOREBOARD_ADD(u->count->received, (uint64_t)n);
	if (u->count == &u->slot->stamp)
		stamp_reflect_clock(&u->clock);
	for (i = 0; i < (size_t)n; i++) {
		SCOREBOARD_ADD(u->slot->bytes_in, u->in[i].msg_len);
		if ((why = judge(u, i, now_ms)) != UDP_DROP_NONE) {
			count_drop(u, why, 1);
			continue;
		}
		if (!make_answer(u, k, i, now_ms))
			continue;
		queue_answer(u, k++, i);
		udp_loop_answered(memo_of(u, u->digest[i]), u->digest[i],
		    now_ms);
	}
	if (k > 0)
		send_answers(u, fd, k);
	return n == UDP_BATCH;
}

int
udp_server_serve(struct udp_server *u, int fd, bool stamp, uint64_t now_ms)
{
	unsigned	round;
	int		r = 1;

	u->count = stamp ? &u->slot->stamp : &u->slot->udp;
	for (round = 0; round < UDP_ROUNDS && r == 1; round++)
		r = serve_batch(u, fd, now_ms);
	return r == -1 ? -1 : 0;
}
