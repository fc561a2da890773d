# SPDX-License-Identifier: ISC
# bench/servers.sh: sourced by bench/run. How to build or find each server
# of the comparison and the command that starts it on 127.0.0.1:PORT, and
# the machine's description for the report. It starts nothing itself
# (bench/load does) and decides no order.

sockechod_bin=$builddir/src/sockechod

# Sets $cmd: the server's command line for one cell on port $2.
server_command() {
	case $1 in
	sockechod)
		# The defaults, but room for 10,000 idle connections from
		# one client, which must not time out while measured.
		cat >"$tmp/sockechod.conf" <<-CONF
		listen = [ "127.0.0.1:$2" ];
		max_connections = 20000;
		max_connections_per_client = 0;
		idle_timeout = 0;
		CONF
		cmd="$sockechod_bin -c $tmp/sockechod.conf" ;;
	sockechod-autobuf)
		# The same with the kernel's socket buffer autotuning for
		# every connection, as the peers have it, not only the first
		# autotuned_connections: what the 128 KiB safety cap costs.
		server_command sockechod "$2"
		echo "socket_buffer_bytes = 0;" >>"$tmp/sockechod.conf" ;;
	sockechod-copy)
		# The same copying through the worker's buffer, as before
		# splice: what splice = true saves.
		server_command sockechod "$2"
		echo "splice = false;" >>"$tmp/sockechod.conf" ;;
	epoll)	cmd="$builddir/bench/peers/epoll_echo $2" ;;
	go)	cmd="$tmp/go_echo $2" ;;
	uvloop)	cmd="/usr/bin/python3 $srcdir/bench/peers/uvloop_echo.py $2" ;;
	node)	cmd="$node_bin $srcdir/bench/peers/node_echo.js $2" ;;
	uring)	cmd="$builddir/bench/peers/uring_echo $2" ;;
	xinetd)
		sed "s/@PORT@/$2/" "$srcdir/bench/peers/xinetd.conf.in" \
		    >"$tmp/xinetd.conf"
		cmd="xinetd -dontfork -filelog $tmp/xinetd.log -f $tmp/xinetd.conf" ;;
	socat)
		# socat's own echo (PIPE) in a child per connection; backlog
		# 4096, not socat's 5, which would measure SYN retransmits.
		cmd="socat TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,backlog=4096,nodelay PIPE" ;;
	esac
}

# Build or find server $1; false (with a note) when it cannot run here.
server_prepare() {
	case $1 in
	sockechod|sockechod-autobuf|sockechod-copy) [ -x "$sockechod_bin" ] ;;
	epoll)	[ -x "$builddir/bench/peers/epoll_echo" ] ;;
	go)	command -v go >/dev/null 2>&1 &&
		    (cd "$tmp" && go build -o "$tmp/go_echo" \
		    "$srcdir/bench/peers/go_echo.go") ;;
	uvloop)	[ -x /usr/bin/python3 ] &&
		    /usr/bin/python3 -c 'import uvloop' 2>/dev/null ;;
	node)	node_bin=$(command -v node || command -v nodejs) ;;
	# Built by make when configure found liburing-dev.
	uring)	[ -x "$builddir/bench/peers/uring_echo" ] ;;
	xinetd)	command -v xinetd >/dev/null 2>&1 ;;
	socat)	command -v socat >/dev/null 2>&1 ;;
	esac
}

peer_versions() {
	for s in $1; do
		case $s in
		sockechod) v=$("$sockechod_bin" --version | head -n 1) ;;
		sockechod-autobuf) v="the same with socket_buffer_bytes = 0 (kernel autotuning for every connection)" ;;
		sockechod-copy) v="the same with splice = false (copying through the worker's buffer)" ;;
		epoll)	v="bench/peers/epoll_echo.c, $(nproc) processes" ;;
		go)	v=$(go version) ;;
		uvloop)	v="Python $(/usr/bin/python3 -c 'import sys, uvloop; print(sys.version.split()[0], "uvloop", uvloop.__version__)')" ;;
		node)	v="Node.js $($node_bin --version)" ;;
		uring)	v="bench/peers/uring_echo.c, liburing $(dpkg-query -W -f='${Version}' liburing-dev 2>/dev/null)" ;;
		xinetd)	v=$(xinetd -version 2>&1 | head -n 1) ;;
		socat)	v=$(socat -V 2>/dev/null | grep -m 1 'socat version') ;;
		esac
		echo "- $s: $v"
	done
}

# The head of RESULTS.md: $1 the wall time in s, $2 the servers that ran.
bench_machine() {
	cat <<-HEAD
	# sockechod side-by-side benchmark: results

	Written by \`make bench\` (bench/run); do not edit by hand.

	- date: $(date -u '+%Y-%m-%d %H:%M UTC')
	- machine: $(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; $(uname -sr); $(. /etc/os-release && echo "$PRETTY_NAME")
	- load average before the run: $load_before
	- command: \`${BENCH_COMMAND:-make bench}\` (BENCH_QUICK=${BENCH_QUICK:-0}, $reps repetitions, cells of $cell_ms ms after $warm_ms ms of warm-up)
	- wall time: $1 s
	- network: $(if [ "$cell_netns" = 1 ]; then echo "each cell in a network namespace of its own (no TIME_WAIT sockets of the cells before)"; else echo "the machine's own namespace for every cell (not root, or BENCH_NETNS=0)"; fi)
	HEAD
	echo
	echo "Servers:"
	echo
	peer_versions "$2"
	echo
}
