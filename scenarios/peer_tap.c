/* SPDX-License-Identifier: MIT */
/*
 * vlab-scenario peer-tap: the net scenario's peer for QEMU over a tap
 * netdev (run-matrix.sh's tap rows).  The runner made the tap in a network
 * namespace of the row's own and runs QEMU and this peer inside it, so
 * the only traffic is theirs.  A packet socket bound to the tap, with
 * PACKET_VNET_HDR: each frame QEMU's NIC sent comes with the virtio-net
 * header QEMU handed the tap, so a frame the driver left its checksum to
 * (NEEDS_CSUM) is completed here at csum_start + csum_offset, as a NIC
 * would, and an answer the peer leaves partial goes out with a NEEDS_CSUM
 * header for QEMU (and the guest) to see.  Frames not addressed to the
 * peer's MAC (anything the kernel might send) and the peer's own are
 * ignored.  Writes the ready file once bound; ends by itself when every
 * frame was answered, or at the deadline.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host_tool.h"
#include "net_peer.h"

#define VNET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr)) /* 10: PACKET_VNET_HDR's header */

/* One frame and its header from the tap (the header's fields in the
 * host's order: PACKET_VNET_HDR's legacy header): its checksum completed
 * when the header asks for it; false (with a message) for a header no NIC
 * could act on. */
static bool take_frame(const uint8_t *raw_hdr, uint8_t *frame, uint32_t len, unsigned *completed)
{
	struct virtio_net_hdr h;
	memcpy(&h, raw_hdr, sizeof h);
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		fprintf(stderr, "peer-tap: a frame of %u bytes with gso_type %u: not asked for\n", len, h.gso_type);
		return false;
	}
	if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return true;
	if (!sc_net_csum_complete(frame, len, h.csum_start, h.csum_offset)) {
		fprintf(stderr, "peer-tap: NEEDS_CSUM with csum_start %u csum_offset %u outside a frame of %u bytes\n",
		        (unsigned)h.csum_start, (unsigned)h.csum_offset, len);
		return false;
	}
	(*completed)++;
	return true;
}

int cmd_peer_tap(int argc, char **argv)
{
	const char *ifname = NULL, *ready = NULL;
	double timeout = 30;
	for (int i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ifname"))
			ifname = argv[i + 1];
		else if (!strcmp(argv[i], "--ready-file"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[i + 1]);
		else
			return host_usage();
	}
	if (!ifname || !ready || argc % 2 != 0 || !(timeout > 0))
		return host_usage();
	const unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "peer-tap: no interface %s here: %s\n", ifname, strerror(errno));
		return 1;
	}
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	const int one = 1;
	struct sockaddr_ll me = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	if (s < 0 || setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0 ||
	    bind(s, (struct sockaddr *)&me, sizeof me) != 0) {
		fprintf(stderr, "peer-tap: a packet socket on %s: %s\n", ifname, strerror(errno));
		if (s >= 0)
			close(s);
		return 1;
	}
	FILE *f = fopen(ready, "w");
	if (!f || fprintf(f, "%s\n", ifname) < 0 || fclose(f) != 0) {
		fprintf(stderr, "peer-tap: %s: %s\n", ready, strerror(errno));
		close(s);
		return 1;
	}

	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t buf[VNET_HDR_LEN + 65536], ans[SC_NET_PEER_MAX_FRAME];
	const double deadline = host_peer_deadline(timeout);
	unsigned ignored = 0, completed = 0;
	int w;
	while (p.next < SC_NET_NFRAMES && (w = host_peer_wait(s, deadline)) >= 0) {
		if (w == 0)
			continue;
		struct sockaddr_ll from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		if (n < (ssize_t)(VNET_HDR_LEN + 14))
			continue;
		uint8_t *frame = buf + VNET_HDR_LEN;
		const uint32_t len = (uint32_t)n - VNET_HDR_LEN;
		/* Ours: what QEMU's NIC sent to the peer's MAC, not what the
		 * peer (or the kernel) sent out. */
		if (from.sll_pkttype == PACKET_OUTGOING || memcmp(frame, sc_net_peer_mac, 6) != 0) {
			ignored++;
			continue;
		}
		if (!take_frame(buf, frame, len, &completed)) {
			p.rejected++;
			continue;
		}
		uint32_t alen = 0;
		if (!host_peer_frame(&p, frame, len, ans, &alen))
			continue;
		struct virtio_net_hdr h = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
		if (p.ans_partial) {
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = SC_NET_CSUM_START;
			h.csum_offset = SC_NET_CSUM_OFFSET;
		}
		struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h}, {.iov_base = ans, .iov_len = alen}};
		if (writev(s, iov, 2) != (ssize_t)(sizeof h + alen))
			fprintf(stderr, "peer-tap: sending the answer (%u bytes): %s\n", alen, strerror(errno));
	}
	close(s);
	/* For the row's record: which side completed the checksum. */
	fprintf(stderr, "peer-tap: %u frames came with NEEDS_CSUM (completed here), %u not for the peer ignored\n",
	        completed, ignored);
	return host_peer_verdict(&p);
}
