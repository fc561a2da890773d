/* SPDX-License-Identifier: ISC */
/*
 * ping_kts.c: the kernel's timestamps of a ping's probes: turned on per
 * socket, the send stamps matched to their probes, and each round trip
 * timed by the kernel when both stamps came, with the client's own delay
 * (our round trip less the kernel's) beside it. It sends nothing.
 */
#include "build-config.h"

#include <errno.h>
#include <sysexits.h>
#include <unistd.h>

#include <linux/net_tstamp.h>

#include "measure/ktstamp.h"
#include "measure/ping.h"
#include "measure/ping_int.h"

/*
 * The kernel stamps what it receives only while some socket asks it to,
 * and turns that on a moment after the first one does (a deferred static
 * key): with a connection per probe, each new socket would find it off.
 * A socket held for the whole run keeps it on from before the first probe.
 */
void
ping_kts_keep(struct ping *p)
{
	int	flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	p->kts.fd = -1;
	p->kts.keeper = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->kts.keeper >= 0 && setsockopt(p->kts.keeper, SOL_SOCKET,
	    SO_TIMESTAMPING, &flags, sizeof(flags)) == -1) {
		close(p->kts.keeper);
		p->kts.keeper = -1;
	}
}

void
ping_kts_close(struct ping *p)
{
	if (p->kts.keeper >= 0)
		close(p->kts.keeper);
	p->kts.keeper = -1;
}

/* Stamps on a new socket (after connect(): TCP numbers from there). */
void
ping_kts_open(struct ping *p, int fd)
{
	struct ping_kts	*k = &p->kts;

	k->fd = fd;
	k->next_key = 0;
	k->tcp_sent = 0;
	k->tcp_seq = 0;
	if (p->addr.ss_family != AF_INET && p->addr.ss_family != AF_INET6) {
		k->on = false;
		k->err = EAFNOSUPPORT;
		return;
	}
	k->on = ktstamp_enable(fd) == 0;
	k->err = k->on ? 0 : errno;
}

/* Probe "seq" went out ("bytes" of it on a TCP stream) at user time. */
void
ping_kts_sent(struct ping *p, uint64_t seq, uint64_t user_rt_ns,
    size_t bytes)
{
	struct ping_kts	*k = &p->kts;

	k->user_tx_ns[seq % STATS_WINDOW] = user_rt_ns;
	k->tx_ns[seq % STATS_WINDOW] = 0;
	if (!k->on)
		return;
	if (p->socktype == SOCK_STREAM) {
		k->tcp_start = k->tcp_sent;
		k->tcp_seq = seq;
		k->tcp_sent += bytes;
		return;
	}
	k->key_seq[k->next_key % STATS_WINDOW] = seq;
	k->next_key++;
}

/* A send stamp with key "key": which probe it times, 0 if none now. */
static uint64_t
probe_of(const struct ping *p, uint32_t key)
{
	const struct ping_kts	*k = &p->kts;

	if (p->socktype == SOCK_STREAM)
		return k->tcp_seq != 0 && key >= (uint32_t)k->tcp_start ?
		    k->tcp_seq : 0;
	if (key >= k->next_key || k->next_key - key > STATS_WINDOW)
		return 0;
	return k->key_seq[key % STATS_WINDOW];
}

/* Read every send stamp the error queue holds. */
void
ping_kts_drain(struct ping *p)
{
	struct ping_kts	*k = &p->kts;
	uint64_t	 ns, seq;
	uint32_t	 key;

	if (!k->on || k->fd < 0)
		return;
	while (ktstamp_tx(k->fd, &key, &ns) == 1) {
		seq = probe_of(p, key);
		if (seq == 0 || k->tx_ns[seq % STATS_WINDOW] != 0)
			continue;	/* a later write of a TCP probe */
		k->tx_ns[seq % STATS_WINDOW] = ns;
		k->tx_got++;
	}
}

/*
 * Probe "seq" came back after "user_ns" by our clock, at "krx_ns" by the
 * kernel's (0: no stamp). The round trip to count: the kernel's when both
 * its stamps came, else ours.
 */
void
ping_kts_back(struct ping *p, uint64_t seq, uint64_t krx_ns,
    uint64_t user_ns, uint64_t *rtt_ns)
{
	struct ping_kts	*k = &p->kts;
	uint64_t	 tx, krtt;

	ping_kts_drain(p);
	*rtt_ns = user_ns;
	k->last_kernel = false;
	if (stats_rtt_add(&k->user, user_ns) == -1)
		ping_fatal(EX_OSERR, "out of memory");
	if (krx_ns != 0)
		k->rx_got++;
	tx = k->tx_ns[seq % STATS_WINDOW];
	if (!k->on || krx_ns == 0 || tx == 0 || krx_ns < tx)
		return;
	krtt = krx_ns - tx;
	k->both++;
	k->last_kernel = true;
	k->last_sched_ns = user_ns > krtt ? user_ns - krtt : 0;
	if (stats_rtt_add(&k->sched, k->last_sched_ns) == -1)
		ping_fatal(EX_OSERR, "out of memory");
	*rtt_ns = krtt;
}

/* What timed the round trips: "kernel", "user" or "mixed". */
const char *
ping_kts_mode(const struct ping *p)
{
	const struct ping_kts	*k = &p->kts;

	if (k->both == 0)
		return "user";
	return k->both == k->user.n ? "kernel" : "mixed";
}
