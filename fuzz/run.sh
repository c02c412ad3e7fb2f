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
targets=(fuzz_ring fuzz_mmio_probe fuzz_blk_io fuzz_pci_probe fuzz_net fuzz_trace_parse fuzz_fat fuzz_ext4)
out="$build/fuzz-findings"
mkdir -p "$out"
for t in "${targets[@]}"; do
	[[ -x $build/fuzz/$t ]] || { echo "run.sh: $build/fuzz/$t missing (build the fuzz preset)" >&2; exit 2; }
done

# One target: its exit status in $out/$t.rc, its log in $out/$t.log.
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
queue=("${targets[@]}")
declare -A pid=() started=()
last=$SECONDS
failed=0
while [ ${#queue[@]} -gt 0 ] || [ ${#pid[@]} -gt 0 ]; do
	while [ ${#queue[@]} -gt 0 ] && [ ${#pid[@]} -lt "$jobs" ]; do
		t=${queue[0]}
		queue=("${queue[@]:1}")
		rm -f "$out/$t.rc" "$out/$t.log"
		fuzz_one "$t" &
		pid[$t]=$!
		started[$t]=$SECONDS
		echo "   $t: started"
	done
	sleep 0.5
	report=$((SECONDS - last >= every))
	[ "$report" = 1 ] && last=$SECONDS
	for t in "${targets[@]}"; do
		[ -n "${pid[$t]:-}" ] || continue
		if kill -0 "${pid[$t]}" 2>/dev/null; then
			[ "$report" = 1 ] && echo "   $t: $((SECONDS - started[$t]))/${secs}s, $(vlab_fuzz_status "$out/$t.log")"
			continue
		fi
		wait "${pid[$t]}" || true
		unset "pid[$t]"
		rc=$(cat "$out/$t.rc" 2>/dev/null || echo missing)
		if [ "$rc" != 0 ]; then
			tail -40 "$out/$t.log" >&2
			echo "run.sh: $t failed (status $rc): a finding's input is in $out/" >&2
			failed=1
			continue
		fi
		echo "   $t: done in $((SECONDS - started[$t]))s, $(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log") execs," \
			"$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log") exec/s"
	done
done
exit $failed
