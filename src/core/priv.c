/* SPDX-License-Identifier: ISC */
/*
 * priv.c: switch to an unprivileged user and drop every capability. The
 * functions return -1 with errno; the caller decides whether that is fatal.
 */
#include "build-config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "core/priv.h"

/*
 * Empty the bounding set, so that no execve() can give a capability back
 * (to a worker that keeps user ID 0, say). That takes CAP_SETPCAP: a
 * process without it (a service granted CAP_NET_BIND_SERVICE alone) keeps
 * its bounding set, and PR_SET_NO_NEW_PRIVS still forbids gaining.
 */
static int
drop_bounding_set(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];
	int				cap;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	if ((data[0].effective & (1U << CAP_SETPCAP)) == 0)
		return 0;
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return -1;
	return 0;
}

int
priv_switch_user(const char *user, uid_t uid, gid_t gid)
{
	if (getuid() == uid && geteuid() == uid && getgid() == gid &&
	    getegid() == gid)
		return 0;
	/* Now, while CAP_SETPCAP is still held: the switch loses it. */
	if (drop_bounding_set() == -1 || initgroups(user, gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		return -1;
	/* Paranoia: switching back must be impossible now. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* True when the permitted, effective and inheritable sets are empty. */
static bool
holds_none(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];
	size_t				i;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return false;
	for (i = 0; i < nitems(data); i++)
		if (data[i].permitted || data[i].effective ||
		    data[i].inheritable)
			return false;
	return true;
}

/*
 * Empty the bounding set where it may, the permitted, effective,
 * inheritable and ambient sets, and forbid
 * gaining privileges through execve(). A process that holds none does not
 * call capset(2), which a unit without capabilities may forbid
 * (SystemCallFilter=~@privileged).
 */
int
priv_drop_capabilities(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (!holds_none() && (drop_bounding_set() == -1 ||
	    syscall(SYS_capset, &hdr, data) == -1))
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
