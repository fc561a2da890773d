/* SPDX-License-Identifier: ISC */
/*
 * hostile_config.c: files that are not configuration, as the main file and
 * as an @include, at start, under -t and on reload: each exits 78 within
 * 5 s naming the file, and a reload leaves the master serving as before.
 */
#include "build-config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define DEADLINE_MS	5000
#define GOOD		"listen = [ \"127.0.0.1:%P\" ];\nworkers = 1;\n"
#define GOOD_FMT	"listen = [ \"127.0.0.1:%%P\" ];\nworkers = 1;\n"

static void
must(int r, const char *what)
{
	if (r == -1)
		h_die("%s: %s", what, strerror(errno));
}

static void
write_bytes(const char *path, const char *head, size_t nhead,
    const char *unit, size_t nunit, size_t times, const char *tail)
{
	FILE	*fp = fopen(path, "w");
	size_t	 i;

	if (fp == NULL)
		h_die("%s: %s", path, strerror(errno));
	fwrite(head, 1, nhead, fp);
	for (i = 0; i < times; i++)
		fwrite(unit, 1, nunit, fp);
	fputs(tail, fp);
	if (fclose(fp) != 0)
		h_die("%s: write failed", path);
}

static void
make_dir(const char *p)
{
	must(mkdir(p, 0755), p);
}

static void
make_fifo(const char *p)
{
	must(mkfifo(p, 0644), p);
}

static void
make_zero(const char *p)
{
	must(symlink("/dev/zero", p), p);
}

static void
make_urandom(const char *p)
{
	must(symlink("/dev/urandom", p), p);
}

static void
make_loop(const char *p)
{
	must(symlink(strrchr(p, '/') + 1, p), p);
}

static void
make_cycle(const char *p)
{
	const char	*base = strrchr(p, '/') + 1;
	char		 text[256];

	snprintf(text, sizeof(text), "workers = 1;\n@include \"%s\"\n", base);
	write_bytes(p, text, strlen(text), "", 0, 0, "");
}

static void
make_huge(const char *p)
{
	int	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	must(fd, p);
	must(ftruncate(fd, 100 * 1000 * 1000), p);
	close(fd);
}

static void
make_deep(const char *p)
{
	write_bytes(p, "x = ", 4, "[", 1, 100000, "1");
}

static void
make_long_list(const char *p)
{
	write_bytes(p, "listen = [ ", 11, "\"*:7\", ", 7, 100000, "\"*:7\" ];\n");
}

static void
make_long_string(const char *p)
{
	write_bytes(p, "mode = \"", 8, "stream", 6, 100000, "\";\n");
}

static void
make_nul(const char *p)
{
	write_bytes(p, "mode = \"message\0junk\";\n", 23, "", 0, 0, "");
}

static void
make_bad_utf8(const char *p)
{
	write_bytes(p, "# caf\xe9\nmode = \"stream\";\n", 25, "", 0, 0, "");
}

static const struct hostile {
	const char	*name;
	void		(*make)(const char *path);
	const char	*says;		/* part of the message */
} hostile[] = {
	{ "directory", make_dir, "is a directory, not a regular file" },
	{ "FIFO", make_fifo, "is a FIFO, not a regular file" },
	{ "/dev/zero", make_zero, "is a device, not a regular file" },
	{ "/dev/urandom", make_urandom, "is a device, not a regular file" },
	{ "symlink loop", make_loop, "Too many levels of symbolic links" },
	{ "include cycle", make_cycle, "it includes itself" },
	{ "100 MB file", make_huge, "is larger than the 1024 KiB" },
	{ "deep nesting", make_deep, "nested deeper than 32 levels" },
	{ "100,000 list elements", make_long_list, "more than 65536 list "
	    "elements" },
	{ "very long string", make_long_string, "longer than 4096 bytes" },
	{ "NUL bytes", make_nul, "contains a NUL byte" },
	{ "invalid UTF-8", make_bad_utf8, "is not valid UTF-8" },
};

#define NHOSTILE	(sizeof(hostile) / sizeof(hostile[0]))

/*
 * Case i: hostile[i / 2], as the main file (even) or included by a good
 * main file (odd). Makes the files (a main file at "main" if not NULL);
 * returns the main file's path.
 */
static const char *
prepare(int i, const char *main, char *hostile_path, size_t size)
{
	const struct hostile	*h = &hostile[i / 2];

	if (i % 2 == 0 && main != NULL)
		snprintf(hostile_path, size, "%s", main);
	else
		snprintf(hostile_path, size, "%s/hostile", d.dir);
	h->make(hostile_path);
	if (i % 2 == 0)
		return hostile_path;
	h_write_config(&d, GOOD_FMT "@include \"hostile\"\n");
	return d.conf;
}

/* Run sockechod with "opt" on "conf": 78 within the deadline, the message. */
static void
expect_refused(int i, const char *opt, const char *conf, const char *hpath)
{
	const char	*argv[8];
	char		 err[4096], port[32];
	size_t		 outlen;
	uint64_t	 t0 = sig_monotonic_ms();
	int		 n = 0, r;

	snprintf(port, sizeof(port), "127.0.0.1:%u", h_free_port("127.0.0.1"));
	argv[n++] = d.binary;
	if (opt != NULL)
		argv[n++] = opt;
	argv[n++] = "-c";
	argv[n++] = conf;
	argv[n++] = "-l";
	argv[n++] = port;
	argv[n] = NULL;
	r = h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err),
	    DEADLINE_MS);
	ck_assert_msg(r == 78, "%s (%s) %s: exit %d after %llu ms: %s",
	    hostile[i / 2].name, i % 2 ? "included" : "main", opt ? opt :
	    "start", r, (unsigned long long)(sig_monotonic_ms() - t0), err);
	ck_assert_msg(strstr(err, hpath) != NULL &&
	    strstr(err, hostile[i / 2].says) != NULL,
	    "%s: \"%s\" lacks %s or \"%s\"", hostile[i / 2].name, err, hpath,
	    hostile[i / 2].says);
}

START_TEST(test_test_and_start_refuse)
{
	const char	*conf;
	char		 hpath[256];

	conf = prepare(_i, NULL, hpath, sizeof(hpath));
	expect_refused(_i, "-t", conf, hpath);
	expect_refused(_i, NULL, conf, hpath);
}
END_TEST

START_TEST(test_reload_survives)
{
	const char	*argv[4];
	char		 pid[32], err[4096], hpath[256];
	size_t		 outlen;
	pid_t		 before[2], after[2];
	int		 r;

	start(GOOD);
	ck_assert_int_eq(h_children(d.pid, before, 2), 1);
	if (_i % 2 == 0)
		must(unlink(d.conf), d.conf);
	(void)prepare(_i, d.conf, hpath, sizeof(hpath));
	snprintf(pid, sizeof(pid), "%ld", (long)d.pid);
	argv[0] = d.binary;
	argv[1] = "--reload";
	argv[2] = pid;
	argv[3] = NULL;
	r = h_run(argv, NULL, 0, NULL, 0, &outlen, err, sizeof(err),
	    DEADLINE_MS);
	ck_assert_msg(r == 1, "%s: --reload exit %d: %s", hostile[_i / 2].name,
	    r, err);
	/* It says why, as -t would. */
	ck_assert_msg(strstr(err, "sockechod: the reload failed") != NULL &&
	    strstr(err, hpath) != NULL && strstr(err, hostile[_i / 2].says) !=
	    NULL, "%s: \"%s\" lacks %s or \"%s\"", hostile[_i / 2].name, err,
	    hpath, hostile[_i / 2].says);
	expect_log(hostile[_i / 2].says, DEADLINE_MS);
	ck_assert_int_eq(kill(d.pid, 0), 0);
	ck_assert_int_eq(h_children(d.pid, after, 2), 1);
	ck_assert_int_eq(after[0], before[0]);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "still serving"), 0);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("hostile_config");
	TCase	*tc = tcase_create("hostile_config");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_test_and_start_refuse, 0, 2 * NHOSTILE);
	tcase_add_loop_test(tc, test_reload_survives, 0, 2 * NHOSTILE);
	suite_add_tcase(s, tc);
	return s;
}
