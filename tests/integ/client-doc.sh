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
    --listen unix:@client-doc --listen "unix:$T/back\\slash.sock" \
    2>"$T/daemon.log" &
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

# Session 4 of issue 23: what the outsider's surviving client mutants
# showed that nobody checked (tests/mutants.txt, "outsider mutants,
# client"). More misbehaving servers: udplong (echoes one byte more),
# udpshort (every second answer only 5 bytes), udpgone (answers two
# datagrams, then nothing listens), noclose (echoes, never closes), slow
# (echoes each read 1.5 s late), once (echoes one read on its first
# connection and closes it; its backlog is full then: later connects stall), udpicmp (answers, then sends the
# client an ICMP port unreachable about it), lazy (small segments and
# receive buffer, nothing read for 0.3 s after it accepts: a large probe
# cannot go out in one write).
cat >"$T/mut.py" <<'EOF'
import os, socket, struct, sys, threading, time
kind, port = sys.argv[1], int(sys.argv[2])
def icmp_unreachable(peer, b):
    # What a host sends when a datagram finds nothing listening: ICMP port
    # unreachable quoting the datagram's IPv4 and UDP headers (RFC 792).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(b), 0, 0, 64, 17,
                     0, socket.inet_aton(peer[0]),
                     socket.inet_aton("127.0.0.1"))
    m = struct.pack("!BBHI", 3, 3, 0, 0) + ip + \
        struct.pack("!HHHH", peer[1], port, 8 + len(b), 0)
    c = sum(struct.unpack("!%dH" % (len(m) // 2), m))
    c = (c >> 16) + (c & 0xffff)
    c = ~(c + (c >> 16)) & 0xffff
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    r.sendto(m[:2] + struct.pack("!H", c) + m[4:], (peer[0], 0))
    r.close()
if kind.startswith("udp"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    n = 0
    while True:
        b, peer = s.recvfrom(65536)
        n += 1
        if kind == "udplong":
            s.sendto(b + b"x", peer)
        elif kind == "udpshort":
            s.sendto(b if n % 2 else b[:5], peer)
        elif kind == "udpicmp":
            s.sendto(b, peer)
            # Once the client has written the answer out (the test says
            # so by creating PREFIX-go), the ICMP error, then PREFIX-sent.
            end = time.monotonic() + 30
            while not os.path.exists(sys.argv[3] + "-go") and \
                    time.monotonic() < end:
                time.sleep(0.05)
            icmp_unreachable(peer, b)
            open(sys.argv[3] + "-sent", "w").close()
        elif kind == "udpgone":
            s.sendto(b, peer)
            if n == 2:
                s.close()
                while True:
                    time.sleep(60)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
if kind == "lazy":
    # A small segment size keeps the client's send buffer small too.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.listen(0 if kind == "once" else 16)
def serve(c):
    try:
        if kind == "lazy":
            time.sleep(0.3)
        while True:
            b = c.recv(65536)
            if not b:
                if kind == "noclose":
                    time.sleep(60)
                c.close()
                return
            if kind == "slow":
                time.sleep(1.5)
            c.sendall(b)
    except OSError:
        pass
if kind == "once":
    c, _ = s.accept()
    fill = []
    for i in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", port))
        fill.append(f)
    c.sendall(c.recv(65536))
    c.close()
    while True:
        time.sleep(60)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
for k in udplong udpshort udpgone udpicmp noclose slow once lazy; do
	port=$((port + 1))
	python3 "$T/mut.py" "$k" "$port" "$T/icmp" &
	PIDS+=($!)
	eval "P_$k=$port"
	end=$((SECONDS + 10))
	until [ -n "$(ss -Hltun "sport = :$port")" ]; do
		[ "$SECONDS" -ge "$end" ] && { fail "$k server never bound"; break; }
		sleep 0.05
	done
done

# An ICMP port unreachable that comes while sockecho -u reads its next
# line (as from a router, late) is seen when that line is sent: 69. The
# error goes once the first answer is written out; the second line, once
# the error is sent.
: >"$T/out"
{ echo one; end=$((SECONDS + 20))
  until grep -q one "$T/out" || [ $SECONDS -ge $end ]; do sleep 0.05; done
  : >"$T/icmp-go"
  until [ -e "$T/icmp-sent" ] || [ $SECONDS -ge $end ]; do sleep 0.05; done
  echo two; } | timeout 30 "$SOCKECHO" --udp --wait 5 127.0.0.1 "$P_udpicmp" \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 69 ] && expect_grep err 'send to 127\.0\.0\.1 port [0-9]+: Connection refused' \
    "--udp: a late ICMP error, then a send: 69" ||
    fail "--udp, a late ICMP error: exit $rc, want 69: $(cat "$T/err")"

# elapsed_ms: milliseconds since the last "start_clock".
start_clock() { t0=$(date +%s%N); }
elapsed_ms() { echo $((($(date +%s%N) - t0) / 1000000)); }

# --udp: -q writes nothing; the same line twice is two answers, not a
# duplicate skipped; -c wants the answer no longer than the datagram; with
# -n an empty -m is one empty datagram (standard input is not read); over
# IPv4 a datagram holds 65,507 bytes, over IPv6 65,527.
echo hi >"$T/in"
run 0 "--udp --quiet" --udp --quiet --message hi 127.0.0.1 7007 &&
    { [ ! -s "$T/out" ] && pass "--udp --quiet: no answer written" ||
    fail "--udp --quiet wrote: $(head -c 100 "$T/out")"; }
printf 'same\nsame\n' >"$T/in"
run 0 "--udp, the same line twice" --udp --check --wait 2 127.0.0.1 7007 &&
    expect_out $'same\nsame' "--udp, the same line twice"
run 1 "--udp --check, an answer one byte longer" --udp --check --message hello \
    127.0.0.1 "$P_udplong" &&
    expect_grep err 'reply differs from datagram 1 \(6 bytes sent, 7 received\)' \
    "--udp --check: the longer answer, the sizes"
echo 'from stdin' >"$T/in"
run 0 "--udp, an empty -m -n" --udp --message '' --no-newline 127.0.0.1 7007 &&
    { [ ! -s "$T/out" ] && pass "--udp -m '' -n: one empty datagram, stdin unread" ||
    fail "--udp -m '' -n wrote: $(head -c 100 "$T/out")"; }
{ head -c 65507 /dev/zero | tr '\0' a; echo; } >"$T/in"
run 65 "--udp, a line of 65508 bytes over IPv4" --udp --quiet 127.0.0.1 7007
run 0 "--udp, a line of 65508 bytes over IPv6" --udp --quiet ::1 7007
echo x >"$T/in"
# --timeout cuts a try's --wait short (the 75 above, timed).
start_clock
run 75 "--udp --timeout 0.3 --wait 5" --udp --timeout 0.3 --wait 5 \
    --message x 127.0.0.1 "$P_udpsilent"
ms=$(elapsed_ms)
[ "$ms" -le 3000 ] && pass "--udp --timeout 0.3: gave up after $ms ms" ||
    fail "--udp --timeout 0.3 --wait 5: gave up after $ms ms"

# --ping --udp: a datagram longer than the probe is mismatched, not good;
# a 5-byte answer is a stray, and its probe lost; a lost probe's line
# gives --wait in seconds; an ICMP error among echoed probes is loss (1),
# not "nobody listens" (69); an ICMP error still pending when the next
# probe goes (-i 0) does not make it a send error; a probe every
# --interval.
run 1 "--ping --udp, echoes one byte longer" --ping --udp --count 2 \
    --interval 0.01 --wait 2 127.0.0.1 "$P_udplong" &&
    expect_grep out '^2 probes transmitted, 0 received, 2 mismatched, 0% loss' \
    "--ping --udp, longer echoes: mismatched" &&
    expect_grep out '^65 bytes from 127\.0\.0\.1:[0-9]+: seq=1 time=[0-9.]+ ms: more bytes came back than were sent$' \
    "--ping --udp, longer echoes: more bytes came back"
run 1 "--ping --udp, a 5-byte answer" --ping --udp --count 2 --interval 0.05 \
    --wait 2 127.0.0.1 "$P_udpshort" &&
    expect_grep out '^2 probes transmitted, 1 received, 1 strays, 50% loss' \
    "--ping --udp: a 5-byte answer is a stray"
run 1 "--ping --udp --wait 0.3, no answer" --ping --udp --count 1 --wait 0.3 \
    127.0.0.1 "$P_udpsilent" &&
    expect_grep out 'seq=1: no echo within 0\.300 s$' \
    "--ping --udp: the lost probe's wait in seconds"
run 1 "--ping --udp, refused after two echoes" --ping --udp --count 5 \
    --interval 0.05 --wait 2 127.0.0.1 "$P_udpgone" &&
    expect_grep out '^5 probes transmitted, 2 received, 60% loss' \
    "--ping --udp: probes refused after echoes are lost"
run 69 "--ping --udp --interval 0, refused" --ping --udp --count 3 \
    --interval 0 --wait 0.3 127.0.0.1 7099 &&
    expect_grep out '^3 probes transmitted, 0 received, 100% loss, time' \
    "--ping --udp -i 0: a pending ICMP error is no send error"
# 0.2 s apart: 6 in 1.1 s (4 or more when the machine is busy); 3 at 0.4.
run 0 "--ping --udp --interval 0.2 --deadline 1.1" --ping --udp --interval 0.2 \
    --deadline 1.1 127.0.0.1 7007 &&
    expect_grep out '^[456] probes transmitted' \
    "--ping --udp: a probe every 0.2 s, 4 to 6 in 1.1 s"

# --ping over TCP: --connect sees a server that echoes more than was sent,
# and one that echoes but never closes; a server closing mid-echo is said
# so; -N sends all of a probe larger than the socket buffer before it
# half-closes; a reconnect is bounded by --wait, not only by
# --connect-timeout; after a probe timed out the next goes on a new
# connection (the late echo does not poison it); --deadline cuts a probe's
# --wait short.
run 1 "--ping --connect, more bytes echoed" --ping --connect --count 1 \
    127.0.0.1 "$P_double" &&
    expect_grep out 'seq=1 time=[0-9.]+ ms: more bytes came back than were sent$' \
    "--ping --connect: more bytes came back"
run 1 "--ping --connect, echoed, never closed" --ping --connect --count 1 \
    --wait 1 127.0.0.1 "$P_noclose" &&
    expect_grep out 'seq=1: echoed, but the server did not close the connection within 1\.000 s$' \
    "--ping --connect: the server did not close"
run 1 "--ping, the server closes mid-echo" --ping --count 1 127.0.0.1 "$P_short" &&
    expect_grep out 'seq=1: connection closed by the server after 32 of 64 bytes$' \
    "--ping: the server closed mid-echo"
run 0 "--ping --connect --size 1048576" --ping --connect --count 2 \
    --interval 0.01 --size 1048576 127.0.0.1 "$P_lazy" &&
    expect_grep out '^2 probes transmitted, 2 received, 0% loss' \
    "--ping --connect: 1 MiB probes, all sent before the half-close"
# A probe larger than a segment, to a server that reads 0.3 s late: its
# time cannot be under 0.3 s. The kernel stamps a write's last byte when it
# leaves, after the stall: timed by those stamps it showed 0.04 to 41 ms.
run 0 "--ping --size 1048576, a server that reads late" --ping --count 1 \
    --size 1048576 127.0.0.1 "$P_lazy" &&
    ms=$(sed -nE 's/.* seq=1 time=([0-9]+)(\.[0-9]+)? ms.*/\1/p' "$T/out") &&
    [ "${ms:-0}" -ge 290 ] &&
    pass "--ping: a 1 MiB probe to a late reader took ${ms} ms" ||
    fail "--ping: a 1 MiB probe to a late reader: $(grep seq=1 "$T/out")"
# Probe 1 comes back, probe 2 finds the connection closed, probe 3 must
# connect again: the connect stalls.
start_clock
run 1 "--ping, the reconnect stalls" --ping --count 3 --interval 0.01 \
    --wait 2 127.0.0.1 "$P_once" &&
    expect_grep out 'seq=3: cannot connect: Connection timed out$' \
    "--ping: the stalled reconnect is lost"
ms=$(elapsed_ms)
# Bounded by --wait: about 2 s; by --connect-timeout's 10 s, more than 10.
[ "$ms" -le 6000 ] && pass "--ping --wait 2 bounds a reconnect: $ms ms" ||
    fail "--ping --wait 2 with a stalled reconnect took $ms ms"
# Probe 1's echo comes in the middle of probe 2's wait, 0.5 s from either end.
run 1 "--ping, echoes 1.5 s late, --wait 1" --ping --count 2 --interval 0.01 \
    --wait 1 127.0.0.1 "$P_slow" &&
    expect_grep out '^2 probes transmitted, 0 received, 100% loss' \
    "--ping: a late echo does not reach the next probe"
# Waiting for a slow echo sleeps: the kernel's send stamp, left in the
# error queue, made every poll return at once (1.2 s of CPU in 1.5 s).
cpu=$( { TIMEFORMAT='%U %S'; time timeout 30 "$SOCKECHO" --ping --count 1 \
    --wait 3 127.0.0.1 "$P_slow" >"$T/out" 2>"$T/err"; } 2>&1 |
    awk '{ printf "%d", ($1 + $2) * 1000 }')
grep -qE '^1 probes transmitted, 1 received' "$T/out" &&
    [ "$cpu" -lt 400 ] &&
    pass "--ping: waiting 1.5 s for an echo took $cpu ms of CPU" ||
    fail "--ping: waiting 1.5 s for an echo took $cpu ms of CPU: $(tail -3 "$T/out")"
start_clock
run 1 "--ping --deadline 0.5 --wait 5" --ping --count 1 --wait 5 --deadline 0.5 \
    127.0.0.1 "$P_silent"
ms=$(elapsed_ms)
[ "$ms" -le 3000 ] && pass "--ping --deadline 0.5 cut --wait 5: $ms ms" ||
    fail "--ping --deadline 0.5 --wait 5 took $ms ms"

# --json: "interrupted" is true after SIGINT, false at --deadline; a
# backslash in the address is escaped.
json_check() {
	python3 - "$T/out" "$1" >"$T/json.err" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert eval(sys.argv[2]), (sys.argv[2], d)
EOF
}
run 0 "--ping --json --deadline" --ping --json --interval 0.05 --deadline 0.3 \
    127.0.0.1 7007 &&
    { json_check 'd["interrupted"] is False and d["transmitted"] >= 1' &&
    pass "--json: not interrupted at the deadline" ||
    fail "--json at the deadline: $(cat "$T/json.err")"; }
"$SOCKECHO" --ping --json --count 1000 --interval 0.05 127.0.0.1 7007 \
    >"$T/out" 2>"$T/err" &
pid=$!
# SIGINT is caught once it is blocked (read from a signalfd); before, it kills.
end=$((SECONDS + 10))
until [ $(( 0x$(awk '/^SigBlk:/ { print $2 }' "/proc/$pid/status" \
    2>/dev/null || echo 0) & 2 )) -ne 0 ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
# 0, or 1 when the signal came before the first echo ("no reply came at all").
[ "$rc" -le 1 ] && json_check 'd["interrupted"] is True' &&
    pass "--json: interrupted after SIGINT" ||
    fail "--json after SIGINT: exit $rc: $(cat "$T/json.err" "$T/err")"
# SIGINT while the first connect stalls (a full backlog): still one JSON
# document, "interrupted" true, no probe sent; it was the text summary
# with "the kernel gives none: Success" and a time of 2^64 ms.
for i in 1 2 3 4; do
	(exec 3<>"/dev/tcp/127.0.0.1/$P_full"; sleep 30) 2>/dev/null &
	PIDS+=($!)
done
"$SOCKECHO" --ping --json --count 1 127.0.0.1 "$P_full" >"$T/out" \
    2>"$T/err" &
pid=$!
end=$((SECONDS + 10))
until [ $(( 0x$(awk '/^SigBlk:/ { print $2 }' "/proc/$pid/status" \
    2>/dev/null || echo 0) & 2 )) -ne 0 ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
json_check '(d["interrupted"], d["transmitted"], d["time_ms"] < 60000, d["kernel_timestamps"]["error"]) == (True, 0, True, None)' &&
    pass "--json: interrupted while connecting: exit $rc" ||
    fail "--json, SIGINT while connecting: exit $rc: $(cat "$T/json.err") $(head -c 300 "$T/out")"
printf x >"$T/in"
run 0 "--ping --json, a backslash in the path" --ping --json --count 1 \
    "unix:$T/back\\slash.sock" &&
    { json_check 'd["target"].endswith("/back\\slash.sock")' &&
    pass "--json: a backslash escaped" ||
    fail "--json with a backslash: $(cat "$T/json.err") $(head -c 300 "$T/out")"; }
echo x >"$T/in"

# --ping over TCP times a probe from its first byte to the last of its
# echo: Nagle's algorithm must not hold a probe back, over IPv6 as over IPv4.
cat >"$T/nodelay.py" <<'EOF'
import ctypes, os, socket, subprocess, sys, time
# The client's probe connection, as the kernel has it: its descriptor
# copied out with pidfd_getfd(2), then TCP_NODELAY read back.
libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_getfd = 438
sockecho, host = sys.argv[1], sys.argv[2]
p = subprocess.Popen([sockecho, "--ping", "--quiet", "--count", "100",
                      "--interval", "0.05", host, "7007"],
                     stdout=subprocess.DEVNULL)
pidfd = os.pidfd_open(p.pid)
found = None
end = time.monotonic() + 10
try:
    while found is None and time.monotonic() < end:
        for name in os.listdir("/proc/%d/fd" % p.pid):
            if not os.readlink("/proc/%d/fd/%s" % (p.pid, name)).startswith("socket:"):
                continue
            fd = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                sys.exit("pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
            s = socket.socket(fileno=fd)
            try:
                if s.type == socket.SOCK_STREAM and s.getpeername()[1] == 7007:
                    found = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            except OSError:
                pass
            s.close()
        time.sleep(0.02)
finally:
    p.kill()
    p.wait()
sys.exit(0 if found else "TCP_NODELAY is %s on the probe connection to %s" % (found, host))
EOF
for h in 127.0.0.1 ::1; do
	python3 "$T/nodelay.py" "$SOCKECHO" "$h" >"$T/err" 2>&1 &&
	    pass "--ping $h: TCP_NODELAY on the probe connection" ||
	    fail "--ping $h: $(cat "$T/err")"
done

# Issue 23, the last five files (session 4), from sockecho(1):
# --ping asks the kernel for send and receive stamps over TCP and UDP, over
# IPv6 as over IPv4 (the send stamp's key comes from IPV6_RECVERR there).
for h in 127.0.0.1 ::1; do
	for u in "" --udp; do
		run 0 "--ping $u $h, kernel stamps" --ping $u --json --count 5 \
		    --interval 0.01 "$h" 7007 &&
		    { json_check 'd["kernel_timestamps"]["enabled"] is True and d["kernel_timestamps"]["send"] == 5 and d["kernel_timestamps"]["both"] >= 4' &&
		    pass "--ping $u $h: a kernel send stamp for every probe" ||
		    fail "--ping $u $h: $(cat "$T/json.err")"; }
	done
done
# SECONDS "is a positive number": 0 is refused (64) for each of them.
for o in --timeout --connect-timeout --wait; do
	run 64 "$o 0" $o 0 --udp --message x 127.0.0.1 7007
done
# -u: "the default is 2" retries. A server that answers only the third
# datagram of each peer: a reply with the default, none with --retries 1.
cat >"$T/third.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
seen = {}
while True:
    b, peer = s.recvfrom(65536)
    seen[peer] = seen.get(peer, 0) + 1
    if seen[peer] == 3:
        s.sendto(b, peer)
EOF
P_third=7130
python3 "$T/third.py" "$P_third" &
PIDS+=($!)
end=$((SECONDS + 10))
until [ -n "$(ss -Hlun "sport = :$P_third")" ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
run 0 "--udp, the default retries reach the third try" --udp --wait 0.2 \
    --message x 127.0.0.1 "$P_third" && expect_out x "--udp, third try"
run 75 "--udp --retries 1, two tries only" --udp --wait 0.2 --retries 1 \
    --message x 127.0.0.1 "$P_third"

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
