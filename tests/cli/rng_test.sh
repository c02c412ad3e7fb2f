#!/usr/bin/env bash
# vlab's rng command (U-Boot's `rng [dev] [n]`: a hex dump with offsets) on
# the virtio-rng devices of --rng, over every transport; the messages for
# a missing device and bad arguments; what `virtio scan` says of an rng.
#   bash rng_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

# U-Boot's print_hex_dump_bytes(DUMP_PREFIX_OFFSET): "%08x: ", 16 bytes
# "xx" joined by spaces, padded to column 49, then the characters.
dump_line='^[0-9a-f]{8}: ([0-9a-f]{2} ){15}[0-9a-f]{2}  .{16}$'

for t in mmio mmio-legacy pci pci-transitional pci-legacy; do
	check "rng over $t: 0x40 bytes by default, four dump lines"
	run 0 --rng transport=$t -c 'rng'
	[[ $(grep -cE "$dump_line" out.txt) == 4 ]] || fail "expected 4 dump lines of 16 bytes"
	contains '00000000: '
	contains '00000030: '
done

check "rng 0 0x14: a short last line, its characters at column 59"
run 0 --rng -c 'rng 0 14'
grep -qE '^00000010: [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} {38}.{4}$' out.txt ||
	fail "the last line of a 20-byte dump is not U-Boot's"

check "the same seed gives the same bytes, another seed others"
run 0 --rng seed=7 -c 'rng 0 20'
cp out.txt a.txt
run 0 --rng seed=7 -c 'rng 0 20'
cmp -s a.txt out.txt || fail "seed 7 gave different bytes twice"
run 0 --rng seed=8 -c 'rng 0 20'
! cmp -s a.txt out.txt || fail "seeds 7 and 8 gave the same bytes"

check "two devices: rng 1 reads the second"
run 0 --rng --rng transport=pci -c 'rng 1 10'
[[ $(grep -cE "$dump_line" out.txt) == 1 ]] || fail "expected one dump line from device 1"

check "no device: U-Boot's message, a failure"
run 1 -c 'rng'
contains 'No RNG device'
run 1 --rng -c 'rng 1'
contains 'No RNG device'

check "bad arguments"
run 1 --rng -c 'rng zz'
contains "rng: bad device number 'zz'"
run 1 --rng -c 'rng 0 100000'
contains "rng: bad byte count '100000'"

check "virtio scan names the entropy device and its command"
run 0 --rng -c 'virtio scan'
contains "entropy device, driven by the 'rng' command"

finish
