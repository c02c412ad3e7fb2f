#!/usr/bin/env bash
# vlab's rng command (U-Boot's `rng [dev] [n]`: a hex dump with offsets) on
# the virtio-rng devices of --rng, one on every transport; the messages for
# a missing device and bad arguments; what `virtio scan` says of an rng.
# Few vlab runs: each costs a start-up.
#   bash rng_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

# U-Boot's print_hex_dump_bytes(DUMP_PREFIX_OFFSET): "%08x: ", 16 bytes
# "xx" joined by spaces, padded to column 49, then the characters.
dump_line='^[0-9a-f]{8}: ([0-9a-f]{2} ){15}[0-9a-f]{2}  .{16}$'

check "one device on each transport: 0x40 bytes by default (four dump lines each); rng 4 0x14: a short last line, its characters at column 59"
run 0 --rng transport=mmio --rng transport=mmio-legacy --rng transport=pci --rng transport=pci-transitional \
	--rng transport=pci-legacy,seed=7 -c 'rng 0; rng 1; rng 2; rng 3; rng 4; rng 4 14; virtio scan'
[[ $(grep -cE "$dump_line" out.txt) == 21 ]] || fail "expected 5 x 4 + 1 dump lines of 16 bytes"
[[ $(grep -c '^00000030: ' out.txt) == 5 ]] || fail "expected five dumps of 0x40 bytes"
grep -qE '^00000010: [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} {38}.{4}$' out.txt ||
	fail "the last line of a 20-byte dump is not U-Boot's"
contains "entropy device, driven by the 'rng' command (virtio-rng)"
grep -E "$dump_line" out.txt | tail -1 >seed7.txt

check "the same seed gives the same bytes, another seed others"
run 0 --rng seed=7 -c 'rng 0 40; rng 0 14'
grep -E "$dump_line" out.txt | tail -1 | cmp -s - seed7.txt ||
	fail "seed 7 gave other bytes than before (after the same 0x40)"
run 0 --rng seed=8 -c 'rng 0 40; rng 0 14'
! grep -E "$dump_line" out.txt | tail -1 | cmp -s - seed7.txt || fail "seeds 7 and 8 gave the same bytes"

check "no device: U-Boot's message, a failure"
run 1 -c 'rng'
contains 'No RNG device'

check "bad arguments; a device beyond the last"
run 1 --rng -c 'rng zz; rng 0 100000; rng 1'
contains "rng: bad device number 'zz'"
contains "rng: bad byte count '100000'"
contains 'No RNG device'

finish
