/* SPDX-License-Identifier: MIT */
/* The net scenario's frames and the peer that answers them (net_peer.h). */
#include "net_peer.h"

#include "vlab/virtio.h"

const uint8_t sc_net_peer_mac[6] = {0x02, 0x76, 0x6c, 0x61, 0x62, 0x01}; /* 02:"vlab":01 */

static const uint16_t sizes[SC_NET_NFRAMES] = SC_NET_SIZES_INIT;

uint32_t sc_net_frame_len(unsigned k, uint32_t largest)
{
	if (k >= SC_NET_NFRAMES)
		return 0;
	if ((k == SC_NET_K_LARGEST || k + 1 == SC_NET_K_LARGEST) && largest > SC_NET_MAX_FRAME)
		return largest - (SC_NET_K_LARGEST - k);
	return sizes[k];
}

static uint8_t payload_byte(unsigned k, uint32_t j)
{
	/* The first two bytes name the frame; the rest differ per frame. */
	if (j == 0)
		return (uint8_t)k;
	if (j == 1)
		return (uint8_t)~k;
	return (uint8_t)(k * 37u + j * 13u + (j >> 8));
}

static uint8_t answer_mask(uint32_t j)
{
	return (uint8_t)(0x5au ^ j);
}

static void header(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6])
{
	vlab_memcpy(buf, dst, 6);
	vlab_memcpy(buf + 6, src, 6);
	buf[12] = (uint8_t)(SC_NET_ETHERTYPE >> 8);
	buf[13] = (uint8_t)SC_NET_ETHERTYPE;
}

void sc_net_build_frame(unsigned k, uint32_t len, const uint8_t nic_mac[6], uint8_t *buf)
{
	header(buf, sc_net_peer_mac, nic_mac);
	for (uint32_t j = 0; j + 14 < len; j++)
		buf[14 + j] = payload_byte(k, j);
}

void sc_net_build_answer(unsigned k, uint32_t len, const uint8_t nic_mac[6], uint8_t *buf)
{
	header(buf, nic_mac, sc_net_peer_mac);
	for (uint32_t j = 0; j + 14 < len; j++)
		buf[14 + j] = (uint8_t)(payload_byte(k, j) ^ answer_mask(j));
}

/* ---- the checksum frame ---- */

static const uint8_t csum_ip_nic[4] = {192, 0, 2, 1}, csum_ip_peer[4] = {192, 0, 2, 2};

/* The Internet checksum's running sum (RFC 1071), not folded. */
static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += ((uint32_t)p[i] << 8) | p[i + 1];
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The UDP pseudo-header's sum (RFC 768) for the frame at f. */
static uint32_t pseudo_sum(const uint8_t *f)
{
	return sum16(f + 26, 8, 0) + 17u + (SC_NET_CSUM_LEN - SC_NET_CSUM_START);
}

static void build_udp(const uint8_t dst[6], const uint8_t src[6], const uint8_t ip_src[4],
                      const uint8_t ip_dst[4], unsigned sport, bool answer, bool partial, uint8_t *f)
{
	vlab_memcpy(f, dst, 6);
	vlab_memcpy(f + 6, src, 6);
	put16(f + 12, 0x0800u);
	uint8_t *ip = f + 14, *udp = f + SC_NET_CSUM_START;
	vlab_memset(ip, 0, 20);
	ip[0] = 0x45;                               /* IPv4, 20-byte header */
	put16(ip + 2, SC_NET_CSUM_LEN - 14u);       /* total length */
	put16(ip + 6, 0x4000u);                     /* don't fragment */
	ip[8] = 64;                                 /* TTL */
	ip[9] = 17;                                 /* UDP */
	vlab_memcpy(ip + 12, ip_src, 4);
	vlab_memcpy(ip + 16, ip_dst, 4);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	put16(udp, sport);
	put16(udp + 2, answer ? SC_NET_CSUM_PORT : SC_NET_CSUM_PORT + 1u);
	put16(udp + 4, SC_NET_CSUM_LEN - SC_NET_CSUM_START);
	put16(udp + 6, 0);
	for (uint32_t j = 0; j < SC_NET_CSUM_PAYLOAD; j++) {
		uint8_t b = payload_byte(SC_NET_NFRAMES, j);
		udp[8 + j] = answer ? (uint8_t)(b ^ answer_mask(j)) : b;
	}
	/* Partial: the pseudo-header sum, folded, not complemented. */
	put16(udp + 6, fold(pseudo_sum(f)));
	if (!partial)
		(void)sc_net_csum_complete(f, SC_NET_CSUM_LEN, SC_NET_CSUM_START, SC_NET_CSUM_OFFSET);
}

void sc_net_build_csum_frame(const uint8_t nic_mac[6], bool partial, uint8_t *buf)
{
	build_udp(sc_net_peer_mac, nic_mac, csum_ip_nic, csum_ip_peer, SC_NET_CSUM_PORT, false, partial, buf);
}

void sc_net_build_csum_answer(const uint8_t nic_mac[6], bool partial, uint8_t *buf)
{
	build_udp(nic_mac, sc_net_peer_mac, csum_ip_peer, csum_ip_nic, SC_NET_CSUM_PORT + 1u, true, partial, buf);
}

bool sc_net_csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t off)
{
	if (start >= len || off > len - start || len - start - off < 2)
		return false;
	/* The field holds the pseudo-header sum, so the sum from start
	 * covers the pseudo-header too. */
	put16(f + start + off, (uint16_t)~fold(sum16(f + start, len - start, 0)));
	return true;
}

bool sc_net_udp_csum_ok(const uint8_t *f, uint32_t len)
{
	if (len != SC_NET_CSUM_LEN || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17)
		return false;
	return fold(sum16(f + 14, 20, 0)) == 0xffffu &&
	       fold(sum16(f + SC_NET_CSUM_START, len - SC_NET_CSUM_START, pseudo_sum(f))) == 0xffffu;
}

void sc_net_peer_init(struct sc_net_peer *p)
{
	vlab_memset(p, 0, sizeof *p);
}

static bool reject(struct sc_net_peer *p, const char *why, uint32_t len)
{
	p->rejected++;
	vlab_snprintf(p->why, sizeof p->why, "frame of %u bytes (expecting frame %u): %s", (unsigned)len,
	              p->next, why);
	return false;
}

/* frame (len bytes) is frame k from the NIC nic_mac. */
static bool is_frame(unsigned k, const uint8_t nic_mac[6], const uint8_t *frame, uint32_t len)
{
	uint8_t head[14];
	header(head, sc_net_peer_mac, nic_mac);
	if (vlab_memcmp(frame, head, sizeof head) != 0)
		return false;
	for (uint32_t j = 0; j + 14 < len; j++)
		if (frame[14 + j] != payload_byte(k, j))
			return false;
	return true;
}

/* The checksum frame (IPv4): checked whole, its checksums included. */
static bool csum_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                       uint32_t *ans_len)
{
	if (p->csum_answered)
		return reject(p, "the checksum frame again", len);
	if (len != SC_NET_CSUM_LEN)
		return reject(p, "an IPv4 frame, not the checksum frame's length", len);
	if (frame[6] & 1u)
		return reject(p, "multicast source address", len);
	if (!sc_net_udp_csum_ok(frame, len))
		return reject(p, "the checksum frame: IPv4 or UDP checksum wrong", len);
	const uint8_t *mac = p->have_mac ? p->nic_mac : frame + 6;
	sc_net_build_csum_frame(mac, false, ans);
	if (vlab_memcmp(frame, ans, len) != 0)
		return reject(p, "content differs from the checksum frame", len);
	if (!p->have_mac) {
		vlab_memcpy(p->nic_mac, frame + 6, 6);
		p->have_mac = true;
	}
	sc_net_build_csum_answer(p->nic_mac, true, ans);
	*ans_len = len;
	p->csum_answered = p->last_csum = p->ans_partial = true;
	return true;
}

bool sc_net_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                       uint32_t *ans_len)
{
	p->last_csum = p->ans_partial = false;
	if (len >= 14 && frame[12] == 0x08 && frame[13] == 0x00)
		return csum_frame(p, frame, len, ans, ans_len);
	if (p->next >= SC_NET_NFRAMES)
		return reject(p, "all frames were answered already", len);
	/* The largest frames: from the listed length up to the longest
	 * there is (the NIC's MTU is not known here). */
	const uint32_t listed = sc_net_frame_len(p->next, 0);
	const bool scales = sc_net_frame_len(p->next, SC_NET_PEER_MAX_FRAME) != listed;
	if (len != listed && !(scales && len > listed && len <= SC_NET_PEER_MAX_FRAME))
		return reject(p, "wrong length", len);
	if (frame[6] & 1u)
		return reject(p, "multicast source address", len);
	if (!p->have_mac) {
		vlab_memcpy(p->nic_mac, frame + 6, 6);
		p->have_mac = true;
	}
	if (!is_frame(p->next, p->nic_mac, frame, len))
		return reject(p, "content differs from the frame expected", len);
	sc_net_build_answer(p->next, len, p->nic_mac, ans);
	*ans_len = len;
	p->next++;
	p->answered++;
	return true;
}

bool sc_net_peer_done(const struct sc_net_peer *p)
{
	return p->next == SC_NET_NFRAMES && p->rejected == 0;
}
