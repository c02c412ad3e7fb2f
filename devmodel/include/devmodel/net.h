/* SPDX-License-Identifier: MIT */
/*
 * virtio-net device model (5.1) and its backends: loopback, a frame queue
 * for tests, a wire joining two model NICs, and a pcap capture of what the
 * NIC sends and receives.
 *
 * Frames reach the device from its backend through dm_net_inject(); what
 * the driver transmits goes to the backend.  A frame that finds no receive
 * buffer waits in a small backlog (rx_backlog frames); when that is full it
 * is dropped and counted, as a NIC drops what it has no buffer for.
 */
#ifndef DM_NET_H
#define DM_NET_H

#include "devmodel/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_NET_MAX_FRAME (65535u + 14u)
#define DM_NET_MAC_TABLE_MAX 64
/* Queue pairs the model serves at most with MQ (2 * 8 + the control queue
 * is DM_MAX_QUEUES). */
#define DM_NET_MAX_PAIRS 8

struct dm_net;

/* Where transmitted frames go. */
struct dm_net_backend {
	const char *kind;  /* "loop", "queue", "wire", "sink" */
	struct dm_net *nic;
	void (*transmit)(struct dm_net_backend *be, const uint8_t *frame, uint32_t len);
	void (*destroy)(struct dm_net_backend *be);
};

struct dm_net_cfg {
	uint64_t features;      /* offered: VIRTIO_F_* and VIRTIO_NET_F_* bits */
	uint8_t mac[6];         /* config mac (with VIRTIO_NET_F_MAC) */
	uint16_t mtu;           /* config mtu (with VIRTIO_NET_F_MTU) */
	bool link_up;           /* initial link state (with VIRTIO_NET_F_STATUS) */
	uint16_t queue_num_max;
	uint16_t ctrl_queue_size; /* the control queue's starting size on PCI (0: queue_num_max) */
	unsigned rx_backlog;    /* frames held while no receive buffer is posted */
	/* MQ (5.1.5, 5.1.6.5.6): with VIRTIO_NET_F_MQ offered, max_pairs queue
	 * pairs (0 and 1: one; at most DM_NET_MAX_PAIRS) and the control
	 * queue after them; without MQ, one pair whatever max_pairs says. */
	uint16_t max_pairs;
	/* A device that lies about max_virtqueue_pairs: the field reads
	 * max_pairs_claimed while the transport serves max_pairs pairs. */
	bool max_pairs_lies;
	uint16_t max_pairs_claimed;
};

/* Defaults: VERSION_1 | MAC | STATUS | MTU | MRG_RXBUF | CTRL_VQ | CTRL_RX |
 * CTRL_MAC_ADDR, mac 52:54:00:12:34:56, mtu 1500, link up, backlog 64. */
void dm_net_cfg_default(struct dm_net_cfg *c);
/* What QEMU 7.2's virtio-net offers with a backend without a vnet header
 * (socket, dgram), default properties (docs/qemu-profile.md).  legacy: as
 * seen through a legacy interface. */
void dm_net_cfg_qemu72(struct dm_net_cfg *c, bool legacy);

/* Why the device dropped a frame. */
enum dm_net_drop {
	DM_NET_DROP_NOT_READY = 0, /* before DRIVER_OK, or after NEEDS_RESET */
	DM_NET_DROP_LINK_DOWN,     /* receive or transmit while the link is down */
	DM_NET_DROP_FILTER,        /* the receive filter (promisc/allmulti/MAC table) */
	DM_NET_DROP_NO_BUFFER,     /* no receive buffer and the backlog full */
	DM_NET_DROP_TOO_LONG,      /* above MTU + 14 (DEV-5.1.4.1-5) or the device's limit */
	DM_NET_DROP_BUFFER_SMALL,  /* without MRG_RXBUF, a buffer shorter than the frame */
	DM_NET_DROP_TX_BAD,        /* a transmit request the model refused */
	DM_NET_DROP_COUNT
};
const char *dm_net_drop_name(enum dm_net_drop d);

struct dm_net_frame;

struct dm_net_held;

struct dm_net {
	struct dm_virtio dv;
	struct dm_net_cfg cfg;
	struct dm_net_backend *backend;
	/* Device state (reset restores it). */
	uint8_t mac[6];
	bool link_up;
	bool announce;           /* VIRTIO_NET_S_ANNOUNCE set (dm_net_announce) */
	bool promisc, allmulti;
	unsigned n_uc, n_mc;
	uint8_t uc[DM_NET_MAC_TABLE_MAX][6], mc[DM_NET_MAC_TABLE_MAX][6];
	/* Statistics. */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, ctrl_cmds, ctrl_errors;
	uint64_t dropped[DM_NET_DROP_COUNT];
	/* Private. */
	struct dm_chain *chain;          /* scratch */
	struct dm_net_held *held;        /* transmit/control chains a delay fault holds back */
	struct dm_net_frame *backlog, *backlog_tail;
	unsigned nbacklog;
	struct dm_net_rxq {
		struct dm_chain **staged; /* receive chains taken, not used yet, in order */
		unsigned nstaged, staged_cap;
	} rxq[DM_NET_MAX_PAIRS];
	/* MQ: pairs served (the transport's 2 * npairs queues), pairs enabled
	 * (1 after a reset; VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET), and the
	 * steering: received frames go round robin over the enabled
	 * receive queues, rx_next the next one's pair. */
	uint16_t npairs, pairs, rx_next;
	uint64_t rxq_frames[DM_NET_MAX_PAIRS], txq_frames[DM_NET_MAX_PAIRS]; /* per pair */
	uint8_t *frame_buf;              /* scratch, header + DM_NET_MAX_FRAME */
	void *capture;                   /* pcap dumper, when capturing */
	void *capture_pcap;
	uint64_t captured;               /* frames written to the capture */
	char capture_err[256];
};

struct dm_net *dm_net_new(const struct dm_net_cfg *cfg, struct dm_env *env, const char *name);
/* Frees the backend too; a wire peer is left without a peer. */
void dm_net_free(struct dm_net *n);

/* Link state as tests toggle it: with STATUS, a change bumps the config
 * generation and raises the configuration-change interrupt. */
void dm_net_set_link(struct dm_net *n, bool up);
/* The device asks the driver to announce itself (as QEMU after a
 * migration): VIRTIO_NET_S_ANNOUNCE set in status, the config generation
 * bumped and the configuration-change interrupt raised.  The model does
 * it whatever was negotiated, so that tests can play a device that sets
 * the bit without GUEST_ANNOUNCE; VIRTIO_NET_CTRL_ANNOUNCE_ACK clears it
 * (DEV-5.1.6.5.4.2-1), and so does a reset. */
void dm_net_announce(struct dm_net *n);
/* A frame arriving from the network side.  0 when it was delivered or
 * queued, -1 when dropped (counted by reason). */
int dm_net_inject(struct dm_net *n, const void *frame, uint32_t len);
/* A TCP or UDP frame (IPv4/IPv6, the segment ending the frame) from a
 * sender that left its checksum to be completed, as a local peer's stack
 * with a partial checksum: the model writes the pseudo-header sum into the
 * checksum field and, with GUEST_CSUM, delivers it with NEEDS_CSUM
 * (DEV-5.1.6.4.1-12..15); without, completed (DEV-5.1.6.4.1-6).  -1 for
 * anything else; otherwise as dm_net_inject. */
int dm_net_inject_partial(struct dm_net *n, const void *frame, uint32_t len);
/* Frames waiting in the backlog. */
unsigned dm_net_backlog(const struct dm_net *n);

/* Backends: the NIC takes ownership (the previous one is destroyed). */
void dm_net_set_backend(struct dm_net *n, struct dm_net_backend *be);
struct dm_net_backend *dm_net_backend_loop(void);
struct dm_net_backend *dm_net_backend_queue(void);
struct dm_net_backend *dm_net_backend_sink(void);
/* Join two NICs by a wire (each gets a wire backend). 0 or -1. */
int dm_net_wire(struct dm_net *a, struct dm_net *b);
/* Frames the driver transmitted, with a queue backend: oldest first.
 * Returns the frame length (copied up to cap), or -1 when none. */
long dm_net_queue_pop(struct dm_net *n, void *buf, uint32_t cap);
unsigned dm_net_queue_count(const struct dm_net *n);

/* pcap capture (through libpcap) of every frame the NIC transmits and
 * every frame it delivers to the driver, time-stamped with virtual time.
 * 0, or -1 with *err set to a message.  Stopped by dm_net_capture_stop or
 * dm_net_free. */
int dm_net_capture_start(struct dm_net *n, const char *path, const char **err);
void dm_net_capture_stop(struct dm_net *n);

#ifdef __cplusplus
}
#endif
#endif
