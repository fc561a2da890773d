#!/bin/bash
# SPDX-License-Identifier: ISC
# journal-fields.sh: what sockechod hands the journal, read back as the
# journal would, against sockechod(8) "LOGGING" and the log_level and
# log_connections settings of sockecho.conf(5). In a mount and network
# namespace of its own, a datagram socket this test owns is bound at
# /run/systemd/journal/socket (where sd_journal_send(3) writes) and
# JOURNAL_STREAM names the daemon's standard error, as systemd does; a
# python3 reader decodes the native protocol (KEY=value lines, or KEY, a
# 64-bit length and the bytes). It checks, message by message, PRIORITY,
# SYSLOG_IDENTIFIER=sockechod, MESSAGE, no CODE_* field (each would name
# the logger's one sd_journal_sendv() call), each MESSAGE_ID with its fields
# and priority (starting, ready, reloaded, reload failed, a worker killed
# by a signal, its replacement, stopping, stopped, a connection), and the
# level rules: what a level suppresses, and what it must not (the SIGUSR1
# report, the connection log, an error). The connection fields agree
# with the line's text (a message too large: BYTES_IN is not BYTES_OUT);
# a worker that cannot work stops the daemon with EXIT_STATUS=71; the
# stopping message names the shutdown_timeout configured; a worker that
# crashes (SIGSEGV) soon after its start begins a crash loop (a warning),
# and its first replacement is a notice. Off the journal
# (LOGGING, log_format, log_timestamps): a JOURNAL_STREAM that names
# another file on the same filesystem is not the journal (plain lines,
# "warning: " before a warning); a terminal gets no <N> prefix even when
# log_format asks for it; and on the journal stream whose native socket
# refuses, the <N> lines carry no time. Needs root and python3; skips
# (77) without them.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}

if [ -z "${JOURNAL_FIELDS_INSIDE:-}" ]; then
	if ! unshare -mn --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a private mount namespace (needs root)"
		exit 77
	fi
	command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
	JOURNAL_FIELDS_INSIDE=1 exec unshare -mn --propagation private \
	    "$BASH" "$0" "$@"
fi

fails=0
T=$(mktemp -d /tmp/journal-fields.XXXXXX) || exit 99
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

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

ip link set lo up || exit 99
mkdir -p /run/systemd 2>/dev/null
mount -t tmpfs tmpfs /run/systemd || exit 99
mkdir -p /run/systemd/journal || exit 99

# The journal: one JSON object a line per datagram, in $T/journal.
cat >"$T/journal.py" <<'EOF'
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
open(sys.argv[2], "w").close()  # ready
out = open(sys.argv[1], "a", buffering=1)
while True:
    b = s.recv(1 << 20)
    d = {}
    while b:
        nl = b.index(b"\n")
        line = b[:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            b = b[nl + 1:]
        else:
            k = line
            n = struct.unpack("<Q", b[nl + 1:nl + 9])[0]
            v = b[nl + 9:nl + 9 + n]
            b = b[nl + 10 + n:]
        d.setdefault(k.decode(), []).append(v.decode("utf-8", "replace"))
    out.write(json.dumps(d) + "\n")
EOF
python3 "$T/journal.py" "$T/journal" "$T/journal.ready" &
PIDS+=($!)
end=$((SECONDS + 10))
until [ -e "$T/journal.ready" ] && [ -S /run/systemd/journal/socket ]; do
	[ "$SECONDS" -ge "$end" ] && { echo "the journal reader never bound"; exit 99; }
	sleep 0.05
done

# The checks, on $T/journal: python3 - CHECK ARGS, exit 0 or a reason.
cat >"$T/check.py" <<'EOF'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
what = sys.argv[2]
def one(d, k):
    return d.get(k, [None])[0]
def by_id(mid):
    return [d for d in msgs if one(d, "MESSAGE_ID") == mid]
def fail(why):
    print(why)
    sys.exit(1)
if what == "every":
    for d in msgs:
        for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"):
            if one(d, k) is None:
                fail("no %s in %r" % (k, d))
        if one(d, "SYSLOG_IDENTIFIER") != "sockechod":
            fail("SYSLOG_IDENTIFIER %r" % one(d, "SYSLOG_IDENTIFIER"))
        if one(d, "PRIORITY") not in "01234567":
            fail("PRIORITY %r" % one(d, "PRIORITY"))
        for k, v in d.items():
            if len(v) != 1:
                fail("%s twice in %r" % (k, d))
            if k.startswith("CODE_"):
                fail("%s=%s: the logger's own line, not the event's" % (k, v[0]))
    print("%d messages" % len(msgs))
elif what == "id":
    # id MESSAGE_ID PRIORITY FIELD[=VALUE]...: at least one such message.
    mid, prio = sys.argv[3], sys.argv[4]
    got = by_id(mid)
    if not got:
        fail("no MESSAGE_ID=%s among %d messages" % (mid, len(msgs)))
    for d in got:
        if one(d, "PRIORITY") != prio:
            continue
        for f in sys.argv[5:]:
            k, _, v = f.partition("=")
            if one(d, k) is None or (v and one(d, k) != v):
                break
        else:
            print(one(d, "MESSAGE"))
            sys.exit(0)
    fail("MESSAGE_ID=%s: none with PRIORITY=%s and %s: %r" %
         (mid, prio, " ".join(sys.argv[5:]), got))
elif what == "none":
    # none MESSAGE_ID: no such message.
    got = by_id(sys.argv[3])
    if got:
        fail("MESSAGE_ID=%s logged: %r" % (sys.argv[3], got[0]))
elif what == "prio":
    # prio PRIORITY: no message less important than PRIORITY.
    worse = [d for d in msgs if int(one(d, "PRIORITY")) > int(sys.argv[3])
             and not one(d, "MESSAGE").startswith("status:")
             and one(d, "MESSAGE_ID") != "b7b51914126e4527b18557efcf3e8309"]
    if worse:
        fail("PRIORITY %s logged at level %s: %s" % (one(worse[0], "PRIORITY"),
             sys.argv[3], one(worse[0], "MESSAGE")))
elif what == "connfields":
    # Each connection's fields say what its line says (sockechod(8)).
    import re
    got = by_id("b7b51914126e4527b18557efcf3e8309")
    if not got:
        fail("no connection message")
    for d in got:
        m = re.search(r"bytes_in=(\d+) bytes_out=(\d+) duration_ms=(\d+)\.(\d{3})",
                      one(d, "MESSAGE"))
        if not m:
            fail("no bytes and duration in %r" % one(d, "MESSAGE"))
        want = {"BYTES_IN": m.group(1), "BYTES_OUT": m.group(2),
                "DURATION_USEC": str(int(m.group(3)) * 1000 + int(m.group(4)))}
        for k, v in want.items():
            if one(d, k) != v:
                fail("%s=%s, the line says %s: %r" % (k, one(d, k), v, d))
    print("%d connection messages agree" % len(got))
elif what == "text":
    # text PRIORITY REGEX: a message of that priority matching REGEX.
    import re
    for d in msgs:
        if one(d, "PRIORITY") == sys.argv[3] and re.search(sys.argv[4], one(d, "MESSAGE")):
            sys.exit(0)
    fail("no PRIORITY=%s message /%s/" % (sys.argv[3], sys.argv[4]))
EOF
check() {
	local what=$1

	shift
	if python3 "$T/check.py" "$T/journal" "$@" >"$T/check.out" 2>&1; then
		pass "$what"
	else
		fail "$what: $(head -c 600 "$T/check.out")"
	fi
}

# journal_has N: wait until N messages or more have arrived.
journal_has() {
	local end=$((SECONDS + 10))

	until [ "$(wc -l <"$T/journal")" -ge "$1" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# wait_text REGEX: a message whose text matches REGEX has arrived.
wait_text() {
	local end=$((SECONDS + 10))

	until grep -qE "$1" "$T/journal"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# start CONF: the daemon, its stderr the "journal stream".
start() {
	: >"$T/journal"
	printf '%s\n' "$1" >"$T/conf"
	: >"$T/stderr"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/stderr") \
	    "$SOCKECHOD" -c "$T/conf" -w 1 -l 127.0.0.1:7401 2>>"$T/stderr" &
	MASTER=$!
	PIDS+=($MASTER)
	local end=$((SECONDS + 10))
	until "$SOCKECHO" -q -m x 127.0.0.1 7401 </dev/null >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && { fail "never served: $(cat "$T/stderr")"; return 1; }
		sleep 0.05
	done
}

stop() {
	kill -TERM "$MASTER"
	wait "$MASTER"
	echo "$?" >"$T/exit"
}

worker_of() {
	tr -d ' ' <"/proc/$1/task/$1/children"
}

ID_START=7476b8ff58994674b54734056d488476
ID_READY=59961819df194eae9d96e688d3a24af9
ID_RELOADED=a3fa1e34f98c4b6982f418a0afd3e6e3
ID_RELOAD_FAILED=ceb17a6538f94b0c8dcc86d0b630b93b
ID_EXITED=39c6108a6f554d91b19ba9e289ed117c
ID_REPLACED=c36010f37f9d40c1af8ceea436e3c45e
ID_STOPPING=ab80e1b6863f4398bff413f430d72113
ID_STOPPED=8087d0204aa041858bfcebb10c08d3cb
ID_CONN=b7b51914126e4527b18557efcf3e8309
ID_CRASH_LOOP=65b07e871213449fb4560cf07e6396bd

# 1. The default level (info), with the connection log: every event.
if start 'log_connections = true; shutdown_timeout = 7;'; then
	wait_text "$ID_CONN" || fail "no connection message"
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	wait_text "$ID_REPLACED" || fail "no replacement message"
	echo 'log_connections = true; shutdown_timeout = 7; workers = 3;' \
	    >"$T/conf"	# -w wins
	kill -HUP "$MASTER"
	wait_text "$ID_RELOADED" || fail "no reload message"
	echo 'no_such_key = 1;' >"$T/conf"
	kill -HUP "$MASTER"
	wait_text "$ID_RELOAD_FAILED" || fail "no reload failure message"
	stop
	wait_text "$ID_STOPPED" || fail "no stopped message"
	[ -s "$T/stderr" ] && fail "info: stderr holds $(head -c 300 "$T/stderr")" ||
	    pass "info: nothing on stderr, all to the journal"
	check "info: PRIORITY, SYSLOG_IDENTIFIER, MESSAGE in every message" every
	check "starting: info, LISTEN, CONFIG_FILE" id $ID_START 6 \
	    LISTEN=127.0.0.1:7401 "CONFIG_FILE=$T/conf"
	check "ready: info, WORKERS, GENERATION, LISTEN" id $ID_READY 6 \
	    WORKERS=1 GENERATION=1 LISTEN=127.0.0.1:7401
	check "connection: info and its six fields" id $ID_CONN 6 REMOTE_ADDR \
	    LISTENER=127.0.0.1:7401 BYTES_IN=2 BYTES_OUT=2 DURATION_USEC \
	    CLOSE_REASON=client-closed
	check "worker killed: warning, WORKER_* and SIGNAL=SIGKILL" id \
	    $ID_EXITED 4 "WORKER_PID=$w" WORKER_SLOT=0 WORKER_GENERATION=1 \
	    SIGNAL=SIGKILL
	check "replacement: notice, WORKER_*" id $ID_REPLACED 5 WORKER_PID \
	    WORKER_SLOT=0 WORKER_GENERATION=1
	check "reloaded: info, WORKERS=1 (-w 1), GENERATION=2" id \
	    $ID_RELOADED 6 WORKERS=1 GENERATION=2 LISTEN=127.0.0.1:7401
	check "worker asked to stop: info, EXIT_STATUS" id $ID_EXITED 6 \
	    WORKER_PID WORKER_GENERATION=1 EXIT_STATUS=0
	check "reload failed: error, RELOAD_ERROR" id $ID_RELOAD_FAILED 3 \
	    RELOAD_ERROR
	check "stopping: info, OPEN_CONNECTIONS" id $ID_STOPPING 6 \
	    OPEN_CONNECTIONS
	check "stopping: names the shutdown_timeout configured (7 s)" text 6 \
	    '^stopping: draining .*shutdown_timeout 7(\.0+)? s'
	check "connection: the fields say what the line says" connfields
	check "stopped: info, CONNECTIONS_SERVED, EXIT_STATUS=0" id \
	    $ID_STOPPED 6 CONNECTIONS_SERVED EXIT_STATUS=0
	check "info: nothing at debug" prio 6
fi

# 2. log_level "error": info, notice and warning go; an error, the
# connection log (info "whatever log_level says") and the SIGUSR1
# report (notice, "whatever log_level says") stay.
if start 'log_level = "error"; log_connections = true;'; then
	wait_text "$ID_CONN" || fail "error: no connection message"
	kill -USR1 "$MASTER"
	wait_text 'status: generation' || fail "error: no status report"
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	# No message shows the replacement at this level: /proc does.
	end=$((SECONDS + 10))
	until n=$(worker_of "$MASTER") && [ -n "$n" ] && [ "$n" != "$w" ]; do
		[ "$SECONDS" -ge "$end" ] && { fail "error: no replacement"; break; }
		sleep 0.05
	done
	echo 'log_level = "error"; log_connections = true; bad' >"$T/conf"
	kill -HUP "$MASTER"
	wait_text "$ID_RELOAD_FAILED" || fail "error: no reload failure"
	stop
	check "error: the connection log stays, at info" id $ID_CONN 6 \
	    CLOSE_REASON=client-closed
	check "error: the SIGUSR1 report stays, at notice" text 5 \
	    '^status: generation 1'
	check "error: reload failed stays" id $ID_RELOAD_FAILED 3 RELOAD_ERROR
	check "error: no starting" none $ID_START
	check "error: no ready" none $ID_READY
	check "error: no worker exit (a warning)" none $ID_EXITED
	check "error: no replacement (a notice)" none $ID_REPLACED
	check "error: no stopped" none $ID_STOPPED
	check "error: nothing below error but the report and connections" prio 3
fi

# 3. log_level "warning": the killed worker (warning) stays, its
# replacement (notice) goes; "notice": both stay, info goes.
for level in warning notice; do
	start "log_level = \"$level\";" || continue
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	if [ $level = notice ]; then
		wait_text "$ID_REPLACED" || fail "$level: no replacement"
	else
		wait_text "$ID_EXITED" || fail "$level: no worker exit"
	fi
	stop
	check "$level: worker killed stays (warning)" id $ID_EXITED 4 \
	    "WORKER_PID=$w" SIGNAL=SIGKILL
	if [ $level = notice ]; then
		check "notice: replacement stays" id $ID_REPLACED 5 WORKER_PID
		check "notice: no info (ready)" none $ID_READY
		check "notice: nothing at info or debug" prio 5
	else
		check "warning: no replacement (notice)" none $ID_REPLACED
		check "warning: nothing at notice or below" prio 4
	fi
done

# 4. debug: "-v" / log_level "debug" logs debug messages.
if start 'log_level = "debug";'; then
	stop
	check "debug: debug messages (PRIORITY=7) logged" text 7 .
	check "debug: starting still there" id $ID_START 6 LISTEN
fi

# 5. A message too large (max_message_bytes): warning, what came in and
# nothing sent, the fields as the line says.
if start 'log_connections = true; mode = "message"; max_message_bytes = 16;'; then
	: >"$T/journal"
	if exec 3<>/dev/tcp/127.0.0.1/7401; then
		printf '%0100d' 0 >&3
		wait_text 'message-too-large' || fail "too large: no connection message"
		exec 3>&-
	else
		fail "too large: cannot connect"
	fi
	stop
	check "too large: warning, BYTES_OUT=0" id $ID_CONN 4 \
	    CLOSE_REASON=message-too-large BYTES_OUT=0
	check "too large: the fields say what the line says" connfields
fi

# 6. A worker that cannot work (a master as nobody, workers to be root):
# the daemon stops with status 71, and "stopped" says so.
: >"$T/journal"
chmod 0755 "$T"
chmod 0666 /run/systemd/journal/socket
echo 'user = "root";' >"$T/conf"
chmod 0644 "$T/conf"
: >"$T/stderr"
chmod 0666 "$T/stderr"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/stderr") setpriv --reuid=nobody \
    --regid=nogroup --clear-groups "$SOCKECHOD" -c "$T/conf" -w 1 \
    -l 127.0.0.1:7401 2>>"$T/stderr" &
MASTER=$!
PIDS+=($MASTER)
end=$((SECONDS + 20))
while kill -0 "$MASTER" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
	sleep 0.05
done
wait "$MASTER"
rc=$?
[ "$rc" -eq 71 ] && pass "cannot work: exit 71" || fail "cannot work: exit $rc"
check "cannot work: stopped, EXIT_STATUS=71" id $ID_STOPPED 6 EXIT_STATUS=71

# 7. A worker that crashes soon after its start (a signal of its own, not
# KILL or TERM from outside) starts a crash loop: a warning says so, and
# the first replacement is still a notice (debug only for the later ones).
# Under make check-sanitizers, AddressSanitizer would catch the SIGSEGV and
# exit 1: let the signal kill the worker as it does in a plain build.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
if start 'workers = 1;'; then
	w=$(worker_of "$MASTER")
	kill -SEGV "$w"
	wait_text "$ID_REPLACED" || fail "crash: no replacement message"
	stop
	check "crash: worker exited, warning, SIGNAL=SIGSEGV" id $ID_EXITED 4 \
	    "WORKER_PID=$w" SIGNAL=SIGSEGV
	check "crash: the crash loop begins, warning" id $ID_CRASH_LOOP 4 \
	    FAILURES=1 RESPAWN_DELAY_MS
	check "crash: its first replacement is a notice" id $ID_REPLACED 5 \
	    WORKER_PID WORKER_SLOT=0
fi

# Off the journal, the lines on stderr ($T/stderr, or $T/tty): wait for one.
stderr_has() {
	local end=$((SECONDS + 10))

	until grep -qE "$2" "$1"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# 8. JOURNAL_STREAM names another file of stderr's filesystem: stderr is
# not the journal; plain lines, a warning with its word.
: >"$T/journal"
: >"$T/other"
printf '%s\n' 'log_level = "info";' >"$T/conf"
: >"$T/stderr"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/other") "$SOCKECHOD" -c "$T/conf" -w 1 \
    -l 127.0.0.1:7401 2>>"$T/stderr" &
MASTER=$!
PIDS+=($MASTER)
if stderr_has "$T/stderr" 'ready: '; then
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	stderr_has "$T/stderr" "^sockechod\\[$MASTER\\]: warning: worker $w " &&
	    pass "not journal: \"warning: \" before a warning" ||
	    fail "not journal: no \"warning: worker $w\" line: $(head -c 600 "$T/stderr")"
	stop
	grep -q "^sockechod\\[$MASTER\\]: ready: " "$T/stderr" &&
	    pass "not journal: plain lines on stderr" ||
	    fail "not journal: no plain ready line: $(head -c 600 "$T/stderr")"
	[ -s "$T/journal" ] && fail "not journal: the journal got $(head -c 300 "$T/journal")" ||
	    pass "not journal: nothing sent to the journal"
else
	fail "not journal: never ready: $(head -c 600 "$T/stderr")"
fi

# 9. The journal stream, its native socket refusing (a socket nobody
# reads): the lines fall back to stderr with <N> (log_format "auto"),
# and no time though log_timestamps is on (the journal keeps its own).
printf '%s\n' 'log_timestamps = true;' >"$T/conf"
: >"$T/stderr"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/stderr") unshare -m --propagation private \
    "$BASH" -c 'mount -t tmpfs tmpfs /run/systemd/journal &&
	python3 -c "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(\"/run/systemd/journal/socket\")" &&
	exec "$@"' sh "$SOCKECHOD" -c "$T/conf" -w 1 -l 127.0.0.1:7401 \
    2>>"$T/stderr" &
MASTER=$!
PIDS+=($MASTER)
if stderr_has "$T/stderr" 'ready: '; then
	stop
	grep -q "^<6>sockechod\\[$MASTER\\]: ready: " "$T/stderr" &&
	    pass "refusing journal: <6> lines, no time" ||
	    fail "refusing journal: no \"<6>sockechod[$MASTER]: ready:\": $(head -c 600 "$T/stderr")"
else
	fail "refusing journal: never ready: $(head -c 600 "$T/stderr")"
fi

# 10. A terminal: no <N> even with log_format "syslog-prefix"; the word.
cat >"$T/ptyerr.py" <<'PYEOF'
import os, pty, sys
out = open(sys.argv[1], "wb", buffering=0)
m, s = pty.openpty()
pid = os.fork()
if pid == 0:
    os.dup2(s, 2)
    os.close(m)
    os.close(s)
    os.execv(sys.argv[2], sys.argv[2:])
os.close(s)
while True:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out.write(b)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PYEOF
printf '%s\n' 'log_format = "syslog-prefix";' >"$T/conf"
: >"$T/tty"
python3 "$T/ptyerr.py" "$T/tty" "$SOCKECHOD" -c "$T/conf" -w 1 \
    -l 127.0.0.1:7401 &
PY=$!
PIDS+=($PY)
if stderr_has "$T/tty" 'ready: '; then
	MASTER=$(worker_of "$PY")
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	stderr_has "$T/tty" "^sockechod\\[$MASTER\\]: warning: worker $w " &&
	    pass "terminal: no <N>, \"warning: \" before a warning" ||
	    fail "terminal: no \"sockechod[$MASTER]: warning: worker $w\": $(head -c 600 "$T/tty")"
	grep -q "^sockechod\\[$MASTER\\]: ready: " "$T/tty" &&
	    pass "terminal: plain ready line" ||
	    fail "terminal: no plain ready line: $(head -c 600 "$T/tty")"
	kill -TERM "$MASTER"
	wait "$PY"
else
	fail "terminal: never ready: $(head -c 600 "$T/tty")"
fi

echo "journal-fields: $fails failed"
[ "$fails" -eq 0 ]
