#!/usr/bin/env python3
"""Capture U-Boot's `pci` and `pci 1` on QEMU's x86 machines (the
transcripts cli.pci_machine_test compares vlab with).

usage: capture.py MACHINE OUT DEVICE [DEVICE...] [-- CMD...]
  MACHINE  pc or q35
  OUT      the transcript: from the `=> pci` prompt on, ANSI and CR removed
  DEVICE   -device values, the disk's with drive=d0, e.g. virtio-blk-pci,drive=d0
           (add ,disable-legacy=on for the modern device ID)
  CMD      the commands typed, first `pci` (default: pci, "pci 1")

The committed transcripts:
  capture.py pc qemu-x86_64-pc.txt virtio-blk-pci,drive=d0
  capture.py pc qemu-x86_64-pc-modern.txt virtio-blk-pci,drive=d0,disable-legacy=on
  capture.py q35 qemu-x86_64-q35.txt virtio-blk-pci,drive=d0
  capture.py q35 qemu-x86_64-q35-root-port.txt pcie-root-port,id=rp,chassis=1 \
      virtio-blk-pci,drive=d0,bus=rp -- pci "pci 1" "pci 0"

Needs qemu-system-x86_64 (Debian qemu-system-x86) and
/usr/lib/u-boot/qemu-x86_64/u-boot.rom (Debian u-boot-qemu).  Every wait
is bounded; exits 1 when U-Boot's prompt does not come.
"""
import os
import re
import select
import subprocess
import sys
import tempfile
import time

ROM = "/usr/lib/u-boot/qemu-x86_64/u-boot.rom"


def main():
    args = sys.argv[1:]
    cmds = ["pci", "pci 1"]
    if "--" in args:
        cmds = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    if len(args) < 3 or not cmds or cmds[0] != "pci":
        sys.exit(__doc__)
    machine, out, devices = args[0], args[1], args[2:]
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-machine", machine, "-m", "256", "-bios", ROM,
             "-nographic", "-vga", "none", "-nic", "none", "-no-reboot",
             "-drive", "if=none,id=d0,format=raw,file=" + disk]
            + [a for d in devices for a in ("-device", d)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seen = bytearray()

        def until_prompt(start, seconds):
            end = time.time() + seconds
            while time.time() < end:
                ready, _, _ = select.select([qemu.stdout], [], [], 1)
                if ready:
                    data = os.read(qemu.stdout.fileno(), 4096)
                    if not data:
                        return False
                    seen.extend(data)
                    if b"=> " in seen[start:]:
                        return True
            return False

        try:
            if not until_prompt(0, 120):
                sys.exit("capture.py: no U-Boot prompt")
            for cmd in (c.encode() + b"\n" for c in cmds):
                mark = len(seen)
                qemu.stdin.write(cmd)
                qemu.stdin.flush()
                time.sleep(0.5)
                if not until_prompt(mark + len(cmd), 30):
                    sys.exit("capture.py: no prompt after " + cmd.decode().strip())
        finally:
            qemu.kill()
            qemu.wait()
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", seen.decode("utf-8", "replace"))
    text = text.replace("\r", "")
    text = text[text.index("=> pci\n"):]
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
