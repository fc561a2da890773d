/* SPDX-License-Identifier: ISC */
/*
 * unit_master.c: the master's transactions (reload commit and rollback, a
 * death mid-reload, recycling, resizing, stopping by a deadline) as
 * scripts of signals and ticks, run against fake processes (pool_ops) and
 * a clock the test turns: no fork, no sleep, no timing.
 */
#include "build-config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"

#include "core/coverage.h"
#include "master/health.h"
#include "master/master.h"
#include "master/master_int.h"
#include "master/pool.h"
#include "master/reload.h"

#define T0_MS		1000000
#define FAKES_MAX	32
#define ANSWERS_MAX	8
#define WAITER_PID	4242
#define STRAY_PID	4343	/* a child of the master that is no worker */
#define FIRST_PID	100001

/* Wait statuses as waitpid() reports them. */
#define EXITED(code)	(((code) & 0xff) << 8)
#define SIGNALED(sig)	((sig) & 0x7f)

/* A worker as the fake pool_ops see it. */
struct fake_worker {
	pid_t			 pid;
	struct scoreboard_slot	*slot;
	bool			 alive;
	int			 last_sig;	/* 0: never signalled */
	int			 nkill;		/* SIGKILLs received */
};

struct fake {
	struct fake_worker	w[FAKES_MAX];
	size_t			nw;
	pid_t			dead[FAKES_MAX];
	int			dead_status[FAKES_MAX];
	size_t			ndead;
	size_t			nreaped;
	int			answers[ANSWERS_MAX];	/* signals to WAITER_PID */
	size_t			nanswers;
	bool			stubborn;	/* SIGTERM is not enough */
	bool			unkillable;	/* nor SIGKILL, for now (D state) */
};

static struct fake	 fk;
static char		 dir[PATH_MAX], conf[PATH_MAX + 16];
static struct master	*m;
static uint64_t		 now_ms;
static struct config_options opts;

static void
fake_dies(struct fake_worker *w, int wstatus)
{
	if (!w->alive)
		return;
	w->alive = false;
	fk.dead[fk.ndead] = w->pid;
	fk.dead_status[fk.ndead++] = wstatus;
}

static pid_t
fake_fork(worker_entry_fn *entry, const struct worker_params *p, void *arg)
{
	struct fake_worker	*w;

	(void)entry;
	(void)arg;
	ck_assert_uint_lt(fk.nw, FAKES_MAX);
	w = &fk.w[fk.nw];
	w->pid = FIRST_PID + (pid_t)fk.nw++;
	w->slot = p->slot;
	w->alive = true;
	return w->pid;
}

/* Workers leave when asked, as the real ones do (unless stubborn). */
static int
fake_kill(pid_t pid, int sig, void *arg)
{
	size_t	i;

	(void)arg;
	for (i = 0; i < fk.nw; i++) {
		if (fk.w[i].pid != pid)
			continue;
		fk.w[i].last_sig = sig;
		if (sig == SIGKILL) {
			/* An unkillable one dies at OP_RELENT. */
			fk.w[i].nkill++;
			if (!fk.unkillable)
				fake_dies(&fk.w[i], SIGNALED(SIGKILL));
		} else if (!fk.stubborn || sig != SIGTERM)
			fake_dies(&fk.w[i], EXITED(0));
		return 0;
	}
	ck_abort_msg("kill(%ld, %d): not a worker", (long)pid, sig);
	return -1;
}

static pid_t
fake_reap(int *wstatus, void *arg)
{
	(void)arg;
	if (fk.nreaped >= fk.ndead)
		return 0;
	*wstatus = fk.dead_status[fk.nreaped];
	return fk.dead[fk.nreaped++];
}

static int
fake_sigqueue(pid_t pid, int sig, union sigval v, void *arg)
{
	(void)arg;
	ck_assert_int_eq(pid, WAITER_PID);
	ck_assert_int_eq(v.sival_int, RELOAD_COOKIE);
	ck_assert_uint_lt(fk.nanswers, ANSWERS_MAX);
	fk.answers[fk.nanswers++] = sig;
	return 0;
}

static const struct pool_ops fake_ops = {
	fake_fork, fake_kill, fake_reap, fake_sigqueue, NULL,
};

/* Configurations a script may switch to; %s is the test directory. */
static const char *const configs[] = {
	"workers = 2;",
	"workers = 3;",
	"workers = 2; no_such_setting = 1;",
	"workers = 2; max_connections_per_worker = 10;",
};

static void
write_config(int which)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(conf, "w"));
	fprintf(fp, "listen = [ \"unix:%s/sock\" ];\n"
	    "shutdown_timeout = 1;\nlog_level = \"error\";\n%s\n", dir,
	    configs[which]);
	fclose(fp);
}

enum op {
	OP_TICK,	/* arg ms later */
	OP_SERVE,	/* every live worker shows it accepts */
	OP_SERVE_ONE,	/* arg: that worker alone shows it accepts */
	OP_SIGNAL,	/* arg: a signal from the outside */
	OP_RELOAD,	/* arg: a config; sockechod --reload from WAITER_PID */
	OP_CRASH,	/* arg: the fake worker of that index dies (SIGSEGV) */
	OP_STRAY_CRASH,	/* a child that is no worker exits, then OP_CRASH */
	OP_RETIRE,	/* arg: that worker spent its connection budget */
	OP_STUBBORN,	/* workers ignore SIGTERM from now on */
	OP_UNKILLABLE,	/* and SIGKILL takes effect only at OP_RELENT */
	OP_RELENT,	/* every worker SIGKILLed so far dies now */
	OP_KILLS,	/* arg: worker index; sig: SIGKILLs it got so far */
	OP_EXPECT,	/* the state below */
	OP_ANSWERS,	/* ok answers, failed answers to WAITER_PID */
	OP_SIGNALLED,	/* arg: worker index; sig: the last signal it got */
	OP_DONE,	/* the master stopped, with exit status arg */
};

struct step {
	enum op			op;
	int			arg;
	unsigned		live;		/* OP_EXPECT: processes */
	unsigned		generation;
	enum reload_phase	phase;
	int			sig;		/* OP_SIGNALLED; OP_ANSWERS: failed */
};

#define TICK(ms)		{ OP_TICK, ms, 0, 0, 0, 0 }
#define SERVE			{ OP_SERVE, 0, 0, 0, 0, 0 }
#define SERVE_ONE(w)		{ OP_SERVE_ONE, w, 0, 0, 0, 0 }
#define SIGNAL(s)		{ OP_SIGNAL, s, 0, 0, 0, 0 }
#define RELOAD(c)		{ OP_RELOAD, c, 0, 0, 0, 0 }
#define CRASH(w)		{ OP_CRASH, w, 0, 0, 0, 0 }
#define STRAY_CRASH(w)		{ OP_STRAY_CRASH, w, 0, 0, 0, 0 }
#define RETIRE(w)		{ OP_RETIRE, w, 0, 0, 0, 0 }
#define STUBBORN		{ OP_STUBBORN, 0, 0, 0, 0, 0 }
#define UNKILLABLE		{ OP_UNKILLABLE, 0, 0, 0, 0, 0 }
#define RELENT			{ OP_RELENT, 0, 0, 0, 0, 0 }
#define KILLS(w, n)		{ OP_KILLS, w, 0, 0, 0, n }
#define EXPECT(n, g, ph)	{ OP_EXPECT, 0, n, g, ph, 0 }
#define ANSWERS(ok, failed)	{ OP_ANSWERS, ok, 0, 0, 0, failed }
#define SIGNALLED(w, s)		{ OP_SIGNALLED, w, 0, 0, 0, s }
#define DONE(status)		{ OP_DONE, status, 0, 0, 0, 0 }
#define END			{ OP_DONE, -1, 0, 0, 0, 0 }

/* Workers 0 and 1 start with the master and serve. */
#define STARTED	SERVE, TICK(250), EXPECT(2, 1, RELOAD_IDLE)

static const struct script {
	const char	*name;
	struct step	 steps[24];
} scripts[] = {
	{ "reload commits once the new generation serves", {
		STARTED,
		RELOAD(1), EXPECT(5, 2, RELOAD_STARTING),
		TICK(250), EXPECT(5, 2, RELOAD_STARTING),
		SIGNALLED(0, 0), ANSWERS(0, 0),
		SERVE, TICK(250), EXPECT(3, 2, RELOAD_IDLE),
		SIGNALLED(0, SIGTERM), SIGNALLED(1, SIGTERM),
		SIGNALLED(2, 0), ANSWERS(1, 0), END } },
	{ "a reload waits for every worker of the new generation", {
		STARTED,
		RELOAD(1), EXPECT(5, 2, RELOAD_STARTING),
		SERVE_ONE(2), TICK(250), EXPECT(5, 2, RELOAD_STARTING),
		SERVE_ONE(3), TICK(250), EXPECT(5, 2, RELOAD_STARTING),
		SIGNALLED(0, 0), ANSWERS(0, 0),
		SERVE_ONE(4), TICK(250), EXPECT(3, 2, RELOAD_IDLE),
		ANSWERS(1, 0), END } },
	{ "a crash after a healthy run is replaced at once", {
		STARTED,
		TICK(11000), CRASH(0), TICK(1), EXPECT(2, 1, RELOAD_IDLE),
		END } },
	{ "a crash soon after start is replaced after a backoff", {
		STARTED,
		CRASH(0), TICK(1), EXPECT(1, 1, RELOAD_IDLE),
		TICK(250), EXPECT(2, 1, RELOAD_IDLE), END } },
	{ "a stray child's exit does not hide a worker's death", {
		STARTED,
		STRAY_CRASH(0), EXPECT(1, 1, RELOAD_IDLE), END } },
	{ "a bad configuration changes nothing", {
		STARTED,
		RELOAD(2), EXPECT(2, 1, RELOAD_IDLE), ANSWERS(0, 1),
		SIGNALLED(0, 0), END } },
	{ "a new generation that does not serve in time is rolled back", {
		STARTED,
		RELOAD(0), EXPECT(4, 2, RELOAD_STARTING),
		TICK(30000), EXPECT(4, 2, RELOAD_STARTING),
		TICK(250), EXPECT(2, 1, RELOAD_IDLE), ANSWERS(0, 1),
		SIGNALLED(2, SIGTERM), SIGNALLED(0, 0), END } },
	{ "a new worker dying mid-reload rolls it back", {
		STARTED,
		RELOAD(0), EXPECT(4, 2, RELOAD_STARTING),
		CRASH(2), EXPECT(2, 1, RELOAD_IDLE), ANSWERS(0, 1),
		SIGNALLED(3, SIGTERM), SIGNALLED(0, 0),
		TICK(250), EXPECT(2, 1, RELOAD_IDLE), END } },
	{ "an old worker dying mid-reload does not stop it", {
		STARTED,
		RELOAD(0), CRASH(0), EXPECT(3, 2, RELOAD_STARTING),
		SERVE, TICK(250), EXPECT(2, 2, RELOAD_IDLE), ANSWERS(1, 0),
		END } },
	{ "SIGHUP during a reload reloads again after it", {
		STARTED,
		RELOAD(0), RELOAD(1), EXPECT(4, 2, RELOAD_STARTING),
		SERVE, TICK(250), EXPECT(5, 3, RELOAD_STARTING),
		ANSWERS(1, 0),
		SERVE, TICK(250), EXPECT(3, 3, RELOAD_IDLE), ANSWERS(2, 0),
		END } },
	{ "a retiring worker leaves only once its successor serves", {
		STARTED,
		RETIRE(0), TICK(250), EXPECT(3, 1, RELOAD_IDLE),
		SIGNALLED(0, 0),
		TICK(250), SIGNALLED(0, 0),
		SERVE, TICK(250), EXPECT(2, 1, RELOAD_IDLE),
		SIGNALLED(0, SIGTERM), SIGNALLED(2, 0), END } },
	{ "SIGTTIN adds a worker, SIGTTOU retires the youngest", {
		STARTED,
		SIGNAL(SIGTTIN), EXPECT(3, 1, RELOAD_IDLE), SERVE,
		SIGNAL(SIGTTOU), EXPECT(2, 1, RELOAD_IDLE),
		SIGNALLED(2, SIGTERM), SIGNALLED(0, 0), SIGNALLED(1, 0),
		SIGNAL(SIGTTOU), EXPECT(1, 1, RELOAD_IDLE),
		SIGNAL(SIGTTOU), EXPECT(1, 1, RELOAD_IDLE),
		TICK(250), EXPECT(1, 1, RELOAD_IDLE), END } },
	{ "a crashed worker is replaced", {
		STARTED,
		CRASH(1), EXPECT(1, 1, RELOAD_IDLE),
		TICK(250), EXPECT(2, 1, RELOAD_IDLE), END } },
	{ "stopping drains, then kills at the deadline", {
		STARTED, STUBBORN,
		SIGNAL(SIGTERM), EXPECT(2, 1, RELOAD_IDLE),
		SIGNALLED(0, SIGTERM), SIGNALLED(1, SIGTERM),
		TICK(2999), EXPECT(2, 1, RELOAD_IDLE),
		TICK(1), EXPECT(0, 1, RELOAD_IDLE),
		SIGNALLED(0, SIGKILL), DONE(0) } },
	{ "a worker SIGKILL has not ended yet is killed once, not every tick", {
		STARTED, UNKILLABLE,
		SIGNAL(SIGTERM), TICK(3000), EXPECT(2, 1, RELOAD_IDLE),
		KILLS(0, 1), KILLS(1, 1), TICK(250), TICK(250),
		KILLS(0, 1), KILLS(1, 1),
		RELENT, TICK(1), EXPECT(0, 1, RELOAD_IDLE), DONE(0) } },
	{ "a second SIGTERM closes at once", {
		STARTED, STUBBORN,
		SIGNAL(SIGTERM), SIGNAL(SIGTERM), EXPECT(0, 1, RELOAD_IDLE),
		SIGNALLED(1, SIGINT), DONE(0) } },
	{ "stopping during a reload answers its waiter", {
		STARTED,
		RELOAD(0), SIGNAL(SIGTERM), ANSWERS(0, 1),
		EXPECT(0, 2, RELOAD_STARTING), DONE(0) } },
};

static void
send_signal(int signo, int code, pid_t from)
{
	struct signalfd_siginfo	si = { .ssi_signo = signo, .ssi_code = code,
	    .ssi_pid = from, .ssi_int = RELOAD_COOKIE };

	master_signal(m, &si);
}

static void
tick(int ms)
{
	size_t	i;

	now_ms += ms;
	for (i = 0; i < fk.nw; i++)
		if (fk.w[i].alive)
			SCOREBOARD_STORE(fk.w[i].slot->heartbeat_ms, now_ms);
	master_set_clock(m, now_ms);
	master_tick(m);
}

static void
set_state(size_t w, uint32_t state)
{
	ck_assert_uint_lt(w, fk.nw);
	SCOREBOARD_STORE(fk.w[w].slot->state, state);
}

/* Where a script is, for the failure messages. */
static const char	*script_name;
static int		 step_no;

static void
expect(const struct step *s)
{
	unsigned	live = pool_count_live(master_pool(m));
	unsigned	gen = master_current(m)->id;
	int		phase = master_reload(m)->phase;

	ck_assert_msg(live == s->live, "%s, step %d: %u processes, not %u",
	    script_name, step_no, live, s->live);
	ck_assert_msg(gen == s->generation, "%s, step %d: generation %u, "
	    "not %u", script_name, step_no, gen, s->generation);
	ck_assert_msg(phase == (int)s->phase, "%s, step %d: reload phase %d, "
	    "not %d", script_name, step_no, phase, s->phase);
}

static void
expect_answers(int ok, int failed)
{
	int	n_ok = 0, n_failed = 0;
	size_t	i;

	for (i = 0; i < fk.nanswers; i++)
		if (fk.answers[i] == RELOAD_OK)
			n_ok++;
		else if (fk.answers[i] == RELOAD_FAILED)
			n_failed++;
	ck_assert_msg(n_ok == ok && n_failed == failed, "%s, step %d: %d ok "
	    "and %d failed answers, not %d and %d", script_name, step_no, n_ok,
	    n_failed, ok, failed);
}

static void
run_step(const struct step *s)
{
	size_t	i;

	switch (s->op) {
	case OP_TICK:
		tick(s->arg);
		break;
	case OP_SERVE:
		for (i = 0; i < fk.nw; i++)
			if (fk.w[i].alive && SCOREBOARD_LOAD(fk.w[i].slot->state)
			    == SCOREBOARD_STARTING)
				set_state(i, SCOREBOARD_ACCEPTING);
		break;
	case OP_SERVE_ONE:
		ck_assert_uint_lt(s->arg, fk.nw);
		set_state(s->arg, SCOREBOARD_ACCEPTING);
		break;
	case OP_SIGNAL:
		send_signal(s->arg, SI_USER, 1);
		break;
	case OP_RELOAD:
		write_config(s->arg);
		send_signal(SIGHUP, SI_QUEUE, WAITER_PID);
		break;
	case OP_CRASH:
		ck_assert_uint_lt(s->arg, fk.nw);
		fake_dies(&fk.w[s->arg], SIGNALED(SIGSEGV));
		break;
	case OP_STRAY_CRASH:
		ck_assert_uint_lt(s->arg, fk.nw);
		fk.dead[fk.ndead] = STRAY_PID;
		fk.dead_status[fk.ndead++] = EXITED(0);
		fake_dies(&fk.w[s->arg], SIGNALED(SIGSEGV));
		break;
	case OP_RETIRE:
		set_state(s->arg, SCOREBOARD_RETIRING);
		break;
	case OP_STUBBORN:
		fk.stubborn = true;
		break;
	case OP_UNKILLABLE:
		fk.stubborn = fk.unkillable = true;
		break;
	case OP_RELENT:
		fk.unkillable = false;
		for (i = 0; i < fk.nw; i++)
			if (fk.w[i].nkill > 0)
				fake_dies(&fk.w[i], SIGNALED(SIGKILL));
		break;
	case OP_KILLS:
		ck_assert_uint_lt(s->arg, fk.nw);
		ck_assert_int_eq(fk.w[s->arg].nkill, s->sig);
		break;
	case OP_EXPECT:
		expect(s);
		break;
	case OP_ANSWERS:
		expect_answers(s->arg, s->sig);
		break;
	case OP_SIGNALLED:
		ck_assert_uint_lt(s->arg, fk.nw);
		ck_assert_msg(fk.w[s->arg].last_sig == s->sig, "%s, step %d: "
		    "worker %d got signal %d last, not %d", script_name,
		    step_no, s->arg, fk.w[s->arg].last_sig, s->sig);
		break;
	case OP_DONE:
		break;
	}
	/* The kernel tells of every death with SIGCHLD. */
	if (fk.nreaped < fk.ndead)
		send_signal(SIGCHLD, CLD_EXITED, fk.dead[fk.ndead - 1]);
}

static void
setup(void)
{
	struct config	*cfg;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("LISTEN_FDS");
	memset(&fk, 0, sizeof(fk));
	snprintf(dir, sizeof(dir), "%s/unit_master.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/conf", dir);
	write_config(0);
	memset(&opts, 0, sizeof(opts));
	opts.config_path = conf;
	opts.workers = -1;
	ck_assert_ptr_nonnull(cfg = calloc(1, sizeof(*cfg)));
	ck_assert_int_eq(config_load_options(&opts, cfg,
	    &(struct config_errors){ NULL, 0 }), 0);
	ck_assert_ptr_nonnull(m = master_new(&opts, cfg, &fake_ops));
	now_ms = T0_MS;
	master_set_clock(m, now_ms);
	ck_assert_int_eq(master_start(m), 0);
}

static void
teardown(int status)
{
	char	path[PATH_MAX + 16];

	ck_assert_int_eq(master_end(m, true), status);
	snprintf(path, sizeof(path), "%s/sock", dir);
	(void)unlink(path);
	unlink(conf);
	ck_assert_int_eq(rmdir(dir), 0);
}

START_TEST(test_script)
{
	const struct script	*sc = &scripts[_i];
	const struct step	*s;

	setup();
	script_name = sc->name;
	for (s = sc->steps; s->op != OP_DONE; s++) {
		step_no = (int)(s - sc->steps);
		run_step(s);
	}
	if (s->arg >= 0)
		ck_assert_msg(master_done(m), "%s: not done", sc->name);
	else
		ck_assert_msg(!master_done(m), "%s: stopped", sc->name);
	teardown(s->arg >= 0 ? s->arg : 0);
}
END_TEST

/* Heartbeats against the master's clock, watchdog 400 ms, no worker_timeout. */
static const struct beat_case {
	int64_t	age_ms;		/* now - heartbeat; < 0: written after now */
	bool	ok;
} beat_cases[] = {
	{ 0, true },
	{ 400, true },
	{ 401, false },
	{ -5, true },		/* the worker beat after the master's clock read */
};

START_TEST(test_watchdog_heartbeat)
{
	const struct beat_case	*c = &beat_cases[_i];
	struct worker_params	 wp;
	struct health		 h;
	struct pool		 p;
	uint64_t		 now = T0_MS;

	memset(&fk, 0, sizeof(fk));
	memset(&wp, 0, sizeof(wp));
	ck_assert_int_eq(pool_open(&p, 4, &fake_ops, NULL), 0);
	ck_assert_int_ne(pool_spawn(&p, &wp, 1, 0, now), -1);
	SCOREBOARD_STORE(fk.w[0].slot->heartbeat_ms, now - c->age_ms);
	health_init(&h, 400);
	ck_assert_uint_eq(health_check(&h, &p, 0, now), 0);
	ck_assert_msg(h.ok == c->ok, "heartbeat %lld ms old: ok %d",
	    (long long)c->age_ms, h.ok);
	pool_close(&p);
}
END_TEST

/*
 * A dead worker's share of the client table while another process holds
 * the table's lock: owed, freed at a later tick once the lock is free; at
 * CLIENTS_OWED_MAX owed the master waits for the lock and frees it at once.
 */
START_TEST(test_release_clients_while_the_table_is_busy)
{
	static const struct clients_limits l = { 10, 0, 32, 64 };
	struct acl_addr	 a = { .family = AF_INET, .bytes = { 192, 0, 2, 1 } };
	struct master	 ms;
	int		 held[2], go[2], status;
	uint32_t	 i;
	pid_t		 pid;
	char		 c;

	memset(&ms, 0, sizeof(ms));
	ck_assert_ptr_nonnull(ms.clients = clients_create(256));
	ck_assert_int_eq(clients_enter(ms.clients, &a, 1000, &l, 1),
	    CLIENTS_OK);
	ck_assert_int_eq(clients_enter(ms.clients, &a, 5000, &l, 1),
	    CLIENTS_OK);
	ck_assert_int_eq(pipe(held), 0);
	ck_assert_int_eq(pipe(go), 0);
	if ((pid = fork()) == 0) {
		clients_lock(ms.clients);
		if (write(held[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			coverage_exit(1);
		clients_unlock(ms.clients);
		coverage_exit(0);
	}
	ck_assert_int_eq(read(held[0], &c, 1), 1);
	for (i = 0; i < CLIENTS_OWED_MAX; i++)
		master_release_clients(&ms, 1000 + i);
	ck_assert_uint_eq(ms.nclients_owed, CLIENTS_OWED_MAX);
	master_clients_housekeeping(&ms);
	ck_assert_uint_eq(ms.nclients_owed, CLIENTS_OWED_MAX);
	/* One more: the master waits for the lock, then frees it at once. */
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	master_release_clients(&ms, 5000);
	ck_assert_uint_eq(ms.nclients_owed, CLIENTS_OWED_MAX);
	ck_assert_uint_eq(clients_count(ms.clients, &a), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	master_clients_housekeeping(&ms);
	ck_assert_uint_eq(ms.nclients_owed, 0);
	ck_assert_uint_eq(clients_count(ms.clients, &a), 0);
	clients_destroy(ms.clients);
}
END_TEST

/*
 * The tick sweeps the client table's rate entries of seconds gone by once
 * CLIENTS_SWEEP_MS have passed since the last sweep, not before (the
 * max_new_connections_per_client_per_second of sockecho.conf(5) counts
 * per second: an entry of a past second is garbage).
 */
START_TEST(test_tick_sweeps_past_seconds)
{
	static const struct clients_limits l = { 0, 5, 32, 64 };
	struct acl_addr	 a = { .family = AF_INET, .bytes = { 192, 0, 2, 1 } };
	struct master	 ms;
	size_t		 used, entered;
	uint64_t	 full;

	memset(&ms, 0, sizeof(ms));
	ck_assert_ptr_nonnull(ms.clients = clients_create(256));
	ck_assert_int_eq(clients_enter(ms.clients, &a, 0, &l, 5000),
	    CLIENTS_OK);
	clients_stats(ms.clients, &entered, &full);
	/* Second 5 is over at 6 s, but the last sweep was under 1 s ago. */
	ms.clients_swept_ms = 6000 - CLIENTS_SWEEP_MS + 1;
	ms.now_ms = 6000;
	master_clients_housekeeping(&ms);
	clients_stats(ms.clients, &used, &full);
	ck_assert_uint_eq(used, entered);
	ms.now_ms = ms.clients_swept_ms + CLIENTS_SWEEP_MS;
	master_clients_housekeeping(&ms);
	clients_stats(ms.clients, &used, &full);
	ck_assert_uint_lt(used, entered);
	ck_assert_uint_eq(ms.clients_swept_ms, ms.now_ms);
	clients_destroy(ms.clients);
}
END_TEST

/*
 * SIGUSR1's line about the client table (sockechod(8), SIGNALS): the
 * entries in use, and apart from them the connections refused because
 * the table was full; read back from stderr, where the logger writes off
 * the journal.
 */
START_TEST(test_report_clients_line)
{
	static const struct clients_limits l = { 10, 0, 32, 64 };
	struct acl_addr	 a = { .family = AF_INET, .bytes = { 192, 0, 2, 1 } };
	struct master	 ms;
	char		 path[] = "/tmp/unit_master.XXXXXX", want[160], buf[4096];
	FILE		*fp;
	size_t		 used, n;
	uint64_t	 full;
	int		 fd, saved;

	memset(&ms, 0, sizeof(ms));
	ck_assert_ptr_nonnull(ms.clients = clients_create(256));
	ck_assert_int_eq(clients_enter(ms.clients, &a, 1000, &l, 1),
	    CLIENTS_OK);
	clients_stats(ms.clients, &used, &full);
	ck_assert_uint_gt(used, 0);
	ck_assert_uint_eq(full, 0);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ge(saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	master_report_clients(&ms);
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "r"));
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	snprintf(want, sizeof(want), "status: client table: %zu of %d entries "
	    "used, 0 connections refused because it was full\n", used,
	    CLIENTS_MAX_USED);
	ck_assert_msg(strstr(buf, want) != NULL, "%s", buf);
	clients_destroy(ms.clients);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("master");
	TCase	*tc = tcase_create("transactions");

	tcase_add_loop_test(tc, test_script, 0, nitems(scripts));
	tcase_add_loop_test(tc, test_watchdog_heartbeat, 0,
	    nitems(beat_cases));
	tcase_add_test(tc, test_release_clients_while_the_table_is_busy);
	tcase_add_test(tc, test_tick_sweeps_past_seconds);
	tcase_add_test(tc, test_report_clients_line);
	suite_add_tcase(s, tc);
	return s;
}
