/* SPDX-License-Identifier: MIT */
/*
 * Network devices on the machine: a virtio-net model with a backend,
 * attached over any transport (hx_attach), like hx_add_blk.
 */
#ifndef HX_NET_H
#define HX_NET_H

#include "devmodel/net.h"
#include "harness/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hx_net_backend {
	HX_NET_LOOP = 0, /* transmitted frames come back in */
	HX_NET_QUEUE,    /* frames queue up for tests (dm_net_inject / dm_net_queue_pop) */
	HX_NET_WIRE,     /* joined to another NIC (wire_peer, or hx_net_wire later) */
	HX_NET_PCAP,     /* captured to pcap_path, then dropped */
	HX_NET_SINK,     /* dropped */
};

struct hx_net_opts {
	enum hx_transport transport;
	bool no_mac;             /* offer no MAC: the driver makes a local one */
	bool mac_set;            /* else 52:54:00:12:34:56 + the NIC's number */
	uint8_t mac[6];
	uint16_t mtu;            /* offered with VIRTIO_NET_F_MTU (default 1500) */
	bool features_set;       /* offer exactly features (else the model's default) */
	uint64_t features;
	enum hx_net_backend backend;
	const char *pcap_path;   /* HX_NET_PCAP: the capture file */
	struct hx_dev *wire_peer;/* HX_NET_WIRE: the NIC at the other end */
	bool backlog_set;        /* else the model's default backlog */
	unsigned rx_backlog;
	bool link_down;          /* start with the link down */
	bool qemu_profile;       /* offer what QEMU 7.2 offers (hx_net_cfg_qemu72) */
	/* Queue pairs with MQ (QEMU's -netdev ...,queues=N): the model's
	 * max_pairs (0: one; 1..DM_NET_MAX_PAIRS).  MQ itself is a feature
	 * bit (features / features_on). */
	uint16_t max_pairs;
	/* Ring features offered / withdrawn on top (vlab's packed=,
	 * indirect_desc=, event_idx=; dm_ring_option). */
	uint64_t features_on, features_off;
};
void hx_net_opts_default(struct hx_net_opts *o);

/* The QEMU 7.2 virtio-net profile as QEMU shows it on transport t. */
void hx_net_cfg_qemu72(struct dm_net_cfg *c, enum hx_transport t);

/* Add a network device.  NULL with *err set. */
struct hx_dev *hx_add_net(struct hx_machine *m, const struct hx_net_opts *o, const char **err);
/* Join two network devices by a wire (replacing their backends). 0 or -1. */
int hx_net_wire(struct hx_dev *a, struct hx_dev *b);

#ifdef __cplusplus
}
#endif
#endif
