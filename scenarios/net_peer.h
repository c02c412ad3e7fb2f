/* SPDX-License-Identifier: MIT */
/*
 * The frames the net scenario exchanges with its peer, and the peer.
 * Freestanding: the scenario (image and host) builds frames and checks
 * answers with it; the peer logic runs in the host tool, both behind the
 * model's NIC (a backend) and on loopback UDP for QEMU's dgram netdev.
 *
 * Frame k (0 <= k < SC_NET_NFRAMES) is sc_net_frame_len(k, largest) bytes: destination
 * the peer's MAC, source the NIC's, EtherType SC_NET_ETHERTYPE, then a
 * payload whose byte j is sc_net_payload_byte(k, j).  The peer checks that
 * the frame it gets is frame k (k counting up from 0) and answers it with
 * a frame of the same length: the MACs swapped and payload byte j XORed
 * with sc_net_answer_mask(j).  A frame it does not expect is not answered.
 */
#ifndef VLAB_SC_NET_PEER_H
#define VLAB_SC_NET_PEER_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SC_NET_ETHERTYPE 0x88b5u /* IEEE 802 local experimental */
/* Frames 0 .. SC_NET_NSINGLE-1 go one at a time (each answered before the
 * next is sent): 14 (a bare header) up to 1514 (14 + the MTU of 1500),
 * below and at the 60-byte Ethernet minimum, odd sizes, the largest.  The
 * SC_NET_NBURST after them go out together, answers coming back while the
 * rest are still being sent. */
#define SC_NET_NSINGLE 13u
#define SC_NET_NBURST 8u
#define SC_NET_NFRAMES (SC_NET_NSINGLE + SC_NET_NBURST)
#define SC_NET_SIZES_INIT                                                   \
	{14, 15, 42, 59, 60, 61, 64, 128, 333, 512, 1000, 1513, 1514, /* single */ \
	 64, 1514, 100, 1000, 14, 512, 60, 1400 /* burst */}
#define SC_NET_MAX_FRAME 1514u
/* Frames SC_NET_K_LARGEST - 1 and SC_NET_K_LARGEST are the NIC's largest
 * frame less one and its largest (14 + MTU): 1513 and 1514 as listed when
 * the MTU is 1500 or less, 9013 and 9014 with QEMU's host_mtu=9000; the
 * peer takes any length from the listed one up to SC_NET_PEER_MAX_FRAME
 * for them (it does not know the MTU). */
#define SC_NET_K_LARGEST 12u
/* The longest frame the peer answers: 14 + the largest MTU (65535). */
#define SC_NET_PEER_MAX_FRAME (14u + 65535u)

/* The peer's MAC: locally administered, unicast. */
extern const uint8_t sc_net_peer_mac[6];
/* Frame k's length on a NIC whose largest frame is largest bytes (0 for k
 * out of range). */
uint32_t sc_net_frame_len(unsigned k, uint32_t largest);
/* Build frame k of len bytes from the NIC's MAC into buf. */
void sc_net_build_frame(unsigned k, uint32_t len, const uint8_t nic_mac[6], uint8_t *buf);
/* Build the answer to frame k (len bytes) for that NIC. */
void sc_net_build_answer(unsigned k, uint32_t len, const uint8_t nic_mac[6], uint8_t *buf);

struct sc_net_peer {
	unsigned next;            /* the frame expected next */
	unsigned answered, rejected;
	bool have_mac;
	uint8_t nic_mac[6];       /* the source of frame 0: later frames must match */
	char why[96];             /* the last rejection */
};

void sc_net_peer_init(struct sc_net_peer *p);
/*
 * One frame from the NIC: true with the answer in ans (*ans_len bytes; ans
 * holds SC_NET_PEER_MAX_FRAME) when it is the frame expected next, false (and
 * p->why) otherwise.
 */
bool sc_net_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                       uint32_t *ans_len);
/* Every frame came, none rejected. */
bool sc_net_peer_done(const struct sc_net_peer *p);

#ifdef __cplusplus
}
#endif
#endif
