#!/usr/bin/env bash
# vlab --record FILE and vlab replay FILE (docs/vlab.md "Record and replay"):
# for a few vlab command lines (a disk on mmio-legacy, on pci, two disks on
# different transports, one read of 2 MiB, a ping over two NICs, a fault plan, commands from
# stdin) the replay exits 0 and prints the recorded run's stdout, without
# the disk image; two recordings are byte-identical.  An edited trace is a
# divergence at the edited line (exit 1); a bad trace, or a header vlab
# cannot rebuild, is FILE:LINE: reason (exit 2); vlab and vlab-scenario
# refuse each other's traces.
# Arguments: <vlab> <scratch-dir> <vlab-scenario>
set -euo pipefail
SCENARIO=${3:?usage: $0 <vlab> <scratch-dir> <vlab-scenario>}
. "$(dirname "$0")/../cli/lib.sh" "$1" "$2"

# record NAME STATUS ARGS...: vlab --record NAME.trace ARGS, stdout in
# NAME.out, exit STATUS (stdin: NAME.in when it exists).
record() {
	local name=$1 want=$2 got=0 in=/dev/null
	shift 2
	[[ -f $name.in ]] && in=$name.in
	"$VLAB" --record "$name.trace" "$@" >"$name.out" 2>"$name.err" <"$in" || got=$?
	[[ $got == "$want" ]] || { cp "$name.err" out.txt; fail "vlab --record $name.trace $* exited $got, expected $want"; }
}
# replay NAME STATUS [--inject]: vlab replay NAME.trace, stdout in
# NAME.rout, stderr in out.txt (the verdict, the report).
replay() {
	local name=$1 want=$2 got=0
	shift 2
	"$VLAB" replay "$@" "$name.trace" >"$name.rout" 2>out.txt </dev/null || got=$?
	[[ $got == "$want" ]] || fail "vlab replay $* $name.trace exited $got, expected $want"
}
# roundtrip NAME STATUS ARGS...: record twice, replay once (8 MiB of guest
# RAM: less to clear than the default 64 MiB).
roundtrip() {
	local name=$1 want=$2
	check "$name: recorded (exit $want), replayed: exit 0, the same stdout, two recordings byte-identical"
	record "$name" "$want" --ram 8M "${@:3}"
	cp "$name.trace" "$name.1.trace"
	record "$name" "$want" --ram 8M "${@:3}"
	cmp "$name.1.trace" "$name.trace" >/dev/null || fail "two recordings of $name differ: $(cmp "$name.1.trace" "$name.trace")"
	rm -f disk.img # the replay needs no image: what the device gave is in the trace
	replay "$name" 0
	contains "the run matched the trace to its end"
	diff "$name.out" "$name.rout" >/dev/null || fail "$name: replayed stdout differs: $(diff "$name.out" "$name.rout" | head -5)"
}

truncate -s 1M disk.img
roundtrip mmio-legacy 0 --blk disk.img,transport=mmio-legacy -c 'virtio scan; virtio info; virtio read 0x80000000 0 2; md.b 0x80000000 0x10'
grep -q '^device 0 blk transport=mmio-legacy$' mmio-legacy.trace || fail "no device line for the mmio-legacy disk"

truncate -s 1M disk.img
roundtrip pci 0 --blk disk.img,transport=pci -c 'virtio scan; mw.b 0x80000000 0xa5 0x200; virtio write 0x80000000 1 1; virtio read 0x80010000 1 1; cmp.b 0x80000000 0x80010000 0x200; virtio id'

# One read of 2 MiB: a DMA mapping over 1 MiB, whose unmap line carries
# all its bytes (the parser refused lines over 1 MiB of payload once: the
# recorder wrote traces its own replay could not read).
truncate -s 3M disk.img
roundtrip big-read 0 --blk disk.img -c 'virtio scan; mw.b 0x80000000 0x3c 0x200000; virtio write 0x80000000 0 0x1000; virtio read 0x80200000 0 0x1000; cmp.b 0x80000000 0x80200000 0x200000'
grep -q '^[0-9]* unmap 0x[0-9a-f]* 2097152 from ' big-read.trace || fail "big-read: no unmap line of the 2 MiB read"

truncate -s 1M disk.img
roundtrip two-disks 0 --blk-ram 1M,transport=mmio-legacy --blk disk.img,transport=pci -c \
	'virtio scan; virtio info; mw.b 0x80000000 0x5a 0x400; virtio device 1; virtio write 0x80000000 0 2; virtio device 0; virtio read 0x80100000 0 2; virtio features 1'
check "two-disks: the header has a device and a bind line for each disk, in order"
grep -A20 '^vlab-trace 1$' two-disks.trace | sed '/^events$/q' >two-disks.hdr
grep -q '^device 0 blk transport=mmio-legacy$' two-disks.hdr || fail "no device 0 line"
grep -q '^device 1 blk transport=pci$' two-disks.hdr || fail "no device 1 line"
[[ $(grep -c '^bind ' two-disks.hdr) == 2 ]] || fail "not two bind lines: $(cat two-disks.hdr)"
grep '^bind ' two-disks.hdr | head -1 | grep -q '^bind mmio base=0x10001000 ' || fail "bind line 1 is not the mmio slot"
grep '^bind ' two-disks.hdr | tail -1 | grep -q '^bind pci dev=1 fn=0 ' || fail "bind line 2 is not the pci function"
grep -q "^command vlab --ram 8M --blk-ram 1M,transport=mmio-legacy --blk disk.img,transport=pci -c 'virtio scan; " two-disks.hdr ||
	fail "the command line is not in the header as typed"

# The PC profile: config through the 0xCF8 ports, a legacy disk through port
# I/O; the replay builds the same machine (producer ... machine=pc).
roundtrip pc 0 --machine pc --blk-ram 1M,transport=pci-legacy -c 'pci; virtio scan; virtio read 0x80000000 0 2; crc32 0x80000000 0x400'
grep -q '^producer model .* machine=pc$' pc.trace || fail "the producer line does not name the machine: $(grep ^producer pc.trace)"
grep -q '0x8086     0x7000' pc.out || fail "pci did not list the PIIX ISA bridge: $(cat pc.out)"
grep -q ' pw[124] 0x' pc.trace || fail "no port write in the trace of a legacy disk on pc"

check "--record of a disk behind a bridge: refused (exit 2), no trace"
"$VLAB" --machine q35 --blk-ram 1M,transport=pci,bridge=root-port --record br.trace -c 'virtio scan' >br.out 2>&1 && fail "recorded"
grep -q "sits behind a bridge" br.out || fail "no reason given: $(cat br.out)"
[[ ! -e br.trace ]] || fail "a trace was written"

# Deferred work, so the ping's virtual times are not zero (they come from the trace).
roundtrip ping 0 --sched deferred --seed 7 --net transport=mmio,backend=wire --net transport=pci,backend=wire \
	-c 'net ping 0 1 2; net info'
grep -qE 'icmp_seq=2 ttl=64 time=0\.0[0-9]*[1-9][0-9]* ms' ping.out || fail "the ping's time is zero: $(cat ping.out)"

printf 'fault used_id value=0xffff nth=2\nfault features_ok_refused nth=2\n' >reinit.plan
rd='virtio read 0x80000000 0 1'
roundtrip faults 1 --blk-ram 1M,transport=pci --faults reinit.plan -c "$rd; $rd; virtio scan; virtio info; $rd; virtio scan; $rd"
grep -q 'initialising it again failed' faults.out || fail "the fault plan did not act: $(cat faults.out)"

# Commands from stdin: each line is an input event (escaped), run again by the replay.
printf 'virtio scan\n\tmd.b 0x80000000 8 # a tab, a \\ backslash\nexit\nvirtio info\n' >stdin.in
roundtrip stdin 0
check "stdin: the lines read are input events, escaped; nothing after exit"
grep -qxF '0 input virtio scan' stdin.trace || fail "no input line for 'virtio scan'"
grep -qxF '0 input \x09md.b 0x80000000 8 # a tab, a \\ backslash' stdin.trace || fail "the tab and backslash line: $(grep ' input ' stdin.trace)"
[[ $(grep -c ' input ' stdin.trace) == 3 ]] || fail "not 3 input lines: $(grep ' input ' stdin.trace)"

# An edited trace: the pci disk's first value written to its registers (in
# the memory BAR window 0x40000000...) changed.  The driver writes the
# recorded value: a divergence at that line.
line=$(grep -nE -m1 '^[0-9]+ w[124] 0x4[0-9a-f]{7} ' two-disks.trace | cut -d: -f1)
old=$(sed -n "${line}p" two-disks.trace | awk '{print $4}')
sed "${line}s/ $old\$/ $(printf '0x%x' $((old ^ 1)))/" two-disks.trace >edited.trace
check "an edited value the driver writes to the pci disk: exit 1, divergence at edited.trace:$line"
replay edited 1
lines_in_order "replay: divergence at edited.trace:$line " "the trace says: $(sed -n "${line}p" edited.trace | cut -d' ' -f2-)" \
	"the driver did: $(sed -n "${line}p" two-disks.trace | cut -d' ' -f2-)"

# A deleted input line: the replay reads no command there, so the calls of
# 'virtio scan' that follow it in the trace are left over.
iline=$(grep -n ' input virtio scan$' stdin.trace | cut -d: -f1)
sed "${iline}d" stdin.trace | awk '/^end [0-9]+$/ { $2 -= 1 } { print }' >noinput.trace
check "a deleted input line: exit 1, divergence at the next line, the run ended"
replay noinput 1
lines_in_order "replay: divergence at noinput.trace:$iline " "platform call: (none: the run ended)" \
	"the trace says: $(sed -n "${iline}p" noinput.trace | cut -d' ' -f2-)"

# An edited status byte (00 OK -> 42) of the last read, with --inject: the
# report names the edited line and what the driver did with it.
line=$(grep -nE '^[0-9]+ shm 0x[0-9a-f]+ 1 00$' mmio-legacy.trace | tail -1 | cut -d: -f1)
sed "${line}s/ 00\$/ 42/" mmio-legacy.trace >status.trace
check "an edited status byte replayed with --inject: exit 1, the report names status.trace:$line"
replay status 1 --inject
lines_in_order "replay: divergence at status.trace:" "replay --inject: the driver's actions diverged" \
	"the edited value the driver read: status.trace:$line: shm 0x"
grep -qE "the edited value the driver read: status.trace:$line: shm 0x[0-9a-f]+ 1 42 \(the device had written 00 there\)" out.txt ||
	fail "the report does not name the edited status byte"
grep -q 'status byte not OK/IOERR/UNSUPP' out.txt || fail "the driver's log line is not in the report"

# Bad traces: FILE:LINE: reason, exit 2, nothing run.
bad() {
	check "$1: exit 2 with '$1.trace:$2: $3'"
	replay "$1" 2
	contains "$1.trace:$2: $3"
	lacks "divergence"
	[[ ! -s $1.rout ]] || fail "$1: the replay printed on stdout: $(head -3 "$1.rout")"
}
head -c 5000 two-disks.trace >cut.trace
bad cut "$(($(wc -l <cut.trace) + 1))" "truncated: the last line has no newline"
bline=$(grep -n '^bind pci ' two-disks.trace | cut -d: -f1)
sed "${bline}s/ dev=1 / dev=2 /" two-disks.trace >moved.trace
bad moved "$bline" "device 1 cannot be rebuilt where the trace has it"
dline=$(grep -n '^device 1 ' two-disks.trace | cut -d: -f1)
sed "${dline}d" two-disks.trace >nodev.trace
bad nodev "$((bline - 1))" "the header has 1 device line but more bind lines"
sed "${dline}s/transport=pci/transport=isa/" two-disks.trace >isa.trace
bad isa "$dline" "a device line is 'device 1 blk|net transport=T'"
iline=$(grep -n ' input virtio scan$' stdin.trace | cut -d: -f1)
sed "${iline}s/\$/ \\\\q/" stdin.trace >escape.trace
bad escape "$iline" "garbage: a backslash in an input line"

# Each tool refuses the other's traces, saying which to use.
"$SCENARIO" run --scenario net --transport mmio --model-transport mmio --record scenario.trace >/dev/null 2>&1 ||
	fail "vlab-scenario could not record the net scenario"
cline=$(grep -n '^command ' scenario.trace | cut -d: -f1)
bad scenario "$cline" "a vlab-scenario trace (command run --scenario net"
contains "replay it with 'vlab-scenario replay scenario.trace'"
check "vlab-scenario replay of a vlab trace: exit 2, it names vlab replay"
got=0
"$SCENARIO" replay pci.trace >out.txt 2>&1 || got=$?
[[ $got == 2 ]] || fail "vlab-scenario replay pci.trace exited $got, expected 2"
contains "pci.trace:$(grep -n '^command ' pci.trace | cut -d: -f1): a vlab trace (command vlab --ram 8M --blk"
contains "replay it with 'vlab replay pci.trace'"
finish
