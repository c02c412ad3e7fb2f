#!/usr/bin/env bash
# Runs every test: builds with gcc, clang, and clang + ASan/UBSan, and runs
# the whole CTest suite (all labels) in the gcc and sanitizer builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
. scripts/deps.sh
vlab_install_deps
jobs=$(nproc)
# riscv64, aarch64: the bare-metal images the `qemu` label boots on QEMU.
for preset in gcc clang asan riscv64 aarch64; do
	echo "== build: $preset"
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
	echo "== ctest: $preset"
	run_ctest --preset "$preset" -j"$jobs"
done
# libFuzzer targets (fuzz/): replay the corpora, then fuzz each for 20 s.
echo "== fuzz"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs"
run_ctest --preset fuzz -j"$jobs"
fuzz/run.sh build/fuzz 20
echo "all presets: $passed passed, $failed failed"
