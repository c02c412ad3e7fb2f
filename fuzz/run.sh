#!/usr/bin/env bash
# Runs every fuzz target for a while, starting from its committed corpus
# (copied: the committed files are not changed), and fails on a finding.
# Targets run side by side, one per core (nproc, or $VLAB_FUZZ_JOBS).
# Used by test.sh; see fuzz/README.md.
#   fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]     (default 20)
# BUILD_DIR is a build of the fuzz preset (VLAB_FUZZ=ON).  A finding leaves
# its input in BUILD_DIR/fuzz-findings/ and makes the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
jobs=${VLAB_FUZZ_JOBS:-$(nproc)}
targets=(fuzz_ring fuzz_mmio_probe fuzz_blk_io fuzz_pci_probe fuzz_net)
out="$build/fuzz-findings"
mkdir -p "$out"
for t in "${targets[@]}"; do
	[[ -x $build/fuzz/$t ]] || { echo "run.sh: $build/fuzz/$t missing (build the fuzz preset)" >&2; exit 2; }
done

# One target: its exit status in $out/$t.rc, its log in $out/$t.log.
fuzz_one() { # target
	local t=$1 work rc=0
	work=$(mktemp -d)
	cp "$here/corpus/$t"/* "$work/"
	"$build/fuzz/$t" -max_total_time="$secs" -max_len=2048 -timeout=10 -dict="$here/$t.dict" \
		-artifact_prefix="$out/$t-" -print_final_stats=1 "$work" >"$out/$t.log" 2>&1 || rc=$?
	rm -rf "$work"
	echo "$rc" >"$out/$t.rc"
}

echo "== fuzz: ${targets[*]}, ${secs}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
	rm -f "$out/$t.rc"
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true

failed=0
for t in "${targets[@]}"; do
	rc=$(cat "$out/$t.rc" 2>/dev/null || echo missing)
	echo "== fuzz: $t"
	if [ "$rc" != 0 ]; then
		tail -40 "$out/$t.log" >&2
		echo "run.sh: $t failed (status $rc): a finding's input is in $out/" >&2
		failed=1
		continue
	fi
	grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$out/$t.log" | sed 's/^/   /'
done
exit $failed
