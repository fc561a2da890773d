#!/bin/sh
# SPDX-License-Identifier: ISC
# pathlint.sh: no file in src/**/*.c acts on a path but through src/core/safepath.c
# (tools/pathlint), and the checker itself still fails on a bare call
# planted in a copy of a daemon file, and passes one in a comment, a
# string, a safepath_ call, listen.c's bind() of an IP address or the
# client's connect(); a connect() in the daemon (listen.c included) fails.
set -u
srcdir=${SOCKECHOD_SRCDIR:-.}
pathlint=$srcdir/tools/pathlint
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"

status=0
# $1: the name of the planted file under $tmp/src, $2: 0 if it must pass.
plant() {
	mkdir -p "$(dirname "$tmp/src/$1")"
	cp "$srcdir/src/core/pidfile.c" "$tmp/src/$1"
	cat >>"$tmp/src/$1"
	if "$pathlint" "$tmp/src/$1" >"$tmp/out" 2>&1; then
		got=0
	else
		got=1
	fi
	if [ "$got" -ne "$2" ]; then
		echo "FAIL: tools/pathlint exits $got, not $2, on:"
		tail -n 4 "$tmp/src/$1"
		cat "$tmp/out"
		status=1
	fi
}

for call in 'open(path, O_RDONLY)' 'chmod(path, 0666)' 'unlink(path)' \
    'rename(tmp, path)' 'fopen(path, "r")' 'openat(fd, name, 0)' \
    'mkfifo(path, 0600)' 'bind(fd, sa, len)' 'connect(fd, sa, len)'; do
	printf 'static void\nbare(const char *path)\n{\n\t(void)%s;\n}\n' \
	    "$call" | plant bare.c 1
done
printf '/* open(2) and chmod(2) in a comment */\n' | plant comment.c 0
printf '/*\n * unlink(path) in a long comment\n */\n' | plant long.c 0
printf 'static const char *s = "rename(a, b)";\n' | plant string.c 0
printf 'static void\nf(void)\n{\n\t(void)safepath_unlink("x", 0);\n}\n' |
    plant routed.c 0
printf 'static void\nf(int fd)\n{\n\t(void)bind(fd, 0, 0);\n}\n' |
    plant net/listen.c 0
printf 'static void\nf(int fd)\n{\n\t(void)connect(fd, 0, 0);\n}\n' |
    plant net/listen.c 1
printf 'static void\nf(int fd)\n{\n\t(void)connect(fd, 0, 0);\n}\n' |
    plant client/sockecho.c 0
printf 'static void\nf(int fd)\n{\n\t(void)connect(fd, 0, 0);\n}\n' |
    plant client/ping_tcp.c 0
printf 'static void\nf(struct ping *p)\n{\n\t(void)tcp_connect(p);\n}\n' |
    plant master/master.c 0
if "$pathlint" $(find "$srcdir"/src -name '*.c' | sort); then
	echo "ok: no bare path call in src/**/*.c outside src/core/safepath.c"
else
	status=1
fi
exit $status
