/* SPDX-License-Identifier: ISC */
/*
 * h_run.c: run a command with input, collect its output, exit status
 * and stderr within a deadline (the client sockecho, sockechod -t).
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static ssize_t
drain_into(int fd, char *buf, size_t size, size_t *len)
{
	char	scratch[65536];
	ssize_t	r;
	size_t	n;

	r = read(fd, scratch, sizeof(scratch));
	if (r > 0 && buf != NULL && *len < size) {
		n = (size_t)r < size - *len ? (size_t)r : size - *len;
		memcpy(buf + *len, scratch, n);
		*len += n;
	}
	return r;
}

/*
 * Run a command with "input" on stdin; collect stdout and stderr (NUL
 * terminated where there is room). Returns the exit status, 128+signal,
 * or -1 on timeout (the command is killed).
 */
int
h_run(const char *const argv[], const char *input, size_t inlen, char *out,
    size_t outsize, size_t *outlen, char *err, size_t errsize, int timeout_ms)
{
	int		 pin[2], pout[2], perr[2], status;
	size_t		 sent = 0, olen = 0, elen = 0;
	uint64_t	 deadline = sig_monotonic_ms() + timeout_ms;
	struct pollfd	 pfd[3];
	pid_t		 pid;
	ssize_t		 w;

	signal(SIGPIPE, SIG_IGN);
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (input == NULL || inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	while (pout[0] >= 0 || perr[0] >= 0) {
		pfd[0] = (struct pollfd){ pin[1], POLLOUT, 0 };
		pfd[1] = (struct pollfd){ pout[0], POLLIN, 0 };
		pfd[2] = (struct pollfd){ perr[0], POLLIN, 0 };
		if (poll(pfd, 3, h_remaining_ms(deadline)) <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (pfd[0].revents) {
			w = write(pin[1], input + sent, inlen - sent);
			if (w > 0)
				sent += w;
			if (w == -1 || sent == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (pfd[1].revents && drain_into(pout[0], out, outsize,
		    &olen) <= 0) {
			close(pout[0]);
			pout[0] = -1;
		}
		if (pfd[2].revents && drain_into(perr[0], err,
		    errsize ? errsize - 1 : 0, &elen) <= 0) {
			close(perr[0]);
			perr[0] = -1;
		}
	}
	if (pin[1] >= 0)
		close(pin[1]);
	if (err != NULL && errsize > 0)
		err[elen] = '\0';
	if (out != NULL && olen < outsize)
		out[olen] = '\0';
	if (outlen != NULL)
		*outlen = olen;
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
