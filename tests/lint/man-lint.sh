#!/bin/sh
# SPDX-License-Identifier: ISC
# man-lint.sh: the manual pages are mandoc -Tlint clean (warnings and up).
# Skips (77) where mandoc is not installed.
set -u
command -v mandoc >/dev/null 2>&1 || { echo "mandoc is not installed"; exit 77; }
cd "${abs_top_builddir:-.}" || exit 1
status=0
for page in man/sockechod.8 man/sockecho.conf.5 man/sockecho.1; do
	if out=$(mandoc -Tlint -W warning "$page" 2>&1) && [ -z "$out" ]; then
		echo "ok: $page"
	else
		echo "$out"
		echo "FAIL: $page"
		status=1
	fi
done
exit $status
