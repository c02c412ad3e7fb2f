/* SPDX-License-Identifier: MIT */
/*
 * Inside the virtio-net driver: finding a frame's TCP/UDP checksum and the
 * Internet checksum (RFC 1071) over it, for CSUM and GUEST_CSUM (5.1.6.2,
 * 5.1.6.4).  Everything works on the driver's private copy of a frame.
 */
#ifndef VLAB_NET_CSUM_PRIV_H
#define VLAB_NET_CSUM_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/* Where a TCP or UDP segment sits in an Ethernet frame, by its own headers. */
struct vlab_net_l4 {
	uint32_t start;   /* first byte of the TCP/UDP header: csum_start */
	uint32_t field;   /* the checksum field, from start: csum_offset (16 TCP, 6 UDP) */
	uint32_t end;     /* one past the segment's last byte (by the IP length) */
	uint32_t pseudo;  /* the pseudo-header's ones'-complement sum, not folded */
	bool udp4;        /* UDP over IPv4: a checksum of 0 means none */
};

/* 0 with *l4 filled for Ethernet (one optional 802.1Q tag), then IPv4 not
 * fragmented or IPv6 without extension headers, then TCP or UDP, every
 * length inside len; -1 for anything else. */
int vlab_net_l4_find(const uint8_t *f, uint32_t len, struct vlab_net_l4 *l4);
/* The ones'-complement sum of p[0..len) as big-endian 16-bit words, added
 * to sum and folded to 16 bits. */
uint16_t vlab_net_csum_add(const uint8_t *p, uint32_t len, uint32_t sum);
/* sum folded to 16 bits (ones' complement). */
uint16_t vlab_net_csum_fold(uint32_t sum);
/* True when the segment's checksum is right (over the pseudo-header). */
bool vlab_net_l4_csum_ok(const uint8_t *f, const struct vlab_net_l4 *l4);

#endif
