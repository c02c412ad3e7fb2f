#!/usr/bin/env bash
# Coverage of driver/ by the test suite: one command, an HTML report.
#   scripts/coverage.sh [--no-floor]
#   scripts/coverage.sh [--no-floor] --from BUILD_DIR
# 1. configures the `coverage` preset (gcc, Debug, VLAB_COVERAGE: gcov
#    counts for the host driver library only) in build/coverage and builds
#    only what the tests below run: the unit and model GoogleTest suites,
#    the fuzz corpus replayers, vlab-scenario and vlab;
# 2. runs the labels unit, model, fuzz (the corpora, the regressions and
#    the fuzz trace replays) and cli (vlab's commands: the filesystems, the
#    bus, discard) with -j$(nproc), their results as JUnit XML in
#    build/coverage/ctest-results.xml;
# 3. gcovr over driver/: line and branch figures on stdout,
#    <build>/coverage/html/index.html (a page per file), Cobertura XML
#    (<build>/coverage/coverage.xml) and JSON (<build>/coverage/coverage.json)
#    for other tools;
# 4. fails when driver/'s line or branch coverage is below the floor
#    (VLAB_COVERAGE_FLOOR_LINES / _BRANCHES below; --no-floor: report only).
# --from BUILD_DIR: steps 3 and 4 only, over a build configured with
# -DVLAB_COVERAGE=ON whose tests have run (test.sh: the gcc build, after
# its whole ctest run, every label); the report goes to BUILD_DIR/coverage/.
# See docs/coverage.md.  Exit status: 0, 1 (a test failed or coverage fell
# below the floor), 2 (bad usage, gcovr missing, a build without counts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The floor: driver/'s figures when it was set (docs/coverage.md); raise it
# when coverage rises, never lower it to make a change pass.
VLAB_COVERAGE_FLOOR_LINES=94.1
VLAB_COVERAGE_FLOOR_BRANCHES=83.9
floor=1
from=""
usage() { echo "usage: scripts/coverage.sh [--no-floor] [--from BUILD_DIR]" >&2; exit 2; }
while (($#)); do
	case $1 in
	--no-floor) floor=0 ;;
	--from)
		(($# >= 2)) || usage
		from=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing (Debian package gcovr; scripts/deps.sh)" >&2; exit 2; }
. scripts/progress.sh
jobs=$(nproc)
t0=$SECONDS
rc=0
if [[ -n $from ]]; then
	build=$from
	grep -q '^VLAB_COVERAGE:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null ||
		{ echo "coverage.sh: $build is not a build configured with -DVLAB_COVERAGE=ON" >&2; exit 2; }
	find "$build/driver" -name '*.gcda' | grep -q . ||
		{ echo "coverage.sh: no counts in $build/driver (run its tests first)" >&2; exit 2; }
	out=$build/coverage
	t_build=0 t_test=0
else
build=build/coverage
out=$build

vlab_generator_check build/coverage
cmake --preset coverage >/dev/null
# Only what the tests run: the GoogleTest suites of tests/unit and
# tests/model (targets unit_<name>, model_<name>), the fuzz replayers.
# The fuzz targets' replayers: the list fuzz/CMakeLists.txt builds.
read -r -a fuzz_targets < <(sed -n 's/^set(VLAB_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)
((${#fuzz_targets[@]})) || { echo "coverage.sh: no VLAB_FUZZ_TARGETS line in fuzz/CMakeLists.txt" >&2; exit 2; }
targets=(vlab-scenario vlab "${fuzz_targets[@]}")
for f in tests/unit/*_test.cpp tests/model/*_test.cpp; do
	targets+=("$(basename "$(dirname "$f")")_$(basename "$f" .cpp)")
done
echo "coverage: building ${#targets[@]} targets in $build" >&2
vlab_build --preset coverage -j"$jobs" --target "${targets[@]}"
t_build=$((SECONDS - t0))

# Counts from earlier runs would add up: start from zero.
find "$build" -name '*.gcda' -delete
# Not run here (their targets are not built above; test.sh's run has
# them): unit.driver_freestanding_symbols and the configuration tests
# unit.config_* (their own builds of driver/ have no counts anyway: only the
# host driver library is instrumented).
ctest --test-dir "$build" -L '^(unit|model|fuzz|cli)$' -E '^unit\.driver_freestanding_symbols$|^unit\.config_' -j"$jobs" \
	--output-on-failure --output-junit "$root/$build/ctest-results.xml" >"$build/ctest.log" 2>&1 || rc=$?
tail -n 3 "$build/ctest.log" | sed 's/^/coverage: /'
[[ $rc == 0 ]] || { grep -E 'Failed|\*\*\*' "$build/ctest.log" >&2 || true; echo "coverage: tests failed (see $build/ctest.log)" >&2; }
t_test=$((SECONDS - t0 - t_build))
fi

mkdir -p "$out/html"
# The counts are searched for in this build's driver/ only (gcovr looks
# under --root by default: another build's counts of the same sources, say
# build/coverage beside build/gcc, would be merged in, and gcovr fails on
# functions whose lines differ).
gcovr_args=("$build/driver" --root "$root" --filter 'driver/' --object-directory "$build/driver" -j "$jobs"
	--exclude-unreachable-branches --print-summary
	--html-details "$out/html/index.html" --html-title "virtio-lab: coverage of driver/ by the tests"
	--xml "$out/coverage.xml" --json-summary "$out/coverage.json" --json-summary-pretty)
if [[ $floor == 1 ]]; then
	gcovr_args+=(--fail-under-line "$VLAB_COVERAGE_FLOOR_LINES" --fail-under-branch "$VLAB_COVERAGE_FLOOR_BRANCHES")
fi
grc=0
gcovr "${gcovr_args[@]}" >"$out/gcovr.log" 2>&1 || grc=$?
# gcovr's summary: "lines: 91.2% (2766 out of 3034)", "branches: ...".
grep -E '^(lines|functions|branches):' "$out/gcovr.log" | sed 's/^/coverage: driver\/ /'
t_report=$((SECONDS - t0 - t_build - t_test))
echo "coverage: report $out/html/index.html (Cobertura $out/coverage.xml, JSON $out/coverage.json)"
[[ -n $from ]] || echo "coverage: test results $build/ctest-results.xml"
echo "coverage: ${t_build}s build, ${t_test}s tests, ${t_report}s report, $((SECONDS - t0))s in all ($jobs jobs)"
if [[ $grc != 0 ]]; then
	# gcovr exits 2 (lines), 4 (branches) or 6 (both) below the floor.
	if ((grc & 6)); then
		echo "coverage: driver/ is below the floor (lines ${VLAB_COVERAGE_FLOOR_LINES}%," \
			"branches ${VLAB_COVERAGE_FLOOR_BRANCHES}%): add tests, or see docs/coverage.md" >&2
	else
		cat "$out/gcovr.log" >&2
	fi
	exit 1
fi
exit $((rc == 0 ? 0 : 1))
