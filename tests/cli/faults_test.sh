#!/usr/bin/env bash
# vlab under a fault plan (--faults FILE, docs/fault-plans.md).
#   bash faults_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

rd='virtio read 0x80000000 0 1'

check "an I/O error from the plan fails that command only"
printf '# the third request fails\nfault blk_ioerr nth=3\n' >ioerr.plan
run 1 --faults ioerr.plan -c "virtio scan; $rd; $rd; $rd; $rd"
contains "device reported an I/O error"

check "a used ring that lies breaks the device, no violation is blamed on the driver"
printf 'fault used_id value=0xffff nth=2\n' >usedid.plan
run 1 --faults usedid.plan -c "virtio scan; $rd; $rd"
contains "device broke the protocol"

check "a plan for another device leaves device 0 alone"
printf 'fault stall device=1\n' >dev1.plan
run 0 --blk-ram 1M --blk-ram 1M --faults dev1.plan -c "virtio scan; $rd"

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

check "--faults twice is refused"
run 2 --faults ioerr.plan --faults ioerr.plan -c "virtio scan"

echo "all $checks checks passed"
