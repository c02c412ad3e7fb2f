#!/usr/bin/env bash
# An edited trace is a divergence, reported at the line where the driver
# first did something else, naming the platform call and both sides; and
# the driver, fed all-ones after it, stops without a crash (exit 1).
# Arguments: <vlab-scenario> <scratch-dir>
set -euo pipefail
. "$(dirname "$0")/../cli/lib.sh" "$@"

run 0 run --scenario net --transport mmio --model-transport mmio --record net.trace
# The line of the first event matching an extended regex (after line $2).
line_of() { awk -v from="${2:-0}" -v re="$1" 'NR > from && $0 ~ re { print NR; exit }' net.trace; }

# 1. A register value: DeviceFeatures (bits 0-31, offset 0x10) without MAC
#    (bit 5).  The driver accepts other features: its DriverFeatures write
#    (offset 0x20) for bits 0-31 differs.
feat=$(line_of '^[0-9]+ r4 0x10001010 ')
old=$(awk -v n="$feat" 'NR == n { print $4 }' net.trace)
new=$(printf '0x%x' $((old & ~0x20)))
sed "${feat}s/ $old\$/ $new/" net.trace >features.trace
want=$(line_of '^[0-9]+ w4 0x10001020 ' "$feat")
check "a DeviceFeatures value without MAC: divergence at features.trace:$want, the DriverFeatures write"
run 1 replay features.trace
lines_in_order "replay: divergence at features.trace:$want " "platform call: mmio_write32" \
	"the trace says: w4 0x10001020 " "the driver did: w4 0x10001020 " "the driver's last log lines"

# 2. A used.len: the first received frame's (sh4 after the used element's
#    id) one byte shorter: 13 bytes after the 12-byte header, less than an
#    Ethernet header.  The driver drops the frame instead of reading it:
#    where the trace reads the frame's 14 bytes, the driver's next call is
#    the barrier before it gives the buffer back, and its log says why.
id=$(line_of '^[0-9]+ sh4 0x[0-9a-f]+ 0x0$' "$(line_of ' dw 0x[0-9a-f]+ 26 ')")
len=$((id + 1))
old=$(awk -v n="$len" 'NR == n { print $4 }' net.trace)
[[ $old == 0x1a ]] || fail "line $len is not the first frame's used.len (0x1a): $(sed -n "${len}p" net.trace)"
sed "${len}s/ 0x1a\$/ 0x19/" net.trace >usedlen.trace
want=$(line_of '^[0-9]+ shm 0x[0-9a-f]+ 14 ' "$len")
check "a used.len one byte short: divergence at usedlen.trace:$want, the driver drops the frame"
run 1 replay usedlen.trace
lines_in_order "replay: divergence at usedlen.trace:$want " "platform call: wmb" \
	"the trace says: shm $(awk -v n="$want" 'NR == n { print $3 }' net.trace) 14 52540012345602766c61620188b5" \
	"the driver did: wmb" \
	"received frame dropped: short"

# 3. What the device read (published memory): the first transmitted frame's
#    bytes as the device read them, one byte changed.  The replayed driver
#    published the original: divergence at that dr line.
dr=$(line_of '^[0-9]+ dr 0x[0-9a-f]+ [0-9]+ [0-9a-f]*5254001234' )
sed -E "${dr}s/5254001234/5254001235/" net.trace >published.trace
check "a changed byte of a transmitted frame: divergence at published.trace:$dr"
run 1 replay published.trace
lines_in_order "replay: divergence at published.trace:$dr " "published memory, as the device read it" \
	"the driver did: published 0x34 at 0x"

# 4. A trace cut after its end line's events: an event left over.
head -n -1 net.trace | head -n -1 >short.trace
echo "end $(($(tail -n 1 net.trace | cut -d' ' -f2) - 1))" >>short.trace
check "the driver does more than a shortened trace holds: divergence naming the call"
run 1 replay short.trace
contains "the trace says: (the end of the trace)"
finish
