#!/usr/bin/env bash
# Record the blk or net scenario on every model transport with
# `vlab-scenario run --record`, replay it with `vlab-scenario replay`:
# exit 0 (no divergence), the replayed "T: " transcript equals the recorded
# run's, and a second recording with the same seed is byte-identical.
# Arguments: <vlab-scenario> <scratch-dir> <blk|net>
set -euo pipefail
scenario=${3:?usage: $0 <vlab-scenario> <scratch-dir> <blk|net>}
. "$(dirname "$0")/../cli/lib.sh" "$1" "$2"

args=(--scenario "$scenario")
if [[ $scenario == blk ]]; then
	have_tool sfdisk fdisk || finish
	"$VLAB" mkdisk pristine.img
	"$VLAB" sfdisk-script | sfdisk -q pristine.img >/dev/null 2>&1 || fail "sfdisk could not partition the disk"
fi
for t in mmio-legacy mmio pci-legacy pci-transitional pci; do
	for k in 1 2; do
		extra=()
		if [[ $scenario == blk ]]; then
			cp pristine.img "disk$k.img"
			extra=(--image "disk$k.img")
		fi
		check "$scenario on $t: recording $k exits 0"
		run 0 run "${args[@]}" --transport "$t" --model-transport "$t" "${extra[@]}" --record "$t.$k.trace"
		grep '^T: ' out.txt >"$t.run.T" || fail "the recorded run printed no transcript"
	done
	# The image path is in the header's command line: the same name both times.
	sed -i "s/disk2.img/disk1.img/" "$t.2.trace"
	check "$scenario on $t: two recordings with the same seed are byte-identical"
	cmp "$t.1.trace" "$t.2.trace" || fail "the two recordings differ"
	check "$scenario on $t: the replay matches the trace to its end (exit 0)"
	run 0 replay "$t.1.trace"
	contains "the run matched the trace to its end"
	check "$scenario on $t: the replayed transcript equals the recorded run's"
	grep '^T: ' out.txt >"$t.replay.T" || true
	diff "$t.run.T" "$t.replay.T" >/dev/null || fail "transcripts differ: $(diff "$t.run.T" "$t.replay.T" | head -5)"
	grep -q "^T: result $scenario: pass" "$t.replay.T" || fail "the replayed scenario did not pass"
done
finish
