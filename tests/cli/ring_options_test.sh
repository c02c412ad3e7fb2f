#!/usr/bin/env bash
# vlab's ring options on --blk, --blk-ram and --net (QEMU's property names):
# packed=, indirect_desc=, event_idx= change what the model offers, and a
# value other than on or off is refused with a message.  The same for
# vlab-scenario run --ring (the QEMU cross-check's model side: run-matrix.sh's
# ring rows), whose transcript says what the ring used.
#   bash ring_options_test.sh <vlab-binary> <scratch-dir>
# vlab-scenario is the one of the same build (<build>/scenarios/).
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

SCENARIO=$(dirname "$VLAB")/../scenarios/vlab-scenario
[[ -x $SCENARIO ]] || fail "no vlab-scenario beside vlab at $SCENARIO"
# scen <expected-status> args...: vlab-scenario's output in out.txt
scen() {
	local want=$1 got=0
	shift
	"$SCENARIO" "$@" >out.txt 2>&1 </dev/null || got=$?
	[[ $got == "$want" ]] || fail "vlab-scenario $* exited $got, expected $want"
}

check "vlab-scenario run --ring: the model offers what QEMU's properties asked for, the ring runs it"
scen 0 run --scenario net --transport mmio-v2 --model-transport mmio --ring packed=on,event_idx=off
contains "T:   negotiated bit 34 RING_PACKED"
contains "T:   negotiated bit 28 RING_INDIRECT_DESC"
lacks "bit 29 RING_EVENT_IDX"
contains "T: ring rx: packed, event_idx off, indirect tables yes"
contains "T: ring tx: packed, event_idx off, indirect tables yes"

check "a blk request goes through an indirect table when offered, and not when it is not"
"$SCENARIO" mkdisk disk.img
scen 0 run --scenario blk --transport pci --model-transport pci --image disk.img --ring packed=on
contains "T: ring requestq: packed, event_idx on, indirect tables yes"
grep -qE '^T: ring requestq: [0-9]+ chains in [0-9]+ ring slots, [1-9][0-9]* through an indirect table' out.txt ||
	fail "no blk request went through an indirect table"
scen 0 run --scenario blk --transport mmio-v2 --model-transport mmio --image disk.img \
	--ring indirect_desc=off,event_idx=off
contains "T: ring requestq: split, event_idx off, indirect tables no"
contains " 0 through an indirect table"
lacks "bit 28 RING_INDIRECT_DESC"

check "vlab-scenario refuses a --ring word it does not know, with a message"
scen 2 run --scenario net --transport mmio-v2 --model-transport mmio --ring packed=yes
contains "vlab-scenario: --ring: 'packed=yes' is not packed=, indirect_desc= or event_idx= with on or off"
scen 2 run --scenario net --transport mmio-v2 --model-transport mmio --ring event_idx=on,
contains "vlab-scenario: --ring: a trailing comma"

finish
