#!/usr/bin/env bash
# vlab's filesystem commands (ls, load, size, fstype, fatls/ext4ls,
# fatload/ext4load, part list/uuid) on disks made by the real tools:
# FAT and ext images (tests/fs/make_images.sh) placed in MBR and GPT
# partitions by sfdisk, a whole-disk FAT, and a corrupted FAT.
#   bash fs_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail
MAKE_IMAGES=$(cd "$(dirname "$0")/../fs" && pwd)/make_images.sh
. "$(dirname "$0")/lib.sh" "$@"
PATH=$PATH:/usr/sbin:/sbin

have_tool sfdisk fdisk || finish
for t in mkfs.vfat:dosfstools mcopy:mtools mke2fs:e2fsprogs; do
	have_tool "${t%%:*}" "${t#*:}" || finish
done
bash "$MAKE_IMAGES" "$WORK/img" >/dev/null

# disk NAME LABEL IMG1 IMG2 TYPE1 TYPE2: a 60 MiB disk, partition 1 at
# 1 MiB holding IMG1, partition 2 at 40 MiB holding IMG2.
disk() {
	local name=$1 label=$2
	truncate -s 60M "$name"
	if [[ $label == gpt ]]; then
		printf 'label: gpt\nfirst-lba: 2048\nstart=2048, size=77824, type=%s, uuid=11111111-2222-3333-4444-555555555555\nstart=81920, type=%s\n' "$5" "$6"
	else
		printf 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=77824, type=%s\nstart=81920, type=%s\n' "$5" "$6"
	fi | sfdisk -q --no-tell-kernel "$name" >/dev/null
	dd if="img/$3.img" of="$name" bs=1M seek=1 conv=notrunc status=none
	dd if="img/$4.img" of="$name" bs=1M seek=40 conv=notrunc status=none
}
disk mbr.img dos fat16 ext4 0e 83
disk gpt.img gpt fat32 ext4-64 C12A7328-F81F-11D2-BA4B-00A0C93EC93B 0FC63DAF-8483-4772-8E79-3D69D8477DE4
# The crc32 vlab prints for big.bin's 300000 bytes (0x493e0).
big_crc=$(python3 -c 'import zlib; print("%08x" % zlib.crc32(open("img/tree/big.bin","rb").read()))')

check "ls on FAT in an MBR partition: U-Boot's format"
run 0 --blk mbr.img -c 'ls virtio 0:1 /'
lines_in_order '       18   hello.txt' '   300000   big.bin' '       10   A Long File Name with spaces.txt' \
	'            sub/' '5 file(s), 1 dir(s)'

check "no partition given: partition 1, as U-Boot picks it; a subdirectory"
run 0 --blk mbr.img -c 'ls virtio 0 /sub/deeper'
lines_in_order '            ./' '            ../' '        7   n.txt' '1 file(s), 2 dir(s)'

check "ls on ext4 (partition 2): U-Boot's ext4 listing (symlinks, lost+found, no count)"
run 0 --blk mbr.img -c 'ls virtio 0:2'
contains '<SYM>          9 link'
contains '<DIR>      12288 lost+found'
contains '           65536 sparse.bin'
lacks 'file(s)'

check "a FAT filesystem on the whole disk (superfloppy) is no partition table: U-Boot's partition 0"
run 0 --blk img/fat12.img -c 'part list virtio 0; ls virtio 0 /'
lines_in_order '## Unknown partition table type 0' '5 file(s), 1 dir(s)'
lacks 'Partition Map'
run 1 --blk img/fat12.img -c 'ls virtio 0:1 /'
lines_in_order '** No partition table - virtio 0 **' "Couldn't find partition virtio 0:1"

check "a protective MBR without a GPT header: an empty EFI map (succeeds), no partition 1, as U-Boot"
cp gpt.img pmbr.img
dd if=/dev/zero of=pmbr.img bs=512 seek=1 count=1 conv=notrunc status=none
dd if=/dev/zero of=pmbr.img bs=512 seek=$(($(stat -c %s pmbr.img) / 512 - 1)) count=1 conv=notrunc status=none
run 0 --blk pmbr.img -c 'part list virtio 0'
contains 'Partition Map for VirtIO device 0  --   Partition Type: EFI'
lacks 'out of bounds'
run 1 --blk pmbr.img -c 'load virtio 0:1 $loadaddr /hello.txt'
lines_in_order '** Invalid partition 1 **' "Couldn't find partition virtio 0:1" "Can't set block device"

check "fstype names the filesystem of each partition"
run 0 --blk mbr.img -c 'fstype virtio 0:1; fstype virtio 0:2'
lines_in_order fat ext4

check "load from FAT and from ext4, then crc32 of what arrived"
run 0 --blk mbr.img -c 'load virtio 0:1 80000000 /big.bin; crc32 80000000 493e0; load virtio 0:2 81000000 big.bin; crc32 81000000 493e0'
lines_in_order '300000 bytes read in ' "==> $big_crc" '300000 bytes read in ' "==> $big_crc"

check "load bytes and pos (hex): 0x10 bytes from 0x5, a fragmented file, a symlink"
run 0 --blk mbr.img -c 'load virtio 0:1 80000000 /big.bin 10 5; md.b 80000000 10; load virtio 0:1 80100000 /FRAG.BIN; crc32 80100000 ea60; load virtio 0:2 80200000 /link; md.b 80200000 6'
frag_crc=$(python3 -c 'import zlib; print("%08x" % zlib.crc32(open("img/tree/big.bin","rb").read()[:60000]))')
lines_in_order '16 bytes read in ' '80000000: 23 2a 31 38 3f 46 4d 54 5b 62 69 70 77 7e 85 8c' \
	'60000 bytes read in ' "==> $frag_crc" '18 bytes read in ' 'hello,'

check "fatload/ext4load/fatls/ext4ls on their own type, refused on the other"
run 0 --blk mbr.img -c 'fatload virtio 0:1 80000000 hello.txt; ext4load virtio 0:2 80000000 hello.txt; fatls virtio 0:1 /sub; ext4ls virtio 0:2 /sub'
run 1 --blk mbr.img -c 'fatls virtio 0:2'
contains '** Unrecognized filesystem type **'
run 1 --blk mbr.img -c 'ext4load virtio 0:1 80000000 hello.txt'
contains '** Unrecognized filesystem type **'

check "size is silent and succeeds; for a missing file it fails"
run 0 --blk mbr.img -c 'size virtio 0:2 /big.bin'
[[ ! -s out.txt ]] || fail 'size printed something'
run 1 --blk mbr.img -c 'size virtio 0:2 /nope'
contains '** File not found /nope **'

check "GPT: FAT32 and 64-bit ext4 with 4 KiB blocks; part uuid and list"
run 0 --blk gpt.img -c 'ls virtio 0:1; load virtio 0:2 80000000 /sub/deeper/n.txt; md.b 80000000 7; part uuid virtio 0:1; part list virtio 0'
lines_in_order '   300000   big.bin' '7 bytes read in ' 'nested' '11111111-2222-3333-4444-555555555555' \
	'Partition Map for VirtIO device 0  --   Partition Type: EFI'

check "part uuid on MBR: the disk signature and the partition number"
run 0 --blk mbr.img -c 'part uuid virtio 0:2'
contains '1234abcd-02'

check "fstype and part uuid with a variable name set it and print nothing, as U-Boot"
run 0 --blk mbr.img -c 'fstype virtio 0:2 t; part uuid virtio 0:2 u; echo [$t] [$u]; printenv t'
lines_in_order '[ext4] [1234abcd-02]' 't=ext4'
lacks 'variables'
[[ $(wc -l <out.txt) == 2 ]] || fail "fstype/part uuid with a variable printed more than the echo and printenv"
run 1 --blk mbr.img -c 'fstype virtio 0:1 a=b'
contains "## Error: illegal character '=' in variable name \"a=b\""
run 1 --blk mbr.img -c 'part uuid virtio 0:1 a=b'
contains "## Error: illegal character '=' in variable name \"a=b\""

check "a whole-disk FAT (no partition table) and a whole-disk ext2; any transport"
# (virtio-mmio devices are numbered before PCI ones.)
run 0 --blk img/fat12.img,transport=mmio-legacy --blk img/ext2.img,transport=pci \
	-c 'ls virtio 0; fstype virtio 1; load virtio 1 80000000 big.bin; crc32 80000000 493e0; load virtio 0:0 80000000 big.bin; crc32 80000000 493e0'
lines_in_order '   300000   big.bin' 'ext4' '300000 bytes read in ' "==> $big_crc" '300000 bytes read in ' "==> $big_crc"

check "bad device, bad or missing partition, missing file, a directory, pos beyond the end"
run 1 --blk mbr.img -c 'ls virtio 1'
contains '** Bad device specification virtio 1 **'
run 1 --blk mbr.img -c 'ls virtio 0:3'
contains '** Invalid partition 3 **'
run 1 --blk mbr.img -c 'ls virtio 0:zz'
contains '** Bad partition specification virtio 0:zz **'
run 1 --blk mbr.img -c 'ls virtio 0:1 /nope'
contains '** Can not open directory /nope: no such file or directory **'
run 1 --blk mbr.img -c 'load virtio 0:1 80000000 /nope.bin'
lines_in_order '** File not found /nope.bin **' "Failed to load '/nope.bin'"
run 1 --blk mbr.img -c 'load virtio 0:1 80000000 /sub'
contains 'is a directory'
run 1 --blk mbr.img -c 'load virtio 0:1 80000000 /hello.txt 1 100'
contains 'offset beyond the end of the file'
run 1 --blk img/ext2.img -c 'ls virtio 0:1'
contains '** No partition table - virtio 0 **'
run 1 --blk mbr.img -c 'load virtio 0:2 80000000 /loop'
contains 'too many levels of symbolic links'

check "a cyclic FAT chain: a clean error, no hang"
cp img/fat12.img cyclic.img
# big.bin starts at cluster 3 (after hello.txt): make its 3rd cluster point back at it.
python3 - <<'EOF'
import struct
d = bytearray(open('cyclic.img', 'rb').read())
rsvd = struct.unpack_from('<H', d, 0x0e)[0]
fat = rsvd * 512
def set12(c, v):
    o = fat + c + c // 2
    w = struct.unpack_from('<H', d, o)[0]
    w = (w & 0x000f) | (v << 4) if c & 1 else (w & 0xf000) | v
    struct.pack_into('<H', d, o, w)
set12(5, 3)
open('cyclic.img', 'wb').write(d)
EOF
run 1 --blk cyclic.img -c 'load virtio 0 80000000 big.bin'
lines_in_order '** Unable to read file big.bin: filesystem structure corrupted **' "Failed to load 'big.bin'"

check "load hostfs still loads a host file"
run 0 -c 'load hostfs - 80000000 img/tree/hello.txt'
contains '18 bytes read'

check "the new commands answer --help"
cmds=(ls load size fstype fatls fatload fatsize ext4ls ext4load ext4size part)
run 0 -c "$(printf '%s --help; ' "${cmds[@]}")"
for cmd in "${cmds[@]}"; do
	contains "$cmd - "
done
[[ $(grep -c '^Usage:' out.txt) == "${#cmds[@]}" ]] || fail "not one usage per command"
finish
