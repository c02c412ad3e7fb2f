#!/usr/bin/env bash
# Every input given (a target's regressions, or some of its corpus) has a
# trace form that replays (fuzz/README.md, docs/trace-format.md "Fuzz
# traces"): FUZZ_TRACE=FILE TARGET INPUT writes it, with the target's own
# device and bind lines and the input's bytes; FUZZ_REPLAY=FILE TARGET runs
# the target's driver sequence on the replay platform and matches the trace
# to its end (exit 0).
# Arguments: <fuzz target> <scratch dir> <input>...
set -euo pipefail
. "$(dirname "$0")/../tests/cli/lib.sh" "$1" "$2"
shift 2
target=$(basename "$VLAB")
(($# > 0)) || fail "no inputs given"
for input in "$@"; do
	name=$(basename "$input")
	t=$name.trace
	check "$target $name: FUZZ_TRACE writes its trace, with the input and the target's header"
	FUZZ_TRACE=$t run 0 "$input"
	hex=$(od -An -tx1 -v "$input" | tr -d ' \n')
	sed -n 2p "$t" | grep -qxF "producer fuzz target=$target input=$input" || fail "$t: line 2 is not the producer line"
	grep -qxF "fuzz-input ${hex:--}" "$t" || fail "$t: no fuzz-input line with the input's bytes"
	grep -qE '^fuzz-side ([0-9a-f]{2})+$' "$t" || fail "$t: no fuzz-side line"
	grep -qE '^device 0 (blk|net|ring) transport=[a-z-]+$' "$t" || fail "$t: no device line"
	grep -qE '^bind (mmio base=0x10001000|pci dev=3 fn=0|none) flags=' "$t" || fail "$t: no bind line"
	check "$target $name: FUZZ_REPLAY matches it to its end"
	FUZZ_REPLAY=$t run 0
	contains "the run matched the trace to its end"
done
finish
