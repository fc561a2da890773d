#!/bin/bash
# SPDX-License-Identifier: ISC
# metrics-limits.sh: the limits of sockechod's metrics endpoint as
# sockechod(8) METRICS states them: "at most 8 clients are served at a time
# (more wait in the listen queue)" and a request "must be answered within 5
# seconds from its connection" — 8 silent clients are closed after their 5
# seconds and a ninth, queued behind them, is answered then; a request that
# comes in pieces with bare LF line ends is answered; and the daemon stops
# cleanly (exit 0) with a client still connected. It runs in a network
# namespace of its own. Needs root and python3; skips (77) without them.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}

if [ -z "${METRICS_LIMITS_INSIDE:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "SKIP: cannot make a private network namespace (needs root)"
		exit 77
	fi
	command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
	METRICS_LIMITS_INSIDE=1 exec unshare -n "$BASH" "$0" "$@"
fi

T=$(mktemp -d /tmp/metrics-limits.XXXXXX) || exit 99
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up || exit 99

printf 'metrics_listen = "127.0.0.1:9200";\nworkers = 1;\n' >"$T/conf"
"$SOCKECHOD" -c "$T/conf" --listen 127.0.0.1:7007 2>"$T/daemon.log" &
DPID=$!

python3 - <<'EOF'
import socket, sys, time

fails = 0
def check(ok, what):
    global fails
    print(("PASS: " if ok else "FAIL: ") + what)
    fails += not ok

def connect(deadline=10):
    end = time.monotonic() + deadline
    while True:
        try:
            return socket.create_connection(("127.0.0.1", 9200), 2)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)

def answer(s, timeout):
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    except OSError:
        return out

# A request in pieces, bare LF line ends, a query string: answered.
s = connect()
s.sendall(b"GET /metrics?x=1 HTTP/1.0\n")
time.sleep(0.2)
s.sendall(b"Host: x\n\n")
a = answer(s, 5)
check(a.startswith(b"HTTP/1.1 200 ") and b"sockechod_build_info" in a,
      "a request in two pieces with LF line ends: 200")
s.close()

# Eight silent clients hold every slot; a ninth waits in the queue and is
# answered once theirs end at 5 s, well within 5 + 5 s of its own start.
silent = [connect() for _ in range(8)]
t0 = time.monotonic()
ninth = connect()
ninth.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
a = answer(ninth, 12)
took = time.monotonic() - t0
check(a.startswith(b"HTTP/1.1 200 "), "a ninth client behind 8 silent ones: 200")
# Not before the silent ones' 5 s (the queue is first in, first out), and
# well before 10 s.
check(4 < took < 10, "the ninth answered %.1f s after it connected "
      "(between 4 and 10)" % took)
closed = 0
for c in silent:
    c.settimeout(2)
    try:
        closed += c.recv(1) == b""
    except ConnectionResetError:
        closed += 1
    except OSError:
        pass
check(closed == 8, "the 8 silent clients were closed after 5 s (%d)" % closed)

sys.exit(1 if fails else 0)
EOF
rc=$?
# A client with half a request, accepted (ss shows the daemon holding its
# end), as the daemon stops.
exec 3<>/dev/tcp/127.0.0.1/9200
printf 'GET /met' >&3
end=$((SECONDS + 10))
until ss -Htnp state established '( sport = :9200 )' | grep -q sockechod ||
    [ $SECONDS -ge $end ]; do
	sleep 0.05
done
kill -TERM "$DPID"
wait "$DPID"
drc=$?
DPID=
exec 3>&-
if [ "$drc" -eq 0 ]; then
	echo "PASS: SIGTERM with a metrics client connected: exit 0"
else
	echo "FAIL: SIGTERM with a metrics client connected: exit $drc"
	cat "$T/daemon.log"
	rc=1
fi
exit $rc
