#!/usr/bin/env bash
# Editing a trace is fault injection: `vlab-scenario replay --inject` on a
# recording with one value changed answers reads from the trace until the
# driver's own actions diverge, and its report names the edited value, the
# divergence, what the driver logged in between (what it did with the
# value) and the scenario's transcript lines.
# Arguments: <vlab-scenario> <scratch-dir>
set -euo pipefail
. "$(dirname "$0")/../cli/lib.sh" "$@"

# The line of the first event of trace $1 matching an extended regex (after line $3).
line_of() { awk -v from="${3:-0}" -v re="$2" 'NR > from && $0 ~ re { print NR; exit }' "$1"; }
# Field $3 of line $2 of trace $1.
field() { awk -v n="$2" -v f="$3" 'NR == n { print $f }' "$1"; }

run 0 run --scenario net --transport mmio --model-transport mmio --record net.trace

check "an unedited trace under --inject: exit 0, no edited value found, nothing diverged"
run 0 replay --inject net.trace
lines_in_order "the run matched the trace to its end" "replay --inject: the driver's actions matched the trace to its end" \
	"the edited value the driver read: not found"
lacks "replay: divergence"

check "--inject without a trace: usage, exit 2"
run 2 replay --inject

# 0. The rule: reads are answered by position as long as the kind matches.
#    The first register read (MagicValue, offset 0) moved to offset 4 in the
#    trace: a plain replay diverges there; --inject answers it, names it,
#    and the run matches to the end.
mv=$(line_of net.trace '^[0-9]+ r4 0x10001000 ')
sed "${mv}s/ r4 0x10001000 / r4 0x10001004 /" net.trace >moved.trace
check "a read at another address: a divergence in a plain replay, answered and named under --inject"
run 1 replay moved.trace
contains "replay: divergence at moved.trace:$mv "
run 0 replay --inject moved.trace
lines_in_order "the run matched the trace to its end" \
	"a read answered at another address first: moved.trace:$mv: r4 0x10001004 0x74726976, read at 0x10001000"

# 1. An rx used.len shortened: the first received frame's (the sh4 after
#    the used element's id) 0x1a -> 0x19, 13 bytes after the 12-byte header,
#    less than an Ethernet header.  The driver drops and counts the frame.
id=$(line_of net.trace '^[0-9]+ sh4 0x[0-9a-f]+ 0x0$' "$(line_of net.trace ' dw 0x[0-9a-f]+ 26 ')")
len=$((id + 1))
[[ $(field net.trace "$len" 4) == 0x1a ]] ||
	fail "line $len is not the first frame's used.len (0x1a): $(sed -n "${len}p" net.trace)"
sed "${len}s/ 0x1a\$/ 0x19/" net.trace >usedlen.trace
div=$(line_of net.trace '^[0-9]+ shm 0x[0-9a-f]+ 14 ' "$len")
check "a used.len one byte short: the report names the edited line, the drop, the divergence and the drop count"
run 1 replay --inject usedlen.trace
lines_in_order "replay: divergence at usedlen.trace:$div " "the driver did: wmb" \
	"replay --inject: the driver's actions diverged" \
	"the edited value the driver read: usedlen.trace:$len: sh4 $(field net.trace "$len" 3) 0x19 (the device had written 0x1a there)" \
	"what the driver logged and the scenario said from the edited value on:" \
	"log: debug: mmio@10001000: received frame dropped: short" \
	"-- the divergence: from here on the device is gone --" \
	"T: stats: rx dropped short: 1"

# 2. A blk status byte: the first request's (a shm of 1 byte) 00 -> 0x42,
#    neither OK, IOERR nor UNSUPP.  The driver marks the device broken and
#    the scenario's transcript says so.
if have_tool sfdisk fdisk; then
	"$VLAB" mkdisk disk.img
	"$VLAB" sfdisk-script | sfdisk -q disk.img >/dev/null 2>&1 || fail "sfdisk could not partition the disk"
	run 0 run --scenario blk --transport pci --model-transport pci --image disk.img --record blk.trace
	st=$(line_of blk.trace '^[0-9]+ shm 0x[0-9a-f]+ 1 00$')
	[[ -n $st ]] || fail "no status byte read in blk.trace"
	sed "${st}s/ 00\$/ 42/" blk.trace >status.trace
	check "a blk status byte 0x42: the report names the edited line, 'device broken', the divergence, the transcript's FAIL"
	run 1 replay --inject status.trace
	lines_in_order "replay: divergence at status.trace:$((st + 1)) " \
		"replay --inject: the driver's actions diverged" \
		"the edited value the driver read: status.trace:$st: shm $(field blk.trace "$st" 3) 1 42 (the device had written 00 there)" \
		"device broken: blk: status byte not OK/IOERR/UNSUPP" \
		"-- the divergence: from here on the device is gone --" \
		"T: device state: VLAB_EBROKEN" "T: result blk: FAIL"
	check "the same trace without --inject: the divergence alone, as before"
	run 1 replay status.trace
	contains "replay: divergence at status.trace:$((st + 1)) "
	lacks "replay --inject"
fi
finish
