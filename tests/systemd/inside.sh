#!/bin/bash
# SPDX-License-Identifier: ISC
# inside.sh: the part of "make check-systemd" that runs inside the container,
# with systemd as PID 1, as the oneshot unit sockechod-e2e.service. It drives
# sockechod.socket and sockechod.service with systemctl, talks to the daemon
# with sockecho, and reads the outcome from systemd, /proc and the journal.
# It prints one TAP line per check and exits non-zero if any failed; the unit
# then ends the container with that status. It never sleeps blindly: every
# wait polls a real condition until a deadline.

# The DETAILS of check are single-quoted on purpose (expanded on failure).
# shellcheck disable=SC2016

set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C SYSTEMD_PAGER='' SYSTEMD_COLORS=0

HERE=/usr/local/lib/sockechod-e2e
SVC=sockechod.service
SOCK=sockechod.socket
CONF=/etc/sockecho.conf
UNITDIR=/lib/systemd/system
DROPIN=/etc/systemd/system/sockechod.service.d/test.conf
STANDALONE=sockechod-standalone.service
METRICS_SOCK=sockechod-metrics.socket
# The socket-activated service has no network of its own (issue 21).
EXPOSURE_MAX=0.8
T=$(mktemp -d /tmp/sockechod-e2e.XXXXXX)

n=0
failures=0
RELEASE_DETAILS=

finish() {
	local rc=$?

	trap - EXIT
	[ "$failures" -eq 0 ] || rc=1
	echo "1..$n"
	if [ "$rc" -ne 0 ]; then
		echo "# FAILED: $failures of $n checks failed (exit $rc)"
		echo "# the journal of this boot, last 200 lines:"
		journalctl -b --no-pager -o short-monotonic | tail -200 |
		    sed 's/^/#   /'
	else
		echo "# PASSED: all $n checks"
	fi
	rm -rf "$T"
	exit "$rc"
}
trap finish EXIT

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failures=$((failures + 1))
	echo "not ok $n - $1: ${2//$'\n'/ | }"
}

# check DESCRIPTION DETAILS CMD...: ok if CMD succeeds, else not ok. DETAILS
# is expanded like a double-quoted string only then, so that it shows the
# state after the failure: write it in single quotes.
check() {
	local what=$1 details=$2 d

	shift 2
	if "$@"; then
		ok "$what"
	else
		eval "d=\"$details\""
		not_ok "$what" "$d"
	fi
}

# Stop here: what follows cannot run (finish reports what has run).
bail() {
	echo "Bail out! $1"
	failures=$((failures + 1))
	exit 1
}

now_ms() {
	local t=${EPOCHREALTIME/./}

	echo $((t / 1000))
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0), or
# give up once SECONDS have passed (1).
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))

	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

prop() {
	systemctl show -P "$1" "${2:-$SVC}"
}

prop_is() {
	[ "$(prop "$1" "${3:-$SVC}")" = "$2" ]
}

active_is() {
	[ "$(systemctl is-active "${2:-$SVC}")" = "$1" ]
}

main_pid() {
	prop MainPID
}

# worker_pids PID: PID's live (not zombie) children, one a line, from
# /proc/*/stat (the kernel here has no /proc/PID/task/TID/children).
worker_pids() {
	local d stat f

	for d in /proc/[0-9]*; do
		read -r stat 2>/dev/null <"$d/stat" || continue
		# Fields after the command name: state, ppid, ...
		read -r -a f <<<"${stat##*) }"
		[ "${f[1]}" = "$1" ] && [ "${f[0]}" != Z ] && echo "${d#/proc/}"
	done | sort -n
}

worker_list() {
	worker_pids "$1" | tr '\n' ' '
}

worker_count_is() {
	[ "$(worker_pids "$1" | grep -c .)" -eq "$2" ]
}

# The PIDs of every process named sockechod (a master or a worker).
sockechod_pids() {
	local d comm

	for d in /proc/[0-9]*; do
		read -r comm 2>/dev/null <"$d/comm" || continue
		[ "$comm" = sockechod ] && echo "${d#/proc/}"
	done
	return 0
}

no_sockechod() {
	[ -z "$(sockechod_pids)" ]
}

# The service's journal of this boot, one JSON object a line.
journal_json() {
	journalctl -b -u "$SVC" -o json --no-pager
}

# journal_match FIELD=VALUE...: the service's entries that have them all.
journal_match() {
	local lines kv

	lines=$(journal_json)
	for kv; do
		lines=$(grep -F "\"${kv%%=*}\":\"${kv#*=}\"" <<<"$lines")
	done
	[ -n "$lines" ] && printf '%s\n' "$lines"
}

journal_has() {
	journal_match "$@" >/dev/null
}

# journal_get FIELD FIELD=VALUE...: FIELD of the entries that match.
journal_get() {
	local field=$1

	shift
	journal_match "$@" | grep -o "\"$field\":\"[^\"]*\"" |
	    sed 's/^"[^"]*":"//; s/"$//'
}

# journal_about TEXT: the service's entries that mention TEXT, shortened.
journal_about() {
	journal_json | grep -F -- "$1" | cut -c1-700 | head -5
}

# journal_text_has STRING [journalctl args]: a message of this boot has it.
journal_text_has() {
	local s=$1

	shift
	journalctl -b --no-pager -o cat "$@" | grep -qF -- "$s"
}

# echo_is HOST TEXT [PORT]: "sockecho -m TEXT HOST PORT" (default port 7)
# gets TEXT and a newline back, byte for byte.
echo_is() {
	printf '%s\n' "$2" >"$T/want"
	sockecho -T 10 -t 30 -m "$2" "$1" "${3:-7}" >"$T/got" 2>"$T/err" &&
	    cmp -s "$T/want" "$T/got"
}

# show FILE: FILE's first 200 bytes on one line, newlines as \n.
show() {
	head -c 200 "$1" | sed -z 's/\\/\\\\/g; s/\n/\\n/g'
}

echo_details() {
	echo "got \"$(show "$T/got")\"; stderr: $(show "$T/err")"
}

# hold_open NAME: a client that holds a connection open. What is written to
# fd 3 is sent; closing fd 3 half-closes; the reply goes to $T/NAME.out.
hold_open() {
	rm -f "$T/$1.fifo" "$T/$1.out"
	mkfifo "$T/$1.fifo"
	sockecho -T 10 -t 120 127.0.0.1 7 <"$T/$1.fifo" >"$T/$1.out" \
	    2>"$T/$1.err" &
	HELD_PID=$!
	exec 3>"$T/$1.fifo"
}

# held_got NAME TEXT: the held connection's reply so far is exactly TEXT
# (without its last newline).
held_got() {
	[ "$(cat "$T/$1.out")" = "$2" ]
}

# release NAME EXPECTED: close the held connection; the client exits 0 and
# its whole output is exactly EXPECTED.
release() {
	local rc

	exec 3>&-
	wait "$HELD_PID"
	rc=$?
	printf '%s' "$2" >"$T/$1.want"
	[ "$rc" -eq 0 ] && cmp -s "$T/$1.want" "$T/$1.out" && return 0
	# shellcheck disable=SC2034 # shown by the DETAILS of its check
	RELEASE_DETAILS="client exit $rc, got \"$(show "$T/$1.out")\", stderr: $(show "$T/$1.err")"
	return 1
}

# The configurations of the test are the installed sample with another
# "workers" (the sample's shutdown_timeout, 10 s, bounds step 6's drain).
sample_with_workers() {
	if grep -Eq '^[[:space:]]*workers[[:space:]]*[=:]' "$T/sample.conf"; then
		sed -E "s/^([[:space:]]*)workers[[:space:]]*[=:].*/\1workers = $1;/" \
		    "$T/sample.conf"
	else
		cat "$T/sample.conf"
		echo "workers = $1;"
	fi
}

# write_conf FILE: make FILE the configuration, in one rename.
write_conf() {
	cp "$1" "$CONF.tmp" && chmod 0644 "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
}

# The MESSAGE_IDs, from the daemon's own src/core/msgid.h (copied next to us).
declare -A MSGID
while read -r name id; do
	MSGID[$name]=$id
done < <(sed -n 's/^#define[[:space:]]*MSGID_\([A-Z_]*\)[[:space:]]*"\([0-9a-f]\{32\}\)".*/\1 \2/p' "$HERE/msgid.h")
for name in STARTED READY RELOADED RELOAD_FAILED WORKER_EXITED \
    WORKER_RESPAWNED STOPPING STOPPED CONNECTION; do
	[ -n "${MSGID[$name]:-}" ] || bail "no MSGID_$name in $HERE/msgid.h"
done

# ---------------------------------------------------------------------
# Install: the package, with apt-get, as an administrator would.
# ---------------------------------------------------------------------
PKG_INSTALL=$(ls "$HERE"/install/sockechod_*.deb 2>/dev/null)
PKG_UPGRADE=$(ls "$HERE"/upgrade/sockechod_*.deb 2>/dev/null)
[ -n "$PKG_INSTALL" ] && [ -n "$PKG_UPGRADE" ] ||
    bail "no packages in $HERE/install and $HERE/upgrade"

# apt_get ARGS...: apt-get without questions; its output into $T/apt.log.
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q \
	    -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold "$@" >"$T/apt.log" 2>&1
}

installed_version() {
	dpkg-query -W -f='${Status} ${Version}' sockechod 2>/dev/null |
	    sed -n 's/^install ok installed //p'
}

enabled_is() {
	[ "$(systemctl is-enabled "$2" 2>/dev/null)" = "$1" ]
}

step_install() {
	local rc

	apt_get install "$PKG_INSTALL"
	rc=$?
	check "install: apt-get install $PKG_INSTALL exits 0" \
	    'exit $rc: $(tail -5 "$T/apt.log")' test "$rc" -eq 0
	check "install: dpkg has sockechod $(dpkg-deb -f "$PKG_INSTALL" Version) installed" \
	    'dpkg-query: $(dpkg-query -W sockechod 2>&1)' \
	    test "$(installed_version)" = "$(dpkg-deb -f "$PKG_INSTALL" Version)"
	[ "$rc" -eq 0 ] || bail "the package did not install"
	check "install: $CONF is a conffile of the package" \
	    '$(dpkg-query -W -f="\${Conffiles}" sockechod)' \
	    eval 'dpkg-query -W -f="\${Conffiles}" sockechod | grep -q "^ $CONF "'
	check "install: $SOCK is enabled and listening (the Debian way)" \
	    'is-enabled: $(systemctl is-enabled $SOCK), is-active: $(systemctl is-active $SOCK)' \
	    eval 'enabled_is enabled "$SOCK" && active_is active "$SOCK"'
	check "install: $SVC is not enabled, and not started by the installation" \
	    'is-enabled: $(systemctl is-enabled $SVC), is-active: $(systemctl is-active $SVC)' \
	    eval 'enabled_is disabled "$SVC" && active_is inactive'
	check "install: the journal catalog has sockechod's entries (systemd's dpkg trigger ran journalctl --update-catalog)" \
	    '--list-catalog: $(journalctl --list-catalog 2>&1 | grep -ci sockechod) sockechod lines' \
	    catalog_has "${MSGID[RELOADED]}"
}

# ---------------------------------------------------------------------
# Step 0: the unit files, the installation, the catalog.
# ---------------------------------------------------------------------
catalog_has() {
	journalctl --list-catalog "$1" 2>/dev/null | grep -q sockechod
}

# exposure_at_most WHAT MAX ARGS...: "systemd-analyze security ARGS" gives
# an overall exposure level of at most MAX.
exposure_at_most() {
	local what=$1 max=$2 out score

	shift 2
	out=$(systemd-analyze security --no-pager "$@" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$out")
	if [ -z "$score" ]; then
		not_ok "$what: an overall exposure level" \
		    "none in: $(tail -5 <<<"$out")"
	elif awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
		ok "$what: overall exposure $score <= $max"
	else
		not_ok "$what: overall exposure <= $max" \
		    "it is $score; $(grep '✗' <<<"$out" | tr -s ' ' | head -20 | tr '\n' ';')"
	fi
}

step0() {
	local out rc

	# --man=no: the root file system is minbase, without man-db, so the
	# man: references of Documentation= cannot be looked up here.
	out=$(systemd-analyze verify --man=no "$UNITDIR/$SVC" "$UNITDIR/$SOCK" 2>&1)
	check "step 0: systemd-analyze verify of $SVC and $SOCK prints nothing" \
	    'it printed: $out' test -z "$out"

	exposure_at_most "step 0: systemd-analyze security --offline=true $SVC" \
	    "$EXPOSURE_MAX" --offline=true "$UNITDIR/$SVC"
	exposure_at_most "step 0: systemd-analyze security --offline=true $STANDALONE" \
	    1.5 --offline=true "$UNITDIR/$STANDALONE"
	out=$(systemd-analyze verify --man=no "$UNITDIR/$STANDALONE" \
	    "$UNITDIR/$METRICS_SOCK" 2>&1)
	check "step 0: systemd-analyze verify of $STANDALONE and $METRICS_SOCK prints nothing" \
	    'it printed: $out' test -z "$out"

	out=$(sockechod -t 2>&1)
	rc=$?
	check "step 0: the installed sample $CONF passes sockechod -t" \
	    'exit $rc: $out' test -f "$CONF" -a "$rc" -eq 0
	cp "$CONF" "$T/sample.conf" 2>/dev/null || : >"$T/sample.conf"
	sample_with_workers 2 >"$T/good2.conf"
	# From the reload of step 3 on, with the connection log (step 4).
	sample_with_workers 3 | sed -E \
	    's/^([[:space:]]*)log_connections[[:space:]]*[=:].*/\1log_connections = true;/' \
	    >"$T/good3.conf"
	grep -q '^log_connections = true;' "$T/good3.conf" ||
	    echo 'log_connections = true;' >>"$T/good3.conf"
	# The broken files: the good one with a bad line at its end.
	BAD_LINE=$(($(wc -l <"$T/good3.conf") + 1))
	{ cat "$T/good3.conf"; echo "this is not a setting"; } >"$T/syntax.conf"
	{ cat "$T/good3.conf"; echo "wrokers = 4;"; } >"$T/unknown.conf"

	# The templates, as two instances (they need no file to be verified).
	out=$(systemd-analyze verify --man=no sockechod@7007.socket \
	    sockechod@7007.service 2>&1)
	check "step 0: systemd-analyze verify of sockechod@7007.socket and .service prints nothing" \
	    'it printed: $out' test -z "$out"
}

# ---------------------------------------------------------------------
# Step 1: socket activation on the first connection (the package enabled
# and started the socket).
# ---------------------------------------------------------------------
has_dropin() {
	[[ " $(prop DropInPaths) " == *" $DROPIN "* ]]
}

step1() {
	# The shipped unit has WatchdogSec=30s; 3 s keeps step 5 short. The
	# drop-in is in place before the service starts for the first time.
	mkdir -p "${DROPIN%/*}"
	printf '[Service]\nWatchdogSec=3s\n' >"$DROPIN"
	systemctl daemon-reload
	check "step 1: systemd reads the test's drop-in ($DROPIN)" \
	    'DropInPaths=$(prop DropInPaths)' has_dropin

	write_conf "$T/good2.conf"

	check "step 1: $SVC is inactive before the first connection" \
	    'is-active: $(systemctl is-active $SVC)' active_is inactive

	check "step 1: the first connection (127.0.0.1) gets \"hello\\n\" back" \
	    '$(echo_details)' echo_is 127.0.0.1 hello
	check "step 1: the first connection started $SVC (active)" \
	    'is-active: $(systemctl is-active $SVC); $(systemctl status --no-pager $SVC 2>&1 | head -20)' \
	    wait_for 30 active_is active
	active_is active || bail "$SVC did not start: nothing else can be tested"

	if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
		check "step 1: over IPv6 (::1) too, \"hello\\n\" comes back" \
		    '$(echo_details)' echo_is ::1 hello
	else
		ok "step 1: over IPv6 (::1) too # SKIP no IPv6 address on lo"
	fi
}

# ---------------------------------------------------------------------
# Step 2: what systemd shows about the running service.
# ---------------------------------------------------------------------
status_has_counts() {
	local s

	s=$(prop StatusText)
	[[ $s == *workers* && $s == *"connections open"* ]]
}

status_shown() {
	systemctl status --no-pager "$SVC" 2>&1 |
	    grep -q 'Status: ".*workers.*connections open'
}

step2() {
	check "step 2: StatusText has \"workers\" and \"connections open\"" \
	    'StatusText=$(prop StatusText)' wait_for 10 status_has_counts
	check "step 2: systemctl status shows that status line" \
	    '$(systemctl status --no-pager $SVC 2>&1 | head -12)' status_shown
	# (Before the first start, systemd 252 shows WatchdogUSec=infinity.)
	check "step 2: the service runs with WatchdogUSec=3s (the drop-in)" \
	    'WatchdogUSec=$(prop WatchdogUSec)' prop_is WatchdogUSec 3s
	check "step 2: systemctl is-active $SVC says active" \
	    'is-active: $(systemctl is-active $SVC)' active_is active
	check "step 2: the journal has the socket-activation notice" \
	    'no \"socket activation\" in journalctl -u $SVC' \
	    wait_for 10 journal_text_has "socket activation" -u "$SVC"
	check "step 2: the master runs 2 workers (workers = 2)" \
	    'children of $(main_pid): $(worker_list "$(main_pid)")' \
	    wait_for 10 worker_count_is "$(main_pid)" 2
}

# ---------------------------------------------------------------------
# Step 3: reload, with a connection held open across it; failed reloads.
# ---------------------------------------------------------------------
status_starts() {
	[[ $(prop StatusText) == "$1"* ]]
}

status_has() {
	[[ $(prop StatusText) == *"$1"* ]]
}

same_master_serves() {
	[ "$(main_pid)" = "$1" ] && echo_is 127.0.0.1 "$2"
}

# bad_reload NAME FILE LINE: with FILE as the configuration (its line LINE
# is wrong), "systemctl reload" fails, the old master serves on, and the
# error in the journal names $CONF:LINE.
bad_reload() {
	local name=$1 line=$3 pid rc out

	pid=$(main_pid)
	write_conf "$2"
	out=$(systemctl reload "$SVC" 2>&1)
	rc=$?
	check "step 3: $name: systemctl reload fails" \
	    'exit $rc: $out' test "$rc" -ne 0
	check "step 3: $name: $SVC stays active" \
	    'is-active: $(systemctl is-active $SVC)' wait_for 10 active_is active
	check "step 3: $name: the same master ($pid) serves" \
	    'MainPID=$(main_pid); $(echo_details)' same_master_serves "$pid" x
	check "step 3: $name: the journal has the error at $CONF:$line" \
	    'no \"$CONF:$line:\" in journalctl -u $SVC: $(journalctl -b -u $SVC -o cat --no-pager | grep -F $CONF | tail -3)' \
	    wait_for 10 journal_text_has "$CONF:$line:" -u "$SVC"
}

reload_failed_logged() {
	journal_get RELOAD_ERROR MESSAGE_ID="${MSGID[RELOAD_FAILED]}" |
	    grep -qF "$CONF:$1:"
}

# One "ok" or the error a line in $T/pings per connection, until
# $T/pings.stop exists. 3>&-: it must not hold the held client's FIFO.
ping_loop() {
	local i=0 err

	exec 3>&-
	rm -f "$T/pings" "$T/pings.stop"
	until [ -e "$T/pings.stop" ]; do
		i=$((i + 1))
		if err=$(sockecho -c -q -T 5 -t 10 -m "ping $i" 127.0.0.1 7 2>&1); then
			echo ok >>"$T/pings"
		else
			echo "ping $i: exit $?: $err" >>"$T/pings"
		fi
	done
}

step3() {
	local pid out rc new ping_pid

	pid=$(main_pid)
	RELOAD_OLD_WORKERS=$(worker_list "$pid")

	hold_open reload
	printf 'before reload\n' >&3
	check "step 3: a held connection echoes before the reload" \
	    'got: \"$(show "$T/reload.out")\"' \
	    wait_for 10 held_got reload "before reload"

	# Clients that connect all through the reload: none may be refused.
	ping_loop &
	ping_pid=$!
	wait_for 10 test -s "$T/pings"

	write_conf "$T/good3.conf"
	out=$(systemctl reload "$SVC" 2>&1)
	rc=$?
	new=$(comm -13 <(tr ' ' '\n' <<<"$RELOAD_OLD_WORKERS" | sort) \
	    <(worker_pids "$pid" | sort) | grep -c .)
	check "step 3: systemctl reload (workers 2 -> 3) exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step 3: when systemctl reload returns, 3 new workers run" \
	    '$new new workers; children of $pid: $(worker_list $pid) (before: $RELOAD_OLD_WORKERS)' \
	    test "$new" -eq 3
	touch "$T/pings.stop"
	wait "$ping_pid"
	check "step 3: every connection made during the reload was echoed ($(grep -c . "$T/pings") of them)" \
	    '$(grep -vc "^ok" "$T/pings") failed: $(grep -v "^ok" "$T/pings" | head -3)' \
	    eval '! grep -qv "^ok" "$T/pings"'
	check "step 3: the same master ($pid) serves after the reload" \
	    'MainPID=$(main_pid)' prop_is MainPID "$pid"
	check "step 3: StatusText says 3 workers" \
	    'StatusText=$(prop StatusText)' wait_for 10 status_starts "3 workers,"
	# Old workers without a connection exit; the one with ours drains.
	check "step 3: 3 new workers and the old one that holds the connection run" \
	    'children of $pid: $(worker_list $pid) (before the reload: $RELOAD_OLD_WORKERS)' \
	    wait_for 15 worker_count_is "$pid" 4

	printf 'after reload\n' >&3
	check "step 3: the held connection echoes bytes sent after the reload" \
	    'got: \"$(show "$T/reload.out")\"' \
	    wait_for 10 held_got reload $'before reload\nafter reload'
	check "step 3: the held connection ends cleanly with exactly its bytes" \
	    '$RELEASE_DETAILS' release reload $'before reload\nafter reload\n'
	check "step 3: the master then has exactly 3 workers" \
	    'children of $pid: $(worker_list $pid)' \
	    wait_for 15 worker_count_is "$pid" 3
	check "step 3: new connections are served after the reload" \
	    '$(echo_details)' echo_is 127.0.0.1 "after reload"

	# A syntax error, then an unknown setting: "sockechod -t" in
	# ExecReload must reject both before the master is asked.
	bad_reload "syntax error" "$T/syntax.conf" "$BAD_LINE"
	bad_reload "unknown setting" "$T/unknown.conf" "$BAD_LINE"

	# SIGHUP without systemctl: the master itself must refuse the bad
	# file and say so, in the journal (MSGID_RELOAD_FAILED) and its status.
	kill -HUP "$pid"
	check "step 3: SIGHUP with a bad file: the master logs MESSAGE_ID=${MSGID[RELOAD_FAILED]} with RELOAD_ERROR at $CONF:$BAD_LINE" \
	    'RELOAD_ERROR of such entries: $(journal_get RELOAD_ERROR MESSAGE_ID="${MSGID[RELOAD_FAILED]}")' \
	    wait_for 10 reload_failed_logged "$BAD_LINE"
	check "step 3: SIGHUP with a bad file: StatusText says the last reload failed" \
	    'StatusText=$(prop StatusText)' \
	    wait_for 10 status_has "last reload failed"
	check "step 3: SIGHUP with a bad file: still active, the same master serves" \
	    'is-active: $(systemctl is-active $SVC), MainPID=$(main_pid); $(echo_details)' \
	    eval 'wait_for 10 active_is active && same_master_serves "$pid" y'

	# The good file again: a reload succeeds and clears the error.
	write_conf "$T/good3.conf"
	out=$(systemctl reload "$SVC" 2>&1)
	rc=$?
	check "step 3: good file restored: systemctl reload exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step 3: good file restored: StatusText no longer has the error" \
	    'StatusText=$(prop StatusText)' \
	    wait_for 10 eval '! status_has "reload failed"'
	check "step 3: good file restored: 3 workers" \
	    'children of $pid: $(worker_list $pid)' \
	    wait_for 15 worker_count_is "$pid" 3
}

# ---------------------------------------------------------------------
# Step 4: the journal: lifecycle MESSAGE_IDs, fields, catalog text.
# ---------------------------------------------------------------------
old_workers_exit_logged() {
	local p

	for p in $RELOAD_OLD_WORKERS; do
		journal_has MESSAGE_ID="${MSGID[WORKER_EXITED]}" WORKER_PID="$p" \
		    WORKER_GENERATION=1 PRIORITY=6 || return 1
	done
}

# The connection log's entries of the connections that sent $1 bytes, from
# 127.0.0.1, ended by the client, with every field of sockechod(8).
connection_entries() {
	journal_match MESSAGE_ID="${MSGID[CONNECTION]}" CLOSE_REASON=client-closed \
	    BYTES_IN="$1" BYTES_OUT="$1" PRIORITY=6 |
	    grep -E '"REMOTE_ADDR":"127\.0\.0\.1:[0-9]+"' |
	    grep -E '"DURATION_USEC":"[0-9]+"' | grep -F '"LISTENER":"'
}

connection_logged_once() {
	[ "$(connection_entries "$1" | grep -c .)" -eq 1 ]
}

journal_x_has() {
	journalctl -x -b -u "$SVC" --no-pager | grep -qF -- "$1"
}

step4() {
	local pid

	pid=$(main_pid)
	check "step 4: started: MESSAGE_ID=${MSGID[STARTED]} from the master with SYSLOG_IDENTIFIER=sockechod, PRIORITY=6" \
	    '$(journal_about ${MSGID[STARTED]})' \
	    journal_has MESSAGE_ID="${MSGID[STARTED]}" SYSLOG_IDENTIFIER=sockechod \
	    PRIORITY=6 _PID="$pid"
	check "step 4: ready: MESSAGE_ID=${MSGID[READY]} with WORKERS=2" \
	    '$(journal_about ${MSGID[READY]})' \
	    journal_has MESSAGE_ID="${MSGID[READY]}" WORKERS=2 _PID="$pid"
	check "step 4: reloaded: MESSAGE_ID=${MSGID[RELOADED]} with WORKERS=3, GENERATION=2" \
	    '$(journal_about ${MSGID[RELOADED]})' \
	    journal_has MESSAGE_ID="${MSGID[RELOADED]}" WORKERS=3 GENERATION=2
	check "step 4: worker exited: MESSAGE_ID=${MSGID[WORKER_EXITED]} for each replaced worker ($RELOAD_OLD_WORKERS) with WORKER_GENERATION=1, PRIORITY=6" \
	    'WORKER_PIDs of such entries: $(journal_get WORKER_PID MESSAGE_ID="${MSGID[WORKER_EXITED]}" | tr "\n" " ")' \
	    wait_for 10 old_workers_exit_logged
	check "step 4: reload failed: MESSAGE_ID=${MSGID[RELOAD_FAILED]} with PRIORITY=3" \
	    '$(journal_about ${MSGID[RELOAD_FAILED]})' \
	    journal_has MESSAGE_ID="${MSGID[RELOAD_FAILED]}" PRIORITY=3
	# log_connections = true since step 3: one entry per connection.
	check "step 4: an echo of 21 bytes with log_connections" \
	    '$(echo_details)' echo_is 127.0.0.1 "connection log check"
	check "step 4: connection log: one MESSAGE_ID=${MSGID[CONNECTION]} entry with REMOTE_ADDR, LISTENER, BYTES_IN=21, BYTES_OUT=21, DURATION_USEC, CLOSE_REASON=client-closed" \
	    '$(journal_about ${MSGID[CONNECTION]})' \
	    wait_for 10 connection_logged_once 21
	check "step 4: journalctl -x shows the catalog entry of a connection" \
	    '$(journalctl -x -b -u $SVC --no-pager | grep -A6 -F "reason=client-closed bytes_in=21" | head -8)' \
	    journal_x_has "Subject: A sockechod connection ended"
	check "step 4: journalctl -x shows the catalog entry of the reload" \
	    '$(journalctl -x -b -u $SVC --no-pager | grep -A4 -F "configuration reloaded" | head -8)' \
	    journal_x_has "Subject: sockechod reloaded its configuration"
	check "step 4: the catalog text has the entry's fields filled in" \
	    '$(journalctl -x -b -u $SVC --no-pager | grep -F "new generation" | head -3)' \
	    journal_x_has "A new generation (2) of 3 workers"
}

# ---------------------------------------------------------------------
# Step 5: a killed worker is replaced; a stopped master is restarted by
# the watchdog.
# ---------------------------------------------------------------------
replaced() {
	local pids

	pids=$(worker_pids "$1")
	[ "$(grep -c . <<<"$pids")" -eq 3 ] && ! grep -qx "$2" <<<"$pids"
}

restarted() {
	local pid

	pid=$(main_pid)
	[ "$pid" != 0 ] && [ "$pid" != "$1" ] &&
	    [ "$(prop NRestarts)" -gt "$2" ] && active_is active
}

gone() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" != sockechod ]
}

step5() {
	local pid victim before new restarts

	pid=$(main_pid)
	before=$(worker_pids "$pid")
	victim=$(head -1 <<<"$before")
	[ -n "$victim" ] || bail "the master $pid has no workers"
	kill -KILL "$victim"
	check "step 5: worker $victim SIGKILLed: a new one makes 3 workers again" \
	    'children of $pid: $(worker_list $pid)' \
	    wait_for 15 replaced "$pid" "$victim"
	new=$(comm -13 <(sort <<<"$before") <(worker_pids "$pid" | sort) | head -1)
	check "step 5: still active, the same master ($pid)" \
	    'is-active: $(systemctl is-active $SVC), MainPID=$(main_pid)' \
	    eval 'active_is active && prop_is MainPID "$pid"'
	check "step 5: worker exited: MESSAGE_ID=${MSGID[WORKER_EXITED]} with WORKER_PID=$victim, SIGNAL=SIGKILL" \
	    '$(journal_about "\"WORKER_PID\":\"$victim\"")' \
	    wait_for 10 journal_has MESSAGE_ID="${MSGID[WORKER_EXITED]}" \
	    WORKER_PID="$victim" SIGNAL=SIGKILL
	check "step 5: worker respawned: MESSAGE_ID=${MSGID[WORKER_RESPAWNED]} with the new WORKER_PID=$new" \
	    '$(journal_about ${MSGID[WORKER_RESPAWNED]})' \
	    wait_for 10 journal_has MESSAGE_ID="${MSGID[WORKER_RESPAWNED]}" \
	    WORKER_PID="$new"
	check "step 5: the new workers serve" '$(echo_details)' \
	    echo_is 127.0.0.1 respawned

	restarts=$(prop NRestarts)
	kill -STOP "$pid"
	check "step 5: master $pid SIGSTOPped: the watchdog has $SVC restarted (new MainPID, NRestarts > $restarts, active)" \
	    'MainPID=$(main_pid) NRestarts=$(prop NRestarts) ActiveState=$(prop ActiveState) SubState=$(prop SubState)' \
	    wait_for 60 restarted "$pid" "$restarts"
	check "step 5: systemd logged the watchdog timeout" \
	    'no \"Watchdog timeout\" in journalctl -u $SVC' \
	    journal_text_has "Watchdog timeout" -u "$SVC"
	check "step 5: the stopped master $pid is gone" \
	    '/proc/$pid/status: $(head -3 /proc/$pid/status 2>&1 | tr "\n" " ")' \
	    wait_for 10 gone "$pid"
	check "step 5: the restarted service echoes" \
	    '$(echo_details)' wait_for 10 echo_is 127.0.0.1 restarted
	check "step 5: the restarted master has 3 workers" \
	    'children of $(main_pid): $(worker_list "$(main_pid)")' \
	    wait_for 15 worker_count_is "$(main_pid)" 3
}

# ---------------------------------------------------------------------
# Step 6: stop drains the open connection, and is clean.
# ---------------------------------------------------------------------
step6() {
	local pid stop_pid rc

	pid=$(main_pid)
	hold_open stop
	printf 'before stop\n' >&3
	check "step 6: a held connection echoes before the stop" \
	    'got: \"$(show "$T/stop.out")\"' wait_for 10 held_got stop "before stop"

	# 3>&-: systemctl must not hold the client's FIFO open, or the client
	# would never see the end of its input, nor the stop the end of the
	# connection.
	systemctl stop "$SVC" "$SOCK" >"$T/stop.log" 2>&1 3>&- &
	stop_pid=$!
	check "step 6: systemctl stop $SVC $SOCK: the master is draining (StatusText)" \
	    'StatusText=$(prop StatusText), ActiveState=$(prop ActiveState)' \
	    wait_for 10 status_starts "Stopping:"
	check "step 6: the stopping status counts the held connection" \
	    'StatusText=$(prop StatusText)' status_has "1 connection draining"
	printf 'after stop\n' >&3
	check "step 6: the held connection echoes bytes sent after the stop began" \
	    'got: \"$(show "$T/stop.out")\"' \
	    wait_for 5 held_got stop $'before stop\nafter stop'
	check "step 6: the held connection ends cleanly with exactly its bytes" \
	    '$RELEASE_DETAILS' release stop $'before stop\nafter stop\n'

	# Well before shutdown_timeout (10 s): the drain ends with the
	# connection, not with the timeout.
	check "step 6: systemctl stop completes within 5 s of the connection's end" \
	    'still running; $(journalctl -b -u $SVC --no-pager -o cat | tail -5)' \
	    wait_for 5 eval '! kill -0 $stop_pid 2>/dev/null'
	wait "$stop_pid"
	rc=$?
	check "step 6: systemctl stop exits 0" 'exit $rc: $(cat "$T/stop.log")' \
	    test "$rc" -eq 0
	check "step 6: $SVC is inactive with Result=success, ExecMainStatus=0" \
	    'ActiveState=$(prop ActiveState) Result=$(prop Result) ExecMainCode=$(prop ExecMainCode) ExecMainStatus=$(prop ExecMainStatus)' \
	    eval 'active_is inactive && prop_is Result success && prop_is ExecMainStatus 0'
	check "step 6: $SOCK is inactive" \
	    'is-active: $(systemctl is-active $SOCK)' active_is inactive "$SOCK"
	check "step 6: no connection had to be cut at shutdown_timeout" \
	    '$(journalctl -b -u $SVC --no-pager -o cat | grep -F "after shutdown_timeout")' \
	    eval '! journal_text_has "after shutdown_timeout" -u "$SVC"'
	check "step 6: no sockechod process is left" \
	    'left: $(sockechod_pids | tr "\n" " ")' wait_for 5 no_sockechod
	check "step 6: stopping: MESSAGE_ID=${MSGID[STOPPING]} from the master with OPEN_CONNECTIONS=1" \
	    '$(journal_about ${MSGID[STOPPING]})' \
	    wait_for 10 journal_has MESSAGE_ID="${MSGID[STOPPING]}" _PID="$pid" \
	    OPEN_CONNECTIONS=1
	check "step 6: stopped: MESSAGE_ID=${MSGID[STOPPED]} from the master with EXIT_STATUS=0" \
	    '$(journal_about ${MSGID[STOPPED]})' \
	    wait_for 10 journal_has MESSAGE_ID="${MSGID[STOPPED]}" _PID="$pid" \
	    EXIT_STATUS=0
}

# ---------------------------------------------------------------------
# Step 7: two instances side by side (the templates); a reload of one does
# not touch the other.
# ---------------------------------------------------------------------
# Instance 7007 echoes in stream mode; 7008 in message mode, with messages
# of at most 16 bytes, so a longer one tells the two apart: 7008 closes
# without a reply.
A=sockechod@7007
B=sockechod@7008
LONG=$(printf 'x%.0s' $(seq 1 100))

no_reply() {
	sockecho -T 10 -t 30 -m "$LONG" 127.0.0.1 "$1" >"$T/got" 2>"$T/err"
	[ ! -s "$T/got" ]
}

unit_journal_has_reload() {
	journalctl -b -u "$1.service" -o json --no-pager |
	    grep -F "\"MESSAGE_ID\":\"${MSGID[RELOADED]}\"" | grep -qF "$2"
}

step7() {
	local pa pb wa out rc

	sample_with_workers 1 >/etc/sockecho-7007.conf
	sample_with_workers 2 | sed -E \
	    -e 's/^mode[[:space:]]*=.*/mode = "message";/' \
	    -e 's/^max_message_bytes[[:space:]]*=.*/max_message_bytes = 16;/' \
	    >/etc/sockecho-7008.conf
	out=$(systemctl enable --now "$A.socket" "$B.socket" 2>&1)
	rc=$?
	check "step 7: systemctl enable --now $A.socket $B.socket exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step 7: both instance sockets are active" \
	    '$A: $(systemctl is-active $A.socket), $B: $(systemctl is-active $B.socket)' \
	    eval 'active_is active "$A.socket" && active_is active "$B.socket"'
	check "step 7: $A (stream mode) echoes a 100-byte message" \
	    '$(echo_details)' echo_is 127.0.0.1 "$LONG" 7007
	check "step 7: $B (message mode) echoes a short message" \
	    '$(echo_details)' echo_is 127.0.0.1 short 7008
	check "step 7: $B (max_message_bytes = 16) does not echo the 100-byte one" \
	    '$(echo_details)' no_reply 7008
	check "step 7: both instance services run, with 1 and 2 workers" \
	    '$A: $(worker_list "$(prop MainPID $A.service)"); $B: $(worker_list "$(prop MainPID $B.service)")' \
	    eval 'wait_for 10 worker_count_is "$(prop MainPID $A.service)" 1 &&
		wait_for 10 worker_count_is "$(prop MainPID $B.service)" 2'

	pa=$(prop MainPID "$A.service")
	wa=$(worker_list "$pa")
	pb=$(prop MainPID "$B.service")
	sed -i -E 's/^workers[[:space:]]*=.*/workers = 3;/' /etc/sockecho-7008.conf
	out=$(systemctl reload "$B.service" 2>&1)
	rc=$?
	check "step 7: systemctl reload $B.service exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step 7: $B: the same master ($pb) now runs 3 workers" \
	    'MainPID=$(prop MainPID $B.service), children: $(worker_list $pb)' \
	    eval 'prop_is MainPID "$pb" "$B.service" &&
		wait_for 15 worker_count_is "$pb" 3'
	check "step 7: $B logged its reload (MESSAGE_ID=${MSGID[RELOADED]}, WORKERS=3)" \
	    '$(journalctl -b -u $B.service -o cat --no-pager | tail -3)' \
	    wait_for 10 unit_journal_has_reload "$B" '"WORKERS":"3"'
	check "step 7: $A was not touched: the same master ($pa) and workers ($wa)" \
	    'MainPID=$(prop MainPID $A.service), workers: $(worker_list $pa)' \
	    eval 'prop_is MainPID "$pa" "$A.service" &&
		[ "$(worker_list "$pa")" = "$wa" ]'
	check "step 7: $A logged no reload" \
	    '$(journalctl -b -u $A.service -o cat --no-pager | tail -3)' \
	    eval '! unit_journal_has_reload "$A" MESSAGE_ID'
	check "step 7: both instances still serve" '$(echo_details)' \
	    eval 'echo_is 127.0.0.1 a 7007 && echo_is 127.0.0.1 b 7008'
}

# ---------------------------------------------------------------------
# Step 8: upgrade to a package whose /etc/sockecho.conf changed, after the
# administrator edited it: the edit is kept.
# ---------------------------------------------------------------------
ADMIN_EDIT="# Edited by the administrator (end-to-end test)."

step8() {
	local rc want pa

	sample_with_workers 2 >"$T/admin.conf"
	echo "$ADMIN_EDIT" >>"$T/admin.conf"
	write_conf "$T/admin.conf"
	systemctl start "$SOCK"
	echo_is 127.0.0.1 "before upgrade" ||
	    not_ok "step 8: port 7 serves before the upgrade" "$(echo_details)"
	pa=$(prop MainPID "$A.service")
	want=$(dpkg-deb -f "$PKG_UPGRADE" Version)

	apt_get install "$PKG_UPGRADE"
	rc=$?
	check "step 8: apt-get install $PKG_UPGRADE exits 0" \
	    'exit $rc: $(tail -5 "$T/apt.log")' test "$rc" -eq 0
	check "step 8: sockechod $want is installed" \
	    'installed: $(installed_version)' test "$(installed_version)" = "$want"
	check "step 8: the administrator's $CONF is kept, byte for byte" \
	    '$(diff "$T/admin.conf" $CONF | head -5)' cmp -s "$T/admin.conf" "$CONF"
	check "step 8: the package's new version is beside it as $CONF.dpkg-dist" \
	    '$(ls -l $CONF* 2>&1)' grep -q "upgraded package" "$CONF.dpkg-dist"
	check "step 8: $SOCK is still enabled and active" \
	    'is-enabled: $(systemctl is-enabled $SOCK), is-active: $(systemctl is-active $SOCK)' \
	    eval 'enabled_is enabled "$SOCK" && active_is active "$SOCK"'
	check "step 8: port 7 serves after the upgrade, with the edited file (2 workers)" \
	    '$(echo_details); children of $(main_pid): $(worker_list "$(main_pid)")' \
	    eval 'echo_is 127.0.0.1 "after upgrade" &&
		wait_for 10 worker_count_is "$(main_pid)" 2'
	check "step 8: the running instance $A was restarted with the new version" \
	    'MainPID was $pa, is $(prop MainPID $A.service)' \
	    eval '[ "$(prop MainPID "$A.service")" != "$pa" ] &&
		echo_is 127.0.0.1 a 7007 && echo_is 127.0.0.1 b 7008'
}

# ---------------------------------------------------------------------
# Step 9: apt-get purge leaves no unit, user, process or file behind.
# ---------------------------------------------------------------------
# What the package installed, without the directories other packages share.
package_files() {
	dpkg -L sockechod | while read -r f; do
		[ -d "$f" ] || echo "$f"
	done
}

files_left() {
	local f

	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] && echo "$f"
	done <"$T/files"
	ls -d "$CONF"* /run/sockechod* /usr/share/doc/sockechod 2>/dev/null
	# (Not the test's own sockechod-e2e.service.)
	find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
	    /var/lib/systemd/deb-systemd-helper-masked \
	    \( -name 'sockechod[.@]*' -o -name 'sockechod-standalone.*' -o \
	    -name 'sockechod-metrics.*' \) 2>/dev/null
	find /etc/systemd \( -lname '*/sockechod[.@]*' -o \
	    -lname '*/sockechod-standalone.*' -o \
	    -lname '*/sockechod-metrics.*' \) 2>/dev/null
	ls /var/lib/dpkg/info/sockechod.* 2>/dev/null
	return 0
}

units_left() {
	systemctl list-unit-files --no-legend 'sockechod.*' 'sockechod@*' \
	    'sockechod-standalone.*' 'sockechod-metrics.*'
	systemctl list-units --all --no-legend 'sockechod.*' 'sockechod@*' \
	    'sockechod-standalone.*' 'sockechod-metrics.*'
}

step9() {
	local rc

	# The test's own drop-in (step 1) is the administrator's, as dpkg sees
	# it: remove it first, so that what is left is the package's doing.
	rm -rf "${DROPIN%/*}"
	package_files >"$T/files"
	apt_get purge sockechod
	rc=$?
	check "step 9: apt-get purge sockechod exits 0" \
	    'exit $rc: $(tail -5 "$T/apt.log")' test "$rc" -eq 0
	check "step 9: dpkg no longer knows sockechod" \
	    '$(dpkg-query -W -f="\${Status}" sockechod 2>&1)' \
	    eval '! dpkg-query -W sockechod >/dev/null 2>&1'
	check "step 9: no file of the package, conffile, enablement link or state is left ($(grep -c . "$T/files") files installed)" \
	    'left: $(files_left | tr "\n" " ")' test -z "$(files_left)"
	systemctl daemon-reload
	check "step 9: systemd knows no sockechod unit" \
	    'left: $(units_left | tr "\n" ";")' test -z "$(units_left)"
	check "step 9: no sockechod process is left" \
	    'left: $(sockechod_pids | tr "\n" " ")' wait_for 5 no_sockechod
	check "step 9: no user or group named sockechod (the units used DynamicUser)" \
	    '$(getent passwd | grep sockechod) $(getent group | grep sockechod)' \
	    eval '! getent passwd | grep -q sockechod && ! getent group | grep -q sockechod'
	check "step 9: the journal catalog no longer has sockechod's entries" \
	    '$(journalctl --list-catalog 2>&1 | grep -i sockechod | head -3)' \
	    eval '! catalog_has "${MSGID[RELOADED]}"'
	check "step 9: nothing answers on port 7 any more" \
	    '$(echo_details)' eval '! echo_is 127.0.0.1 gone'
	# The instances' files are the administrator's: dpkg leaves them.
	check "step 9: the administrator's instance files are left alone" \
	    '$(ls -l /etc/sockecho-* 2>&1)' \
	    test -f /etc/sockecho-7007.conf -a -f /etc/sockecho-7008.conf
	rm -f /etc/sockecho-7007.conf /etc/sockecho-7008.conf
}

# udp_echo_is HOST TEXT: one datagram to HOST port 7 comes back as TEXT.
udp_echo_is() {
	printf '%s\n' "$2" >"$T/want"
	sockecho -u -c -w 2 -r 4 -m "$2" "$1" 7 >"$T/got" 2>"$T/err" &&
	    cmp -s "$T/want" "$T/got"
}

# The package's socket unit with a ListenDatagram= added by a drop-in:
# systemd passes the datagram socket beside the stream one; the first
# datagram starts the service, which answers it.
step_udp() {
	local dropin=/etc/systemd/system/$SOCK.d

	systemctl stop "$SVC" "$SOCK"
	mkdir -p "$dropin"
	printf '[Socket]\nListenDatagram=127.0.0.1:7\n' >"$dropin/udp.conf"
	systemctl daemon-reload
	systemctl start "$SOCK"
	check "step U: ListenDatagram=: the first datagram starts $SVC and comes back" \
	    '$(cat "$T/err"); $(systemctl status --no-pager "$SVC" 2>&1 | tail -5)' \
	    udp_echo_is 127.0.0.1 "over udp"
	check "step U: the service adopted the datagram socket as udp:127.0.0.1:7" \
	    '$(journalctl -b --no-pager -o cat -u "$SVC" | tail -5)' \
	    wait_for 10 journal_text_has "udp:127.0.0.1:7" -u "$SVC"
	check "step U: TCP on port 7 is still served beside it" \
	    '$(echo_details)' echo_is 127.0.0.1 "over tcp"
	systemctl stop "$SVC" "$SOCK"
	rm -rf "$dropin"
	systemctl daemon-reload
	systemctl start "$SOCK"
}

# ---------------------------------------------------------------------
# Step S: the sandbox of the socket-activated service (no network, no
# capability), the metrics endpoint as a passed socket, and the standalone
# service that binds its own sockets.
# ---------------------------------------------------------------------
net_ns() {
	readlink "/proc/$1/ns/net"
}

proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# metrics_get PORT: GET /metrics on 127.0.0.1:PORT into $T/metrics.
metrics_get() {
	local rc

	: >"$T/metrics"
	exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n' >&5
	timeout 10 cat <&5 >"$T/metrics"
	rc=$?
	exec 5<&-
	[ "$rc" -eq 0 ] && head -1 "$T/metrics" | grep -q '^HTTP/1.1 200 ' &&
	    grep -q '^sockechod_workers_live ' "$T/metrics"
}

step_sandbox() {
	local pid out rc

	systemctl start "$SOCK"
	check "step S: $SVC serves (started by its socket)" \
	    '$(echo_details)' echo_is 127.0.0.1 sandboxed
	pid=$(main_pid)
	exposure_at_most "step S: systemd-analyze security $SVC (the loaded unit)" \
	    "$EXPOSURE_MAX" "$SVC"
	check "step S: the master $pid has a network namespace of its own (PrivateNetwork=)" \
	    'its: $(net_ns $pid), PID 1: $(net_ns 1)' \
	    test "$(net_ns "$pid")" != "$(net_ns 1)"
	check "step S: the master holds no capability, not even in its bounding set" \
	    'CapEff=$(proc_field $pid CapEff) CapBnd=$(proc_field $pid CapBnd)' \
	    eval '[ "$(proc_field "$pid" CapEff)" = 0000000000000000 ] &&
		[ "$(proc_field "$pid" CapBnd)" = 0000000000000000 ]'

	# systemd starts no socket unit whose service runs: stop it first.
	systemctl stop "$SVC"
	out=$(systemctl enable --now "$METRICS_SOCK" 2>&1)
	rc=$?
	check "step S: systemctl enable --now $METRICS_SOCK exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step S: a scrape starts $SVC: GET /metrics on 127.0.0.1:9107, the socket systemd passed as \"metrics\"" \
	    '$(head -c 300 "$T/metrics"); $(journalctl -b --no-pager -o cat -u "$SVC" | tail -5)' \
	    wait_for 10 metrics_get 9107
	check "step S: the journal says it serves metrics on the passed socket" \
	    '$(journalctl -b --no-pager -o cat -u "$SVC" | tail -5)' \
	    wait_for 10 journal_text_has 'systemd passed as "metrics"' -u "$SVC"
	check "step S: port 7 still echoes beside it" \
	    '$(echo_details)' echo_is 127.0.0.1 "with metrics"
	systemctl stop "$SVC"
	systemctl disable --now "$METRICS_SOCK" >/dev/null 2>&1

	out=$(systemctl start "$STANDALONE" 2>&1)
	rc=$?
	check "step S: systemctl start $STANDALONE exits 0" \
	    'exit $rc: $out' test "$rc" -eq 0
	check "step S: $STANDALONE stopped $SOCK and $SVC (Conflicts=)" \
	    '$SOCK: $(systemctl is-active $SOCK), $SVC: $(systemctl is-active $SVC)' \
	    eval 'active_is inactive "$SOCK" && wait_for 10 active_is inactive'
	check "step S: $STANDALONE binds port 7 itself and echoes" \
	    '$(echo_details); $(journalctl -b --no-pager -o cat -u "$STANDALONE" | tail -5)' \
	    wait_for 10 echo_is 127.0.0.1 standalone
	pid=$(prop MainPID "$STANDALONE")
	check "step S: $STANDALONE runs in the host's network namespace" \
	    'its: $(net_ns $pid), PID 1: $(net_ns 1)' \
	    test "$(net_ns "$pid")" = "$(net_ns 1)"
	systemctl stop "$STANDALONE"
	systemctl start "$SOCK"
	check "step S: back to $SOCK: port 7 serves" \
	    '$(echo_details)' echo_is 127.0.0.1 "socket again"
}

echo "# sockechod end-to-end test, $(systemctl --version | head -1)"
# ---------------------------------------------------------------------
# Step P: the prober's template, one instance probing port 7.
# ---------------------------------------------------------------------
PROBER=sockecho-prober@127.0.0.1:7.service

# prober_value NAME: NAME's value in a scrape of the prober on 9807.
prober_value() {
	{ exec 5<>/dev/tcp/127.0.0.1/9807; } 2>/dev/null || return 1
	printf 'GET /metrics HTTP/1.1\r\n\r\n' >&5
	timeout 10 cat <&5 >"$T/prober"
	exec 5<&-
	sed -n "s/^$1{target=\"127.0.0.1:7\",protocol=\"tcp\"} //p" "$T/prober"
}

prober_at_least() {
	local v

	v=$(prober_value "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

step_prober() {
	local out pid

	# The template's file: an instance name with ":" is not looked up.
	out=$(systemd-analyze verify --man=no "$UNITDIR/sockecho-prober@.service" 2>&1)
	check "step P: systemd-analyze verify of sockecho-prober@.service prints nothing" \
	    'it printed: $out' test -z "$out"
	exposure_at_most "step P: systemd-analyze security --offline=true sockecho-prober@.service" \
	    1.1 --offline=true "$UNITDIR/sockecho-prober@.service"
	printf 'METRICS_LISTEN=127.0.0.1:9807\nPROBER_OPTIONS="-i 0.2 -w 0.2"\n' \
	    >/etc/default/sockecho-prober-127.0.0.1:7
	systemctl start "$SOCK" "$PROBER"
	check "step P: $PROBER probes port 7 and serves /metrics on 9807" \
	    '$(head -c 300 "$T/prober"); $(journalctl -b --no-pager -o cat -u "$PROBER" | tail -5)' \
	    wait_for 10 prober_at_least sockecho_probes_received_total 3
	pid=$(prop MainPID "$PROBER")
	check "step P: it runs as a dynamic user, without capabilities" \
	    'uid $(stat -c %u /proc/$pid), CapEff=$(proc_field $pid CapEff)' \
	    eval '[ "$(stat -c %u "/proc/$pid")" -ne 0 ] &&
		[ "$(proc_field "$pid" CapEff)" = 0000000000000000 ]'
	systemctl stop "$SOCK" "$SVC"
	check "step P: with sockechod stopped, the probes are counted lost" \
	    '$(grep lost_total "$T/prober")' \
	    wait_for 10 prober_at_least sockecho_probes_lost_total 1
	check "step P: and the prober keeps running" \
	    '$(systemctl is-active $PROBER)' active_is active "$PROBER"
	systemctl stop "$PROBER"
	rm -f /etc/default/sockecho-prober-127.0.0.1:7
	systemctl start "$SOCK"
}

step_install
step0
step1
step2
step3
step4
step5
step6
step7
step8
step_udp
step_sandbox
step_prober
step9
