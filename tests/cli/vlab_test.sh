#!/usr/bin/env bash
# End-to-end checks of the vlab command line.
#   bash vlab_test.sh <vlab-binary> <scratch-dir>
# Each check says what it checks; the first failure stops the script with a
# message and a non-zero status.
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

# ---------------------------------------------------------------------------
check "default machine: scan, info and part show the GPT disk"
run 0 -c 'virtio scan; virtio info; virtio part 0'
contains 'Device 0: QEMU VirtIO Block Device'
contains '            Type: Hard Disk'
contains '            Capacity: 32.0 MB = 0.0 GB (65536 x 512)'
contains 'Partition Map for VirtIO device 0  --   Partition Type: EFI'
grep -qP '^  1\t0x00000800\t0x000047ff\t"boot"$' out.txt || fail 'partition 1 "boot" 0x800..0x47ff missing'
grep -qP '^  2\t0x00004800\t0x0000ffde\t"rootfs"$' out.txt || fail 'partition 2 "rootfs" 0x4800..0xffde missing'
contains 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'
contains '0fc63daf-8483-4772-8e79-3d69d8477de4'

check "default machine: partition 2 starts with the greeting"
run 0 -c 'virtio read 80000000 4800 1; md.b 80000000 20'
contains 'virtio read: device 0 block # 18432, count 1 ... 1 blocks read: OK'
contains 'hello from virti'

check "--help prints the usage and exits 0"
run 0 --help
contains 'Usage: vlab [options]'
contains '--blk IMAGE'

check "--version"
run 0 --version
contains 'vlab '

check "a bad option exits 2 with a hint"
run 2 --no-such-option
contains "unknown option '--no-such-option'"
contains "Try 'vlab --help'"
run 2 --blk-ram 1000
contains 'multiple of 512'
run 2 --blk-ram 1M,transport=usb
contains "unknown transport 'usb'"
run 2 --sched sometimes
run 2 -c

check "a missing image exits 1 and names it"
run 1 --blk "$WORK/no-such.img" -c 'virtio scan'
contains 'no-such.img'

check "a directory as image exits 1"
mkdir -p adir
run 1 --blk adir -c 'virtio scan'
contains 'adir'

check "an empty image exits 1"
: >empty.img
run 1 --blk empty.img -c 'virtio scan'
contains 'empty.img'

check "an image whose size is not a multiple of 512 exits 1"
head -c 1000 /dev/zero >odd.img
run 1 --blk odd.img -c 'virtio scan'
contains 'odd.img'

check "unknown command: U-Boot's message; as in U-Boot the later commands still run; exit 1"
run 1 -c 'frobnicate; echo AFTER'
contains "Unknown command 'frobnicate' - try 'help'"
contains 'AFTER'

check "every command of a ';' list runs; the exit status says one failed"
run 1 -c 'echo one; md 10 4; echo two; frobnicate; echo three'
contains 'one'
contains 'two'
contains 'three'
run 0 -c 'echo one; echo two'

check "'&&' runs the next command only after a success, '||' only after a failure"
run 1 -c 'frobnicate && echo NOT-RUN-1; echo a || echo NOT-RUN-2; frobnicate || echo RAN-1; echo b && echo RAN-2'
lacks 'NOT-RUN'
contains 'RAN-1'
contains 'RAN-2'
run 0 -c 'echo x&&echo RAN-3||echo NOT-RUN-3'
contains 'RAN-3'
lacks 'NOT-RUN'
run 0 -c 'echo "a && b" '"'c || d'"
contains 'a && b c || d'

check "a malformed line runs none of its commands"
run 1 -c 'echo NOT-RUN; echo "unterminated'
contains 'unterminated " quote'
lacks 'NOT-RUN'
run 1 -c 'echo NOT-RUN && && echo x'
contains "syntax error near '&&'"
lacks 'NOT-RUN'
run 1 -c 'echo NOT-RUN ||'
contains "syntax error near '||'"
lacks 'NOT-RUN'

check "a failure before exit still fails the run"
run 1 -c 'frobnicate; exit; echo NOT-RUN'
lacks 'NOT-RUN'

check "every command answers --help"
for cmd in virtio md mw cmp crc32 load net pci save help echo version exit quit; do
	run 0 -c "$cmd --help"
	contains 'Usage:'
done

# ---------------------------------------------------------------------------
# A 4 MiB image of random data: 8192 sectors (0x2000).
head -c $((4 << 20)) /dev/urandom >disk.img
cp disk.img disk.orig
head -c $((1 << 20)) /dev/urandom >payload.bin

check "read the whole image into RAM and save it: identical to the file"
run 0 --blk disk.img -c 'virtio scan; virtio read 80000000 0 2000; save hostfs - 80000000 readback.bin 400000'
contains '8192 blocks read: OK'
contains '4194304 bytes written'
cmp disk.img readback.bin || fail 'readback.bin differs from disk.img'

check "write a host file through the driver, read it back, compare"
run 0 --blk disk.img -c 'load hostfs - 80000000 payload.bin; virtio write 80000000 800 800; virtio flush; virtio read 81000000 800 800; cmp.b 80000000 81000000 100000; save hostfs - 81000000 back.bin 100000'
contains '1048576 bytes read'
contains '2048 blocks written: OK'
contains 'Total of 1048576 byte(s) were the same'
cmp payload.bin back.bin || fail 'data read back differs from what was written'
# The image file itself now holds the payload at 1 MiB, the rest unchanged.
cmp <(head -c $((1 << 20)) disk.img) <(head -c $((1 << 20)) disk.orig) || fail 'bytes before the write changed'
cmp <(tail -c +$(((1 << 20) + 1)) disk.img | head -c $((1 << 20))) payload.bin || fail 'image does not hold the payload'
cmp <(tail -c +$(((2 << 20) + 1)) disk.img) <(tail -c +$(((2 << 20) + 1)) disk.orig) || fail 'bytes after the write changed'

check "crc32 agrees with the data"
run 0 -c 'mw.l 80000000 64636261 1; crc32 80000000 4'
# CRC-32 of "abcd" is ed82cd11
contains 'crc32 for 80000000 ... 80000003 ==> ed82cd11'

check "a write to a read-only disk fails and the image is unchanged"
before=$(sha256sum disk.img | cut -d' ' -f1)
run 1 --blk disk.img,ro -c 'virtio scan; mw.b 80000000 5a 200; virtio write 80000000 0 1'
contains 'blocks written: ERROR'
after=$(sha256sum disk.img | cut -d' ' -f1)
[[ $before == "$after" ]] || fail 'read-only image was modified'

check "a read beyond the capacity fails"
run 1 --blk disk.img -c 'virtio scan; virtio read 80000000 2000 1'
contains 'blocks read: ERROR'
run 1 --blk disk.img -c 'virtio scan; virtio read 80000000 1fff 2'
contains 'blocks read: ERROR'

check "a read into the drivers' DMA zone or outside RAM is refused"
run 1 -c 'virtio read 83ff0000 0 1'
contains 'where the drivers keep their virtqueues'
run 1 -c 'md 90000000 4'
contains 'outside guest RAM'

# ---------------------------------------------------------------------------
check "both transports give the same 'virtio part' output"
run 0 -c 'virtio read 80000000 0 10000; save hostfs - 80000000 gpt.img 2000000'
run 0 --blk gpt.img,transport=mmio -c 'virtio scan; virtio part 0'
cp out.txt part-mmio.txt
run 0 --blk gpt.img,transport=mmio-legacy -c 'virtio scan; virtio part 0'
cp out.txt part-legacy.txt
grep -q 'Partition Type: EFI' part-mmio.txt || fail 'no GPT seen through mmio'
diff part-mmio.txt part-legacy.txt || fail 'mmio and mmio-legacy differ'
run 0 --transport mmio-legacy --blk gpt.img -c 'virtio features'
contains 'legacy interface'

check "scripts on stdin: comments, success exits 0"
printf '# a comment\nvirtio scan\necho one # trailing comment\necho "two; still two"\n' >ok.vlab
"$VLAB" <ok.vlab >out.txt 2>&1 || fail "script exited $?"
contains 'one'
contains 'two; still two'
lacks 'trailing'

check "scripts on stdin run every line, as a ';' list does, and exit 1 after a failure"
printf 'echo before\nmd 10 4\necho after\n' >bad.vlab
st=0
"$VLAB" <bad.vlab >out.txt 2>&1 || st=$?
[[ $st == 1 ]] || fail "script exited $st, expected 1"
contains 'before'
contains 'outside guest RAM'
contains 'after'

check "two disks: numbering, device selection, id and features"
run 0 --blk-ram 1M --blk-ram 2M,transport=mmio-legacy,ro -c 'virtio scan; virtio info; virtio device 1; virtio id; virtio features 0; virtio violations'
contains 'Device 0: QEMU VirtIO Block Device'
contains 'Device 1: QEMU VirtIO Block Device'
contains '            Capacity: 2.0 MB = 0.0 GB (4096 x 512)'
contains '... is now current device'
contains 'VERSION_1'
contains 'no violations'

finish
