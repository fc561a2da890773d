#!/bin/bash
# SPDX-License-Identifier: ISC
# client-errors.sh: what sockecho(1) documents for the modes client-doc.sh
# leaves out, written from the page: the prober's --metrics-listen in each
# of its address forms (HOST:PORT, [IPV6]:PORT, unix:/PATH) and each way
# that address can be wrong (no port, a bare IPv6 address, a relative or
# too long path, a missing directory, a port in use, a name that does not
# resolve), a scrape over a unix: socket and the prober's exit 0 when
# stopped; --bulk over unix:/PATH and unix:@NAME, with --ping -u beside the
# load, its options and its exit statuses 4, 64, 68 and 69; --stamp over
# IPv6 and with --json when nothing answers; -p -u against servers that
# alter every answer (mismatched, or strays and lost; exit 1). It runs in a network and mount
# namespace of its own. Needs root and python3; skips (77) without them.
set -u

SOCKECHOD=${SOCKECHOD:-../../src/sockechod}
SOCKECHO=${SOCKECHO:-../../src/sockecho}

if [ -z "${CLIENT_ERRORS_INSIDE:-}" ]; then
	if ! unshare -mn --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a private network namespace (needs root)"
		exit 77
	fi
	command -v ip >/dev/null || { echo "SKIP: no ip(8) (iproute2)"; exit 77; }
	command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
	CLIENT_ERRORS_INSIDE=1 exec unshare -mn --propagation private \
	    "$BASH" "$0" "$@"
fi

fails=0
T=$(mktemp -d /tmp/client-errors.XXXXXX) || exit 99
PIDS=()
cleanup() {
	local p

	# SIGTERM first: the daemon and the prober leave by their exit paths.
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

ip link set lo up || exit 99

# run WANT_RC WHAT ARGS...: sockecho ARGS, output into $T/out and $T/err.
run() {
	local want=$1 what=$2 rc

	shift 2
	timeout 30 "$SOCKECHO" "$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$what: exit $rc"
		return 0
	fi
	fail "$what: exit $rc, want $want (sockecho $*): $(head -c 300 "$T/err")"
	return 1
}

# expect_grep FILE PATTERN WHAT
expect_grep() {
	if grep -qE -- "$2" "$T/$1"; then
		pass "$3"
	else
		fail "$3: no /$2/ in $1: $(head -c 300 "$T/$1")"
	fi
}

# scrape ADDR: GET /metrics at ADDR (HOST:PORT, [V6]:PORT or unix:/PATH)
# into $T/scrape, retried for up to 10 s while nothing listens yet.
scrape() {
	python3 - "$1" >"$T/scrape" 2>&1 <<'EOF'
import socket, sys, time
a = sys.argv[1]
end = time.monotonic() + 10
while True:
    try:
        if a.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX)
            s.connect(a[5:])
        else:
            host, port = a.rsplit(":", 1)
            s = socket.create_connection((host.strip("[]"), int(port)), 2)
        break
    except OSError:
        if time.monotonic() > end:
            raise
        time.sleep(0.05)
s.settimeout(5)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
EOF
}

# stop PID WHAT: SIGTERM; the prober exits 0 (sockecho(1)).
stop() {
	local rc

	kill -TERM "$1"
	wait "$1"
	rc=$?
	[ "$rc" -eq 0 ] && pass "$2: exit 0 on SIGTERM" ||
	    fail "$2: exit $rc on SIGTERM, want 0"
}

: >"$T/conf"
"$SOCKECHOD" -c "$T/conf" --workers 1 --listen 127.0.0.1:7007 \
    --listen '[::1]:7007' --listen udp:127.0.0.1:7007 \
    --listen "unix:$T/echo.sock" --listen unix:@client-errors \
    --listen 'stamp:[::1]:8862' 2>"$T/daemon.log" &
PIDS+=($!)
end=$((SECONDS + 10))
until echo x | "$SOCKECHO" -q 127.0.0.1 7007 >/dev/null 2>&1; do
	[ "$SECONDS" -ge "$end" ] && { cat "$T/daemon.log"; exit 99; }
	sleep 0.1
done

# --metrics-listen: HOST:PORT, [IPV6]:PORT or unix:/PATH, else no prober.
bad_listen() {
	run 69 "--metrics-listen $1" --ping --metrics-listen "$1" 127.0.0.1 7007 &&
	    expect_grep err "^sockecho: --metrics-listen .*$2" \
	    "--metrics-listen $1: $2"
}
bad_listen 127.0.0.1 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
bad_listen 127.0.0.1: 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
bad_listen ::1:9100 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
bad_listen unix:relative.sock 'expected an absolute path'
bad_listen "unix:/$(printf 'a%.0s' $(seq 120))" 'expected an absolute path'
bad_listen "unix:$T/no-such-dir/m.sock" 'No such file or directory'
bad_listen no-such-host.invalid:9100 'no-such-host.invalid:9100: '
bad_listen '[::1]:no-such-service' 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
# A port above 65535 was taken modulo 2^16 (99999 listened on 34463).
bad_listen 127.0.0.1:99999 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
bad_listen 127.0.0.1:0 'expected HOST:PORT, \[IPV6\]:PORT or unix:/PATH'
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9101)); s.listen()
time.sleep(60)' &
PIDS+=($!)
end=$((SECONDS + 10))
until [ -n "$(ss -Hlt 'sport = :9101')" ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
bad_listen 127.0.0.1:9101 'Address already in use'

# A prober on unix:/PATH and one on [::1]:PORT, scraped; then stopped.
"$SOCKECHO" --ping --interval 0.05 --metrics-listen "unix:$T/m.sock" \
    "unix:$T/echo.sock" >/dev/null 2>"$T/prober.err" &
pu=$!
PIDS+=($pu)
scrape "unix:$T/m.sock"
expect_grep scrape '^HTTP/1.1 200 ' "--metrics-listen unix:/PATH: 200"
expect_grep scrape "^sockecho_probes_sent_total\\{target=\"unix:$T/echo.sock\",protocol=\"tcp\"\\} " \
    "--metrics-listen unix:/PATH: the target is the unix: address"
[ "$(stat -c %a "$T/m.sock")" = 660 ] &&
    pass "--metrics-listen unix:/PATH: mode 0660" ||
    fail "--metrics-listen unix:/PATH: mode $(stat -c %a "$T/m.sock")"
stop $pu "--metrics-listen unix:/PATH"
"$SOCKECHO" --ping --udp --interval 0.05 --metrics-listen '[::1]:9102' \
    127.0.0.1 7007 >/dev/null 2>"$T/prober.err" &
p6=$!
PIDS+=($p6)
scrape '[::1]:9102'
expect_grep scrape '^sockecho_probes_sent_total\{target="127.0.0.1:7007",protocol="udp"\} ' \
    "--metrics-listen [::1]:PORT, -u: the udp series"
stop $p6 "--metrics-listen [::1]:PORT"

# --bulk over unix:/PATH and unix:@NAME (sockecho(1): "or a unix: address").
for a in "unix:$T/echo.sock" unix:@client-errors; do
	run 0 "--bulk $a" --bulk -t 0.3 -i 0 -P 2 "$a" &&
	    expect_grep out 'every byte back and checked' "--bulk $a: checked"
done
run 64 "--bulk unix: (an empty path)" --bulk -t 0.3 unix:
run 69 "--bulk, a unix:/PATH nobody listens on" --bulk -t 0.3 \
    "unix:$T/none.sock" && expect_grep err 'cannot connect to unix:' \
    "--bulk unix:/PATH refused: says where"
run 68 "--bulk, a host that does not resolve" --bulk -t 0.3 \
    no-such-host.invalid 7007
run 69 "--bulk, refused" --bulk -t 0.3 127.0.0.1 7099
# --bulk --ping --udp: the UDP probes idle, then beside the load.
run 0 "--bulk --ping --udp" --bulk -p -u --idle 0.3 --ping-interval 0.05 \
    -t 0.5 -i 0 127.0.0.1 7007 &&
    expect_grep out '^loaded +[1-9][0-9]* +0 ' "--bulk -p -u: the loaded row"

# --bulk's own options (its --help) and exit statuses: -q totals only, a
# bracketed IPv6 host, usage errors 64, and 4 when the server closes early.
if run 0 "--bulk -q" --bulk -q -t 0.3 -i 0.1 127.0.0.1 7007; then
	if grep -q 'Interval' "$T/out"; then
		fail "--bulk -q: interval lines: $(head -c 300 "$T/out")"
	else
		expect_grep out 'totals, every byte back and checked' \
		    "--bulk -q: totals only"
	fi
fi
run 0 "--bulk [::1]" --bulk -t 0.3 -i 0 '[::1]' 7007 &&
    expect_grep out '^BULK \[::1\] \(\[::1\]:7007\)' "--bulk [::1]: the address"
run 64 "--bulk -w abc" --bulk -w abc 127.0.0.1 7007 &&
    expect_grep err '-w: expected a positive number of bytes' "--bulk -w: says why"
run 64 "--bulk -S x" --bulk -S x 127.0.0.1 7007
run 64 "--bulk, an unknown option" --bulk --no-such-option 127.0.0.1 7007
run 64 "--bulk -p -u unix:" --bulk -p -u "unix:$T/echo.sock" &&
    expect_grep err 'UDP needs HOST' "--bulk -p -u unix: says why"
run 0 "--bulk --help" --bulk --help &&
    expect_grep out '^usage: sockecho --bulk' "--bulk --help: the usage"
# Numbers on the command line: seconds are positive and finite (at most a
# year), -r 0 to 100; --bulk's -i may be 0, -P is 1 to 128, and BYTES take
# K, M or G (powers of 1024: 1K is 1024) and nothing else.
for v in '' 1x nan inf -1 0 1e12 0x; do
	run 64 "-t '$v'" --timeout "$v" --message x 127.0.0.1 7007
done
for v in '' -1 x 1.5; do
	run 64 "-r '$v'" --udp --retries "$v" --message x 127.0.0.1 7007
done
for a in "-t nan" "-t -1" "-t 0" "-t 1e12" "-i -1" "-i x" "-P 0" "-P 129" \
    "-P -1" "-n K" "-n 16X" "-n 99999999999999999999G" "-l 2M" "-w -1K" \
    "-W 0" "-T abc" "--idle -1" "--ping-interval 0"; do
	read -r -a args <<<"$a"
	run 64 "--bulk $a" --bulk "${args[@]}" 127.0.0.1 7007
done
run 0 "--bulk -n 1K" --bulk -n 1K -P 2 -i 0 --json-stream 127.0.0.1 7007 &&
    expect_grep out '"type":"end".*"bytes_out":1024,"bytes_back":1024' \
    "--bulk -n 1K: 1024 bytes a stream"
python3 -c 'import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9105))
s.listen()
while True:
    c, _ = s.accept()
    c.recv(1000)
    c.close()' &
PIDS+=($!)
end=$((SECONDS + 10))
until [ -n "$(ss -Hlt 'sport = :9105')" ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
run 4 "--bulk, the server closes early" --bulk -t 2 -i 0 127.0.0.1 9105

# --stamp over IPv6 to sockechod's reflector: every probe back, TTL 255;
# and --json to a port where nothing listens: every probe an ICMP error,
# none back (69, as for -p -u), and the JSON says so, with null delays.
run 0 "--stamp ::1" --stamp -C 3 -i 0.01 ::1 8862 &&
    expect_grep out '^3 probes transmitted, 3 received, 0% loss' \
    "--stamp ::1: three back" && expect_grep out 'ttl=255' "--stamp ::1: TTL"
run 69 "--stamp --json, nothing listens" --stamp --json -C 2 -i 0.01 -w 0.3 \
    127.0.0.1 9106 &&
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["transmitted"] == 2 and d["received"] == 0, d
assert d["rtt_ms"] is None and d["forward_ms"] is None, d' \
    "$T/out" && pass "--stamp --json: none back, delays null" ||
    fail "--stamp --json: $(tr -d '\n' <"$T/out")"

# -p -u against servers that alter every answer: one flips the last byte
# (the probe is recognised: mismatched, not lost), one the first byte (the
# answer matches no probe of this run: a stray, and the probe is lost);
# either run exits 1.
python3 -c 'import select, socket
socks = {}
for port, at in ((9103, -1), (9104, 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    socks[s] = at
while True:
    for s in select.select(list(socks), [], [])[0]:
        b, peer = s.recvfrom(65536)
        b = bytearray(b)
        b[socks[s]] ^= 1
        s.sendto(bytes(b), peer)' &
PIDS+=($!)
end=$((SECONDS + 10))
until [ -n "$(ss -Hlu 'sport = :9104')" ] || [ $SECONDS -ge $end ]; do
	sleep 0.05
done
# altered PORT WHAT PYTHON-ASSERTION
altered() {
	run 1 "--ping --udp, $2" --ping --udp --json --count 3 \
	    --interval 0.01 --wait 0.3 127.0.0.1 "$1" &&
	    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["transmitted"] == 3 and d["received"] == 0, d
'"$3" "$T/out" && pass "--ping --udp, $2: counted so" ||
	    fail "--ping --udp, $2: $(tr -d '\n' <"$T/out")"
}
altered 9103 "the last byte altered: mismatched" \
    'assert d["mismatched"] == 3 and d["lost"] == 0 and d["strays"] == 0, d'
altered 9104 "the first byte altered: strays, lost" \
    'assert d["strays"] == 3 and d["lost"] == 3 and d["mismatched"] == 0, d'

echo "client-errors: $fails failed"
[ "$fails" -eq 0 ]
