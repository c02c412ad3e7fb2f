#!/usr/bin/env bash
# Edited and bad fuzz traces (docs/trace-format.md "Fuzz traces"): a
# changed device value diverges at the line where the driver first did
# something else (exit 1); choices that do not add up are a divergence; a
# trace that is not this target's, not a fuzz trace, or not a trace at
# all is refused (exit 2).
# Arguments: <fuzz_blk_io> <scratch dir> <fuzz source dir> <fuzz_net>
set -euo pipefail
. "$(dirname "$0")/../tests/cli/lib.sh" "$1" "$2"
src=$3 net=$4
FUZZ_TRACE=blk.trace run 0 "$src/regressions/fuzz_blk_io/wedged_then_shutdown_unmaps"
line_of() { awk -v from="${2:-0}" -v re="$1" 'NR > from && $0 ~ re { print NR; exit }' blk.trace; }

# 1. DeviceFeatures bits 0-31 (offset 0x10) without FLUSH (bit 9): the
#    driver accepts 0x44, not 0x244: divergence at its DriverFeatures write.
feat=$(line_of '^[0-9]+ r4 0x10001010 0x244$')
[[ -n $feat ]] || fail "blk.trace has no DeviceFeatures read of 0x244"
want=$(line_of '^[0-9]+ w4 0x10001020 0x244$' "$feat")
sed "${feat}s/ 0x244\$/ 0x44/" blk.trace >features.trace
check "DeviceFeatures without FLUSH: divergence at features.trace:$want, the DriverFeatures write"
FUZZ_REPLAY=features.trace run 1
lines_in_order "replay: divergence at features.trace:$want " "platform call: mmio_write32" \
	"the trace says: w4 0x10001020 0x244" "the driver did: w4 0x10001020 0x44"

# edited SED-SCRIPT NAME STATUS WHAT MESSAGE: blk.trace edited by the sed
# script into NAME replays with STATUS and says MESSAGE.
edited() {
	sed -E "$1" blk.trace >"$2"
	check "$4"
	FUZZ_REPLAY=$2 run "$3"
	contains "$5"
}

# 2. The target's choices: one byte short, one byte over.
more="the target drew more choices than the trace holds"
edited 's/^(fuzz-side .*)..$/\1/' short.trace 1 "a fuzz-side line one byte short: $more" \
	"replay: divergence at short.trace's fuzz-side line: $more"
fewer="the target drew fewer choices than the trace holds"
edited 's/^(fuzz-side .*)$/\100/' long.trace 1 "a fuzz-side line one byte over: $fewer" \
	"replay: divergence at long.trace's fuzz-side line: $fewer"

# 3. Refused: another target's trace, a model trace, bad hex, a truncated trace.
check "fuzz_net refuses a trace of fuzz_blk_io"
VLAB=$net FUZZ_REPLAY=blk.trace run 2
contains "blk.trace: a trace of fuzz_blk_io, not of fuzz_net: replay it with that target"
edited 's/^producer fuzz .*/producer model seed=1 policy=immediate max_delay_ns=50000/' model.trace 2 \
	"a trace that is not a fuzz trace" "model.trace: not a fuzz trace"
edited 's/^fuzz-side ../fuzz-side zz/' hex.trace 2 "a fuzz-side line that is not hex" \
	"hex.trace: the fuzz-input or fuzz-side line is not hex bytes"
edited '$d' cut.trace 2 "a trace without its end line: FILE:LINE: truncated" \
	"cut.trace:$(($(wc -l <blk.trace))): truncated"
finish
