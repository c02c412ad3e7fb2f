/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver (VIRTIO 1.2, 5.1): receive and transmit queues (one
 * pair, or with MQ up to VLAB_NET_MAX_PAIRS pairs), the control queue when
 * offered.  Frames are copied between the caller's
 * buffers and driver-owned DMA buffers, so callers need no DMA memory.
 *
 * Release rule.  A buffer the driver gave the device (its receive buffers,
 * transmit slots and control buffer) is reused, re-posted or freed only
 * after the device returned it in the used ring, or after a reset the
 * device acknowledged (status read back 0, DRV-2.4.2-1, DRV-3.3.1-2).
 * Whenever the driver gives up on the device (a control command not
 * answered in time, a protocol breach found in a receive, transmit or
 * control completion, DEVICE_NEEDS_RESET) it resets the device first and
 * returns that error; if the device does not acknowledge the reset, the
 * call returns VLAB_EWEDGED instead: the device may still write anything it
 * was given, so the driver keeps (leaks) that memory.  Either way every
 * later call fails fast with VLAB_EBROKEN until vlab_net_init succeeds
 * again, which needs a device that resets.  The caller's own buffers are
 * never given to the device, so they are always the caller's on return.
 */
#ifndef VLAB_NET_H
#define VLAB_NET_H

#include "vlab/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

/* Config layout (5.1.4). */
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS 8
#define VIRTIO_NET_CFG_MTU 10
#define VIRTIO_NET_S_LINK_UP 1u
#define VIRTIO_NET_S_ANNOUNCE 2u

/* Queues (5.1.2), without MQ; with MQ receiveqN is 2(N-1), transmitqN
 * 2(N-1)+1 and the control queue 2 * max_virtqueue_pairs. */
#define VIRTIO_NET_Q_RX 0
#define VIRTIO_NET_Q_TX 1
#define VIRTIO_NET_Q_CTRL 2
#define VLAB_NET_MQ_PAIRS_MAX 0x8000u /* max_virtqueue_pairs is 1..0x8000 (DEV-5.1.4.1-1) */

/* Packet header (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, and num_buffers, which exists with VERSION_1 or MRG_RXBUF. */
#define VIRTIO_NET_HDR_LEN_LEGACY 10u
#define VIRTIO_NET_HDR_LEN 12u
#define VIRTIO_NET_HDR_OFF_FLAGS 0
#define VIRTIO_NET_HDR_OFF_GSO_TYPE 1
#define VLAB_NET_HDR_OFF_CSUM_START 6
#define VLAB_NET_HDR_OFF_CSUM_OFFSET 8
#define VIRTIO_NET_HDR_OFF_NUM_BUFFERS 10
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_F_RSC_INFO 4u
#define VIRTIO_NET_HDR_GSO_NONE 0u

/* Control queue (5.1.6.5). */
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define VLAB_NET_CTRL_MQ 4
#define VLAB_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK 0u
#define VIRTIO_NET_ERR 1u

#define VLAB_ETH_ALEN 6u
#define VLAB_ETH_HLEN 14u
#define VLAB_NET_MTU_DEFAULT 1500u
#define VLAB_NET_MTU_MIN 68u /* DEV-5.1.4.1-2 */

/* Driver caps; private state is sized by them. */
#ifndef VLAB_NET_RX_BUFS
#define VLAB_NET_RX_BUFS 64
#endif
#ifndef VLAB_NET_TX_SLOTS
#define VLAB_NET_TX_SLOTS 32
#endif
/* Queue pairs the driver uses at most with MQ (1: MQ is not negotiated).
 * Receive buffers and transmit slots are shared out among the pairs used. */
#ifndef VLAB_NET_MAX_PAIRS
#define VLAB_NET_MAX_PAIRS 4
#endif
#if VLAB_NET_MAX_PAIRS < 1 || VLAB_NET_MAX_PAIRS > VLAB_NET_RX_BUFS || VLAB_NET_MAX_PAIRS > VLAB_NET_TX_SLOTS
#error "VLAB_NET_MAX_PAIRS: 1 to the receive buffers and transmit slots (VLAB_NET_RX_BUFS, VLAB_NET_TX_SLOTS)"
#endif
/* Entries per MAC filter table (unicast, multicast) the driver sends. */
#define VLAB_NET_MAC_TABLE_MAX 16

/* Why a received frame was dropped; every drop is counted by reason. */
enum vlab_net_drop {
	VLAB_NET_DROP_SHORT = 0,   /* used.len below header + Ethernet header */
	VLAB_NET_DROP_LONG,        /* frame longer than MTU + Ethernet header */
	VLAB_NET_DROP_NUM_BUFFERS, /* num_buffers 0, above the buffers posted, or more than the used ring holds */
	VLAB_NET_DROP_MERGE,       /* a merged buffer other than the last not full */
	VLAB_NET_DROP_GSO,         /* gso_type other than NONE (nothing negotiated) */
	VLAB_NET_DROP_PROTO,       /* the used ring itself was invalid (device broken) */
	VLAB_NET_DROP_CSUM,        /* a checksum claim that lied: NEEDS_CSUM with csum_start/offset
	                              not at the frame's TCP/UDP checksum or a wrong pseudo-header
	                              sum; DATA_VALID on a bad checksum (rx_csum_verify) */
	VLAB_NET_DROP_QUEUE,       /* received on a receive queue beyond the pairs in use
	                              (DEV-5.1.6.5.6.2-2 broken) */
	VLAB_NET_DROP_COUNT
};
const char *vlab_net_drop_name(enum vlab_net_drop r);

/*
 * What is known of a received frame's TCP/UDP checksum (GUEST_CSUM,
 * docs/attack-surface.md N9-N11).  The device's flags are claims: the
 * driver never reports a checksum as verified on the device's word.
 */
enum vlab_net_csum {
	VLAB_NET_CSUM_NONE = 0,  /* not checked: no claim (DRV-5.1.6.4.2-5), or GUEST_CSUM not
	                            negotiated; the caller verifies */
	VLAB_NET_CSUM_DEVICE,    /* DATA_VALID: the device says it verified it; untrusted
	                            (vlab_net_cfg.rx_csum_verify checks it instead) */
	VLAB_NET_CSUM_VERIFIED,  /* the driver verified the checksum in software */
	VLAB_NET_CSUM_COMPLETED, /* NEEDS_CSUM: the driver checked csum_start/csum_offset and the
	                            pseudo-header sum against the frame's own headers and filled
	                            in the checksum; the payload had none to verify (the device's
	                            word that it is intact) */
};
const char *vlab_net_csum_name(enum vlab_net_csum c);

struct vlab_net_stats {
	uint64_t rx_frames, rx_bytes;     /* delivered to the caller */
	uint64_t tx_frames, tx_bytes;     /* handed to the device */
	uint64_t tx_completed;            /* transmit buffers reclaimed */
	uint64_t tx_busy;                 /* sends refused with VLAB_EBUSY */
	uint64_t rx_dropped[VLAB_NET_DROP_COUNT];
	uint64_t rx_buffers_posted;
	uint64_t rx_buffers_discarded;    /* taken back unread after a num_buffers that lied */
	uint64_t link_changes;            /* link state changes seen */
	uint64_t config_interrupts;
	uint64_t ctrl_commands, ctrl_errors;
	uint64_t tx_dropped_at_shutdown;  /* frames still queued when shutdown reset the device */
	uint64_t rx_frames_pair[VLAB_NET_MAX_PAIRS], tx_frames_pair[VLAB_NET_MAX_PAIRS]; /* by queue pair */
};

/* Choices the caller may make; zero means the default. */
struct vlab_net_cfg {
	/* Queue sizes (a legacy PCI device fixes them: leave 0 there). */
	uint16_t rx_queue_cap, tx_queue_cap;
	/* Receive buffers posted / transmit slots at most (any transport). */
	uint16_t rx_buffers, tx_slots;
	/* Bytes of one receive buffer with MRG_RXBUF (default 2048; at least
	 * the header, DRV-5.1.6.3.1-3).  Without MRG_RXBUF a buffer always
	 * holds header + 14 + MTU (DRV-5.1.4.2-7). */
	uint32_t rx_buf_len;
	/* Features not to negotiate even when offered (VIRTIO_NET_F_* bits). */
	uint64_t refuse;
	/* Do not zero a receive buffer each time it is posted.  By default
	 * it is, so that nothing of an earlier frame survives in it (attack
	 * surface G5); the cost is a pass over the whole buffer per frame
	 * (docs/performance.md). */
	bool no_rx_zeroing;
	/* With GUEST_CSUM: verify in software the checksum of every TCP/UDP
	 * frame the device marks DATA_VALID (VLAB_NET_CSUM_VERIFIED; one that
	 * fails is dropped as VLAB_NET_DROP_CSUM).  Off: such frames are
	 * VLAB_NET_CSUM_DEVICE, a pass over the frame saved. */
	bool rx_csum_verify;
	/* Queue pairs to use at most with MQ (0: VLAB_NET_MAX_PAIRS). */
	uint16_t max_pairs;
};

struct vlab_net_tx_slot {
	bool busy;
};

struct vlab_net {
	struct vlab_virtio_dev *vdev;
	struct vlab_vq rxq, txq, ctrlq; /* receiveq1, transmitq1, control */
	/* MQ: receiveq2.., transmitq2.. (pairs_set_up - 1 of each in use). */
	struct vlab_vq mrxq[VLAB_NET_MAX_PAIRS > 1 ? VLAB_NET_MAX_PAIRS - 1 : 1];
	struct vlab_vq mtxq[VLAB_NET_MAX_PAIRS > 1 ? VLAB_NET_MAX_PAIRS - 1 : 1];
	uint16_t max_pairs_offered; /* max_virtqueue_pairs as read (MQ negotiated), else 0 */
	uint16_t pairs_set_up;      /* pairs whose queues and buffers the driver set up */
	uint16_t pairs;             /* pairs the device was told to use (VQ_PAIRS_SET), 1 without */
	unsigned rx_per_q, tx_per_q;/* receive buffers / transmit slots per pair set up */
	unsigned rx_turn;           /* the receive queue vlab_net_recv looks at first */
	bool has_ctrl;
	bool mrg;                 /* MRG_RXBUF negotiated */
	uint32_t hdr_len;         /* 12 or 10 */
	uint8_t mac[VLAB_ETH_ALEN];
	bool mac_from_device;     /* else a locally administered one */
	uint16_t mtu;
	bool link_up;
	uint32_t max_frame;       /* 14 + mtu */
	bool csum;                /* CSUM negotiated: vlab_net_send_csum offloads */
	bool guest_csum;          /* GUEST_CSUM negotiated: receive flags are read */
	bool rx_csum_verify;      /* vlab_net_cfg.rx_csum_verify */

	/* Receive buffers: one DMA block of nrx buffers of rx_buf_len bytes;
	 * buffer i belongs to receive queue i / rx_per_q. */
	uint8_t *rx_mem;
	vlab_addr_t rx_dev;
	size_t rx_mem_len;
	uint32_t rx_buf_len;
	unsigned nrx;
	/* Bit i (word i / 32, bit i % 32): buffer i is posted, the device's. */
	uint32_t rx_posted[(VLAB_NET_RX_BUFS + 31) / 32];
	bool no_rx_zeroing;       /* vlab_net_cfg.no_rx_zeroing */

	/* Transmit slots: header (padded to 16) + frame each; slot s belongs
	 * to transmit queue s / tx_per_q. */
	uint8_t *tx_mem;
	vlab_addr_t tx_dev;
	size_t tx_mem_len;
	uint32_t tx_stride;
	unsigned ntx;
	struct vlab_net_tx_slot tx[VLAB_NET_TX_SLOTS];

	/* Control commands: class, command, data, ack. */
	uint8_t *ctrl_mem;
	vlab_addr_t ctrl_dev;
	size_t ctrl_mem_len;

	bool promisc, allmulti;   /* as last set through the control queue */
	/* Given up on (a timeout, a protocol breach, a reset request): the
	 * device was stopped, or could not be; every call fails with
	 * VLAB_EBROKEN and nothing it was given is touched until init. */
	bool stopped;
	struct vlab_net_stats stats;
};

/*
 * Initialise: reset, negotiate (MAC, STATUS, MTU, MRG_RXBUF, CTRL_VQ,
 * CTRL_RX, CTRL_MAC_ADDR, CSUM, GUEST_CSUM, MQ; VERSION_1 on modern; no
 * RSS or HASH_REPORT (steering and hashing are the device's own); no
 * segmentation offload (TSO/UFO/USO), no CTRL_GUEST_OFFLOADS;
 * never GUEST_ANNOUNCE: it has no network layer to announce itself with
 * after a migration, DRV-5.1.6.5.4.1-1, so it owes no ANNOUNCE_ACK),
 * read and validate the config, set up the queues, post receive buffers,
 * DRIVER_OK.  cfg may be NULL.
 */
int vlab_net_init(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg);
/*
 * Drain, reset, free.  Frames still queued for transmission are waited for
 * first (bounded by the device timeout; not on a device given up on); those
 * the device did not send by then are dropped, logged and counted in
 * stats.tx_dropped_at_shutdown.  Then the device is reset and the DMA
 * memory freed: 0.  VLAB_EWEDGED when the reset was not acknowledged: the
 * memory is kept (leaked, see the release rule) and calls fail with
 * VLAB_EBROKEN; a later shutdown or init whose reset works frees or
 * forgets it.
 */
int vlab_net_shutdown(struct vlab_net *n);

/*
 * Send one Ethernet frame (14 .. 14 + MTU bytes, copied).  Completed
 * transmit buffers are reclaimed first.  VLAB_EBUSY when every slot is in
 * flight (nothing was queued: try again after the device catches up).
 */
int vlab_net_send(struct vlab_net *n, const void *frame, uint32_t len);
/*
 * Send a TCP or UDP frame (Ethernet, one optional 802.1Q tag, IPv4 not
 * fragmented or IPv6 without extension headers) whose checksum the
 * device completes (CSUM): the caller put the pseudo-header checksum in
 * its TCP/UDP checksum field (DRV-5.1.6.2.1-16) and the IPv4 header
 * checksum is right (DRV-5.1.6.2.1-15); the driver finds csum_start and
 * csum_offset in the frame and sets NEEDS_CSUM.  The driver computes no
 * checksum.  VLAB_ENOTSUP without CSUM (send it whole with vlab_net_send),
 * VLAB_EINVAL for a frame that is not such a frame; else as vlab_net_send.
 */
int vlab_net_send_csum(struct vlab_net *n, const void *frame, uint32_t len);
/* Reclaim completed transmit buffers; returns 0 or a device error (the
 * device then stopped, see the release rule). */
int vlab_net_tx_reclaim(struct vlab_net *n);
/* Transmit buffers still owned by the device. */
unsigned vlab_net_tx_pending(const struct vlab_net *n);
/*
 * Take one received frame into buf (cap must be at least max_frame):
 * 0 with *len set, VLAB_EAGAIN when none is waiting, or a device error.
 * Bad frames on the way are dropped and counted, never delivered; their
 * buffers are posted again.
 */
int vlab_net_recv(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len);
/* recv, and what is known of the frame's checksum (csum may be NULL). */
int vlab_net_recv_csum(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len, enum vlab_net_csum *csum);
/* recv, waiting for a frame (bounded in platform time and in polls):
 * VLAB_ETIMEDOUT when none came, which is no device fault. */
int vlab_net_recv_wait(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len, uint64_t timeout_ns);
int vlab_net_recv_wait_csum(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len,
                            enum vlab_net_csum *csum, uint64_t timeout_ns);

/* Interrupt entry: acknowledges, and on a configuration change re-reads
 * the link status.  Returns the VIRTIO_ISR_* bits. */
uint32_t vlab_net_interrupt(struct vlab_net *n);
/* Read the link state again (STATUS), as after a config interrupt. */
int vlab_net_update_link(struct vlab_net *n);

/* Control queue (VLAB_ENOTSUP without CTRL_VQ and CTRL_RX, or with
 * VLAB_CFG_NET_EXTRA=0, vlab/config.h; VLAB_EIO when
 * the device answers VIRTIO_NET_ERR).  A command not answered within the
 * device timeout is VLAB_ETIMEDOUT, after the device was stopped so that it
 * cannot carry the command out later (VLAB_EWEDGED if it did not stop). */
int vlab_net_set_promisc(struct vlab_net *n, bool on);
int vlab_net_set_allmulti(struct vlab_net *n, bool on);
int vlab_net_set_mac_table(struct vlab_net *n, const uint8_t (*uc)[VLAB_ETH_ALEN], unsigned nuc,
                           const uint8_t (*mc)[VLAB_ETH_ALEN], unsigned nmc);
/* CTRL_MAC_ADDR_SET (needs CTRL_MAC_ADDR, and CTRL_RX: a VIRTIO_NET_CTRL_MAC
 * class command, DRV-5.1.6.5.2.2-1; VLAB_ENOTSUP without either). */
int vlab_net_set_mac(struct vlab_net *n, const uint8_t mac[VLAB_ETH_ALEN]);

/* The spec's name of a net feature bit (5.1.3, and 5.1.3.2's legacy GSO),
 * without the VIRTIO_NET_F_ prefix; NULL for a bit that is not a net
 * feature.  The one table vlab and the scenarios name bits (and vlab
 * conformance its cells) with. */
/* NULL with VLAB_CFG_LOG=0 (the names are log text). */
const char *vlab_net_feature_name(unsigned bit);

/* The registry entry for the bus (vlab/bus.h); bd->cfg may point to a
 * struct vlab_net_cfg (its refuse field is not applied there: the bus
 * negotiated already). */
struct vlab_driver;
extern const struct vlab_driver vlab_net_driver;

#ifdef __cplusplus
}
#endif
#endif
