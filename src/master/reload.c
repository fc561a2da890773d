/* SPDX-License-Identifier: ISC */
/*
 * reload.c: generations and the reload transaction. It makes a
 * generation (configuration and sockets), keeps what a failed reload goes
 * back to, the phase it is in, the sockets two generations do not share,
 * and the processes waiting for the outcome. It touches no worker:
 * master.c starts and stops them.
 */
#include "build-config.h"

#include <sys/resource.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/priv.h"
#include "master/reload.h"

#define DESCRIPTORS_SPARE	32	/* a worker's own: listeners, epoll, log */

void
reload_init(struct reload *r, const struct pool_ops *ops)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
}

/* At exit: a reload still under way leaves its old generation's sockets. */
void
reload_free(struct reload *r, const struct reload_gen *cur)
{
	if (reload_busy(r)) {
		listen_close_unused(&r->prev.ls, &cur->ls);
		config_discard(r->prev.cfg);
		r->prev.cfg = NULL;
	}
	free(r->waiting.pid);
	free(r->queued.pid);
	memset(&r->waiting, 0, sizeof(r->waiting));
	memset(&r->queued, 0, sizeof(r->queued));
}

/* Process "pid" asked for the next reload and waits for its outcome. */
void
reload_wait(struct reload *r, pid_t pid)
{
	struct reload_waiters	*w = &r->queued;
	pid_t			*v;

	if (w->n >= RELOAD_WAITERS_MAX ||
	    (v = reallocarray(w->pid, w->n + 1, sizeof(*v))) == NULL) {
		log_warnx("too many processes wait for a reload: process %ld "
		    "gets no answer", (long)pid);
		return;
	}
	w->pid = v;
	w->pid[w->n++] = pid;
}

static void
answer(const struct reload *r, struct reload_waiters *w, bool ok)
{
	union sigval	v = { .sival_int = RELOAD_COOKIE };
	size_t		i;

	for (i = 0; i < w->n; i++)
		if (r->ops->sigqueue(w->pid[i], ok ? RELOAD_OK :
		    RELOAD_FAILED, v, r->ops->arg) == -1 &&
		    errno != ESRCH)
			log_warn("cannot answer reload request of process %ld",
			    (long)w->pid[i]);
	w->n = 0;
}

/* Tell the waiters of the reload under way how it went. */
void
reload_answer(struct reload *r, bool ok)
{
	answer(r, &r->waiting, ok);
}

/* Stopping: no reload will happen, for anybody waiting. */
void
reload_refuse_all(struct reload *r)
{
	answer(r, &r->waiting, false);
	answer(r, &r->queued, false);
}

bool
reload_busy(const struct reload *r)
{
	return r->phase != RELOAD_IDLE;
}

/* A reload begins: the processes that asked so far wait for this one. */
void
reload_begin(struct reload *r)
{
	free(r->waiting.pid);
	r->waiting = r->queued;
	memset(&r->queued, 0, sizeof(r->queued));
}

/* Which sockets expect a PROXY header, as this configuration says. */
static int
mark_proxy(struct listeners *ls, const struct config *cfg, char *err,
    size_t errlen)
{
	const char	*why;

	if (listen_mark_proxy(ls, cfg->listen, cfg->nlisten,
	    cfg->proxy_protocol, &why) == -1) {
		snprintf(err, errlen, "proxy_protocol: cannot resolve a listen "
		    "address again: %s", why);
		return -1;
	}
	return 0;
}

static int
copy_listeners(struct listeners *dst, const struct listeners *src)
{
	dst->n = 0;
	if ((dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v))) == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

/*
 * The new generation's sockets: the ones systemd passed stay, else the
 * configured addresses, keeping the current sockets where they match.
 */
static int
new_listeners(struct listeners *ls, const struct reload_gen *cur,
    const struct config *cfg, bool activated, char *err, size_t errlen)
{
	if (activated) {
		if (copy_listeners(ls, &cur->ls) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
	} else if (listen_build(ls, &cur->ls, cfg->listen, cfg->nlisten,
	    cfg->backlog, err, errlen) == -1)
		return -1;
	if (mark_proxy(ls, cfg, err, errlen) == -1) {
		if (activated)
			free(ls->v);
		else
			listen_close_unused(ls, &cur->ls);
		ls->v = NULL;
		ls->n = 0;
		return -1;
	}
	return 0;
}

/*
 * Say what the configuration allows that it should not (config_warning).
 * Workers use epoll, not select(): the soft descriptor limit can be the
 * hard one. Say so when max_connections cannot fit even then.
 */
static void
check_descriptors(const struct config *cfg)
{
	struct rlimit	rl;

	if (config_warning(cfg) != NULL)
		log_warnx("%s", config_warning(cfg));
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)cfg->max_connections + DESCRIPTORS_SPARE > rl.rlim_cur)
		log_warnx("max_connections is %u but a worker may open only "
		    "%llu descriptors (RLIMIT_NOFILE): beyond that it pauses "
		    "accepting", cfg->max_connections,
		    (unsigned long long)rl.rlim_cur);
}

/*
 * The first generation's sockets: those systemd passed (*activated), or
 * the configured addresses; the metrics endpoint's, if systemd passed it.
 * Returns 0, or -1 with errno and "err".
 */
int
reload_first(struct reload_gen *g, bool *activated, struct listeners *metrics,
    char *err, size_t errlen)
{
	char	addrs[LISTEN_DESCRIBE_BYTES];
	int	n;

	if ((n = listen_adopt(&g->ls, metrics, err, errlen)) == -1)
		return -1;
	if (n > 0) {
		*activated = true;
		listen_describe(&g->ls, addrs, sizeof(addrs));
		log_notice("socket activation: serving the %d sockets systemd "
		    "passed (%s); the configured listen addresses are not used",
		    n, addrs);
		/*
		 * Nothing left to bind: no capability is needed any more,
		 * unless the workers have to switch to another user.
		 */
		if (g->cfg->user == NULL && priv_drop_capabilities() == -1)
			log_warn("cannot drop capabilities");
	} else if (listen_build(&g->ls, NULL, g->cfg->listen, g->cfg->nlisten,
	    g->cfg->backlog, err, errlen) == -1)
		return -1;
	if (mark_proxy(&g->ls, g->cfg, err, errlen) == -1) {
		listen_close_all(&g->ls);
		return -1;
	}
	check_descriptors(g->cfg);
	return 0;
}

static char *
join_errors(const struct config_errors *errs)
{
	char	*s = NULL, *t;
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		if (asprintf(&t, "%s%s%s", s ? s : "", s ? "; " : "",
		    errs->v[i]) == -1)
			break;
		free(s);
		s = t;
	}
	return s;
}

/*
 * The configuration and sockets of the next generation. Returns 0, or -1
 * with *why saying why (allocated; NULL when out of memory).
 */
int
reload_load(const struct config_options *o, const struct reload_gen *cur,
    bool activated, struct reload_gen *next, char **why)
{
	struct config_errors	 errs = { NULL, 0 };
	char			 err[LISTEN_ERROR_BYTES];

	memset(next, 0, sizeof(*next));
	*why = NULL;
	if ((next->cfg = calloc(1, sizeof(*next->cfg))) == NULL) {
		*why = strdup(strerror(errno));
		return -1;
	}
	if (config_load_options(o, next->cfg, &errs) == -1) {
		if ((*why = join_errors(&errs)) == NULL)
			*why = strdup("invalid configuration");
		goto fail;
	}
	if (new_listeners(&next->ls, cur, next->cfg, activated, err,
	    sizeof(err)) == -1) {
		*why = strdup(err);
		goto fail;
	}
	config_errors_free(&errs);
	next->wanted = config_workers(next->cfg);
	return 0;

fail:
	config_errors_free(&errs);
	config_discard(next->cfg);
	next->cfg = NULL;
	return -1;
}

/* "next" becomes current; the old generation keeps serving meanwhile. */
void
reload_start(struct reload *r, struct reload_gen *cur,
    const struct reload_gen *next, uint64_t now_ms)
{
	r->prev = *cur;
	*cur = *next;
	cur->id = ++r->last_id;
	r->started_ms = now_ms;
	r->phase = RELOAD_STARTING;
	check_descriptors(cur->cfg);
}

/* Where a starting reload goes, with "ready" of "wanted" new workers serving. */
enum reload_phase
reload_decide(const struct reload *r, unsigned ready, unsigned wanted,
    uint64_t now_ms)
{
	if (r->phase != RELOAD_STARTING)
		return r->phase;
	if (ready >= wanted)
		return RELOAD_COMMITTING;
	if (now_ms - r->started_ms > RELOAD_TIMEOUT_MS)
		return RELOAD_ROLLING_BACK;
	return RELOAD_STARTING;
}

/* The new generation serves: let the old one's configuration and sockets go. */
void
reload_commit(struct reload *r, struct reload_gen *cur)
{
	r->phase = RELOAD_COMMITTING;
	listen_close_unused(&r->prev.ls, &cur->ls);
	config_discard(r->prev.cfg);
	memset(&r->prev, 0, sizeof(r->prev));
	r->error[0] = '\0';
}

/* It failed: the old generation is current again, as if nothing happened. */
void
reload_rollback(struct reload *r, struct reload_gen *cur)
{
	r->phase = RELOAD_ROLLING_BACK;
	listen_close_unused(&cur->ls, &r->prev.ls);
	config_discard(cur->cfg);
	*cur = r->prev;
	memset(&r->prev, 0, sizeof(r->prev));
}

void
reload_failed(struct reload *r, const char *why)
{
	snprintf(r->error, sizeof(r->error), "%s", why);
}

/* Answer the waiters; true when another SIGHUP came meanwhile. */
bool
reload_finish(struct reload *r, bool ok)
{
	bool	again = r->again;

	reload_answer(r, ok);
	r->phase = RELOAD_IDLE;
	r->again = false;
	return again;
}

/* Stopping during a reload: close the old generation's own sockets. */
void
reload_close_stale(struct reload *r, const struct reload_gen *cur)
{
	if (reload_busy(r))
		listen_close_unused(&r->prev.ls, &cur->ls);
}
