/* SPDX-License-Identifier: ISC */
/*
 * load.c: the load engine of the tests and the benchmark: sessions on
 * non-blocking sockets in one epoll set, moved along by load_step(), each
 * ending with one outcome; a kept connection (keep) runs one operation
 * after the other. What a session sends is the caller's (prepare), from
 * the one pattern of load_util.c. It judges nothing and never exits.
 */
#include "build-config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define EVENTS_MAX	256
#define RECV_BYTES	(256 * 1024)
#define STALL_MS	5000
#define STEP_MS		5		/* load_run_for(), load_settle() */

static void	launch(struct load *, unsigned, uint64_t);
static void	send_some(struct load *, unsigned, uint64_t);

/* Sessions at once, the seed of load_random_chunks(); -1 with errno. */
int
load_init(struct load *l, const struct sockaddr_in *dst, unsigned sessions,
    unsigned seed)
{
	unsigned	i;

	memset(l, 0, sizeof(*l));
	l->dst = *dst;
	l->n = sessions;
	l->seed = seed;
	l->size = 64;
	l->stall_ms = STALL_MS;
	l->launching = true;
	l->s = calloc(sessions, sizeof(*l->s));
	l->buf = malloc(RECV_BYTES);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; l->s != NULL && i < sessions; i++)
		l->s[i].fd = -1;
	if (l->s == NULL || l->buf == NULL || l->ep == -1 ||
	    load_pattern_init() == -1) {
		load_free(l);
		return -1;
	}
	return 0;
}

void
load_free(struct load *l)
{
	unsigned	i;

	for (i = 0; l->s != NULL && i < l->n; i++)
		if (l->s[i].fd >= 0)
			close(l->s[i].fd);
	if (l->ep >= 0)
		close(l->ep);
	l->ep = -1;
	free(l->s);
	free(l->buf);
	l->s = NULL;
	l->buf = NULL;
}

static size_t
total(const struct load_session *s)
{
	return s->chunk_end[s->nchunks - 1];
}

static enum load_outcome
outcome_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return LOAD_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return LOAD_RESET;
	default:
		return LOAD_OTHER;
	}
}

static void
watch(struct load *l, unsigned i, int op)
{
	struct load_session	*s = &l->s[i];
	struct epoll_event	 ev;

	ev.events = EPOLLIN | (s->want_out ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)s->gen << 32 | i;
	epoll_ctl(l->ep, op, s->fd, &ev);
}

static void
want_out(struct load *l, unsigned i, bool out)
{
	if (l->s[i].want_out == out)
		return;
	l->s[i].want_out = out;
	watch(l, i, EPOLL_CTL_MOD);
}

/* The session ends; the next of its slot goes on in the pattern. */
static void
finish(struct load *l, unsigned i, enum load_outcome o)
{
	struct load_session	*s = &l->s[i];

	if (l->done != NULL)
		l->done(l, s, o);
	l->outcome[o]++;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->pos += s->nchunks ? total(s) : 0;
	s->state = LOAD_FREE;
	l->live--;
	if (o == LOAD_OK && l->launching)
		launch(l, i, sig_monotonic_ms());
}

/* A new operation's chunks and clocks; -1 if prepare made none that fit. */
static int
begin(struct load *l, struct load_session *s, uint64_t now)
{
	s->nchunks = s->chunk = 0;
	s->sent = s->received = 0;
	if (l->prepare != NULL)
		l->prepare(l, s);
	else {
		s->nchunks = 1;
		s->chunk_end[0] = l->size;
	}
	s->started_ms = s->progress_ms = now;
	s->started_ns = sig_monotonic_ns();
	if (s->nchunks == 0 || s->nchunks > LOAD_CHUNKS_MAX ||
	    total(s) == 0) {
		s->nchunks = 0;
		return -1;
	}
	return 0;
}

/* Connected: send at once (loopback connects at once, mostly). */
static void
connected(struct load *l, unsigned i, uint64_t now)
{
	struct load_session	*s = &l->s[i];
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		finish(l, i, err == ECONNREFUSED ? LOAD_REFUSED : LOAD_CONNECT);
		return;
	}
	len = sizeof(sin);
	if (getpeername(s->fd, (struct sockaddr *)&sin, &len) == -1)
		return;		/* still under way: EPOLLOUT will say */
	s->state = LOAD_SENDING;
	send_some(l, i, now);
}

static void
launch(struct load *l, unsigned i, uint64_t now)
{
	struct load_session	*s = &l->s[i];
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	if (s->gen++ == 0)
		s->pos = load_pattern_start(l->first + i);
	s->id = l->sessions++;
	s->state = LOAD_CONNECTING;
	s->lport = 0;
	l->live++;
	if (begin(l, s, now) == -1) {
		finish(l, i, LOAD_OTHER);
		return;
	}
	s->fd = load_connect(&l->dst, l->nsrc > 0 ? &l->src[s->id % l->nsrc] :
	    NULL, true);
	if (s->fd == -1) {
		finish(l, i, errno == ECONNREFUSED ? LOAD_REFUSED :
		    LOAD_CONNECT);
		return;
	}
	if (getsockname(s->fd, (struct sockaddr *)&sin, &len) == 0)
		s->lport = ntohs(sin.sin_port);
	s->want_out = true;
	watch(l, i, EPOLL_CTL_ADD);
	connected(l, i, now);
}

/* Send what is left of the chunk; then pause, or half-close. */
static void
send_some(struct load *l, unsigned i, uint64_t now)
{
	struct load_session	*s = &l->s[i];
	size_t			 len = s->chunk_end[s->chunk] - s->sent;
	ssize_t			 w;

	/* The pattern runs on in one piece for LOAD_BYTES_MAX only. */
	w = send(s->fd, load_pattern_at(s->pos + s->sent),
	    len < LOAD_BYTES_MAX ? len : LOAD_BYTES_MAX,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ENOTCONN)
			finish(l, i, outcome_of(errno));
		else
			want_out(l, i, true);
		return;
	}
	s->sent += w;
	s->progress_ms = now;
	want_out(l, i, s->sent < s->chunk_end[s->chunk]);
	if (s->sent < s->chunk_end[s->chunk])
		return;
	if (++s->chunk < s->nchunks) {
		s->state = LOAD_PAUSED;
		s->wake_ms = now + l->chunk_gap_ms;
		return;
	}
	if (l->half_close)
		shutdown(s->fd, SHUT_WR);
	s->state = LOAD_DRAINING;
	/* Stopped before it sent a byte (load_stop_sending()): nothing owed. */
	if (!l->half_close && s->received == total(s))
		finish(l, i, LOAD_OK);
}

/* Every byte came back (no half-close): the next operation, or close. */
static void
operation_done(struct load *l, unsigned i, uint64_t now)
{
	struct load_session	*s = &l->s[i];

	if (!l->keep || !l->launching) {
		finish(l, i, LOAD_OK);
		return;
	}
	if (l->done != NULL)
		l->done(l, s, LOAD_OK);
	l->outcome[LOAD_OK]++;
	s->pos += total(s);
	if (begin(l, s, now) == -1) {
		finish(l, i, LOAD_OTHER);
		return;
	}
	s->state = LOAD_SENDING;
	send_some(l, i, now);
}

static void
receive_some(struct load *l, unsigned i, uint64_t now)
{
	struct load_session	*s = &l->s[i];
	ssize_t			 r;

	r = recv(s->fd, l->buf, RECV_BYTES, MSG_DONTWAIT);
	if (r == -1) {
		if (errno != EAGAIN && errno != EINTR)
			finish(l, i, outcome_of(errno));
		return;
	}
	if (r == 0) {
		finish(l, i, l->half_close && s->state == LOAD_DRAINING &&
		    s->received == total(s) ? LOAD_OK : LOAD_SHORT);
		return;
	}
	if (s->received + r > total(s) ||
	    !load_pattern_check(s->pos + s->received, l->buf, r)) {
		finish(l, i, LOAD_MISMATCH);
		return;
	}
	s->received += r;
	s->progress_ms = now;
	l->bytes += r;
	if (!l->half_close && s->received == total(s))
		operation_done(l, i, now);
}

static void
event(struct load *l, const struct epoll_event *ev, uint64_t now)
{
	unsigned		 i = (unsigned)ev->data.u64;
	struct load_session	*s;

	if (i >= l->n)
		return;
	s = &l->s[i];
	/* A descriptor of this slot closed earlier in the same round. */
	if (s->state == LOAD_FREE || (unsigned)(ev->data.u64 >> 32) != s->gen)
		return;
	if (s->state == LOAD_CONNECTING) {
		connected(l, i, now);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		receive_some(l, i, now);
	if (s->state == LOAD_SENDING &&
	    ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		send_some(l, i, now);
}

/* Free slots launch, paused sessions go on, stalled ones time out. */
static void
sweep(struct load *l, uint64_t now)
{
	struct load_session	*s;
	unsigned		 i;

	for (i = 0; i < l->n; i++) {
		s = &l->s[i];
		if (s->state == LOAD_FREE) {
			if (l->launching)
				launch(l, i, now);
			continue;
		}
		if (s->state == LOAD_PAUSED && now >= s->wake_ms) {
			s->state = LOAD_SENDING;
			send_some(l, i, now);
		}
		if (s->state != LOAD_FREE && now > s->progress_ms + l->stall_ms)
			finish(l, i, LOAD_TIMEOUT);
	}
}

/*
 * One round: sweep (every sweep_ms while launching, else every round),
 * wait for events up to max_wait_ms, move every session along. Returns
 * how many sessions were under way in it.
 */
unsigned
load_step(struct load *l, int max_wait_ms)
{
	struct epoll_event	ev[EVENTS_MAX];
	uint64_t		now = sig_monotonic_ms();
	unsigned		live;
	int			n, k;

	if (!l->launching || l->sweep_ms == 0 ||
	    now - l->swept_ms >= l->sweep_ms) {
		l->swept_ms = now;
		sweep(l, now);
	}
	live = l->live;
	/* Even with no session, the round lasts: callers tick in it. */
	n = epoll_wait(l->ep, ev, EVENTS_MAX, max_wait_ms);
	if (l->each_step != NULL)
		l->each_step(l);
	now = sig_monotonic_ms();
	for (k = 0; k < n; k++)
		event(l, &ev[k], now);
	return live;
}

/*
 * A prepare function's usual body: "chunks" chunks, each of min to
 * max - 1 bytes.
 */
void
load_random_chunks(struct load *l, struct load_session *s, unsigned chunks,
    size_t min, size_t max)
{
	size_t		sum = 0;
	unsigned	i;

	s->nchunks = chunks;
	for (i = 0; i < chunks && i < LOAD_CHUNKS_MAX; i++) {
		sum += min + rand_r(&l->seed) % (max - min);
		s->chunk_end[i] = sum;
	}
}

/*
 * Time is up for a stream: every session sends no more than it has, and
 * expects back exactly that (then EOF, with half_close).
 */
void
load_stop_sending(struct load *l)
{
	struct load_session	*s;
	unsigned		 i;

	l->launching = false;
	for (i = 0; i < l->n; i++) {
		s = &l->s[i];
		if (s->state != LOAD_CONNECTING && s->state != LOAD_SENDING &&
		    s->state != LOAD_PAUSED)
			continue;
		s->nchunks = s->chunk + 1;
		s->chunk_end[s->chunk] = s->sent;
		if (s->state == LOAD_CONNECTING)
			continue;	/* sends nothing once connected */
		want_out(l, i, false);
		if (l->half_close)
			shutdown(s->fd, SHUT_WR);
		s->state = LOAD_DRAINING;
		/* Without an EOF to wait for, all back already is done. */
		if (!l->half_close && s->received == total(s))
			finish(l, i, LOAD_OK);
	}
}

/* Run the load for "ms", calling "tick" every round. */
void
load_run_for(struct load *l, uint64_t ms, void (*tick)(struct load *, void *),
    void *arg)
{
	uint64_t	end = sig_monotonic_ms() + ms;

	while (sig_monotonic_ms() < end) {
		load_step(l, STEP_MS);
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
		load_step(l, STEP_MS);
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
	return l->live;
}
