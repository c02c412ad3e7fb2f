/* SPDX-License-Identifier: MIT */
/*
 * TCP/UDP checksum work for virtio-net's CSUM and GUEST_CSUM (5.1.6.2,
 * 5.1.6.4): where a frame's checksum is, by the frame's own headers, and
 * the Internet checksum.  The frame is the driver's private copy, never
 * device memory, so every byte is read once.
 */
#include "net_csum_priv.h"
#include "vlab/config.h"

#if VLAB_CFG_NET && VLAB_CFG_NET_EXTRA /* vlab/config.h */

#define ETH_HLEN 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

static uint32_t be16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

static uint16_t fold64(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

uint16_t vlab_net_csum_fold(uint32_t sum)
{
	return fold64(sum);
}

uint16_t vlab_net_csum_add(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint64_t s = sum;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += be16(p + i);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	return fold64(s);
}

/* The transport: TCP or UDP, its header inside [start, end). */
static int l4_proto(uint32_t proto, uint32_t start, uint32_t end, struct vlab_net_l4 *l4)
{
	uint32_t min;

	if (proto == IPPROTO_TCP_) {
		l4->field = 16;
		min = 20;
	} else if (proto == IPPROTO_UDP_) {
		l4->field = 6;
		min = 8;
	} else {
		return -1;
	}
	if (end < start || end - start < min)
		return -1;
	l4->start = start;
	l4->end = end;
	/* The segment's length and protocol, both in the pseudo-header. */
	l4->pseudo += (end - start) + proto;
	return 0;
}

int vlab_net_l4_find(const uint8_t *f, uint32_t len, struct vlab_net_l4 *l4)
{
	uint32_t off = ETH_HLEN, type;

	l4->pseudo = 0;
	l4->udp4 = false;
	if (len < ETH_HLEN)
		return -1;
	type = be16(f + 12);
	if (type == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + 4u)
			return -1;
		type = be16(f + 16);
		off += 4;
	}
	if (type == ETHERTYPE_IPV4) {
		uint32_t ihl, total;
		if (len - off < 20u || (f[off] >> 4) != 4u)
			return -1;
		ihl = (f[off] & 0x0fu) * 4u;
		total = be16(f + off + 2);
		/* Not a fragment: neither more fragments nor an offset. */
		if (ihl < 20u || total < ihl || total > len - off || (be16(f + off + 6) & 0x3fffu))
			return -1;
		l4->pseudo = vlab_net_csum_add(f + off + 12, 8, 0); /* source, destination */
		l4->udp4 = f[off + 9] == IPPROTO_UDP_;
		return l4_proto(f[off + 9], off + ihl, off + total, l4);
	}
	if (type == ETHERTYPE_IPV6) {
		uint32_t payload;
		if (len - off < 40u || (f[off] >> 4) != 6u)
			return -1;
		payload = be16(f + off + 4);
		if (payload > len - off - 40u)
			return -1;
		l4->pseudo = vlab_net_csum_add(f + off + 8, 32, 0); /* source, destination */
		return l4_proto(f[off + 6], off + 40u, off + 40u + payload, l4);
	}
	return -1;
}

bool vlab_net_l4_csum_ok(const uint8_t *f, const struct vlab_net_l4 *l4)
{
	return vlab_net_csum_add(f + l4->start, l4->end - l4->start, l4->pseudo) == 0xffffu;
}

#else
typedef int vlab_net_csum_compiled_out; /* ISO C: no empty translation unit */
#endif
