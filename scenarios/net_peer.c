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

bool sc_net_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                       uint32_t *ans_len)
{
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
