#!/usr/bin/env bash
# A bad trace is "FILE:LINE: reason" and exit 2, never a crash: truncated
# (mid-line and at a line boundary), unknown version, a garbage line, an
# absurd length, events out of order, not a trace at all.
# Arguments: <vlab-scenario> <scratch-dir>
set -euo pipefail
. "$(dirname "$0")/../cli/lib.sh" "$@"

run 0 run --scenario net --transport mmio --model-transport mmio --record good.trace
n=$(wc -l <good.trace)
ev=$(grep -n '^events$' good.trace | cut -d: -f1)

# bad NAME LINE REASON: replaying NAME exits 2 with "NAME:LINE: REASON..."
bad() {
	check "$1: exit 2 with '$1:$2: $3'"
	run 2 replay "$1"
	contains "$1:$2: $3"
	lacks "divergence"
}

head -c $(($(wc -c <good.trace) / 2)) good.trace >cut.trace
bad cut.trace "$(wc -l <cut.trace | awk '{print $1 + 1}')" "truncated: the last line has no newline"
head -n $((n - 1)) good.trace >noend.trace
bad noend.trace "$n" "truncated: no 'end' line"
sed '$s/end \([0-9]*\)/end 9\1/' good.trace >count.trace
bad count.trace "$n" "truncated: the end line counts"
sed '1s/vlab-trace 1/vlab-trace 7/' good.trace >v7.trace
bad v7.trace 1 "unknown version 7 (this build reads version 1)"
sed "$((ev + 5))s/.*/0 frobnicate 0x1/" good.trace >garbage.trace
bad garbage.trace $((ev + 5)) "garbage: unknown event 'frobnicate'"
sed "$((ev + 5))s/.*/0 r4 0x10001000 zz/" good.trace >value.trace
bad value.trace $((ev + 5)) "garbage: 'zz' is not a number"
sed "$((ev + 5))s/.*/0 r1 0x10001000 0x100/" good.trace >wide.trace
bad wide.trace $((ev + 5)) "garbage: value 0x100 does not fit 1 bytes"
sed "$((ev + 5))s/.*/0 shm 0x80000000 4294967296 00/" good.trace >absurd.trace
bad absurd.trace $((ev + 5)) "length 4294967296 beyond reason"
sed "$((ev + 5))s/.*/0 shm 0x80000000 4 0011/" good.trace >short.trace
bad short.trace $((ev + 5)) "length 4 but 4 hex digits of payload"
sed "$((ev + 5))s/.*/0 alloc 4096 3 0x80000000/" good.trace >align.trace
bad align.trace $((ev + 5)) "length or alignment beyond reason"
# Lines ev+1..ev+4 are the probe's register reads (a log line may follow).
sed -e "$((ev + 3))s/^0 /99 /" good.trace >order.trace
bad order.trace $((ev + 4)) "events out of order: time 0 after 99"
sed "3s/.*/colour blue/" good.trace >header.trace
bad header.trace 3 "garbage: unknown header line 'colour'"
drv=$(grep -n '^driver ' good.trace | cut -d: -f1)
grep -q '^driver .* dma=mapped$' good.trace || fail "the model's trace does not say dma=mapped"
sed "${drv}s/ dma=mapped/ dma=sometimes/" good.trace >dma.trace
bad dma.trace "$drv" "garbage: the driver line's dma= is 'sometimes', not all or mapped"
sed "${drv}s/ dma=mapped/ dma=/" good.trace >dma-empty.trace
bad dma-empty.trace "$drv" "garbage: the driver line's dma= is '', not all or mapped"
sed "${ev}d" good.trace >noevents.trace
bad noevents.trace "$ev" "garbage: an event line before the 'events' line"
sed "s/^command .*/command fuzz_blk_io crash-1234/" good.trace >fuzz.trace
bad fuzz.trace "$(grep -n '^command' fuzz.trace | cut -d: -f1)" \
	"a fuzz trace (target fuzz_blk_io): replay it with 'FUZZ_REPLAY=fuzz.trace build/gcc/fuzz/fuzz_blk_io'"
printf 'hello\n' >text.trace
bad text.trace 1 "not a trace (the first line is not 'vlab-trace VERSION')"
: >empty.trace
bad empty.trace 1 "not a trace (empty)"
head -c 3000 /dev/urandom >binary.trace
check "binary.trace: exit 2 with 'binary.trace:LINE: ...'"
run 2 replay binary.trace
grep -qE '^binary\.trace:[0-9]+: (not a trace|garbage|truncated|length)' out.txt || fail "no FILE:LINE: reason"
check "a missing file: exit 2 with 'missing.trace:0: ...'"
run 2 replay missing.trace
contains "missing.trace:0: No such file or directory"
finish
