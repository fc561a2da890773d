#!/bin/bash
# SPDX-License-Identifier: ISC
# accept-exclusive.sh: in a pool of three (more than two: the listeners
# are watched with EPOLLEXCLUSIVE), the kernel tells one watching worker
# of a connection. Two ways that worker may not act on it, both found by
# an outside review of the exclusive accept, and each connection must
# still be served:
#  - out of descriptors (EMFILE; prlimit on all workers but one): it
#    pauses accepting and hands the connection on (worker_handoff());
#    without that, it waited for the next client. Each of 5 clients must
#    be echoed within 2 s.
#  - stopped right after its wake-up (SIGSTOP, a debugger attaching):
#    the other watchers look at the queue once a heartbeat (500 ms,
#    worker_accept_poll()); without that, it waited in the listen queue
#    until the stopped worker ran again. No connection may still be in
#    the accept queue 2 s later.
# Needs root, a network namespace, prlimit and python3; skips (77) without.
set -u
SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}
W=3
PORT=7403
if [ -z "${ACCEPT_EXCLUSIVE_INSIDE:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null ||
	    ! command -v prlimit >/dev/null || ! command -v python3 >/dev/null
	then
		echo "SKIP: needs root, a network namespace, prlimit and python3"
		exit 77
	fi
	ACCEPT_EXCLUSIVE_INSIDE=1 exec unshare -n "$BASH" "$0" "$@"
fi
ip link set lo up || exit 99
T=$(mktemp -d /tmp/accept-exclusive.XXXXXX) || exit 99
: >"$T/conf"
MASTER=
# Continue any stopped worker, then stop at once (SIGQUIT: no drain).
stop_pool() {
	[ -n "$MASTER" ] || return 0
	kill -CONT $(cat "/proc/$MASTER/task/$MASTER/children" 2>/dev/null) \
	    2>/dev/null
	kill -QUIT "$MASTER" 2>/dev/null
	wait "$MASTER"
	MASTER=
}
trap 'stop_pool; rm -rf "$T"' EXIT
# A pool of W on 127.0.0.1:PORT, ready (its log says so); its workers in $@.
start_pool() {
	: >"$T/log"
	"$SOCKECHOD" -c "$T/conf" -w "$W" -l 127.0.0.1:$PORT 2>"$T/log" &
	MASTER=$!
	end=$((SECONDS + 10))
	until grep -q "ready:" "$T/log"; do
		[ "$SECONDS" -ge "$end" ] && { echo "FAIL: never ready"; exit 1; }
		sleep 0.05
	done
	WORKERS=$(cat "/proc/$MASTER/task/$MASTER/children")
	set -- $WORKERS
	[ $# -eq "$W" ] || { echo "FAIL: $# workers, want $W"; exit 1; }
}
fails=0

start_pool
set -- $WORKERS
# Every worker but the last: no descriptor left for a connection.
while [ $# -gt 1 ]; do
	n=$(ls "/proc/$1/fd" | wc -l)
	prlimit --pid "$1" --nofile="$n:$n" || exit 99
	shift
done
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	timeout 5 "$SOCKECHO" -q -m "ping $i" 127.0.0.1 $PORT </dev/null \
	    >/dev/null 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -ne 0 ] || [ "$ms" -gt 2000 ]; then
		echo "FAIL: out of descriptors: client $i echoed after $ms ms (rc $rc)"
		fails=$((fails + 1))
	else
		echo "PASS: out of descriptors: client $i echoed after $ms ms"
	fi
	sleep 0.5
done
grep -c "pausing accepts" "$T/log" | sed 's/^/pauses logged: /'
stop_pool

start_pool
python3 - $PORT 15 $WORKERS <<'EOF_PY' || fails=$((fails + 1))
# The workers and this client on one CPU, the client SCHED_FIFO: the
# worker that a connection wakes cannot run before the client stops it
# (the one runnable, "R"), so the race is the same on a loaded machine
# and on an idle one.
import os, select, signal, socket, sys, time
port, iters, pids = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
for p in pids + [0]:
    os.sched_setaffinity(p, {0})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
def state(pid):
    return open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[0]
def accept_queue():
    for l in open('/proc/net/tcp').readlines()[1:]:
        f = l.split()
        if f[1].endswith(':%04X' % port) and f[3] == '0A':
            return int(f[4].split(':')[1], 16)
stuck = tested = 0
for i in range(iters):
    s = socket.socket(); s.connect(('127.0.0.1', port)); s.send(b'x')
    woken = [p for p in pids if state(p) == 'R']
    for x in woken:
        os.kill(x, signal.SIGSTOP)
    tested += len(woken) == 1
    r, _, _ = select.select([s], [], [], 2.0)
    if not r and accept_queue() > 0:
        stuck += 1
        print("FAIL: stopped: connection %d not accepted after 2 s (worker "
              "%s stopped, the others idle)" % (i, woken))
    for x in woken:
        os.kill(x, signal.SIGCONT)
    select.select([s], [], [], 1.0)
    s.close(); time.sleep(0.02)
print("%s: stopped: %d of %d connections waited in the accept queue (%d "
      "with the worker woken for it stopped)" % ("FAIL" if stuck or not tested
      else "PASS", stuck, iters, tested))
sys.exit(1 if stuck or not tested else 0)
EOF_PY
stop_pool
[ "$fails" -eq 0 ]
