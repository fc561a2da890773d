#!/bin/sh
# SPDX-License-Identifier: ISC
# layers.sh: calls run one way between the folders of src/ (tools/layers:
# no upward include or call, no circle of files across folders), and the
# checker itself still fails on a planted upward call and a planted circle,
# and passes a flat tree whose files call each other. --strict on the
# tree: a circle inside a folder must share a private header (x_int.h).
set -u
srcdir=${SOCKECHOD_SRCDIR:-.}
layers=$srcdir/tools/layers
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A file $1 of a tree that defines $2() and calls each of the rest.
make_file() {
	f=$1
	name=$2
	shift 2
	mkdir -p "$(dirname "$f")"
	{
		printf '/* %s: planted by tests/lint/layers.sh. */\n' "$(basename "$f")"
		for c in "$@"; do
			printf 'int\t%s(void);\n' "$c"
		done
		printf '\nint\n%s(void)\n{\n\treturn 0' "$name"
		for c in "$@"; do
			printf ' + %s()' "$c"
		done
		printf ';\n}\n'
	} >"$f"
}

status=0
expect() {
	want=$1
	what=$2
	root=$3
	shift 3
	"$layers" --root "$root" >"$tmp/out" 2>&1
	rc=$?
	if [ "$want" = pass ] && [ $rc -ne 0 ]; then
		echo "FAIL: tools/layers rejects $what:"
		cat "$tmp/out"
		status=1
		return
	fi
	if [ "$want" = fail ] && [ $rc -ne 1 ]; then
		echo "FAIL: tools/layers passes $what (exit $rc)"
		status=1
		return
	fi
	for text in "$@"; do
		if ! grep -qF -- "$text" "$tmp/out"; then
			echo "FAIL: tools/layers does not say \"$text\" on $what:"
			cat "$tmp/out"
			status=1
		fi
	done
}

# Down is fine: master calls the worker, the worker calls core.
make_file "$tmp/down/src/core/clock.c" clock_now
make_file "$tmp/down/src/worker/work.c" work_run clock_now
make_file "$tmp/down/src/master/boss.c" boss_run work_run clock_now
expect pass "calls that run down" "$tmp/down"

# Up is not: core calls into the master.
make_file "$tmp/up/src/core/clock.c" clock_now boss_run
make_file "$tmp/up/src/master/boss.c" boss_run
expect fail "a call from core up to the master" "$tmp/up" \
    "upward: src/core/clock.c (core) -> src/master/boss.c (master): boss_run()"

# Nor is an include of a higher folder's header.
make_file "$tmp/inc/src/net/sock.c" sock_open
printf '#include "master/boss.h"\n' >>"$tmp/inc/src/net/sock.c"
mkdir -p "$tmp/inc/src/master"
printf 'int\tboss_run(void);\n' >"$tmp/inc/src/master/boss.h"
expect fail "an include from net up to the master" "$tmp/inc" \
    "upward: src/net/sock.c (net) -> src/master/boss.h (master)"

# A circle across folders, the pool's and the worker's.
make_file "$tmp/circle/src/master/pool.c" pool_turn work_main
make_file "$tmp/circle/src/worker/work.c" work_main pool_turn
expect fail "a circle across folders" "$tmp/circle" \
    "circle across folders: master/pool.c worker/work.c" \
    "worker/work.c -> master/pool.c (pool_turn())"

# The client uses core only: no call into the daemon's folders.
make_file "$tmp/client/src/core/sig.c" sig_now
make_file "$tmp/client/src/shm/board.c" board_read
make_file "$tmp/client/src/client/ping.c" ping_main sig_now board_read
expect fail "a client call into shared memory" "$tmp/client" \
    "upward: src/client/ping.c (client) -> src/shm/board.c (shm): board_read()"

# The client's side: measure uses client, never the other way; sockecho's
# main (src/sockecho.c) uses both, the daemon's main.c neither (issue 22).
make_file "$tmp/side/src/core/sig.c" sig_now
make_file "$tmp/side/src/client/stats.c" stats_add sig_now
make_file "$tmp/side/src/measure/ping.c" ping_main stats_add
make_file "$tmp/side/src/sockecho.c" main ping_main stats_add
expect pass "sockecho.c over measure over client" "$tmp/side"
make_file "$tmp/sideup/src/client/stats.c" stats_add ping_main
make_file "$tmp/sideup/src/measure/ping.c" ping_main
expect fail "a call from client up to measure" "$tmp/sideup" \
    "upward: src/client/stats.c (client) -> src/measure/ping.c (measure): ping_main()"
make_file "$tmp/topside/src/master/boss.c" boss_run
make_file "$tmp/topside/src/measure/ping.c" ping_main
make_file "$tmp/topside/src/main.c" daemon_main boss_run ping_main
make_file "$tmp/topside/src/sockecho.c" client_main ping_main boss_run
expect fail "the programs' mains crossing sides" "$tmp/topside" \
    "upward: src/main.c (top) -> src/measure/ping.c (measure): ping_main()" \
    "upward: src/sockecho.c (top) -> src/master/boss.c (master): boss_run()"

# A flat src/ is one folder: files calling each other pass.
make_file "$tmp/flat/src/a.c" a_run b_run
make_file "$tmp/flat/src/b.c" b_run a_run
expect pass "a flat tree" "$tmp/flat"

# The tree: strict, so that a circle inside a folder needs a shared
# private header too (none is left without one since issue 22); and
# bench/'s load generator and the load client under it (load/), one
# folder each, have no circle either.
if "$layers" --root "$srcdir" --summary --strict &&
    "$layers" --root "$srcdir" --tree bench --strict &&
    "$layers" --root "$srcdir" --tree load --strict; then
	echo "ok: no upward call and no circle across the folders of src/"
else
	status=1
fi
exit $status
