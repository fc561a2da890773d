#!/bin/bash
# SPDX-License-Identifier: ISC
# man-examples.sh: run the examples of the EXAMPLES sections of sockechod(8),
# sockecho(1) and sockecho.conf(5), verbatim from the pages, and check that
# they print and do what the pages say. It runs in a private network and
# mount namespace (its own loopback, its own /run and /var/log), so the
# examples' ports 7 and 7007 and their paths touch nothing of the host's.
# The examples that need systemd as PID 1 are left to tests/systemd/.
set -u

srcdir=${SOCKECHOD_SRCDIR:-..}
SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}

if [ -z "${MAN_EXAMPLES_INSIDE:-}" ]; then
	if ! unshare -mn --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a private network and mount namespace (needs root)"
		exit 77
	fi
	command -v ip >/dev/null || { echo "SKIP: no ip(8) (iproute2)"; exit 77; }
	MAN_EXAMPLES_INSIDE=1 exec unshare -mn --propagation private \
	    "$BASH" "$0" "$@"
fi

fails=0
T=$(mktemp -d /tmp/man-examples.XXXXXX) || exit 99
DAEMONS=()
cleanup() {
	local p

	for p in "${DAEMONS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ip link set lo up || exit 99
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/log || exit 99
mkdir -p /run/sockechod "$T/bin"
ln -s "$(cd "$(dirname "$SOCKECHOD")" && pwd)/$(basename "$SOCKECHOD")" "$T/bin/sockechod"
ln -s "$(cd "$(dirname "$SOCKECHO")" && pwd)/$(basename "$SOCKECHO")" "$T/bin/sockecho"
export PATH="$T/bin:$PATH"
cd "$T" || exit 99

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# blocks PAGE: the literal blocks of its EXAMPLES section, as files
# $T/PAGE.N, with mdoc's escapes undone.
blocks() {
	awk -v out="$T/$1" '
	/^\.Sh EXAMPLES/ { ex = 1; next }
	/^\.Sh / { ex = 0 }
	ex && /^\.Bd -literal/ { inb = 1; n++; printf "" > (out "." n); next }
	ex && /^\.Ed/ { inb = 0; next }
	ex && inb { gsub(/\\e/, "\\"); gsub(/\\&/, ""); print >> (out "." n) }
	END { print n + 0 > (out ".count") }' "$srcdir/man/$1.in"
}

expect_blocks() {
	local n

	n=$(cat "$T/$1.count")
	if [ "$n" -eq "$2" ]; then
		pass "$1: $n examples"
	else
		fail "$1: $n examples, this test knows $2: check the new ones here"
	fi
}

# wait_for SECONDS COMMAND...: until it succeeds.
wait_for() {
	local end=$((SECONDS + $1))

	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

answers() {
	[ "$(sockecho -t 5 -m probe "$@" 2>/dev/null)" = probe ]
}

# daemon LOG COMMAND...: start a daemon in the background; $! is it.
daemon() {
	local log=$1

	shift
	"$@" >>"$log" 2>&1 &
	DAEMONS+=("$!")
}

# session BLOCK: run the "$ command" lines of a block in this shell, in
# order, and compare each command's output with the lines the page shows
# under it. A command that starts the daemon in the foreground is run in
# the background, and waited for until it answers on the address it names.
session() {
	local file=$1 line cmd= want= got

	while IFS= read -r line || [ -n "$line" ]; do
		if [ -n "$cmd" ] && [ "${cmd%\\}" != "$cmd" ]; then
			cmd="${cmd%\\}${line#"${line%%[! ]*}"}"
			continue
		fi
		case $line in
		'$ '*)
			[ -n "$cmd" ] && run_one "$cmd" "$want"
			cmd=${line#\$ }
			want=
			;;
		*)
			want="$want$line"$'\n'
			;;
		esac
	done <"$file"
	[ -n "$cmd" ] && run_one "$cmd" "$want"
}

run_one() {
	local cmd=$1 want=$2 got

	case $cmd in
	"sockechod -c "*" -l "*)
		daemon "$T/foreground.log" eval "$cmd"
		FOREGROUND=$!
		if wait_for 15 answers 127.0.0.1 7007; then
			pass "\$ $cmd: runs and answers on 127.0.0.1:7007"
		else
			fail "\$ $cmd: no answer on 127.0.0.1:7007: $(tail -3 "$T/foreground.log")"
		fi
		return
		;;
	[a-z]*=*)
		# An assignment, for the commands after it.
		eval "$cmd"
		pass "\$ $cmd"
		return
		;;
	esac
	got=$(eval "$cmd" 2>"$T/err"; echo x)
	got=${got%x}
	# As a person typing would: the signal has done its work before the next.
	case $cmd in
	"kill -USR1 "*) wait_for 10 grep -q "status: slot" foreground.log ;;
	"kill -TTIN "*) wait_for 10 grep -q "SIGTTIN: " foreground.log ;;
	esac
	if [ "$got" = "$want" ]; then
		pass "\$ $cmd: prints$( [ -z "$want" ] && echo " nothing" || printf ' "%s"' "${want%$'\n'}")"
	else
		fail "\$ $cmd: printed \"$got\", the page says \"$want\" ($(head -c 300 "$T/err"))"
	fi
}

# ---------------------------------------------------------------------
# sockecho.conf(5): three configurations.
# ---------------------------------------------------------------------
blocks sockecho.conf.5
expect_blocks sockecho.conf.5 3

# 1: loopback and a local socket, four workers.
cp "$T/sockecho.conf.5.1" five1.conf
out=$(sockechod -t -c five1.conf 2>&1)
[ "$out" = "configuration OK" ] && pass "sockecho.conf(5) example 1: sockechod -t accepts it" ||
    fail "sockecho.conf(5) example 1: sockechod -t: $out"
daemon five1.log sockechod -c five1.conf
FIVE1=$!
if wait_for 15 answers 127.0.0.1 7 && answers ::1 7 &&
    answers unix:/run/sockechod/echo.sock; then
	pass "sockecho.conf(5) example 1: echoes on 127.0.0.1:7, [::1]:7 and unix:/run/sockechod/echo.sock"
else
	fail "sockecho.conf(5) example 1: not on all three addresses: $(tail -3 five1.log)"
fi
workers=$(pgrep -c -P "$FIVE1")
[ "$workers" -eq 4 ] && pass "sockecho.conf(5) example 1: 4 workers" ||
    fail "sockecho.conf(5) example 1: $workers workers, not 4"

# 2: message mode on *:7007.
cp "$T/sockecho.conf.5.2" five2.conf
out=$(sockechod -t -c five2.conf 2>&1)
[ "$out" = "configuration OK" ] && pass "sockecho.conf(5) example 2: sockechod -t accepts it" ||
    fail "sockecho.conf(5) example 2: sockechod -t: $out"
daemon five2.log sockechod -c five2.conf
if wait_for 15 answers 127.0.0.1 7007 && grep -q "message mode, on 0.0.0.0:7007 \[::\]:7007" five2.log &&
    [ "$( (printf one; sleep 0.5; printf two) | sockecho -t 5 127.0.0.1 7007)" = onetwo ]; then
	pass "sockecho.conf(5) example 2: message mode on *:7007"
else
	fail "sockecho.conf(5) example 2: $(tail -3 five2.log)"
fi
kill -TERM "$!" && wait "$!"

# 3: a main file that includes a local one (the page's path is a comment).
sed 's|@sysconfdir@|/etc|' "$T/sockecho.conf.5.3" >main.conf
echo 'workers = 2;' >sockecho.local.conf
out=$(sockechod -t -c main.conf 2>&1)
[ "$out" = "configuration OK" ] && pass "sockecho.conf(5) example 3: the @include is found beside the main file" ||
    fail "sockecho.conf(5) example 3: sockechod -t: $out"
echo 'workres = 2;' >sockecho.local.conf
out=$(sockechod -t -c main.conf 2>&1)
case $out in
*"sockecho.local.conf:1: unknown setting \"workres\""*)
	pass "sockecho.conf(5) example 3: an error in the included file names it" ;;
*)	fail "sockecho.conf(5) example 3: $out" ;;
esac

# ---------------------------------------------------------------------
# sockechod(8): check, run, reload, status, add a worker, stop.
# ---------------------------------------------------------------------
blocks sockechod.8
expect_blocks sockechod.8 4
cp "$srcdir/etc/sockecho.conf" ./sockecho.conf
chmod u+w ./sockecho.conf
echo "sockechod(8) example 1:"
session "$T/sockechod.8.1"

# ---------------------------------------------------------------------
# sockecho(1), against the daemons above (7007 and example 1 of (5)).
# ---------------------------------------------------------------------
blocks sockecho.1
expect_blocks sockecho.1 8
head -c 300000 /dev/urandom | base64 >/var/log/syslog
echo "sockecho(1) example 1:"
session "$T/sockecho.1.1"
echo "sockecho(1) example 2:"
session "$T/sockecho.1.2"
cmd=$(cat "$T/sockecho.1.3")
if eval "$cmd"; then
	pass "sockecho(1) example 3: \"$cmd\" exits 0"
else
	fail "sockecho(1) example 3: \"$cmd\" exits $?"
fi
# Against a server that answers something else, the health check fails.
kill -STOP $(pgrep -P "$FIVE1")
if eval "${cmd/-t 5/-t 1}" 2>/dev/null; then
	fail "sockecho(1) example 3: exits 0 with every worker stopped"
else
	pass "sockecho(1) example 3: fails when the server does not answer in time"
fi
kill -CONT $(pgrep -P "$FIVE1")
echo "sockecho(1) example 4:"
session "$T/sockecho.1.4"

# Examples 6 and 7 measure: their times vary, so their counts are checked.
for i in 6 7; do
	cmd=$(sed -n 's/^\$ //p' "$T/sockecho.1.$i")
	if out=$(eval "$cmd" 2>&1) &&
	    grep -q " probes transmitted, [0-9]* received, 0% loss" <<<"$out"; then
		pass "sockecho(1) example $i: \"$cmd\" exits 0, nothing lost"
	else
		fail "sockecho(1) example $i: \"$cmd\": $out"
	fi
done

# Example 5 is UDP on localhost 7007, both of its addresses.
printf 'listen = [ "udp:127.0.0.1:7007", "udp:[::1]:7007" ];\nworkers = 1;\n' >udp.conf
daemon udp.log sockechod -c udp.conf
UDP=$!
wait_for 15 grep -q "ready:" udp.log
echo "sockecho(1) example 5:"
session "$T/sockecho.1.5"
cmd=$(sed -n 's/^\$ //p' "$T/sockecho.1.8")
if out=$(eval "$cmd" 2>&1) && grep -q '"received": 5,' <<<"$out"; then
	pass "sockecho(1) example 8: \"$cmd\" prints JSON, 5 received"
else
	fail "sockecho(1) example 8: \"$cmd\": $out"
fi
kill -TERM "$UDP" && wait "$UDP"

# Back to sockechod(8): example 2 drives the daemon of example 1.
echo "sockechod(8) example 2:"
session "$T/sockechod.8.2"
wait_for 10 grep -q "status: slot" foreground.log &&
    pass "sockechod(8) example 2: kill -USR1 logged the status table" ||
    fail "sockechod(8) example 2: no status table in the log"
wait_for 10 grep -q "SIGTTIN: .* workers wanted" foreground.log &&
    pass "sockechod(8) example 2: kill -TTIN added a worker" ||
    fail "sockechod(8) example 2: no SIGTTIN line in the log"
if wait_for 20 eval '! kill -0 $FOREGROUND 2>/dev/null'; then
	wait "$FOREGROUND"
	rc=$?
	[ "$rc" -eq 0 ] && pass "sockechod(8) example 2: kill -TERM: it exits 0" ||
	    fail "sockechod(8) example 2: exit status $rc after SIGTERM"
	[ ! -e sockechod.pid ] && pass "sockechod(8) example 2: ./sockechod.pid is removed" ||
	    fail "sockechod(8) example 2: ./sockechod.pid is still there"
else
	fail "sockechod(8) example 2: still running 20 s after kill -TERM"
fi
# Examples 3 and 4 are for systemd and the journal: tests/systemd/ runs them.
for n in 3 4; do
	grep -Eq '^(# systemctl|\$ journalctl)' "$T/sockechod.8.$n" &&
	    pass "sockechod(8) example $n: needs systemd as PID 1 (tests/systemd)" ||
	    fail "sockechod(8) example $n: not a systemd example any more: check it here"
done

echo "$fails failed"
[ "$fails" -eq 0 ]
