/* SPDX-License-Identifier: MIT */
/*
 * The frames the net scenario exchanges with its peer, and the peer.
 * Freestanding: the scenario (image and host) builds frames and checks
 * answers with it; the peer logic runs in the host tool, both behind the
 * model's NIC (a backend) and behind QEMU's: on loopback UDP for its dgram
 * netdev (peer_udp.c), on a tap for its tap netdev (peer_tap.c).
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

/*
 * The checksum frame (5.1.6.2, 5.1.6.4): sent before frame 0 when the NIC
 * negotiated CSUM or GUEST_CSUM, so the single frames and the burst stay
 * the same on every row.  An IPv4/UDP frame (EtherType 0x0800) of
 * SC_NET_CSUM_LEN bytes from 192.0.2.1 port SC_NET_CSUM_PORT to 192.0.2.2
 * port SC_NET_CSUM_PORT + 1 (TEST-NET-1, RFC 5737: never routed; the
 * frame only ever reaches the peer), a payload of SC_NET_CSUM_PAYLOAD
 * pattern bytes.  Partial: the UDP checksum field holds the pseudo-header
 * sum (DRV-5.1.6.2.1-16), for a device to complete from csum_start
 * SC_NET_CSUM_START at csum_offset SC_NET_CSUM_OFFSET; else the whole
 * checksum.  The peer answers it (whenever it comes, once) with the
 * addresses and ports swapped and the payload XORed as for frame k; the
 * answer goes back partial, for the device (GUEST_CSUM: the driver) to
 * complete.
 */
#define SC_NET_CSUM_PAYLOAD 100u
#define SC_NET_CSUM_LEN (14u + 20u + 8u + SC_NET_CSUM_PAYLOAD)
#define SC_NET_CSUM_START 34u /* the UDP header */
#define SC_NET_CSUM_OFFSET 6u /* its checksum field */
#define SC_NET_CSUM_PORT 47000u
void sc_net_build_csum_frame(const uint8_t nic_mac[6], bool partial, uint8_t *buf);
void sc_net_build_csum_answer(const uint8_t nic_mac[6], bool partial, uint8_t *buf);
/* An IPv4/UDP frame of len bytes (the layout above) whose IPv4 header
 * checksum and UDP checksum are both right. */
bool sc_net_udp_csum_ok(const uint8_t *f, uint32_t len);
/* What a device does for NEEDS_CSUM: the Internet checksum of bytes
 * start .. len-1 stored at start + off; false (nothing written) when that
 * is not inside the frame. */
bool sc_net_csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t off);

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
	bool csum_answered;       /* the checksum frame came and was answered */
	bool last_csum;           /* the last frame answered was the checksum frame */
	bool ans_partial;         /* the last answer goes out partial: a NEEDS_CSUM header
	                             with SC_NET_CSUM_START and SC_NET_CSUM_OFFSET */
};

void sc_net_peer_init(struct sc_net_peer *p);
/*
 * One frame from the NIC, its checksum completed if it was partial: true
 * with the answer in ans (*ans_len bytes; ans holds SC_NET_PEER_MAX_FRAME;
 * p->ans_partial says how to send it) when it is the frame expected next
 * or the checksum frame (the first time, with both checksums right),
 * false (and p->why) otherwise.
 */
bool sc_net_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                       uint32_t *ans_len);
/* Every frame came, none rejected. */
bool sc_net_peer_done(const struct sc_net_peer *p);

#ifdef __cplusplus
}
#endif
#endif
