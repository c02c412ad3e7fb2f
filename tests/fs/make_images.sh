#!/usr/bin/env bash
# Filesystem test images, made at test time by the real tools (dosfstools,
# mtools, e2fsprogs; no root, no loop devices):  make_images.sh OUTDIR
# OUTDIR/tree        the files every image holds (see below)
# OUTDIR/fat12.img fat16.img fat32.img   mkfs.vfat + mcopy, whole-disk
# OUTDIR/fat32-4k.img                    FAT32 of 4096-byte sectors (for a
#                                        disk of 4096-byte logical blocks)
# OUTDIR/ext2.img ext3.img ext4.img      mke2fs -d, 1 KiB blocks
# OUTDIR/ext4-64.img                     64bit, flex_bg, 4 KiB blocks
# OUTDIR/ext4-inline.img                 inline_data: small files and
#                                        directories inside their inodes
# Each holds: hello.txt ("hello, filesystem\n"), big.bin (300000 bytes,
# a fixed pattern), "A Long File Name with spaces.txt", sub/deeper/n.txt;
# FAT: frag.bin (60000 bytes) in two fragments; ext: sparse.bin (6 data
# pieces between holes: more extents than the inode holds), link ->
# hello.txt, dlink -> sub/deeper, loop -> loop.
# Exit 77 when a tool is missing (CTest: skipped).  Images already made by
# this version of the script are kept (OUTDIR/.stamp).
set -euo pipefail
out=${1:?usage: make_images.sh OUTDIR}
for t in mkfs.vfat mcopy mdel mke2fs; do
	command -v "$t" >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null || { echo "make_images.sh: $t is not installed" >&2; exit 77; }
done
export MTOOLS_SKIP_CHECK=1
# Made once per version of this script: every test process may ask at the
# same time (ctest -j), so under a lock, and kept while the stamp matches.
stamp=$(cksum <"${BASH_SOURCE[0]}")
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
[[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]] && exit 0
rm -rf "$out"
mkdir -p "$out/tree/sub/deeper"
cd "$out"
printf 'hello, filesystem\n' >tree/hello.txt
# A pattern, not random: the tests know every byte (byte i is (i * 7 + i / 251) & 0xff).
python3 -c 'import sys; sys.stdout.buffer.write(bytes(((i * 7 + i // 251) & 0xff) for i in range(300000)))' >tree/big.bin
printf 'long name\n' >"tree/A Long File Name with spaces.txt"
printf 'nested\n' >tree/sub/deeper/n.txt
head -c 60000 tree/big.bin >frag.bin
head -c 20000 tree/big.bin >gap.bin

fat() { # fat BITS SIZE-KIB [SECTOR-SIZE]
	local img=fat$1.img
	[[ ${3:-512} == 512 ]] || img=fat$1-$(($3 / 1024))k.img
	mkfs.vfat -C -F "$1" -s 1 -S "${3:-512}" -n "VLAB$1" -i 1234abcd "$img" "$2" >/dev/null
	mcopy -i "$img" tree/hello.txt tree/big.bin "tree/A Long File Name with spaces.txt" ::/
	mcopy -s -i "$img" tree/sub ::/
	# frag.bin fills the hole gap.bin leaves, then goes on after big.bin's end.
	mcopy -i "$img" gap.bin ::/gap.bin
	mcopy -i "$img" tree/hello.txt ::/after.txt
	mdel -i "$img" ::/gap.bin
	mcopy -i "$img" frag.bin ::/frag.bin
}
fat 12 2048
fat 16 8192
fat 32 34816
# 69632 sectors of 4096 bytes: a FAT32 needs 65525 clusters.
fat 32 278528 4096

# ext only: symlinks and a sparse file.
ln -s hello.txt tree/link
ln -s sub/deeper tree/dlink
ln -s loop tree/loop
for i in 0 1 2 3 4 5; do
	dd if=tree/big.bin of=tree/sparse.bin bs=4096 count=1 skip="$i" seek=$((i * 3)) conv=notrunc status=none
done
ext() { # ext NAME SIZE MKE2FS-ARGS...
	local img=$1.img size=$2
	shift 2
	mke2fs -q -F -U 0c0ffee0-1234-4567-89ab-cdef01234567 -L vlab -d tree "$@" "$img" "$size" >/dev/null
}
ext ext2 4M -t ext2 -b 1024
ext ext3 8M -t ext3 -b 1024
ext ext4 8M -t ext4 -b 1024
ext ext4-64 16M -t ext4 -O 64bit,flex_bg -b 4096
ext ext4-inline 4M -t ext4 -O inline_data -b 1024
rm -f gap.bin frag.bin
echo "$stamp" >.stamp
