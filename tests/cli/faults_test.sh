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
run 0 --faults down.plan --net backend=wire --net backend=wire -c 'virtio scan; net send 0 bcast 60 3; net info 0'
contains "network device, driven by the 'net' commands (net info)"
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
