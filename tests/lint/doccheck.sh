#!/bin/sh
# SPDX-License-Identifier: ISC
# doccheck.sh: every option and setting the manual pages document is named
# by a test (tools/doccheck), and the checker can fail: in a scratch copy
# of man/ and tests/ where no test names sockecho's --deadline any more, it
# fails and names it, as it does for a setting whose every mention is
# removed.
set -u
srcdir=${SOCKECHOD_SRCDIR:-.}
doccheck=$srcdir/tools/doccheck
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

if "$doccheck" --root "$srcdir" >"$tmp/table"; then
	tail -n 1 "$tmp/table"
else
	grep -E 'NONE|doccheck:' "$tmp/table"
	status=1
fi

# scratch NAME SED-EXPR: a copy of man/ and tests/ with SED-EXPR applied
# to every test file; tools/doccheck must fail there and name NAME.
scratch() {
	rm -rf "$tmp/s" && mkdir -p "$tmp/s" || exit 1
	cp -R "$srcdir/man" "$srcdir/tests" "$tmp/s/" || exit 1
	chmod -R u+w "$tmp/s"
	find "$tmp/s/tests" -type f \( -name '*.c' -o -name '*.h' -o \
	    -name '*.sh' -o -name '*.service' -o -name '*.conf' \) \
	    -exec sed -i "$2" {} +
	if "$doccheck" --root "$tmp/s" >"$tmp/out" 2>&1; then
		echo "FAIL: tools/doccheck passes with no test naming $1"
		status=1
	elif ! grep -qE "^$1 .* NONE\$" "$tmp/out"; then
		echo "FAIL: tools/doccheck does not name $1 as untested:"
		cat "$tmp/out"
		status=1
	else
		echo "ok: tools/doccheck fails when $1 loses its test"
	fi
}

scratch 'sockecho --deadline' 's/--deadline/--DEADLINE/g'
scratch 'conf recycle_jitter' 's/recycle_jitter/recycle_JITTER/g'
exit $status
