#!/bin/bash
# SPDX-License-Identifier: ISC
# client-doc.sh: sockecho(1) as its page and --help describe it, written
# from the documentation, not from the code: every address form (a name,
# IPv4, IPv6 with and without brackets, unix:/PATH, unix:@NAME) in every
# mode (stream, --message, --udp, --ping, --ping --udp, --ping --connect),
# every documented exit status, every timeout against a server that stalls
# at the matching moment (connecting, before the first byte, mid-reply), and
# the fields of --json; and sockechod's --test-config, --dump-config and
# --verbose as sockechod(8) describes them. It runs in a network and mount namespace of its own
# (its own loopback; a listener whose backlog is full stalls connects), so its
# ports touch nothing of the host's. Needs root and python3 (the stalling
# servers); skips (77) without them.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}

if [ -z "${CLIENT_DOC_INSIDE:-}" ]; then
	if ! unshare -mn --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a private network namespace (needs root)"
		exit 77
	fi
	command -v ip >/dev/null || { echo "SKIP: no ip(8) (iproute2)"; exit 77; }
	command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
	CLIENT_DOC_INSIDE=1 exec unshare -mn --propagation private \
	    "$BASH" "$0" "$@"
fi

fails=0
T=$(mktemp -d /tmp/client-doc.XXXXXX) || exit 99
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
# The client resolves "localhost" from the host's /etc/hosts.

# run WANT_RC WHAT ARGS...: sockecho ARGS, stdin from $T/in, output into
# $T/out and $T/err; checks the exit status.
run() {
	local want=$1 what=$2 rc

	shift 2
	timeout 30 "$SOCKECHO" "$@" <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$what: exit $rc"
		return 0
	fi
	fail "$what: exit $rc, want $want (sockecho $*): $(head -c 300 "$T/err")"
	return 1
}

# expect_out TEXT WHAT: the reply is TEXT exactly.
expect_out() {
	if [ "$(cat "$T/out")" = "$1" ]; then
		pass "$2: the reply is as sent"
	else
		fail "$2: the reply is \"$(head -c 200 "$T/out")\", want \"$1\""
	fi
}

# expect_grep FILE PATTERN WHAT
expect_grep() {
	if grep -qE -- "$2" "$T/$1"; then
		pass "$3"
	else
		fail "$3: no /$2/ in $1: $(head -c 300 "$T/$1")"
	fi
}

wait_echo() {
	local end=$((SECONDS + 10))

	echo x >"$T/in"
	until "$SOCKECHO" --quiet "$@" <"$T/in" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# The daemon on every address form, TCP and UDP.
: >"$T/conf"
"$SOCKECHOD" -c "$T/conf" --workers 1 --listen 127.0.0.1:7007 \
    --listen '[::1]:7007' --listen udp:127.0.0.1:7007 \
    --listen 'udp:[::1]:7007' --listen "unix:$T/echo.sock" \
    --listen unix:@client-doc 2>"$T/daemon.log" &
PIDS+=($!)
wait_echo 127.0.0.1 7007 || { cat "$T/daemon.log"; exit 99; }

# The matrix. sockecho(1): -u and -p -u take HOST [PORT] only (the
# synopsis), so a unix: address is a usage error there (64).
ADDRS=("localhost 7007" "127.0.0.1 7007" "::1 7007" "[::1] 7007"
    "unix:$T/echo.sock" "unix:@client-doc")
for a in "${ADDRS[@]}"; do
	read -r -a addr <<<"$a"
	unix=0
	case $a in unix:*) unix=1 ;; esac

	printf 'one\ntwo\n' >"$T/in"
	run 0 "stream $a" --check "${addr[@]}" && expect_out $'one\ntwo' "stream $a"
	run 0 "--message $a" --message hi "${addr[@]}" && expect_out hi "--message $a"
	run 0 "--message --no-newline $a" --message hi --no-newline "${addr[@]}" &&
	    [ "$(od -An -c "$T/out" | tr -d ' ')" = hi ] &&
	    pass "--no-newline $a: no newline sent" ||
	    fail "--no-newline $a: $(od -An -c "$T/out")"
	if [ $unix -eq 1 ]; then
		run 64 "--udp $a (UDP needs HOST)" --udp --message hi "${addr[@]}"
		run 64 "--ping --udp $a (UDP needs HOST)" --ping --udp \
		    --count 2 "${addr[@]}"
	else
		run 0 "--udp $a" --udp --check --wait 2 --retries 1 \
		    "${addr[@]}" && expect_out $'one\ntwo' "--udp $a"
		run 0 "--ping --udp $a" --ping --udp --count 3 --interval 0.01 \
		    --size 32 "${addr[@]}" &&
		    expect_grep out '^3 probes transmitted, 3 received, 0% loss' \
		    "--ping --udp $a: three probes back"
	fi
	run 0 "--ping $a" --ping --count 3 --interval 0.01 "${addr[@]}" &&
	    expect_grep out '^3 probes transmitted, 3 received, 0% loss' \
	    "--ping $a: three probes back"
	run 0 "--ping --connect $a" --ping --connect --count 2 --interval 0.01 \
	    "${addr[@]}" &&
	    expect_grep out 'seq=1 connect=[0-9.]+ ms time=' \
	    "--ping --connect $a: a connect time per probe"
	run 0 "--ping --quiet $a" --ping --quiet --count 2 --interval 0.01 \
	    "${addr[@]}" && ! grep -q 'seq=' "$T/out" &&
	    expect_grep out '^2 probes transmitted' \
	    "--ping --quiet $a: the first line and the summary only"
done

# --quiet writes nothing of the reply; --version and --help exit 0.
echo hello >"$T/in"
run 0 "--quiet" --quiet 127.0.0.1 7007 && [ ! -s "$T/out" ] &&
    pass "--quiet: no reply written" || fail "--quiet wrote: $(cat "$T/out")"
run 0 "--version" --version && expect_grep out 'sockecho.* [0-9]' "--version prints it"
run 0 "--help" --help && expect_grep out '--connect-timeout' "--help lists options"
run 0 "--ping --help" --ping --help && expect_grep out '--deadline' "-p --help"

# --json: the fields sockecho(1) lists, with --connect's connect_ms.
run 0 "--ping --json" --ping --json --connect --count 3 --interval 0.01 \
    127.0.0.1 7007 &&
    python3 - "$T/out" >"$T/json.err" 2>&1 <<'EOF' && pass "--json: every documented field" || fail "--json: $(cat "$T/json.err")"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("transmitted", "received", "mismatched", "lost", "errors",
          "duplicates", "reordered", "late", "strays"):
    assert isinstance(d[k], int), k
assert d["transmitted"] == 3 and d["received"] == 3 and d["lost"] == 0
assert d["loss_percent"] == 0 and isinstance(d["time_ms"], (int, float))
assert d["interrupted"] is False
for o in ("rtt_ms", "connect_ms"):
    for k in ("min", "avg", "max", "mdev", "p50"):
        assert isinstance(d[o][k], (int, float)), (o, k)
    assert d[o]["p90"] is None and d[o]["p99"] is None, o  # 3 replies
EOF

# The stalling servers, one port each, on 127.0.0.1 (python3 in the
# background): silent (accepts, reads, never answers), half (echoes the
# first half of what it read, then stalls), alter (flips the first byte),
# early (closes after the first read, before the input is all sent),
# short (echoes half, then closes), double (echoes everything twice),
# reset (an RST on the first read), udpsilent, udpalter, full (a backlog that
# fills up: never accepts).
cat >"$T/stall.py" <<'EOF'
import socket, struct, sys, threading, time
kind, port = sys.argv[1], int(sys.argv[2])
if kind in ("udpsilent", "udpalter"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        b, peer = s.recvfrom(65536)
        if kind == "udpalter":
            s.sendto(bytes([b[0] ^ 1]) + b[1:], peer)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(0 if kind == "full" else 16)
if kind == "full":
    while True:
        time.sleep(60)
def serve(c):
    held = []
    while True:
        b = c.recv(65536)
        if not b:
            time.sleep(60)
        held.append(b)
        if kind == "half":
            c.sendall(b[:max(1, len(b) // 2)])
            time.sleep(60)
        elif kind == "short":
            c.sendall(b[:max(1, len(b) // 2)])
            c.close()
            return
        elif kind == "double":
            c.sendall(b + b)
            c.shutdown(socket.SHUT_WR)
        elif kind == "alter":
            c.sendall(bytes([b[0] ^ 1]) + b[1:])
            c.shutdown(socket.SHUT_WR)
        elif kind == "early":
            c.close()
            return
        elif kind == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()
            return
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
port=7100
for k in silent half alter early reset udpsilent full short double \
    udpalter; do
	port=$((port + 1))
	python3 "$T/stall.py" "$k" "$port" &
	PIDS+=($!)
	eval "P_$k=$port"
done
# Each is ready once ss(8) shows its socket bound (listening, for TCP).
for k in silent half alter early reset udpsilent full short double udpalter; do
	eval "p=\$P_$k"
	end=$((SECONDS + 10))
	until [ -n "$(ss -Hltun "sport = :$p")" ]; do
		[ "$SECONDS" -ge "$end" ] && { fail "$k server never bound"; break; }
		sleep 0.05
	done
done

# 1: --check and a reply that differs.
run 1 "--check, a byte altered" --check --message hello 127.0.0.1 "$P_alter" &&
    expect_grep err 'reply differs from what was sent at byte 0' \
    "--check: names the byte"
run 1 "--check, more bytes back than sent" --check --message hello \
    127.0.0.1 "$P_double" &&
    expect_grep err 'reply differs: more bytes came back than were sent \(6\)' \
    "--check: more bytes, the count sent"
run 1 "--check, the server closes early" --check --message hello-world \
    127.0.0.1 "$P_short" &&
    expect_grep err 'reply differs: 6 bytes short \(12 sent, 6 received\)' \
    "--check: bytes short, the counts"
run 1 "--udp --check, an answer altered" --udp --check --message hello \
    127.0.0.1 "$P_udpalter"
# 64: usage errors.
run 64 "an unknown option" --no-such-option 127.0.0.1 7007
run 64 "a bad number of seconds" --timeout abc 127.0.0.1 7007
run 64 "no host" --message x
run 64 "an extra argument" --message x 127.0.0.1 7007 extra
run 64 "port 0" --message x 127.0.0.1 0
run 64 "port 65536" --message x 127.0.0.1 65536
run 64 "HOST:PORT" --message x 127.0.0.1:7007
run 64 "a port after unix:" --message x "unix:$T/echo.sock" 7007
run 64 "an empty socket path" --message x unix:
run 64 "a socket path too long" --message x "unix:/$(printf 'a%.0s' $(seq 120))"
run 64 "--retries 101" --udp --retries 101 --message x 127.0.0.1 7007
run 64 "--ping --check" --ping --check 127.0.0.1 7007
run 64 "--ping --message" --ping --message x 127.0.0.1 7007
run 64 "--ping --no-newline" --ping --no-newline 127.0.0.1 7007
run 64 "--ping --retries" --ping --retries 1 127.0.0.1 7007
# 65: a line longer than a datagram.
head -c 70000 /dev/zero | tr '\0' a >"$T/in"
run 65 "--udp, a line of 70000 bytes" --udp 127.0.0.1 7007
echo x >"$T/in"
# 68: a name that does not resolve.
run 68 "a host that does not resolve" --message x no-such-host.invalid 7007
run 68 "a service that does not resolve" --message x 127.0.0.1 no-such-service
# 69: refused, TCP, UDP (ICMP), --ping and --ping --udp.
run 69 "refused" --message x 127.0.0.1 7099
run 69 "--udp, port unreachable" --udp --message x --wait 2 127.0.0.1 7099
run 69 "--ping, the first connection refused" --ping --count 1 127.0.0.1 7099
run 69 "--ping --udp, every probe an ICMP error" --ping --udp --count 2 \
    --interval 0.01 --wait 0.5 127.0.0.1 7099
run 69 "unix:/PATH that does not exist" --message x "unix:$T/none.sock"
# 74: reset, closed before the input was all sent, stdout gone.
run 74 "reset by the server" --message x 127.0.0.1 "$P_reset"
head -c 4194304 /dev/zero >"$T/in"
run 74 "closed before all of the input was sent" 127.0.0.1 "$P_early"
set -o pipefail
head -c 4194304 /dev/zero | timeout 30 "$SOCKECHO" 127.0.0.1 7007 2>"$T/err" |
    head -c 1 >/dev/null
rc=$?
set +o pipefail
[ "$rc" -eq 74 ] && pass "74: the reader of stdout gone" ||
    fail "the reader of stdout gone: exit $rc, want 74: $(cat "$T/err")"
echo x >"$T/in"

# 75 and the timeouts, each against its stall.
# Connecting: a listener that never accepts, its backlog (listen(0))
# filled first, so that the kernel drops the next SYN.
for i in 1 2 3 4; do
	(exec 3<>"/dev/tcp/127.0.0.1/$P_full"; sleep 30) 2>/dev/null &
	PIDS+=($!)
done
s=$SECONDS
run 75 "--connect-timeout, a backlog that is full" --connect-timeout 0.5 \
    --message x 127.0.0.1 "$P_full"
[ $((SECONDS - s)) -le 5 ] && pass "--connect-timeout gave up in time" ||
    fail "--connect-timeout took $((SECONDS - s)) s"
run 75 "--timeout while connecting" --timeout 0.5 --message x 127.0.0.1 \
    "$P_full"
run 75 "--ping --connect-timeout" --ping --count 1 --connect-timeout 0.5 \
    127.0.0.1 "$P_full"
# The first byte: a server that reads and never answers.
run 75 "--timeout before the first byte" --timeout 0.5 --message x \
    127.0.0.1 "$P_silent"
# Mid-reply: a server that echoes half, then stalls.
run 75 "--timeout mid-reply" --timeout 0.5 --message hello-world 127.0.0.1 \
    "$P_half" && expect_grep out '^hello' "mid-reply: the half that came is written"
# UDP: no answer after the retries; --wait and --retries set how long.
s=$(date +%s%N)
run 75 "--udp, no answer after --retries" --udp --wait 0.2 --retries 2 \
    --message x 127.0.0.1 "$P_udpsilent"
ms=$((($(date +%s%N) - s) / 1000000))
[ "$ms" -ge 550 ] && [ "$ms" -le 5000 ] &&
    pass "--udp: three tries of 0.2 s took $ms ms" ||
    fail "--udp: three tries of 0.2 s took $ms ms"
run 75 "--udp --timeout before the answer" --udp --timeout 0.3 --wait 5 \
    --message x 127.0.0.1 "$P_udpsilent"
# --ping: a probe not back within --wait is lost (1); --deadline stops.
run 1 "--ping --wait, the first byte never comes" --ping --count 1 \
    --wait 0.3 127.0.0.1 "$P_silent" &&
    expect_grep out 'no echo within 0.300 s' "--ping --wait: the probe lost"
run 1 "--ping --wait, mid-reply" --ping --count 1 --size 64 --wait 0.3 \
    127.0.0.1 "$P_half" &&
    expect_grep out 'no echo within 0.300 s \(32 of 64 bytes back\)' \
    "--ping mid-reply: the bytes that came back"
run 1 "--ping --deadline before --count" --ping --count 100 --interval 0.2 \
    --deadline 0.5 127.0.0.1 7007
run 1 "--ping --timeout before --count" --ping --count 100 --interval 0.2 \
    --timeout 0.5 127.0.0.1 7007

# sockechod(8)'s long options that the client's daemon above did not use:
# --test-config exits 0 on a valid file and 78 on a bad one, --dump-config
# prints the effective settings (-l and -w applied), --verbose logs a
# line per finished connection.
echo 'workers = 2;' >"$T/ok.conf"
echo 'no_such_key = 1;' >"$T/bad.conf"
"$SOCKECHOD" --test-config --config "$T/ok.conf" >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && pass "sockechod --test-config: valid, 0" ||
    fail "sockechod --test-config on a valid file: exit $rc"
"$SOCKECHOD" --test-config --config "$T/bad.conf" >/dev/null 2>&1
rc=$?
[ $rc -eq 78 ] && pass "sockechod --test-config: invalid, 78" ||
    fail "sockechod --test-config on an invalid file: exit $rc, want 78"
"$SOCKECHOD" --dump-config --config "$T/ok.conf" --workers 3 \
    --listen 127.0.0.1:7200 >"$T/dump" 2>&1
if grep -qx 'workers = 3;' "$T/dump" && grep -q '"127.0.0.1:7200"' "$T/dump"; then
	pass "sockechod --dump-config: -w and -l applied"
else
	fail "sockechod --dump-config: $(head -c 400 "$T/dump")"
fi
"$SOCKECHOD" --config "$T/ok.conf" --verbose --listen 127.0.0.1:7201 \
    2>"$T/verbose.log" &
PIDS+=($!)
wait_echo 127.0.0.1 7201 || fail "sockechod --verbose never served"
end=$((SECONDS + 10))
until grep -q 'connection peer=127.0.0.1:[0-9]* listener=127.0.0.1:7201 reason=client-closed' \
    "$T/verbose.log" || [ $SECONDS -ge $end ]; do
	sleep 0.1
done
expect_grep verbose.log 'connection peer=.* reason=client-closed' \
    "sockechod --verbose: a line per connection"

echo "client-doc: $fails failed"
[ "$fails" -eq 0 ]
