#!/bin/bash
# SPDX-License-Identifier: ISC
# worker-proc.sh: a worker as the kernel shows it after the privilege drop,
# checked against sockechod(8) ("PROCESS MODEL", "ENVIRONMENT") and the
# user and group settings of sockecho.conf(5): /proc/PID/status (Uid, Gid,
# Groups, CapEff, CapPrm, CapInh, CapAmb, CapBnd, NoNewPrivs), /proc/PID/environ
# (no NOTIFY_SOCKET, WATCHDOG_* or LISTEN_*) and /proc/PID/fd (standard
# input, output and error, the listening sockets, three eventfds, nothing
# the master was started with), for a root start with user, with user and
# group, without either, and a start as a user who is not root. It runs in
# a network namespace of its own. Needs root; skips (77) without it.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}

if [ -z "${WORKER_PROC_INSIDE:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
		echo "SKIP: needs root and a network namespace"
		exit 77
	fi
	getent passwd nobody >/dev/null && getent group daemon >/dev/null ||
	    { echo "SKIP: no user nobody or group daemon"; exit 77; }
	WORKER_PROC_INSIDE=1 exec unshare -n "$BASH" "$0" "$@"
fi

fails=0
T=$(mktemp -d /tmp/worker-proc.XXXXXX) || exit 99
chmod 755 "$T"
MASTER=
cleanup() {
	[ -n "$MASTER" ] && kill -KILL "$MASTER" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up || exit 99

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
# The groups that list nobody as a member (initgroups(3) adds them).
MEMBER_OF=$(getent group | awk -F: '{ n = split($4, m, ",");
    for (i = 1; i <= n; i++) if (m[i] == "nobody") print $3 }')
DAEMON_GID=$(getent group daemon | cut -d: -f3)

# start WHAT CONF RUNAS...: the daemon on two listeners, with the
# variables a supervisor passes and a descriptor (7) of the test's own;
# sets MASTER and WORKER.
start() {
	local what=$1 end

	shift
	printf '%s\n' "$1" >"$T/conf"
	chmod 644 "$T/conf"
	shift
	(
		exec 7<"$T/conf"
		exec env NOTIFY_SOCKET=@worker-proc-none WATCHDOG_USEC=0 \
		    LISTEN_FDNAMES=x KEEP_ME=1 "$@" "$SOCKECHOD" \
		    -c "$T/conf" -w 1 -l 127.0.0.1:7301 -l udp:127.0.0.1:7301 \
		    2>>"$T/log"
	) &
	MASTER=$!
	end=$((SECONDS + 10))
	until "$SOCKECHO" -q -m x 127.0.0.1 7301 </dev/null >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			fail "$what: never served: $(tail -3 "$T/log")"
			return 1
		fi
		sleep 0.1
	done
	WORKER=$(cat "/proc/$MASTER/task/$MASTER/children" 2>/dev/null | tr -d ' ')
	# env(1) and the subshell exec, so MASTER is the daemon itself.
	if [ -z "$WORKER" ] || [ ! -d "/proc/$WORKER" ]; then
		fail "$what: no worker under $MASTER"
		return 1
	fi
}

stop() {
	kill -TERM "$MASTER" 2>/dev/null
	wait "$MASTER" 2>/dev/null
	MASTER=
}

# field NAME: the value of NAME in the worker's /proc/PID/status.
field() {
	awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' \
	    "/proc/$WORKER/status"
}

want_field() {
	local what=$1 name=$2 want=$3 got

	got=$(field "$name" | tr -s ' \t' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		pass "$what: $name $want"
	else
		fail "$what: $name is \"$got\", want \"$want\""
	fi
}

# check_worker WHAT UID GID "GROUPS" CAPBND
check_worker() {
	local what=$1 uid=$2 gid=$3 groups=$4 bnd=$5 env fds f

	want_field "$what" Uid "$uid $uid $uid $uid"
	want_field "$what" Gid "$gid $gid $gid $gid"
	want_field "$what" Groups "$groups"
	want_field "$what" CapEff 0000000000000000
	want_field "$what" CapPrm 0000000000000000
	want_field "$what" CapInh 0000000000000000
	want_field "$what" CapAmb 0000000000000000
	want_field "$what" CapBnd "$bnd"
	want_field "$what" NoNewPrivs 1
	env=$(tr '\0' '\n' <"/proc/$WORKER/environ")
	if printf '%s\n' "$env" | grep -qE '^(NOTIFY_SOCKET|WATCHDOG_[A-Z]+|LISTEN_[A-Z]+)='; then
		fail "$what: the worker's environment keeps $(printf '%s\n' "$env" |
		    grep -E '^(NOTIFY_SOCKET|WATCHDOG_|LISTEN_)' | tr '\n' ' ')"
	else
		pass "$what: no NOTIFY_SOCKET, WATCHDOG_* or LISTEN_* in environ"
	fi
	printf '%s\n' "$env" | grep -qx KEEP_ME=1 &&
	    pass "$what: the rest of the environment stays" ||
	    fail "$what: KEEP_ME=1 is gone from the worker's environment"
	# 0-2, two listeners, three eventfds (the journal socket only when
	# there is a journal, which this test has not), then what the worker
	# makes for itself: its signalfd and its epoll; not the test's fd 7.
	fds=
	for f in /proc/"$WORKER"/fd/*; do
		case $(readlink "$f") in
		socket:*) fds="$fds ${f##*/}=socket" ;;
		anon_inode:\[eventfd\]) fds="$fds ${f##*/}=eventfd" ;;
		anon_inode:\[signalfd\] | anon_inode:\[eventpoll\])
			fds="$fds ${f##*/}=own" ;;
		*) fds="$fds ${f##*/}=$(readlink "$f")" ;;
		esac
	done
	if [ "$(printf '%s\n' $fds | grep -c '=socket$')" -eq 2 ] &&
	    [ "$(printf '%s\n' $fds | grep -c '=eventfd$')" -eq 3 ] &&
	    [ "$(printf '%s\n' $fds | grep -vcE '^[012]=|=socket$|=eventfd$|=own$')" -eq 0 ] &&
	    [ "$(printf '%s\n' $fds | grep -c '=own$')" -le 2 ] &&
	    ! printf '%s\n' $fds | grep -q "=$T/conf\$"; then
		pass "$what: descriptors 0-2, two listeners, three eventfds, its own"
	else
		fail "$what: the worker's descriptors:$fds"
	fi
}

if start "root, user nobody" 'user = "nobody";'; then
	check_worker "root, user nobody" "$NOBODY_UID" "$NOBODY_GID" \
	    "$(printf '%s\n' $NOBODY_GID $MEMBER_OF | sort -nu | tr '\n' ' ' |
	    sed 's/ $//')" 0000000000000000
	stop
fi
if start "root, user nobody, group daemon" \
    'user = "nobody"; group = "daemon";'; then
	# initgroups(3) with the group: it and the groups nobody is a
	# member of; not nobody's primary group, which group replaces.
	check_worker "root, user nobody, group daemon" "$NOBODY_UID" \
	    "$DAEMON_GID" "$(printf '%s\n' $DAEMON_GID $MEMBER_OF |
	    sort -nu | tr '\n' ' ' | sed 's/ $//')" 0000000000000000
	stop
fi
if start "root, no user" ''; then
	# The master's groups, which are this script's.
	check_worker "root, no user" 0 0 "$(awk '$1 == "Groups:" { $1 = "";
	    sub(/^ /, ""); print }' /proc/self/status | tr -s ' ' | sed 's/ $//')" \
	    0000000000000000
	stop
fi
if start "started as nobody" '' setpriv --reuid="$NOBODY_UID" \
    --regid="$NOBODY_GID" --clear-groups; then
	# Without CAP_SETPCAP the bounding set cannot shrink: the test's own.
	check_worker "started as nobody" "$NOBODY_UID" "$NOBODY_GID" "" \
	    "$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)"
	stop
fi

echo "worker-proc: $fails failed"
[ "$fails" -eq 0 ]
