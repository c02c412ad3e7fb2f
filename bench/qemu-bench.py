#!/usr/bin/env python3
"""The QEMU benchmark (issue 15, docs/performance.md): read a 128 MiB disk
with the bare-metal driver and, on the same QEMU, with Debian's U-Boot
(u-boot-qemu) `virtio read`, and print the ratio per target and transport.

usage: qemu-bench.py [--rounds N] [--md] [--only TARGET,TRANSPORT] [--disk-mib N]
  --rounds N     runs of each (default 3); the median is kept
  --md           a markdown table
  --only T,X     one row (aarch64|riscv64, mmio|pci)
  --disk-mib N   the disk's size (default 128; 1 to 128)

U-Boot (which has no timing command in Debian's build) is timed from the
host: from typing the command to its "blocks read: OK" line, less the
console's round trip (the least of three `echo` commands timed the same
way).  The image
(bootargs vlab.bench, qemu-images/common/main.c) times its read with its
own clock (the architected timer, which under TCG follows the host's
clock) and prints it: a host reading the console late under load would
otherwise see its two lines at once.  Both read the disk more than
once into the same RAM: the first read of a boot ("cold") pays the
host's first touch of the guest memory it lands in, the next ones
("warm") do not; cold is compared with cold, warm with warm.  U-Boot
reads twice; the image reads cold and warm with its default (which on
these images zeroes no read buffer: their platform says the device reads
all memory, VLAB_PLAT_DMA_ALL_MEMORY), then warm with vlab_blk_cfg.zeroing
(each read buffer zeroed before it is posted); U-Boot zeroes nothing.  Needs QEMU, the images
built (cmake --preset riscv64 / aarch64) and u-boot-qemu; exits 77 when
something is missing (1 with CI=true).  Every wait is bounded.
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


def uboot_read(t, x, disk, nbytes):
    """Seconds U-Boot's `virtio read` of the whole disk took: (cold, warm)."""
    c = Console(qemu_argv(t, x, disk) + TARGETS[t]["uboot"])
    try:
        # Stop the autoboot countdown, then a prompt.
        c.until(rb"Hit any key|=> ", 120)
        c.send("\n")
        c.until(rb"=> ", 60)
        c.send("virtio scan\n")
        c.until(rb"=> ", 60)
        # The console's round trip (a command typed, its output read back),
        # the least of three: taken off U-Boot's times, which include it.
        rtt = []
        for k in range(3):
            c.send("echo rtt%d\n" % k)
            t0 = time.monotonic()
            t1, _ = c.until(rb"\nrtt%d\r?\n" % k, 60)
            rtt.append(t1 - t0)
            c.until(rb"=> ", 60)
        took = []
        for _ in range(2):
            c.send("virtio read %s 0 %x\n" % (TARGETS[t]["addr"], nbytes // 512))
            t0 = time.monotonic()
            t1, m = c.until(rb"blocks read: (\w+)[^\n]*\n", 300)
            if m.group(1) != b"OK":
                raise RuntimeError("U-Boot: virtio read: %r" % m.group(0))
            took.append(max(t1 - t0 - min(rtt), 1e-6))
            c.until(rb"=> ", 60)
        return took[0], took[1]
    finally:
        c.close()


def image_read(t, x, disk, nbytes):
    """Seconds the image's reads took: (cold, warm, zeroed)."""
    tg = TARGETS[t]
    c = Console(qemu_argv(t, x, disk) + tg.get("image_args", []) +
                ["-semihosting-config", "enable=on,target=native", "-kernel", os.path.join(SRC, tg["image"]),
                 "-append", "vlab.bench"])
    out = {}
    try:
        for mode in ("cold", "warm", "zeroed"):
            c.until(rb"B: begin \S+ " + mode.encode() + rb"\r?\n", 120)
            _, m = c.until(rb"B: end \S+ \S+ (\d+) bytes (\d+) ns: (\S+)\r?\n", 300)
            if m.group(3) != b"ok" or int(m.group(1)) != nbytes:
                raise RuntimeError("image: %r" % m.group(0))
            out[mode] = int(m.group(2)) * 1e-9
        return out["cold"], out["warm"], out["zeroed"]
    finally:
        c.close()


def main():
    args = sys.argv[1:]
    rounds, md, only, disk_mib = 3, False, None, DISK_BYTES >> 20
    while args:
        a = args.pop(0)
        if a == "--rounds" and args and args[0].isdigit() and int(args[0]) > 0:
            rounds = int(args.pop(0))
        elif a == "--disk-mib" and args and args[0].isdigit() and 1 <= int(args[0]) <= DISK_BYTES >> 20:
            disk_mib = int(args.pop(0))
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
            # In CI everything is installed and built first: missing is a failure.
            return 1 if os.environ.get("CI") == "true" else 77
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.write(os.urandom(disk_mib << 20))
        load = os.getloadavg()
        cols = ("U-Boot cold", "vlab cold", "ratio", "U-Boot warm", "vlab warm", "ratio",
                "vlab warm (zeroing)", "ratio")
        if md:
            print("Load average before: %.2f %.2f %.2f; %d rounds, medians; MiB/s of a %d MiB read (cold: the "
                  "first read of a boot, warm: the next, into the same RAM).\n" % (load + (rounds, disk_mib)))
            print("| target | transport | " + " | ".join(cols) + " |")
            print("| --- | --- |" + " ---: |" * len(cols))
        else:
            print("# load average before: %.2f %.2f %.2f; %d rounds, medians; MiB/s of a %d MiB read"
                  % (load + (rounds, disk_mib)))
            print("%-8s %-5s %8s %8s %6s %8s %8s %6s %8s %6s" % ("target", "xport", "ub-cold", "vl-cold", "ratio",
                                                              "ub-warm", "vl-warm", "ratio", "vl-zero", "ratio"))
        for t, x in rows:
            ubc, ubw, vc, vw, vz = [], [], [], [], []
            for _ in range(rounds):
                a, b = uboot_read(t, x, disk, disk_mib << 20)
                ubc.append(a)
                ubw.append(b)
                a, b, c = image_read(t, x, disk, disk_mib << 20)
                vc.append(a)
                vw.append(b)
                vz.append(c)
            rate = [disk_mib / statistics.median(v) for v in (ubc, vc, ubw, vw, vz)]
            vals = (rate[0], rate[1], rate[1] / rate[0], rate[2], rate[3], rate[3] / rate[2], rate[4],
                    rate[4] / rate[2])
            fmt = ("| %s | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %.0f | %.2f |" if md else
                   "%-8s %-5s %8.0f %8.0f %6.2f %8.0f %8.0f %6.2f %8.0f %6.2f")
            print(fmt % ((t, x) + vals))
            sys.stdout.flush()
        load = os.getloadavg()
        print("%sLoad average after: %.2f %.2f %.2f" % ("\n" if md else "# ", *load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
