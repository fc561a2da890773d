/* SPDX-License-Identifier: ISC */
/*
 * peer.c: the process structure of the benchmark peers: parse the port,
 * fork one process per CPU, each binding its own SO_REUSEPORT listener on
 * 127.0.0.1, and stop them all when the parent is told to stop or one of
 * them dies. It must not touch a connection: that is the loop's job.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

#define PEER_BACKLOG		4096
#define PEER_PROCESSES_MAX	64
#define PEER_FDS_MAX		65536

static int fds_max = 1024;

static int
peer_listen(unsigned port)
{
	struct sockaddr_in sin;
	int fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Accepted sockets inherit TCP_NODELAY from the listener. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, PEER_BACKLOG) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static pid_t
peer_spawn(unsigned port, peer_loop_fn *loop, const sigset_t *old)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	sigprocmask(SIG_SETMASK, old, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if ((fd = peer_listen(port)) == -1) {
		fprintf(stderr, "peer: listen on port %u: %s\n", port,
		    strerror(errno));
		_exit(1);
	}
	loop(fd);
	_exit(1);
}

int
peer_fds_max(void)
{
	return fds_max;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max < PEER_FDS_MAX ? rl.rlim_max : PEER_FDS_MAX;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 || getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds_max = (int)rl.rlim_cur;
}

static int
peer_parse(int argc, char **argv, unsigned *port, unsigned *nproc)
{
	long n;

	if (argc < 2 || argc > 3)
		return -1;
	*port = (unsigned)strtoul(argv[1], NULL, 10);
	n = argc == 3 ? strtol(argv[2], NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	if (*port == 0 || *port > 65535 || n < 1 || n > PEER_PROCESSES_MAX)
		return -1;
	*nproc = (unsigned)n;
	return 0;
}

int
peer_main(int argc, char **argv, peer_loop_fn *loop)
{
	pid_t pids[PEER_PROCESSES_MAX];
	sigset_t set, old;
	unsigned port, nproc, i;
	int sig = SIGCHLD;

	if (peer_parse(argc, argv, &port, &nproc) == -1) {
		fprintf(stderr, "usage: %s PORT [PROCESSES]\n", argv[0]);
		return 2;
	}
	raise_nofile();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < nproc; i++)
		if ((pids[i] = peer_spawn(port, loop, &old)) == -1)
			break;
	/* Any signal ends the run: a stop request or a process that died. */
	if (i == nproc)
		sigwait(&set, &sig);
	while (i-- > 0) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	return sig == SIGCHLD ? 1 : 0;
}
