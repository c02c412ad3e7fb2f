#!/usr/bin/env bash
# vlab under a fault plan (--faults FILE, docs/fault-plans.md).
#   bash faults_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

rd='virtio read 0x80000000 0 1'

ok='1 blocks read: OK'
err='0 blocks read: ERROR (device reported an I/O error)'

check "an I/O error from the plan fails that command only: the reads after it run and succeed"
printf '# the third request fails\nfault blk_ioerr nth=3\n' >ioerr.plan
run 1 --faults ioerr.plan -c "virtio scan; $rd; $rd; $rd; $rd"
lines_in_order "$ok" "$ok" "$err" "$ok"
[[ $(grep -c 'blocks read:' out.txt) == 4 ]] || fail "expected 4 reads"

check "two lines of one kind count on their own: nth=7 and nth=14 fail reads 7 and 14"
printf 'fault blk_ioerr nth=7\nfault blk_ioerr nth=14\n' >two.plan
cmds="virtio scan"
for i in $(seq 15); do cmds+="; $rd"; done
run 1 --faults two.plan -c "$cmds"
lines_in_order "$ok" "$ok" "$ok" "$ok" "$ok" "$ok" "$err" "$ok" "$ok" "$ok" "$ok" "$ok" "$ok" "$err" "$ok"
[[ $(grep -c 'blocks read:' out.txt) == 15 ]] || fail "expected 15 reads"

check "a used ring that lies breaks the device, no violation is blamed on the driver"
printf 'fault used_id value=0xffff nth=2\n' >usedid.plan
run 1 --faults usedid.plan -c "virtio scan; $rd; $rd"
lines_in_order "$ok" "0 blocks read: ERROR (device broke the protocol)"
lacks "violation"

check "a plan for another device leaves device 0 alone, and does reach device 1"
printf 'fault stall device=1\n' >dev1.plan
run 0 --blk-ram 1M --blk-ram 1M --faults dev1.plan -c "virtio scan; $rd"
contains "$ok"
run 1 --blk-ram 1M --blk-ram 1M --faults dev1.plan -c "virtio scan; $rd; virtio device 1; $rd"
lines_in_order "device 0 block # 0, count 1 ... $ok" "device 1 block # 0" "0 blocks read: ERROR (device timed out)"

check "virtio scan resets and initialises again a disk that broke; the reads after it work"
run 1 --faults usedid.plan -c "virtio scan; $rd; $rd || echo BROKEN; $rd || echo STILL-BROKEN; virtio scan; $rd"
lines_in_order "$ok" "ERROR (device broke the protocol)" "BROKEN" "STILL-BROKEN" \
	"virtio 0: was broken (used.id out of range): reset and initialised again" "$ok"

check "virtio scan brings back a disk that needs a reset, and leaves a healthy one alone"
# Device 0 would not finish a second reset: a scan that touched it would fail.
printf 'fault reset_stuck nth=2 device=0\nfault needs_reset nth=2 device=1\n' >nr.plan
run 1 --blk-ram 1M --blk-ram 1M --faults nr.plan -c \
	"virtio device 1; $rd; $rd || echo NEEDS-RESET; virtio scan; $rd; virtio device; virtio device 0; $rd"
lines_in_order "device 1 block # 0, count 1 ... $ok" "ERROR (device needs a reset)" "NEEDS-RESET" \
	"virtio 1: was broken (blk: device needs a reset): reset and initialised again" "device 1 block # 0, count 1 ... $ok" \
	"virtio device 1:" "device 0 block # 0, count 1 ... $ok"
lacks "virtio 0:"

check "a disk that fails its new initialisation stays listed, as failed, until a scan brings it back"
printf 'fault used_id value=0xffff nth=2\nfault features_ok_refused nth=2\n' >reinit.plan
run 1 --faults reinit.plan -c "$rd; $rd; virtio scan; virtio info; $rd; virtio scan; $rd"
lines_in_order "$ok" "ERROR (device broke the protocol)" \
	"virtio 0: was broken (used.id out of range): initialising it again failed:" \
	"Device 0: QEMU VirtIO Block Device" "            not usable: initialising it again failed" \
	"0 blocks read: ERROR (not usable: initialising it again failed: not supported; 'virtio scan' tries again)" \
	"virtio 0: was not usable (initialising it again failed: not supported): reset and initialised again" "$ok"

check "a disk that does not acknowledge the reset keeps its memory and stays failed; later scans retry"
printf 'fault used_id value=0xffff nth=2\nfault reset_stuck nth=2 count=2\n' >wedged.plan
run 1 --faults wedged.plan -c "$rd; $rd; virtio scan; $rd; virtio scan; virtio scan; $rd"
# The second read breaks the device, whose reset (the driver stopping it)
# does not complete: the read says so, and names the memory at risk.
lines_in_order "$ok" "ERROR (device could not be stopped; its buffers stay with the driver)" \
	"** the device may still write 0x80000000..0x800001ff: do not rely on that memory **" \
	"virtio 0: was broken (used.id out of range): it does not finish a reset: its memory stays reserved" \
	"0 blocks read: ERROR (not usable: it does not finish a reset; 'virtio scan' tries again)" \
	"virtio 0: was not usable (it does not finish a reset): reset and initialised again" "$ok"

check "virtio scan resets and initialises again a NIC that broke"
printf 'fault used_len value=1 queue=1 nth=2 device=1\n' >nic.plan
run 1 --faults nic.plan --net backend=loop -c \
	'net send 0 self 3c; net send 0 self 3c; net send 0 self 3c || echo BROKEN; virtio scan; net send 0 self 3d; net recv 0'
# The second transmit completion lies; the third send finds it out.
lines_in_order "net 0: sent 1 frame of 60 bytes" "net 0: sent 1 frame of 60 bytes" "device broke the protocol" "BROKEN" \
	"net 0: was broken (used.len above the writable bytes posted): reset and initialised again" \
	"net 0: sent 1 frame of 61 bytes" "net 0: 61 bytes" "net 0: 1 frame received"

check "a device index beyond the machine is refused"
run 2 --faults dev1.plan -c "virtio scan"
contains "dev1.plan:1: device=1, but the machine has 1 device"

check "a malformed plan is refused with file:line and the reason"
printf 'fault blk_ioerr\nfault blk_ioerr nth=x\n' >bad.plan
run 2 --faults bad.plan -c "virtio scan"
contains "vlab: --faults: bad.plan:2: nth: 'x' is not a number"

check "an unknown kind lists the known ones"
printf 'fault nope\n' >bad2.plan
run 2 --faults bad2.plan -c "virtio scan"
contains "unknown fault kind 'nope' (known: blk_ioerr,"

check "a missing plan file is named"
run 2 --faults missing.plan -c "virtio scan"
contains "missing.plan: cannot read"

check "a NIC whose link drops under a plan: frames from then on are dropped, the driver sees it"
# Device 0 is the default disk, 1 and 2 the NICs (net info names them).
printf 'fault link_down nth=2 device=1\n' >down.plan
run 0 --faults down.plan --net backend=wire --net backend=wire -c 'virtio scan; net send 0 bcast 3c 3; net info 0'
contains "network device, driven by the 'net' command (virtio-net)"
contains "backend wire, device 1"
contains "link down"
contains "device dropped: not_ready 0 link_down 2"

check "a link that comes back: the ping loses one echo only"
printf 'fault link_down nth=2 value=500000 device=1\n' >flap.plan
run 1 --faults flap.plan --net backend=wire --net backend=wire -c 'net ping 0 1 3'
contains "no reply for icmp_seq=1"
contains "3 packets transmitted, 2 received, 33% packet loss"

check "--faults twice is refused"
run 2 --faults ioerr.plan --faults ioerr.plan -c "virtio scan"

finish
