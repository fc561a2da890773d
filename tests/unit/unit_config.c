/* SPDX-License-Identifier: ISC */
/* unit_config.c: config.c: defaults, every setting, every error path. */
#include "build-config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"

#include "config/config.h"
#include "config/conffile.h"
#include "core/coverage.h"
#include "core/log.h"

static char	dir[128];
static char	path[192];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unit_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sockecho.conf", dir);
}

static void
teardown(void)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static void
write_text(const char *file, const char *text)
{
	FILE	*fp = fopen(file, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Load "text"; returns config_load()'s result, errors in *errs. */
static int
load(const char *text, struct config *cfg, struct config_errors *errs)
{
	write_text(path, text);
	errs->v = NULL;
	errs->n = 0;
	return config_load(cfg, path, false, errs);
}

static bool
has_error(const struct config_errors *errs, const char *needle)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		if (strstr(errs->v[i], needle) != NULL)
			return true;
	return false;
}

static void
dump(const struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "  error: %s\n", errs->v[i]);
}

START_TEST(test_defaults_when_optional_file_absent)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	char			missing[256];

	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	ck_assert_int_eq(config_load(&cfg, missing, true, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(cfg.path);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen_text[0], "*:7");
	ck_assert_uint_eq(cfg.workers, 0);
	ck_assert_int_eq(cfg.mode, ECHO_MODE_STREAM);
	ck_assert_uint_eq(cfg.max_message_bytes, 1048576);
	ck_assert_uint_eq(cfg.buffer_bytes, 262144);
	ck_assert_uint_eq(cfg.max_connections, 1024);
	ck_assert_uint_eq(cfg.backlog, 0);
	ck_assert_uint_eq(cfg.idle_timeout_ms, 60000);
	ck_assert_uint_eq(cfg.shutdown_timeout_ms, 10000);
	ck_assert_uint_eq(cfg.worker_timeout_ms, 30000);
	ck_assert_uint_eq(cfg.max_connections_per_worker, 0);
	ck_assert_uint_eq(cfg.recycle_jitter, 0);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.log_format, LOG_FORMAT_AUTO);
	ck_assert(!cfg.log_connections);
	ck_assert(!cfg.log_timestamps);
	ck_assert_ptr_null(cfg.user);
	config_free(&cfg);
}
END_TEST

START_TEST(test_explicit_file_absent_is_an_error)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	char			missing[256];

	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	ck_assert_int_eq(config_load(&cfg, missing, false, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.v[0], missing) != NULL &&
	    strstr(errs.v[0], "No such file") != NULL, "%s", errs.v[0]);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

START_TEST(test_every_setting)
{
	struct config_errors	errs;
	struct config		cfg;
	int			r;

	r = load("# a full configuration\n"
	    "listen = [ \"127.0.0.1:7007\", \"[::1]:7007\", \"unix:/run/x.sock\" ];\n"
	    "workers = 3;\n"
	    "mode = \"message\";\n"
	    "max_message_bytes = 4096;\n"
	    "buffer_bytes = 8192;\n"
	    "max_connections = 100;\n"
	    "backlog = 64;\n"
	    "idle_timeout = 2.5;\n"
	    "shutdown_timeout = 7;\n"
	    "worker_timeout = 0;\n"
	    "max_connections_per_worker = 1000;\n"
	    "recycle_jitter = 50;\n"
	    "log_level = \"debug\";\n"
	    "log_format = \"syslog-prefix\";\n"
	    "log_connections = true;\n"
	    "log_timestamps = true;\n"
	    "user = \"root\";\n"
	    "group = \"root\";\n", &cfg, &errs);
	dump(&errs);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_uint_eq(cfg.nlisten, 3);
	ck_assert_str_eq(cfg.listen_text[1], "[::1]:7007");
	ck_assert_int_eq(cfg.listen[2].kind, LISTEN_UNIX);
	ck_assert_uint_eq(cfg.workers, 3);
	ck_assert_int_eq(cfg.mode, ECHO_MODE_MESSAGE);
	ck_assert_uint_eq(cfg.max_message_bytes, 4096);
	ck_assert_uint_eq(cfg.buffer_bytes, 8192);
	ck_assert_uint_eq(cfg.max_connections, 100);
	ck_assert_uint_eq(cfg.backlog, 64);
	ck_assert_uint_eq(cfg.idle_timeout_ms, 2500);
	ck_assert_uint_eq(cfg.shutdown_timeout_ms, 7000);
	ck_assert_uint_eq(cfg.worker_timeout_ms, 0);
	ck_assert_uint_eq(cfg.max_connections_per_worker, 1000);
	ck_assert_uint_eq(cfg.recycle_jitter, 50);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_int_eq(cfg.log_format, LOG_FORMAT_SYSLOG_PREFIX);
	ck_assert(cfg.log_connections);
	ck_assert(cfg.log_timestamps);
	ck_assert_str_eq(cfg.user, "root");
	ck_assert_uint_eq(cfg.uid, 0);
	ck_assert_uint_eq(cfg.gid, 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_udp_settings)
{
	struct config_errors	errs;
	struct config		cfg;

	ck_assert_int_eq(load("workers = 1;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.nudp_drop_source_ports, 7);
	ck_assert_uint_eq(cfg.udp_drop_source_ports[0], 7);
	ck_assert_uint_eq(cfg.udp_drop_source_ports[3], 19);
	ck_assert_uint_eq(cfg.udp_drop_source_ports[5], 123);
	ck_assert_uint_eq(cfg.udp_drop_source_ports[6], 862);
	ck_assert_uint_eq(cfg.udp_max_datagrams_per_client, 100);
	ck_assert_uint_eq(cfg.udp_max_bytes_per_client, 1048576);
	ck_assert_uint_eq(cfg.udp_max_datagrams, 100000);
	ck_assert_ptr_null(config_warning(&cfg));
	config_free(&cfg);
	ck_assert_int_eq(load("listen = [ \"udp:127.0.0.1:7007\" ];\n"
	    "udp_drop_source_ports = [ 19, 65535 ];\n"
	    "udp_max_datagrams_per_client = 0;\n"
	    "udp_max_bytes_per_client = 5000;\n"
	    "udp_max_datagrams = 7;\n", &cfg, &errs), 0);
	/* Valid, but only the per-client rate bounds a changing loop. */
	ck_assert_ptr_nonnull(config_warning(&cfg));
	ck_assert_ptr_nonnull(strstr(config_warning(&cfg),
	    "udp_max_datagrams_per_client = 0: a UDP loop"));
	ck_assert_int_eq(cfg.listen[0].socktype, SOCK_DGRAM);
	ck_assert_uint_eq(cfg.nudp_drop_source_ports, 2);
	ck_assert_uint_eq(cfg.udp_drop_source_ports[1], 65535);
	ck_assert_uint_eq(cfg.udp_max_datagrams_per_client, 0);
	ck_assert_uint_eq(cfg.udp_max_bytes_per_client, 5000);
	ck_assert_uint_eq(cfg.udp_max_datagrams, 7);
	config_free(&cfg);
	ck_assert_int_eq(load("udp_drop_source_ports = [ ];\n", &cfg, &errs),
	    0);
	ck_assert_uint_eq(cfg.nudp_drop_source_ports, 0);
	config_free(&cfg);
}

/*
 * Every numeric setting at its documented minimum and maximum is taken,
 * one step beyond either end is refused. Seconds are stored in ms.
 */
#define CFIELD(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)
static const struct range_case {
	const char	*name;
	const char	*min, *max, *below, *above;
	uint64_t	 min_value, max_value;
	size_t		 offset, size;
} range_cases[] = {
	{ "workers", "0", "512", "-1", "513", 0, 512, CFIELD(workers) },
	{ "max_message_bytes", "1", "1073741824", "0", "1073741825",
	    1, 1073741824, CFIELD(max_message_bytes) },
	{ "buffer_bytes", "512", "16777216", "511", "16777217", 512, 16777216,
	    CFIELD(buffer_bytes) },
	{ "max_connections", "1", "1000000", "0", "1000001", 1, 1000000,
	    CFIELD(max_connections) },
	{ "backlog", "0", "65535", "-1", "65536", 0, 65535, CFIELD(backlog) },
	{ "idle_timeout", "0", "86400", "-1", "86401", 0, 86400000,
	    CFIELD(idle_timeout_ms) },
	{ "shutdown_timeout", "0", "86400", "-0.5", "86400.5", 0, 86400000,
	    CFIELD(shutdown_timeout_ms) },
	{ "worker_timeout", "1", "86400", "0.999", "86401", 1000, 86400000,
	    CFIELD(worker_timeout_ms) },
	{ "max_connections_per_worker", "0", "4294967295", "-1", "4294967296",
	    0, 4294967295u, CFIELD(max_connections_per_worker) },
	{ "recycle_jitter", "0", "4294967295", "-1", "4294967296", 0,
	    4294967295u, CFIELD(recycle_jitter) },
	{ "udp_max_datagrams_per_client", "0", "1000000000", "-1",
	    "1000000001", 0, 1000000000, CFIELD(udp_max_datagrams_per_client) },
	{ "udp_max_bytes_per_client", "0", "1099511627776", "-1",
	    "1099511627777", 0, 1099511627776ull,
	    CFIELD(udp_max_bytes_per_client) },
	{ "udp_max_datagrams", "0", "1000000000", "-1", "1000000001", 0,
	    1000000000, CFIELD(udp_max_datagrams) },
	{ "proxy_header_timeout_ms", "1", "600000", "0", "600001", 1, 600000,
	    CFIELD(proxy_header_timeout_ms) },
};

static uint64_t
field_value(const struct config *cfg, const struct range_case *c)
{
	const char	*p = (const char *)cfg + c->offset;

	return c->size == sizeof(uint64_t) ? *(const uint64_t *)(const void *)p :
	    *(const unsigned *)(const void *)p;
}

static void
expect_range(const struct range_case *c, const char *literal, bool ok,
    uint64_t value)
{
	struct config_errors	errs;
	struct config		cfg;
	char			text[256];
	int			r;

	snprintf(text, sizeof(text), "%s = %s;\n", c->name, literal);
	r = load(text, &cfg, &errs);
	if (ok) {
		dump(&errs);
		ck_assert_msg(r == 0, "%s = %s refused", c->name, literal);
		ck_assert_uint_eq(field_value(&cfg, c), value);
	} else {
		ck_assert_msg(r == -1, "%s = %s taken", c->name, literal);
		ck_assert_msg(has_error(&errs, "must be"), "%s = %s: %s",
		    c->name, literal, errs.n ? errs.v[0] : "no message");
	}
	config_errors_free(&errs);
	config_free(&cfg);
}

/* Every log_level name of sockecho.conf(5), and the short aliases. */
START_TEST(test_log_level_names)
{
	static const struct {
		const char	*name;
		int		 level;
	} names[] = {
		{ "error", LOG_ERR }, { "err", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "DEBUG", LOG_DEBUG },
	};
	size_t	i;

	for (i = 0; i < nitems(names); i++)
		ck_assert_msg(log_level_parse(names[i].name) == names[i].level,
		    "%s", names[i].name);
	ck_assert_int_eq(log_level_parse("crit"), -1);
	ck_assert_int_eq(log_level_parse("verbose"), -1);
}
END_TEST

/* A name, string or number longer than 4096 bytes is refused, 4096 taken. */
START_TEST(test_token_length_cap)
{
	struct config_errors	errs;
	struct config		cfg;
	char			text[6000];
	size_t			n;

	for (n = 4096 - 2; n <= 4096 - 1; n++) {
		/* "user" with a quoted name of n bytes: a token of n + 2. */
		memcpy(text, "log_level = \"", 13);
		memset(text + 13, 'x', n);
		snprintf(text + 13 + n, sizeof(text) - 13 - n, "\";\n");
		ck_assert_int_eq(load(text, &cfg, &errs), -1);
		ck_assert_msg(has_error(&errs, "longer than 4096") == (n + 2 >
		    4096), "%zu: %s", n, errs.n ? errs.v[0] : "");
		config_errors_free(&errs);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_every_setting_at_both_ends)
{
	const struct range_case	*c = &range_cases[_i];

	expect_range(c, c->min, true, c->min_value);
	expect_range(c, c->max, true, c->max_value);
	expect_range(c, c->below, false, 0);
	expect_range(c, c->above, false, 0);
}
END_TEST

START_TEST(test_single_listen_string_and_int64)
{
	struct config_errors	errs;
	struct config		cfg;

	ck_assert_int_eq(load("listen = \"127.0.0.1:9\";\n"
	    "max_message_bytes = 2097152L;\nidle_timeout = 0.0001;\n", &cfg,
	    &errs), 0);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_uint_eq(cfg.max_message_bytes, 2097152);
	ck_assert_uint_eq(cfg.idle_timeout_ms, 1);	/* rounded up, not off */
	config_free(&cfg);
}
END_TEST

START_TEST(test_include_is_relative_to_the_file)
{
	struct config_errors	errs;
	struct config		cfg;
	char			inc[256];

	snprintf(inc, sizeof(inc), "%s/workers.inc", dir);
	write_text(inc, "workers = 5;\n");
	ck_assert_int_eq(load("@include \"workers.inc\"\nmode = \"stream\";\n",
	    &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.workers, 5);
	config_free(&cfg);
}
END_TEST

/* What the daemon runs with is what the file says: no wrapping, no comments. */
START_TEST(test_integers_are_exact)
{
	struct config_errors	errs;
	struct config		cfg;

	ck_assert_int_eq(load("/* workers = 3 */ workers = 1;\n"
	    "max_connections_per_worker =\n4294967295;\n"
	    "recycle_jitter = 0xFFFFFFFF; # 7\n"
	    "max_message_bytes = 1073741824L;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.workers, 1);
	ck_assert_uint_eq(cfg.max_connections_per_worker, 4294967295U);
	ck_assert_uint_eq(cfg.recycle_jitter, 4294967295U);
	ck_assert_uint_eq(cfg.max_message_bytes, 1073741824U);
	config_free(&cfg);
}
END_TEST

/*
 * issue 23: libconfig's number and comment forms (sockecho.conf(5): "the
 * libconfig syntax") read as libconfig reads them: hexadecimal in either
 * case with or without L, a sign, a float with an exponent or no leading
 * digit, each kind of comment, a string with escapes and a hex escape.
 */
static const struct form_case {
	const char	*text;
	unsigned	 workers;
	unsigned	 idle_ms;
} form_cases[] = {
	{ "workers = 0x1f;\n", 31, 60000 },
	{ "workers = 0X1FL;\n", 31, 60000 },
	{ "workers = 0xaB;\n", 171, 60000 },
	{ "workers = +3;\n", 3, 60000 },
	{ "workers = 3L; idle_timeout = 1e1;\n", 3, 10000 },
	{ "idle_timeout = 2.5e-1;\n", 0, 250 },
	{ "idle_timeout = 1E+1;\n", 0, 10000 },
	{ "idle_timeout = .5;\n", 0, 500 },
	{ "idle_timeout = 7.;\n", 0, 7000 },
	{ "idle_timeout = 2; workers = 5;\n", 5, 2000 },
	{ "# a\n// b\n/* c\n d */ workers = 4; // e\n# f\n", 4, 60000 },
	{ "workers=4;idle_timeout=1;", 4, 1000 },
	{ "workers : 6;\n", 6, 60000 },
	{ "mode = \"m\\x65ss\\x61ge\";\nworkers = 2;\n", 2, 60000 },
	{ "log_format = \"pl\\x61in\"; /* \\\" */ workers = 2;\n", 2, 60000 },
};

START_TEST(test_syntax_forms)
{
	const struct form_case	*c = &form_cases[_i];
	struct config_errors	 errs;
	struct config		 cfg;

	if (load(c->text, &cfg, &errs) != 0)
		dump(&errs);
	ck_assert_msg(errs.n == 0, "case %d: %s", _i, errs.n ? errs.v[0] : "");
	if (c->workers != 0)
		ck_assert_uint_eq(cfg.workers, c->workers);
	ck_assert_uint_eq(cfg.idle_timeout_ms, c->idle_ms);
	if (strstr(c->text, "mode") != NULL)
		ck_assert_int_eq(cfg.mode, ECHO_MODE_MESSAGE);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/*
 * sockecho.conf(5): "at most 64 @include lines"; the 65th is the error.
 * A file name of 1024 bytes is one too many.
 */
START_TEST(test_include_limits)
{
	struct config_errors	errs;
	struct config		cfg;
	char			text[65 * 32];
	size_t			off = 0;
	int			i;

	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "@include \"missing-%d\"\n", i);
	ck_assert_int_eq(load(text, &cfg, &errs), -1);
	ck_assert_msg(has_error(&errs, ":65: more than 64 @include lines"),
	    "%s", errs.n ? errs.v[0] : "no error");
	config_errors_free(&errs);
	config_free(&cfg);
	off = (size_t)snprintf(text, sizeof(text), "@include \"%01024d\"\n",
	    0);
	ck_assert_uint_lt(off, sizeof(text));
	ck_assert_int_eq(load(text, &cfg, &errs), -1);
	ck_assert_msg(has_error(&errs, ":1: @include: the file name is longer "
	    "than 1023 bytes"), "%s", errs.n ? errs.v[0] : "no error");
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

/* One bad configuration each, and what its error must say. */
static const struct bad_case {
	const char	*text;
	const char	*line;		/* ":N: " */
	const char	*needle;
} bad_cases[] = {
	{ "workers = 2;\nmode = ;\n", ":2: ", "syntax error" },
	{ "workers = 2;\nworkers = 3;\n", ":2: ", "duplicate setting" },
	{ "\n\nworker = 2;\n", ":3: ",
	    "unknown setting \"worker\" (did you mean \"workers\"?)" },
	{ "colour = \"red\";\n", ":1: ", "unknown setting \"colour\"" },
	{ "workers = \"two\";\n", ":1: ", "workers: expected an integer" },
	{ "workers = 513;\n", ":1: ", "workers: must be between 0 and 512 (got 513)" },
	{ "workers = -1;\n", ":1: ", "workers: must be between 0 and 512 (got -1)" },
	{ "workers = 99999999999L;\n", ":1: ", "workers: must be between 0 and 512 (got 99999999999)" },
	{ "workers = 99999999999;\n", ":1: ", "workers: must be between 0 and 512 (got 99999999999)" },
	{ "workers = 99999999999999999999999;\n", ":1: ", "workers: 99999999999999999999999 does not fit in 64 bits" },
	{ "workers = 9223372036854775808;\n", ":1: ", "workers: 9223372036854775808 does not fit in 64 bits" },
	{ "workers = 4294967298;\n", ":1: ", "workers: must be between 0 and 512 (got 4294967298)" },
	{ "workers =\n4294967298;\n", ":1: ", "workers: must be between 0 and 512 (got 4294967298)" },
	{ "workers = 0x100000002;\n", ":1: ", "workers: must be between 0 and 512 (got 4294967298)" },
	{ "workers = 0x80000000;\n", ":1: ", "workers: must be between 0 and 512 (got 2147483648)" },
	{ "workers = 0x7fffffff;\n", ":1: ", "workers: must be between 0 and 512 (got 2147483647)" },
	{ "workers = 0x8000000000000000L;\n", ":1: ", "does not fit in 64 bits" },
	{ "backlog =\n4294967297;\n", ":1: ", "backlog: must be between 0 and 65535 (got 4294967297)" },
	{ "backlog = 4294967297L;\n", ":1: ", "backlog: must be between 0 and 65535 (got 4294967297)" },
	{ "/* workers = 3 */ workers = 600;\n", ":1: ", "workers: must be between 0 and 512 (got 600)" },
	{ "workers = -2147483649;\n", ":1: ", "workers: must be between 0 and 512 (got -2147483649)" },
	{ "workers = -9223372036854775809;\n", ":1: ", "workers: -9223372036854775809 does not fit in 64 bits" },
	{ "mode = \"message\\0junk\";\n", ":1: ", "mode: must be \"stream\" or \"message\" (got \"message\\0junk\")" },
	{ "mode = \"message\\x00junk\";\n", ":1: ", "a string must not contain a NUL byte (\\x00)" },
	{ "mode = \"mess\nage\";\n", ":1: ", "mode: must be" },
	{ "mode = \"message\xff\";\n", ":1: ", "is not valid UTF-8 (byte 0xff)" },
	{ "mode = \"message\xc0\x80\";\n", ":1: ", "is not valid UTF-8 (byte 0xc0)" },
	{ "mode = \"message\";\n# \xed\xa0\x80\n", ":2: ", "is not valid UTF-8 (byte 0xed)" },
	/* UTF-8 of 2, 3 and 4 bytes is read; overlong, too high or cut is not. */
	{ "# \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\nworkers = 600;\n", ":2: ", "workers: must be between 0 and 512 (got 600)" },
	{ "# \xe0\x80\x80\n", ":1: ", "is not valid UTF-8 (byte 0xe0)" },
	{ "# \xf0\x80\x80\x80\n", ":1: ", "is not valid UTF-8 (byte 0xf0)" },
	{ "# \xf4\x90\x80\x80\n", ":1: ", "is not valid UTF-8 (byte 0xf4)" },
	{ "# \xf5\x80\x80\x80\n", ":1: ", "is not valid UTF-8 (byte 0xf5)" },
	{ "# \xc3\x28\n", ":1: ", "is not valid UTF-8 (byte 0xc3)" },
	{ "workers = 2; # \xe2\x82", ":1: ", "is not valid UTF-8 (byte 0xe2)" },
	{ "mode = \"message;\n", ":1: ", "the string is never closed" },
	{ "/* mode = \"message\";\n", ":1: ", "the comment is never closed" },
	{ "l = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]];\n", ":1: ", "nested deeper than 32 levels" },
	{ "mode = \"chunked\";\n", ":1: ",
	    "mode: must be \"stream\" or \"message\" (got \"chunked\")" },
	{ "mode = 1;\n", ":1: ", "mode: expected a string" },
	{ "max_message_bytes = 0;\n", ":1: ", "max_message_bytes: must be between 1" },
	{ "max_message_bytes = 1.5;\n", ":1: ", "max_message_bytes: expected an integer" },
	{ "buffer_bytes = 100;\n", ":1: ", "buffer_bytes: must be between 512" },
	{ "max_connections = 0;\n", ":1: ", "max_connections: must be between 1" },
	{ "backlog = 70000;\n", ":1: ", "backlog: must be between 0 and 65535" },
	{ "idle_timeout = -1;\n", ":1: ", "idle_timeout: must be between 0 and 86400 seconds (got -1)" },
	{ "idle_timeout = -0.5;\n", ":1: ", "idle_timeout: must be between 0 and 86400 seconds" },
	{ "idle_timeout = \"10s\";\n", ":1: ", "idle_timeout: expected a number of seconds" },
	{ "shutdown_timeout = 90000;\n", ":1: ", "shutdown_timeout: must be between 0 and 86400 seconds (got 90000)" },
	{ "shutdown_timeout = 99999999999999999999;\n", ":1: ", "shutdown_timeout: 99999999999999999999 does not fit in 64 bits" },
	{ "shutdown_timeout = 4294967296;\n", ":1: ", "shutdown_timeout: must be between 0 and 86400 seconds (got 4.29497e+09)" },
	{ "shutdown_timeout = 86401L;\n", ":1: ", "shutdown_timeout: must be between 0 and 86400 seconds (got 86401)" },
	{ "worker_timeout = 0.5;\n", ":1: ", "worker_timeout: must be 0 (off) or at least 1000 ms (got 0.5 seconds)" },
	{ "worker_timeout = [1];\n", ":1: ", "worker_timeout: expected a number of seconds" },
	{ "max_connections_per_worker = -5;\n", ":1: ", "max_connections_per_worker: must be between 0" },
	{ "recycle_jitter = true;\n", ":1: ", "recycle_jitter: expected an integer" },
	{ "log_level = \"loud\";\n", ":1: ", "log_level: must be one of error, warning, notice, info, debug" },
	{ "log_format = \"json\";\n", ":1: ", "log_format: must be \"auto\", \"plain\" or \"syslog-prefix\" (got \"json\")" },
	{ "log_connections = 1;\n", ":1: ", "log_connections: expected true or false" },
	{ "log_connections = \"yes\";\n", ":1: ", "log_connections: expected true or false" },
	{ "log_timestamps = 1;\n", ":1: ", "log_timestamps: expected true or false" },
	{ "log_timestamps = \"yes\";\n", ":1: ", "log_timestamps: expected true or false" },
	{ "log_timestamp = true;\n", ":1: ", "unknown setting \"log_timestamp\" (did you mean \"log_timestamps\"?)" },
	{ "udp_drop_source_ports = 19;\n", ":1: ", "udp_drop_source_ports: expected a list of port numbers" },
	{ "udp_drop_source_ports = [ 7,\n 0 ];\n", ":2: ", "udp_drop_source_ports: must be between 1 and 65535 (got 0)" },
	{ "udp_drop_source_ports = [ 65536 ];\n", ":1: ", "udp_drop_source_ports: must be between 1 and 65535" },
	{ "udp_drop_source_ports = [ \"echo\" ];\n", ":1: ", "udp_drop_source_ports: expected an integer" },
	{ "udp_max_datagrams_per_client = -1;\n", ":1: ", "udp_max_datagrams_per_client: must be between 0" },
	{ "udp_max_datagrams = 1.5;\n", ":1: ", "udp_max_datagrams: expected an integer" },
	{ "listen = [ \"udp:unix:/x\" ];\n", ":1: ", "UDP listens on Internet addresses only" },
	{ "listen = [];\n", ":1: ", "listen: the list is empty" },
	{ "listen = 7;\n", ":1: ", "listen: expected a list of addresses" },
	{ "listen = ( \"*:7\", 8 );\n", ":1: ", "listen: element 2 is neither an address nor a group" },
	{ "listen = ( \"*:7\",\n  { address = \"127.0.0.1:8\";\n    proxy_protocol = true; } );\n",
	    ":3: ", "proxy_protocol is on for 127.0.0.1:8, but proxy_trusted is empty" },
	{ "listen = [ \"127.0.0.1:8\" ];\nproxy_trusted = [];\nproxy_protocol = true;\n",
	    ":3: ", "proxy_protocol is on for 127.0.0.1:8, but proxy_trusted is empty" },
	{ "proxy_trusted = [ \"127.0.0.1\" ];\nlisten = (\n  { address = \"127.0.0.1:8\";\n    proxy = true; } );\n",
	    ":4: ", "listen: unknown setting \"proxy\" in a listener (known: address, proxy_protocol)" },
	{ "proxy_trusted = [ \"127.0.0.1\" ];\nlisten = (\n  { address = \"udp:127.0.0.1:8\";\n    proxy_protocol = true; } );\n",
	    ":4: ", "listen: proxy_protocol does not apply to UDP (\"udp:127.0.0.1:8\")" },
	{ "listen = ( { proxy_protocol = false; } );\n", ":1: ", "listen: a listener group needs address" },
	{ "listen = ( { address = \"127.0.0.1:8\"; proxy_protocol = 1; } );\n", ":1: ",
	    "listen: proxy_protocol: expected true or false" },
	{ "listen = ( { address = \"nohost\"; } );\n", ":1: ", "listen: invalid address \"nohost\"" },
	{ "proxy_trusted = [ \"10.0.0.0/33\" ];\n", ":1: ", "proxy_trusted: \"10.0.0.0/33\"" },
	{ "proxy_protocol = \"yes\";\n", ":1: ", "proxy_protocol: expected true or false" },
	{ "listen = [\n  \"*:7\",\n  \"nohost\"\n];\n", ":3: ",
	    "listen: invalid address \"nohost\": expected HOST:PORT" },
	{ "listen = [ \"*:0\" ];\n", ":1: ", "port must be between 1 and 65535" },
	{ "listen = [ \"*:65536\" ];\n", ":1: ", "port must be between 1 and 65535" },
	{ "listen = [ \"::1:7\" ];\n", ":1: ", "an IPv6 address needs brackets" },
	{ "listen = [ \"[::1:7\" ];\n", ":1: ", "missing ']'" },
	{ "listen = [ \"unix:relative\" ];\n", ":1: ", "must be absolute" },
	{ "listen = [ \"no.such.host.invalid:7\" ];\n", ":1: ", "cannot resolve" },
	{ "user = \"no-such-user-sockechod\";\n", ":1: ", "user: no such user" },
	{ "user = \"\";\n", ":1: ", "user: must not be empty" },
	{ "user = \"root\";\ngroup = \"no-such-group-sockechod\";\n", ":2: ",
	    "group: no such group" },
	{ "group = \"root\";\n", "", "group: only applies together with user" },
	{ "workers = 1;\n\nmode = \"stream\"\nlisten = 3 = 4;\n", ":4: ",
	    "syntax error" },
	/*
	 * issue 23, from sockecho.conf(5): metrics_listen takes what listen
	 * takes but "udp:"; a string setting given a number; at most 64
	 * udp_drop_source_ports; a long unknown name gets no suggestion.
	 */
	{ "metrics_listen = 9100;\n", ":1: ", "metrics_listen: expected a string" },
	{ "\nmetrics_listen = \"nohost\";\n", ":2: ",
	    "metrics_listen: invalid address \"nohost\"" },
	{ "metrics_listen = \"udp:127.0.0.1:9100\";\n", ":1: ",
	    "metrics_listen: \"udp:127.0.0.1:9100\" is not a TCP or Unix stream address" },
	{ "metrics_listen = \"no.such.host.invalid:9100\";\n", ":1: ",
	    "metrics_listen: cannot resolve \"no.such.host.invalid:9100\"" },
	{ "user = 0;\n", ":1: ", "user: expected a string" },
	{ "user = \"root\";\ngroup = 0;\n", ":2: ", "group: expected a string" },
	{ "log_level = 3;\n", ":1: ", "log_level: expected a string" },
	{ "udp_drop_source_ports = [ "
	    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, "
	    "17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, "
	    "33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, "
	    "49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, "
	    "65"
	    " ];\n", ":1: ",
	    "udp_drop_source_ports: at most 64 ports" },
	/* @include: one line in quotes, \\ and \" the only escapes. */
	{ "@include \"a\nb\"\n", ":1: ",
	    "@include: the file name must be one line in quotes" },
	{ "\n@include \"a\\tb\"\n", ":2: ",
	    "@include: the file name must be one line in quotes" },
	{ "@include \"a\\\"b\"\n", ":1: ", "a\"b: cannot open" },
	{ "@include \"a\\\\b\"\n", ":1: ", "a\\b: cannot open" },
	/* A number too big for 64 bits names its setting, cut to 64 bytes. */
	{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn = 99999999999999999999999;\n", ":1: ",
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnn: 99999999999999999999999 does not fit in 64 bits" },
	{ "a_setting_whose_name_is_far_longer_than_any_known_one"
	    "_sixty_four_bytes = 1;\n", ":1: ", "unknown setting "
	    "\"a_setting_whose_name_is_far_longer_than_any_known_one"
	    "_sixty_four_bytes\"" },
};

static void
check_bad(const struct bad_case *c, int i)
{
	struct config_errors	 errs;
	struct config		 cfg;
	char			 where[256];

	ck_assert_int_eq(load(c->text, &cfg, &errs), -1);
	ck_assert_uint_ge(errs.n, 1);
	snprintf(where, sizeof(where), "%s%s", path, c->line);
	ck_assert_msg(strncmp(errs.v[0], where, strlen(where)) == 0,
	    "case %d: \"%s\" does not start with \"%s\"", i, errs.v[0], where);
	ck_assert_msg(has_error(&errs, c->needle),
	    "case %d: \"%s\" lacks \"%s\"", i, errs.v[0], c->needle);
	config_errors_free(&errs);
	config_free(&cfg);
}

START_TEST(test_bad_config)
{
	check_bad(&bad_cases[_i], _i);
}
END_TEST

START_TEST(test_every_error_is_reported)
{
	struct config_errors	errs;
	struct config		cfg;

	ck_assert_int_eq(load("workers = 1000;\nmode = \"x\";\nbogus = 1;\n"
	    "idle_timeout = -3;\n", &cfg, &errs), -1);
	ck_assert_uint_eq(errs.n, 4);
	ck_assert(strstr(errs.v[0], ":1: workers") != NULL);
	ck_assert(strstr(errs.v[1], ":2: mode") != NULL);
	ck_assert(strstr(errs.v[2], ":3: unknown setting") != NULL);
	ck_assert(strstr(errs.v[3], ":4: idle_timeout") != NULL);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

START_TEST(test_error_in_included_file_names_it)
{
	struct config_errors	errs;
	struct config		cfg;
	char			inc[256], where[300];

	snprintf(inc, sizeof(inc), "%s/bad.inc", dir);
	write_text(inc, "\nworkers = 600;\n");
	ck_assert_int_eq(load("@include \"bad.inc\"\n", &cfg, &errs), -1);
	snprintf(where, sizeof(where), "%s:2: workers", inc);
	ck_assert_msg(has_error(&errs, where), "%s", errs.v[0]);
	config_errors_free(&errs);
	config_free(&cfg);

	write_text(inc, "\n\nworkers = ;\n");
	ck_assert_int_eq(load("@include \"bad.inc\"\n", &cfg, &errs), -1);
	snprintf(where, sizeof(where), "%s:3: syntax error", inc);
	ck_assert_msg(has_error(&errs, where), "%s", errs.v[0]);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

/*
 * Files that are not configuration, as the main file's @include: made by
 * a shell command in the test directory; "DIR" in the expected text
 * stands for that directory.
 */
static const struct file_case {
	const char	*make;
	const char	*text;
	const char	*where;
	const char	*needle;
} file_cases[] = {
	{ "mkdir sub", "@include \"sub\"\n", "sockecho.conf:1: ",
	    "cannot include DIR/sub: is a directory, not a regular file" },
	{ "mkfifo fifo", "\n@include \"fifo\"\n", "sockecho.conf:2: ",
	    "cannot include DIR/fifo: is a FIFO, not a regular file" },
	{ "true", "@include \"/dev/zero\"\n", "sockecho.conf:1: ",
	    "cannot include /dev/zero: is a device, not a regular file" },
	{ "ln -s loop loop", "@include \"loop\"\n", "sockecho.conf:1: ",
	    "cannot include DIR/loop: cannot open: Too many levels of symbolic "
	    "links" },
	{ "true", "workers = 1;\n@include \"sockecho.conf\"\n",
	    "sockecho.conf:2: ", "cannot include DIR/sockecho.conf: it "
	    "includes itself" },
	{ "echo '@include \"b.inc\"' > a.inc; echo '@include \"a.inc\"' > b.inc",
	    "@include \"a.inc\"\n", "b.inc:1: ", "cannot include DIR/a.inc: it "
	    "includes itself" },
	{ "for i in 1 2 3 4 5 6 7 8 9; do echo \"@include \\\"$((i+1)).inc\\\"\" "
	    "> $i.inc; done; : > 10.inc", "@include \"1.inc\"\n", "8.inc:1: ",
	    "cannot include DIR/9.inc: includes are nested deeper than 8" },
	{ "truncate -s 1025K big", "@include \"big\"\n", "sockecho.conf:1: ",
	    "cannot include DIR/big: is larger than the 1024 KiB" },
	{ "printf 'x = 1;\\n\\000' > nul.inc", "@include \"nul.inc\"\n",
	    "nul.inc:2: ", "contains a NUL byte" },
	{ "printf '\\n\\n\\n' > w.inc", "@include \"w.inc\"\nworkers = 600;\n",
	    "sockecho.conf:2: ", "workers: must be between" },
	{ "printf 'mode = \"stream\";' > w.inc",
	    "@include \"w.inc\" workers = 600;\n", "sockecho.conf:1: ",
	    "workers: must be between" },
	{ "printf 'workers = 1;\\nlisten = [\\n\"*:7\",\\n\"x:y\"];\\n' > w.inc",
	    "\n@include \"w.inc\"\n", "w.inc:4: ", "listen: cannot resolve \"x:y\"" },
	{ "printf '\\n' > w.inc", "@include \"w.inc\"\nlisten = [\n\"*:7\",\n"
	    "\"x:y\"];\n", "sockecho.conf:4: ", "listen: cannot resolve \"x:y\"" },
	{ "true", "@include \"\"\n", "sockecho.conf:1: ", "the file name is "
	    "empty" },
};

START_TEST(test_bad_file)
{
	const struct file_case	*c = &file_cases[_i];
	struct config_errors	 errs;
	struct config		 cfg;
	char			 cmd[512], where[256], needle[512], *p;

	snprintf(cmd, sizeof(cmd), "cd '%s' && { %s; }", dir, c->make);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(load(c->text, &cfg, &errs), -1);
	snprintf(where, sizeof(where), "%s/%s", dir, c->where);
	if ((p = strstr(c->needle, "DIR")) != NULL)
		snprintf(needle, sizeof(needle), "%.*s%s%s",
		    (int)(p - c->needle), c->needle, dir, p + 3);
	else
		snprintf(needle, sizeof(needle), "%s", c->needle);
	ck_assert_msg(strncmp(errs.v[0], where, strlen(where)) == 0,
	    "case %d: \"%s\" does not start with \"%s\"", _i, errs.v[0], where);
	ck_assert_msg(has_error(&errs, needle), "case %d: \"%s\" lacks \"%s\"",
	    _i, errs.v[0], needle);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

START_TEST(test_directory_as_configuration)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	char			want[256];

	ck_assert_int_eq(config_load(&cfg, dir, true, &errs), -1);
	snprintf(want, sizeof(want), "%s: is a directory, not a regular file",
	    dir);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.v[0], want);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

START_TEST(test_absolute_include)
{
	struct config_errors	errs;
	struct config		cfg;
	char			inc[256], text[512];

	snprintf(inc, sizeof(inc), "%s/abs.inc", dir);
	write_text(inc, "workers = 6;\n");
	snprintf(text, sizeof(text), "mode = \"message\";\n@include \"%s\"\n",
	    inc);
	ck_assert_int_eq(load(text, &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.workers, 6);
	ck_assert_int_eq(cfg.mode, ECHO_MODE_MESSAGE);
	config_free(&cfg);
}
END_TEST

/* Counts past the caps are refused, and only the first errors are kept. */
START_TEST(test_caps)
{
	struct config_errors	 errs;
	struct config		 cfg;
	char			*text;
	size_t			 n = 0, i;

	text = malloc(64 * 5000);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 1025; i++)
		n += (size_t)sprintf(text + n, "s%zu = 1;\n", i);
	ck_assert_int_eq(load(text, &cfg, &errs), -1);
	ck_assert_msg(has_error(&errs, ":1025: more than 1024 settings"), "%s",
	    errs.v[0]);
	config_errors_free(&errs);
	config_free(&cfg);
	n = 0;
	for (i = 0; i < 100; i++)
		n += (size_t)sprintf(text + n, "s%zu = 1;\n", i);
	ck_assert_int_eq(load(text, &cfg, &errs), -1);
	ck_assert_uint_eq(errs.n, CONFIG_ERRORS_MAX + 1);
	ck_assert_str_eq(errs.v[CONFIG_ERRORS_MAX], "(more errors not shown)");
	config_errors_free(&errs);
	config_free(&cfg);
	free(text);
}
END_TEST

START_TEST(test_command_line_listen)
{
	struct config_errors	 errs = { NULL, 0 };
	struct config		 cfg;
	char			 g1[] = "127.0.0.1:9", g2[] = "unix:@abstract";
	char			 b1[] = "127.0.0.1";
	char			*good[] = { g1, g2 };
	char			*bad[] = { b1 };

	config_defaults(&cfg);
	ck_assert_int_eq(config_set_listen(&cfg, good, 2, &errs), 0);
	ck_assert_uint_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen_text[1], "unix:@abstract");
	ck_assert_int_eq(config_set_listen(&cfg, bad, 1, &errs), -1);
	ck_assert_msg(strncmp(errs.v[0], "command line: listen: invalid",
	    29) == 0, "%s", errs.v[0]);
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

START_TEST(test_workers_zero_means_cpus)
{
	struct config	cfg;

	config_defaults(&cfg);
	ck_assert_uint_eq(config_workers(&cfg),
	    (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	cfg.workers = 7;
	ck_assert_uint_eq(config_workers(&cfg), 7);
	config_free(&cfg);
}
END_TEST

/*
 * "from 0 to 512 ... 0 means one per online CPU": on a host with more
 * CPUs than that (1024, shown by a /sys/devices/system/cpu/online bound
 * over the real one in a mount namespace of a child's own), 512.
 */
START_TEST(test_workers_zero_at_most_the_maximum)
{
	char		online[] = "/tmp/unit_config.XXXXXX";
	struct config	cfg;
	pid_t		pid;
	int		fd, status;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot make a mount namespace");
	ck_assert_int_ge(fd = mkstemp(online), 0);
	ck_assert_int_eq(write(fd, "0-1023\n", 7), 7);
	close(fd);
	if ((pid = fork()) == 0) {
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount(online, "/sys/devices/system/cpu/online", NULL,
		    MS_BIND, NULL) == -1)
			coverage_exit(77);
		if (sysconf(_SC_NPROCESSORS_ONLN) != 1024)
			coverage_exit(78);
		config_defaults(&cfg);
		coverage_exit(config_workers(&cfg) == CONFIG_WORKERS_MAX ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(online);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 78)
		CHECK_SKIP("cannot show 1024 CPUs in a mount namespace");
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(CONFIG_WORKERS_MAX, 512);
}
END_TEST

/* Write "text" to "file" in a child; 0, or -1 after a failure. */
static int
put_file(const char *file, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(file, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

/*
 * An @include is a cycle only when it names a file already open, the
 * same device and inode: a file on another filesystem that happens to
 * have the same inode number (the first file of two new tmpfs) is not.
 */
static int
include_across_filesystems(const char *a, const char *b)
{
	char			main_conf[256], inc[256], text[512];
	struct stat		sa, sb;
	struct config		cfg;
	struct config_errors	errs = { NULL, 0 };

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", a, "tmpfs", 0, NULL) == -1 ||
	    mount("tmpfs", b, "tmpfs", 0, NULL) == -1)
		return 77;
	snprintf(main_conf, sizeof(main_conf), "%s/main.conf", a);
	snprintf(inc, sizeof(inc), "%s/inc.conf", b);
	snprintf(text, sizeof(text), "@include \"%s\"\nworkers = 3;\n", inc);
	if (put_file(main_conf, text) == -1 ||
	    put_file(inc, "mode = \"message\";\n") == -1 ||
	    stat(main_conf, &sa) == -1 || stat(inc, &sb) == -1)
		return 10;
	if (sa.st_ino != sb.st_ino || sa.st_dev == sb.st_dev)
		return 78;
	if (config_load(&cfg, main_conf, false, &errs) == -1) {
		dump(&errs);
		return 1;
	}
	return cfg.workers == 3 && cfg.mode == ECHO_MODE_MESSAGE ? 0 : 2;
}

START_TEST(test_include_same_inode_other_filesystem)
{
	char	a[] = "/tmp/unit_config_a.XXXXXX";
	char	b[] = "/tmp/unit_config_b.XXXXXX";
	pid_t	pid;
	int	status;

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot mount two tmpfs");
	ck_assert_ptr_nonnull(mkdtemp(a));
	ck_assert_ptr_nonnull(mkdtemp(b));
	if ((pid = fork()) == 0)
		coverage_exit(include_across_filesystems(a, b));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	rmdir(a);
	rmdir(b);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 78)
		CHECK_SKIP("no two tmpfs files with one inode number here");
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* listen groups, proxy_protocol global and per listener, proxy_trusted. */
START_TEST(test_proxy_settings)
{
	struct config_errors	errs;
	struct config		cfg;

	config_defaults(&cfg);
	ck_assert(!cfg.proxy_protocol);
	ck_assert_uint_eq(cfg.proxy_trusted.n, 0);
	ck_assert_uint_eq(cfg.proxy_header_timeout_ms, 3000);
	ck_assert(!config_listen_proxy(&cfg, 0));
	config_free(&cfg);
	ck_assert_int_eq(load("listen = ( \"127.0.0.1:7\",\n"
	    "  { address = \"127.0.0.1:8\"; proxy_protocol = true; },\n"
	    "  { address = \"127.0.0.1:9\"; },\n"
	    "  \"udp:127.0.0.1:7\" );\n"
	    "proxy_trusted = [ \"10.0.0.0/8\", \"127.0.0.1\" ];\n"
	    "proxy_header_timeout_ms = 250;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.nlisten, 4);
	ck_assert_str_eq(cfg.listen_text[1], "127.0.0.1:8");
	ck_assert_int_eq(cfg.listen[1].proxy, LISTEN_PROXY_ON);
	ck_assert_int_eq(cfg.listen[2].proxy, LISTEN_PROXY_DEFAULT);
	ck_assert(!config_listen_proxy(&cfg, 0));
	ck_assert(config_listen_proxy(&cfg, 1));
	ck_assert(!config_listen_proxy(&cfg, 2));
	ck_assert_uint_eq(cfg.proxy_trusted.n, 2);
	ck_assert_uint_eq(cfg.proxy_header_timeout_ms, 250);
	config_free(&cfg);
	/* Global: every stream listener but one that says otherwise, never UDP. */
	ck_assert_int_eq(load("listen = ( \"127.0.0.1:7\", \"udp:127.0.0.1:7\",\n"
	    "  { address = \"127.0.0.1:9\"; proxy_protocol = false; } );\n"
	    "proxy_protocol = true;\nproxy_trusted = \"127.0.0.1\";\n", &cfg,
	    &errs), 0);
	ck_assert(config_listen_proxy(&cfg, 0));
	ck_assert(!config_listen_proxy(&cfg, 1));
	ck_assert(!config_listen_proxy(&cfg, 2));
	config_free(&cfg);
	/* Off everywhere: proxy_trusted is not needed. */
	ck_assert_int_eq(load("listen = ( { address = \"127.0.0.1:9\"; "
	    "proxy_protocol = false; }, \"udp:127.0.0.1:7\" );\n"
	    "proxy_protocol = true;\n", &cfg, &errs), 0);
	config_free(&cfg);
}
END_TEST

/* -l with a global proxy_protocol: proxy_trusted is still required. */
START_TEST(test_proxy_command_line)
{
	char			 a1[] = "127.0.0.1:7";
	char			*addr[] = { a1 };
	struct config_errors	 errs;
	struct config		 cfg;

	ck_assert_int_eq(load("listen = [ \"udp:127.0.0.1:7\" ];\n"
	    "proxy_protocol = true;\n", &cfg, &errs), 0);
	ck_assert_int_eq(config_set_listen(&cfg, addr, 1, &errs), -1);
	ck_assert_msg(has_error(&errs, "command line: proxy_protocol is on "
	    "for 127.0.0.1:7"), "%s", errs.n ? errs.v[0] : "");
	config_errors_free(&errs);
	config_free(&cfg);
}
END_TEST

/* allow and deny: lists of prefixes, each error with its own line. */
START_TEST(test_access_lists)
{
	struct config_errors	errs;
	struct config		cfg;
	char			text[ACL_TEXT_MAX];

	ck_assert_int_eq(load("allow = [\n  \"127.0.0.0/8\",\n  \"::1\"\n];\n"
	    "deny = \"127.0.0.2\";\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.acl.allow.n, 2);
	ck_assert_uint_eq(cfg.acl.deny.n, 1);
	acl_prefix_format(&cfg.acl.allow.v[1], text, sizeof(text));
	ck_assert_str_eq(text, "::1/128");
	acl_prefix_format(&cfg.acl.deny.v[0], text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.2/32");
	config_free(&cfg);
	/* An empty list is allowed, and means nobody is singled out. */
	ck_assert_int_eq(load("allow = [];\ndeny = ();\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.acl.allow.n, 0);
	config_free(&cfg);
	/* Secure by default: loopback and private ranges only. */
	config_defaults(&cfg);
	ck_assert_uint_eq(cfg.acl.allow.n, 8);
	ck_assert_uint_eq(cfg.acl.deny.n, 0);
	acl_prefix_format(&cfg.acl.allow.v[0], text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.0/8");
	config_free(&cfg);
}
END_TEST

START_TEST(test_per_client_limits)
{
	struct config_errors	errs;
	struct config		cfg;

	/* Defaults: half of one worker's connections, /32 and /64. */
	config_defaults(&cfg);
	ck_assert_uint_eq(config_per_client(&cfg), 512);
	ck_assert_uint_eq(cfg.max_new_connections_per_client, 0);
	ck_assert_uint_eq(cfg.client_prefix_v4, 32);
	ck_assert_uint_eq(cfg.client_prefix_v6, 64);
	ck_assert_uint_eq(cfg.socket_buffer_bytes, 131072);
	ck_assert_uint_eq(config_buffered(&cfg), 16 * 1024 * 1024);
	config_free(&cfg);
	ck_assert_int_eq(load("mode = \"message\";\nmax_message_bytes = 4194304;\n",
	    &cfg, &errs), 0);
	ck_assert_uint_eq(config_buffered(&cfg), 64 * 1024 * 1024);
	config_free(&cfg);
	ck_assert_int_eq(load("max_buffered_bytes = 0;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(config_buffered(&cfg), 0);
	config_free(&cfg);
	ck_assert_int_eq(load("max_buffered_bytes = 1000;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(config_buffered(&cfg), 1000);
	config_free(&cfg);
	ck_assert_int_eq(load("socket_buffer_bytes = 0;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.socket_buffer_bytes, 0);
	config_free(&cfg);
	ck_assert_int_eq(load("max_connections = 2;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(config_per_client(&cfg), 2);
	config_free(&cfg);
	ck_assert_int_eq(load("max_connections = 100;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(config_per_client(&cfg), 64);
	config_free(&cfg);
	ck_assert_int_eq(load("max_connections_per_client = 0;\n"
	    "max_new_connections_per_client = 20;\nclient_prefix_v4 = 24;\n"
	    "client_prefix_v6 = 48;\n", &cfg, &errs), 0);
	ck_assert_uint_eq(config_per_client(&cfg), 0);
	ck_assert_uint_eq(cfg.max_new_connections_per_client, 20);
	ck_assert_uint_eq(cfg.client_prefix_v4, 24);
	ck_assert_uint_eq(cfg.client_prefix_v6, 48);
	config_free(&cfg);
	ck_assert_int_eq(load("max_connections_per_client = 7;\n", &cfg,
	    &errs), 0);
	ck_assert_uint_eq(config_per_client(&cfg), 7);
	config_free(&cfg);
}
END_TEST

/*
 * sockecho.conf(5): in message mode max_buffered_bytes must hold one whole
 * message; sockechod(8): -w and -v override the file, -w 0 included.
 */
START_TEST(test_settings_that_interact)
{
	struct config_options	o;
	struct config_errors	errs;
	struct config		cfg;

	ck_assert_int_eq(load("mode = \"message\";\nmax_message_bytes = 1000;\n"
	    "max_buffered_bytes = 600;\n", &cfg, &errs), -1);
	ck_assert(has_error(&errs, "at least max_message_bytes"));
	config_errors_free(&errs);
	config_free(&cfg);
	write_text(path, "workers = 3;\nlog_level = \"warning\";\n");
	memset(&o, 0, sizeof(o));
	o.config_path = path;
	o.workers = 0;
	o.verbose = true;
	errs.v = NULL;
	errs.n = 0;
	ck_assert_int_eq(config_load_options(&o, &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.workers, 0);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	config_free(&cfg);
}
END_TEST

/* sockecho.conf(5): a file of exactly the size cap is accepted. */
START_TEST(test_file_at_the_size_cap)
{
	struct config_errors	 errs;
	struct config		 cfg;
	char			*text;

	ck_assert_ptr_nonnull(text = malloc(CONFFILE_MAX_BYTES + 1));
	memset(text, '#', CONFFILE_MAX_BYTES - 12);
	memcpy(text + CONFFILE_MAX_BYTES - 12, "\nworkers=2;\n", 13);
	ck_assert_uint_eq(strlen(text), CONFFILE_MAX_BYTES);
	ck_assert_int_eq(load(text, &cfg, &errs), 0);
	ck_assert_uint_eq(cfg.workers, 2);
	config_free(&cfg);
	free(text);
}
END_TEST

static const struct bad_case client_bad_cases[] = {
	{ "max_connections_per_client = -1;\n", ":1: ",
	    "max_connections_per_client: must be between 0 and 1000000 (got -1)" },
	{ "max_connections_per_client = \"ten\";\n", ":1: ",
	    "max_connections_per_client: expected an integer" },
	{ "max_new_connections_per_client = 1000001;\n", ":1: ",
	    "max_new_connections_per_client: must be between 0 and 1000000" },
	{ "client_prefix_v4 = 33;\n", ":1: ",
	    "client_prefix_v4: must be between 1 and 32 (got 33)" },
	{ "client_prefix_v4 = 0;\n", ":1: ",
	    "client_prefix_v4: must be between 1 and 32 (got 0)" },
	{ "client_prefix_v6 = 129;\n", ":1: ",
	    "client_prefix_v6: must be between 1 and 128 (got 129)" },
	{ "client_prefix_v6 = 1.5;\n", ":1: ",
	    "client_prefix_v6: expected an integer" },
	{ "socket_buffer_bytes = 67108865;\n", ":1: ",
	    "socket_buffer_bytes: must be between 0 and 67108864 (got 67108865)" },
	{ "max_buffered_bytes = -1;\n", ":1: ",
	    "max_buffered_bytes: must be between 0 and 68719476736 (got -1)" },
	{ "mode = \"message\";\nmax_buffered_bytes = 1000;\n", "",
	    "max_buffered_bytes (1000) must be 0 or at least max_message_bytes (1048576)" },
	{ "socket_buffer_bytes = -1;\n", ":1: ",
	    "socket_buffer_bytes: must be between 0 and 67108864 (got -1)" },
	{ "allow = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/33\"\n];\n", ":3: ",
	    "allow: \"10.0.0.0/33\": prefix length must be 0..32" },
	/* A quote in a comment that starts with the bad element's text. */
	{ "allow = [ \"10.0.0.0/8\", # \"10.0.0.0/33 and more\n"
	    "  \"10.0.0.0/33\"\n];\n", ":2: ",
	    "allow: \"10.0.0.0/33\": prefix length must be 0..32" },
	{ "deny = [ \"2001:db8::/129\" ];\n", ":1: ",
	    "deny: \"2001:db8::/129\": prefix length must be 0..128" },
	{ "deny = \"10.1.2.3/8\";\n", ":1: ",
	    "deny: \"10.1.2.3/8\": host bits are set (the network is 10.0.0.0/8)" },
	{ "allow = [ \"localhost\" ];\n", ":1: ",
	    "allow: \"localhost\": not an IPv4 or IPv6 address" },
	{ "allow = ( \"::1\", 7 );\n", ":1: ", "allow: element 2 is not a string" },
	{ "allow = 7;\n", ":1: ", "allow: expected a list of prefixes" },
	{ "deny = { a = 1; };\n", ":1: ", "deny: expected a list of prefixes" },
};

START_TEST(test_client_bad_config)
{
	check_bad(&client_bad_cases[_i], _i);
}
END_TEST

/* log_timestamps: local time with milliseconds and the offset, either sign. */
static const struct {
	const char	*tz;
	long		 nsec;
	const char	*want;
} stamp_cases[] = {
	{ "UTC0", 123456789, "2026-12-01T23:59:01.123+00:00" },
	{ "IST-5:30", 999999999, "2026-12-02T05:29:01.999+05:30" },
	{ "EST5", 0, "2026-12-01T18:59:01.000-05:00" },
};

START_TEST(test_log_timestamp_format)
{
	struct timespec	ts = { 1796169541, stamp_cases[_i].nsec };
	char		buf[LOG_TIMESTAMP_BYTES];

	ck_assert_int_eq(setenv("TZ", stamp_cases[_i].tz, 1), 0);
	tzset();
	ck_assert_uint_eq(log_timestamp_format(&ts, buf, sizeof(buf)),
	    strlen(stamp_cases[_i].want));
	ck_assert_str_eq(buf, stamp_cases[_i].want);
	ck_assert_uint_eq(log_timestamp_format(&ts, buf, 10), 0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults_when_optional_file_absent);
	tcase_add_test(tc, test_explicit_file_absent_is_an_error);
	tcase_add_test(tc, test_every_setting);
	tcase_add_test(tc, test_proxy_settings);
	tcase_add_test(tc, test_proxy_command_line);
	tcase_add_test(tc, test_log_level_names);
	tcase_add_test(tc, test_token_length_cap);
	tcase_add_loop_test(tc, test_every_setting_at_both_ends, 0,
	    nitems(range_cases));
	tcase_add_test(tc, test_single_listen_string_and_int64);
	tcase_add_test(tc, test_udp_settings);
	tcase_add_loop_test(tc, test_log_timestamp_format, 0,
	    nitems(stamp_cases));
	tcase_add_test(tc, test_include_is_relative_to_the_file);
	tcase_add_test(tc, test_integers_are_exact);
	tcase_add_loop_test(tc, test_bad_config, 0,
	    nitems(bad_cases));
	tcase_add_loop_test(tc, test_syntax_forms, 0, nitems(form_cases));
	tcase_add_test(tc, test_include_limits);
	tcase_add_test(tc, test_every_error_is_reported);
	tcase_add_test(tc, test_error_in_included_file_names_it);
	tcase_add_loop_test(tc, test_bad_file, 0,
	    sizeof(file_cases) / sizeof(file_cases[0]));
	tcase_add_test(tc, test_directory_as_configuration);
	tcase_add_test(tc, test_absolute_include);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_command_line_listen);
	tcase_add_test(tc, test_workers_zero_means_cpus);
	tcase_add_test(tc, test_workers_zero_at_most_the_maximum);
	tcase_add_test(tc, test_include_same_inode_other_filesystem);
	tcase_add_test(tc, test_access_lists);
	tcase_add_test(tc, test_per_client_limits);
	tcase_add_test(tc, test_settings_that_interact);
	tcase_add_test(tc, test_file_at_the_size_cap);
	tcase_add_loop_test(tc, test_client_bad_config, 0,
	    nitems(client_bad_cases));
	suite_add_tcase(s, tc);
	return s;
}
