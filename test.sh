#!/usr/bin/env bash
# Runs every test: builds with gcc, clang, and clang + ASan/UBSan, the
# bare-metal images and the fuzz targets; runs the whole CTest suite (all
# labels) in the gcc and sanitizer builds, replays the fuzz corpora and
# fuzzes each target for 20 s (one target per core).  Ends with the time
# each phase took and a total over every ctest run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
jobs=$(nproc)
# Phase timings, printed at the end.
timings=()
phase_start=$SECONDS
phase_name=""
phase() { # name: ends the current phase, starts the next
	[ -n "$phase_name" ] && timings+=("$(printf '%-16s %4ds' "$phase_name" $((SECONDS - phase_start)))")
	phase_name=$1
	phase_start=$SECONDS
	[ -n "$1" ] && echo "== $1"
	return 0
}
phase "dependencies"
. scripts/deps.sh
vlab_install_deps
# riscv64, aarch64: the bare-metal images the `qemu` label boots on QEMU.
for preset in gcc clang asan riscv64 aarch64; do
	phase "build: $preset"
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j"$jobs"
done
# Totals over every ctest run, for the closing line.
passed=0 failed=0
run_ctest() {
	local log
	log=$(mktemp)
	local rc=0
	ctest "$@" 2>&1 | tee "$log" || rc=$?
	local line
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
	rm -f "$log"
	if [ -n "$line" ]; then
		local f n
		f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
		passed=$((passed + n - f))
		failed=$((failed + f))
	fi
	return "$rc"
}
for preset in gcc asan; do
	phase "ctest: $preset"
	run_ctest --preset "$preset" -j"$jobs"
done
# libFuzzer targets (fuzz/): replay the corpora, then fuzz each for 20 s.
phase "build+replay: fuzz"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs"
run_ctest --preset fuzz -j"$jobs"
phase "fuzzing"
fuzz/run.sh build/fuzz 20
phase ""
printf '%s\n' "${timings[@]}"
echo "total: $passed passed, $failed failed"
