#!/bin/sh
# SPDX-License-Identifier: ISC
# prober-unit.sh: sockecho-prober@.service as systemd reads it, offline:
# systemd-analyze verify prints nothing, and the exposure that
# systemd-analyze security --offline=true gives stays at 1.1 or below (the
# network a prober needs is all that remains). The unit is made from its
# .in file with ExecStart on the built sockecho. Exits 77 without
# systemd-analyze.
set -u
: "${SOCKECHOD_SRCDIR:=.}" "${SOCKECHO:=src/sockecho}"
MAX_EXPOSURE_TENTHS=11

command -v systemd-analyze >/dev/null ||
    { echo "SKIP: no systemd-analyze"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/prober-unit.XXXXXX")
trap 'rm -rf "$T"' EXIT
bindir=$(cd "$(dirname "$SOCKECHO")" && pwd)
unit=$T/sockecho-prober@.service
sed -e "s|@bindir@|$bindir|g" -e 's|@sysconfdir@|/etc|g' \
    "$SOCKECHOD_SRCDIR/systemd/sockecho-prober@.service.in" >"$unit"
fail=0
out=$(systemd-analyze verify --man=no "$unit" 2>&1)
if [ -n "$out" ]; then
	echo "not ok 1 - systemd-analyze verify: $out"
	fail=1
else
	echo "ok 1 - systemd-analyze verify prints nothing"
fi
if systemd-analyze security --offline=true \
    --threshold=$MAX_EXPOSURE_TENTHS "$unit" >"$T/sec" 2>&1; then
	echo "ok 2 - $(tail -1 "$T/sec")"
else
	cat "$T/sec"
	echo "not ok 2 - exposure above $MAX_EXPOSURE_TENTHS tenths"
	fail=1
fi
echo "1..2"
exit $fail
