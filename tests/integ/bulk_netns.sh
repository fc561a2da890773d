#!/bin/bash
# SPDX-License-Identifier: ISC
# bulk_netns.sh: sockecho --bulk --ping measures latency under load. In a
# private network and mount namespace it makes a second namespace for the
# server, joined by a veth pair rate-limited both ways with tc's token
# bucket (20 Mbit/s, a 400 ms queue: a bloated buffer), runs sockechod
# there, and checks that the report shows the idle and the loaded probe
# RTTs side by side and that the loaded p50 is far above the idle one.
# Skips (77) without root, namespaces, ip(8), tc(8) or sch_tbf.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}
SOCKECHOD=$(cd "$(dirname "$SOCKECHOD")" && pwd)/$(basename "$SOCKECHOD")
SOCKECHO=$(cd "$(dirname "$SOCKECHO")" && pwd)/$(basename "$SOCKECHO")

if [ -z "${BULK_NETNS_INSIDE:-}" ]; then
	command -v ip >/dev/null || { echo "SKIP: no ip(8)"; exit 77; }
	command -v tc >/dev/null || { echo "SKIP: no tc(8)"; exit 77; }
	if ! unshare -mn --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a network and mount namespace (needs root)"
		exit 77
	fi
	BULK_NETNS_INSIDE=1 SOCKECHOD=$SOCKECHOD SOCKECHO=$SOCKECHO \
	    exec unshare -mn --propagation private "$BASH" "$0" "$@"
fi

T=$(mktemp -d /tmp/bulk_netns.XXXXXX) || exit 99
NS=bulk$$
DPID=
cleanup() {
	[ -n "$DPID" ] && { kill -KILL "$DPID"; wait "$DPID"; } 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

mount -t tmpfs tmpfs /run || exit 99
ip link set lo up || exit 99
ip netns add "$NS" || { echo "SKIP: ip netns add failed"; exit 77; }
ip link add veth0 type veth peer name veth1 || exit 99
ip link set veth1 netns "$NS" || exit 99
ip addr add 10.26.0.1/24 dev veth0 && ip link set veth0 up || exit 99
ip netns exec "$NS" ip addr add 10.26.0.2/24 dev veth1 || exit 99
ip netns exec "$NS" ip link set veth1 up || exit 99
ip netns exec "$NS" ip link set lo up || exit 99
TBF="tbf rate 20mbit burst 32kbit latency 400ms"
if ! tc qdisc add dev veth0 root $TBF 2>"$T/tc.err"; then
	echo "SKIP: no sch_tbf: $(cat "$T/tc.err")"
	exit 77
fi
ip netns exec "$NS" tc qdisc add dev veth1 root $TBF || exit 99

printf 'workers = 1;\n' >"$T/d.conf"
ip netns exec "$NS" "$SOCKECHOD" -c "$T/d.conf" -l 10.26.0.2:7007 \
    >"$T/d.log" 2>&1 &
DPID=$!
# Ready: a connect retry with a deadline (50 tries of up to 0.2 s each).
for i in $(seq 50); do
	[ "$("$SOCKECHO" -T 0.2 -t 1 -m up 10.26.0.2 7007 2>/dev/null)" = up ] &&
	    break
	[ "$i" -eq 50 ] && { echo "FAIL: sockechod never answered"; cat "$T/d.log"; exit 1; }
done

"$SOCKECHO" --bulk -P 4 -p --idle 2 --ping-interval 0.1 -t 4 -i 0 \
    10.26.0.2 7007 >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
grep -q '^latency under load (ms):$' "$T/out" ||
    { echo "FAIL: no latency table"; exit 1; }
idle=$(awk '$1 == "idle" { print $5 }' "$T/out")
loaded=$(awk '$1 == "loaded" { print $5 }' "$T/out")
case "$idle$loaded" in
*[!0-9.]*|'') echo "FAIL: no p50 in the idle and loaded rows"; exit 1 ;;
esac
grep -q ', load [0-9.]* MB/s out, [0-9.]* MB/s back$' "$T/out" ||
    { echo "FAIL: no throughput beside the latency"; exit 1; }
idle90=$(awk '$1 == "idle" { print $6 }' "$T/out")
loaded90=$(awk '$1 == "loaded" { print $6 }' "$T/out")
case "$idle90$loaded90" in
*[!0-9.]*|'') echo "FAIL: no p90 in the idle and loaded rows"; exit 1 ;;
esac
# A 20 Mbit/s link with a 400 ms queue. How full four streams keep it at
# any moment depends on how the machine schedules them: loaded p50s of
# 53-68 ms were measured on a quiet machine, 3 ms at a load average of 10,
# and 0.23 ms (p90 10.7 ms) during a whole tools/check, where the queue
# built in bursts. So the report is asked for the rise in both: the loaded
# p50 above the idle one, and the loaded p90 at least 5 times the idle p90
# and 2 ms more (no load: both rows alike, well under a millisecond).
if awk -v i="$idle" -v l="$loaded" -v i9="$idle90" -v l9="$loaded90" \
    'BEGIN { exit !(l > i && l9 > i9 + 2 && l9 > 5 * i9) }'; then
	echo "PASS: p50 idle $idle ms, loaded $loaded ms; p90 $idle90, $loaded90 ms"
	exit 0
fi
echo "FAIL: p50 idle $idle ms, loaded $loaded ms; p90 $idle90, $loaded90 ms: no rise under load"
exit 1
