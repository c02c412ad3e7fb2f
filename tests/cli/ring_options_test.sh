#!/usr/bin/env bash
# vlab's ring options on --blk, --blk-ram and --net (QEMU's property names):
# packed=, indirect_desc=, event_idx= change what the model offers, and a
# value other than on or off is refused with a message.
#   bash ring_options_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

check "the plain model offers none of the three; the options add them"
run 0 --blk-ram 1M -c 'virtio features'
lacks "RING_PACKED"
lacks "RING_INDIRECT_DESC"
lacks "RING_EVENT_IDX"
run 0 --blk-ram 1M,packed=on,indirect_desc=on,event_idx=on -c 'virtio features'
contains "34  RING_PACKED          offered"
contains "28  RING_INDIRECT_DESC   offered"
contains "29  RING_EVENT_IDX       offered"

check "the QEMU profile's defaults (indirect_desc and event_idx on, packed off) can be turned off"
run 0 --blk-ram 1M,qemu -c 'virtio features'
contains "28  RING_INDIRECT_DESC   offered"
lacks "RING_PACKED"
run 0 --blk-ram 1M,qemu,indirect_desc=off,event_idx=off,packed=on -c 'virtio features'
lacks "RING_INDIRECT_DESC"
lacks "RING_EVENT_IDX"
contains "34  RING_PACKED          offered"

check "the last word for a key wins"
run 0 --blk-ram 1M,packed=on,packed=off -c 'virtio features'
lacks "RING_PACKED"

check "a value other than on or off is refused"
run 2 --blk-ram 1M,packed=yes -c 'virtio features'
contains "'packed=yes': a ring option takes on or off"
run 2 --net event_idx=1 -c 'net info'
contains "vlab: --net: 'event_idx=1': a ring option takes on or off"

check "--net takes them too"
run 0 --net packed=on,backend=loop -c 'net info'

finish
