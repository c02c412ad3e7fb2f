/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum of TCP and UDP over IPv4 and IPv6 (RFC 1071, 768,
 * 793, 8200), for the checksum offloads of 5.1.6.2 and 5.1.6.4: the model
 * completes what the driver asks it to, checks what the driver put in the
 * checksum field, and validates the frames it marks DATA_VALID.
 */
#include <string.h>

#include "net_internal.h"

static unsigned be(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

uint64_t dm_net_sum(const uint8_t *p, uint32_t len, uint64_t acc)
{
	while (len >= 2) {
		acc += be(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint64_t)p[0] << 8; /* odd length: padded with a zero byte */
	return acc;
}

uint16_t dm_net_sum_fold(uint64_t acc)
{
	do
		acc = (acc >> 16) + (acc & 0xffff);
	while (acc > 0xffff);
	return (uint16_t)acc;
}

bool dm_net_seg_parse(const uint8_t *f, uint32_t len, struct dm_net_seg *s)
{
	uint32_t l3 = 14, hl, iplen;
	unsigned type, proto;

	if (len < 14)
		return false;
	type = be(f + 12);
	if (type == 0x8100) { /* one VLAN tag */
		if (len < 18)
			return false;
		type = be(f + 16);
		l3 = 18;
	}
	memset(s, 0, sizeof *s);
	s->l3 = l3;
	if (type == 0x0800 && len >= l3 + 20 && f[l3] >> 4 == 4) {
		hl = 4u * (f[l3] & 15u);
		iplen = be(f + l3 + 2);
		if (hl < 20 || iplen < hl || l3 + iplen > len || (be(f + l3 + 6) & 0x3fff) != 0)
			return false;
		proto = f[l3 + 9];
		s->v4 = true;
		s->pseudo = dm_net_sum(f + l3 + 12, 8, 0);
	} else if (type == 0x86dd && len >= l3 + 40 && f[l3] >> 4 == 6) {
		hl = 40;
		iplen = 40 + be(f + l3 + 4);
		if (l3 + iplen > len)
			return false;
		proto = f[l3 + 6];
		s->pseudo = dm_net_sum(f + l3 + 8, 32, 0);
	} else {
		return false;
	}
	if (proto != 6 && proto != 17)
		return false;
	s->udp = proto == 17;
	s->start = l3 + hl;
	s->end = l3 + iplen;
	s->csum_off = s->udp ? 6 : 16;
	if (s->end - s->start < (s->udp ? 8u : 20u))
		return false;
	s->pseudo += proto + (s->end - s->start);
	return true;
}

bool dm_net_seg_ip_ok(const uint8_t *f, const struct dm_net_seg *s)
{
	return !s->v4 || dm_net_sum_fold(dm_net_sum(f + s->l3, s->start - s->l3, 0)) == 0xffff;
}

bool dm_net_seg_csum_ok(const uint8_t *f, const struct dm_net_seg *s)
{
	return dm_net_sum_fold(dm_net_sum(f + s->start, s->end - s->start, s->pseudo)) == 0xffff;
}

void dm_net_seg_csum_fill(uint8_t *f, const struct dm_net_seg *s)
{
	uint8_t *c = f + s->start + s->csum_off;
	uint16_t v;

	c[0] = c[1] = 0;
	v = (uint16_t)~dm_net_sum_fold(dm_net_sum(f + s->start, s->end - s->start, s->pseudo));
	if (v == 0 && s->udp)
		v = 0xffff; /* 0 means "no checksum" for UDP */
	c[0] = (uint8_t)(v >> 8);
	c[1] = (uint8_t)v;
}
