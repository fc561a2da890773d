#!/bin/bash
# SPDX-License-Identifier: ISC
# stamp-netns.sh: one-way delay and loss through a veth pair between two
# network namespaces this test creates (10.231.25.0/24), with netem on one
# side only: 20 ms added on the way out shows in the forward delay
# (T2-T1) and not the backward (T4-T3), within 1 ms; loss added one way
# shows on that side only, with a stateful reflector (RFC 8762 section
# 4.3). The sender is the independent reference (tests/stamp/stamp_ref.py);
# the reflectors are sockechod and the reference's own. Both ends share
# this host's clock, so one-way delays are exact here.
# Exits 0 when all passed, 77 without root, ip netns or python3 (or the
# netem cases, without sch_netem), 1 otherwise.

set -u
: "${SOCKECHOD:=src/sockechod}"
: "${SOCKECHOD_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
REF="$SOCKECHOD_SRCDIR/tests/stamp/stamp_ref.py"
SOCKECHOD=$(cd "$(dirname "$SOCKECHOD")" && pwd)/$(basename "$SOCKECHOD")
NA=sestamp-a-$$
NB=sestamp-b-$$
A=10.231.25.1
B=10.231.25.2
DPORT=8620
RPORT=8621
PROBES=50
LOSS_PROBES=150

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
command -v tc >/dev/null || { echo "SKIP: no tc (iproute2)"; exit 77; }
ip netns add "$NA" 2>/dev/null || { echo "SKIP: no ip netns"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sockechod-stamp-netns.XXXXXX")
PIDS=()
cleanup() {
	local p

	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ip netns add "$NB" &&
ip -n "$NA" link add va type veth peer name vb netns "$NB" &&
ip -n "$NA" addr add "$A/24" dev va && ip -n "$NB" addr add "$B/24" dev vb &&
ip -n "$NA" link set va up && ip -n "$NB" link set vb up &&
ip -n "$NA" link set lo up && ip -n "$NB" link set lo up ||
    { echo "Bail out! cannot set up the veth pair"; exit 1; }
if ! ip netns exec "$NB" tc qdisc add dev vb root netem delay 0ms \
    2>"$T/tc.err"; then
	cat "$T/tc.err"
	echo "SKIP: no sch_netem in this kernel"
	exit 77
fi

failures=0
n=0
check() {
	local what=$1

	shift
	n=$((n + 1))
	if "$@" >"$T/out" 2>&1; then
		echo "ok $n - $what"
		sed 's/^/#   /' "$T/out"
	else
		echo "not ok $n - $what"
		sed 's/^/#   /' "$T/out"
		failures=$((failures + 1))
	fi
}

now_ms() {
	local t=${EPOCHREALTIME/./}

	echo $((t / 1000))
}

wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))

	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

cat >"$T/c.conf" <<CONF
listen = [ "stamp:$A:$DPORT" ];
workers = 2;
udp_max_datagrams_per_client = 0;
CONF
ip netns exec "$NA" "$SOCKECHOD" -c "$T/c.conf" >"$T/daemon.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NA" python3 "$REF" reflect "$RPORT" --stateful \
    >"$T/ref.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q "ready:" "$T/daemon.log" &&
    wait_for 10 grep -q ready "$T/ref.log" ||
    { cat "$T/daemon.log" "$T/ref.log"; echo "Bail out! no reflector"; exit 1; }

# netem DEV-NS DEV ARGS...: the one qdisc on that side (none: "off").
netem() {
	local ns=$1 dev=$2

	shift 2
	ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null
	[ "$1" = off ] || ip netns exec "$ns" tc qdisc add dev "$dev" root \
	    netem "$@"
}

# probe PORT COUNT: the reference sender's JSON, from namespace B.
probe() {
	ip netns exec "$NB" python3 "$REF" probe "$A" "$1" "$2" \
	    --interval 0.005 --wait 0.1 --src-addr "$B"
}

# delays PORT FORWARD_MS BACKWARD_MS: the least forward and backward
# delays (RFC 7679's minimum one-way delay, which the queueing and the
# scheduling of a loaded machine cannot lower) within 1 ms of them; the
# medians are printed.
delays() {
	probe "$1" "$PROBES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
f, b = r["forward_ms"]["min"], r["backward_ms"]["min"]
wf, wb = float(sys.argv[1]), float(sys.argv[2])
print("forward %.3f ms, backward %.3f ms (least of %d answers; medians "
      "%.3f and %.3f), want %g and %g +- 1" % (f, b, r["answered"],
      r["forward_ms"]["median"], r["backward_ms"]["median"], wf, wb))
sys.exit(0 if abs(f - wf) <= 1 and abs(b - wb) <= 1 else 1)' "$2" "$3"
}

# losses PORT forward|backward: losses on that side only.
losses() {
	probe "$1" "$LOSS_PROBES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
fl, bl = r["forward_loss"], r["backward_loss"]
print("sent %d, answered %d, forward loss %d, backward loss %d"
      % (r["sent"], r["answered"], fl, bl))
lost, other = (fl, bl) if sys.argv[1] == "forward" else (bl, fl)
sys.exit(0 if lost >= 20 and other == 0 else 1)' "$2"
}

for who in sockechod reference; do
	port=$DPORT
	[ "$who" = sockechod ] || port=$RPORT
	netem "$NB" vb delay 20ms
	check "$who: 20 ms out (netem on B) shows forward only" \
	    delays "$port" 20 0
	netem "$NB" vb off
	netem "$NA" va delay 20ms
	check "$who: 20 ms back (netem on A) shows backward only" \
	    delays "$port" 0 20
	netem "$NA" va off
	netem "$NB" vb loss 20%
	check "$who stateful: loss on the way out is forward loss" \
	    losses "$port" forward
	netem "$NB" vb off
	netem "$NA" va loss 20%
	check "$who stateful: loss on the way back is backward loss" \
	    losses "$port" backward
	netem "$NA" va off
done

echo "1..$n"
[ "$failures" -eq 0 ]
