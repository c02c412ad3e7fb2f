#!/usr/bin/env python3
"""Filesystem and partition commands compared with U-Boot itself (CTest
label uboot): one boot of Debian's U-Boot (u-boot-qemu, qemu_arm64) in QEMU
with six virtio disks this script makes, the lines of fs-lines.txt typed
at its prompt, the same lines run by vlab on the same disks, and the
answers compared line by line.

The sixth disk has 4096-byte logical blocks (QEMU's logical_block_size=4096,
the same words after vlab's --blk): gpt.img again, made for 4096-byte
sectors.  U-Boot 2023.01 cannot read it (its virtio-blk ignores blk_size
and sends 512-byte reads, which QEMU fails); U-Boot since 2026.01 reads it
in blocks of blk_size, and then answers as on the 512-byte gpt.img.  So a
line "LINE ~ TWIN" of fs-lines.txt is run by vlab as LINE and typed into
U-Boot as TWIN (the same command on gpt.img), and the answers must match.

usage: fs_compare.py VLAB WORKDIR

Each line is run as "LINE; echo st=$?" (the exit status is compared too).
Normalised on both sides, and nothing else: the time of a load ("N bytes
read in T ms (R/s)" keeps "N bytes read"), the address column of md (U-Boot's
RAM is at 0x40000000, vlab's at 0x80000000).  fs-differences.txt lists
vlab's deliberate differences (docs/vlab.md, "Filesystems: U-Boot
differences", says why): a "=> " line, then vlab's answer.  Exits 1 on a
mismatch or a listed difference that is none, 77 (skipped) when QEMU,
U-Boot, sfdisk or the filesystem tools are missing.
"""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli", "uboot"))
from compare_shell import blocks, differences  # noqa: E402

MARK = "@@vlab-compare@@"
BIOS = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
MIB = 1024 * 1024


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def put(img, fs, lba, bsize=512):
    with open(fs, "rb") as src, open(img, "r+b") as dst:
        dst.seek(lba * bsize)
        dst.write(src.read())


def table(img, mib, script):
    with open(img, "wb") as f:
        f.truncate(mib * MIB)
    run("sfdisk", "-q", "--no-tell-kernel", img, input=script.encode())


# gpt.img's table (and gpt4k.img's): start and size of each partition.
GPT_SCRIPT = ("label: gpt\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\n"
              "start=%d,size=%d,type=0FC63DAF-8483-4772-8E79-3D69D8477DE4,"
              "uuid=11111111-2222-3333-4444-555555555555,name=root\n"
              "start=%d,size=%d,type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B,"
              "uuid=66666666-7777-8888-9999-AAAAAAAAAAAA,name=esp\n")
# A disk of 4096-byte logical blocks, as QEMU presents it with these
# properties of virtio-blk (and vlab's --blk with the same words).
LBS4K = "logical_block_size=4096,physical_block_size=4096"


def gpt4k(work, fs):
    """gpt.img again for 4096-byte sectors (the same GUIDs and names, the
    partitions in 4096-byte blocks: fdisk -b 4096 loading an sfdisk script,
    sfdisk 2.38 has no --sector-size): 1 the 64-bit ext4, 2 a FAT32 of
    4096-byte sectors with gpt.img's files, written in the same order."""
    img = os.path.join(work, "gpt4k.img")
    script = os.path.join(work, "gpt4k.sfdisk")
    with open(script, "w") as f:
        f.write(GPT_SCRIPT % (256, 4096, 4352, 69632))
    with open(img, "wb") as f:
        f.truncate(300 * MIB)
    run("fdisk", "-b", "4096", img, input=("I\n%s\nw\n" % script).encode(),
        stdout=subprocess.DEVNULL)
    put(img, os.path.join(fs, "ext4-64.img"), 256, 4096)
    put(img, os.path.join(fs, "fat32-4k.img"), 4352, 4096)
    return img + "," + LBS4K


def make_disks(work):
    """The six disks of fs-lines.txt, in virtio order (an image, then the
    properties of its device when it has any)."""
    fs = os.path.join(work, "fs")
    rc = subprocess.run(["bash", os.path.join(HERE, "..", "fs", "make_images.sh"), fs]).returncode
    if rc:
        sys.exit(rc)
    d = lambda n: os.path.join(work, n)  # noqa: E731
    f = lambda n: os.path.join(fs, n)  # noqa: E731
    table(d("mbr.img"), 20, "label: dos\nlabel-id: 0x1234abcd\n"
          "start=2048,size=16384,type=e,bootable\nstart=18432,size=16384,type=83\n")
    put(d("mbr.img"), f("fat16.img"), 2048)
    put(d("mbr.img"), f("ext4.img"), 18432)
    table(d("gpt.img"), 56, GPT_SCRIPT % (2048, 32768, 34816, 69632))
    put(d("gpt.img"), f("ext4-64.img"), 2048)
    put(d("gpt.img"), f("fat32.img"), 34816)
    shutil.copyfile(f("fat12.img"), d("super.img"))
    # A GPT disk whose headers (primary and backup) are gone: only the
    # protective MBR and the partitions' contents are left.
    table(d("pmbr.img"), 30, "label: gpt\nstart=2048,size=16384\n")
    put(d("pmbr.img"), f("ext4.img"), 2048)
    with open(d("pmbr.img"), "r+b") as img:
        for lba in (1, 30 * 2048 - 1):
            img.seek(lba * 512)
            img.write(bytes(512))
    shutil.copyfile(f("ext2.img"), d("sext.img"))
    return [d(n) for n in ("mbr.img", "gpt.img", "super.img", "pmbr.img", "sext.img")] + [gpt4k(work, fs)]


def normalise(lines):
    out = []
    for line in lines:
        line = re.sub(r"^(\d+ bytes read) in \d+ ms( \(.*\))?$", r"\1", line)
        line = re.sub(r"^[0-9a-f]{8}:", "ADDR:", line)
        out.append(line)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vlab, work = sys.argv[1:]
    os.environ["PATH"] += ":/usr/sbin:/sbin"
    for need in ("sfdisk", "fdisk", "qemu-system-aarch64", BIOS):
        if not shutil.which(need) and not os.path.exists(need):
            print("fs_compare.py: %s is not installed (Debian: fdisk, qemu-system-arm, u-boot-qemu)" % need)
            sys.exit(77)
    os.makedirs(work, exist_ok=True)
    disks = make_disks(work)
    # "LINE ~ TWIN": vlab runs LINE, U-Boot TWIN (a line on the disk of
    # 4096-byte blocks, asked of U-Boot on its 512-byte twin).
    pairs = [l.partition(" ~ ") for l in open(os.path.join(HERE, "fs-lines.txt")).read().split("\n")
             if l and not l.startswith("#")]
    lines = [p[0] for p in pairs]
    twins = [p[2] or p[0] for p in pairs]
    typed = "".join(l + "; echo st=$?\n" for l in twins)
    transcript = os.path.join(work, "uboot.txt")
    t0 = time.time()
    rc = subprocess.run([sys.executable, os.path.join(HERE, "..", "cli", "uboot", "capture_shell.py"),
                         transcript] + disks,
                        input=typed.encode()).returncode
    if rc:
        sys.exit(rc)
    print("U-Boot answered %d lines in %.1f s" % (len(lines), time.time() - t0))
    bl = blocks(transcript)
    diff = differences(os.path.join(HERE, "fs-differences.txt"))
    args = [vlab]
    for disk in disks:
        args += ["--blk", disk]
    script = "".join(l + "; echo st=$?\necho " + MARK + "\n" for l in lines)
    got_all = subprocess.run(args, input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=120).stdout
    with open(os.path.join(work, "vlab.txt"), "w") as f:
        f.write(got_all)
    answers = got_all.split(MARK + "\n")
    if len(bl) != len(lines) or len(answers) != len(lines) + 1:
        sys.exit("FAIL: %d lines, U-Boot answered %d, vlab %d (%s)" %
                 (len(lines), len(bl), len(answers) - 1, work))
    seen, bad = set(), 0
    for line, twin, (_, uboot), got in zip(lines, twins, bl, answers):
        key = line + "; echo st=$?"
        got = normalise(got.rstrip("\n").split("\n") if got.rstrip("\n") else [])
        while uboot and uboot[-1] in ("", "=>"):  # the last, empty prompt
            uboot = uboot[:-1]
        want = uboot = normalise(uboot)
        if key in diff:
            seen.add(key)
            want = normalise(diff[key])
            if want == uboot:
                print("FAIL: '%s' is listed as a difference but vlab must answer as U-Boot" % key)
                bad += 1
        if got != want:
            print("FAIL: '%s'\n  U-Boot%s%s:\n    %s\n  vlab:\n    %s" %
                  (key, " to '%s'" % twin if twin != line else "",
                   " (deliberate difference)" if key in diff else "",
                   "\n    ".join(want), "\n    ".join(got)))
            bad += 1
    missing = set(diff) - seen
    if missing:
        print("FAIL: differences listed for lines not typed: %s" % sorted(missing))
        bad += 1
    print("%d lines compared with U-Boot, %d listed differences, %d mismatches" %
          (len(lines), len(diff), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
