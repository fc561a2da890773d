#!/bin/sh
# SPDX-License-Identifier: ISC
# funclen.sh: no function in src/**/*.c is over 60 lines (tools/funclen), and
# the checker itself still fails on a function one line too long.
set -u
srcdir=${SOCKECHOD_SRCDIR:-.}
funclen=$srcdir/tools/funclen
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A function of $1 lines from "{" to "}", in KNF.
make_function() {
	printf 'static int\nlong_one(int x)\n{\n'
	i=2
	while [ "$i" -lt "$1" ]; do
		printf '\tx++;\n'
		i=$((i + 1))
	done
	printf '}\n'
}

status=0
make_function 60 >"$tmp/ok.c"
make_function 61 >"$tmp/long.c"
if ! "$funclen" "$tmp/ok.c" >/dev/null; then
	echo "FAIL: tools/funclen rejects a function of 60 lines"
	status=1
fi
if "$funclen" "$tmp/long.c" >/dev/null; then
	echo "FAIL: tools/funclen passes a function of 61 lines"
	status=1
fi
# Every C file of src/ and of its folders, of the load client (load/) and
# of the benchmark's load generator (bench/load*.c).
# shellcheck disable=SC2046
if "$funclen" $(find "$srcdir/src" "$srcdir/load" -name '*.c' |
    LC_ALL=C sort) "$srcdir"/bench/load*.c; then
	echo "ok: no function in src/**/*.c, load/*.c, bench/load*.c is over" \
	    "60 lines"
else
	status=1
fi
exit $status
