#!/bin/bash
# SPDX-License-Identifier: ISC
# prober-prom.sh: the prober's output through Prometheus' own tools. It
# runs sockecho -p --metrics-listen against the real sockechod on
# loopback, checks a scrape with promtool check metrics, kills the target,
# and feeds the two real scrapes (healthy, then losing) into promtool test
# rules, where etc/sockecho-prober.rules.yml's EchoProbeLoss must fire on
# the second and not on the first; then a real Prometheus server scrapes
# the prober with those rules loaded: up == 1, the lost series > 0 and the
# alert firing, through its HTTP API.
# Exits 0 when all passed, 77 when promtool, prometheus or curl is missing
# (Debian packages prometheus and curl), 1 otherwise.

set -u
: "${SOCKECHOD:=src/sockechod}" "${SOCKECHO:=src/sockecho}"
: "${SOCKECHOD_SRCDIR:=.}"
RULES=$SOCKECHOD_SRCDIR/etc/sockecho-prober.rules.yml
DEADLINE_S=30

for c in promtool prometheus curl; do
	command -v "$c" >/dev/null ||
	    { echo "SKIP: no $c (apt-get install prometheus curl)"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sockecho-prober.XXXXXX")
DPID=
PRPID=
PPID_PROM=
cleanup() {
	[ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null
	[ -z "$PRPID" ] || kill -KILL "$PRPID" 2>/dev/null
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

scrape() {
	curl -s -m 5 "http://127.0.0.1:$MPORT/metrics"
}

# value NAME: the value of the prober's sample NAME{target=...,protocol=tcp}.
value() {
	scrape | awk -v k="$1{target=\"127.0.0.1:$EPORT\",protocol=\"tcp\"}" \
	    '$1 == k { print $2 }'
}

at_least() {
	local v

	v=$(value "$1")
	[ -n "$v" ] && [ "${v%.*}" -ge "$2" ]
}

# Start the daemon on a free port (retried if taken), then the prober.
start() {
	local try

	for try in 1 2 3 4 5; do
		EPORT=$((20000 + RANDOM % 10000))
		MPORT=$((EPORT + 1))
		printf 'listen = [ "127.0.0.1:%s" ];\nworkers = 1;\n' "$EPORT" \
		    >"$T/c.conf"
		"$SOCKECHOD" -c "$T/c.conf" >"$T/daemon.log" 2>&1 &
		DPID=$!
		if wait_for 10 grep -q "ready:" "$T/daemon.log"; then
			"$SOCKECHO" -p -i 0.2 -w 0.2 --metrics-listen \
			    "127.0.0.1:$MPORT" 127.0.0.1 "$EPORT" \
			    >"$T/prober.log" 2>&1 &
			PRPID=$!
			wait_for 5 at_least sockecho_probes_received_total 3 &&
			    return 0
			kill -KILL "$PRPID" 2>/dev/null
			PRPID=
		fi
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	done
	cat "$T/daemon.log" "$T/prober.log"
	echo "Bail out! sockechod or the prober did not start"
	exit 1
}

# rules_test FILE: a promtool rules test of $RULES on the two scrapes, a
# minute apart: no alert at 0m, EchoProbeLoss firing for the target at 1m.
rules_test() {
	cat <<-EOF
	rule_files:
	  - $(cd "$(dirname "$RULES")" && pwd)/$(basename "$RULES")
	evaluation_interval: 1m
	tests:
	  - interval: 1m
	    input_series:
	EOF
	awk '!/^#/ && NF == 2 {
		if (FILENAME == ARGV[1]) a[$1] = $2
		else if ($1 in a)
			printf "      - series: %c%s%c\n        values: \"%s %s\"\n",
			    39, $1, 39, a[$1], $2
	}' "$T/scrape1.txt" "$T/scrape2.txt"
	cat <<-EOF
	    alert_rule_test:
	      - eval_time: 0m
	        alertname: EchoProbeLoss
	        exp_alerts: []
	      - eval_time: 1m
	        alertname: EchoProbeLoss
	        exp_alerts:
	          - exp_labels:
	              severity: warning
	              target: "127.0.0.1:$EPORT"
	              protocol: tcp
	            exp_annotations:
	              summary: "echo probes to 127.0.0.1:$EPORT (tcp) are being lost"
	EOF
}

start
scrape >"$T/scrape1.txt"
check "promtool check metrics accepts a live scrape" \
    eval 'promtool check metrics <"$T/scrape1.txt" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out"; false; }'
check "the healthy scrape has no loss" \
    grep -qx "sockecho_probes_lost_total{target=\"127.0.0.1:$EPORT\",protocol=\"tcp\"} 0" \
    "$T/scrape1.txt"

# A real Prometheus server scrapes the prober every second, rules loaded.
PPORT=$((MPORT + 1))
cat >"$T/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $(cd "$(dirname "$RULES")" && pwd)/$(basename "$RULES")
scrape_configs:
  - job_name: sockecho-prober
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF2
timeout -k 5 $((DEADLINE_S + 30)) prometheus --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
    >"$T/prometheus.log" 2>&1 &
PPID_PROM=$!

query_json() {
	curl -s -m 5 "http://127.0.0.1:$PPORT/api/v1/query" \
	    --data-urlencode "query=$1" >"$T/q.json" 2>/dev/null
}
query_is() {
	query_json "$1" && grep -q "\"value\":\[[0-9.]*,\"$2\"\]" "$T/q.json"
}
query_has() {
	query_json "$1" && grep -q '"result":\[{' "$T/q.json"
}
check "Prometheus: up{job=\"sockecho-prober\"} == 1" \
    wait_for "$DEADLINE_S" query_is 'up{job="sockecho-prober"}' 1
check "Prometheus: it has received probes, none lost" \
    eval 'wait_for 10 query_has "sockecho_probes_received_total > 0" &&
	query_is "sockecho_probes_lost_total" 0'

# The target dies whole: its workers, then the master.
kill -KILL $(pgrep -P "$DPID") "$DPID"
wait "$DPID" 2>/dev/null
DPID=
check "the killed target is loss at /metrics" \
    wait_for 5 at_least sockecho_probes_lost_total 2
scrape >"$T/scrape2.txt"
check "the losing scrape passes promtool check metrics too" \
    eval 'promtool check metrics <"$T/scrape2.txt" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out"; false; }'
rules_test >"$T/rules-test.yml"
check "promtool test rules: EchoProbeLoss fires on the real scrapes" \
    eval 'promtool test rules "$T/rules-test.yml" >"$T/rules.out" 2>&1 ||
	{ cat "$T/rules.out" "$T/rules-test.yml"; false; }'
check "Prometheus: sockecho_probes_lost_total > 0" \
    wait_for 10 query_has "sockecho_probes_lost_total > 0"
check "Prometheus: EchoProbeLoss is firing" \
    wait_for 10 query_has 'ALERTS{alertname="EchoProbeLoss",alertstate="firing"}'
check "README has the rule's expression" \
    grep -qF "/ rate(sockecho_probes_sent_total[5m]) > 0.05" "$SOCKECHOD_SRCDIR/README.md"
[ "$failures" -eq 0 ] || { cat "$T/q.json" "$T/prober.log"; tail -5 "$T/prometheus.log"; }
echo "1..$n"
[ "$failures" -eq 0 ]
