#!/bin/bash
# SPDX-License-Identifier: ISC
# stamp-oneway.sh: one-way delay and loss on loopback, through the
# reference's relay (tests/stamp/stamp_ref.py relay), which delays or
# drops one direction only, for kernels without sch_netem
# (tests/integ/stamp-netns.sh does the same with netem and a veth pair):
# 20 ms added on the way out shows in the forward delay (T2-T1) and not
# the backward (T4-T3), within 1 ms, and the other way round; loss added
# one way shows on that side only with a stateful reflector (RFC 8762
# section 4.3). The reflectors: sockechod, and the reference's own.
# Exits 0 when all passed, 77 without python3, 1 otherwise.

set -u
: "${SOCKECHOD:=src/sockechod}"
: "${SOCKECHOD_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
REF="$SOCKECHOD_SRCDIR/tests/stamp/stamp_ref.py"
PROBES=50
LOSS_PROBES=150

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sockechod-stamp-oneway.XXXXXX")
PIDS=()
cleanup() {
	local p

	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

failures=0
n=0
check() {
	local what=$1

	shift
	n=$((n + 1))
	if "$@" >"$T/out" 2>&1; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		failures=$((failures + 1))
	fi
	sed 's/^/#   /' "$T/out"
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

# start LOG CMD...: a background process that prints "ready" in LOG.
start() {
	local log=$1

	shift
	# Emptied here, not by the child's redirection: the wait below must
	# not find the "ready" of the process that wrote this log before.
	: >"$log"
	"$@" >>"$log" 2>&1 &
	PIDS+=($!)
	LAST=$!
	wait_for 10 grep -qs "ready" "$log"
}

start_reflectors() {
	local try

	for try in 1 2 3 4 5; do
		DPORT=$((20000 + RANDOM % 10000))
		RPORT=$((DPORT + 1))
		MPORT=$((DPORT + 2))
		printf 'listen = [ "stamp:127.0.0.1:%s" ];\nworkers = 2;\n%s\n%s\n' \
		    "$DPORT" "udp_max_datagrams_per_client = 0;" \
		    "metrics_listen = \"127.0.0.1:$MPORT\";" >"$T/c.conf"
		start "$T/daemon.log" "$SOCKECHOD" -c "$T/c.conf" &&
		    start "$T/ref.log" python3 "$REF" reflect "$RPORT" \
		    --stateful && return 0
	done
	cat "$T/daemon.log" "$T/ref.log"
	echo "Bail out! no reflector"
	exit 1
}

# relay_to PORT ARGS...: a relay to PORT (RELAY is its port).
relay_to() {
	local target=$1 try

	shift
	if [ -n "${RELAY_PID:-}" ]; then
		kill -KILL "$RELAY_PID" 2>/dev/null
		wait "$RELAY_PID" 2>/dev/null
	fi
	for try in 1 2 3 4 5; do
		RELAY=$((20000 + RANDOM % 10000))
		# Never a reflector's port: the probes would skip the relay.
		case $RELAY in "$DPORT"|"$RPORT"|"$MPORT") continue ;; esac
		if start "$T/relay.log" python3 "$REF" relay "$RELAY" "$target" \
		    "$@"; then
			RELAY_PID=$LAST
			return 0
		fi
		kill -KILL "$LAST" 2>/dev/null
		wait "$LAST" 2>/dev/null
	done
	echo "Bail out! no relay"
	exit 1
}

probe() {
	python3 "$REF" probe 127.0.0.1 "$RELAY" "$1" --interval 0.005 --wait 0.1
}

# delays FORWARD_MS BACKWARD_MS: the least forward and backward
# delays (RFC 7679's minimum one-way delay, which the queueing and the
# scheduling of a loaded machine cannot lower) within 1 ms of them; the
# medians are printed.
delays() {
	probe "$PROBES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
f, b = r["forward_ms"]["min"], r["backward_ms"]["min"]
wf, wb = float(sys.argv[1]), float(sys.argv[2])
print("forward %.3f ms, backward %.3f ms (least of %d answers; medians "
      "%.3f and %.3f), want %g and %g +- 1" % (f, b, r["answered"],
      r["forward_ms"]["median"], r["backward_ms"]["median"], wf, wb))
sys.exit(0 if abs(f - wf) <= 1 and abs(b - wb) <= 1 else 1)' "$@"
}

# losses forward|backward: losses on that side only.
losses() {
	probe "$LOSS_PROBES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
fl, bl = r["forward_loss"], r["backward_loss"]
print("sent %d, answered %d, forward loss %d, backward loss %d"
      % (r["sent"], r["answered"], fl, bl))
lost, other = (fl, bl) if sys.argv[1] == "forward" else (bl, fl)
sys.exit(0 if lost >= 20 and other == 0 else 1)' "$1"
}

start_reflectors
for who in sockechod reference; do
	port=$DPORT
	[ "$who" = sockechod ] || port=$RPORT
	relay_to "$port" --delay-out 20
	fails=$failures
	check "$who: 20 ms on the way out shows forward only" delays 20 0
	relay_to "$port" --delay-back 20
	check "$who: 20 ms on the way back shows backward only" delays 0 20
	relay_to "$port" --loss-out 20
	check "$who stateful: loss on the way out is forward loss" \
	    losses forward
	relay_to "$port" --loss-back 20
	check "$who stateful: loss on the way back is backward loss" \
	    losses backward
	# What sockechod counted, when one of its cases failed.
	[ "$who" != sockechod ] || [ "$failures" = "$fails" ] ||
	    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1],
    timeout=5).read().decode())' "$MPORT" | grep "^sockechod_stamp" |
	    grep -v " 0$" | sed 's/^/# /'
done

echo "1..$n"
[ "$failures" -eq 0 ]
