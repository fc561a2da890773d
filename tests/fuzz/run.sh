#!/bin/sh
# SPDX-License-Identifier: ISC
# tests/fuzz/run.sh: build each libFuzzer target (clang, fuzzer + ASan +
# UBSan) and run it FUZZ_SECONDS from its committed seed corpus; print one
# FUZZ line per target; a crash, leak or timeout fails and its reproducer
# stays in fuzz.d/TARGET/. Called by "make fuzz" with the build's settings.
set -u

: "${FUZZ_CC:=clang-14}" "${FUZZ_SECONDS:=60}"
srcdir=$1
builddir=$2
shift 2
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
-fno-sanitize-recover=undefined"

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "FUZZ skipped: no $FUZZ_CC (tools/setup installs clang-14, libfuzzer-14-dev)"
	exit 77
fi
status=0
for t in $FUZZ_TARGETS; do
	out=$builddir/fuzz.d/$t
	rm -rf "$out" && mkdir -p "$out/corpus"
	cp "$srcdir/tests/fuzz/corpus/$t/"* "$out/corpus/" 2>/dev/null
	lib=
	for f in $FUZZ_LIBSRC; do case $f in *.c) lib="$lib $srcdir/$f" ;; esac; done
	# shellcheck disable=SC2086
	if ! $FUZZ_CC $flags -I"$builddir" -I"$srcdir/src" -I"$srcdir/tests/fuzz" \
	    $FUZZ_CPPFLAGS -o "$out/fuzz_$t" "$srcdir/tests/fuzz/fuzz_$t.c" \
	    "$srcdir/tests/fuzz/fuzz.c" $lib $FUZZ_LIBS 2>"$out/build.log"; then
		cat "$out/build.log"
		echo "FUZZ $t: does not build => FAIL"
		status=1
		continue
	fi
	LSAN_OPTIONS="suppressions=$srcdir/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
	"$out/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/fuzz.log")
	cov=$(grep -o ' cov: [0-9]*' "$out/fuzz.log" | tail -n 1 | tr -dc 0-9)
	files=$(find "$out/corpus" -type f | wc -l)
	bytes=$(cat "$out/corpus"/* 2>/dev/null | wc -c)
	if [ $rc -eq 0 ]; then
		verdict=PASS
	else
		verdict=FAIL
		status=1
		tail -n 40 "$out/fuzz.log"
		for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
			[ -e "$a" ] && echo "reproduce: $out/fuzz_$t $a"
		done
	fi
	echo "FUZZ $t ${FUZZ_SECONDS}s execs/s=${execs:-?} corpus=$files files ($bytes bytes) cov=${cov:-?} => $verdict"
done
exit $status
