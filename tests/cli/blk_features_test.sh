#!/usr/bin/env bash
# The rest of virtio-blk in vlab (issue 17).  The write cache: `virtio
# cache` shows and sets it (CONFIG_WCE).  A disk of 4096-byte logical
# blocks (QEMU's logical_block_size=4096): `virtio read/write` count blocks of that size (U-Boot's blksz), the
# partition table is read in them (a GPT fdisk made with 4096-byte
# sectors), and FAT (4096-byte sectors) and ext4 (4 KiB blocks) in its
# partitions are read through them.  Bad block sizes are refused.
#   bash blk_features_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"
PATH=$PATH:/usr/sbin:/sbin

check "virtio cache: QEMU's writeback cache, set to writethrough and back; write-cache=off starts writethrough"
run 0 --blk-ram 8M,qemu -c 'virtio scan; virtio cache 0; virtio cache 0 writethrough; virtio cache writeback'
lines_in_order 'virtio 0: writeback cache (settable: CONFIG_WCE)' 'virtio 0: writethrough cache (settable: CONFIG_WCE)' \
	'virtio 0: writeback cache (settable: CONFIG_WCE)'
run 0 --blk-ram 8M,qemu,write-cache=off -c 'virtio scan; virtio cache'
contains 'virtio 0: writethrough cache (settable: CONFIG_WCE)'
check "virtio cache without CONFIG_WCE: shown, not settable (exit 1); a bad property value (exit 2)"
run 1 --blk-ram 8M,qemu,config-wce=off -c 'virtio scan; virtio cache; virtio cache 0 writethrough'
lines_in_order 'virtio 0: writeback cache (FLUSH without CONFIG_WCE)' 'cache not set to writethrough: not supported (no CONFIG_WCE feature)'
run 2 --blk-ram 8M,config-wce=maybe -c 'virtio scan'
contains 'config-wce and write-cache take on or off'

check "num-queues=4: MQ offered and negotiated, the disk works over the queues; num-queues=1 offers no MQ; a bad value (exit 2)"
run 0 --blk-ram 1M,num-queues=4 -c 'virtio scan; virtio features; mw.b 80000000 a5 2000; virtio write 80000000 8 10; mw.b 80000000 0 2000; virtio read 80001000 8 10; md.b 80002ffc 4'
contains 'MQ                   offered, negotiated'
lines_in_order '16 blocks written: OK' '16 blocks read: OK' '80002ffc: a5 a5 a5 a5'
run 0 --blk-ram 1M,num-queues=1 -c 'virtio scan; virtio features'
if grep -q ' MQ ' out.txt; then fail "MQ offered with num-queues=1"; fi
run 2 --blk-ram 1M,num-queues=0 -c 'virtio scan'
contains 'num-queues is 1 to 8'

check "virtio erase (DISCARD) and virtio zero (WRITE_ZEROES): the blocks of a file disk read back as zeroes, the rest kept"
head -c 65536 /dev/urandom >dz.img
cp dz.img dz.orig
run 0 --blk dz.img,qemu -c 'virtio scan; virtio erase 10 8; virtio zero 20 4 unmap; virtio zero 30 1'
lines_in_order 'virtio erase: device 0 block # 16, count 8 ... 8 blocks erased: OK' \
	'virtio zero: device 0 block # 32, count 4 ... 4 blocks zeroed: OK' \
	'virtio zero: device 0 block # 48, count 1 ... 1 blocks zeroed: OK'
python3 - <<'PY' || fail "the disk is not the original with sectors 16-23, 32-35 and 48 zeroed"
a = bytearray(open("dz.orig", "rb").read())
for first, n in ((16, 8), (32, 4), (48, 1)):
    a[first * 512:(first + n) * 512] = bytes(n * 512)
assert open("dz.img", "rb").read() == bytes(a)
PY
check "virtio erase / zero refused cleanly: no feature, beyond the disk, bad numbers, read-only; bad properties (exit 2)"
run 1 --blk-ram 1M -c 'virtio scan; virtio erase 10 8'
contains '0 blocks erased: ERROR (not supported: no DISCARD feature)'
run 1 --blk-ram 1M,qemu,write-zeroes=off -c 'virtio scan; virtio zero 10 8'
contains '0 blocks zeroed: ERROR (not supported: no WRITE_ZEROES feature)'
run 0 --blk-ram 1M,discard=on -c 'virtio scan; virtio erase 0 800'
contains '2048 blocks erased: OK'
run 1 --blk-ram 1M,qemu -c 'virtio scan; virtio erase 7ff 2'
contains '0 blocks erased: ERROR (out of range)'
run 1 --blk-ram 1M,qemu -c 'virtio scan; virtio zero x 2'
contains 'virtio zero: blk# and cnt are hex numbers'
run 1 --blk-ram 1M,qemu,ro -c 'virtio scan; virtio zero 0 1'
contains '0 blocks zeroed: ERROR'
run 2 --blk-ram 1M,discard=unmap -c 'virtio scan'
contains 'discard and write-zeroes take on or off'
run 2 --blk-ram 1M,max-discard-sectors=0 -c 'virtio scan'
contains 'max-discard-sectors and max-write-zeroes-sectors are 1 to 0x3fffff'

check "a bad block size is refused with what is allowed (exit 2)"
for bad in logical_block_size=1000 logical_block_size=256 logical_block_size=131072 physical_block_size=x; do
	run 2 --blk-ram 8M,$bad -c 'virtio scan'
	contains "a block size is a power of two from 512 to 65536"
done
run 1 --blk-ram 8M,logical_block_size=4096,physical_block_size=512 -c 'virtio scan'
contains "physical_block_size 512 is below the logical block size 4096"

check "virtio info and virtio read/write count 4096-byte blocks"
run 0 --blk-ram 8M,logical_block_size=4096,physical_block_size=4096 -c \
	'virtio scan; virtio info; mw.b 80000000 5a 2000; virtio write 80000000 3 2; mw.b 80000000 0 2000; virtio read 80001000 4 1; md.b 80001000 4; md.b 80001ffc 4'
contains '(2048 x 4096)'
contains '2 blocks written: OK'
lines_in_order '1 blocks read: OK' '80001000: 5a 5a 5a 5a' '80001ffc: 5a 5a 5a 5a'
run 1 --blk-ram 8M,logical_block_size=4096 -c 'virtio scan; virtio read 80000000 800 1'
contains 'block # 2048, count 1 ... 0 blocks read: ERROR (out of range)'

for t in mkfs.vfat:dosfstools mcopy:mtools mke2fs:e2fsprogs; do
	have_tool "${t%%:*}" "${t#*:}" || finish
done
mkdir -p tree
printf 'hello, filesystem\n' >tree/hello.txt
python3 -c 'import sys; sys.stdout.buffer.write(bytes(((i * 7 + i // 251) & 0xff) for i in range(300000)))' >tree/big.bin
mke2fs -q -F -t ext4 -b 4096 -d tree ext4k.img 8M

# A 40 MiB disk of 4096-byte sectors: partition 1 (blocks 256..5375)
# holds an 8 MiB FAT with 4096-byte sectors, partition 2 (from block
# 6144) an 8 MiB ext4 with 4 KiB blocks.
# (fdisk -b: sfdisk 2.38 has no --sector-size.)
have_tool fdisk fdisk || finish
truncate -s 40M disk4k.img
printf 'g\nn\n1\n256\n5375\nn\n2\n6144\n\nw\n' | fdisk -b 4096 disk4k.img >/dev/null
end2=$(fdisk -b 4096 -l disk4k.img | awk '$1 == "disk4k.img2" && $2 == 6144 { print $3 }')
[[ -n $end2 ]] || fail "fdisk did not make the table expected"
rm -f fat4k.img
mkfs.vfat -S 4096 -C fat4k.img 8192 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i fat4k.img tree/hello.txt tree/big.bin ::/
dd if=fat4k.img of=disk4k.img bs=4096 seek=256 conv=notrunc status=none
dd if=ext4k.img of=disk4k.img bs=4096 seek=6144 conv=notrunc status=none
big_crc=$(python3 -c 'import zlib; print("%08x" % zlib.crc32(open("tree/big.bin","rb").read()))')

check "the GPT of 4096-byte sectors: start and end in blocks, as fdisk wrote them"
run 0 --blk disk4k.img,logical_block_size=4096 -c 'virtio scan; virtio part 0'
lines_in_order 'Partition Map for VirtIO device 0' '  1	0x00000100	0x000014ff' "$(printf '  2\t0x00001800\t0x%08x' "$end2")"

check "FAT (4096-byte sectors) and ext4 (4 KiB blocks) read through 4096-byte blocks"
run 0 --blk disk4k.img,logical_block_size=4096 -c 'fstype virtio 0:1; fstype virtio 0:2; load virtio 0:1 80000000 /big.bin; crc32 80000000 493e0; load virtio 0:2 81000000 big.bin; crc32 81000000 493e0; ls virtio 0:1 /'
lines_in_order fat ext4 '300000 bytes read in ' "==> $big_crc" '300000 bytes read in ' "==> $big_crc" '       18   hello.txt'

check "the same disk seen with 512-byte blocks: its GPT is not where a 512-byte one would be"
# A protective MBR and no GPT header at LBA 1 (it is at byte 4096): as
# U-Boot, an EFI map with no partition (docs/vlab.md), not an error.
run 0 --blk disk4k.img -c 'virtio scan; virtio part 0'
contains "Partition Type: EFI"
lacks '0x00000100'

finish
