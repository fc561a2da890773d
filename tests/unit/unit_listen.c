/* SPDX-License-Identifier: ISC */
/* unit_listen.c: listen.c: address forms, resolution, binding, reuse, adoption. */
#include "build-config.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "core/coverage.h"

#include "net/listen.h"

static const struct good_case {
	const char	*text;
	enum listen_kind kind;
	bool		 wildcard;
	const char	*host;
	const char	*port;
	const char	*path;
	int		 socktype;	/* 0: SOCK_STREAM */
} good_cases[] = {
	{ "127.0.0.1:7", LISTEN_INET, false, "127.0.0.1", "7", "", 0 },
	{ "localhost:echo", LISTEN_INET, false, "localhost", "echo", "", 0 },
	{ "[::1]:7007", LISTEN_INET, false, "::1", "7007", "", 0 },
	{ "[fe80::1%lo]:7", LISTEN_INET, false, "fe80::1%lo", "7", "", 0 },
	{ "*:7", LISTEN_INET, true, "", "7", "", 0 },
	{ "7", LISTEN_INET, true, "", "7", "", 0 },
	{ "65535", LISTEN_INET, true, "", "65535", "", 0 },
	{ "unix:/run/sockechod/echo.sock", LISTEN_UNIX, false, "", "",
	    "/run/sockechod/echo.sock", 0 },
	{ "unix:@sockechod", LISTEN_UNIX, false, "", "", "@sockechod", 0 },
	{ "udp:127.0.0.1:7", LISTEN_INET, false, "127.0.0.1", "7", "",
	    SOCK_DGRAM },
	{ "udp:[::1]:7007", LISTEN_INET, false, "::1", "7007", "", SOCK_DGRAM },
	{ "udp:*:7", LISTEN_INET, true, "", "7", "", SOCK_DGRAM },
	{ "udp:7", LISTEN_INET, true, "", "7", "", SOCK_DGRAM },
	{ "udp:localhost:echo", LISTEN_INET, false, "localhost", "echo", "",
	    SOCK_DGRAM },
};

/* "stamp:": a datagram socket marked STAMP, on port 862 unless given. */
static const struct good_case stamp_cases[] = {
	{ "stamp:127.0.0.1", LISTEN_INET, false, "127.0.0.1", "862", "",
	    SOCK_DGRAM },
	{ "stamp:127.0.0.1:8620", LISTEN_INET, false, "127.0.0.1", "8620",
	    "", SOCK_DGRAM },
	{ "stamp:[::1]", LISTEN_INET, false, "::1", "862", "", SOCK_DGRAM },
	{ "stamp:[::1]:9", LISTEN_INET, false, "::1", "9", "", SOCK_DGRAM },
	{ "stamp:*", LISTEN_INET, true, "", "862", "", SOCK_DGRAM },
	{ "stamp:8620", LISTEN_INET, true, "", "8620", "", SOCK_DGRAM },
	{ "stamp:localhost", LISTEN_INET, false, "localhost", "862", "",
	    SOCK_DGRAM },
};

START_TEST(test_parse_stamp)
{
	const struct good_case	*c = &stamp_cases[_i];
	struct listen_addr	 a;
	const char		*why = NULL;

	ck_assert_msg(listen_parse(c->text, &a, &why) == 0, "%s: %s", c->text,
	    why);
	ck_assert_int_eq(a.kind, c->kind);
	ck_assert_int_eq(a.wildcard, c->wildcard);
	ck_assert_str_eq(a.host, c->host);
	ck_assert_str_eq(a.port, c->port);
	ck_assert_int_eq(a.socktype, SOCK_DGRAM);
	ck_assert(a.stamp);
	ck_assert_int_eq(listen_parse("udp:127.0.0.1:862", &a, &why), 0);
	ck_assert(!a.stamp);
}
END_TEST

START_TEST(test_parse_good)
{
	const struct good_case	*c = &good_cases[_i];
	struct listen_addr	 a;
	const char		*why = NULL;

	ck_assert_msg(listen_parse(c->text, &a, &why) == 0, "%s: %s", c->text,
	    why);
	ck_assert_int_eq(a.kind, c->kind);
	ck_assert_int_eq(a.wildcard, c->wildcard);
	ck_assert_str_eq(a.host, c->host);
	ck_assert_str_eq(a.port, c->port);
	ck_assert_str_eq(a.path, c->path);
	ck_assert_int_eq(a.socktype, c->socktype ? c->socktype : SOCK_STREAM);
}
END_TEST

static const struct bad_case {
	const char	*text;
	const char	*why;
} bad_cases[] = {
	{ "", "expected HOST:PORT" },
	{ "localhost", "expected HOST:PORT" },
	{ ":7", "missing host" },
	{ "127.0.0.1:", "missing port" },
	{ "127.0.0.1:0", "between 1 and 65535" },
	{ "127.0.0.1:70000", "between 1 and 65535" },
	{ "127.0.0.1:123456", "between 1 and 65535" },
	{ "127.0.0.1:7/x", "a number or a service name" },
	{ "::1:7", "needs brackets" },
	{ "fe80::1:7", "needs brackets" },
	{ "[::1", "missing ']'" },
	{ "[::1]7", "expected :PORT" },
	{ "[]:7", "must hold an IPv6 address" },
	{ "[localhost]:7", "must hold an IPv6 address" },
	{ "unix:", "empty Unix socket path" },
	{ "unix:run/x", "must be absolute" },
	{ "udp:unix:/run/x", "UDP listens on Internet addresses only" },
	{ "udp:", "expected HOST:PORT" },
	{ "udp:127.0.0.1:0", "between 1 and 65535" },
	{ "udp:::1:7", "needs brackets" },
	{ "udp:[::1]", "expected :PORT" },
	{ "stamp:unix:/run/x", "STAMP listens on Internet addresses only" },
	{ "stamp:udp:127.0.0.1:862", "STAMP listens on Internet addresses" },
	{ "stamp:", "missing host" },
	{ "stamp:::1", "needs brackets" },
	{ "stamp:127.0.0.1:0", "between 1 and 65535" },
	{ "unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long" },
};

START_TEST(test_parse_bad)
{
	const struct bad_case	*c = &bad_cases[_i];
	struct listen_addr	 a;
	const char		*why = NULL;

	ck_assert_msg(listen_parse(c->text, &a, &why) == -1, "\"%s\" parsed",
	    c->text);
	ck_assert_msg(strstr(why, c->why) != NULL, "\"%s\": \"%s\" lacks \"%s\"",
	    c->text, why, c->why);
}
END_TEST

static void
format_of(const char *text, char *buf, size_t size, size_t *n)
{
	struct listen_sockaddr	*sa;
	struct listen_addr	 a;
	const char		*why;

	ck_assert_int_eq(listen_parse(text, &a, &why), 0);
	ck_assert_msg(listen_resolve(&a, &sa, n, &why) == 0, "%s", why);
	listen_format((struct sockaddr *)&sa[0].ss, sa[0].len, buf, size);
	if (*n > 1) {
		strcat(buf, " ");
		listen_format((struct sockaddr *)&sa[1].ss, sa[1].len,
		    buf + strlen(buf), size - strlen(buf));
	}
	free(sa);
}

START_TEST(test_resolve_and_format)
{
	char	buf[256];
	size_t	n;

	format_of("127.0.0.1:7", buf, sizeof(buf), &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(buf, "127.0.0.1:7");
	format_of("[::1]:7007", buf, sizeof(buf), &n);
	ck_assert_str_eq(buf, "[::1]:7007");
	format_of("*:7", buf, sizeof(buf), &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(buf, "0.0.0.0:7 [::]:7");
	format_of("unix:/run/x.sock", buf, sizeof(buf), &n);
	ck_assert_str_eq(buf, "unix:/run/x.sock");
	format_of("unix:@abstract", buf, sizeof(buf), &n);
	ck_assert_str_eq(buf, "unix:@abstract");
}
END_TEST

/*
 * A name that resolves to one address twice (/etc/hosts lists it twice,
 * and glibc's "multi on" returns both) stands for that address once:
 * binding it twice would fail with EADDRINUSE. In a child, with a hosts
 * file bound over /etc/hosts in a mount namespace of its own.
 */
static int
resolve_duplicate_in_child(const char *hosts)
{
	struct listen_sockaddr	*sa;
	struct listen_addr	 a;
	const char		*why;
	char			 one[64], two[64];
	size_t			 n;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) == -1)
		return 77;
	if (listen_parse("dup.test:7", &a, &why) == -1 ||
	    listen_resolve(&a, &sa, &n, &why) == -1)
		return 10;
	if (n != 2)
		return 1;
	listen_format((struct sockaddr *)&sa[0].ss, sa[0].len, one, sizeof(one));
	listen_format((struct sockaddr *)&sa[1].ss, sa[1].len, two, sizeof(two));
	free(sa);
	return strcmp(one, "127.0.0.1:7") == 0 && strcmp(two, "[::1]:7") == 0 ?
	    0 : 2;
}

START_TEST(test_resolve_duplicates_once)
{
	char	hosts[] = "/tmp/unit_listen.XXXXXX";
	pid_t	pid;
	int	fd, status;
	static const char text[] = "127.0.0.1 dup.test\n127.0.0.1 dup.test\n"
	    "::1 dup.test\n::1 dup.test\n";

	if (geteuid() != 0)
		CHECK_SKIP("not root: cannot bind a hosts file");
	ck_assert_int_ge(fd = mkstemp(hosts), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(hosts, 0644), 0);
	if ((pid = fork()) == 0)
		coverage_exit(resolve_duplicate_in_child(hosts));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(hosts);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		CHECK_SKIP("cannot bind a hosts file in a mount namespace");
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_format_v4_mapped)
{
	struct sockaddr_in6	sin6;
	char			buf[64];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(4242);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);
	listen_format((struct sockaddr *)&sin6, sizeof(sin6), buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.1.2.3:4242");
}
END_TEST

/* A Unix peer's own name, abstract or not, comes out escaped. */
#define PATH(s)		s, sizeof(s) - 1
static const struct {
	const char	*path;		/* as in sun_path */
	size_t		 n;		/* bytes of it in the address */
	const char	*text;
} unix_cases[] = {
	{ PATH("\0name"), "unix:@name" },
	{ PATH("\0evil\nsockechod[1]: error: FORGED"),
	    "unix:@evil\\x0asockechod[1]:\\x20error:\\x20FORGED" },
	{ PATH("\0x listener=unix:/a reason=\"\""),
	    "unix:@x\\x20listener\\x3dunix:/a\\x20reason\\x3d\\x22\\x22" },
	{ PATH("\0a\0b\x1b\\"), "unix:@a\\x00b\\x1b\\x5c" },
	{ PATH("/run/x\r.sock"), "unix:/run/x\\x0d.sock" },
	{ PATH("/run/x.sock\0\0"), "unix:/run/x.sock" },
	{ PATH(""), "unix:(unnamed)" },
};

START_TEST(test_format_unix_escaped)
{
	struct sockaddr_un	sun;
	char			buf[LISTEN_NAME_MAX];

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, unix_cases[_i].path, unix_cases[_i].n);
	listen_format((struct sockaddr *)&sun,
	    offsetof(struct sockaddr_un, sun_path) + unix_cases[_i].n, buf,
	    sizeof(buf));
	ck_assert_str_eq(buf, unix_cases[_i].text);
}
END_TEST

/* The longest abstract name, all of it escaped, fits whole. */
START_TEST(test_format_unix_longest)
{
	struct sockaddr_un	sun;
	char			buf[LISTEN_NAME_MAX];

	memset(&sun, '\n', sizeof(sun));
	sun.sun_family = AF_UNIX;
	sun.sun_path[0] = '\0';
	listen_format((struct sockaddr *)&sun, sizeof(sun), buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), 6 + 4 * (sizeof(sun.sun_path) - 1));
	ck_assert(strchr(buf, '\n') == NULL);
}
END_TEST

static unsigned
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	return ntohs(sin.sin_port);
}

/* "127.0.0.1:PORT" */
static void
addr(const char *host, unsigned port, struct listen_addr *a)
{
	char		 text[128];
	const char	*why;

	snprintf(text, sizeof(text), "%s:%u", host, port);
	ck_assert_msg(listen_parse(text, a, &why) == 0, "%s", why);
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

START_TEST(test_build_reuses_kept_sockets)
{
	struct listen_addr	a[2], b[2];
	struct listeners	first, second;
	unsigned		p1 = free_port(), p2, p3;
	char			err[256];
	int			kept, removed;

	/* free_port() may give the same port twice: the kernel reuses it. */
	do
		p2 = free_port();
	while (p2 == p1);
	do
		p3 = free_port();
	while (p3 == p1 || p3 == p2);
	addr("127.0.0.1", p1, &a[0]);
	addr("127.0.0.1", p2, &a[1]);
	ck_assert_msg(listen_build(&first, NULL, a, 2, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(first.n, 2);
	kept = first.v[0].fd;
	removed = first.v[1].fd;
	/* A reload that keeps p1 and replaces p2 by p3. */
	addr("127.0.0.1", p1, &b[0]);
	addr("127.0.0.1", p3, &b[1]);
	ck_assert_msg(listen_build(&second, &first, b, 2, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(second.v[0].fd, kept);
	ck_assert_int_ne(second.v[1].fd, removed);
	listen_close_unused(&first, &second);
	ck_assert(fd_open(kept));
	ck_assert(!fd_open(removed));
	listen_close_all(&second);
	ck_assert(!fd_open(kept));
}
END_TEST

/* A listening socket's backlog, as TCP_INFO shows it (tcpi_sacked). */
static unsigned
backlog_of(int fd)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_sacked;
}

static unsigned
bound_addr(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohl(sin.sin_addr.s_addr);
}

/* A kept socket takes the new backlog; a new host on the same port is a new socket. */
START_TEST(test_build_reload_backlog_and_host)
{
	struct listen_addr	a[1], b[2];
	struct listeners	first, second;
	unsigned		p, tries;
	char			err[256];
	int			built = -1;

	/*
	 * free_port() knows 127.0.0.1 only: a test running beside this one
	 * may hold the port on 127.0.0.2 (an ephemeral port of a client
	 * bound there), so a port is tried again on EADDRINUSE.
	 */
	for (tries = 0; tries < 20 && built == -1; tries++) {
		p = free_port();
		addr("127.0.0.1", p, &a[0]);
		ck_assert_msg(listen_build(&first, NULL, a, 1, 16, err,
		    sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(backlog_of(first.v[0].fd), 16);
		addr("127.0.0.1", p, &b[0]);
		addr("127.0.0.2", p, &b[1]);
		built = listen_build(&second, &first, b, 2, 100, err,
		    sizeof(err));
		if (built == -1) {
			ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
			listen_close_all(&first);
		}
	}
	ck_assert_msg(built == 0, "%s", err);
	ck_assert_uint_eq(second.n, 2);
	ck_assert_int_eq(second.v[0].fd, first.v[0].fd);
	ck_assert_uint_eq(backlog_of(second.v[0].fd), 100);
	ck_assert_int_ne(second.v[1].fd, first.v[0].fd);
	ck_assert_uint_eq(bound_addr(second.v[1].fd), 0x7f000002);
	ck_assert_uint_eq(backlog_of(second.v[1].fd), 100);
	listen_close_unused(&first, &second);
	listen_close_all(&second);
}
END_TEST

static const struct backlog_case {
	unsigned	configured;
	long		somaxconn;
	int		backlog;
} backlog_cases[] = {
	{ 511, 4096, 511 },		/* set: as set, whatever the sysctl */
	{ 65535, 4096, 65535 },		/* the kernel caps it, not us */
	{ 0, 4096, 4096 },		/* 0: the sysctl */
	{ 0, 1000000, 1000000 },
	{ 0, -1, SOMAXCONN },		/* unreadable */
	{ 0, 0, SOMAXCONN },
	{ 0, 4294967296L, SOMAXCONN },	/* nonsense */
};

START_TEST(test_backlog_default)
{
	const struct backlog_case	*c = &backlog_cases[_i];

	ck_assert_int_eq(listen_backlog(c->configured, c->somaxconn),
	    c->backlog);
}
END_TEST

/* backlog = 0: a socket's queue is as long as net.core.somaxconn. */
START_TEST(test_build_backlog_somaxconn)
{
	struct listen_addr	a[1];
	struct listeners	ls;
	long			max = listen_somaxconn();
	char			err[256];

	if (max <= 0)
		CHECK_SKIP("no /proc/sys/net/core/somaxconn");
	addr("127.0.0.1", free_port(), &a[0]);
	ck_assert_msg(listen_build(&ls, NULL, a, 1, 0, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(backlog_of(ls.v[0].fd), (unsigned)max);
	listen_close_all(&ls);
}
END_TEST

START_TEST(test_build_failure_leaves_nothing_open)
{
	struct listen_addr	a[2];
	struct listeners	ls, busy;
	unsigned		p1 = free_port(), p2;
	char			err[256];
	int			before, probe;

	do
		p2 = free_port();
	while (p2 == p1);
	addr("127.0.0.1", p2, &a[0]);
	ck_assert_int_eq(listen_build(&busy, NULL, a, 1, 16, err,
	    sizeof(err)), 0);
	/* p1 is free, p2 is taken: nothing of the attempt may stay open. */
	addr("127.0.0.1", p1, &a[0]);
	addr("127.0.0.1", p2, &a[1]);
	before = dup(0);
	close(before);
	ck_assert_int_eq(listen_build(&ls, NULL, a, 2, 16, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1:") != NULL &&
	    strstr(err, "Address already in use") != NULL, "%s", err);
	probe = dup(0);
	ck_assert_int_eq(probe, before);
	close(probe);
	listen_close_all(&busy);
}
END_TEST

START_TEST(test_unix_sockets)
{
	struct listen_addr	a;
	struct listeners	ls, again;
	struct stat		st;
	char			dir[] = "/tmp/unit_listen.XXXXXX", path[128];
	char			text[160], err[256];
	const char		*why;
	int			fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/echo.sock", dir);
	snprintf(text, sizeof(text), "unix:%s", path);
	ck_assert_int_eq(listen_parse(text, &a, &why), 0);
	ck_assert_int_eq(listen_build(&ls, NULL, &a, 1, 16, err, sizeof(err)),
	    0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0666);
	/* A live listener keeps its path... */
	ck_assert_int_eq(listen_build(&again, NULL, &a, 1, 16, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "another process listens on it") != NULL,
	    "%s", err);
	/* ...a stale one is replaced. */
	fd = ls.v[0].fd;
	ls.v[0].unlink_on_close = false;
	listen_close_all(&ls);
	ck_assert(!fd_open(fd));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(listen_build(&ls, NULL, &a, 1, 16, err, sizeof(err)),
	    0);
	listen_close_all(&ls);
	ck_assert_int_eq(stat(path, &st), -1);
	/* Not a socket: refused, untouched. */
	close(open(path, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(listen_build(&ls, NULL, &a, 1, 16, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "exists and is not a socket") != NULL, "%s",
	    err);
	ck_assert_int_eq(stat(path, &st), 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* unix:@NAME is an abstract socket: no file anywhere, a NUL-led name. */
START_TEST(test_abstract_socket)
{
	struct sockaddr_un	sun;
	struct listen_addr	a;
	struct listeners	ls;
	socklen_t		len = sizeof(sun);
	char			text[96], name[64], err[256];
	const char		*why;

	snprintf(name, sizeof(name), "@unit_listen.%ld", (long)getpid());
	snprintf(text, sizeof(text), "unix:%s", name);
	ck_assert_int_eq(listen_parse(text, &a, &why), 0);
	ck_assert_msg(listen_build(&ls, NULL, &a, 1, 16, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(getsockname(ls.v[0].fd, (struct sockaddr *)&sun,
	    &len), 0);
	ck_assert_int_eq(sun.sun_path[0], '\0');
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	ck_assert_mem_eq(sun.sun_path + 1, name + 1, strlen(name) - 1);
	ck_assert_int_eq(access(name, F_OK), -1);
	listen_close_all(&ls);
}
END_TEST

/* An IPv6 listener moved to another port is a new socket. */
START_TEST(test_build_ipv6_port_change)
{
	struct listen_addr	a, b;
	struct listeners	first, second;
	char			text[64], err[256];
	const char		*why;
	int			fd = socket(AF_INET6, SOCK_STREAM, 0);
	unsigned		p1, p2;

	if (fd == -1)
		CHECK_SKIP("no IPv6 here");
	close(fd);
	p1 = free_port();
	do
		p2 = free_port();
	while (p2 == p1);
	snprintf(text, sizeof(text), "[::1]:%u", p1);
	ck_assert_int_eq(listen_parse(text, &a, &why), 0);
	if (listen_build(&first, NULL, &a, 1, 16, err, sizeof(err)) == -1)
		CHECK_SKIP("no IPv6 on loopback: %s", err);
	snprintf(text, sizeof(text), "[::1]:%u", p2);
	ck_assert_int_eq(listen_parse(text, &b, &why), 0);
	ck_assert_msg(listen_build(&second, &first, &b, 1, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_ne(second.v[0].fd, first.v[0].fd);
	listen_close_unused(&first, &second);
	listen_close_all(&second);
}
END_TEST

static bool
nodelay(int fd)
{
	int		on = 0;
	socklen_t	len = sizeof(on);

	return getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 &&
	    on != 0;
}

/*
 * A TCP listener has TCP_NODELAY, and so has every connection it accepts:
 * the worker sets nothing on them.
 */
START_TEST(test_build_tcp_nodelay)
{
	struct listen_addr	a[1];
	struct listeners	ls;
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			err[256];
	int			c, s;

	addr("127.0.0.1", free_port(), &a[0]);
	ck_assert_msg(listen_build(&ls, NULL, a, 1, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert(nodelay(ls.v[0].fd));
	getsockname(ls.v[0].fd, (struct sockaddr *)&sin, &len);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_ge(s = accept(ls.v[0].fd, NULL, NULL), 0);
	ck_assert(nodelay(s));
	close(s);
	close(c);
	listen_close_all(&ls);
}
END_TEST

/*
 * Socket activation puts the sockets at fd 3 and up, where Check keeps its
 * own descriptors, so each case runs in a child of its own. It exits 0 when
 * listen_adopt() answered "expect" adopted sockets and the error text
 * contains "why".
 */
static int
adopt_in_child(int fd3, const char *listen_pid, int expect, const char *why,
    int socktype)
{
	struct listeners	ls;
	char			err[256] = "";
	pid_t			pid;
	int			status, n;

	if ((pid = fork()) == 0) {
		char pidbuf[32];

		if (dup2(fd3, 3) != 3)
			coverage_exit(10);
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", listen_pid ? listen_pid : pidbuf, 1);
		setenv("LISTEN_FDNAMES", "echo", 1);
		n = listen_adopt(&ls, NULL, err, sizeof(err));
		if (n != expect)
			coverage_exit(11);
		if (why != NULL && strstr(err, why) == NULL)
			coverage_exit(12);
		if (n == 1 && (ls.v[0].fd != 3 || !ls.v[0].activated ||
		    !(fcntl(3, F_GETFL) & O_NONBLOCK)))
			coverage_exit(13);
		if (getenv("LISTEN_FDS") != NULL || getenv("LISTEN_PID") != NULL)
			coverage_exit(14);
		if (n == 1 && socktype == SOCK_STREAM && !nodelay(3))
			coverage_exit(16);
		if (n == 1 && (ls.v[0].socktype != socktype ||
		    (socktype == SOCK_DGRAM) != (strncmp(ls.v[0].name, "udp:",
		    4) == 0)))
			coverage_exit(15);
		coverage_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

START_TEST(test_adopt)
{
	struct sockaddr_in	sin;
	int			fd, other;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(free_port());
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(adopt_in_child(fd, NULL, 1, NULL, SOCK_STREAM), 0);
	/* A socket that does not listen is refused, with a reason. */
	other = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(adopt_in_child(other, NULL, -1,
	    "neither a listening stream socket nor", SOCK_STREAM), 0);
	/* Variables meant for another process are not ours. */
	ck_assert_int_eq(adopt_in_child(fd, "1", 0, NULL, SOCK_STREAM), 0);
	close(other);
	close(fd);
}
END_TEST

/*
 * A datagram socket named "stamp" (or "stamp-...") is a STAMP reflector's:
 * marked, named "stamp:", and it gives kernel receive times and TTLs.
 * The child exits 0 when it is, as "want" says.
 */
static int
adopt_stamp_in_child(int fd3, const char *name, bool want)
{
	struct listeners	ls;
	char			err[256] = "", pidbuf[32];
	pid_t			pid;
	int			status, v = 0;
	socklen_t		vlen = sizeof(v);

	if ((pid = fork()) == 0) {
		if (dup2(fd3, 3) != 3)
			_exit(10);
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", pidbuf, 1);
		setenv("LISTEN_FDNAMES", name, 1);
		if (listen_adopt(&ls, NULL, err, sizeof(err)) != 1)
			_exit(11);
		if (ls.v[0].stamp != want || (strncmp(ls.v[0].name, "stamp:",
		    6) == 0) != want)
			_exit(12);
		if (getsockopt(3, SOL_SOCKET, SO_TIMESTAMPNS, &v, &vlen) == -1 ||
		    (v != 0) != want)
			_exit(13);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

START_TEST(test_adopt_stamp)
{
	int	fd;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(adopt_stamp_in_child(fd, "stamp", true), 0);
	ck_assert_int_eq(adopt_stamp_in_child(fd, "stamp-v4", true), 0);
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(adopt_stamp_in_child(fd, "echo", false), 0);
	ck_assert_int_eq(adopt_stamp_in_child(fd, "stampede", false), 0);
	close(fd);
}
END_TEST

/* ListenDatagram=: an Internet datagram socket is a UDP listener. */
START_TEST(test_adopt_datagram)
{
	int	fd, un;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(adopt_in_child(fd, NULL, 1, NULL, SOCK_DGRAM), 0);
	close(fd);
	/* A Unix datagram socket is not an echo service. */
	un = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(adopt_in_child(un, NULL, -1, "nor an Internet "
	    "datagram socket", SOCK_DGRAM), 0);
	close(un);
}
END_TEST

/*
 * Sockets passed with names (LISTEN_FDNAMES): in a child, the fds "fds" at
 * 3, 4, ... with "names", "listen_fds" as LISTEN_FDS. Exits 0 when
 * listen_adopt() returned "expect", put "nmetrics" sockets into metrics,
 * and its error contains "why" (when not NULL).
 */
struct named_case {
	const char	*names;
	const char	*listen_fds;
	int		 types[3];	/* 0 ends */
	int		 expect;
	size_t		 nmetrics;
	const char	*why;
};

static const struct named_case named_cases[] = {
	{ "echo:metrics", "2", { SOCK_STREAM, SOCK_STREAM }, 1, 1, NULL },
	{ "metrics", "1", { SOCK_STREAM }, 0, 1, NULL },
	{ "echo:echo", "2", { SOCK_STREAM, SOCK_DGRAM }, 2, 0, NULL },
	{ "metrics:metrics", "2", { SOCK_STREAM, SOCK_STREAM }, -1, 0,
	    "more than one socket named \"metrics\"" },
	{ "metrics", "1", { SOCK_DGRAM }, -1, 0,
	    "passed as \"metrics\" is not a listening stream socket" },
	{ "echo", "many", { SOCK_STREAM }, -1, 0,
	    "cannot read the sockets passed by systemd" },
};

static int
listening(int type)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	int			fd = socket(AF_INET, type, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 4) == -1))
		return -1;
	return fd;
}

static int
adopt_named_in_child(const struct named_case *c)
{
	struct listeners	ls, metrics = { NULL, 0 };
	char			err[256] = "", pidbuf[32];
	int			i, fd, n, status;
	pid_t			pid;

	if ((pid = fork()) == 0) {
		for (i = 0; c->types[i] != 0; i++)
			if ((fd = listening(c->types[i])) == -1 ||
			    dup2(fd, 3 + i) != 3 + i)
				coverage_exit(10);
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		setenv("LISTEN_FDS", c->listen_fds, 1);
		setenv("LISTEN_PID", pidbuf, 1);
		setenv("LISTEN_FDNAMES", c->names, 1);
		n = listen_adopt(&ls, &metrics, err, sizeof(err));
		if (n != c->expect || metrics.n != c->nmetrics)
			coverage_exit(11);
		if (c->why != NULL && strstr(err, c->why) == NULL)
			coverage_exit(12);
		if (n <= 0 && ls.v != NULL)
			coverage_exit(13);
		if (c->nmetrics == 1 && (metrics.v[0].socktype != SOCK_STREAM ||
		    !metrics.v[0].activated))
			coverage_exit(14);
		if (n == -1 && metrics.v != NULL)
			coverage_exit(15);
		coverage_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* FileDescriptorName=metrics: the endpoint, once, a stream socket. */
START_TEST(test_adopt_named)
{
	ck_assert_int_eq(adopt_named_in_child(&named_cases[_i]), 0);
}
END_TEST

/* TCP and UDP on one port are two listeners; a reload keeps each. */
START_TEST(test_build_udp_beside_tcp)
{
	struct listen_addr	a[2];
	struct listeners	first, second;
	unsigned		port = free_port();
	char			text[64], err[256];
	const char		*why;
	int			type, len = sizeof(type);

	addr("127.0.0.1", port, &a[0]);
	snprintf(text, sizeof(text), "udp:127.0.0.1:%u", port);
	ck_assert_int_eq(listen_parse(text, &a[1], &why), 0);
	ck_assert_msg(listen_build(&first, NULL, a, 2, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(first.n, 2);
	ck_assert_int_eq(first.v[1].socktype, SOCK_DGRAM);
	ck_assert_str_eq(first.v[1].name, text);
	ck_assert_int_eq(getsockopt(first.v[1].fd, SOL_SOCKET, SO_TYPE, &type,
	    (socklen_t *)&len), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	ck_assert_msg(listen_build(&second, &first, a + 1, 1, 16, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(second.v[0].fd, first.v[1].fd);
	listen_close_unused(&first, &second);
	listen_close_all(&second);
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("listen");
	TCase	*tc = tcase_create("listen");

	tcase_add_loop_test(tc, test_parse_good, 0,
	    nitems(good_cases));
	tcase_add_loop_test(tc, test_parse_stamp, 0,
	    sizeof(stamp_cases) / sizeof(stamp_cases[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    nitems(bad_cases));
	tcase_add_test(tc, test_resolve_and_format);
	tcase_add_test(tc, test_resolve_duplicates_once);
	tcase_add_test(tc, test_format_v4_mapped);
	tcase_add_loop_test(tc, test_format_unix_escaped, 0,
	    nitems(unix_cases));
	tcase_add_test(tc, test_format_unix_longest);
	tcase_add_test(tc, test_build_reuses_kept_sockets);
	tcase_add_test(tc, test_build_reload_backlog_and_host);
	tcase_add_loop_test(tc, test_backlog_default, 0,
	    (int)nitems(backlog_cases));
	tcase_add_test(tc, test_build_backlog_somaxconn);
	tcase_add_test(tc, test_build_tcp_nodelay);
	tcase_add_test(tc, test_build_ipv6_port_change);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_build_failure_leaves_nothing_open);
	tcase_add_test(tc, test_unix_sockets);
	tcase_add_test(tc, test_adopt);
	tcase_add_test(tc, test_adopt_datagram);
	tcase_add_loop_test(tc, test_adopt_named, 0, nitems(named_cases));
	tcase_add_test(tc, test_adopt_stamp);
	tcase_add_test(tc, test_build_udp_beside_tcp);
	suite_add_tcase(s, tc);
	return s;
}
