/* SPDX-License-Identifier: ISC */
/*
 * scale_net.c: the scale-out test's network, made of network namespaces
 * it creates and deletes itself: a balancer with a bridge (10.77.0.1/24),
 * backends 10.77.0.11.. and a stranger 10.77.0.99, each with a veth into
 * the bridge. It never configures the host's own namespace, and removes
 * what it made at exit, on a fatal signal, and (for a run that was killed)
 * at the next run.
 */
#include "build-config.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "stress/scale.h"

#define NETNS_DIR	"/run/netns"
#define NS_PREFIX	"sockechod-scale"	/* then "<pid>-<role>" */
#define IP_TIMEOUT_MS	10000

static char	ns_name[NET_COUNT][64];
static int	ns_fd[NET_COUNT];
static int	ns_made;

static const char *
role(int ns, char *buf, size_t size)
{
	if (ns == NET_LB)
		snprintf(buf, size, "lb");
	else if (ns == NET_ROGUE)
		snprintf(buf, size, "rogue");
	else
		snprintf(buf, size, "b%d", ns);
	return buf;
}

const char *
net_backend_addr(int backend, char *buf, size_t size)
{
	snprintf(buf, size, "10.77.0.%d", 10 + backend);
	return buf;
}

static const char *
ns_addr(int ns, char *buf, size_t size)
{
	if (ns == NET_ROGUE)
		return snprintf(buf, size, "%s", SCALE_ROGUE_ADDR), buf;
	return net_backend_addr(ns, buf, size);
}

/* Run "ip" with the words of fmt (no word has a space); 0 when it exits 0. */
static int
ip(char *why, size_t size, const char *fmt, ...)
{
	const char	*argv[32];
	char		 line[512], err[512], *p, *w;
	va_list		 ap;
	size_t		 n = 0;
	int		 rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	argv[n++] = "ip";
	for (p = line; (w = strsep(&p, " ")) != NULL && n < 31;)
		if (*w != '\0')
			argv[n++] = w;
	argv[n] = NULL;
	/* h_run execs a path: find ip where Debian puts it. */
	argv[0] = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" :
	    "/sbin/ip";
	rc = h_run(argv, NULL, 0, NULL, 0, NULL, err, sizeof(err),
	    IP_TIMEOUT_MS);
	if (rc != 0)
		snprintf(why, size, "ip %.200s: exit %d: %.200s",
		    line + 0, rc, err);
	return rc == 0 ? 0 : -1;
}

/* What "ip netns del" does, in calls that are safe in a signal handler. */
static void
ns_remove(const char *name)
{
	char	path[sizeof(NETNS_DIR) + NAME_MAX + 1];

	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

/* Namespaces of earlier runs that were killed before they could clean up. */
static void
sweep_stale(void)
{
	struct dirent	*e;
	DIR		*dir;
	long		 pid;
	char		*end;

	if ((dir = opendir(NETNS_DIR)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, NS_PREFIX, strlen(NS_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(NS_PREFIX), &end, 10);
		if (*end == '-' && pid > 0 && kill((pid_t)pid, 0) == -1 &&
		    errno == ESRCH)
			ns_remove(e->d_name);
	}
	closedir(dir);
}

/* A veth from the bridge into namespace ns, with its address. */
static int
plug(int ns, char *why, size_t size)
{
	const char	*lb = ns_name[NET_LB], *n = ns_name[ns];
	char		 addr[32];

	ns_addr(ns, addr, sizeof(addr));
	if (ip(why, size, "-n %s link add veth%d type veth peer name eth0 "
	    "netns %s", lb, ns, n) == -1 ||
	    ip(why, size, "-n %s link set veth%d master br0 up", lb, ns) == -1 ||
	    ip(why, size, "-n %s addr add %s/24 dev eth0", n, addr) == -1 ||
	    ip(why, size, "-n %s link set eth0 up", n) == -1 ||
	    ip(why, size, "-n %s link set lo up", n) == -1)
		return -1;
	return 0;
}

static int
open_ns(int ns, char *why, size_t size)
{
	char	path[sizeof(NETNS_DIR) + NAME_MAX + 1];

	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, ns_name[ns]);
	if ((ns_fd[ns] = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Make the whole network. Returns 0, 77 when this machine cannot have
 * network namespaces (why says so), or -1 on another failure.
 */
int
net_create(char *why, size_t size)
{
	char	r[16];
	int	ns;

	sweep_stale();
	for (ns = 0; ns < NET_COUNT; ns++) {
		snprintf(ns_name[ns], sizeof(ns_name[ns]), "%s%ld-%s",
		    NS_PREFIX, (long)getpid(), role(ns, r, sizeof(r)));
		if (ip(why, size, "netns add %s", ns_name[ns]) == -1)
			return ns == 0 ? 77 : -1;
		ns_made = ns + 1;
		if (open_ns(ns, why, size) == -1)
			return -1;
	}
	if (ip(why, size, "-n %s link set lo up", ns_name[NET_LB]) == -1 ||
	    ip(why, size, "-n %s link add br0 type bridge", ns_name[NET_LB]) ==
	    -1 ||
	    ip(why, size, "-n %s addr add %s/24 dev br0", ns_name[NET_LB],
	    SCALE_LB_ADDR) == -1 ||
	    ip(why, size, "-n %s link set br0 up", ns_name[NET_LB]) == -1)
		return -1;
	for (ns = 1; ns < NET_COUNT; ns++)
		if (plug(ns, why, size) == -1)
			return -1;
	return 0;
}

/* Delete every namespace made; safe in a signal handler, and twice. */
void
net_destroy(void)
{
	int	ns;

	for (ns = 0; ns < ns_made; ns++)
		ns_remove(ns_name[ns]);
	ns_made = 0;
}

/* Move this process into namespace ns (its new sockets live there). */
void
net_enter(int ns)
{
	if (setns(ns_fd[ns], CLONE_NEWNET) == -1)
		h_die("setns %s: %s", ns_name[ns], strerror(errno));
}

static int
connect_within(int fd, const struct sockaddr_in *sin, int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(int);
	int		err = 0;

	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (poll(&pfd, 1, timeout_ms) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	errno = err;
	return err == 0 ? 0 : -1;
}

/*
 * A connected blocking TCP socket made in namespace ns, from address src
 * (NULL: the kernel's choice) to host:port, or -1 with errno. The test
 * returns to the balancer's namespace, its home, afterwards.
 */
int
net_connect(int ns, const char *src, const char *host, unsigned port,
    int timeout_ms)
{
	struct sockaddr_in	sin, from;
	int			fd, saved;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	from = sin;
	from.sin_port = 0;
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (src != NULL && inet_pton(AF_INET, src, &from.sin_addr) != 1)) {
		errno = EINVAL;
		return -1;
	}
	net_enter(ns);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	net_enter(NET_LB);
	if (fd == -1)
		return -1;
	if ((src != NULL && bind(fd, (struct sockaddr *)&from,
	    sizeof(from)) == -1) || connect_within(fd, &sin, timeout_ms) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
