#!/bin/sh
# SPDX-License-Identifier: ISC
#
# uring-compare.sh: the io_uring experiment of issue 11, measured: the
# io_uring peer, the minimal epoll peer and sockechod side by side in one
# run, every scenario interleaved over the servers, REPS repetitions, and
# the medians. It starts and stops its own servers on 127.0.0.1 ports
# below the ephemeral range, and judges nothing: bench/IO_URING.md does.
#
# usage: bench/uring-compare.sh BUILDDIR [REPS [MS]]
#   BUILDDIR holds src/sockechod, bench/echoload and bench/peers/*_echo
#   (make bench-peers builds them); raw lines go to stderr, medians to stdout.
set -eu

top=${1:?usage: uring-compare.sh BUILDDIR [REPS [MS]]}
reps=${2:-5}
ms=${3:-2000}
base=${URING_COMPARE_PORT:-21100}
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || :; done; rm -rf "$tmp"' EXIT

# A server's processes: itself and its children, for echoload -p.
tree() {
	echo "$1$(pgrep -P "$1" | sed 's/^/,/' | tr -d '\n')"
}

wait_listen() {
	i=0
	while ! ss -Hltn "sport = :$1" | grep -q LISTEN; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { echo "nothing listens on $1" >&2; exit 1; }
		sleep 0.05
	done
}

start() {	# NAME PORT COMMAND...
	name=$1 port=$2
	shift 2
	"$@" >"$tmp/$name.log" 2>&1 &
	pids="$pids $!"
	wait_listen "$port"
	sleep 0.2	# the other processes of the tree finish forking
	echo "$name $port $(tree $!)" >>"$tmp/servers"
}

cat >"$tmp/sockecho.conf" <<CONF
listen = [ "127.0.0.1:$base" ];
workers = 2;
max_connections = 4096;
log_level = "warning";
CONF
: >"$tmp/servers"
start sockechod "$base" "$top/src/sockechod" -c "$tmp/sockecho.conf"
start epoll "$((base + 1))" "$top/bench/peers/epoll_echo" "$((base + 1))"
if [ -x "$top/bench/peers/uring_echo" ]; then
	start uring "$((base + 2))" "$top/bench/peers/uring_echo" "$((base + 2))"
fi

scenarios="rr64x1:-c1:rr rr64x100:-c100:-t2:rr rr64x1000:-c1000:-t2:rr
rr4kx100:-c100:-s4096:-t2:rr sessions64:-c64:-t2:sessions
bulk1Mx1:-c1:-s1048576:bulk bulk1Mx4:-c4:-s1048576:-t2:bulk"

r=0
while [ "$r" -lt "$reps" ]; do
	r=$((r + 1))
	for sc in $scenarios; do
		args=$(echo "${sc#*:}" | tr ':' ' ')
		while read -r name port tr; do
			# shellcheck disable=SC2086
			line=$("$top/bench/echoload" -d "$ms" -p "$tr" ${args% *} \
			    "${args##* }" "$port")
			echo "$r ${sc%%:*} $name $line" | tee -a "$tmp/raw" >&2
		done <"$tmp/servers"
	done
done

# Medians per scenario and server of ops/s, MB/s, p50, p99, CPU per op.
awk '
function med(key, n,   i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = v[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $2 " " $3
	if (!(k in cnt)) order[++nk] = k
	cnt[k]++
	for (f = 4; f <= NF; f++) {
		split($f, kv, "=")
		v[k SUBSEP kv[1], cnt[k]] = kv[2]
		cnt[k SUBSEP kv[1]] = cnt[k]
	}
}
END {
	printf "| scenario | server | ops/s | MB/s | p50 us | p99 us | CPU us/op | CPU us/MB | errors |\n"
	printf "|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, s, " ")
		printf "| %s | %s | %.0f | %.1f | %.0f | %.0f | %.2f | %.0f | %.0f |\n",
		    s[1], s[2], med(k SUBSEP "ops_per_s"), med(k SUBSEP "MB_per_s"),
		    med(k SUBSEP "p50_us"), med(k SUBSEP "p99_us"),
		    med(k SUBSEP "cpu_us_per_op"), med(k SUBSEP "cpu_us_per_MB"),
		    med(k SUBSEP "errors")
	}
}' "$tmp/raw"
