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
# report, the connection log, an error). Needs root and python3; skips
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

# 1. The default level (info), with the connection log: every event.
if start 'log_connections = true;'; then
	wait_text "$ID_CONN" || fail "no connection message"
	w=$(worker_of "$MASTER")
	kill -KILL "$w"
	wait_text "$ID_REPLACED" || fail "no replacement message"
	echo 'log_connections = true; workers = 3;' >"$T/conf"	# -w wins
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

echo "journal-fields: $fails failed"
[ "$fails" -eq 0 ]
