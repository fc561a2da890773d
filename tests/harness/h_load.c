/* SPDX-License-Identifier: ISC */
/*
 * h_load.c: the tests' tie to the one load client (load/): an engine
 * aimed at a test daemon, whose sd_notify socket it drains every round.
 * The engine is load/'s; what the tests assert is theirs.
 */
#include "build-config.h"

#include "harness/harness.h"
#include "load/load.h"

static void
drain(struct load *l)
{
	h_notify_drain(l->arg);
}

/* Sessions at once against d; the test's seed. Dies on failure. */
void
h_load_init(struct load *l, struct daemon *d, unsigned sessions,
    unsigned seed)
{
	struct sockaddr_in	dst;

	if (load_addr(&dst, d->host, d->port) == -1)
		h_die("load: %s is no IPv4 address", d->host);
	if (load_init(l, &dst, sessions, seed) == -1)
		h_die("load: out of memory");
	l->half_close = true;
	l->arg = d;
	l->each_step = drain;
}

struct daemon *
h_load_daemon(const struct load *l)
{
	return l->arg;
}
