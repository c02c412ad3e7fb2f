/* SPDX-License-Identifier: MIT */
/* Inside the virtio-net model: what net.c, net_backend.c and net_pcap.c share. */
#ifndef DM_NET_INTERNAL_H
#define DM_NET_INTERNAL_H

#include "devmodel/net.h"

/* Write one frame to the capture, if one is open. */
void dm_net_capture_frame(struct dm_net *n, const uint8_t *frame, uint32_t len);

/* A frame's TCP or UDP segment, as its own headers place it (5.1.6.2's
 * csum_start / csum_offset). */
struct dm_net_seg {
	uint32_t l3;        /* IP header */
	uint32_t start;     /* TCP/UDP header: csum_start */
	uint32_t csum_off;  /* checksum field from start: csum_offset */
	uint32_t end;       /* end of the segment by the IP length */
	bool v4, udp;
	uint64_t pseudo;    /* pseudo-header sum (not folded) */
};
/* Ethernet [+ 802.1Q] + IPv4 (no fragment) or IPv6 (no extension header)
 * + TCP/UDP: true with *s filled. */
bool dm_net_seg_parse(const uint8_t *f, uint32_t len, struct dm_net_seg *s);
/* The Internet checksum's running sum over p[0..len), big-endian words. */
uint64_t dm_net_sum(const uint8_t *p, uint32_t len, uint64_t acc);
uint16_t dm_net_sum_fold(uint64_t acc);
/* The IPv4 header checksum right (true for IPv6, which has none). */
bool dm_net_seg_ip_ok(const uint8_t *f, const struct dm_net_seg *s);
/* The segment's checksum right, over the pseudo-header. */
bool dm_net_seg_csum_ok(const uint8_t *f, const struct dm_net_seg *s);
/* Fill in the segment's checksum (its field taken as 0). */
void dm_net_seg_csum_fill(uint8_t *f, const struct dm_net_seg *s);

#endif
