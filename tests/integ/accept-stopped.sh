#!/bin/bash
# SPDX-License-Identifier: ISC
# accept-stopped.sh: in a pool of three (exclusive accepting) the kernel
# wakes one idle watcher for a connection; when that worker is stopped
# (SIGSTOP, a debugger or strace attaching, a freezer) before it runs, the
# connection stayed in the listen queue while the two other workers slept,
# watching it (found by an outside review of the exclusive accept). Now
# every watching worker looks at the queue once a heartbeat (500 ms,
# worker_accept_poll()). Here: connect, SIGSTOP one worker at once (in
# turn), and fail when the connection is still in the accept queue 2 s
# later. Needs root, a network namespace and python3.
set -u
SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
W=${W:-3}
if [ -z "${ACCEPT_STOPPED_INSIDE:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null ||
	    ! command -v python3 >/dev/null; then
		echo "SKIP: needs root, a network namespace and python3"
		exit 77
	fi
	ACCEPT_STOPPED_INSIDE=1 exec unshare -n "$BASH" "$0" "$@"
fi
ip link set lo up || exit 99
T=$(mktemp -d /tmp/accept-stopped.XXXXXX) || exit 99
: >"$T/conf"
"$SOCKECHOD" -c "$T/conf" -w "$W" -l 127.0.0.1:7409 2>"$T/log" &
MASTER=$!
trap 'kill -CONT $(cat /proc/$MASTER/task/$MASTER/children 2>/dev/null) 2>/dev/null; kill -KILL $MASTER 2>/dev/null; wait; rm -rf "$T"' EXIT
end=$((SECONDS + 10))
until grep -q "ready:" "$T/log"; do
	[ "$SECONDS" -ge "$end" ] && { echo "FAIL: never ready"; exit 1; }
	sleep 0.05
done
python3 - 7409 ${ITER:-15} $(cat "/proc/$MASTER/task/$MASTER/children") <<'EOF_PY'
import os, select, signal, socket, sys, time
port, iters, pids = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
def accept_queue():
    for l in open('/proc/net/tcp').readlines()[1:]:
        f = l.split()
        if f[1].endswith(':%04X' % port) and f[3] == '0A':
            return int(f[4].split(':')[1], 16)
stuck = 0
for i in range(iters):
    x = pids[i % len(pids)]
    s = socket.socket(); s.connect(('127.0.0.1', port)); s.send(b'x')
    os.kill(x, signal.SIGSTOP)
    r, _, _ = select.select([s], [], [], 2.0)
    if not r and accept_queue() > 0:
        stuck += 1
        print("FAIL: connection %d not accepted after 2 s (worker %d stopped, "
              "%d others idle)" % (i, x, len(pids) - 1))
    os.kill(x, signal.SIGCONT)
    select.select([s], [], [], 1.0)
    s.close(); time.sleep(0.02)
print("%d of %d connections waited in the accept queue" % (stuck, iters))
sys.exit(1 if stuck else 0)
EOF_PY
