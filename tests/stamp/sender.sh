#!/bin/sh
# SPDX-License-Identifier: ISC
# sender.sh: make check's entry to tests/stamp/test_sender.py (sockecho
# --stamp against the reference reflector, and -p's kernel timestamps);
# skips (77) without python3.
srcdir=${SOCKECHOD_SRCDIR:-.}
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
exec python3 "$srcdir/tests/stamp/test_sender.py"
