#!/usr/bin/env bash
# Coverage of driver/ by the test suite: one command, an HTML report.
#   scripts/coverage.sh [--no-floor]
# 1. configures the `coverage` preset (gcc --coverage, Debug) in build/coverage
#    and builds only what the tests below run: the unit and model GoogleTest
#    suites, the fuzz corpus replayers, vlab-scenario and vlab;
# 2. runs the labels unit, model, fuzz (the corpora, the regressions and
#    the fuzz trace replays) and cli (vlab's commands: the filesystems, the
#    bus, discard) with -j$(nproc), their results as JUnit XML in
#    build/coverage/ctest-results.xml;
# 3. gcovr over driver/: line and branch figures on stdout,
#    build/coverage/html/index.html (a page per file), Cobertura XML
#    (build/coverage/coverage.xml) and JSON (build/coverage/coverage.json)
#    for other tools;
# 4. fails when driver/'s line or branch coverage is below the floor
#    (VLAB_COVERAGE_FLOOR_LINES / _BRANCHES below; --no-floor: report only).
# See docs/coverage.md.  Exit status: 0, 1 (a test failed or coverage fell
# below the floor), 2 (bad usage or gcovr missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The floor: driver/'s figures when it was set (docs/coverage.md); raise it
# when coverage rises, never lower it to make a change pass.
VLAB_COVERAGE_FLOOR_LINES=92.3
VLAB_COVERAGE_FLOOR_BRANCHES=79.2
floor=1
case ${1:-} in
"") ;;
--no-floor) floor=0 ;;
*) echo "usage: scripts/coverage.sh [--no-floor]" >&2; exit 2 ;;
esac
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing (Debian package gcovr; scripts/deps.sh)" >&2; exit 2; }
. scripts/progress.sh
jobs=$(nproc)
build=build/coverage
t0=$SECONDS

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
rc=0
# unit.driver_freestanding_symbols checks objects built without coverage
# (the freestanding driver has no gcov runtime): not run here; nor the
# configuration tests (unit.config_*: tests/config builds driver/ again with
# other VLAB_CFG_* values, whose counts for the same sources gcovr cannot
# merge with the full build's; the gcc and asan runs run them).
ctest --test-dir "$build" -L '^(unit|model|fuzz|cli)$' -E '^unit\.driver_freestanding_symbols$|^unit\.config_' -j"$jobs" \
	--output-on-failure --output-junit "$root/$build/ctest-results.xml" >"$build/ctest.log" 2>&1 || rc=$?
tail -n 3 "$build/ctest.log" | sed 's/^/coverage: /'
[[ $rc == 0 ]] || { grep -E 'Failed|\*\*\*' "$build/ctest.log" >&2 || true; echo "coverage: tests failed (see $build/ctest.log)" >&2; }
t_test=$((SECONDS - t0 - t_build))

mkdir -p "$build/html"
gcovr_args=(--root "$root" --filter 'driver/' --object-directory "$build" -j "$jobs"
	--exclude-unreachable-branches --print-summary
	--html-details "$build/html/index.html" --html-title "virtio-lab: coverage of driver/ by the tests"
	--xml "$build/coverage.xml" --json-summary "$build/coverage.json" --json-summary-pretty)
if [[ $floor == 1 ]]; then
	gcovr_args+=(--fail-under-line "$VLAB_COVERAGE_FLOOR_LINES" --fail-under-branch "$VLAB_COVERAGE_FLOOR_BRANCHES")
fi
grc=0
gcovr "${gcovr_args[@]}" >"$build/gcovr.log" 2>&1 || grc=$?
# gcovr's summary: "lines: 91.2% (2766 out of 3034)", "branches: ...".
grep -E '^(lines|functions|branches):' "$build/gcovr.log" | sed 's/^/coverage: driver\/ /'
t_report=$((SECONDS - t0 - t_build - t_test))
echo "coverage: report $build/html/index.html (Cobertura $build/coverage.xml, JSON $build/coverage.json," \
	"test results $build/ctest-results.xml)"
echo "coverage: ${t_build}s build, ${t_test}s tests, ${t_report}s report, $((SECONDS - t0))s in all ($jobs jobs)"
if [[ $grc != 0 ]]; then
	# gcovr exits 2 (lines), 4 (branches) or 6 (both) below the floor.
	if ((grc & 6)); then
		echo "coverage: driver/ is below the floor (lines ${VLAB_COVERAGE_FLOOR_LINES}%," \
			"branches ${VLAB_COVERAGE_FLOOR_BRANCHES}%): add tests, or see docs/coverage.md" >&2
	else
		cat "$build/gcovr.log" >&2
	fi
	exit 1
fi
exit $((rc == 0 ? 0 : 1))
