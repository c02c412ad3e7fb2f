#!/usr/bin/env bash
# Fuzzing benchmark (not a test): one command that writes docs/fuzzing.md.
#   fuzz/bench.sh [SECONDS_PER_TARGET]     (default 60)
# 1. builds the fuzz preset (clang, libFuzzer, ASan, UBSan) in build/fuzz-bench,
#    fuzzes each target for SECONDS on one core from its committed corpus and
#    records the executions per second;
# 2. builds the corpus replayers with clang source-based coverage in
#    build/fuzz-cov, replays the committed seeds and the corpus the run grew,
#    and reports llvm-cov line and branch coverage of driver/ (the files the
#    targets reach: core, transport, blk).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${1:-60}
targets=(fuzz_ring fuzz_mmio_probe fuzz_blk_io fuzz_pci_probe fuzz_net)
cov=$(command -v llvm-cov-14 || command -v llvm-cov)
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
fb="$root/build/fuzz-bench"
cb="$root/build/fuzz-cov"

cmake -S "$root" -B "$fb" --preset fuzz >/dev/null
cmake --build "$fb" -j"$(nproc)" --target "${targets[@]}" >/dev/null
declare -A eps runs corpus_n
for t in "${targets[@]}"; do
	grown="$fb/grown/$t"
	rm -rf "$grown"
	mkdir -p "$grown"
	cp "$here/corpus/$t"/* "$grown/"
	echo "bench: fuzzing $t for ${secs}s" >&2
	"$fb/fuzz/$t" -max_total_time="$secs" -max_len=2048 -timeout=10 -dict="$here/$t.dict" \
		-print_final_stats=1 -artifact_prefix="$fb/$t-" "$grown" >"$fb/$t.log" 2>&1 ||
		{ echo "bench: $t found a bug: see $fb/$t.log" >&2; exit 1; }
	eps[$t]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$fb/$t.log")
	runs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fb/$t.log")
	corpus_n[$t]=$(find "$grown" -type f | wc -l)
done

cmake -S "$root" -B "$cb" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	-DVLAB_BUILD_TESTS=OFF -DVLAB_FUZZ_REPLAY=ON -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
	-DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
cmake --build "$cb" -j"$(nproc)" --target "${targets[@]}" >/dev/null
rm -f "$cb"/*.profraw
objects=()
for t in "${targets[@]}"; do
	LLVM_PROFILE_FILE="$cb/$t.profraw" "$cb/fuzz/$t" "$here/corpus/$t" "$fb/grown/$t" >/dev/null
	[[ ${#objects[@]} == 0 ]] && objects=("$cb/fuzz/$t") || objects+=(-object "$cb/fuzz/$t")
done
"$profdata" merge -sparse "$cb"/*.profraw -o "$cb/all.profdata"
srcs=("$root"/driver/core/*.c "$root"/driver/transport/*.c "$root"/driver/blk/*.c "$root"/driver/net/*.c)
report=$("$cov" report -instr-profile="$cb/all.profdata" "${objects[@]}" "${srcs[@]}")

{
	echo "# Fuzzing: speed and coverage"
	echo
	echo "Written by \`fuzz/bench.sh $secs\` on $(date -u +%Y-%m-%d) ($(nproc) cores; one core per target;"
	echo "$(clang --version | head -1); libFuzzer with ASan and UBSan, the \`fuzz\` preset)."
	echo "A benchmark, not a test: figures vary with the machine."
	echo
	echo "## Executions per second"
	echo
	echo "Each target fuzzed for ${secs} s from its committed seed corpus (\`fuzz/corpus/\`)."
	echo
	echo "| target | exec/s | executions | corpus after | findings |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for t in "${targets[@]}"; do
		echo "| \`$t\` | ${eps[$t]} | ${runs[$t]} | ${corpus_n[$t]} | 0 |"
	done
	echo
	echo "## Coverage of driver/"
	echo
	echo "llvm-cov (source-based, clang) over the committed seeds plus the corpus the run above grew,"
	echo "replayed by the plain regression binaries; the driver files the targets reach."
	echo
	echo '```'
	echo "$report" | sed "s|$root/||"
	echo '```'
	echo
	echo "Reproduce: \`fuzz/bench.sh $secs\`.  Corpus-only coverage (no fuzzing first):"
	echo "\`fuzz/bench.sh 0\` is not meaningful for exec/s but gives the seeds' coverage."
} >"$root/docs/fuzzing.md"
echo "bench: wrote docs/fuzzing.md" >&2
