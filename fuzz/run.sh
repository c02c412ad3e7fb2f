#!/usr/bin/env bash
# Runs every fuzz target for a while, starting from its committed corpus
# (copied: the committed files are not changed), and fails on a finding.
# Targets run side by side, one per core (nproc, or $VLAB_FUZZ_JOBS); every
# few seconds ($VLAB_FUZZ_PROGRESS, default 5) a line per running target
# gives its executions, exec/s and coverage so far.
# Used by test.sh; see fuzz/README.md.
#   fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]     (default 20)
# BUILD_DIR is a build of the fuzz preset (VLAB_FUZZ=ON).  A finding leaves
# its input in BUILD_DIR/fuzz-findings/ and makes the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/progress.sh
. "$here/../scripts/progress.sh"
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
jobs=${VLAB_FUZZ_JOBS:-$(nproc)}
# Every target fuzz/CMakeLists.txt builds (its VLAB_FUZZ_TARGETS line: one
# list, so a new target is fuzzed here and counted by scripts/coverage.sh).
read -r -a targets < <(sed -n 's/^set(VLAB_FUZZ_TARGETS \(.*\))$/\1/p' "$here/CMakeLists.txt")
((${#targets[@]})) || { echo "run.sh: no VLAB_FUZZ_TARGETS line in $here/CMakeLists.txt" >&2; exit 2; }
# ASan's quarantine recycles libFuzzer's per-input copies through fresh
# pages; the targets allocate nothing per input (fuzz/bench.sh).
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=8}
out="$build/fuzz-findings"
mkdir -p "$out"
for t in "${targets[@]}"; do
	[[ -x $build/fuzz/$t ]] || { echo "run.sh: $build/fuzz/$t missing (build the fuzz preset)" >&2; exit 2; }
done

# One target: its exit status in $out/$t.rc, its log in $out/$t.log.
# shellcheck disable=SC2317 # called through vlab_pool
fuzz_one() { # target
	local t=$1 work rc=0 len
	work=$(mktemp -d)
	cp "$here/corpus/$t"/* "$work/"
	# The longest input: the target's options (2048 bytes, a trace 8192).
	len=$(sed -n 's/^max_len *= *//p' "$here/$t.options")
	"$build/fuzz/$t" -max_total_time="$secs" -max_len="${len:-2048}" -timeout=10 -dict="$here/$t.dict" \
		-artifact_prefix="$out/$t-" -print_final_stats=1 "$work" >"$out/$t.log" 2>&1 || rc=$?
	rm -rf "$work"
	echo "$rc" >"$out/$t.rc"
}

# Every $every seconds, a line per running target from libFuzzer's own
# statistics; a line with the final ones when a target ends.  Only this
# loop prints, so targets running side by side never mix their lines.
every=${VLAB_FUZZ_PROGRESS:-5}
echo "== fuzz: ${targets[*]}, ${secs}s each, $jobs at a time; progress every ${every}s"
failed=0
# shellcheck disable=SC2317 # called through vlab_pool
running() { echo "   $1: $2/${secs}s, $(vlab_fuzz_status "$out/$1.log")"; }
# shellcheck disable=SC2317 # called through vlab_pool
ended() { # target seconds
	local rc
	rc=$(cat "$out/$1.rc" 2>/dev/null || echo missing)
	if [ "$rc" != 0 ]; then
		tail -40 "$out/$1.log" >&2
		echo "run.sh: $1 failed (status $rc): a finding's input is in $out/" >&2
		failed=1
		return
	fi
	echo "   $1: done in $2s, $(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$1.log") execs," \
		"$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$1.log") exec/s"
}
for t in "${targets[@]}"; do
	rm -f "$out/$t.rc" "$out/$t.log"
done
vlab_pool "$jobs" "$every" fuzz_one running ended "${targets[@]}"
exit $failed
