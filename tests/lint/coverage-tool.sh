#!/bin/sh
# SPDX-License-Identifier: ISC
# coverage-tool.sh: tools/coverage, the report of make coverage, on a
# gcovr JSON written here: lines, branches and functions counted, an
# exclusion taking its line and branches out (its FILE a path or a shell
# pattern), a stale exclusion failing, the uncovered lines listed, and each
# floor failing just under the figure and passing at it. Exits 0 when all
# held, 1 otherwise.
set -u
: "${SOCKECHOD_SRCDIR:=.}"
tool=$(cd "$SOCKECHOD_SRCDIR" && pwd)/tools/coverage
T=$(mktemp -d "${TMPDIR:-/tmp}/sockechod-covtool.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/x"
printf 'int\nf(void)\n{\n\treturn malloc_fails();\n}\nint g;\n' >"$T/src/x/a.c"
cat >"$T/cov.json" <<'JSON'
{"gcovr/format_version": "0.3", "files": [{"file": "src/x/a.c",
 "functions": [{"name": "f", "lineno": 2, "execution_count": 1},
  {"name": "h", "lineno": 6, "execution_count": 0}],
 "lines": [
  {"line_number": 2, "count": 1, "branches": [], "gcovr/noncode": false},
  {"line_number": 3, "count": 0, "branches": [], "gcovr/noncode": true},
  {"line_number": 4, "count": 0, "branches": [{"count": 0}, {"count": 3}],
   "gcovr/noncode": false},
  {"line_number": 6, "count": 2, "branches": [{"count": 1}],
   "gcovr/noncode": false}]}]}
JSON
printf '# a comment\n\nsrc/x/a.c /malloc_fails/ an allocation failure\n' \
    >"$T/excl"
printf 'src/x/a.c /no_such_line/ stale\n' >"$T/stale"
printf 'src/* /malloc_fails/ every file\n' >"$T/glob"
printf 'src/y/* /malloc_fails/ another folder\n' >"$T/elsewhere"
: >"$T/none"

failures=0
n=0
# expect STATUS GREP-PATTERN ARGS...: tools/coverage ARGS exits STATUS and
# prints (stdout and stderr) a line matching the pattern.
expect() {
	want=$1 pat=$2
	shift 2
	n=$((n + 1))
	(cd "$T" && python3 "$tool" "$@" cov.json) >"$T/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ] && grep -q -- "$pat" "$T/out"; then
		echo "ok $n - $want, /$pat/: $*"
	else
		echo "not ok $n - $want, /$pat/: $*: exit $got"
		cat "$T/out"
		failures=$((failures + 1))
	fi
}

expect 0 '^src/x/a.c  *66.7%     2/3  *66.7%     2/3  *50.0%     1/2' \
    --excl none
expect 0 '^  src/x/a.c:4$' --excl none
expect 0 '^src/x/  *66.7%' --excl none
expect 0 '^src/ (all)  *66.7%     2/3' --excl none
expect 1 'src/: 66.7% of lines, under the floor 70%' --excl none --lines 70
expect 0 'floor 66% lines.*: met' --excl none --lines 66
expect 1 'src/: 66.7% of branches, under the floor 67%' --excl none \
    --branches 67
expect 1 'src/x/a.c: 66.7% of lines, under the floor 67%' --excl none \
    --file-lines 67
expect 0 '^src/x/a.c  *100.0%     2/2  *100.0%     1/1' --excl excl \
    --lines 100 --branches 100 --file-lines 100
expect 0 '1 line(s)  /malloc_fails/  an allocation failure' --excl excl
expect 1 'stale, matches no line' --excl stale
# FILE as a shell pattern: src/* is every file; one that names no file
# matches no line.
expect 0 '^src/x/a.c  *100.0%     2/2  *100.0%     1/1' --excl glob \
    --lines 100 --branches 100 --file-lines 100
expect 1 'stale, matches no line' --excl elsewhere
exit $((failures != 0))
