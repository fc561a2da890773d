#!/bin/bash
# SPDX-License-Identifier: ISC
# stamp.sh: sockechod's STAMP reflector against the independent reference
# (tests/stamp/stamp_ref.py, written from RFC 8762's and RFC 8972's
# figures). The reference's own reflector passes its own checks first, so
# that a fault in the reference shows as such; then sockechod, stateful
# and stateless, byte for byte: NTP and PTP, 44 to 1472 bytes, the TTL,
# TLVs, short packets dropped; then allow/deny and the per-client rate.
# Exits 0 when all passed, 77 without python3, 1 otherwise.

set -u
: "${SOCKECHOD:=src/sockechod}"
: "${SOCKECHOD_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
REF="$SOCKECHOD_SRCDIR/tests/stamp/stamp_ref.py"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sockechod-stamp.XXXXXX")
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

# start_ref [--stateful]: the reference reflector on a free port (PORT).
start_ref() {
	local try

	for try in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 10000))
		: >"$T/ref.log"	# not the child's redirection: see stamp-oneway.sh
		python3 "$REF" reflect "$PORT" "$@" >>"$T/ref.log" 2>&1 &
		PIDS+=($!)
		wait_for 10 grep -q ready "$T/ref.log" && return 0
	done
	echo "Bail out! the reference reflector did not start"
	exit 1
}

# start_daemon SETTINGS...: sockechod with a stamp: listener on PORT,
# on HOST (127.0.0.1 unless set); %M in a setting is PORT + 1.
start_daemon() {
	local try

	for try in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 10000))
		{
			echo "listen = [ \"stamp:${HOST:-127.0.0.1}:$PORT\" ];"
			echo "workers = 2;"
			printf '%s\n' "$@" | sed "s/%M/$((PORT + 1))/g"
		} >"$T/c.conf"
		"$SOCKECHOD" -c "$T/c.conf" >"$T/daemon.log" 2>&1 &
		DPID=$!
		PIDS+=("$DPID")
		wait_for 10 grep -q "ready:" "$T/daemon.log" && return 0
		kill -KILL "$DPID" 2>/dev/null
	done
	cat "$T/daemon.log"
	echo "Bail out! sockechod did not start"
	exit 1
}

# metrics_are LINE...: the metrics endpoint (its address from the log)
# has each line.
metrics_are() {
	local addr line ok=0

	addr=$(sed -n 's/.*metrics on http:\/\/\([0-9.]*:[0-9]*\).*/\1/p' \
	    "$T/daemon.log" | head -1)
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://%s/metrics" % sys.argv[1],
    timeout=5).read().decode())' "$addr" >"$T/metrics" || return 1
	for line in "$@"; do
		grep -qxF "$line" "$T/metrics" && continue
		echo "no line: $line"
		ok=1
	done
	[ "$ok" = 0 ] || grep '^sockechod_stamp' "$T/metrics"
	return "$ok"
}

stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
}

# answered COUNT: how many of COUNT probes sent at once were answered.
answered() {
	python3 "$REF" burst 127.0.0.1 "$PORT" "$1"
}

answered_is() {
	local got

	got=$(answered "$1")
	echo "answered $got of $1, want $2"
	[ "$got" = "$2" ]
}

answered_between() {
	local got

	got=$(answered "$1")
	echo "answered $got of $1, want $2..$3"
	[ "$got" -ge "$2" ] && [ "$got" -le "$3" ]
}

start_ref
check "the reference reflector, stateless, passes the reference sender" \
    python3 "$REF" check 127.0.0.1 "$PORT"
start_ref --stateful
check "the reference reflector, stateful, passes the reference sender" \
    python3 "$REF" check 127.0.0.1 "$PORT" --stateful

start_daemon "udp_max_datagrams_per_client = 0;"
check "sockechod stateful: byte for byte, NTP and PTP, 44-1472 bytes, TTL, TLVs, short dropped" \
    python3 "$REF" check 127.0.0.1 "$PORT" --stateful
check "sockechod answers 200 probes sent at once" answered_is 200 200
stop_daemon
start_daemon "stamp_stateful = false;" "udp_max_datagrams_per_client = 0;" \
    "metrics_listen = \"127.0.0.1:%M\";"
check "sockechod stateless: byte for byte, the sender's sequence numbers" \
    python3 "$REF" check 127.0.0.1 "$PORT"
check "the counters: 4 malformed dropped, TLVs flagged, 19 reflected" \
    wait_for 5 metrics_are 'sockechod_stamp_dropped_packets_total{reason="malformed"} 4' \
    'sockechod_stamp_tlvs_total{flag="unknown"} 2' \
    'sockechod_stamp_tlvs_total{flag="malformed"} 2' \
    'sockechod_stamp_reflected_packets_total 19' \
    'sockechod_stamp_received_packets_total 23'
stop_daemon
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	HOST="[::1]" start_daemon "udp_max_datagrams_per_client = 0;"
	check "sockechod over IPv6: byte for byte, the hop limit copied" \
	    python3 "$REF" check ::1 "$PORT" --stateful
	stop_daemon
else
	echo "# no IPv6 loopback: the IPv6 case skipped"
fi

start_daemon 'allow = [ "192.0.2.0/24" ];'
check "a source that allow does not list is not answered" answered_is 5 0
stop_daemon
start_daemon 'deny = [ "127.0.0.0/8" ];' 'allow = [];'
check "a denied source is not answered" answered_is 5 0
stop_daemon
# 20 a second, a bucket of 20 (udp_policy.c): of 100 at once, about 20.
start_daemon "udp_max_datagrams_per_client = 20;"
check "the per-client rate limit holds STAMP too" answered_between 100 18 30
grep -q . "$T/daemon.log" && sed 's/^/# daemon: /' "$T/daemon.log"
stop_daemon

echo "1..$n"
[ "$failures" -eq 0 ]
