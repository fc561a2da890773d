#!/bin/bash
# SPDX-License-Identifier: ISC
# accept-emfile.sh: in a pool of three (exclusive accepting), the workers
# that the kernel may wake for a connection are out of descriptors
# (EMFILE; prlimit on all but one). The one woken pauses accepting and
# must hand the connection on (worker_handoff()): without that it waited,
# unserved by the idle worker that watches the listener, until the next
# client connected (found by an outside review of the exclusive accept).
# Each client must be echoed within 2 s. Needs root and a network
# namespace.
set -u
SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}
W=${W:-3}
if [ -z "${ACCEPT_EMFILE_INSIDE:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null ||
	    ! command -v prlimit >/dev/null; then
		echo "SKIP: needs root, a network namespace and prlimit"
		exit 77
	fi
	ACCEPT_EMFILE_INSIDE=1 exec unshare -n "$BASH" "$0" "$@"
fi
ip link set lo up || exit 99
T=$(mktemp -d /tmp/accept-emfile.XXXXXX) || exit 99
: >"$T/conf"
"$SOCKECHOD" -c "$T/conf" -w "$W" -l 127.0.0.1:7403 2>"$T/log" &
MASTER=$!
trap 'kill -KILL $MASTER 2>/dev/null; wait; rm -rf "$T"' EXIT
end=$((SECONDS + 10))
until grep -q "ready:" "$T/log"; do
	[ "$SECONDS" -ge "$end" ] && { echo "FAIL: never ready"; exit 1; }
	sleep 0.05
done
set -- $(cat "/proc/$MASTER/task/$MASTER/children")
[ $# -eq "$W" ] || { echo "FAIL: $# workers, want $W"; exit 1; }
# Every worker but the last: no descriptor left for a connection.
while [ $# -gt 1 ]; do
	n=$(ls "/proc/$1/fd" | wc -l)
	prlimit --pid "$1" --nofile="$n:$n" || exit 99
	shift
done
fails=0
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	timeout 5 "$SOCKECHO" -q -m "ping $i" 127.0.0.1 7403 </dev/null \
	    >/dev/null 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -ne 0 ] || [ "$ms" -gt 2000 ]; then
		echo "FAIL: client $i echoed after $ms ms (rc $rc)"
		fails=$((fails + 1))
	else
		echo "PASS: client $i echoed after $ms ms"
	fi
	sleep 0.5
done
grep -c "pausing accepts" "$T/log" | sed 's/^/pauses logged: /'
[ "$fails" -eq 0 ]
