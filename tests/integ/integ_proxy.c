/* SPDX-License-Identifier: ISC */
/*
 * integ_proxy.c: the PROXY protocol against the real daemon over
 * 127.0.0.x: v1 and v2 headers (TCP4, TCP6, TLVs, LOCAL, UNKNOWN), the
 * header split or followed by data, a slow, malformed or oversized one,
 * an untrusted sender, allow/deny and the per-client limit on the
 * address the header carries, reload, and the configuration errors.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness/check_main.h"
#include "integ/integ.h"

#define IO_MS		5000
#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define V2_SIG_BYTES	12

/* One PROXY listener; trusted: loopback's first address only. */
#define PROXY_CONFIG							\
	"listen = ( { address = \"127.0.0.1:%%P\"; proxy_protocol = true; } );\n" \
	"workers = 1;\nlog_connections = true;\nallow = [];\n"		\
	"proxy_trusted = [ \"127.0.0.1\" ];\n%s"

static void
start_proxy(const char *extra)
{
	char	body[2048];

	snprintf(body, sizeof(body), PROXY_CONFIG, extra);
	start(body);
}

/* A connection from "src" (a 127.0.0.x), Nagle off: each send a segment. */
static int
connect_from(const char *src)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons(d.port);
	ck_assert_int_eq(inet_pton(AF_INET, d.host, &sin.sin_addr), 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static unsigned
local_port(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* Send the header and "payload" in one segment; the echo is the payload only. */
static void
expect_echo(int fd, const void *hdr, size_t hlen, const char *payload)
{
	char	buf[1200], in[64];
	size_t	n = strlen(payload);

	ck_assert_uint_le(hlen + n, sizeof(buf));
	memcpy(buf, hdr, hlen);
	memcpy(buf + hlen, payload, n);
	ck_assert_int_eq(h_send_all(fd, buf, hlen + n, IO_MS), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_n(fd, in, n, IO_MS), (ssize_t)n);
	ck_assert(memcmp(in, payload, n) == 0);
	ck_assert_int_eq(h_recv_eof(fd, IO_MS), 0);
}

/* The connection ends with a reset (not a FIN): the errno of the next read. */
static int
read_error(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;
	ssize_t		r;

	ck_assert_int_eq(poll(&pfd, 1, IO_MS), 1);
	r = recv(fd, &c, 1, MSG_DONTWAIT);
	return r == -1 ? errno : 0;
}

/* "connection peer=PEER listener=... reason=REASON" is in the log. */
static void
expect_conn(const char *peer, const char *reason)
{
	char	needle[256];

	snprintf(needle, sizeof(needle), "connection peer=%s listener=%s:%u "
	    "reason=%s", peer, d.host, d.port, reason);
	expect_log(needle, IO_MS);
}

/* The SIGUSR1 line of PROXY counters says exactly this. */
static void
expect_counts(unsigned ok, unsigned bad, unsigned timeout, unsigned untrusted)
{
	char	needle[256];

	snprintf(needle, sizeof(needle), "status: proxy: %u PROXY headers "
	    "read, %u bad, %u timed out, %u from untrusted peers refused", ok,
	    bad, timeout, untrusted);
	kill(d.pid, SIGUSR1);
	expect_log(needle, IO_MS);
}

START_TEST(test_v1_tcp4_and_tcp6)
{
	static const char	h4[] = "PROXY TCP4 192.0.2.1 192.0.2.2 4321 7\r\n";
	static const char	h6[] = "PROXY TCP6 2001:db8::1 2001:db8::2 4322 7\r\n";
	int			fd;

	start_proxy("");
	fd = connect_from("127.0.0.1");
	expect_echo(fd, h4, sizeof(h4) - 1, "hello, v1");
	close(fd);
	expect_conn("192.0.2.1:4321", "client-closed bytes_in=9 bytes_out=9");
	fd = connect_from("127.0.0.1");
	expect_echo(fd, h6, sizeof(h6) - 1, "six");
	close(fd);
	expect_conn("[2001:db8::1]:4322", "client-closed bytes_in=3");
	expect_counts(2, 0, 0, 0);
	expect_notify("PROXY: 2 headers, 0 bad, 0 timed out, 0 untrusted",
	    10000, NULL, 0);
}
END_TEST

/* A v2 header: signature, version/command, family, length, addresses, TLVs. */
static size_t
v2_header(unsigned char *buf, int command, int family, const char *src,
    const char *dst, unsigned sport, unsigned dport, bool tlvs)
{
	/* ALPN "h2", then a NOOP of 3 bytes: both skipped. */
	static const unsigned char tlv[] = { 0x01, 0x00, 0x02, 'h', '2',
	    0x04, 0x00, 0x03, 0, 0, 0 };
	size_t	alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	size_t	len = 0, body;

	memcpy(buf, V2_SIG, V2_SIG_BYTES);
	buf[12] = (unsigned char)(0x20 | command);
	buf[13] = family == AF_INET ? 0x11 : family == AF_INET6 ? 0x21 : 0x00;
	len = 16;
	if (alen > 0) {
		ck_assert_int_eq(inet_pton(family, src, buf + len), 1);
		ck_assert_int_eq(inet_pton(family, dst, buf + len + alen), 1);
		len += 2 * alen;
		buf[len++] = (unsigned char)(sport >> 8);
		buf[len++] = (unsigned char)sport;
		buf[len++] = (unsigned char)(dport >> 8);
		buf[len++] = (unsigned char)dport;
	}
	if (tlvs) {
		memcpy(buf + len, tlv, sizeof(tlv));
		len += sizeof(tlv);
	}
	body = len - 16;
	buf[14] = (unsigned char)(body >> 8);
	buf[15] = (unsigned char)body;
	return len;
}

START_TEST(test_v2_with_tlvs_and_local)
{
	unsigned char	hdr[128];
	char		peer[64];
	size_t		n;
	int		fd;

	start_proxy("");
	n = v2_header(hdr, 1, AF_INET, "198.51.100.7", "198.51.100.8", 5555, 7,
	    true);
	fd = connect_from("127.0.0.1");
	expect_echo(fd, hdr, n, "binary four");
	close(fd);
	expect_conn("198.51.100.7:5555", "client-closed bytes_in=11");
	n = v2_header(hdr, 1, AF_INET6, "2001:db8:7::9", "2001:db8:7::1", 6666,
	    7, true);
	fd = connect_from("127.0.0.1");
	expect_echo(fd, hdr, n, "binary six");
	close(fd);
	expect_conn("[2001:db8:7::9]:6666", "client-closed bytes_in=10");
	/* LOCAL (a health check): the connection's own peer. */
	n = v2_header(hdr, 0, AF_UNSPEC, NULL, NULL, 0, 0, false);
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	expect_echo(fd, hdr, n, "check");
	close(fd);
	expect_conn(peer, "client-closed bytes_in=5");
	expect_counts(3, 0, 0, 0);
}
END_TEST

START_TEST(test_v1_unknown_is_the_peer)
{
	static const char	hdr[] = "PROXY UNKNOWN\r\n";
	char			peer[64];
	int			fd;

	start_proxy("");
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	expect_echo(fd, hdr, sizeof(hdr) - 1, "ping");
	close(fd);
	expect_conn(peer, "client-closed bytes_in=4");
}
END_TEST

/*
 * Byte after byte (Nagle off, one segment each, paced a millisecond
 * apart so that the worker sees the prefixes): the echo is the payload.
 */
START_TEST(test_header_split_byte_by_byte)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.9 192.0.2.2 1111 7\r\n";
	char			in[8];
	size_t			i;
	int			fd;

	start_proxy("");
	fd = connect_from("127.0.0.1");
	for (i = 0; i < sizeof(hdr) - 1; i++) {
		ck_assert_int_eq(h_send_all(fd, hdr + i, 1, IO_MS), 0);
		(void)poll(NULL, 0, 1);
	}
	ck_assert_int_eq(h_echo(fd, "split", 5, in, IO_MS), 0);
	ck_assert(memcmp(in, "split", 5) == 0);
	close(fd);
	expect_conn("192.0.2.9:1111", "client-closed bytes_in=5");
	expect_counts(1, 0, 0, 0);
}
END_TEST

/* A header still unfinished at proxy_header_timeout_ms: reset then, counted. */
START_TEST(test_slow_header_times_out)
{
	static const char	part[] = "PROXY TCP4 192.0.2.1 ";
	uint64_t		t0;
	char			peer[64];
	int			fd;

	start_proxy("proxy_header_timeout_ms = 400;\n");
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	t0 = sig_monotonic_ms();
	ck_assert_int_eq(h_send_all(fd, part, sizeof(part) - 1, IO_MS), 0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	ck_assert_uint_ge(sig_monotonic_ms() - t0, 390);
	close(fd);
	expect_conn(peer, "proxy-header-timeout");
	expect_counts(0, 0, 1, 0);
}
END_TEST

static void
expect_bad(const void *buf, size_t len)
{
	char	peer[64];
	int	fd = connect_from("127.0.0.1");

	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	ck_assert_int_eq(h_send_all(fd, buf, len, IO_MS), 0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn(peer, "proxy-header-bad");
}

/* Malformed, oversized (v1 and v2), cut short: reset, never echoed. */
START_TEST(test_bad_headers)
{
	unsigned char	big[300];
	int		fd;

	start_proxy("");
	expect_bad("GET / HTTP/1.0\r\n\r\n", 18);
	expect_bad("PROXY TCP4 192.0.2.1 192.0.2.2 99999 7\r\n", 40);
	memset(big, 'x', sizeof(big));
	memcpy(big, "PROXY TCP4 ", 11);
	expect_bad(big, sizeof(big));
	(void)v2_header(big, 1, AF_INET, "192.0.2.1", "192.0.2.2", 1, 7, false);
	big[14] = 0x10;		/* 4096 bytes of addresses and TLVs */
	big[15] = 0x00;
	expect_bad(big, 16);
	/* Cut short by the client's close. */
	fd = connect_from("127.0.0.1");
	ck_assert_int_eq(h_send_all(fd, "PROXY TCP4 1", 12, IO_MS), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(h_recv_eof(fd, IO_MS), 0);
	close(fd);
	expect_log("detail=\"closed within the PROXY header\"", IO_MS);
	expect_counts(0, 5, 0, 0);
}
END_TEST

/* Only proxy_trusted may connect: 127.0.0.2 is reset before any byte. */
START_TEST(test_untrusted_sender_reset)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.1 192.0.2.2 4321 7\r\n";
	char			peer[64];
	int			fd;

	start_proxy("");
	fd = connect_from("127.0.0.2");
	snprintf(peer, sizeof(peer), "127.0.0.2:%u", local_port(fd));
	/* Nothing sent: a send after the reset would take its error. */
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn(peer, "refused-proxy-untrusted");
	/* Nor with a header: the listener is for the trusted, whatever they send. */
	fd = connect_from("127.0.0.2");
	(void)send(fd, hdr, sizeof(hdr) - 1, MSG_NOSIGNAL);
	ck_assert_int_eq(h_recv_eof(fd, IO_MS), 0);
	close(fd);
	ck_assert_int_eq(h_log_wait_count(&d, "reason=refused-proxy-untrusted",
	    2, IO_MS), 0);
	ck_assert(h_log_has(&d, "127.0.0.2:"));
	ck_assert(h_log_has(&d, "connection refused: not in proxy_trusted"));
	ck_assert_int_eq(h_log_count(&d, "connection peer=192.0.2.1"), 0);
	expect_counts(0, 0, 0, 2);
}
END_TEST

/*
 * allow names only the client network: the trusted balancer's health
 * check (v2 LOCAL) from its own address, which allow does not list, is
 * admitted and echoed all the same; its clients are admitted by their
 * own address; a client it passes on without one (v1 UNKNOWN, v2 PROXY
 * UNSPEC) is admitted as the balancer, which allow refuses.
 */
START_TEST(test_local_admitted_outside_allow)
{
	static const char	unknown[] = "PROXY UNKNOWN\r\n";
	static const char	outside[] = "PROXY TCP4 203.0.113.9 192.0.2.2 9 7\r\n";
	unsigned char		hdr[128];
	char			peer[64];
	size_t			n;
	int			fd;

	start("listen = ( { address = \"127.0.0.1:%P\"; "
	    "proxy_protocol = true; } );\nworkers = 1;\n"
	    "log_connections = true;\nallow = [ \"198.51.100.0/24\" ];\n"
	    "proxy_trusted = [ \"127.0.0.1\" ];\n");
	n = v2_header(hdr, 0, AF_UNSPEC, NULL, NULL, 0, 0, false);
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	expect_echo(fd, hdr, n, "health");
	close(fd);
	expect_conn(peer, "client-closed bytes_in=6");
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	ck_assert_int_eq(h_send_all(fd, unknown, sizeof(unknown) - 1, IO_MS),
	    0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn(peer, "refused-denied");
	n = v2_header(hdr, 1, AF_UNSPEC, NULL, NULL, 0, 0, false);
	fd = connect_from("127.0.0.1");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", local_port(fd));
	ck_assert_int_eq(h_send_all(fd, hdr, n, IO_MS), 0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn(peer, "refused-denied");
	n = v2_header(hdr, 1, AF_INET, "198.51.100.7", "198.51.100.8", 5555, 7,
	    true);
	fd = connect_from("127.0.0.1");
	expect_echo(fd, hdr, n, "client");
	close(fd);
	expect_conn("198.51.100.7:5555", "client-closed bytes_in=6");
	fd = connect_from("127.0.0.1");
	ck_assert_int_eq(h_send_all(fd, outside, sizeof(outside) - 1, IO_MS),
	    0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn("203.0.113.9:9", "refused-denied");
	expect_counts(5, 0, 0, 0);
}
END_TEST

/* deny and max_connections_per_client see the header's address. */
START_TEST(test_admission_uses_the_header_address)
{
	static const char	denied[] = "PROXY TCP4 192.0.2.66 192.0.2.2 1 7\r\n";
	static const char	one[] = "PROXY TCP4 192.0.2.5 192.0.2.2 2 7\r\n";
	static const char	two[] = "PROXY TCP4 192.0.2.5 192.0.2.2 3 7\r\n";
	static const char	other[] = "PROXY TCP4 192.0.2.6 192.0.2.2 4 7\r\n";
	char			in[8];
	int			fd, first;

	start_proxy("deny = [ \"192.0.2.66\" ];\n"
	    "max_connections_per_client = 1;\n");
	fd = connect_from("127.0.0.1");
	ck_assert_int_eq(h_send_all(fd, denied, sizeof(denied) - 1, IO_MS), 0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn("192.0.2.66:1", "refused-denied");
	/* 192.0.2.5 holds one connection: its second is refused, 192.0.2.6 not. */
	first = connect_from("127.0.0.1");
	ck_assert_int_eq(h_send_all(first, one, sizeof(one) - 1, IO_MS), 0);
	ck_assert_int_eq(h_echo(first, "held", 4, in, IO_MS), 0);
	fd = connect_from("127.0.0.1");
	ck_assert_int_eq(h_send_all(fd, two, sizeof(two) - 1, IO_MS), 0);
	ck_assert_int_eq(read_error(fd), ECONNRESET);
	close(fd);
	expect_conn("192.0.2.5:3", "refused-per-client-limit");
	fd = connect_from("127.0.0.1");
	expect_echo(fd, other, sizeof(other) - 1, "other");
	close(fd);
	expect_conn("192.0.2.6:4", "client-closed");
	close(first);
	expect_conn("192.0.2.5:2", "client-closed");
	expect_counts(4, 0, 0, 0);
}
END_TEST

/* A reload turns the PROXY protocol off: new connections echo directly. */
START_TEST(test_reload_turns_it_off)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.1 192.0.2.2 4321 7\r\n";
	char			in[8];
	int			fd;

	start_proxy("");
	fd = connect_from("127.0.0.1");
	expect_echo(fd, hdr, sizeof(hdr) - 1, "on");
	close(fd);
	ck_assert_int_eq(h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = 1;\nlog_connections = true;\n"), 0);
	h_notify_drain(&d);
	kill(d.pid, SIGHUP);
	expect_notify("READY=1", 10000, NULL, 0);
	expect_log("configuration reloaded", IO_MS);
	/* The old worker, which still reads headers, has drained and gone. */
	ck_assert_int_eq(h_wait_children(d.pid, 1, 10000), 0);
	fd = connect_from("127.0.0.1");
	ck_assert_int_eq(h_echo(fd, "PROXY", 5, in, IO_MS), 0);
	ck_assert(memcmp(in, "PROXY", 5) == 0);
	close(fd);
}
END_TEST

static const struct bad_config {
	const char	*text;
	const char	*where;		/* ":LINE: " */
	const char	*needle;
} bad_configs[] = {
	{ "listen = ( \"127.0.0.1:7\",\n  { address = \"127.0.0.1:8\";\n"
	    "    proxy_protocol = true; } );\n", ":3: ",
	    "proxy_protocol is on for 127.0.0.1:8, but proxy_trusted is empty" },
	{ "proxy_trusted = [ \"127.0.0.1\" ];\nlisten = (\n"
	    "  { address = \"127.0.0.1:8\"; proxy = true; } );\n", ":3: ",
	    "listen: unknown setting \"proxy\" in a listener" },
	{ "proxy_trusted = [ \"127.0.0.1\" ];\nlisten = (\n"
	    "  { address = \"udp:127.0.0.1:8\"; proxy_protocol = true; } );\n",
	    ":3: ", "listen: proxy_protocol does not apply to UDP" },
};

/* sockechod -t: exit 78 (EX_CONFIG) and the file:line of the mistake. */
START_TEST(test_config_errors)
{
	const struct bad_config	*c = &bad_configs[_i];
	const char		*argv[] = { d.binary, "-t", "-c", d.conf, NULL };
	char			 out[512], err[2048], where[512];
	size_t			 outlen;

	ck_assert_int_eq(h_write_config(&d, "%s", c->text), 0);
	ck_assert_int_eq(h_run(argv, NULL, 0, out, sizeof(out), &outlen, err,
	    sizeof(err), 20000), 78);
	snprintf(where, sizeof(where), "%s%s", d.conf, c->where);
	ck_assert_msg(strstr(err, where) != NULL, "%s lacks %s", err, where);
	ck_assert_msg(strstr(err, c->needle) != NULL, "%s lacks %s", err,
	    c->needle);
}
END_TEST

/* A Unix socket's peer may send a header: the file's mode guards it. */
START_TEST(test_unix_listener)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.44 192.0.2.2 4444 7\r\n";
	char			body[1024], path[256], needle[512];
	int			fd;

	snprintf(path, sizeof(path), "%s/proxy.sock", d.dir);
	snprintf(body, sizeof(body), "listen = ( \"127.0.0.1:%%P\",\n"
	    "  { address = \"unix:%s\"; proxy_protocol = true; } );\n"
	    "workers = 1;\nlog_connections = true;\nallow = [];\n"
	    "proxy_trusted = [ \"192.0.2.0/24\" ];\n", path);
	start(body);
	fd = h_connect_unix(path, IO_MS);
	ck_assert_int_ge(fd, 0);
	expect_echo(fd, hdr, sizeof(hdr) - 1, "via unix");
	close(fd);
	snprintf(needle, sizeof(needle), "connection peer=192.0.2.44:4444 "
	    "listener=unix:%s reason=client-closed bytes_in=8", path);
	expect_log(needle, IO_MS);
	/* The TCP listener beside it is not a PROXY listener. */
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "PROXY direct"), 0);
}
END_TEST

/*
 * As "nobody": a PROXY header with "payload" to the Unix socket "name"
 * (unix:@x for an abstract one). 0: refused, no echo; else why not.
 */
static int
forge_as_nobody(const struct passwd *pw, const char *name)
{
	static const char	hdr[] = "PROXY TCP4 10.6.6.6 192.0.2.2 666 7\r\n"
	    "forged";
	struct sockaddr_un	sun;
	struct pollfd		pfd;
	socklen_t		len;
	char			c;
	int			fd;

	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return 10;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
	len = sizeof(sun);
	if (name[0] == '@') {
		sun.sun_path[0] = '\0';
		len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, len) == -1)
		return 11;
	if (send(fd, hdr, sizeof(hdr) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(hdr) - 1)
		return 0;	/* reset already */
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	if (poll(&pfd, 1, IO_MS) != 1)
		return 12;
	return recv(fd, &c, 1, 0) > 0 ? 13 : 0;
}

/*
 * On a Unix PROXY listener, a path one (a 0666 file) and an abstract one
 * (no file at all), a local user other than root, the daemon's user or
 * group cannot name a client: "nobody" sending PROXY TCP4 10.6.6.6 is
 * reset, and no connection of 10.6.6.6 is logged; root is served.
 */
START_TEST(test_unix_peer_credentials)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.45 192.0.2.2 4545 7\r\n";
	char			body[1024], path[256], abstract[64];
	const char		*names[2] = { path, abstract };
	struct passwd		*pw;
	pid_t			pid;
	int			fd, status, i;

	if (geteuid() != 0)
		CHECK_SKIP("not root: no other user to connect as");
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	ck_assert_int_eq(chmod(d.dir, 0711), 0);
	snprintf(path, sizeof(path), "%s/proxy.sock", d.dir);
	snprintf(abstract, sizeof(abstract), "@sockechod-proxy-%ld",
	    (long)getpid());
	snprintf(body, sizeof(body), "listen = ( \"127.0.0.1:%%P\",\n"
	    "  { address = \"unix:%s\"; proxy_protocol = true; },\n"
	    "  { address = \"unix:%s\"; proxy_protocol = true; } );\n"
	    "workers = 1;\nlog_connections = true;\nallow = [];\n"
	    "proxy_trusted = [ \"192.0.2.0/24\" ];\n", path, abstract);
	start(body);
	for (i = 0; i < 2; i++) {
		if ((pid = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(forge_as_nobody(pw, names[i]));
		}
		ck_assert_int_gt(pid, 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: status %#x", names[i], status);
	}
	expect_log("connection refused: not in proxy_trusted", IO_MS);
	ck_assert_int_eq(h_log_count(&d, "peer=10.6.6.6"), 0);
	fd = h_connect_unix(path, IO_MS);
	ck_assert_int_ge(fd, 0);
	expect_echo(fd, hdr, sizeof(hdr) - 1, "as root");
	close(fd);
	expect_log("connection peer=192.0.2.45:4545 listener=unix:", IO_MS);
	expect_counts(1, 0, 0, 2);
}
END_TEST

/*
 * A socket systemd passes is a PROXY socket when a listen group with its
 * address says so; a reload (which keeps the passed sockets) can turn it
 * off again.
 */
START_TEST(test_socket_activation)
{
	static const char	hdr[] = "PROXY TCP4 192.0.2.1 192.0.2.2 4321 7\r\n";
	struct sockaddr_in	sin;
	char			body[1024];
	int			lfd, fd;

	d.port = h_free_port("127.0.0.1");
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(d.port);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 64), 0);
	d.listen_fd = lfd;
	snprintf(body, sizeof(body), PROXY_CONFIG, "");
	start(body);
	expect_log("socket activation: serving the 1 sockets", IO_MS);
	fd = connect_from("127.0.0.1");
	expect_echo(fd, hdr, sizeof(hdr) - 1, "passed");
	close(fd);
	expect_conn("192.0.2.1:4321", "client-closed bytes_in=6");
	ck_assert_int_eq(h_write_config(&d, "listen = [ \"127.0.0.1:%%P\" ];\n"
	    "workers = 1;\n"), 0);
	h_notify_drain(&d);
	kill(d.pid, SIGHUP);
	expect_notify("READY=1", 10000, NULL, 0);
	expect_log("configuration reloaded", IO_MS);
	/* The old worker, which still reads headers, has drained and gone. */
	ck_assert_int_eq(h_wait_children(d.pid, 1, 10000), 0);
	ck_assert_int_eq(h_roundtrip(d.host, d.port, "PROXY off"), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM, 10000), 0);
	close(lfd);
}
END_TEST

/* sockechod -T shows the groups and PROXY settings, and its output loads. */
START_TEST(test_dump_round_trip)
{
	static const char *const want[] = {
		"\nlisten = ( \"127.0.0.1:7\", { address = \"127.0.0.1:8\"; "
		    "proxy_protocol = true; }, { address = \"127.0.0.1:9\"; "
		    "proxy_protocol = false; } );\n",
		"\nproxy_protocol = false;\n",
		"\nproxy_trusted = [ \"127.0.0.1/32\", \"10.0.0.0/8\" ];\n",
		"\nproxy_header_timeout_ms = 250;\n",
	};
	const char	*dump[] = { d.binary, "-T", "-c", d.conf, NULL };
	char		 out[8192], err[2048];
	size_t		 outlen, i, round;

	ck_assert_int_eq(h_write_config(&d, "listen = ( \"127.0.0.1:7\",\n"
	    "  { address = \"127.0.0.1:8\"; proxy_protocol = true; },\n"
	    "  { address = \"127.0.0.1:9\"; proxy_protocol = false; } );\n"
	    "proxy_trusted = [ \"127.0.0.1\", \"10.0.0.0/8\" ];\n"
	    "proxy_header_timeout_ms = 250;\n"), 0);
	/* The second round reads the first round's output. */
	for (round = 0; round < 2; round++) {
		ck_assert_msg(h_run(dump, NULL, 0, out, sizeof(out), &outlen,
		    err, sizeof(err), 20000) == 0, "%s", err);
		out[outlen < sizeof(out) ? outlen : sizeof(out) - 1] = '\0';
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			ck_assert_msg(strstr(out, want[i]) != NULL,
			    "round %zu: no %s in:\n%s", round, want[i], out);
		ck_assert_int_eq(h_write_config(&d, "%s", out), 0);
	}
}
END_TEST

Suite *
suite(void)
{
	Suite	*s = suite_create("integ_proxy");
	TCase	*tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, integ_setup, integ_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_v1_tcp4_and_tcp6);
	tcase_add_test(tc, test_v2_with_tlvs_and_local);
	tcase_add_test(tc, test_v1_unknown_is_the_peer);
	tcase_add_test(tc, test_header_split_byte_by_byte);
	tcase_add_test(tc, test_slow_header_times_out);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_untrusted_sender_reset);
	tcase_add_test(tc, test_admission_uses_the_header_address);
	tcase_add_test(tc, test_local_admitted_outside_allow);
	tcase_add_test(tc, test_reload_turns_it_off);
	tcase_add_test(tc, test_unix_listener);
	tcase_add_test(tc, test_unix_peer_credentials);
	tcase_add_test(tc, test_socket_activation);
	tcase_add_test(tc, test_dump_round_trip);
	tcase_add_loop_test(tc, test_config_errors, 0,
	    (int)(sizeof(bad_configs) / sizeof(bad_configs[0])));
	suite_add_tcase(s, tc);
	return s;
}
