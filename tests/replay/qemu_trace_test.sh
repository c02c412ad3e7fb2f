#!/usr/bin/env bash
# A QEMU trace (docs/trace-format.md, "What the driver published"; docs/qemu.md
# "Record and replay"): the riscv64 mmio-v2 blk row of run-matrix.sh, recorded
# on QEMU, then
#  1. replayed with the test-only mutant blk-sector-bytes (the request
#     header's sector as a byte offset): the mutant makes the same platform
#     calls, only the header it publishes differs, so the replay diverges at
#     published memory, at the pub line with the header of the first request
#     that is not at sector 0, before any call differs;
#  2. edited: the first blk status byte the driver read (shm ... 1 00) set to
#     0x42, replayed with --inject: the driver takes the device as broken,
#     the report names the edit, the divergence and the scenario's FAIL.
# Label qemu: exit 77 without QEMU or the cross compiler (run-matrix.sh
# --ctest; CI=true fails instead).
# Arguments: <vlab-scenario> <scratch-dir> <mutant blk-sector-bytes>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
mutant=$(realpath "${3:?usage: $0 <vlab-scenario> <scratch-dir> <mutant blk-sector-bytes>}")
. "$(dirname "$0")/../cli/lib.sh" "$1" "$2"

row="riscv64 mmio-v2 blk"
check "the row '$row' on QEMU, recorded and replayed by run-matrix.sh"
rc=0
bash "$src/qemu-images/run-matrix.sh" --ctest --host-tool "$VLAB" --work "$WORK/matrix" --only "$row" >out.txt 2>&1 || rc=$?
[[ $rc != 77 ]] || { cat out.txt; exit 77; }
[[ $rc == 0 ]] || fail "run-matrix.sh --only '$row' exited $rc"
cp "$WORK/matrix/${row// /-}/qemu.trace" qemu.trace
grep -q '^producer qemu ' qemu.trace || fail "qemu.trace is not a QEMU trace"
# The images' platform: the device reads all memory (docs/trace-format.md).
grep -q '^driver .* dma=all$' qemu.trace || fail "qemu.trace's driver line does not say dma=all"
grep -qE '^[0-9]+ pub 0x[0-9a-f]+ [0-9]+ [0-9a-f]+$' qemu.trace || fail "qemu.trace has no pub line"
grep -qE '^[0-9]+ nopub 0x[0-9a-f]+ [0-9]+$' qemu.trace || fail "qemu.trace has no nopub line"

check "the mutant blk-sector-bytes diverges at published memory"
"$mutant" replay qemu.trace >out.txt 2>&1 </dev/null && fail "the mutant matched qemu.trace" || [[ $? == 1 ]] ||
	fail "the mutant's replay exited $?, expected 1"
line=$(sed -n 's/^replay: divergence at qemu\.trace:\([0-9]*\) .*/\1/p' out.txt)
[[ -n $line ]] || fail "no divergence reported"
contains "  platform call: (published memory, at "
contains "  the driver did: published 0x"
ev=$(awk -v n="$line" 'NR == n { print $2; exit }' qemu.trace)
[[ $ev == pub ]] || fail "qemu.trace:$line is not a pub line: $(sed -n "${line}p" qemu.trace)"
contains "  the trace says: $(awk -v n="$line" 'NR == n { $1 = ""; sub(/^ /, ""); print substr($0, 1, 40); exit }' qemu.trace)"
# The first pub line that differs: a header's sector field (the request at
# sector 1 of the partition scan: the recorded header has 01 there, the
# mutant 00 with 02 next to it).
contains "(left as it was; the device never writes there), the trace has 0x01"
cp out.txt mutant.out

check "an edited status byte (0x42) replayed with --inject"
st=$(awk '$2 == "shm" && $4 == 1 && $5 == "00" { print NR; exit }' qemu.trace)
[[ -n $st ]] || fail "qemu.trace has no 1-byte status read"
sed "${st}s/ 00\$/ 42/" qemu.trace >status.trace
run 1 replay --inject status.trace
# A QEMU trace has no dw lines: the edit itself is "not found", the last
# value read before the divergence names it.
lines_in_order ": device broken: blk: status byte not OK/IOERR/UNSUPP" \
	"T: result blk: FAIL" "replay: divergence at status.trace:" \
	"    error: mmio@10008000: device broken: blk: status byte not OK/IOERR/UNSUPP" \
	"replay --inject: the driver's actions diverged (above)" \
	"  the edited value the driver read: not found" \
	"  the last value the driver read before it diverged: status.trace:$st: shm 0x" \
	"    -- the divergence: from here on the device is gone --" "    T: result blk: FAIL"
cp out.txt inject.out

# QEMU may use a buffer at once and write over what the driver had just
# written before the recorder compares memory at the next register write
# (a packed-ring descriptor's len set to 0, seen in CI on aarch64 pci net
# packed-ind): the pub line then holds the device's byte, not the driver's.
# Made here with the first status byte the driver sets to 0xff: its pub
# line given the value the device answers there next (taken), then another
# value (the driver's publication contradicted: a divergence).
check "a pub byte the device wrote over the driver's (its next answer there) is the device's; another value diverges"
pl=$(awk '$2 == "pub" && $4 == 1 && $5 == "ff" { print NR; exit }' qemu.trace)
[[ -n $pl ]] || fail "qemu.trace has no 1-byte pub line of 0xff (a status byte)"
addr=$(awk -v n="$pl" 'NR == n { print $3 }' qemu.trace)
ans=$(awk -v n="$pl" -v a="$addr" 'NR > n && $2 == "shm" && $3 == a && $4 == 1 { print $5; exit }' qemu.trace)
[[ -n $ans && $ans != ff ]] || fail "no later read of $addr answers a value other than ff"
sed "${pl}s/ ff\$/ $ans/" qemu.trace >overwritten.trace
run 0 replay overwritten.trace
other=42
[[ $ans != 42 ]] || other=43
sed "${pl}s/ ff\$/ $other/" qemu.trace >contradicted.trace
run 1 replay contradicted.trace
contains "replay: divergence at contradicted.trace:$pl "
contains "  the driver did: published 0xff at $addr (byte 0 of the line), the trace has 0x$other"
finish
