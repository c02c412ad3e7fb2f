#!/usr/bin/env python3
"""The QEMU benchmark (issue 15, docs/performance.md): read a 128 MiB disk
with the bare-metal driver and, on the same QEMU, with Debian's U-Boot
(u-boot-qemu) `virtio read`, and print the ratio per target and transport.

usage: qemu-bench.py [--rounds N] [--md] [--only TARGET,TRANSPORT]
  --rounds N   runs of each (default 3); the median is kept
  --md         a markdown table
  --only T,X   one row (aarch64|riscv64, mmio|pci)

U-Boot (which has no timing command in Debian's build) is timed from the
host: from typing the command to its "blocks read: OK" line.  The image
(bootargs vlab.bench, qemu-images/common/main.c) times its read with its
own clock (the architected timer, which under TCG follows the host's
clock) and prints it: a host reading the console late under load would
otherwise see its two lines at once.  The image reads the disk
twice, with its default (device-writable buffers zeroed) and with
vlab_blk_cfg.no_zeroing; U-Boot zeroes nothing.  Needs QEMU, the images
built (cmake --preset riscv64 / aarch64) and u-boot-qemu; exits 77 when
something is missing.  Every wait is bounded.
"""
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISK_BYTES = 128 << 20
TARGETS = {
    "aarch64": {
        "qemu": "qemu-system-aarch64",
        "machine": ["-M", "virt", "-cpu", "cortex-a57", "-m", "512M", "-smp", "1", "-nic", "none"],
        "uboot": ["-bios", "/usr/lib/u-boot/qemu_arm64/u-boot.bin"],
        "image": "build/aarch64/qemu-images/vlab-aarch64.elf",
        "addr": "0x48000000",
    },
    "riscv64": {
        "qemu": "qemu-system-riscv64",
        "machine": ["-M", "virt", "-m", "512M", "-smp", "1", "-nic", "none"],
        "uboot": ["-bios", "default", "-kernel", "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"],
        "image": "build/riscv64/qemu-images/vlab-riscv64.elf",
        "image_args": ["-bios", "none"],
        "addr": "0x88000000",
    },
}
TRANSPORTS = {
    "mmio": ["-global", "virtio-mmio.force-legacy=false", "-device", "virtio-blk-device,drive=d0"],
    "pci": ["-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
}


class Console:
    """QEMU with its serial console on a pipe; lines timestamped as they come."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""

    def until(self, pattern, timeout):
        """Wait for pattern (bytes regex) in the output; the time it came."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return time.monotonic(), m
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r within %ss; last output: %r" % (pattern, timeout, self.buf[-300:]))
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise TimeoutError("QEMU ended before %r; last output: %r" % (pattern, self.buf[-300:]))
                self.buf += chunk

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def qemu_argv(t, x, disk):
    tg = TARGETS[t]
    return ([tg["qemu"]] + tg["machine"] + ["-nographic", "-monitor", "none",
            "-drive", "if=none,id=d0,file=%s,format=raw,readonly=on" % disk] + TRANSPORTS[x])


def uboot_read(t, x, disk):
    """Seconds U-Boot's `virtio read` of the whole disk took."""
    c = Console(qemu_argv(t, x, disk) + TARGETS[t]["uboot"])
    try:
        # Stop the autoboot countdown, then a prompt.
        c.until(rb"Hit any key|=> ", 120)
        c.send("\n")
        c.until(rb"=> ", 60)
        c.send("virtio scan\n")
        c.until(rb"=> ", 60)
        c.send("virtio read %s 0 %x\n" % (TARGETS[t]["addr"], DISK_BYTES // 512))
        t0 = time.monotonic()
        t1, m = c.until(rb"blocks read: (\w+)[^\n]*\n", 300)
        if m.group(1) != b"OK":
            raise RuntimeError("U-Boot: virtio read: %r" % m.group(0))
        return t1 - t0
    finally:
        c.close()


def image_read(t, x, disk):
    """Seconds the image's read took: (zeroed, no-zeroing)."""
    tg = TARGETS[t]
    c = Console(qemu_argv(t, x, disk) + tg.get("image_args", []) +
                ["-semihosting-config", "enable=on,target=native", "-kernel", os.path.join(SRC, tg["image"]),
                 "-append", "vlab.bench"])
    out = {}
    try:
        for mode in ("zeroed", "no-zeroing"):
            c.until(rb"B: begin \S+ " + mode.encode() + rb"\r?\n", 120)
            _, m = c.until(rb"B: end \S+ \S+ (\d+) bytes (\d+) ns: (\S+)\r?\n", 300)
            if m.group(3) != b"ok" or int(m.group(1)) != DISK_BYTES:
                raise RuntimeError("image: %r" % m.group(0))
            out[mode] = int(m.group(2)) * 1e-9
        return out["zeroed"], out["no-zeroing"]
    finally:
        c.close()


def main():
    args = sys.argv[1:]
    rounds, md, only = 3, False, None
    while args:
        a = args.pop(0)
        if a == "--rounds" and args and args[0].isdigit() and int(args[0]) > 0:
            rounds = int(args.pop(0))
        elif a == "--md":
            md = True
        elif a == "--only" and args and len(args[0].split(",")) == 2:
            only = tuple(args.pop(0).split(","))
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print("qemu-bench.py: bad argument %r (see --help)" % a, file=sys.stderr)
            return 2
    rows = [(t, x) for t in TARGETS for x in TRANSPORTS if not only or only == (t, x)]
    if not rows:
        print("qemu-bench.py: --only names no row", file=sys.stderr)
        return 2
    for t, _ in rows:
        tg = TARGETS[t]
        need = [tg["image"] and os.path.join(SRC, tg["image"])] + [p for p in tg["uboot"] if p.startswith("/")]
        missing = [p for p in need if not os.path.exists(p)]
        if subprocess.run(["sh", "-c", "command -v " + tg["qemu"]], capture_output=True).returncode:
            missing.append(tg["qemu"])
        if missing:
            print("qemu-bench.py: missing %s" % ", ".join(missing), file=sys.stderr)
            return 77
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.write(os.urandom(DISK_BYTES))
        load = os.getloadavg()
        if md:
            print("Load average before: %.2f %.2f %.2f; %d rounds, medians; MiB/s of a 128 MiB read.\n" % (load + (rounds,)))
            print("| target | transport | U-Boot MiB/s | vlab MiB/s (zeroed) | ratio | vlab MiB/s (no-zeroing) | ratio |")
            print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        else:
            print("# load average before: %.2f %.2f %.2f; %d rounds, medians" % (load + (rounds,)))
            print("%-8s %-5s %12s %14s %7s %14s %7s" % ("target", "xport", "u-boot-MiB/s", "vlab-zeroed", "ratio",
                                                        "vlab-nozero", "ratio"))
        mib = DISK_BYTES / (1 << 20)
        for t, x in rows:
            ub, z, nz = [], [], []
            for _ in range(rounds):
                ub.append(uboot_read(t, x, disk))
                a, b = image_read(t, x, disk)
                z.append(a)
                nz.append(b)
            u, zz, nn = mib / statistics.median(ub), mib / statistics.median(z), mib / statistics.median(nz)
            fmt = ("| %s | %s | %.0f | %.0f | %.2f | %.0f | %.2f |" if md else
                   "%-8s %-5s %12.0f %14.0f %7.2f %14.0f %7.2f")
            print(fmt % (t, x, u, zz, zz / u, nn, nn / u))
            sys.stdout.flush()
        load = os.getloadavg()
        print("%sLoad average after: %.2f %.2f %.2f" % ("\n" if md else "# ", *load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
