#!/usr/bin/env bash
# vlab --machine: the pci listing on the pc and q35 profiles is, line for
# line, what U-Boot's `pci` printed on QEMU 7.2 with the same devices
# (transcripts in tests/cli/uboot/, captured by tests/cli/uboot/capture.py
# from Debian's u-boot-qemu, qemu-x86_64/u-boot.rom); a bad --machine is a
# usage error; a disk on the pc profile works through the 0xCF8 ports and
# port I/O; a disk behind a pcie-root-port (bridge=root-port) is found.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" "$@"

# same_as TRANSCRIPT [CMD]: out.txt equals what U-Boot printed in
# TRANSCRIPT (the lines after each `=> ` command; with CMD, after that one
# only).
same_as() {
	awk -v cmd="${2:-}" '/^=> /{on = (cmd == "" || $0 == "=> " cmd); next} on' "$here/uboot/$1" > want.txt
	diff -u want.txt out.txt > diff.txt || fail "vlab's pci differs from U-Boot's ($1): $(cat diff.txt)"
}

check "--machine pc, transitional disk: pci and pci 1 as U-Boot's on qemu-x86_64 pc"
run 1 --machine pc --blk-ram 1M,transport=pci-transitional -c 'pci; pci 1'
same_as qemu-x86_64-pc.txt

check "--machine pc, modern disk (disable-legacy=on): pci as U-Boot's"
run 1 --machine pc --blk-ram 1M,transport=pci -c 'pci; pci 1'
same_as qemu-x86_64-pc-modern.txt

check "--machine q35: pci as U-Boot's on qemu-x86_64 q35"
run 1 --machine q35 --blk-ram 1M,transport=pci-transitional -c 'pci; pci 1'
same_as qemu-x86_64-q35.txt

check "--machine q35, disk behind a pcie-root-port: bus 0 as U-Boot's pci 0"
run 0 --machine q35 --blk-ram 1M,transport=pci-transitional,bridge=root-port -c 'pci 0'
same_as qemu-x86_64-q35-root-port.txt "pci 0"

check "--machine q35, disk behind a pcie-root-port: found on bus 1 and read (U-Boot 2023.01 does not)"
run 0 --machine q35 --blk-ram 1M,transport=pci-transitional,bridge=root-port -c 'pci 1; virtio scan; virtio read 0x80000000 0 1; virtio features'
contains "01.00.00   0x1af4     0x1001     Mass storage controller 0x00"
contains "1 blocks read: OK"
contains "virtio 0: pci 01:00.0 (1af4:1001), modern interface"
grep -qx "No such bus" "$here/uboot/qemu-x86_64-q35-root-port.txt" || fail "the transcript should show U-Boot not finding bus 1"

check "bridge= needs a PCI transport; an unknown bridge is a usage error"
run 2 --blk-ram 1M,bridge=root-port -c 'pci'
contains "bridge= needs a PCI transport"
run 2 --blk-ram 1M,transport=pci,bridge=isa -c 'pci'
contains "unknown bridge 'isa' (pci-bridge, root-port)"

check "--machine pc: the disk is read and written through port I/O"
run 0 --machine pc --blk-ram 1M,transport=pci-legacy -c 'virtio scan; mw 0x80000000 0x5a5a5a5a 0x80; virtio write 0x80000000 2 1; virtio read 0x80001000 2 1; cmp 0x80000000 0x80001000 0x80'
contains "Total of 128 word(s) were the same"

check "--machine virt is the default listing (GPEX host bridge 1b36:0008)"
run 0 --machine virt --blk-ram 1M,transport=pci -c 'pci'
contains "00.00.00   0x1b36     0x0008     Bridge device"

check "an unknown --machine is a usage error naming the choices"
run 2 --machine isa -c 'pci'
contains "unknown machine 'isa' (virt, pc, q35)"

check "--machine twice is a usage error"
run 2 --machine pc --machine q35 -c 'pci'
contains "--machine given twice"

finish
