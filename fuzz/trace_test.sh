#!/usr/bin/env bash
# FUZZ_TRACE=FILE fuzz_blk_io INPUT writes the trace of that execution
# (fuzz/README.md): the header names the target and the input, every
# event line is counted by the end line, and the trace parses (vlab-scenario
# replay stops at its command line and names the command that replays it:
# the target itself, FUZZ_REPLAY, replay_test.sh).
# Arguments: <fuzz_blk_io> <vlab-scenario> <fuzz source dir> <scratch dir>
set -euo pipefail
target=$1 scenario=$2 src=$3 dir=$4
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }
for input in "$src/corpus/fuzz_blk_io/read_stall" "$src/regressions/fuzz_blk_io/wedged_then_shutdown_unmaps"; do
	t="$dir/$(basename "$input").trace"
	rm -f "$t"
	FUZZ_TRACE=$t "$target" "$input" >/dev/null
	[ -s "$t" ] || fail "$input: no trace written"
	sed -n 2p "$t" | grep -qx "producer fuzz target=fuzz_blk_io input=$input" || fail "$t: no producer line"
	events=$(awk 'e && !/^#/ && !/^end /{n++} /^events$/{e=1} END{print n+0}' "$t")
	[ "$events" -gt 10 ] || fail "$t: $events events"
	tail -1 "$t" | grep -qx "end $events" || fail "$t: the end line is not 'end $events'"
	grep -q '^0 r4 0x10001000 0x74726976$' "$t" || fail "$t: the probe's magic read is not recorded"
	grep -qE '^[0-9]+ (alloc|map|unmap) ' "$t" || fail "$t: no DMA events"
	rc=0
	"$scenario" replay "$t" >"$dir/replay.txt" 2>&1 || rc=$?
	if [ "$rc" != 2 ] || ! grep -qF "a fuzz trace (target fuzz_blk_io): replay it with 'FUZZ_REPLAY=$t" "$dir/replay.txt"; then
		fail "$t: does not parse to its command line: $(head -3 "$dir/replay.txt")"
	fi
	echo "ok: $t ($events events)"
done
