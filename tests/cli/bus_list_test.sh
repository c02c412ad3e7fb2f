#!/usr/bin/env bash
# `virtio list`: every device on the virtio bus (vlab/bus.h) with its
# driver, whether it is bound, its transport and place, on a machine with
# blk, net and rng on virtio-mmio and virtio-pci; the net and rng commands
# bind their devices through the bus; the handoff at exit resets them all.
#   bash bus_list_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

machine=(--blk-ram 1M --blk-ram 1M,transport=pci --net transport=mmio --net transport=pci
	--rng transport=mmio --rng transport=pci)

check "six devices on two transports, each matched to its driver; disks bound at scan, the rest unbound"
run 0 "${machine[@]}" -c 'virtio list'
contains ' Index  Probed  Device               Driver      Transport  Place'
contains '     0  [ + ]   2 (block)            virtio-blk  mmio       mmio@10001000'
contains '     1  [   ]   1 (network)          virtio-net  mmio       mmio@10002000'
contains '     2  [   ]   4 (entropy)          virtio-rng  mmio       mmio@10003000'
contains '     3  [ + ]   2 (block)            virtio-blk  pci        pci 00:01.0'
contains '     4  [   ]   1 (network)          virtio-net  pci        pci 00:02.0'
contains '     5  [   ]   4 (entropy)          virtio-rng  pci        pci 00:03.0'
[[ $(grep -c 'virtio-' out.txt) == 6 ]] || fail "expected six devices"

check "net and rng bind their own device through the bus (listed in the order found), and no other"
run 0 "${machine[@]}" -c 'net info 1; rng 0 4; virtio list'
contains '     0  [ + ]   1 (network)          virtio-net  pci        pci 00:02.0'
contains '     1  [ + ]   4 (entropy)          virtio-rng  mmio       mmio@10003000'
contains '[   ]   1 (network)          virtio-net  mmio       mmio@10002000'
contains '[   ]   4 (entropy)          virtio-rng  pci        pci 00:03.0'
[[ $(grep -cF '[ + ]' out.txt) == 4 ]] || fail "expected the two disks, net 1 and rng 0 bound"

finish
