#!/usr/bin/env bash
# Runs every test: installs the Debian packages it needs (scripts/deps.sh:
# what the host builds need first, the rest in the background while they
# run), builds with gcc and clang + ASan/UBSan, the bare-metal
# images and the fuzz targets (clang's own warnings are the front end's, the
# same at every optimisation level: the asan build, which is clang, compiles
# every source with -Werror, and scripts/build-types.sh builds the driver
# with clang in the other build types); runs the whole CTest suite (all
# labels) in the gcc and sanitizer builds, replays the fuzz corpora and
# fuzzes each target for 6 s (one target per core); writes the conformance
# report with the gcc run's results (build/gcc/conformance/); writes each
# build's test results as JUnit XML (build/<preset>/ctest-results.xml) and
# the coverage of driver/ by the gcc run (scripts/coverage.sh --from
# build/gcc: build/gcc/coverage/html/, with a floor it enforces).  Ends with the time
# each phase took and a total over every ctest run:
#   total: N passed, N failed, N skipped
# The sanitizer build is clang -O1 (ASan's advice) and runs each GoogleTest
# suite as one ctest test (a process per case costs ASan's start-up each
# time), so it leaves out the checks of the docs and the conformance
# tables against the test names, which the gcc run makes.  It also leaves
# out what only repeats the gcc run's work: the QEMU matrix rows (the
# bare-metal images are the same cross builds; the host side of a QEMU trace is replayed under ASan by replay.qemu_trace)
# and the conformance baseline (its verdicts are the gcc run's).  The
# driver mutants (test-only drivers with one deliberate breach each:
# replay.mutant, conformance.mutants) are built and run in the gcc build
# only.  `./test.sh --full` runs the QEMU rows, the U-Boot comparison
# (label uboot) and the baseline in the sanitizer build too.
#   ./test.sh [--full]
set -euo pipefail
full=0
for arg in "$@"; do
	case $arg in
	--full) full=1 ;;
	*)
		echo "test.sh: unknown argument '$arg' (usage: ./test.sh [--full])" >&2
		exit 2
		;;
	esac
done
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
. scripts/progress.sh
# What the host builds need now; the rest (QEMU, the cross compilers, the
# image tools, chromium: most of the download) in the background while the
# gcc and asan builds run, waited for before the cross builds.
vlab_install_deps host
deps_log=$(mktemp)
vlab_install_deps >"$deps_log" 2>&1 &
deps_pid=$!
# riscv64, aarch64, riscv32, arm, x86, x86_64: the bare-metal images the `qemu` label boots on QEMU.
# The gcc build counts driver/'s coverage (VLAB_COVERAGE: gcov in the host
# driver library alone, at -O0) while its ctest run runs every label; the
# phase "coverage" reports it.
for preset in gcc asan riscv64 aarch64 riscv32 arm x86 x86_64; do
	if [ "$preset" = riscv64 ]; then
		phase "dependencies: the rest"
		deps_rc=0
		wait "$deps_pid" || deps_rc=$?
		cat "$deps_log"
		rm -f "$deps_log"
		[ "$deps_rc" = 0 ] || { echo "test.sh: installing the packages failed ($deps_rc)" >&2; exit 1; }
	fi
	phase "build: $preset"
	opts=()
	[ "$preset" = gcc ] && opts=(-DVLAB_COVERAGE=ON)
	vlab_generator_check "build/$preset"
	cmake --preset "$preset" "${opts[@]}" >/dev/null
	cmake --build --preset "$preset" -j"$jobs"
done
# The driver in the build types the presets leave out (warnings differ by
# optimisation level): a few seconds each.
phase "build: types"
scripts/build-types.sh "$jobs"
# Totals over every ctest run, for the closing line.  ctest's summary
# ("100% tests passed, 0 tests failed out of 895") counts a skipped test as
# passed and leaves a disabled one out; both are listed under "The following
# tests did not run:" as "(Skipped)" / "(Disabled)".  A "(Not Run)" test
# (its command is missing) is one of the failed.
passed=0 failed=0 skipped=0
run_ctest() {
	local log
	log=$(mktemp)
	local rc=0
	ctest "$@" 2>&1 | tee "$log" || rc=$?
	local line
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		local f n s d
		f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
		s=$(did_not_run Skipped <"$log")
		d=$(did_not_run Disabled <"$log")
		passed=$((passed + n - f - s))
		failed=$((failed + f))
		skipped=$((skipped + s + d))
	fi
	rm -f "$log"
	return "$rc"
}
did_not_run() { # status: how many tests ctest lists as "(status)" under "did not run"
	awk -v st="($1)" '/^The following tests did not run:/ { on = 1; next }
		on && !/^[[:space:]]+[0-9]+ - / { on = 0 }
		on && index($0, st) == length($0) - length(st) + 1 { n++ }
		END { print n + 0 }'
}
# Every bare-metal image is built above: the QEMU rows (run-matrix.sh) need
# not ask each target's build system whether it is up to date, once a row.
export VLAB_QEMU_IMAGES_BUILT=1
# The gcc run's results as JUnit XML, for the conformance report below.
results=$here/build/gcc/ctest-results.xml
for preset in gcc asan; do
	phase "ctest: $preset"
	# Every build's results as JUnit XML, in its build tree (named at the end).
	args=(--output-junit "$here/build/$preset/ctest-results.xml")
	if [ "$preset" = asan ]; then
		# The asan build runs a GoogleTest suite per ctest test
		# (VLAB_GTEST_PER_SUITE): the checks of the docs and tables against
		# the test names (ctest -N) are the gcc run's.
		skip='^docs\.check_docs$|^conformance\.check_tables$'
		[ "$full" = 0 ] && skip+='|^qemu\.|^uboot\.|^conformance\.baseline$'
		args+=(-E "$skip")
	else
		# Coverage counts from an earlier run would add up.
		find build/gcc -name '*.gcda' -delete
	fi
	run_ctest --preset "$preset" -j"$jobs" "${args[@]}"
done
# The conformance report (docs/conformance-report.md) with the real test
# results: a requirement a test checks shows its test's pass or fail.  A
# FAIL stops here, as a failed ctest does.
phase "conformance report"
report=$here/build/gcc/conformance
mkdir -p "$report"
# The mutation score, from the gcc run's conformance.mutants.
mutants=build/gcc/tests/conformance-report/scratch/mutants/results.txt
[[ -s $mutants ]] || { echo "conformance report: no mutants results ($mutants)"; exit 1; }
build/gcc/harness/vlab conformance --results "$results" --mutants "$mutants" --md "$report/conformance.md" \
	--html "$report/conformance.html" --junit "$report/conformance.xml" --json "$report/conformance.json" ||
	{ echo "conformance report (with a FAIL): $report/conformance.html"; exit 1; }
# libFuzzer targets (fuzz/): replay the corpora, then fuzz each for 6 s
# (a smoke run: campaigns and ClusterFuzzLite fuzz for hours).
phase "build+replay: fuzz"
vlab_generator_check build/fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs"
run_ctest --preset fuzz -j"$jobs" --output-junit "$here/build/fuzz/ctest-results.xml"
phase "fuzzing"
fuzz/run.sh build/fuzz 6
# Coverage of driver/ by the gcc run's tests, every label (gcovr, HTML);
# fails below the floor (scripts/coverage.sh, docs/coverage.md).
phase "coverage"
scripts/coverage.sh --from build/gcc
phase ""
printf '%s\n' "${timings[@]}"
echo "conformance report: $report/conformance.html (and .md, .json, .xml)"
echo "test results (JUnit XML): build/gcc/ctest-results.xml, build/asan/ctest-results.xml, build/fuzz/ctest-results.xml"
echo "coverage of driver/: build/gcc/coverage/html/index.html (and coverage.xml: Cobertura, coverage.json)"
echo "total: $passed passed, $failed failed, $skipped skipped"
