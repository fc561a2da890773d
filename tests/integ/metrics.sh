#!/bin/bash
# SPDX-License-Identifier: ISC
# metrics.sh: the Prometheus exporter, live. It starts the real sockechod
# with metrics_listen on loopback, checks the HTTP answers (404, 405, HEAD,
# an oversized request, a silent client that must not block the master),
# counts a UDP echo, checks that the counters survive a killed worker and
# a reload, validates a scrape with promtool, and lets a real Prometheus
# server scrape it and answer up == 1 and the accepted-connections count
# through its HTTP API. Then series by series: a connection held open
# counts once in accepted_total; while its worker drains after a reload,
# workers_configured says 2 and workers_live 3; a datagram from a source
# "allow" leaves out is read and not answered, so the workers' received
# bytes exceed their sent bytes by its size.
# Exits 0 when all passed, 77 when promtool, prometheus or curl is missing
# (Debian packages prometheus and curl), 1 otherwise.

set -u
: "${SOCKECHOD:=src/sockechod}" "${SOCKECHO:=src/sockecho}"
DEADLINE_S=30

for c in promtool prometheus curl; do
	command -v "$c" >/dev/null ||
	    { echo "SKIP: no $c (apt-get install prometheus curl)"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sockechod-metrics.XXXXXX")
DPID=
PPID_PROM=
cleanup() {
	# QUIT, the daemon's immediate stop, so that it leaves by its exit
	# paths (a coverage build writes its counts); KILL if it does not go.
	if [ -n "$DPID" ] && kill -QUIT "$DPID" 2>/dev/null; then
		wait_for 3 gone "$DPID" ||
		    kill -KILL "$DPID" 2>/dev/null
	fi
	# timeout(1) passes TERM on to prometheus; -k makes it a KILL in time.
	[ -z "$PPID_PROM" ] || kill -TERM "$PPID_PROM" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

failures=0
n=0
check() {
	local what=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		failures=$((failures + 1))
	fi
}

now_ms() {
	local t=${EPOCHREALTIME/./}

	echo $((t / 1000))
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))

	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# gone PID: PID has exited (a zombie of this shell counts).
gone() {
	local st

	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$st" = Z ]
}

scrape() {
	curl -s -m 5 "http://127.0.0.1:$MPORT/metrics"
}

# metric_is NAME VALUE: the scrape has the line "NAME VALUE".
metric_is() {
	scrape | grep -qxF "$1 $2"
}

# Start the daemon on two free ports: retried if a port is taken.
start_daemon() {
	local try

	for try in 1 2 3 4 5; do
		EPORT=$((20000 + RANDOM % 10000))
		MPORT=$((EPORT + 1))
		cat >"$T/c.conf" <<-CONF
		listen = [ "127.0.0.1:$EPORT", "udp:127.0.0.1:$EPORT" ];
		workers = 2;
		allow = [ "127.0.0.1" ];
		metrics_listen = "127.0.0.1:$MPORT";
		CONF
		"$SOCKECHOD" -c "$T/c.conf" >"$T/daemon.log" 2>&1 &
		DPID=$!
		if wait_for 10 grep -q "ready:" "$T/daemon.log"; then
			return 0
		fi
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	done
	cat "$T/daemon.log"
	echo "Bail out! sockechod did not start"
	exit 1
}

echo_ok() {
	[ "$("$SOCKECHO" -T 5 -t 10 -m "$1" 127.0.0.1 "$EPORT")" = "$1" ]
}

status_of() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"
}

a_worker() {
	local d

	for d in /proc/[0-9]*; do
		read -r -a f 2>/dev/null <"$d/stat" || continue
		[ "${f[3]}" = "$DPID" ] && { echo "${d#/proc/}"; return; }
	done
}

start_daemon
M=http://127.0.0.1:$MPORT
check "3 echoes" eval 'echo_ok one && echo_ok two && echo_ok three'
check "accepted_total counts them" wait_for 5 metric_is sockechod_connections_accepted_total 3
# "one\n", "two\n", "three\n": sockecho -m adds the newline.
check "received and sent bytes count the 14 bytes echoed" \
    eval 'wait_for 5 metric_is sockechod_received_bytes_total 14 &&
	metric_is sockechod_sent_bytes_total 14'
check "HELP and TYPE for sockechod_connections_accepted_total" \
    eval 'scrape | grep -qx "# TYPE sockechod_connections_accepted_total counter"'
# From 127.0.0.2, which allow leaves out: reset right after accept.
curl -s -m 5 --interface 127.0.0.2 "http://127.0.0.1:$EPORT/" >/dev/null 2>&1
check "a connection from 127.0.0.2 counts as refused{reason=deny}" \
    wait_for 5 metric_is 'sockechod_connections_refused_total{reason="deny"}' 1
check "a UDP echo counts in udp_received and udp_echoed" \
    eval '[ "$("$SOCKECHO" -u -m udp 127.0.0.1 "$EPORT")" = udp ] &&
	wait_for 5 metric_is sockechod_udp_echoed_datagrams_total 1 &&
	metric_is sockechod_udp_received_datagrams_total 1'
check "udp_dropped has a series for each reason, at 0" \
    eval '[ "$(scrape | grep -c "^sockechod_udp_dropped_datagrams_total{reason=\".*\"} 0$")" = 11 ]'
check "GET /other is 404" test "$(status_of "$M/other")" = 404
check "POST /metrics is 405" test "$(status_of -X POST "$M/metrics")" = 405
check "HEAD /metrics is 200 without a body" \
    eval '[ "$(status_of -I "$M/metrics")" = 200 ] &&
	[ -z "$(curl -s -m 5 -I "$M/metrics" | sed "1,/^\r$/d")" ]'
check "a request over 4096 bytes is 431" \
    test "$(status_of -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' x)" "$M/metrics")" = 431
# raw_status TEXT: the status line's first 12 bytes for TEXT sent as is.
raw_status() {
	local r

	exec 6<>"/dev/tcp/127.0.0.1/$MPORT" || return 1
	printf '%b' "$1" >&6
	r=$(timeout 5 head -c 12 <&6)
	exec 6>&-
	echo "$r"
}
check "a request line without a version is 400" \
    test "$(raw_status 'GET /metrics\r\n\r\n')" = "HTTP/1.1 400"
check "a request line that is not HTTP/1.x is 400" \
    test "$(raw_status 'GET /metrics SPDY/3\r\n\r\n')" = "HTTP/1.1 400"
check "headers ended by LF alone are read: 200" \
    test "$(raw_status 'GET /metrics?x HTTP/1.0\n\n')" = "HTTP/1.1 200"
# A client that connects and sends nothing must not stop the others.
exec 5<>"/dev/tcp/127.0.0.1/$MPORT"
check "a silent client does not block a scrape" metric_is sockechod_workers_live 2
exec 5>&-

victim=$(a_worker)
kill -KILL "$victim"
check "after a SIGKILLed worker: exits{cause=crashed} is 1" \
    wait_for 10 metric_is 'sockechod_worker_exits_total{cause="crashed"}' 1
check "after it: 3 worker starts, accepted_total still 3, udp_echoed 1" \
    eval 'wait_for 10 metric_is sockechod_worker_starts_total 3 &&
	metric_is sockechod_connections_accepted_total 3 &&
	metric_is sockechod_udp_echoed_datagrams_total 1'
kill -HUP "$DPID"
check "after a reload: reloads{result=ok} is 1, generation 2" \
    eval 'wait_for 10 metric_is "sockechod_reloads_total{result=\"ok\"}" 1 &&
	metric_is sockechod_generation 2'
check "after it: accepted_total is still 3, then 4 with one more" \
    eval 'metric_is sockechod_connections_accepted_total 3 && echo_ok four &&
	wait_for 5 metric_is sockechod_connections_accepted_total 4'
scrape >"$T/scrape.txt"
check "promtool check metrics accepts a live scrape" \
    eval 'promtool check metrics <"$T/scrape.txt" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out"; false; }'

# A real Prometheus server scrapes it every second.
PPORT=$((MPORT + 1))
cat >"$T/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sockechod
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF2
timeout -k 5 $((DEADLINE_S + 30)) prometheus --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
    >"$T/prometheus.log" 2>&1 &
PPID_PROM=$!

query_is() {
	curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/query" \
	    --data-urlencode "query=$1" >"$T/q.json" 2>/dev/null &&
	    grep -q "\"value\":\[[0-9.]*,\"$2\"\]" "$T/q.json"
}
check "Prometheus: up{job=\"sockechod\"} == 1" \
    wait_for "$DEADLINE_S" query_is 'up{job="sockechod"}' 1
check "Prometheus: sockechod_connections_accepted_total == 4" \
    wait_for 10 query_is sockechod_connections_accepted_total 4

# Series by series (sockechod(8), METRICS). A connection held open counts
# once in accepted_total, and in connections_open.
exec 6<>"/dev/tcp/127.0.0.1/$EPORT"
printf 'held\n' >&6
read -r -t 5 held <&6
check "a held connection: accepted_total 5, connections_open 1" \
    eval '[ "${held:-}" = held ] &&
	wait_for 5 metric_is sockechod_connections_accepted_total 5 &&
	metric_is sockechod_connections_open 1'
# Its worker drains after a reload and stays alive: 3 live, the
# configuration still asks for 2.
kill -HUP "$DPID"
check "a reload with a draining worker: workers_configured 2, workers_live 3" \
    eval 'wait_for 10 metric_is sockechod_generation 3 &&
	wait_for 5 metric_is sockechod_workers_live 3 &&
	metric_is sockechod_workers_configured 2'
exec 6>&-
# A datagram from 127.0.0.2 (not allowed) is read, not answered: the
# workers together received more bytes than they sent.
per_worker_sum() {
	scrape | awk -v m="$1" 'index($0, m "{") == 1 { s += $NF } END { print s + 0 }'
}
python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
s.sendto(b"d" * 1000, ("127.0.0.1", int(sys.argv[1])))' "$EPORT" 2>/dev/null
check "a denied datagram: per worker, received bytes exceed sent bytes by 1000" \
    eval 'wait_for 5 metric_is "sockechod_udp_dropped_datagrams_total{reason=\"denied\"}" 1 &&
	[ $(($(per_worker_sum sockechod_worker_received_bytes_total) -
	    $(per_worker_sum sockechod_worker_sent_bytes_total))) -eq 1000 ]'
[ "$failures" -eq 0 ] || { cat "$T/q.json" "$T/daemon.log"; tail -5 "$T/prometheus.log"; }
echo "1..$n"
[ "$failures" -eq 0 ]
