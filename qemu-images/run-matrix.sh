#!/usr/bin/env bash
# The QEMU cross-check: boot each bare-metal image on QEMU for every row of
# the matrix (target x transport x device [x ring]), run the same scenario on the
# host against the device model with QEMU's profile, and compare the two
# transcripts line for line.  For disks, the image QEMU wrote is checked
# from the host afterwards and compared with the one the model wrote.
#
#   qemu-images/run-matrix.sh                 all rows, then a table
#   qemu-images/run-matrix.sh --only riscv64,mmio-v1,blk [--only riscv64,pci,net,packed ...]
#   qemu-images/run-matrix.sh --only riscv64,pci,net,split,host_mtu=9000
#   qemu-images/run-matrix.sh --list          the rows, one per line
#   qemu-images/run-matrix.sh --trap riscv32  the target's trap path (below)
#   qemu-images/run-matrix.sh --trap-list     the targets --trap takes
#
# Each row is also recorded: the image writes a trace of every platform call
# and what the driver published (pub lines) (<work>/<row>/qemu.trace,
# docs/qemu.md "Record and replay"), and `vlab-scenario replay` runs the
# driver against it on the host; the replay must match the trace to its end,
# published memory included, and give QEMU's transcript.
#
# Options: --work DIR (default build/qemu-work), --host-tool PATH (the host
# build's vlab-scenario; built with the gcc preset when not given),
# --no-build (use the images as they are), --timeout SECONDS (per QEMU run,
# default 60), --jobs N (rows run at a time, default 2: each QEMU is one
# thread, and the CI machine has two cores), --ctest (exit 77 when QEMU or a
# cross compiler is missing; with CI=true a missing tool is a failure
# instead).
#
# Adding to the matrix: a transport is one line in TRANSPORT_*, a target one
# line in TARGET_* (plus its qemu-images/<target>/ directory and toolchain
# file), a device one line in DEVICE_* plus its prepare/check functions,
# and a row in MATRIX.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

# ---- the tables ----
# target: QEMU binary, Debian package, machine arguments, cross compiler
# (package).  -nic none: no default NIC (aarch64 virt adds a virtio-net-pci
# one), so the only virtio devices are the row's.  Semihosting: the image
# writes its trace (-append vlab.record) through it, and aarch64 and arm their
# exit code.  arm: highmem=off keeps the ECAM and the PCI windows below 4 GiB,
# which a 32-bit CPU with the MMU off reaches.  x86 and x86_64 (pc): no
# semihosting; the image exits through isa-debug-exit (QEMU exits with
# (code << 1) | 1: TARGET_EXIT_SHIFT) and writes its trace to the debugcon
# port, a file in the row's directory (@DIR@).
# x86_64-q35: the x86_64 image on q35 (the devices on its root bus pcie.0,
# no bridge).  *-rootport, *-bridge: the row's device behind a PCI-to-PCI
# bridge (QEMU's pcie-root-port or pci-bridge, id br), as
# `vlab --blk ...,bridge=root-port|pci-bridge` puts it in the model; the
# image numbers the bridge and opens its windows (vlab_pci_scan).
# x86_64-microvm: the x86_64 image on microvm (qboot, no PCI, virtio-mmio
# slots at 0xFEB00000; x86/arch.c).
ROOT_PORT="-device pcie-root-port,id=br,chassis=1"
PCI_BRIDGE="-device pci-bridge,id=br,chassis_nr=1"
# The x86 trace channel: guest RAM is a shared file (@DIR@/guest.ram) the
# image writes its trace into (-append vlab.trace=ram; x86/arch.c), read
# back after QEMU exits (trace_from_ram); debugcon is the image's fallback.
X86_DEV="-device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon file:@DIR@/vlab-0.trace \
-object memory-backend-file,id=vlabram,size=128M,mem-path=@DIR@/guest.ram,share=on -machine memory-backend=vlabram"
declare -A TARGET_QEMU=(
	[riscv64]="qemu-system-riscv64"
	[aarch64]="qemu-system-aarch64"
	[riscv32]="qemu-system-riscv32"
	[arm]="qemu-system-arm"
	[x86]="qemu-system-i386"
	[x86_64]="qemu-system-x86_64"
	[x86_64-q35]="qemu-system-x86_64"
	[x86_64-q35-rootport]="qemu-system-x86_64"
	[x86_64-pc-bridge]="qemu-system-x86_64"
	[aarch64-rootport]="qemu-system-aarch64"
	[x86_64-microvm]="qemu-system-x86_64"
)
declare -A TARGET_QEMU_PKG=(
	[riscv64]="qemu-system-misc"
	[aarch64]="qemu-system-arm"
	[riscv32]="qemu-system-misc"
	[arm]="qemu-system-arm"
	[x86]="qemu-system-x86"
	[x86_64]="qemu-system-x86"
	[x86_64-q35]="qemu-system-x86"
	[x86_64-q35-rootport]="qemu-system-x86"
	[x86_64-pc-bridge]="qemu-system-x86"
	[aarch64-rootport]="qemu-system-arm"
	[x86_64-microvm]="qemu-system-x86"
)
declare -A TARGET_MACHINE=(
	[riscv64]="-M virt -bios none -m 128M -smp 1 -nic none -semihosting-config enable=on,target=native"
	[aarch64]="-M virt -cpu cortex-a57 -m 128M -smp 1 -nic none -semihosting-config enable=on,target=native"
	[riscv32]="-M virt -bios none -m 128M -smp 1 -nic none -semihosting-config enable=on,target=native"
	[arm]="-M virt,highmem=off -cpu cortex-a15 -m 128M -smp 1 -nic none -semihosting-config enable=on,target=native"
	[x86]="-M pc -m 128M -smp 1 -nic none $X86_DEV"
	[x86_64]="-M pc -m 128M -smp 1 -nic none $X86_DEV"
	[x86_64-q35]="-M q35 -m 128M -smp 1 -nic none $X86_DEV"
	[x86_64-q35-rootport]="-M q35 -m 128M -smp 1 -nic none $X86_DEV $ROOT_PORT"
	[x86_64-pc-bridge]="-M pc -m 128M -smp 1 -nic none $X86_DEV $PCI_BRIDGE"
	[aarch64-rootport]="-M virt -cpu cortex-a57 -m 128M -smp 1 -nic none -semihosting-config enable=on,target=native $ROOT_PORT"
	[x86_64-microvm]="-M microvm -m 128M -smp 1 -nic none $X86_DEV"
)
declare -A TARGET_CC=(
	[riscv64]="riscv64-unknown-elf-gcc"
	[aarch64]="aarch64-linux-gnu-gcc"
	[riscv32]="riscv64-unknown-elf-gcc"
	[arm]="arm-none-eabi-gcc"
	[x86]="i686-linux-gnu-gcc"
	[x86_64]="gcc"
	[x86_64-q35]="gcc"
	[x86_64-q35-rootport]="gcc"
	[x86_64-pc-bridge]="gcc"
	[aarch64-rootport]="aarch64-linux-gnu-gcc"
	[x86_64-microvm]="gcc"
)
# The image a target boots when it is another target's (its build/<dir>).
declare -A TARGET_BUILD=(
	[x86_64-q35]="x86_64"
	[x86_64-q35-rootport]="x86_64"
	[x86_64-pc-bridge]="x86_64"
	[aarch64-rootport]="aarch64"
	[x86_64-microvm]="x86_64"
)
# The file QEMU boots (-kernel): the ELF, or for x86 the flat binary its
# multiboot loader takes.
declare -A TARGET_IMAGE_EXT=(
	[x86]="bin"
	[x86_64]="bin"
)
# Properties a target adds to the row's -device: the bus behind its bridge.
declare -A TARGET_DEVICE_PROPS=(
	[x86_64-q35-rootport]=",bus=br"
	[x86_64-pc-bridge]=",bus=br,addr=0"
	[aarch64-rootport]=",bus=br"
)
# Targets whose exit code QEMU hands back as (code << 1) | 1 (isa-debug-exit).
declare -A TARGET_EXIT_SHIFT=(
	[x86]=1
	[x86_64]=1
	[x86_64-q35]=1
	[x86_64-q35-rootport]=1
	[x86_64-pc-bridge]=1
	[x86_64-microvm]=1
)
# What QEMU exits with after the image trapped with semihosting off
# (--trap): 3 through riscv's sifive_test; arm's PSCI SYSTEM_OFF carries no
# code.  x86 has no semihosting to turn off: no --trap.
declare -A TARGET_TRAP_EXIT=(
	[riscv64]=3
	[aarch64]=0
	[riscv32]=3
	[arm]=0
)
declare -A TARGET_CC_PKG=(
	[riscv64]="gcc-riscv64-unknown-elf"
	[aarch64]="gcc-aarch64-linux-gnu"
	[riscv32]="gcc-riscv64-unknown-elf"
	[arm]="gcc-arm-none-eabi"
	[x86]="gcc-i686-linux-gnu"
	[x86_64]="gcc"
	[x86_64-q35]="gcc"
	[x86_64-q35-rootport]="gcc"
	[x86_64-pc-bridge]="gcc"
	[aarch64-rootport]="gcc-aarch64-linux-gnu"
	[x86_64-microvm]="gcc"
)
# transport: QEMU arguments, the virtio device suffix QEMU uses on it
# (virtio-blk-device on virtio-mmio, virtio-blk-pci on PCI), and the model's
# name for it (hx_transport_parse).
declare -A TRANSPORT_QEMU=(
	[mmio-v1]=""
	[mmio-v2]="-global virtio-mmio.force-legacy=false"
	[pci]=""
	[pci-transitional]=""
	[pci-legacy]=""
)
declare -A TRANSPORT_BUS=(
	[mmio-v1]="device"
	[mmio-v2]="device"
	[pci]="pci"
	[pci-transitional]="pci"
	[pci-legacy]="pci"
)
# Properties the transport adds to the -device (@PROPS@).  pci-legacy
# asks for the legacy interface outright: behind a PCIe root port QEMU
# turns it off by default.
declare -A TRANSPORT_PROPS=(
	[mmio-v1]=""
	[mmio-v2]=""
	[pci]=",disable-legacy=on"
	[pci-transitional]=",disable-legacy=off,disable-modern=off"
	[pci-legacy]=",disable-modern=on,disable-legacy=off"
)
declare -A TRANSPORT_MODEL=(
	[mmio-v1]="mmio-legacy"
	[mmio-v2]="mmio"
	[pci]="pci"
	[pci-transitional]="pci-transitional"
	[pci-legacy]="pci-legacy"
)
# device: QEMU arguments (@DIR@: the row's work directory, @BUS@: the
# transport's suffix, @PROPS@: the transport's device properties) and the
# host tool's arguments.
# @PEERPORT@: the UDP port the row's peer listens on (net).
# @NETDEV@: the net row's netdev: dgram to the peer's port, or for a tap row
# (the word `tap` after the ring) NET_TAP (below).
BLK_SERIAL=vlab-disk-0001
NET_MAC=52:54:00:12:34:56
declare -A DEVICE_QEMU=(
	[blk]="-drive if=none,id=d0,file=@DIR@/qemu.img,format=raw -device virtio-blk-@BUS@@PROPS@,drive=d0,serial=$BLK_SERIAL"
	[net]="-netdev @NETDEV@ -device virtio-net-@BUS@@PROPS@,netdev=n0,mac=$NET_MAC"
	[rng]="-object rng-builtin,id=r0 -device virtio-rng-@BUS@@PROPS@,rng=r0"
)
# ring: the fourth word of a row (split when absent): the ring kind and ring
# features QEMU offers, as -device properties.  QEMU 7.2 offers
# indirect_desc and event_idx by default, so the plain split rows run with
# both; the driver takes whatever is offered (docs/virtqueue.md).  The model
# gets the same properties (vlab-scenario run --ring, without the leading
# comma), so it offers what QEMU offered and the transcripts, feature lines
# and ring lines included, are compared in full.
declare -A RING_PROPS=(
	[split]=""
	[split-plain]=",indirect_desc=off,event_idx=off"
	[packed]=",packed=on"
	[packed-plain]=",packed=on,indirect_desc=off,event_idx=off"
	[split-evt]=",indirect_desc=off"
	[split-ind]=",event_idx=off"
	[packed-evt]=",packed=on,indirect_desc=off"
	[packed-ind]=",packed=on,event_idx=off"
)
# props: the fifth and later words of a row, device properties both sides
# get: QEMU as -device properties (after the ring's), the host tool as
# --props (comma-separated; vlab-scenario says which it takes).
# device options: a fourth word of a row that names QEMU -device properties
# instead of a ring kind (the ring is then QEMU's default split one).  The
# model is given the very same text (vlab-scenario --<device>-props), so
# the two transcripts must still be identical, feature lines included.
declare -A DEVICE_OPTS=(
	[lbs4k]="logical_block_size=4096,physical_block_size=4096"
	[qs1024]="queue-size=1024"
	[wce]="config-wce=on,write-cache=off"
	[dz8]="discard=on,write-zeroes=on,max-discard-sectors=8,max-write-zeroes-sectors=8"
	[mq4]="num-queues=4"
)
NET_DGRAM="dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=0,remote.type=inet,remote.host=127.0.0.1,remote.port=@PEERPORT@"
# Tap rows: the word `tap` after the ring.  The row gets a network namespace
# of its own (vlabtap-<runner's pid>-<row>) with a tap in it (TAP_IF,
# multi_queue when the row has queues=N, N > 1), IPv6 off so the kernel
# sends nothing of its own; QEMU and the peer (vlab-scenario peer-tap, a
# packet socket on the tap) run in it, and it is deleted after the row,
# or by the next runner if this one was killed.  A tap has a vnet header,
# so QEMU offers the offloads, and queues: the row's queues=N goes to the
# netdev (not the device), and the model gets vnet_hdr=on.
TAP_IF=vtap0
NET_TAP="tap,id=n0,ifname=$TAP_IF,script=no,downscript=no,vhost=off"
declare -A DEVICE_HOST=(
	[blk]="--scenario blk --image @DIR@/model.img --serial $BLK_SERIAL"
	[net]="--scenario net"
	[rng]="--scenario rng"
)
MATRIX=(
	"riscv64 mmio-v1 blk"
	"riscv64 mmio-v2 blk"
	"aarch64 mmio-v1 blk"
	"aarch64 mmio-v2 blk"
	"riscv64 pci blk"
	"riscv64 pci-transitional blk"
	"riscv64 pci-legacy blk"
	"aarch64 pci blk"
	"aarch64 pci-transitional blk"
	"aarch64 pci-legacy blk"
	"riscv64 mmio-v1 net"
	"riscv64 mmio-v2 net"
	"riscv64 pci net"
	"riscv64 pci-transitional net"
	"riscv64 pci-legacy net"
	"aarch64 mmio-v1 net"
	"aarch64 mmio-v2 net"
	"aarch64 pci net"
	"aarch64 pci-transitional net"
	"aarch64 pci-legacy net"
	"riscv32 mmio-v1 blk"
	"riscv32 mmio-v2 blk"
	"riscv32 pci blk"
	"riscv32 pci-transitional blk"
	"riscv32 pci-legacy blk"
	"riscv32 mmio-v1 net"
	"riscv32 mmio-v2 net"
	"riscv32 pci net"
	"riscv32 pci-transitional net"
	"riscv32 pci-legacy net"
	"arm mmio-v1 blk"
	"arm mmio-v2 blk"
	"arm pci blk"
	"arm pci-transitional blk"
	"arm pci-legacy blk"
	"arm mmio-v1 net"
	"arm mmio-v2 net"
	"arm pci net"
	"arm pci-transitional net"
	"arm pci-legacy net"
	"x86 pci blk"
	"x86 pci-transitional blk"
	"x86 pci-legacy blk"
	"x86 pci net"
	"x86 pci-transitional net"
	"x86 pci-legacy net"
	"x86_64 pci blk"
	"x86_64 pci-transitional blk"
	"x86_64 pci-legacy blk"
	"x86_64 pci net"
	"x86_64 pci-transitional net"
	"x86_64 pci-legacy net"
	"x86_64-q35 pci blk"
	"x86_64-q35 pci-transitional blk"
	"x86_64-q35 pci-legacy blk"
	"x86_64-q35 pci net"
	"x86_64-q35 pci-transitional net"
	"x86_64-q35 pci-legacy net"
	"riscv64 mmio-v2 blk packed"
	"riscv64 pci blk packed"
	"aarch64 mmio-v2 blk packed"
	"aarch64 pci blk packed"
	"riscv64 mmio-v2 net packed"
	"riscv64 pci net packed"
	"aarch64 mmio-v2 net packed"
	"aarch64 pci net packed"
	"riscv64 pci blk packed-plain"
	"aarch64 mmio-v2 net packed-plain"
	"aarch64 mmio-v2 blk split-plain"
	"riscv64 pci net split-plain"
	"aarch64 mmio-v2 blk packed-plain"
	"riscv64 pci net packed-plain"
	"riscv64 pci blk split-plain"
	"aarch64 mmio-v2 net split-plain"
	"riscv64 mmio-v2 blk split-evt"
	"aarch64 pci net split-evt"
	"aarch64 pci blk split-ind"
	"riscv64 mmio-v2 net split-ind"
	"aarch64 pci blk packed-evt"
	"riscv64 mmio-v2 net packed-evt"
	"riscv64 mmio-v2 blk packed-ind"
	"aarch64 pci net packed-ind"
	"arm pci blk packed"
	"x86_64 pci net packed"
	"x86_64-q35-rootport pci blk"
	"x86_64-q35-rootport pci-legacy net"
	"aarch64-rootport pci blk"
	"aarch64-rootport pci-transitional net"
	"x86_64-pc-bridge pci-transitional blk"
	"x86_64-microvm mmio-v1 blk"
	"riscv64 mmio-v2 rng"
	"riscv64 pci rng"
	"aarch64 mmio-v1 rng"
	"aarch64 pci-legacy rng"
	"x86_64-microvm mmio-v2 blk"
	"x86_64-microvm mmio-v1 net"
	"x86_64-microvm mmio-v2 net"
	"riscv64 mmio-v2 net split host_mtu=9000"
	"riscv64 pci net split host_mtu=9000"
	"riscv64 pci net split host_mtu=9000 mrg_rxbuf=off"
	"riscv64 mmio-v2 net split mq=on"
	"riscv64 pci net split mq=on"
	"riscv64 pci net split csum=on guest_csum=on"
	"riscv64 pci net split tap csum=on guest_csum=on"
	"riscv64 mmio-v2 net split tap csum=on guest_csum=on"
	"riscv64 pci net split tap mq=on queues=4"
	"riscv64 pci-legacy net split tap csum=on guest_csum=on"
	"riscv64 mmio-v1 net split tap csum=on guest_csum=on"
	"riscv64 pci net split tap csum=off"
	"riscv64 pci net split tap guest_csum=off"
	"aarch64 pci net split tap csum=on guest_csum=on"
	"riscv64 mmio-v2 blk lbs4k"
	"riscv64 pci blk lbs4k"
	"riscv64 pci-legacy blk lbs4k"
	"riscv64 pci-legacy blk qs1024"
	"aarch64 pci-legacy blk qs1024"
	"riscv64 pci blk qs1024"
	"riscv64 mmio-v1 blk wce"
	"riscv64 mmio-v2 blk wce"
	"riscv64 pci blk wce"
	"riscv64 mmio-v2 blk dz8"
	"riscv64 pci blk dz8"
	"riscv64 mmio-v2 blk mq4"
	"riscv64 pci blk mq4"
)

# Per device: prepare the row's directory before the runs; check it after.
# net: the peer (vlab-scenario peer) listens on a port the kernel picks, so
# parallel rows never collide; it ends by itself once every frame came, or
# at its deadline.  Its lines ("P: ") must equal those of the peer the host
# tool runs behind the model, and its verdict counts.
peer_pid=""
net_tap=0
tap_queues=1
tap_ns=""
qemu_pid=""
# A row that ends early (the runner stopped): its QEMU, peer and namespace.
row_cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null
	[ -z "$peer_pid" ] || kill "$peer_pid" 2>/dev/null
	tap_teardown
}
# Tap rows: why they cannot run here (empty when they can).
tap_unusable() {
	command -v ip >/dev/null || { echo "no 'ip' command (apt-get install iproute2)"; return; }
	[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return; }
	local probe=vlabtap-$$-probe
	ip netns add "$probe" 2>/dev/null || { echo "'ip netns add' failed (CAP_NET_ADMIN needed: run as root)"; return; }
	if ! ip -n "$probe" tuntap add dev "$TAP_IF" mode tap 2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		echo "'ip tuntap add' failed in a network namespace"
		return
	fi
	ip netns del "$probe" 2>/dev/null
}
# Namespaces a killed runner left (its PID gone).
tap_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(vlabtap-[0-9]*-[0-9a-z]*\).*/\1/p'); do
		pid=${ns#vlabtap-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
	done
}
tap_teardown() {
	[ -n "$tap_ns" ] || return 0
	[ -z "$peer_pid" ] || kill "$peer_pid" 2>/dev/null
	[ -z "$qemu_pid" ] || { kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; }
	ip -n "$tap_ns" link del "$TAP_IF" 2>/dev/null
	ip netns del "$tap_ns" 2>/dev/null
	tap_ns=""
}
# The row's namespace and tap ($1: the row's directory).
tap_prepare() { # dir
	tap_ns=vlabtap-$$-$row_index
	ip netns del "$tap_ns" 2>/dev/null
	local mq=""
	[ "$tap_queues" = 1 ] || mq=multi_queue
	# shellcheck disable=SC2086
	{ ip netns add "$tap_ns" &&
		ip netns exec "$tap_ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$tap_ns" tuntap add dev "$TAP_IF" mode tap $mq &&
		ip -n "$tap_ns" link set "$TAP_IF" up; } >"$1/tap.log" 2>&1 ||
		{ echo "  the tap could not be made:"; sed 's/^/    /' "$1/tap.log"; tap_teardown; return 1; }
	peer_start "$1" "$1/peer.ready" ip netns exec "$tap_ns" "$host_tool" peer-tap --ifname "$TAP_IF" \
		--ready-file "$1/peer.ready" || { tap_teardown; return 1; }
}
# Start the peer (the command after the file, given --timeout here) and
# wait for it to write that file.
peer_start() { # dir file command...
	local dir=$1 file=$2 i
	shift 2
	rm -f "$file"
	timeout --kill-after=2 $((timeout_s + 5)) "$@" --timeout $((timeout_s + 2)) >"$dir/peer.log" 2>"$dir/peer.err" &
	peer_pid=$!
	for i in $(seq 50); do
		[ -s "$file" ] && return 0
		sleep 0.1
	done
	echo "  the peer did not start:"; sed 's/^/    /' "$dir/peer.err"
	kill "$peer_pid" 2>/dev/null
	return 1
}
device_net_prepare() { # dir
	[ $net_tap = 0 ] || { tap_prepare "$1"; return; }
	peer_start "$1" "$1/peer.port" "$host_tool" peer --port-file "$1/peer.port"
}
device_net_check() { # dir
	local ok=0 prc i
	# QEMU is done: give the peer a moment to finish, then stop it.
	for i in $(seq 20); do
		kill -0 "$peer_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$peer_pid" 2>/dev/null
	wait "$peer_pid"
	prc=$?
	peer_pid=""
	tap_teardown
	if [ $prc != 0 ]; then
		echo "  the peer failed ($prc):"; tail -5 "$1/peer.log" "$1/peer.err" | sed 's/^/    /'
		ok=1
	fi
	sed -n 's/^P: //p' "$1/peer.log" >"$1/qemu.peer"
	sed -n 's/^P: //p' "$1/host.out" >"$1/model.peer"
	if ! diff -u --label "model's peer" --label "QEMU's peer" "$1/model.peer" "$1/qemu.peer" \
		>"$1/peer.diff"; then
		echo "  the peers saw different frames (- model, + QEMU):"; sed 's/^/    /' "$1/peer.diff"
		ok=1
	fi
	return $ok
}
device_blk_prepare() { # dir
	"$host_tool" mkdisk "$1/pristine.img" || return 1
	"$host_tool" sfdisk-script | sfdisk -q --no-tell-kernel "$1/pristine.img" >"$1/sfdisk.log" 2>&1 ||
		{ echo "sfdisk failed:"; cat "$1/sfdisk.log"; return 1; }
	cp "$1/pristine.img" "$1/qemu.img" && cp "$1/pristine.img" "$1/model.img"
}
device_blk_check() { # dir
	local ok=0
	# A device the driver refused (init: refused, e.g. a legacy queue above
	# its cap) must have left both disks as they were.
	if grep -q '^init: refused' "$1/model.transcript"; then
		cmp -s "$1/qemu.img" "$1/pristine.img" || { echo "  QEMU's disk changed though the device was refused"; ok=1; }
		cmp -s "$1/model.img" "$1/pristine.img" || { echo "  the model's disk changed though the device was refused"; ok=1; }
		return $ok
	fi
	"$host_tool" checkdisk "$1/qemu.img" | sed 's/^/  qemu disk:  /' || ok=1
	"$host_tool" checkdisk "$1/model.img" | sed 's/^/  model disk: /' || ok=1
	if ! cmp -s "$1/qemu.img" "$1/model.img"; then
		echo "  the disks QEMU and the model wrote differ:"
		cmp -l "$1/qemu.img" "$1/model.img" | head -5 | sed 's/^/    /'
		ok=1
	fi
	return $ok
}
# rng: nothing to set up or check beyond the transcripts (counts, not
# bytes: QEMU's are random, the model's seeded).
device_rng_prepare() { :; }
device_rng_check() { :; }

# ---- options ----
work=$src/build/qemu-work
host_tool=""
# VLAB_QEMU_IMAGES_BUILT=1 (test.sh, which has just built every image):
# as --no-build, without a build system's up-to-date check per row.
build=1
[ "${VLAB_QEMU_IMAGES_BUILT:-0}" = 1 ] && build=0
timeout_s=60
ctest=0
jobs=2
trap_target=""
only=()
list=0
while [ $# -gt 0 ]; do
	case $1 in
	--list) list=1 ;;
	--only) only+=("${2//,/ }"); shift ;;
	--work) work=$2; shift ;;
	--host-tool) host_tool=$2; shift ;;
	--no-build) build=0 ;;
	--timeout) timeout_s=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--trap) trap_target=$2; shift ;;
	--trap-list) printf '%s\n' "${!TARGET_TRAP_EXIT[@]}" | sort; exit 0 ;;
	--ctest) ctest=1 ;;
	-h | --help) sed -n '2,/^set -uo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-matrix.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

case $jobs in
'' | *[!0-9]* | 0) echo "run-matrix.sh: --jobs takes a number of rows (1 or more), not '$jobs'" >&2; exit 2 ;;
esac

if [ $list = 1 ]; then
	printf '%s\n' "${MATRIX[@]}"
	exit 0
fi

rows=()
if [ -n "$trap_target" ]; then
	[ -n "${TARGET_TRAP_EXIT[$trap_target]:-}" ] ||
		{ echo "run-matrix.sh: --trap: '$trap_target' is not a target with a trap check (${!TARGET_TRAP_EXIT[*]})" >&2; exit 2; }
	rows=("$trap_target mmio-v2 blk") # for the tools it needs
elif [ ${#only[@]} -gt 0 ]; then
	for r in "${only[@]}"; do
		found=0
		for m in "${MATRIX[@]}"; do [ "$m" = "$r" ] && found=1; done
		[ $found = 1 ] || { echo "run-matrix.sh: '$r' is not a row of the matrix (--list)" >&2; exit 2; }
		rows+=("$r")
	done
else
	rows=("${MATRIX[@]}")
fi

# A missing tool: skip on a developer machine, fail in CI.
missing=()
for r in "${rows[@]}"; do
	read -r target _ _ <<<"$r"
	command -v "${TARGET_QEMU[$target]}" >/dev/null || missing+=("${TARGET_QEMU_PKG[$target]}")
	command -v "${TARGET_CC[$target]}" >/dev/null || missing+=("${TARGET_CC_PKG[$target]}")
done
command -v sfdisk >/dev/null || missing+=(fdisk)
if [ ${#missing[@]} -gt 0 ]; then
	pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')
	if [ "${CI:-}" = true ]; then
		echo "FAIL: the QEMU cross-check needs these Debian packages, missing in CI: $pkgs" >&2
		exit 1
	fi
	echo "SKIP: the QEMU cross-check needs these Debian packages: $pkgs (apt-get install $pkgs)"
	[ $ctest = 1 ] && exit 77
	exit 0
fi

# Tap rows need a tap in a network namespace: as a missing tool, skipped
# on a developer machine (saying why), a failure in CI.
tap_rows=0
for r in "${rows[@]}"; do
	[[ " $r " == *" tap "* ]] && tap_rows=$((tap_rows + 1))
done
if [ $tap_rows -gt 0 ]; then
	why=$(tap_unusable)
	if [ -n "$why" ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: the tap rows cannot run in CI: $why" >&2
			exit 1
		fi
		echo "SKIP: $tap_rows tap row(s): $why"
		kept=()
		for r in "${rows[@]}"; do
			[[ " $r " == *" tap "* ]] || kept+=("$r")
		done
		if [ ${#kept[@]} = 0 ]; then
			[ $ctest = 1 ] && exit 77
			exit 0
		fi
		rows=("${kept[@]}")
	else
		tap_reap_stale
	fi
fi

mkdir -p "$work" || exit 1

# The host tool: given, or built with the gcc preset (not for --trap).
if [ -z "$host_tool" ] && [ -z "$trap_target" ]; then
	host_tool=$src/build/gcc/scenarios/vlab-scenario
	(cd "$src" && flock "$work/.host-build.lock" sh -c \
		'cmake --preset gcc >/dev/null && cmake --build --preset gcc --target vlab-scenario >/dev/null') ||
		{ echo "run-matrix.sh: building vlab-scenario failed" >&2; exit 1; }
fi
[ -n "$trap_target" ] || [ -x "$host_tool" ] || { echo "run-matrix.sh: no host tool at $host_tool" >&2; exit 1; }

image_of() { # target
	local b=${TARGET_BUILD[$1]:-$1}
	echo "$src/build/$b/qemu-images/vlab-$b.${TARGET_IMAGE_EXT[$b]:-elf}"
}

# Build (or bring up to date) a target's image; one build per target at a time.
build_image() { # target log
	[ $build = 1 ] || { [ -f "$(image_of "$1")" ]; return; }
	local b=${TARGET_BUILD[$1]:-$1}
	(cd "$src" && flock "$work/.build-$b.lock" sh -c \
		"{ [ -f build/$b/CMakeCache.txt ] || cmake --preset $b; } && cmake --build --preset $b") >"$2" 2>&1
}

now() { date +%s.%N; }

# x86's RAM trace channel (x86/arch.c): at 64 MiB of guest RAM, the magic
# VLABTRC1, the length (32 bits little-endian), 4 bytes, then the trace.
TRACE_RAM_BASE=$((0x4000000))
trace_from_ram() { # dir
	local ram=$1/guest.ram len
	[ -f "$ram" ] || return 0
	if [ "$(dd if="$ram" bs=8 count=1 iflag=skip_bytes skip=$TRACE_RAM_BASE 2>/dev/null)" = VLABTRC1 ]; then
		len=$(od -An -tu4 -j $((TRACE_RAM_BASE + 8)) -N4 "$ram" | tr -d ' ')
		dd if="$ram" of="$1/qemu.trace" bs=64K iflag=skip_bytes,count_bytes skip=$((TRACE_RAM_BASE + 16)) \
			count="$len" 2>/dev/null
	fi
	rm -f "$ram"
}

run_row() { # target transport device [ring [props]] -> sets row_result, prints details
	local target=$1 transport=$2 device=$3 ring=${4:-split} props=${5:-}
	local dir=$work/$target-$transport-$device
	[ "$ring" = split ] || dir=$dir-$ring
	[ -z "$props" ] || dir=$dir-$(tr ' =,' '_-_' <<<"$props")
	# A tap row: `tap` first, then the device's properties; queues=N is
	# then the netdev's (and the model's: max_virtqueue_pairs).
	net_tap=0 tap_queues=1
	local p dprops="" hprops=""
	for p in $props; do
		case $p in
		tap) net_tap=1; hprops+=",vnet_hdr=on" ;;
		queues=*) [ $net_tap = 1 ] || dprops+=",$p"; tap_queues=${p#queues=}; hprops+=",$p" ;;
		*) dprops+=",$p"; hprops+=",$p" ;;
		esac
	done
	props=${dprops#,}
	rm -rf "$dir" && mkdir -p "$dir"
	"device_${device}_prepare" "$dir" || return 1

	local qargs="${DEVICE_QEMU[$device]//@DIR@/$dir}"
	qargs=${qargs//@BUS@/${TRANSPORT_BUS[$transport]}}
	local dopts=${DEVICE_OPTS[$ring]:-}
	qargs=${qargs//@PROPS@/${TRANSPORT_PROPS[$transport]}${TARGET_DEVICE_PROPS[$target]:-}${RING_PROPS[$ring]:-}${dopts:+,$dopts}${props:+,$props}}
	local netdev=$NET_DGRAM qpre=()
	if [ $net_tap = 1 ]; then
		netdev=$NET_TAP
		[ "$tap_queues" = 1 ] || netdev+=",queues=$tap_queues"
		qpre=(ip netns exec "$tap_ns")
	fi
	qargs=${qargs//@NETDEV@/$netdev}
	[ -s "$dir/peer.port" ] && qargs=${qargs//@PEERPORT@/$(cat "$dir/peer.port")}
	hprops=${hprops#,}
	local hargs="${DEVICE_HOST[$device]//@DIR@/$dir}${hprops:+ --props $hprops}${dopts:+ --$device-props $dopts}"
	[ -z "${RING_PROPS[$ring]:-}" ] || hargs+=" --ring ${RING_PROPS[$ring]#,}"
	# In the row's directory: the image's trace (semihosting, or x86's
	# debugcon file) lands there.
	local t0 t1 t2 margs=${TARGET_MACHINE[$target]//@DIR@/$dir}
	# The RAM trace channel where guest RAM is the shared file (x86).
	local append=vlab.record
	[[ $margs == *memory-backend=vlabram* ]] && append+=" vlab.trace=ram"
	t0=$(now)
	# shellcheck disable=SC2086
	# In the background, waited for: a runner stopped meanwhile stops it
	# (row_cleanup) instead of waiting for it.
	(cd "$dir" && exec timeout --kill-after=5 "$timeout_s" "${qpre[@]}" "${TARGET_QEMU[$target]}" $margs \
		-display none -monitor none -serial "file:$dir/serial.log" \
		${TRANSPORT_QEMU[$transport]} $qargs -kernel "$(image_of "$target")" -append "$append") \
		>"$dir/qemu.out" 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid"
	local qrc=$?
	qemu_pid=""
	# isa-debug-exit: the image's code c comes back as (c << 1) | 1; a
	# QEMU that failed to start exits 1 too, so 1 is a pass only when the
	# image printed its result.
	if [ -n "${TARGET_EXIT_SHIFT[$target]:-}" ] && [ $((qrc & 1)) = 1 ] && [ $qrc != 124 ] && [ $qrc != 137 ] &&
		{ [ $qrc != 1 ] || grep -q '^vlab: result pass' "$dir/serial.log"; }; then
		qrc=$((qrc >> 1))
	fi
	t1=$(now)
	tr -d '\r' <"$dir/serial.log" | sed -n 's/^T: //p' >"$dir/qemu.transcript"
	[ -f "$dir/vlab-0.trace" ] && mv "$dir/vlab-0.trace" "$dir/qemu.trace"
	trace_from_ram "$dir"
	timeout --kill-after=5 "$timeout_s" "$host_tool" replay "$dir/qemu.trace" >"$dir/replay.out" 2>"$dir/replay.err"
	local rprc=$?
	t2=$(now)
	sed -n 's/^T: //p' "$dir/replay.out" >"$dir/replay.transcript"
	# shellcheck disable=SC2086
	timeout --kill-after=5 "$timeout_s" \
		"$host_tool" run --transport "$transport" --model-transport "${TRANSPORT_MODEL[$transport]}" \
		$hargs >"$dir/host.out" 2>"$dir/host.err"
	local hrc=$?
	sed -n 's/^T: //p' "$dir/host.out" >"$dir/model.transcript"

	local ok=0
	if [ $qrc = 124 ] || [ $qrc = 137 ]; then
		echo "  QEMU did not finish within ${timeout_s}s; its console:"; tail -20 "$dir/serial.log" | sed 's/^/    /'
		ok=1
	elif [ $qrc != 0 ]; then
		echo "  QEMU exited with $qrc (image: 1 scenario failed, 2 no device, 3 trap); its console:"
		tr -d '\r' <"$dir/serial.log" | grep -v '^T: ' | tail -20 | sed 's/^/    /'
		grep -h 'FAIL' "$dir/qemu.transcript" | sed 's/^/    /'
		cat "$dir/qemu.out" | sed 's/^/    qemu: /'
		ok=1
	fi
	if [ $hrc != 0 ]; then
		echo "  the host run failed ($hrc):"; grep -h 'FAIL\|violation' "$dir/host.out" | sed 's/^/    /'
		tail -20 "$dir/host.err" | sed 's/^/    /'
		ok=1
	fi
	if [ ! -s "$dir/qemu.transcript" ]; then
		echo "  no transcript from QEMU"; ok=1
	elif ! diff -u --label "model ($transport $ring)" --label "qemu ($target $transport $ring)" \
		"$dir/model.transcript" "$dir/qemu.transcript" >"$dir/transcript.diff"; then
		echo "  transcripts differ (- model, + QEMU):"; sed 's/^/    /' "$dir/transcript.diff"
		ok=1
	fi
	if [ $rprc != 0 ]; then
		echo "  the replay of QEMU's trace failed ($rprc):"
		grep -v '^T: ' "$dir/replay.out" | head -20 | sed 's/^/    /'
		tail -5 "$dir/replay.err" | sed 's/^/    /'
		ok=1
	elif ! diff -u --label "qemu ($target $transport)" --label "replay of qemu.trace" \
		"$dir/qemu.transcript" "$dir/replay.transcript" >"$dir/replay.diff"; then
		echo "  the replay's transcript differs (- QEMU, + replay):"; sed 's/^/    /' "$dir/replay.diff"
		ok=1
	fi
	"device_${device}_check" "$dir" || ok=1
	echo "  transcripts: $dir/qemu.transcript, $dir/model.transcript ($(wc -l <"$dir/qemu.transcript") lines)"
	printf '  trace: %s (%s bytes, %s events, %s pub lines); QEMU %.2fs, replay %.3fs\n' "$dir/qemu.trace" \
		"$(stat -c %s "$dir/qemu.trace" 2>/dev/null || echo 0)" "$(sed -n 's/^end //p' "$dir/qemu.trace" 2>/dev/null)" \
		"$(grep -c '^[0-9]* pub ' "$dir/qemu.trace" 2>/dev/null)" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
	return $ok
}

# --trap TARGET: the trap path.  With vlab.record but semihosting off, the
# image's first semihosting call (the trace's open) traps; the image must
# report it once, with a pc inside arch_semihost (the trap vector handed
# bm_trap its arguments right: riscv32 passes each uint64_t in a register
# pair), and end with TARGET_TRAP_EXIT (its exit must not trap forever:
# arm's and aarch64's arch_exit use semihosting too).
trap_check() { # target
	local target=$1 dir=$work/$1-trap image nm=${TARGET_CC[$1]%gcc}nm
	image=$(image_of "$target")
	rm -rf "$dir" && mkdir -p "$dir" && truncate -s 1M "$dir/disk.img" || return 1
	build_image "$target" "$dir/build.log" ||
		{ echo "the $target image does not build:"; tail -20 "$dir/build.log"; return 1; }
	# shellcheck disable=SC2086
	(cd "$dir" && exec timeout --kill-after=5 "$timeout_s" "${TARGET_QEMU[$target]}" \
		${TARGET_MACHINE[$target]/-semihosting-config enable=on,target=native/} \
		-display none -monitor none -serial "file:$dir/serial.log" -global virtio-mmio.force-legacy=false \
		-drive if=none,id=d0,file="$dir/disk.img",format=raw -device virtio-blk-device,drive=d0 \
		-kernel "$image" -append vlab.record) >"$dir/qemu.out" 2>&1
	local rc=$? line start size pc traps
	traps=$(tr -d '\r' <"$dir/serial.log" | grep -c '^vlab: trap: ')
	line=$(tr -d '\r' <"$dir/serial.log" | grep -m1 '^vlab: trap: ')
	read -r start size < <("$nm" -S "$image" | awk '$4 == "arch_semihost" { print $1, $2 }')
	pc=$(sed -n 's/.* pc 0x\([0-9a-f]*\) .*/\1/p' <<<"$line")
	echo "$target: exit $rc; $traps trap lines, the first: ${line:-none}; arch_semihost at 0x${start:-?} (0x${size:-?} bytes)"
	if [ "$rc" != "${TARGET_TRAP_EXIT[$target]}" ] || [ "$traps" != 1 ] || [ -z "$pc" ] || [ -z "$size" ] ||
		((16#$pc < 16#$start || 16#$pc >= 16#$start + 16#$size)); then
		echo "FAIL: not one trap with a pc inside arch_semihost and exit ${TARGET_TRAP_EXIT[$target]}; the console:"
		tr -d '\r' <"$dir/serial.log" | grep -v '^T: ' | tail -5 | sed 's/^/    /'
		return 1
	fi
	echo "pass"
}
if [ -n "$trap_target" ]; then
	trap_check "$trap_target"
	exit
fi

# Each target's image once, before the rows (a failed build fails its rows).
declare -A image_ok=()
for r in "${rows[@]}"; do
	read -r target _ _ <<<"$r"
	[ -n "${image_ok[$target]:-}" ] && continue
	if build_image "$target" "$work/build-$target.log"; then
		image_ok[$target]=1
	else
		image_ok[$target]=0
		echo "== the $target image does not build ($work/build-$target.log):"
		tail -20 "$work/build-$target.log" | sed 's/^/    /'
	fi
done

# The rows, up to $jobs at a time; each row's lines are printed together
# when it ends, with the count of rows done; the table keeps the matrix order.
# Named by this runner's PID too: ctest runs one runner per row, several at
# a time, in the same work directory (two runners' ".row-0.log" collided).
row_log() { echo "$work/.row-$$-$1.log"; }
start_row() { # index
	local target transport device ring props
	read -r target transport device ring props <<<"${rows[$1]}"
	(
		row_index=$1
		trap row_cleanup EXIT
		trap 'exit 143' TERM INT
		t0=$(now)
		if [ "${image_ok[$target]}" = 1 ] && run_row "$target" "$transport" "$device" "$ring" "$props"; then res=pass; else res=FAIL; fi
		t1=$(now)
		echo "$res $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >"$(row_log "$1").result"
	) >"$(row_log "$1")" 2>&1 &
	row_of_pid[$!]=$1
}
finish_row() { # index
	local target transport device ring props res secs
	read -r target transport device ring props <<<"${rows[$1]}"
	ring=${ring:-split}
	read -r res secs <"$(row_log "$1").result" 2>/dev/null || { res=FAIL; secs=0; }
	done_rows=$((done_rows + 1))
	printf '== %s %s %s %s%s: %s (%.2fs) [%d/%d]\n' "$target" "$transport" "$device" "$ring" "${props:+ $props}" "$res" \
		"$secs" "$done_rows" "${#rows[@]}"
	[ "${image_ok[$target]}" = 1 ] || echo "  the $target image does not build"
	cat "$(row_log "$1")"
	rm -f "$(row_log "$1")" "$(row_log "$1").result"
	[ "$res" = pass ] || fails=$((fails + 1))
	results[$1]=$(printf '%-20s %-16s %-6s %-12s %-5s %6.2fs%s' "$target" "$transport" "$device" "$ring" "$res" "$secs" \
		"${props:+ $props}")
}
declare -A row_of_pid=()
trap '[ ${#row_of_pid[@]} = 0 ] || kill "${!row_of_pid[@]}" 2>/dev/null' EXIT
results=()
fails=0
done_rows=0
next=0
m0=$(now)
while [ $next -lt ${#rows[@]} ] || [ ${#row_of_pid[@]} -gt 0 ]; do
	while [ $next -lt ${#rows[@]} ] && [ ${#row_of_pid[@]} -lt "$jobs" ]; do
		start_row $next
		next=$((next + 1))
	done
	ended=""
	wait -n -p ended
	[ -n "$ended" ] || continue
	i=${row_of_pid[$ended]}
	unset "row_of_pid[$ended]"
	finish_row "$i"
done
m1=$(now)

echo
printf '%-20s %-16s %-6s %-12s %-5s %7s\n' target transport device ring result time
for l in "${results[@]}"; do echo "$l"; done
printf '%d rows, %d failed, in %.1fs (%d at a time)\n' "${#rows[@]}" "$fails" \
	"$(awk -v a="$m0" -v b="$m1" 'BEGIN { print b - a }')" "$jobs"
[ $fails = 0 ]
