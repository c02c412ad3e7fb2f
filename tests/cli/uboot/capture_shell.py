#!/usr/bin/env python3
"""Type shell lines into U-Boot (Debian u-boot-qemu, qemu_arm64) and keep
what it answered: the transcript cli.shell_test compares vlab with.

usage: capture_shell.py OUT [IMAGE...] < LINES
  LINES  one line typed per line of stdin (a line of an if/fi block gets
         U-Boot's continuation prompt '> ')
  OUT    the transcript from the first prompt on, ANSI and CR removed
  IMAGE  raw disk images, attached read-only as virtio-blk-device (mmio)
         in the order U-Boot numbers them (virtio 0 is the first);
         IMAGE,PROPS gives the device QEMU's properties PROPS
         (logical_block_size=4096,...)

Needs qemu-system-aarch64 (Debian qemu-system-arm) and
/usr/lib/u-boot/qemu_arm64/u-boot.bin.  Every wait is bounded; exits 1
when a prompt does not come.
"""
import os
import re
import select
import subprocess
import sys
import time

BIOS = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lines = [l.rstrip("\n") for l in sys.stdin]
    disks = []
    # QEMU gives the last virtio-mmio slot to the first device, and U-Boot
    # numbers the slots from the lowest address: the reverse order.
    for i, arg in reversed(list(enumerate(sys.argv[2:]))):
        image, _, props = arg.partition(",")
        disks += ["-drive", "if=none,format=raw,readonly=on,id=d%d,file=%s" % (i, image),
                  "-device", "virtio-blk-device,drive=d%d%s" % (i, "," + props if props else "")]
    qemu = subprocess.Popen(
        ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57", "-m", "256",
         "-bios", BIOS, "-nographic", "-nic", "none", "-no-reboot"] + disks,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = bytearray()

    def until_prompt(start, seconds):
        # Done when the output ends with a prompt and nothing more comes for
        # a while: 50 ms after a prompt at the start of a line ("\n=> ", or
        # the continuation prompt "\n> "), 0.3 s after any other "> ".
        end = time.time() + seconds
        while time.time() < end:
            quiet = 0.05 if seen[start:].endswith(b"\n> ") or seen[start:].endswith(b"\n=> ") else 0.3
            ready, _, _ = select.select([qemu.stdout], [], [], quiet)
            if ready:
                data = os.read(qemu.stdout.fileno(), 4096)
                if not data:
                    return False
                seen.extend(data)
            elif seen[start:].endswith(b"> "):
                return True
        return False

    try:
        # Stop autoboot at once, then wait for the prompt.
        end = time.time() + 120
        while b"=> " not in seen and time.time() < end:
            qemu.stdin.write(b"\n")
            qemu.stdin.flush()
            until_prompt(len(seen), 1)
        if b"=> " not in seen:
            sys.exit("capture_shell.py: no U-Boot prompt")
        first = seen.rfind(b"=> ")
        for line in lines:
            mark = len(seen)
            qemu.stdin.write(line.encode() + b"\n")
            qemu.stdin.flush()
            if not until_prompt(mark + len(line), 30):
                sys.exit("capture_shell.py: no prompt after " + line)
    finally:
        qemu.kill()
        qemu.wait()
    text = seen[first:].decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
    with open(sys.argv[1], "w") as f:
        f.write(text.rstrip() + "\n")


if __name__ == "__main__":
    main()
