/* SPDX-License-Identifier: MIT */
/*
 * virtio-net device (5.1): config space (mac, status, mtu), the receive,
 * transmit and control queues, the receive filter, and the checks of what
 * the driver does (5.1.4.2, 5.1.6.2.1, 5.1.6.3.1, 5.1.6.5).
 *
 * Receive: a frame takes receive chains in ring order.  Without
 * MRG_RXBUF one chain must hold header + frame; with it, as many chains as
 * needed are taken and num_buffers says how many (DEV-5.1.6.4.1-2), all but
 * the last filled (DEV-5.1.6.4.1-3).  Chains taken for a frame that then
 * finds the ring empty stay with the device ("staged") for the next try, so
 * nothing is ever written past a buffer or handed back half-filled; the
 * frame waits in the backlog, or is dropped and counted when that is full.
 *
 * MQ (5.1.5, 5.1.6.5.6): with VIRTIO_NET_F_MQ offered the transport serves
 * cfg.max_pairs queue pairs and the control queue after them (5.1.2:
 * receiveqN 2(N-1), transmitqN 2(N-1)+1, controlq 2N with MQ negotiated;
 * without, controlq 2).  After a reset one pair is enabled
 * (DEV-5.1.6.5.6.2-1); VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET enables 1 ..
 * max_virtqueue_pairs.  Steering: each received frame goes to the next
 * enabled receive queue, round robin (receiveq1, receiveq2, ..., then
 * receiveq1 again), the turn passing once the frame is delivered; a
 * frame whose queue has no buffer waits in the backlog for that queue, so
 * frames stay in order.  Nothing is received on a queue beyond the
 * enabled pairs (DEV-5.1.6.5.6.2-2) but by the net_rx_queue fault.
 * Transmit works on every transmit queue; one beyond the enabled pairs is
 * a violation (DRV-5.1.6.5.6.1-3/4), sent all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "devmodel/spec.h"

#define CFG_BYTES 12u
#define CTRL_MAX 1024u
#define DEFAULT_BACKLOG 64u

struct dm_net_frame {
	struct dm_net_frame *next;
	uint32_t len;
	bool partial;     /* dm_net_inject_partial: its checksum not filled in */
	uint8_t data[];
};

void dm_net_cfg_default(struct dm_net_cfg *c)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	memset(c, 0, sizeof *c);
	c->features = DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_NET_F_MAC) |
	              DM_BIT(DM_VIRTIO_NET_F_STATUS) | DM_BIT(DM_VIRTIO_NET_F_MTU) |
	              DM_BIT(DM_VIRTIO_NET_F_MRG_RXBUF) | DM_BIT(DM_VIRTIO_NET_F_CTRL_VQ) |
	              DM_BIT(DM_VIRTIO_NET_F_CTRL_RX) | DM_BIT(DM_VIRTIO_NET_F_CTRL_MAC_ADDR);
	memcpy(c->mac, mac, sizeof mac);
	c->mtu = 1500;
	c->link_up = true;
	c->queue_num_max = 256;
	c->rx_backlog = DEFAULT_BACKLOG;
}

/* QEMU 7.2 virtio-net with a dgram/socket netdev, defaults; see
 * docs/qemu-profile.md (the cross-check's net rows showed each bit). */
void dm_net_cfg_qemu72(struct dm_net_cfg *c, bool legacy)
{
	dm_net_cfg_default(c);
	/* No MTU (host_mtu unset); the offloads need a vnet header, which
	 * the backend lacks; the control features only offered. */
	c->features = DM_BIT(DM_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | DM_BIT(DM_VIRTIO_NET_F_MAC) |
	              DM_BIT(DM_VIRTIO_NET_F_MRG_RXBUF) | DM_BIT(DM_VIRTIO_NET_F_STATUS) |
	              DM_BIT(DM_VIRTIO_NET_F_CTRL_VQ) | DM_BIT(DM_VIRTIO_NET_F_CTRL_RX) |
	              DM_BIT(DM_VIRTIO_NET_F_CTRL_VLAN) | DM_BIT(20) /* CTRL_RX_EXTRA */ |
	              DM_BIT(DM_VIRTIO_NET_F_GUEST_ANNOUNCE) | DM_BIT(DM_VIRTIO_NET_F_CTRL_MAC_ADDR) |
	              DM_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC) | DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX);
	if (legacy)
		c->features |= DM_BIT(6) /* GSO (legacy) */ | DM_BIT(DM_VIRTIO_F_NOTIFY_ON_EMPTY) |
		               DM_BIT(DM_VIRTIO_F_ANY_LAYOUT);
	else
		c->features |= DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_F_RING_RESET);
	c->queue_num_max = 1024; /* VIRTQUEUE_MAX_SIZE, what virtio-mmio reports */
	c->ctrl_queue_size = 64; /* the control queue's own size (shown on PCI) */
}

const char *dm_net_drop_name(enum dm_net_drop d)
{
	switch (d) {
	case DM_NET_DROP_NOT_READY: return "not_ready";
	case DM_NET_DROP_LINK_DOWN: return "link_down";
	case DM_NET_DROP_FILTER: return "filter";
	case DM_NET_DROP_NO_BUFFER: return "no_buffer";
	case DM_NET_DROP_TOO_LONG: return "too_long";
	case DM_NET_DROP_BUFFER_SMALL: return "buffer_small";
	case DM_NET_DROP_TX_BAD: return "tx_bad";
	case DM_NET_DROP_COUNT: break;
	}
	return "?";
}

static bool offered(const struct dm_net *n, unsigned bit)
{
	return (n->dv.host_features >> bit) & 1u;
}

static uint32_t hdr_len(const struct dm_net *n)
{
	/* 5.1.6: num_buffers exists with VERSION_1 or MRG_RXBUF. */
	return (dm_virtio_has(&n->dv, DM_VIRTIO_F_VERSION_1) || dm_virtio_has(&n->dv, DM_VIRTIO_NET_F_MRG_RXBUF))
	               ? DM_VIRTIO_NET_HDR_LEN
	               : DM_VIRTIO_NET_HDR_LEN_LEGACY;
}

/* 5.1.2: the pairs the queue layout has (N), the control queue's index. */
static uint16_t layout_pairs(const struct dm_net *n)
{
	return dm_virtio_has(&n->dv, DM_VIRTIO_NET_F_MQ) ? n->npairs : 1;
}

static uint16_t ctrl_q(const struct dm_net *n)
{
	return (uint16_t)(2u * layout_pairs(n));
}

/* 5.1.2: the queues there are with lp pairs: receiveq1/transmitq1 ..
 * receiveqN/transmitqN, then the control queue (at its own size).  As
 * QEMU changes its queues when the features are set: every pair while
 * nothing is negotiated (after a reset), one pair once features without
 * MQ are accepted (queues above the control queue are then gone). */
static void set_layout(struct dm_net *n, uint16_t lp)
{
	const bool ctrl = (n->cfg.features >> DM_VIRTIO_NET_F_CTRL_VQ) & 1u;
	const uint16_t nq = (uint16_t)(2u * lp + (ctrl ? 1u : 0u));

	n->dv.num_queues = nq;
	if (!ctrl)
		return;
	/* The two places the control queue can be; another queue there
	 * starts at queue_num_max (0), as one a test sized is kept. */
	n->dv.queue_size[2] = 0;
	n->dv.queue_size[2u * n->npairs] = 0;
	n->dv.queue_size[nq - 1u] = n->cfg.ctrl_queue_size;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static unsigned be16_at(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ---- config space ---- */

static void build_config(const struct dm_net *n, uint8_t cfg[CFG_BYTES])
{
	memset(cfg, 0, CFG_BYTES);
	memcpy(cfg + DM_VIRTIO_NET_CFG_MAC, n->mac, 6);
	if (offered(n, DM_VIRTIO_NET_F_STATUS))
		put_le16(cfg + DM_VIRTIO_NET_CFG_STATUS, (uint16_t)((n->link_up ? DM_VIRTIO_NET_S_LINK_UP : 0) |
		                                                   (n->announce ? DM_VIRTIO_NET_S_ANNOUNCE : 0)));
	put_le16(cfg + DM_VIRTIO_NET_CFG_MAX_VQ_PAIRS, n->cfg.max_pairs_lies ? n->cfg.max_pairs_claimed : n->npairs);
	put_le16(cfg + DM_VIRTIO_NET_CFG_MTU, n->cfg.mtu);
}

static uint32_t net_config_len(void *dev)
{
	struct dm_net *n = dev;
	/* As QEMU: through the last field whose feature is offered (mtu,
	 * else max_virtqueue_pairs with MQ, else status). */
	if (offered(n, DM_VIRTIO_NET_F_MTU))
		return CFG_BYTES;
	return offered(n, DM_VIRTIO_NET_F_MQ) ? 10u : 8u;
}

static uint32_t net_config_read(void *dev, uint32_t off, unsigned width)
{
	struct dm_net *n = dev;
	uint8_t cfg[CFG_BYTES];
	uint32_t v = 0;

	/* DRV-2.5.1-3: the fields of 5.1.4 that exist only with a feature. */
	static const struct dm_cfg_field optional[] = {
		{DM_VIRTIO_NET_CFG_MAC, 6, DM_VIRTIO_NET_F_MAC},
		{DM_VIRTIO_NET_CFG_STATUS, 2, DM_VIRTIO_NET_F_STATUS},
		{DM_VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2, DM_VIRTIO_NET_F_MQ},
		{DM_VIRTIO_NET_CFG_MTU, 2, DM_VIRTIO_NET_F_MTU},
	};
	dm_virtio_check_cfg_read(&n->dv, optional, sizeof optional / sizeof optional[0], off, width);
	build_config(n, cfg);
	for (unsigned i = 0; i < width && off + i < CFG_BYTES; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void net_config_write(void *dev, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_net *n = dev;
	/* Legacy drivers set the address by writing mac (5.1.4, legacy). */
	for (unsigned i = 0; i < width; i++)
		if (off + i < 6)
			n->mac[off + i] = (uint8_t)(val >> (8 * i));
}

/* ---- reset, features ---- */

static void free_backlog(struct dm_net *n)
{
	while (n->backlog) {
		struct dm_net_frame *f = n->backlog;
		n->backlog = f->next;
		free(f);
	}
	n->backlog_tail = NULL;
	n->nbacklog = 0;
}

static void net_reset(void *dev)
{
	struct dm_net *n = dev;

	memcpy(n->mac, n->cfg.mac, 6);
	/* As QEMU: promiscuous until the driver says otherwise, so a driver
	 * without CTRL_RX receives everything. */
	n->promisc = true;
	n->allmulti = false;
	n->announce = false;
	n->n_uc = n->n_mc = 0;
	/* DEV-5.1.6.5.6.2-1: one pair after a reset. */
	n->pairs = 1;
	set_layout(n, n->npairs);
	n->rx_next = 0;
	/* Chains taken from the old rings are gone with them. */
	for (unsigned p = 0; p < DM_NET_MAX_PAIRS; p++)
		n->rxq[p].nstaged = 0;
	free_backlog(n);
}

static void net_features_ok(void *dev, uint64_t f)
{
	struct dm_net *n = dev;
	static const unsigned need_ctrl[] = {DM_VIRTIO_NET_F_CTRL_RX, DM_VIRTIO_NET_F_CTRL_VLAN,
	                                     DM_VIRTIO_NET_F_GUEST_ANNOUNCE, DM_VIRTIO_NET_F_MQ,
	                                     DM_VIRTIO_NET_F_CTRL_MAC_ADDR};

	set_layout(n, (f >> DM_VIRTIO_NET_F_MQ) & 1u ? n->npairs : 1);
	/* DRV-2.2.1-2: dependencies of 5.1.3.1. */
	dm_virtio_checked(&n->dv, "DRV-2.2.1-2");
	for (unsigned i = 0; i < sizeof need_ctrl / sizeof need_ctrl[0]; i++)
		if (((f >> need_ctrl[i]) & 1u) && !((f >> DM_VIRTIO_NET_F_CTRL_VQ) & 1u))
			dm_virtio_violation(&n->dv, "DRV-2.2.1-2",
			                    "feature %u accepted without VIRTIO_NET_F_CTRL_VQ", need_ctrl[i]);
	if (((f >> DM_VIRTIO_NET_F_GUEST_TSO4) & 1u || (f >> DM_VIRTIO_NET_F_GUEST_TSO6) & 1u ||
	     (f >> DM_VIRTIO_NET_F_GUEST_UFO) & 1u) &&
	    !((f >> DM_VIRTIO_NET_F_GUEST_CSUM) & 1u))
		dm_virtio_violation(&n->dv, "DRV-2.2.1-2", "guest TSO/UFO accepted without GUEST_CSUM");
	if (((f >> DM_VIRTIO_NET_F_HOST_TSO4) & 1u || (f >> DM_VIRTIO_NET_F_HOST_TSO6) & 1u ||
	     (f >> DM_VIRTIO_NET_F_HOST_UFO) & 1u) &&
	    !((f >> DM_VIRTIO_NET_F_CSUM) & 1u))
		dm_virtio_violation(&n->dv, "DRV-2.2.1-2", "host TSO/UFO accepted without CSUM");
}

/* ---- receive ---- */

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

/* The receive filter (5.1.6.5.1, 5.1.6.5.2). */
static bool filter_accepts(const struct dm_net *n, const uint8_t *frame)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (n->promisc || mac_eq(frame, bcast))
		return true;
	if (frame[0] & 1u) {
		if (n->allmulti)
			return true;
		for (unsigned i = 0; i < n->n_mc; i++)
			if (mac_eq(frame, n->mc[i]))
				return true;
		return false;
	}
	if (mac_eq(frame, n->mac))
		return true;
	for (unsigned i = 0; i < n->n_uc; i++)
		if (mac_eq(frame, n->uc[i]))
			return true;
	return false;
}

/* Checks on a receive chain the driver posted. */
static void check_rx_chain(struct dm_net *n, const struct dm_chain *c)
{
	struct dm_virtio *dv = &n->dv;
	uint32_t h = hdr_len(n);

	dm_virtio_checked(dv, "MODEL-NET-RX-FORMAT");
	if (c->readable_len)
		dm_virtio_violation_where(dv, "q0", "MODEL-NET-RX-FORMAT",
		                          "receive chain %u has %llu device-readable bytes", c->head,
		                          (unsigned long long)c->readable_len);
	if (dm_virtio_has(dv, DM_VIRTIO_NET_F_MRG_RXBUF)) {
		dm_virtio_checked(dv, "DRV-5.1.6.3.1-3");
		if (c->writable_len < h)
			dm_virtio_violation_where(dv, "q0", "DRV-5.1.6.3.1-3",
			                          "receive buffer %u of %llu bytes, below the %u-byte header",
			                          c->head, (unsigned long long)c->writable_len, h);
	} else if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_GUEST_TSO4) &&
	           !dm_virtio_has(dv, DM_VIRTIO_NET_F_GUEST_TSO6) &&
	           !dm_virtio_has(dv, DM_VIRTIO_NET_F_GUEST_UFO)) {
		/* SHOULD: 1526 bytes, a 1514-byte frame and the 12-byte header. */
		dm_virtio_checked(dv, "DRV-5.1.6.3.1-2");
		if (c->writable_len < 1526u)
			dm_virtio_violation_where(dv, "q0", "DRV-5.1.6.3.1-2",
			                          "receive buffer %u of %llu bytes, below 1526", c->head,
			                          (unsigned long long)c->writable_len);
	}
	if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_MRG_RXBUF) && dm_virtio_has(dv, DM_VIRTIO_NET_F_MTU)) {
		dm_virtio_checked(dv, "DRV-5.1.4.2-7");
		if (c->writable_len < (uint64_t)h + 14u + n->cfg.mtu)
			dm_virtio_violation_where(dv, "q0", "DRV-5.1.4.2-7",
			                          "receive buffer %u of %llu bytes cannot hold mtu %u + 14 + "
			                          "header %u",
			                          c->head, (unsigned long long)c->writable_len, n->cfg.mtu, h);
	}
}

/* Take one more receive chain into the staging list: 1, 0 (ring empty), -1 (ring broken). */
static int stage_chain(struct dm_net *n, uint16_t q)
{
	struct dm_vq *vq = &n->dv.vq[q];
	struct dm_net_rxq *rq = &n->rxq[q / 2u];
	int r;

	if (rq->nstaged == rq->staged_cap) {
		unsigned cap = rq->staged_cap ? rq->staged_cap * 2 : 8;
		struct dm_chain **v;
		/* Bounded: dm_vq_pop never hands out more chains than the
		 * queue holds. */
		v = realloc(rq->staged, cap * sizeof *v);
		if (!v)
			return -1;
		for (unsigned i = rq->staged_cap; i < cap; i++)
			v[i] = NULL;
		rq->staged = v;
		rq->staged_cap = cap;
	}
	if (!rq->staged[rq->nstaged]) {
		rq->staged[rq->nstaged] = malloc(sizeof(struct dm_chain));
		if (!rq->staged[rq->nstaged])
			return -1;
	}
	r = dm_vq_pop(vq, rq->staged[rq->nstaged]);
	if (r <= 0)
		return r;
	check_rx_chain(n, rq->staged[rq->nstaged]);
	rq->nstaged++;
	return 1;
}

/* Drop the first k staged chains (used); keep the rest in order. */
static void unstage(struct dm_net_rxq *rq, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		struct dm_chain *c = rq->staged[0];
		memmove(rq->staged, rq->staged + 1, (rq->staged_cap - 1) * sizeof *rq->staged);
		rq->staged[rq->staged_cap - 1] = c; /* keep the allocation */
		rq->nstaged--;
	}
}

/*
 * The receive header's checksum fields for a frame written at buf + h.
 * With GUEST_CSUM: a partial frame gets NEEDS_CSUM where its own headers
 * put the checksum (DEV-5.1.6.4.1-12..15: the field holds the
 * pseudo-header sum, dm_net_inject_partial); a frame whose checksum the
 * model verified gets DATA_VALID (DEV-5.1.6.4.1-22/23).  Without it the
 * flags stay 0 and a partial frame is completed first (DEV-5.1.6.4.1-5/6).
 * Then the faults that make those claims lie.
 */
static void rx_csum_flags(struct dm_net *n, uint16_t q, uint8_t *buf, uint32_t h, uint32_t len, bool partial)
{
	struct dm_virtio *dv = &n->dv;
	uint8_t *f = buf + h;
	struct dm_net_seg s;
	const bool seg = dm_net_seg_parse(f, len, &s);
	struct dm_fault *fault;

	if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_GUEST_CSUM)) {
		if (partial && seg)
			dm_net_seg_csum_fill(f, &s);
	} else if (partial && seg) {
		buf[DM_VIRTIO_NET_HDR_OFF_FLAGS] = DM_VIRTIO_NET_HDR_F_NEEDS_CSUM;
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_START, (uint16_t)s.start);
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_OFFSET, (uint16_t)s.csum_off);
	} else if (seg && dm_net_seg_ip_ok(f, &s) && dm_net_seg_csum_ok(f, &s)) {
		buf[DM_VIRTIO_NET_HDR_OFF_FLAGS] = DM_VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if ((fault = dm_virtio_fault_hit(dv, DM_FAULT_NET_RX_DATA_VALID, q))) {
		f[len - 1] ^= 0xffu;
		buf[DM_VIRTIO_NET_HDR_OFF_FLAGS] = DM_VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if ((fault = dm_virtio_fault_hit(dv, DM_FAULT_NET_RX_NEEDS_CSUM, q))) {
		buf[DM_VIRTIO_NET_HDR_OFF_FLAGS] = DM_VIRTIO_NET_HDR_F_NEEDS_CSUM;
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_START,
		         (uint16_t)(fault->value ? fault->value : seg ? s.start : 14u));
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_OFFSET, (uint16_t)(seg ? s.csum_off : 6u));
	}
}

/* Try to hand one frame to the driver on receive queue q: 1 delivered, 0
 * not enough buffers (frame kept by the caller), -1 dropped. */
static int rx_try(struct dm_net *n, uint16_t q, const uint8_t *frame, uint32_t len, bool partial)
{
	struct dm_virtio *dv = &n->dv;
	struct dm_vq *vq = &dv->vq[q];
	struct dm_net_rxq *rq = &n->rxq[q / 2u];
	const bool mrg = dm_virtio_has(dv, DM_VIRTIO_NET_F_MRG_RXBUF);
	const uint32_t h = hdr_len(n);
	const uint64_t need = (uint64_t)h + len;
	uint8_t *buf = n->frame_buf;
	uint64_t have = 0;
	unsigned k = 0;
	struct dm_fault *f;

	if (!mrg) {
		if (rq->nstaged == 0) {
			int r = stage_chain(n, q);
			if (r <= 0)
				return r == 0 ? 0 : -1;
		}
		if (rq->staged[0]->writable_len < need) {
			/* DEV-5.1.6.3.2-2: one buffer per frame; it does not
			 * fit, so the frame is lost and the buffer returned
			 * untouched. */
			n->dropped[DM_NET_DROP_BUFFER_SMALL]++;
			dm_vq_push(vq, rq->staged[0]->head, 0);
			unstage(rq, 1);
			return -1;
		}
		k = 1;
	} else {
		for (k = 0; k < rq->nstaged && have < need; k++)
			have += rq->staged[k]->writable_len;
		while (have < need) {
			int r = stage_chain(n, q);
			if (r <= 0)
				return r == 0 ? 0 : -1;
			have += rq->staged[rq->nstaged - 1]->writable_len;
			k = rq->nstaged;
		}
	}

	/* Header: all zero (no offloads), num_buffers = buffers used
	 * (DEV-5.1.6.4.1-1/2). */
	memset(buf, 0, h);
	if (h == DM_VIRTIO_NET_HDR_LEN)
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS, (uint16_t)k);
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_NET_NUM_BUFFERS, q)) &&
	    h == DM_VIRTIO_NET_HDR_LEN)
		put_le16(buf + DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS, (uint16_t)f->value);
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_NET_RX_HDR, q))) {
		/* Undefined flag bits, and hdr_len (2), csum_start (6),
		 * csum_offset (8) the driver must not trust or use
		 * (DRV-5.1.6.4.2-1/2/4); gso_type stays NONE. */
		buf[DM_VIRTIO_NET_HDR_OFF_FLAGS] |= (uint8_t)(f->value ? f->value : 0xf8u);
		put_le16(buf + 2, 0xffff);
		put_le16(buf + 6, 0xffff);
		put_le16(buf + 8, 0xffff);
	}
	memcpy(buf + h, frame, len);
	rx_csum_flags(n, q, buf, h, len, partial);

	f = dm_virtio_fault_hit(dv, DM_FAULT_NET_RX_LEN, q);
	uint64_t off = 0;
	for (unsigned i = 0; i < k; i++) {
		const struct dm_chain *c = rq->staged[i];
		uint64_t left = need - off;
		uint32_t w = (uint32_t)(c->writable_len < left ? c->writable_len : left);
		/* Only inside the buffer (DEV-2.7.5.1-1 via dm_chain_write). */
		uint32_t done = dm_chain_write(vq, c, 0, buf + off, w);
		off += w;
		if (i == 0 && f)
			done = (uint32_t)f->value;
		dm_vq_push(vq, c->head, done);
	}
	unstage(rq, k);
	n->rx_frames++;
	n->rx_bytes += len;
	n->rxq_frames[q / 2u]++;
	dm_net_capture_frame(n, buf + h, len);
	return 1;
}

static bool rx_ready(const struct dm_net *n, uint16_t q)
{
	const struct dm_vq *vq = &n->dv.vq[q];
	return dm_virtio_running(&n->dv) && vq->ready && !vq->broken;
}

/*
 * The receive queue the next frame goes to: the enabled pairs in turn
 * (DEV-5.1.6.5.6.2-1/2: receiveq1 only until VQ_PAIRS_SET, then none
 * beyond the pairs it enabled), unless the net_rx_queue fault sends it
 * elsewhere (to a queue the transport has and the driver made ready).
 */
static uint16_t rx_steer(struct dm_net *n)
{
	uint16_t pairs = n->pairs ? n->pairs : 1;
	uint16_t q = (uint16_t)(2u * (n->rx_next % pairs));
	struct dm_fault *f = dm_virtio_fault_hit(&n->dv, DM_FAULT_NET_RX_QUEUE, -1);

	if (f) {
		uint64_t p = f->value ? f->value : pairs;
		if (p < layout_pairs(n) && rx_ready(n, (uint16_t)(2u * p)))
			q = (uint16_t)(2u * p);
	}
	return q;
}

/* Deliver one frame on the queue its turn gives it: as rx_try. */
static int rx_deliver(struct dm_net *n, const uint8_t *frame, uint32_t len, bool partial)
{
	uint16_t q = rx_steer(n);
	int r;

	if (!rx_ready(n, q))
		return 0;
	r = rx_try(n, q, frame, len, partial);
	if (r > 0 && q / 2u == n->rx_next % (n->pairs ? n->pairs : 1))
		n->rx_next = (uint16_t)((n->rx_next + 1u) % (n->pairs ? n->pairs : 1));
	return r;
}

/* Deliver what waits in the backlog, in order, while buffers last. */
static void rx_drain(struct dm_net *n)
{
	while (n->backlog && rx_ready(n, DM_VIRTIO_NET_Q_RX)) {
		struct dm_net_frame *fr = n->backlog;
		if (rx_deliver(n, fr->data, fr->len, fr->partial) == 0)
			return;
		n->backlog = fr->next;
		if (!n->backlog)
			n->backlog_tail = NULL;
		n->nbacklog--;
		free(fr);
	}
}

static int drop(struct dm_net *n, enum dm_net_drop why)
{
	n->dropped[why]++;
	return -1;
}

static int enqueue(struct dm_net *n, const uint8_t *frame, uint32_t len, bool partial)
{
	struct dm_net_frame *fr;

	if (n->nbacklog >= n->cfg.rx_backlog)
		return drop(n, DM_NET_DROP_NO_BUFFER);
	fr = malloc(sizeof *fr + len);
	if (!fr)
		return drop(n, DM_NET_DROP_NO_BUFFER);
	fr->next = NULL;
	fr->len = len;
	fr->partial = partial;
	memcpy(fr->data, frame, len);
	if (n->backlog_tail)
		n->backlog_tail->next = fr;
	else
		n->backlog = fr;
	n->backlog_tail = fr;
	n->nbacklog++;
	return 0;
}

static int inject(struct dm_net *n, const uint8_t *p, uint32_t len, bool partial)
{
	if (!n || !p || len < 14 || len > DM_NET_MAX_FRAME)
		return n ? drop(n, DM_NET_DROP_TOO_LONG) : -1;
	if (!rx_ready(n, DM_VIRTIO_NET_Q_RX))
		return drop(n, DM_NET_DROP_NOT_READY);
	if (!n->link_up)
		return drop(n, DM_NET_DROP_LINK_DOWN);
	if (!filter_accepts(n, p))
		return drop(n, DM_NET_DROP_FILTER);
	/* DEV-5.1.4.1-5: nothing above mtu + 14 when MTU was negotiated. */
	if (dm_virtio_has(&n->dv, DM_VIRTIO_NET_F_MTU) && len > 14u + n->cfg.mtu)
		return drop(n, DM_NET_DROP_TOO_LONG);
	if (n->backlog) {
		int rc = enqueue(n, p, len, partial);
		rx_drain(n);
		return rc;
	}
	int r = rx_deliver(n, p, len, partial);
	if (r == 0)
		return enqueue(n, p, len, partial);
	return r > 0 ? 0 : -1;
}

int dm_net_inject(struct dm_net *n, const void *frame, uint32_t len)
{
	return inject(n, frame, len, false);
}

int dm_net_inject_partial(struct dm_net *n, const void *frame, uint32_t len)
{
	struct dm_net_seg s;
	uint8_t *copy;
	int rc;

	if (!n || !frame || len > DM_NET_MAX_FRAME || !dm_net_seg_parse(frame, len, &s) || s.end != len)
		return -1;
	copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, frame, len);
	/* The sender's stack left the pseudo-header sum in the field. */
	uint16_t ps = dm_net_sum_fold(s.pseudo);
	copy[s.start + s.csum_off] = (uint8_t)(ps >> 8);
	copy[s.start + s.csum_off + 1] = (uint8_t)ps;
	rc = inject(n, copy, len, true);
	free(copy);
	return rc;
}

unsigned dm_net_backlog(const struct dm_net *n)
{
	return n->nbacklog;
}

/* ---- transmit ---- */

/* The link_down fault's end: the cable is back. */
static void link_restore(void *arg)
{
	dm_net_set_link(arg, true);
}

/*
 * NEEDS_CSUM on a transmitted frame (CSUM): the checksum the driver asks
 * for must be one: csum_start and csum_offset at the TCP/UDP checksum the
 * frame's own headers place, the segment ending the frame (DRV-5.1.6.2.1-17),
 * the field holding the pseudo-header sum (DRV-5.1.6.2.1-16), the IPv4
 * header checksum right (DRV-5.1.6.2.1-15: every checksum before it
 * validated).  Then the model completes it, as a NIC would, so that the
 * frame reaches the backend whole.
 */
static void tx_complete_csum(struct dm_net *n, uint8_t *buf, uint32_t h, uint32_t flen)
{
	struct dm_virtio *dv = &n->dv;
	uint8_t *f = buf + h;
	const unsigned start = le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_START);
	const unsigned off = le16(buf + DM_VIRTIO_NET_HDR_OFF_CSUM_OFFSET);
	struct dm_net_seg s;

	dm_virtio_checked(dv, "DRV-5.1.6.2.1-17");
	if (!dm_net_seg_parse(f, flen, &s) || s.start != start || s.csum_off != off || s.end != flen) {
		dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-17",
		                          "NEEDS_CSUM with csum_start %u csum_offset %u: not the TCP/UDP "
		                          "checksum of a %u-byte frame",
		                          start, off, flen);
		return;
	}
	dm_virtio_checked(dv, "DRV-5.1.6.2.1-16");
	if (be16_at(f + s.start + s.csum_off) != dm_net_sum_fold(s.pseudo))
		dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-16",
		                          "NEEDS_CSUM: checksum field 0x%04x, not the pseudo-header sum 0x%04x",
		                          be16_at(f + s.start + s.csum_off), dm_net_sum_fold(s.pseudo));
	dm_virtio_checked(dv, "DRV-5.1.6.2.1-15");
	if (!dm_net_seg_ip_ok(f, &s))
		dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-15",
		                          "NEEDS_CSUM on a frame whose IPv4 header checksum is wrong");
	{
		/* The field holds the pseudo-header sum: summing from csum_start
		 * to the end completes the checksum (5.1.6.2). */
		uint8_t *c = f + s.start + s.csum_off;
		uint16_t v = (uint16_t)~dm_net_sum_fold(dm_net_sum(f + s.start, s.end - s.start, 0));
		c[0] = (uint8_t)(v >> 8);
		c[1] = (uint8_t)v;
	}
}

static void tx_one(struct dm_net *n, struct dm_vq *vq, const struct dm_chain *c)
{
	struct dm_virtio *dv = &n->dv;
	const uint32_t h = hdr_len(n);
	uint8_t *buf = n->frame_buf;
	uint64_t want = c->readable_len;
	uint32_t got, flen;
	uint8_t flags, gso;
	struct dm_fault *f;

	/* A link that drops is something a device may do at any time; the
	 * frame in hand is then lost on the wire, as on a real NIC. */
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_NET_LINK_DOWN, vq->index))) {
		dm_net_set_link(n, false);
		if (f->value && dv->env && dv->env->schedule_at)
			dv->env->schedule_at(dv->env->ctx, link_restore, n, f->value);
	}

	if (dm_virtio_has(dv, DM_VIRTIO_NET_F_MQ)) {
		/* Only transmitq1 until VQ_PAIRS_SET enabled more
		 * (DRV-5.1.6.5.6.1-3), none beyond the pairs it enabled
		 * (DRV-5.1.6.5.6.1-4).  The frame goes out all the same. */
		const char *id = n->pairs == 1 ? "DRV-5.1.6.5.6.1-3" : "DRV-5.1.6.5.6.1-4";
		char where[8];
		dm_virtio_checked(dv, id);
		if (vq->index / 2u >= n->pairs) {
			snprintf(where, sizeof where, "q%u", (unsigned)vq->index);
			dm_virtio_violation_where(dv, where, id, "transmit on transmitq%u with %u pair(s) enabled",
			                          vq->index / 2u + 1u, (unsigned)n->pairs);
		}
	}
	if (want > (uint64_t)h + DM_NET_MAX_FRAME)
		want = (uint64_t)h + DM_NET_MAX_FRAME + 1; /* enough to know it is too long */
	got = want > (uint64_t)h + DM_NET_MAX_FRAME ? 0 : dm_chain_read(vq, c, 0, buf, (uint32_t)want);
	dm_virtio_checked(dv, "MODEL-NET-TX-FORMAT");
	if (want > (uint64_t)h + DM_NET_MAX_FRAME || got < h + 14u || got != want) {
		dm_virtio_violation_where(dv, "q1", "MODEL-NET-TX-FORMAT",
		                          "transmit chain %u: %llu readable bytes, not a %u-byte header "
		                          "and a 14..%u-byte frame",
		                          c->head, (unsigned long long)c->readable_len, h, DM_NET_MAX_FRAME);
		n->dropped[DM_NET_DROP_TX_BAD]++;
		dm_vq_push(vq, c->head, 0);
		return;
	}
	flags = buf[DM_VIRTIO_NET_HDR_OFF_FLAGS];
	gso = buf[DM_VIRTIO_NET_HDR_OFF_GSO_TYPE];
	flen = got - h;

	dm_virtio_checked(dv, "DRV-5.1.6.2.1-24");
	if (flags & (DM_VIRTIO_NET_HDR_F_DATA_VALID | DM_VIRTIO_NET_HDR_F_RSC_INFO))
		dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-24",
		                          "transmit header flags 0x%02x set DATA_VALID or RSC_INFO", flags);
	if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_CSUM)) {
		dm_virtio_checked(dv, "DRV-5.1.6.2.1-2");
		if (flags)
			dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-2",
			                          "transmit header flags 0x%02x without VIRTIO_NET_F_CSUM", flags);
	}
	if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_HOST_TSO4) && !dm_virtio_has(dv, DM_VIRTIO_NET_F_HOST_TSO6) &&
	    !dm_virtio_has(dv, DM_VIRTIO_NET_F_HOST_UFO)) {
		dm_virtio_checked(dv, "DRV-5.1.6.2.1-18");
		if (gso != DM_VIRTIO_NET_HDR_GSO_NONE)
			dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-18",
			                          "transmit gso_type %u without host offloads", gso);
	}
	{
		/* Each gso_type only with its host offload (5.1.6.2.1). */
		static const struct {
			uint8_t gso;
			uint8_t bit;
			const char *id;
		} gso_needs[] = {
			{DM_VIRTIO_NET_HDR_GSO_TCPV4, DM_VIRTIO_NET_F_HOST_TSO4, "DRV-5.1.6.2.1-5"},
			{DM_VIRTIO_NET_HDR_GSO_TCPV6, DM_VIRTIO_NET_F_HOST_TSO6, "DRV-5.1.6.2.1-7"},
			{DM_VIRTIO_NET_HDR_GSO_UDP, DM_VIRTIO_NET_F_HOST_UFO, "DRV-5.1.6.2.1-9"},
			{DM_VIRTIO_NET_HDR_GSO_UDP_L4, DM_VIRTIO_NET_F_HOST_USO, "DRV-5.1.6.2.1-11"},
		};
		/* Each ID's number, taken once (as DM_REQ_NUM does for a literal at
		 * its site): a check is then no text lookup. */
		static unsigned gso_num[sizeof gso_needs / sizeof gso_needs[0]];
		for (unsigned i = 0; i < sizeof gso_needs / sizeof gso_needs[0]; i++) {
			if (dm_virtio_has(dv, gso_needs[i].bit))
				continue;
			unsigned num = __atomic_load_n(&gso_num[i], __ATOMIC_RELAXED);
			if (num == 0) {
				num = dm_req_intern(gso_needs[i].id);
				__atomic_store_n(&gso_num[i], num, __ATOMIC_RELAXED);
			}
			dm_virtio_checked_num(dv, num, gso_needs[i].id);
			if ((gso & (uint8_t)~DM_VIRTIO_NET_HDR_GSO_ECN) == gso_needs[i].gso)
				dm_virtio_violation_where(dv, "q1", gso_needs[i].id,
				                          "transmit gso_type %u without feature %u", gso,
				                          gso_needs[i].bit);
		}
	}
	if (dm_virtio_has(dv, DM_VIRTIO_NET_F_CSUM) && (flags & DM_VIRTIO_NET_HDR_F_NEEDS_CSUM))
		tx_complete_csum(n, buf, h, flen);
	if (h == DM_VIRTIO_NET_HDR_LEN) {
		dm_virtio_checked(dv, "DRV-5.1.6.2.1-1");
		if (le16(buf + DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS) != 0)
			dm_virtio_violation_where(dv, "q1", "DRV-5.1.6.2.1-1",
			                          "transmit header num_buffers %u (must be 0)",
			                          le16(buf + DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS));
	}
	if (dm_virtio_has(dv, DM_VIRTIO_NET_F_MTU)) {
		dm_virtio_checked(dv, "DRV-5.1.4.2-8");
		if (flen > 14u + n->cfg.mtu) {
			dm_virtio_violation_where(dv, "q1", "DRV-5.1.4.2-8",
			                          "transmitted frame of %u bytes above mtu %u + 14", flen,
			                          n->cfg.mtu);
			n->dropped[DM_NET_DROP_TX_BAD]++;
			dm_vq_push(vq, c->head, 0);
			return;
		}
	}
	if (!n->link_up) {
		n->dropped[DM_NET_DROP_LINK_DOWN]++;
	} else {
		n->tx_frames++;
		n->tx_bytes += flen;
		n->txq_frames[vq->index / 2u]++;
		dm_net_capture_frame(n, buf + h, flen);
		/* The transmit buffer is returned first: the frame is the
		 * device's own copy now (the loop may deliver it at once). */
		dm_vq_push(vq, c->head, 0);
		if (n->backend && n->backend->transmit) {
			/* A copy: delivery may reuse frame_buf. */
			uint8_t *copy = malloc(flen);
			if (copy) {
				memcpy(copy, buf + h, flen);
				n->backend->transmit(n->backend, copy, flen);
				free(copy);
			}
		}
		return;
	}
	dm_vq_push(vq, c->head, 0);
}

/* ---- control queue ---- */

static uint8_t ctrl_mac_table(struct dm_net *n, const uint8_t *d, uint32_t len)
{
	struct dm_virtio *dv = &n->dv;
	uint32_t nuc, nmc;
	uint64_t uc_end, mc_end;

	/* DRV-5.1.6.5.2.2-3: le32 + entries, le32 + entries, nothing else. */
	dm_virtio_checked(dv, "DRV-5.1.6.5.2.2-3");
	if (len < 8)
		goto bad;
	nuc = le32(d);
	uc_end = 4 + 6ull * nuc;
	if (uc_end + 4 > len)
		goto bad;
	nmc = le32(d + uc_end);
	mc_end = uc_end + 4 + 6ull * nmc;
	if (mc_end != len)
		goto bad;
	if (nuc > DM_NET_MAC_TABLE_MAX || nmc > DM_NET_MAC_TABLE_MAX)
		return DM_VIRTIO_NET_ERR; /* the device's table is full */
	n->n_uc = nuc;
	n->n_mc = nmc;
	for (uint32_t i = 0; i < nuc; i++)
		memcpy(n->uc[i], d + 4 + 6 * i, 6);
	for (uint32_t i = 0; i < nmc; i++)
		memcpy(n->mc[i], d + uc_end + 4 + 6 * i, 6);
	return DM_VIRTIO_NET_OK;
bad:
	dm_virtio_violation_where(dv, "q2", "DRV-5.1.6.5.2.2-3", "MAC_TABLE_SET data of %u bytes malformed",
	                          len);
	return DM_VIRTIO_NET_ERR;
}

/*
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.6): 1 .. max_virtqueue_pairs
 * (DRV-5.1.6.5.6.1-2), every queue of those pairs set up first
 * (DRV-5.1.6.5.6.1-1).  OK with *pairs set (applied once the ack is OK),
 * or ERR, as QEMU, for a count outside what the device serves.
 */
static uint8_t ctrl_vq_pairs_set(struct dm_net *n, uint16_t v, uint16_t *pairs)
{
	struct dm_virtio *dv = &n->dv;
	const uint16_t shown = n->cfg.max_pairs_lies ? n->cfg.max_pairs_claimed : n->npairs;
	char where[8];

	snprintf(where, sizeof where, "q%u", (unsigned)ctrl_q(n));
	dm_virtio_checked(dv, "DRV-5.1.6.5.6.1-2");
	if (v == 0 || v > shown) {
		dm_virtio_violation_where(dv, where, "DRV-5.1.6.5.6.1-2",
		                          "VQ_PAIRS_SET %u: not 1..max_virtqueue_pairs %u", v, shown);
		return DM_VIRTIO_NET_ERR;
	}
	if (v > n->npairs)
		return DM_VIRTIO_NET_ERR; /* the device lied: it has fewer */
	dm_virtio_checked(dv, "DRV-5.1.6.5.6.1-1");
	for (uint16_t q = 0; q < 2u * v; q++)
		if (!dv->vq[q].ready) {
			dm_virtio_violation_where(dv, where, "DRV-5.1.6.5.6.1-1",
			                          "VQ_PAIRS_SET %u with queue %u not set up", v, q);
			return DM_VIRTIO_NET_ERR;
		}
	*pairs = v;
	return DM_VIRTIO_NET_OK;
}

static void ctrl_one(struct dm_net *n, struct dm_vq *vq, const struct dm_chain *c)
{
	struct dm_virtio *dv = &n->dv;
	uint8_t buf[CTRL_MAX];
	uint8_t ack = DM_VIRTIO_NET_ERR;
	uint32_t got, dlen;
	const uint8_t *d;
	struct dm_fault *f;
	uint16_t new_pairs = 0;

	dm_virtio_checked(dv, "MODEL-NET-CTRL-FORMAT");
	if (c->readable_len < 2 || c->readable_len > CTRL_MAX || c->writable_len < 1) {
		dm_virtio_violation_where(dv, "q2", "MODEL-NET-CTRL-FORMAT",
		                          "control chain %u: %llu readable bytes (2..%u), %llu writable (>= 1)",
		                          c->head, (unsigned long long)c->readable_len, CTRL_MAX,
		                          (unsigned long long)c->writable_len);
		if (c->writable_len >= 1)
			dm_chain_write(vq, c, 0, &ack, 1);
		dm_vq_push(vq, c->head, c->writable_len >= 1 ? 1 : 0);
		return;
	}
	got = dm_chain_read(vq, c, 0, buf, (uint32_t)c->readable_len);
	d = buf + 2;
	dlen = got >= 2 ? got - 2 : 0;
	n->ctrl_cmds++;

	if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_RSS)) {
		dm_virtio_checked(dv, "DRV-5.1.6.5.7.2-1");
		if (buf[0] == DM_VIRTIO_NET_CTRL_MQ && buf[1] == DM_VIRTIO_NET_CTRL_MQ_RSS_CONFIG)
			dm_virtio_violation_where(dv, "q2", "DRV-5.1.6.5.7.2-1",
			                          "VIRTIO_NET_CTRL_MQ_RSS_CONFIG without VIRTIO_NET_F_RSS");
	}
	switch (buf[0]) {
	case DM_VIRTIO_NET_CTRL_RX:
		dm_virtio_checked(dv, "DRV-5.1.6.5.1.2-1");
		if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_CTRL_RX)) {
			dm_virtio_violation_where(dv, "q2", "DRV-5.1.6.5.1.2-1",
			                          "VIRTIO_NET_CTRL_RX command %u without CTRL_RX", buf[1]);
			break;
		}
		if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_CTRL_RX_EXTRA))
			dm_virtio_checked(dv, "DRV-5.1.6.5.1.2-2");
		if (buf[1] > DM_VIRTIO_NET_CTRL_RX_ALLMULTI) {
			dm_virtio_violation_where(dv, "q2", "DRV-5.1.6.5.1.2-2",
			                          "VIRTIO_NET_CTRL_RX command %u without CTRL_RX_EXTRA", buf[1]);
			break;
		}
		if (dlen != 1)
			break;
		if (buf[1] == DM_VIRTIO_NET_CTRL_RX_PROMISC)
			n->promisc = d[0] != 0;
		else
			n->allmulti = d[0] != 0;
		ack = DM_VIRTIO_NET_OK;
		break;
	case DM_VIRTIO_NET_CTRL_MAC:
		dm_virtio_checked(dv, "DRV-5.1.6.5.2.2-1");
		if (!dm_virtio_has(dv, DM_VIRTIO_NET_F_CTRL_RX)) {
			dm_virtio_violation_where(dv, "q2", "DRV-5.1.6.5.2.2-1",
			                          "VIRTIO_NET_CTRL_MAC command %u without CTRL_RX", buf[1]);
			break;
		}
		if (buf[1] == DM_VIRTIO_NET_CTRL_MAC_TABLE_SET) {
			ack = ctrl_mac_table(n, d, dlen);
		} else if (buf[1] == DM_VIRTIO_NET_CTRL_MAC_ADDR_SET && dlen == 6 &&
		           dm_virtio_has(dv, DM_VIRTIO_NET_F_CTRL_MAC_ADDR)) {
			memcpy(n->mac, d, 6);
			ack = DM_VIRTIO_NET_OK;
		}
		break;
	case DM_VIRTIO_NET_CTRL_ANNOUNCE:
		/* DEV-5.1.6.5.4.2-1: ANNOUNCE_ACK clears the bit before the
		 * command is marked used. */
		if (buf[1] == DM_VIRTIO_NET_CTRL_ANNOUNCE_ACK && dlen == 0 &&
		    dm_virtio_has(dv, DM_VIRTIO_NET_F_GUEST_ANNOUNCE)) {
			n->announce = false;
			ack = DM_VIRTIO_NET_OK;
		}
		break;
	case DM_VIRTIO_NET_CTRL_MQ:
		if (buf[1] == DM_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && dlen == 2 &&
		    dm_virtio_has(dv, DM_VIRTIO_NET_F_MQ))
			ack = ctrl_vq_pairs_set(n, le16(d), &new_pairs);
		break;
	default:
		break;
	}
	if (ack != DM_VIRTIO_NET_OK)
		n->ctrl_errors++;
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_NET_CTRL_ACK, vq->index)))
		ack = (uint8_t)f->value;
	/* A VQ_PAIRS_SET the device answers with anything but OK changes
	 * nothing: the driver keeps the pairs it had. */
	if (ack == DM_VIRTIO_NET_OK && new_pairs)
		n->pairs = new_pairs;
	dm_chain_write(vq, c, 0, &ack, 1);
	dm_vq_push(vq, c->head, 1);
}

/* A transmit or control chain held back by a delay fault. */
struct dm_net_held {
	struct dm_net *n;
	uint64_t epoch;
	uint16_t q;
	struct dm_net_held *next;
	struct dm_chain c;
};

static void carry_out(struct dm_net *n, uint16_t q, const struct dm_chain *c)
{
	struct dm_vq *vq = &n->dv.vq[q];

	if (q == ctrl_q(n) && dm_virtio_has(&n->dv, DM_VIRTIO_NET_F_CTRL_VQ))
		ctrl_one(n, vq, c);
	else if (q < ctrl_q(n) && (q & 1u))
		tx_one(n, vq, c);
	else
		dm_vq_push(vq, c->head, 0);
}

static void held_fire(void *arg)
{
	struct dm_net_held *h = arg, **pp;
	struct dm_net *n = h->n;

	for (pp = &n->held; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	/* A reset in between drops it: the device touches no queue of the
	 * old epoch (DEV-2.4.1-2). */
	if (h->epoch == n->dv.epoch && dm_virtio_running(&n->dv))
		carry_out(n, h->q, &h->c);
	free(h);
}

/* Carry chain c out ns later; false when it cannot be held (no clock). */
static bool hold(struct dm_net *n, uint16_t q, const struct dm_chain *c, uint64_t ns)
{
	struct dm_env *env = n->dv.env;
	struct dm_net_held *h;

	if (!env || !env->schedule_at || !(h = malloc(sizeof *h)))
		return false;
	h->n = n;
	h->epoch = n->dv.epoch;
	h->q = q;
	h->c = *c;
	h->next = n->held;
	n->held = h;
	env->schedule_at(env->ctx, held_fire, h, ns);
	return true;
}

static void net_queue_work(void *dev, struct dm_virtio *dv, uint16_t q)
{
	struct dm_net *n = dev;
	struct dm_vq *vq = &dv->vq[q];
	struct dm_fault *f;

	if (q < ctrl_q(n) && !(q & 1u)) {
		/* New receive buffers: frames waiting may go now. */
		rx_drain(n);
		return;
	}
	for (;;) {
		int r;
		if (!dm_virtio_running(dv))
			return;
		r = dm_vq_pop(vq, n->chain);
		if (r <= 0)
			return;
		if (dm_virtio_fault_hit(dv, DM_FAULT_NEEDS_RESET, q)) {
			dm_virtio_set_needs_reset(dv);
			return;
		}
		/* A device that never completes: the buffer is kept, the frame
		 * not sent, the command not carried out. */
		if (dm_virtio_fault_hit(dv, DM_FAULT_STALL, q))
			continue;
		/* A slow device: the frame goes out, the command is carried
		 * out, value ns later. */
		f = dm_virtio_fault_hit(dv, DM_FAULT_DELAY, q);
		if (f && hold(n, q, n->chain, f->value))
			continue;
		carry_out(n, q, n->chain);
	}
}

static const struct dm_device_ops net_ops = {
	.type_name = "net",
	.device_id = DM_VIRTIO_ID_NET,
	.reset = net_reset,
	.features_ok = net_features_ok,
	.config_len = net_config_len,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.queue_work = net_queue_work,
};

/* ---- life cycle ---- */

struct dm_net *dm_net_new(const struct dm_net_cfg *cfg, struct dm_env *env, const char *name)
{
	struct dm_net *n;
	uint16_t nq;

	if (!cfg)
		return NULL;
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->chain = malloc(sizeof *n->chain);
	n->frame_buf = malloc(DM_VIRTIO_NET_HDR_LEN + DM_NET_MAX_FRAME + 16);
	if (!n->chain || !n->frame_buf) {
		free(n->chain);
		free(n->frame_buf);
		free(n);
		return NULL;
	}
	n->cfg = *cfg;
	n->link_up = cfg->link_up || !((cfg->features >> DM_VIRTIO_NET_F_STATUS) & 1u);
	/* MQ: cfg.max_pairs pairs (5.1.2), the control queue last. */
	n->npairs = ((cfg->features >> DM_VIRTIO_NET_F_MQ) & 1u) && cfg->max_pairs > 1 ? cfg->max_pairs : 1;
	if (n->npairs > DM_NET_MAX_PAIRS)
		n->npairs = DM_NET_MAX_PAIRS;
	nq = (uint16_t)(2u * n->npairs);
	if ((cfg->features >> DM_VIRTIO_NET_F_CTRL_VQ) & 1u)
		nq++;
	dm_virtio_init(&n->dv, &net_ops, n, env, name, cfg->features, nq,
	               cfg->queue_num_max ? cfg->queue_num_max : 256);
	if (cfg->max_pairs > 1) /* QEMU: 2 * the netdev's queues + 2, MQ or not */
		n->dv.msix_vectors = (uint16_t)(2u * cfg->max_pairs + 2u);
	net_reset(n);
	return n;
}

void dm_net_free(struct dm_net *n)
{
	if (!n)
		return;
	dm_net_capture_stop(n);
	dm_net_set_backend(n, NULL);
	free_backlog(n);
	while (n->held) {
		/* The env must not run work of a freed device (as for queue work). */
		struct dm_net_held *h = n->held;
		n->held = h->next;
		free(h);
	}
	for (unsigned p = 0; p < DM_NET_MAX_PAIRS; p++) {
		for (unsigned i = 0; i < n->rxq[p].staged_cap; i++)
			free(n->rxq[p].staged[i]);
		free(n->rxq[p].staged);
	}
	free(n->chain);
	free(n->frame_buf);
	free(n);
}

void dm_net_set_link(struct dm_net *n, bool up)
{
	if (!n || n->link_up == up)
		return;
	/* Without STATUS the driver assumes the link up; a "down" link
	 * still stops frames, but nothing is announced. */
	n->link_up = up;
	if (offered(n, DM_VIRTIO_NET_F_STATUS))
		dm_virtio_config_changed(&n->dv);
}

void dm_net_announce(struct dm_net *n)
{
	if (!n || !offered(n, DM_VIRTIO_NET_F_STATUS))
		return;
	n->announce = true;
	dm_virtio_config_changed(&n->dv);
}

void dm_net_set_backend(struct dm_net *n, struct dm_net_backend *be)
{
	if (!n)
		return;
	if (n->backend && n->backend->destroy)
		n->backend->destroy(n->backend);
	n->backend = be;
	if (be)
		be->nic = n;
}
