/* SPDX-License-Identifier: ISC */
/*
 * sockecho.c: the client. It sends standard input (or -m TEXT) to an echo
 * server, half-closes, and writes the reply to standard output byte for
 * byte. It reads and writes at the same time, so a large input never
 * deadlocks against a stream echo server.
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "measure/bulk.h"
#include "client/cli.h"
#include "measure/ping.h"
#include "core/sig.h"
#include "client/sockecho_udp.h"

#define DEFAULT_PORT		"7"
#define CONNECT_TIMEOUT_MS	10000
#define IO_BYTES		65536
#define PIPE_SAFE_BYTES		4096	/* never blocks after POLLOUT */
#define CHECK_MAX_BYTES		(256u << 20)
#define UDP_WAIT_MS		1000	/* -u: for each answer */
#define UDP_RETRIES		2
#define UDP_RETRIES_MAX		100

#define EXIT_MISMATCH		1

struct buf {
	char	*data;
	size_t	 len;		/* bytes held */
	size_t	 off;		/* first byte not consumed */
	size_t	 cap;
};

struct client {
	const char	*message;	/* -m, or NULL for stdin */
	size_t		 message_len;
	bool		 check;
	bool		 quiet;
	uint64_t	 deadline_ms;	/* 0: none */
	uint64_t	 connect_timeout_ms;
	int		 fd;
	bool		 in_eof;	/* nothing more to send */
	bool		 shut_wr;
	bool		 sock_eof;
	struct buf	 out;		/* to the server */
	struct buf	 reply;		/* to stdout */
	struct buf	 sent;		/* --check: sent, not yet echoed */
	uint64_t	 nsent;
	uint64_t	 nreceived;
	bool		 udp;		/* -u */
	uint64_t	 udp_wait_ms;
	unsigned	 udp_retries;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sockecho [-cnqhV] [-m TEXT] [-t SECONDS] [-T SECONDS] "
	    "HOST [PORT]\n"
	    "       sockecho -u [-cnq] [-m TEXT] [-t SECONDS] [-w SECONDS] "
	    "[-r N] HOST [PORT]\n"
	    "       sockecho [options] unix:/PATH | unix:@NAME\n"
	    "  -m, --message TEXT          send TEXT and a newline instead "
	    "of standard input\n"
	    "  -n, --no-newline            with -m, send TEXT alone\n"
	    "  -c, --check                 exit 1 unless the reply equals "
	    "what was sent\n"
	    "  -q, --quiet                 do not write the reply\n"
	    "  -t, --timeout SECONDS       give up when the whole exchange "
	    "takes longer\n"
	    "  -T, --connect-timeout SECONDS  give up connecting after "
	    "SECONDS (default 10)\n"
	    "  -u, --udp                   UDP: each line (or TEXT) a "
	    "datagram, each answer\n"
	    "                              awaited\n"
	    "  -w, --wait SECONDS          -u: wait this long for each answer "
	    "(default 1)\n"
	    "  -r, --retries N             -u: send a datagram again N times "
	    "(default 2)\n"
	    "  -p, --ping                  measure round trips instead; "
	    "see sockecho -p -h\n"
	    "      --bulk                  measure throughput (and latency "
	    "under load);\n"
	    "                              see sockecho --bulk -h\n"
	    "  -V, --version               print the version and exit\n"
	    "  -h, --help                  print this help and exit\n"
	    "HOST is a name, an IPv4 address or an IPv6 address, with or "
	    "without\n"
	    "brackets ([::1]); PORT a number or a service name, by default "
	    "%s, the\n"
	    "echo port. unix:/PATH is a socket file, unix:@NAME an abstract "
	    "socket.\n", DEFAULT_PORT);
}

static uint64_t
parse_seconds(const char *opt, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 ||
	    v > 86400.0 * 365) {
		fprintf(stderr, "sockecho: %s: expected a positive number of "
		    "seconds, not \"%s\"\n", opt, s);
		usage(stderr);
		exit(EX_USAGE);
	}
	return (uint64_t)(v * 1000 + 0.5);
}

static unsigned
parse_retries(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > UDP_RETRIES_MAX) {
		fprintf(stderr, "sockecho: -r: expected a number from 0 to %d, "
		    "not \"%s\"\n", UDP_RETRIES_MAX, s);
		usage(stderr);
		exit(EX_USAGE);
	}
	return (unsigned)v;
}

/* -u: hand over to sockecho_udp.c. */
static int
run_udp(const struct client *c, const char *host, const char *port)
{
	struct sockecho_udp	o;
	size_t			hl = strlen(host);
	char			*h;
	int			status;

	if (strncmp(host, "unix:", 5) == 0)
		cli_fail(EX_USAGE, "-u: UDP needs HOST [PORT], not a Unix "
		    "socket");
	if ((h = strdup(host)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	memset(&o, 0, sizeof(o));
	o.host = h;
	o.port = port != NULL ? port : DEFAULT_PORT;
	o.message = c->message;
	o.message_len = c->message_len;
	o.check = c->check;
	o.quiet = c->quiet;
	o.deadline_ms = c->deadline_ms;
	o.wait_ms = c->udp_wait_ms;
	o.retries = c->udp_retries;
	status = sockecho_udp_run(&o);
	free(h);
	return status;
}

static void
buf_reserve(struct buf *b, size_t more)
{
	char	*p;
	size_t	 cap;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + more <= b->cap)
		return;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + more <= b->cap)
			return;
	}
	cap = b->cap ? b->cap : IO_BYTES;
	while (cap < b->len + more)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	b->data = p;
	b->cap = cap;
}

static size_t
buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

/* Wait until "fd" is connected, or the deadline passes (returns 1). */
static int
wait_connected(int fd, uint64_t deadline, int *err)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(*err);
	uint64_t	now;
	int		r;

	for (;;) {
		now = sig_monotonic_ms();
		if (now >= deadline)
			return 1;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*err = errno;
			return -1;
		}
		if (r == 0)
			return 1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == -1)
			*err = errno;
		return *err == 0 ? 0 : -1;
	}
}

static int
try_connect(const struct sockaddr *sa, socklen_t len, uint64_t deadline,
    int *err, bool *timed_out)
{
	int	fd, r;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*err = errno;
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*err = errno;
		close(fd);
		return -1;
	}
	if ((r = wait_connected(fd, deadline, err)) == 0)
		return fd;
	if (r == 1) {
		*timed_out = true;
		*err = ETIMEDOUT;
	}
	close(fd);
	return -1;
}

static uint64_t
connect_deadline(const struct client *c)
{
	uint64_t	d = sig_monotonic_ms() + c->connect_timeout_ms;

	return c->deadline_ms && c->deadline_ms < d ? c->deadline_ms : d;
}

static int
connect_unix(struct client *c, const char *path)
{
	struct sockaddr_un	sun;
	bool			timed_out = false;
	socklen_t		len;
	int			fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) || path[0] == '\0')
		cli_fail(EX_USAGE, "unix:%s: invalid socket path", path);
	memcpy(sun.sun_path, path, strlen(path));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	if (path[0] == '@') {
		sun.sun_path[0] = '\0';
		len--;
	}
	fd = try_connect((struct sockaddr *)&sun, len, connect_deadline(c),
	    &err, &timed_out);
	if (fd == -1)
		cli_fail(timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot connect to unix:%s: %s", path, strerror(err));
	return fd;
}

static int
connect_inet(struct client *c, const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	bool		 timed_out = false;
	uint64_t	 deadline;
	int		 fd = -1, err = 0, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		cli_fail(EX_NOHOST, "%s port %s: %s", host, port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	deadline = connect_deadline(c);
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = try_connect(ai->ai_addr, ai->ai_addrlen, deadline, &err,
		    &timed_out);
	freeaddrinfo(res);
	if (fd == -1)
		cli_fail(timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot connect to %s port %s: %s", host, port,
		    strerror(err));
	return fd;
}

/* --check: compare what came back with what went out, as it arrives. */
static void
check_reply(struct client *c, const char *data, size_t n)
{
	size_t	have = buf_pending(&c->sent);
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i >= have)
			cli_fail(EXIT_MISMATCH, "reply differs: more bytes "
			    "came back than were sent (%llu)",
			    (unsigned long long)c->nsent);
		if (c->sent.data[c->sent.off + i] != data[i])
			cli_fail(EXIT_MISMATCH, "reply differs from what was "
			    "sent at byte %llu", (unsigned long long)
			    (c->nreceived + i));
	}
	c->sent.off += n;
}

static void
fill_out(struct client *c)
{
	ssize_t	n;

	if (c->message != NULL) {
		buf_reserve(&c->out, c->message_len);
		memcpy(c->out.data + c->out.len, c->message, c->message_len);
		c->out.len += c->message_len;
		c->in_eof = true;
		return;
	}
	buf_reserve(&c->out, IO_BYTES);
	n = read(STDIN_FILENO, c->out.data + c->out.len, IO_BYTES);
	if (n == -1 && errno == EINTR)
		return;
	if (n == -1)
		cli_fail(EX_IOERR, "reading standard input: %s",
		    strerror(errno));
	if (n == 0)
		c->in_eof = true;
	c->out.len += n;
}

static void
send_some(struct client *c)
{
	size_t	n = buf_pending(&c->out);
	ssize_t	w;

	w = send(c->fd, c->out.data + c->out.off, n, MSG_NOSIGNAL);
	if (w == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "sending: %s (after %llu bytes)",
		    strerror(errno), (unsigned long long)c->nsent);
	}
	if (c->check) {
		if (buf_pending(&c->sent) + w > CHECK_MAX_BYTES)
			cli_fail(EX_IOERR, "--check: more than %u bytes sent "
			    "and not echoed", CHECK_MAX_BYTES);
		buf_reserve(&c->sent, w);
		memcpy(c->sent.data + c->sent.len, c->out.data + c->out.off, w);
		c->sent.len += w;
	}
	c->out.off += w;
	c->nsent += w;
}

static void
receive_some(struct client *c)
{
	ssize_t	n;

	buf_reserve(&c->reply, IO_BYTES);
	n = recv(c->fd, c->reply.data + c->reply.len, IO_BYTES, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "receiving: %s (after %llu of %llu bytes)",
		    strerror(errno), (unsigned long long)c->nreceived,
		    (unsigned long long)c->nsent);
	}
	if (n == 0) {
		c->sock_eof = true;
		return;
	}
	if (c->check)
		check_reply(c, c->reply.data + c->reply.len, n);
	c->nreceived += n;
	if (c->quiet)
		return;
	c->reply.len += n;
}

static void
write_some(struct client *c)
{
	size_t	n = buf_pending(&c->reply);
	ssize_t	w;

	if (n > PIPE_SAFE_BYTES)
		n = PIPE_SAFE_BYTES;
	w = write(STDOUT_FILENO, c->reply.data + c->reply.off, n);
	if (w == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cli_fail(EX_IOERR, "writing standard output: %s",
		    strerror(errno));
	}
	c->reply.off += w;
}

static int
poll_timeout(const struct client *c)
{
	uint64_t	now;

	if (c->deadline_ms == 0)
		return -1;
	now = sig_monotonic_ms();
	if (now >= c->deadline_ms)
		cli_fail(EX_TEMPFAIL, "timed out: %llu bytes sent, %llu "
		    "received", (unsigned long long)c->nsent,
		    (unsigned long long)c->nreceived);
	return (int)(c->deadline_ms - now);
}

/* Move bytes stdin -> socket -> stdout until the server closes. */
static void
exchange(struct client *c)
{
	struct pollfd	pfd[3];
	bool		want_in, want_sock_in, want_out;

	while (!c->sock_eof || buf_pending(&c->reply) > 0) {
		if (c->in_eof && buf_pending(&c->out) == 0 && !c->shut_wr) {
			if (shutdown(c->fd, SHUT_WR) == -1 && errno != ENOTCONN)
				cli_fail(EX_IOERR, "half-close: %s",
				    strerror(errno));
			c->shut_wr = true;
		}
		want_in = !c->in_eof && buf_pending(&c->out) < IO_BYTES;
		if (want_in && c->message != NULL) {
			fill_out(c);
			continue;
		}
		want_sock_in = !c->sock_eof &&
		    buf_pending(&c->reply) < IO_BYTES;
		want_out = buf_pending(&c->reply) > 0;
		pfd[0] = (struct pollfd){ want_in ? STDIN_FILENO : -1, POLLIN,
		    0 };
		pfd[1] = (struct pollfd){ c->fd, (want_sock_in ? POLLIN : 0) |
		    (buf_pending(&c->out) ? POLLOUT : 0), 0 };
		pfd[2] = (struct pollfd){ want_out ? STDOUT_FILENO : -1,
		    POLLOUT, 0 };
		if (poll(pfd, 3, poll_timeout(c)) == -1) {
			if (errno == EINTR)
				continue;
			cli_fail(EX_OSERR, "poll: %s", strerror(errno));
		}
		if (pfd[0].revents)
			fill_out(c);
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) &&
		    buf_pending(&c->out))
			send_some(c);
		if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP) &&
		    want_sock_in)
			receive_some(c);
		if (pfd[2].revents)
			write_some(c);
		(void)poll_timeout(c);
	}
	if (!c->in_eof || buf_pending(&c->out) > 0)
		cli_fail(EX_IOERR, "the server closed the connection before "
		    "all the input was sent (%llu bytes sent)",
		    (unsigned long long)c->nsent);
	if (c->check && buf_pending(&c->sent) > 0)
		cli_fail(EXIT_MISMATCH, "reply differs: %zu bytes short "
		    "(%llu sent, %llu received)", buf_pending(&c->sent),
		    (unsigned long long)c->nsent,
		    (unsigned long long)c->nreceived);
}

/* Option errors in the daemon's words, without getopt's program path. */
static void
bad_option(int ch, const char *arg)
{
	if (ch == ':')
		cli_fail(EX_USAGE, "option %s needs an argument; try --help",
		    arg);
	if (optopt != 0)
		cli_fail(EX_USAGE, "unknown option -%c; try --help", optopt);
	cli_fail(EX_USAGE, "unknown option %s; try --help", arg);
}

/* HOST:PORT is the daemon's form, not the client's; a port fits 16 bits. */
static void
check_target(const char *host, const char *port)
{
	const char	*colon = strchr(host, ':'), *bracket = strstr(host, "]:");
	char		*end;
	long		 n;

	if (host[0] == '[' && bracket != NULL)
		colon = bracket + 1;
	if (port == NULL && colon != NULL && (strchr(colon + 1, ':') == NULL ||
	    bracket != NULL) && strncmp(host, "unix:", 5) != 0)
		cli_fail(EX_USAGE, "\"%s\" is not a host; the port goes "
		    "after a space: sockecho %.*s %s", host,
		    (int)(colon - host), host, colon + 1);
	if (port == NULL || port[0] < '0' || port[0] > '9')
		return;
	errno = 0;
	n = strtol(port, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 65535)
		cli_fail(EX_USAGE, "port must be between 1 and 65535, "
		    "not \"%s\"", port);
}

/* What the command line asks for besides the client's own fields. */
struct options {
	const char	*text;		/* -m */
	bool		 newline;
	uint64_t	 timeout_ms;
};

static const struct option longopts[] = {
	{ "message", required_argument, NULL, 'm' },
	{ "no-newline", no_argument, NULL, 'n' },
	{ "check", no_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "timeout", required_argument, NULL, 't' },
	{ "connect-timeout", required_argument, NULL, 'T' },
	{ "udp", no_argument, NULL, 'u' },
	{ "wait", required_argument, NULL, 'w' },
	{ "retries", required_argument, NULL, 'r' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option: returns -1 to go on, or the exit status. */
static int
one_option(int ch, char *argv[], struct client *c, struct options *o)
{
	switch (ch) {
	case 'm':
		o->text = optarg;
		break;
	case 'n':
		o->newline = false;
		break;
	case 'c':
		c->check = true;
		break;
	case 'q':
		c->quiet = true;
		break;
	case 't':
		o->timeout_ms = parse_seconds("-t", optarg);
		break;
	case 'T':
		c->connect_timeout_ms = parse_seconds("-T", optarg);
		break;
	case 'u':
		c->udp = true;
		break;
	case 'w':
		c->udp_wait_ms = parse_seconds("-w", optarg);
		break;
	case 'r':
		c->udp_retries = parse_retries(optarg);
		break;
	case 'V':
		printf("sockecho %s\n", PACKAGE_VERSION);
		return 0;
	case 'h':
		usage(stdout);
		return 0;
	default:
		bad_option(ch, argv[optind - 1]);
	}
	return -1;
}

/* Returns -1 to go on, or the exit status; optind points to HOST. */
static int
parse_options(int argc, char *argv[], struct client *c, struct options *o)
{
	int	ch, status;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:ncqt:T:uw:r:Vh", longopts,
	    NULL)) != -1) {
		if ((status = one_option(ch, argv, c, o)) != -1)
			return status;
	}
	return -1;
}

/* HOST [PORT], [IPV6] [PORT] or unix:/PATH: the connected socket. */
static int
connect_to(struct client *c, const char *host, const char *port)
{
	size_t	 hl = strlen(host);
	char	*h;
	int	 fd;

	if (strncmp(host, "unix:", 5) == 0) {
		if (port != NULL)
			cli_fail(EX_USAGE, "a Unix socket takes no port");
		return connect_unix(c, host + 5);
	}
	if ((h = strdup(host)) == NULL)
		cli_fail(EX_OSERR, "out of memory");
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	fd = connect_inet(c, h, port != NULL ? port : DEFAULT_PORT);
	free(h);
	return fd;
}

int
main(int argc, char *argv[])
{
	struct options	 o = { NULL, true, 0 };
	struct client	 c;
	char		*msg = NULL;
	int		 status;

	if (bulk_requested(argc, argv))
		return bulk_main(argc, argv);
	if (ping_requested(argc, argv))
		return ping_main(argc, argv);
	memset(&c, 0, sizeof(c));
	c.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	c.udp_wait_ms = UDP_WAIT_MS;
	c.udp_retries = UDP_RETRIES;
	if ((status = parse_options(argc, argv, &c, &o)) != -1)
		return status;
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "sockecho: expected HOST [PORT] or "
		    "unix:/PATH\n");
		usage(stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.timeout_ms)
		c.deadline_ms = sig_monotonic_ms() + o.timeout_ms;
	if (o.text != NULL) {
		if (asprintf(&msg, "%s%s", o.text, o.newline ? "\n" : "") == -1)
			cli_fail(EX_OSERR, "out of memory");
		c.message = msg;
		c.message_len = strlen(msg);
	}
	check_target(argv[0], argc == 2 ? argv[1] : NULL);
	if (c.udp) {
		status = run_udp(&c, argv[0], argc == 2 ? argv[1] : NULL);
		free(msg);
		return status;
	}
	c.fd = connect_to(&c, argv[0], argc == 2 ? argv[1] : NULL);
	exchange(&c);
	close(c.fd);
	free(msg);
	free(c.out.data);
	free(c.reply.data);
	free(c.sent.data);
	return 0;
}
