#!/usr/bin/env bash
# vlab's net command end to end: a ping between two NICs joined by a wire,
# over every transport vlab knows, a capture of it read back by tshark, and
# the messages for bad --net options.
#   bash net_test.sh <vlab-binary> <scratch-dir>
set -euo pipefail

. "$(dirname "$0")/lib.sh" "$@"

# Every transport vlab accepts, each one checked (a transport that fails
# fails the test, it is not left out).
for t in mmio mmio-legacy pci pci-transitional pci-legacy; do
	check "ping between two NICs on a wire over $t"
	run 0 --net backend=wire,transport=$t --net backend=wire,transport=$t -c 'net ping 0 1 4'
	contains "ARP: 192.168.76.2 is at 52:54:00:12:34:57"
	contains "64 bytes from 192.168.76.2: icmp_seq=4 ttl=64"
	contains "4 packets transmitted, 4 received, 0% packet loss"
done

check "ping across transports, deferred device work, the reverse way"
run 0 --sched deferred --seed 5 --net backend=wire,transport=mmio-legacy,mtu=9000 \
	--net backend=wire,mac=02:00:00:00:00:07 -c 'net ping 1 0 2'
contains "ARP: 192.168.76.1 is at 52:54:00:12:34:56"
contains "2 packets transmitted, 2 received, 0% packet loss"

check "no wire, no answer: ping fails"
run 1 --net backend=loop --net backend=loop -c 'net ping'
contains "ARP: no answer from 192.168.76.2"

check "net numbers are hex, as every vlab command's (U-Boot's rule)"
run 0 --net backend=loop -c 'net send 0 self 3c 2; net send 0 self 0x10; net recv 0'
contains "net 0: sent 2 frames of 60 bytes"
contains "net 0: sent 1 frame of 16 bytes"
contains "net 0: 3 frames received"
run 0 --net backend=wire --net backend=wire -c 'net ping 0 1 a'
contains "10 packets transmitted, 10 received"
run 1 --net backend=loop -c 'net send 0 self 60z'
contains "net send: '60z' is not a length (hex, as every number here)"

check "net info shows MAC, link, MTU and statistics"
run 0 --net mac=none,mtu=4000 -c 'net send 0 self 64 3; net recv 0; net info'
contains "MTU 4000"
contains "locally administered"
contains "link up"
contains "rx 3 frames 300 bytes, tx 3 frames 300 bytes"
contains "net 0: 3 frames received"

check "net info of one NIC, and of one that does not exist"
run 0 --net backend=loop --net backend=loop -c 'net info 1'
contains "net 1: virtio-net"
lacks "net 0:"
run 1 --net backend=loop -c 'net info 3'
contains "net info: no network device 3 (there are 1)"

check "a capture of the ping that tshark reads"
run 0 --net backend=wire --net backend=wire -c 'net capture 0 ping.pcap; net ping 0 1 2; net capture 0 off'
contains "capture stopped (6 frames)"
[[ -s ping.pcap ]] || fail "ping.pcap not written"
if have_tool tshark tshark; then
	tshark -r ping.pcap >out.txt 2>/dev/null || fail "tshark cannot read ping.pcap"
	contains "Who has 192.168.76.2? Tell 192.168.76.1"
	contains "192.168.76.2 is at 52:54:00:12:34:57"
	contains "Echo (ping) request"
	contains "Echo (ping) reply"
	[[ $(wc -l <out.txt) == 6 ]] || fail "tshark lists $(wc -l <out.txt) frames, expected 6"
fi

check "backend=pcap writes what the NIC sends"
run 0 --net backend=pcap=sent.pcap -c 'net send 0 bcast 3c 5'
[[ -s sent.pcap ]] || fail "sent.pcap not written"
if have_tool tshark tshark; then
	[[ $(tshark -r sent.pcap 2>/dev/null | wc -l) == 5 ]] || fail "sent.pcap does not hold 5 frames"
fi

check "bad --net options: a message and exit status 2"
run 2 --net mtu=60
contains "mtu '60' is not a number from 68 to 65535"
run 2 --net mac=01:00:00:00:00:01
contains "is not a unicast MAC address"
run 2 --net backend=carrier-pigeon
contains "unknown option 'backend=carrier-pigeon'"
run 2 --net transport=usb
contains "unknown transport 'usb'"

check "bad net commands fail cleanly"
run 1 --net backend=loop -c 'net ping 0 5'
contains "no network device 5"
run 1 --net backend=loop -c 'net send 0 self 9999'
contains "length 0x9999 (39321 bytes) outside 0xe..0x5ea (14..1514: 14 + MTU)"
run 1 --net backend=loop -c 'net capture 0 /nonexistent-dir/x.pcap'
contains "nonexistent-dir"

finish
