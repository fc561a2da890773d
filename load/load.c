/* SPDX-License-Identifier: ISC */
/*
 * load.c: the load client of the fault suite and the benchmark: sessions
 * on non-blocking sockets, moved along by one poll() a round, each ending
 * with one outcome. What a session sends is the caller's (prepare).
 */
#include "build-config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/load.h"

const char *const load_outcome_names[LOAD_NOUTCOMES] = {
	[LOAD_OK] = "ok",
	[LOAD_REFUSED] = "refused",
	[LOAD_CONNECT] = "connect",
	[LOAD_RESET] = "reset",
	[LOAD_SHORT] = "short",
	[LOAD_MISMATCH] = "mismatch",
	[LOAD_TIMEOUT] = "timeout",
	[LOAD_OTHER] = "other",
};

/* Sessions at once, the payload each may send; the defaults of the rest. */
void
load_init(struct load *l, struct daemon *d, unsigned sessions,
    size_t payload_max, unsigned seed)
{
	unsigned	i;

	memset(l, 0, sizeof(*l));
	l->d = d;
	l->n = sessions;
	l->payload_max = payload_max;
	l->seed = seed;
	l->stall_ms = 5000;
	l->launching = true;
	l->sin.sin_family = AF_INET;
	l->sin.sin_port = htons(d->port);
	inet_pton(AF_INET, d->host, &l->sin.sin_addr);
	if ((l->s = calloc(sessions, sizeof(*l->s))) == NULL)
		h_die("out of memory");
	for (i = 0; i < sessions; i++) {
		l->s[i].fd = -1;
		if ((l->s[i].payload = malloc(payload_max)) == NULL)
			h_die("out of memory");
	}
}

void
load_free(struct load *l)
{
	unsigned	i;

	for (i = 0; i < l->n; i++) {
		if (l->s[i].fd >= 0)
			close(l->s[i].fd);
		free(l->s[i].payload);
	}
	free(l->s);
	l->s = NULL;
}

static size_t
total(const struct load_session *s)
{
	return s->chunk_end[s->nchunks - 1];
}

static void
finish(struct load *l, struct load_session *s, enum load_outcome o)
{
	if (l->done != NULL)
		l->done(l, s, o);
	l->outcome[o]++;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = LOAD_FREE;
}

static void
launch(struct load *l, struct load_session *s, uint64_t now)
{
	unsigned char	*payload = s->payload;

	memset(s, 0, sizeof(*s));
	s->payload = payload;
	s->id = l->sessions++;
	l->prepare(l, s);
	if (s->nchunks == 0 || s->nchunks > LOAD_CHUNKS_MAX ||
	    total(s) > l->payload_max)
		h_die("load: a session of %u chunks, %zu bytes", s->nchunks,
		    s->nchunks ? total(s) : 0);
	s->started_ms = s->progress_ms = now;
	s->started_ns = sig_monotonic_ns();
	s->state = LOAD_CONNECTING;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		h_die("socket: %s", strerror(errno));
	if (l->nsrc > 0 && bind(s->fd, (const struct sockaddr *)&l->src[s->id %
	    l->nsrc], sizeof(l->src[0])) == -1)
		h_die("bind: %s", strerror(errno));
	if (connect(s->fd, (struct sockaddr *)&l->sin, sizeof(l->sin)) == -1 &&
	    errno != EINPROGRESS)
		finish(l, s, errno == ECONNREFUSED ? LOAD_REFUSED :
		    LOAD_CONNECT);
}

static void
connected(struct load *l, struct load_session *s)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(int);
	int			err = 0;

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		finish(l, s, err == ECONNREFUSED ? LOAD_REFUSED : LOAD_CONNECT);
		return;
	}
	len = sizeof(sin);
	getsockname(s->fd, (struct sockaddr *)&sin, &len);
	s->lport = ntohs(sin.sin_port);
	s->state = LOAD_SENDING;
}

static void
send_some(struct load *l, struct load_session *s, uint64_t now)
{
	ssize_t	w;

	w = send(s->fd, s->payload + s->sent, s->chunk_end[s->chunk] - s->sent,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1) {
		if (errno != EAGAIN && errno != EINTR)
			finish(l, s, errno == ECONNRESET || errno == EPIPE ?
			    LOAD_RESET : LOAD_OTHER);
		return;
	}
	s->sent += w;
	s->progress_ms = now;
	if (s->sent < s->chunk_end[s->chunk])
		return;
	if (++s->chunk < s->nchunks) {
		s->state = LOAD_PAUSED;
		s->wake_ms = now + l->chunk_gap_ms;
		return;
	}
	shutdown(s->fd, SHUT_WR);
	s->state = LOAD_DRAINING;
}

static void
receive_some(struct load *l, struct load_session *s, uint64_t now)
{
	unsigned char	buf[16384];
	ssize_t		r;

	r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r == -1) {
		if (errno != EAGAIN && errno != EINTR)
			finish(l, s, errno == ECONNRESET ? LOAD_RESET :
			    LOAD_OTHER);
		return;
	}
	if (r == 0) {
		finish(l, s, s->state == LOAD_DRAINING &&
		    s->received == total(s) ? LOAD_OK : LOAD_SHORT);
		return;
	}
	if (s->received + r > total(s) ||
	    memcmp(buf, s->payload + s->received, r) != 0) {
		finish(l, s, LOAD_MISMATCH);
		return;
	}
	s->received += r;
	s->progress_ms = now;
}

static void
advance(struct load *l, struct load_session *s, short revents, uint64_t now)
{
	if (s->state == LOAD_CONNECTING) {
		if (revents)
			connected(l, s);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		receive_some(l, s, now);
	if (s->state == LOAD_PAUSED && now >= s->wake_ms)
		s->state = LOAD_SENDING;
	if (s->state == LOAD_SENDING && revents & POLLOUT)
		send_some(l, s, now);
	if (s->state != LOAD_FREE && now - s->progress_ms > l->stall_ms)
		finish(l, s, LOAD_TIMEOUT);
}

/*
 * One round: launch into free slots, poll, move every session along.
 * Returns how many sessions were under way in it.
 */
unsigned
load_step(struct load *l, int max_wait_ms)
{
	struct pollfd		 pfd[l->n];
	struct load_session	*s;
	uint64_t		 now = sig_monotonic_ms();
	unsigned		 i, live = 0;

	for (i = 0; i < l->n; i++) {
		s = &l->s[i];
		if (s->state == LOAD_FREE && l->launching)
			launch(l, s, now);
		pfd[i].fd = s->state == LOAD_FREE ? -1 : s->fd;
		pfd[i].events = POLLIN;
		if (s->state == LOAD_CONNECTING || s->state == LOAD_SENDING)
			pfd[i].events |= POLLOUT;
		pfd[i].revents = 0;
		live += s->state != LOAD_FREE;
	}
	/* Even with no session, the round lasts: callers tick in it. */
	poll(pfd, l->n, max_wait_ms);
	h_notify_drain(l->d);
	now = sig_monotonic_ms();
	for (i = 0; i < l->n; i++)
		if (l->s[i].state != LOAD_FREE)
			advance(l, &l->s[i], pfd[i].revents, now);
	return live;
}

/*
 * A prepare function's usual body: "chunks" chunks of random bytes, each
 * of min to max - 1 bytes.
 */
void
load_random_chunks(struct load *l, struct load_session *s, unsigned chunks,
    size_t min, size_t max)
{
	size_t		total = 0;
	unsigned	i;

	s->nchunks = chunks;
	for (i = 0; i < chunks; i++) {
		total += min + rand_r(&l->seed) % (max - min);
		s->chunk_end[i] = total;
	}
	h_random(s->payload, total, rand_r(&l->seed));
}

/* Run the load for "ms", calling "tick" every round. */
void
load_run_for(struct load *l, uint64_t ms, void (*tick)(struct load *, void *),
    void *arg)
{
	uint64_t	end = sig_monotonic_ms() + ms;

	while (sig_monotonic_ms() < end) {
		load_step(l, 5);
		if (tick != NULL)
			tick(l, arg);
	}
}

/* Stop launching and let every session in flight end, within timeout_ms. */
void
load_settle(struct load *l, uint64_t timeout_ms)
{
	uint64_t	end = sig_monotonic_ms() + timeout_ms;

	l->launching = false;
	while (load_active(l) > 0 && sig_monotonic_ms() < end)
		load_step(l, 5);
}

unsigned
load_count(const struct load *l, enum load_state state)
{
	unsigned	i, n = 0;

	for (i = 0; i < l->n; i++)
		if (l->s[i].state == state)
			n++;
	return n;
}

unsigned
load_active(const struct load *l)
{
	return l->n - load_count(l, LOAD_FREE);
}

/* The sessions (or flows) of outcome[LOAD_NOUTCOMES] that failed. */
unsigned
load_failures(const unsigned *outcome)
{
	unsigned	i, n = 0;

	for (i = LOAD_OK + 1; i < LOAD_NOUTCOMES; i++)
		n += outcome[i];
	return n;
}

/* "connect=2 timeout=1", or "none". */
void
load_describe_failures(const unsigned *outcome, char *buf, size_t size)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = LOAD_OK + 1; i < LOAD_NOUTCOMES; i++)
		if (outcome[i] && off < size)
			off += snprintf(buf + off, size - off, "%s%s=%u",
			    off ? " " : "", load_outcome_names[i], outcome[i]);
	if (off == 0)
		snprintf(buf, size, "none");
}
