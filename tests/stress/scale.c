/* SPDX-License-Identifier: ISC */
/*
 * scale.c: the scale-out test (make check-scale, as root). Three sockechod
 * backends, each in a network namespace of its own, behind a real HAProxy
 * that sends them the PROXY protocol (v2) and checks them with a real echo;
 * clients connect to HAProxy from several loopback addresses in the
 * balancer's namespace. Each case prints one "SCALE" line with its counts
 * and fails when a count is not what sockechod promises behind a
 * balancer. All traffic stays inside the namespaces the test creates.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "load/load.h"
#include "stress/scale.h"

#define CONCURRENCY	16	/* load sessions at once */
#define CHUNKS		3
#define CHUNK_MAX	1024
#define CHUNK_GAP_MS	20
#define STALL_MS	8000	/* no progress this long: the session failed */
#define STATS_README	"/run/haproxy/admin.sock"

struct scale	S;

/*
 * Each backend's sockecho.conf (README shows b1's): a PROXY listener
 * that only the balancer may use; per-client limits and the connection
 * log see the clients behind it.
 */
static const char backend_conf[] =
    "listen = ( { address = \"%s:%d\"; proxy_protocol = true; } );\n"
    "proxy_trusted = [ \"" SCALE_LB_ADDR "/32\" ];\n"
    "workers = 2;\n"
    "max_connections_per_client = %d;\n"
    "shutdown_timeout = 5;\n"
    "log_connections = true;\n"
    "metrics_listen = \"127.0.0.1:%d\";\n";

static void
backend_config(char *buf, size_t size, const char *addr)
{
	snprintf(buf, size, backend_conf, addr, SCALE_ECHO_PORT,
	    LIMIT_PER_CLIENT, METRICS_PORT);
}

/* ---- waiting: the load goes on while the test waits for a state ---- */

void
pump(int ms)
{
	uint64_t	end = sig_monotonic_ms() + ms;
	int		i;

	do {
		if (S.l != NULL)
			load_step(S.l, 5);
		else
			poll(NULL, 0, 5);
		/* The masters' sd_notify() would block on a full socket. */
		for (i = 1; i <= SCALE_BACKENDS; i++)
			if (S.b[i].made && !S.b[i].starting)
				h_notify_drain(&S.b[i].d);
	} while (sig_monotonic_ms() < end);
}

/* Poll cond every 20 ms, load running, until it holds or timeout_ms pass. */
bool
wait_for(bool (*cond)(void *), void *arg, int timeout_ms)
{
	uint64_t	deadline = sig_monotonic_ms() + timeout_ms;

	for (;;) {
		if (cond(arg))
			return true;
		if (h_remaining_ms(deadline) == 0)
			return false;
		pump(20);
	}
}

struct want {
	const struct backend	*b;
	const char		*status;	/* "UP": exactly; "DOWN": prefix */
	unsigned		 scur;
};

static bool
is_status(void *arg)
{
	const struct want	*w = arg;
	struct hstat		 st;

	if (haproxy_stat(&S.h, w->b->name, &st) == -1)
		return false;
	if (strcmp(w->status, "DOWN") == 0)
		return strncmp(st.status, "DOWN", 4) == 0;
	return strcmp(st.status, w->status) == 0;
}

bool
wait_status(const struct backend *b, const char *status)
{
	struct want	w = { b, status, 0 };

	return wait_for(is_status, &w, WAIT_MS);
}

bool
is_idle(void *arg)
{
	const struct backend	*b = arg;
	struct hstat		 st;

	return haproxy_stat(&S.h, b->name, &st) == 0 && st.scur == 0;
}

bool
has_exited(void *arg)
{
	struct backend	*b = arg;

	return h_wait_exit(&b->d, 0) >= 0;
}

bool
is_ready(void *arg)
{
	struct backend	*b = arg;

	if (h_notify_wait(&b->d, "READY=1", 1, NULL, 0, NULL) == 0) {
		b->starting = false;
		return true;
	}
	if (h_wait_exit(&b->d, 0) >= 0) {
		h_log_dump(&b->d);
		h_die("backend %s exited at start", b->name);
	}
	return false;
}

/* ---- the backends ---- */

void
backend_spawn(struct backend *b)
{
	h_notify_drain(&b->d);
	b->starting = true;
	net_enter(b->ns);
	if (h_start(&b->d) == -1)
		h_die("backend %s: cannot fork", b->name);
	net_enter(NET_LB);
}

static void
backend_init(int i)
{
	struct backend	*b = &S.b[i];
	char		 conf[1024];

	b->ns = i;
	net_backend_addr(i, b->addr, sizeof(b->addr));
	snprintf(b->name, sizeof(b->name), "b%d", i);
	h_init(&b->d);
	b->made = true;
	snprintf(b->d.host, sizeof(b->d.host), "%s", b->addr);
	b->d.port = SCALE_ECHO_PORT;
	b->d.no_wait_ready = true;
	backend_config(conf, sizeof(conf), b->addr);
	if (h_write_config(&b->d, "%s", conf) == -1)
		h_die("backend %s: cannot write its configuration", b->name);
	backend_spawn(b);
}

/* Lines of b's log that contain both a and b2 (b2 may be NULL). */
int
log_lines(struct backend *b, const char *a, const char *b2)
{
	char	line[1024];
	FILE	*fp;
	int	n = 0;

	if ((fp = fopen(b->d.log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, a) != NULL &&
		    (b2 == NULL || strstr(line, b2) != NULL))
			n++;
	fclose(fp);
	return n;
}

/* Finished client sessions in b's log: the real clients are 127.0.0.x. */
int
client_lines(struct backend *b)
{
	return log_lines(b, "connection peer=127.0.0.", NULL);
}

void
mark(void)
{
	int	i;

	for (i = 1; i <= SCALE_BACKENDS; i++)
		S.b[i].base = client_lines(&S.b[i]);
}

int
served_since_mark(struct backend *b)
{
	return client_lines(b) - b->base;
}

void
hstat_of(const char *server, struct hstat *st)
{
	if (haproxy_stat(&S.h, server, st) == -1)
		memset(st, 0, sizeof(*st));
}

/* Restart a backend that has exited; wait for READY=1 and for UP. */
bool
backend_restart(struct backend *b)
{
	backend_spawn(b);
	return wait_for(is_ready, b, WAIT_MS) && wait_status(b, "UP");
}

/* ---- the load: sessions of three chunks through HAProxy ---- */

static void
prepare(struct load *l, struct load_session *s)
{
	load_random_chunks(l, s, CHUNKS, 64, CHUNK_MAX);
}

void
load_begin(struct load *l, unsigned seed)
{
	h_load_init(l, &S.front, CONCURRENCY, seed);
	l->chunk_gap_ms = CHUNK_GAP_MS;
	l->stall_ms = STALL_MS;
	l->prepare = prepare;
	l->src = S.src;
	l->nsrc = SCALE_SOURCES;
	S.l = l;
}

void
load_end(struct load *l)
{
	load_settle(l, STALL_MS + 2000);
	S.l = NULL;
}

static void
dump_tail(const char *path, int lines)
{
	char	 buf[1024], **ring;
	FILE	*fp;
	int	 n = 0, i;

	if ((fp = fopen(path, "r")) == NULL ||
	    (ring = calloc(lines, sizeof(*ring))) == NULL)
		return;
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		free(ring[n % lines]);
		ring[n++ % lines] = strdup(buf);
	}
	fclose(fp);
	fprintf(stderr, "---- the end of %s ----\n", path);
	for (i = n > lines ? n - lines : 0; i < n; i++)
		fputs(ring[i % lines], stderr);
	for (i = 0; i < lines; i++)
		free(ring[i]);
	free(ring);
}

void
report(const char *name, unsigned sessions, unsigned failed, bool pass,
    const char *fmt, ...)
{
	char	extra[512];
	va_list	ap;
	int	i;

	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	printf("SCALE case=%s sessions=%u failed=%u %s => %s\n", name,
	    sessions, failed, extra, pass ? "PASS" : "FAIL");
	if (pass)
		return;
	S.failures++;
	dump_tail(S.h.log, 20);
	for (i = 1; i <= SCALE_BACKENDS; i++)
		dump_tail(S.b[i].d.log, 10);
}

/* The load's failures, "none" or "reset=2 timeout=1". */
const char *
failures(const struct load *l)
{
	static char	buf[256];

	load_describe_failures(l->outcome, buf, sizeof(buf));
	return buf;
}

/* ---- setup and teardown ---- */

/* README's "Scaling out" must show the very configurations tested here. */
static void
check_readme(void)
{
	char	 path[512], haproxy[4096], backend[1024], *text = NULL;
	size_t	 len = 0, n;
	FILE	*fp, *mem;
	bool	 h_ok, b_ok;
	char	 buf[8192];

	snprintf(path, sizeof(path), "%s/README.md",
	    h_env("SOCKECHOD_SRCDIR", ".."));
	if ((fp = fopen(path, "r")) == NULL)
		h_die("%s: %s", path, strerror(errno));
	mem = open_memstream(&text, &len);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	fclose(fp);
	haproxy_config(haproxy, sizeof(haproxy), STATS_README);
	backend_config(backend, sizeof(backend), "10.77.0.11");
	h_ok = strstr(text, haproxy) != NULL;
	b_ok = strstr(text, backend) != NULL;
	free(text);
	printf("SCALE readme haproxy.cfg=%s sockecho.conf=%s => %s\n",
	    h_ok ? "verbatim" : "DIFFERENT", b_ok ? "verbatim" : "DIFFERENT",
	    h_ok && b_ok ? "PASS" : "FAIL");
	if (!h_ok || !b_ok) {
		S.failures++;
		printf("README.md should show, verbatim:\n%s\n%s", haproxy,
		    backend);
	}
}

static void
cleanup(void)
{
	int	i;

	haproxy_stop(&S.h);
	for (i = 1; i <= SCALE_BACKENDS; i++)
		if (S.b[i].made) {
			h_cleanup(&S.b[i].d);
			S.b[i].made = false;
		}
	net_destroy();
}

static void
on_signal(int sig)
{
	net_destroy();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
setup(void)
{
	char	why[512];
	int	i, rc;

	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if ((rc = net_create(why, sizeof(why))) == 77) {
		printf("SKIP: no network namespaces here: %s\n", why);
		exit(77);
	}
	if (rc != 0)
		h_die("cannot make the test's network: %s", why);
	net_enter(NET_LB);
	for (i = 0; i < SCALE_SOURCES; i++) {
		S.src[i].sin_family = AF_INET;
		S.src[i].sin_addr.s_addr = htonl(0x7f00000a + i);
	}
	snprintf(S.front.host, sizeof(S.front.host), FRONT);
	S.front.port = SCALE_ECHO_PORT;
	S.front.notify_fd = -1;
	for (i = 1; i <= SCALE_BACKENDS; i++)
		backend_init(i);
	for (i = 1; i <= SCALE_BACKENDS; i++)
		if (!wait_for(is_ready, &S.b[i], WAIT_MS))
			h_die("backend b%d: no READY=1", i);
	if (haproxy_start(&S.h) == -1) {
		haproxy_log_dump(&S.h);
		h_die("HAProxy did not start (tools/setup installs it)");
	}
	for (i = 1; i <= SCALE_BACKENDS; i++)
		if (!wait_status(&S.b[i], "UP")) {
			haproxy_log_dump(&S.h);
			h_die("HAProxy: b%d is not UP", i);
		}
}

int
main(void)
{
	static void (*const cases[])(void) = { case_spread, case_real_client,
	    case_stopped, case_rolling, case_untrusted };
	uint64_t	t0 = sig_monotonic_ms();
	size_t		i;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: the scale-out test needs root (network "
		    "namespaces)\n");
		return 77;
	}
	check_readme();
	setup();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cases[i]();
	printf("SCALE summary: %d of %zu cases failed, %.1f s\n", S.failures,
	    sizeof(cases) / sizeof(cases[0]),
	    (sig_monotonic_ms() - t0) / 1000.0);
	return S.failures == 0 ? 0 : 1;
}
