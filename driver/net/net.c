/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver (VIRTIO 1.2, 5.1).
 *
 * Queues: receiveq1 (0), transmitq1 (1) and, with CTRL_VQ, the control
 * queue (2).  With MQ (5.1.5, 5.1.6.5.6): max_virtqueue_pairs is read once
 * (0 or above 0x8000 is a lie: the device is negotiated again without MQ,
 * one pair), up to VLAB_NET_MAX_PAIRS pairs are set up (fewer when the
 * caller says so or a queue is refused by the transport: that costs the
 * pairs from there on) and the control queue at 2 * max_virtqueue_pairs;
 * after DRIVER_OK VQ_PAIRS_SET enables them (a NAK: one pair).  Transmit
 * picks the pair by a flow hash (Ethernet addresses and type, TCP/UDP
 * ports), so a flow stays in order on one queue; receive polls every
 * receive queue set up, round robin, and drops (VLAB_NET_DROP_QUEUE) a
 * frame on a queue beyond the pairs in use.  No RSS, no HASH_REPORT.
 * No segmentation offload (TSO/UFO/USO).
 * Checksum offload: with CSUM, vlab_net_send_csum asks the device to
 * complete a TCP/UDP checksum (NEEDS_CSUM, csum_start/csum_offset found in
 * the frame's own headers); with GUEST_CSUM the receive flags are claims
 * checked against the frame (rx_csum, docs/attack-surface.md N11-N13):
 * NEEDS_CSUM is completed in software only where csum_start/csum_offset
 * and the pseudo-header sum match the frame's headers, DATA_VALID is
 * reported as the device's word unless rx_csum_verify checks it.
 *
 * Memory: receive buffers, transmit slots and the control buffer are
 * driver-owned DMA blocks; frames are copied in and out, and everything
 * the device wrote is read through vlab_plat_shm_read.
 *
 * Receive buffers: with MRG_RXBUF one descriptor of rx_buf_len bytes each
 * (2048 by default, whatever the MTU), a frame may span several: a large
 * MTU (QEMU's host_mtu=9000) costs no memory per small frame, and a
 * 9014-byte frame takes five buffers; init checks that the buffers posted
 * can hold one largest frame.  Without MRG_RXBUF two descriptors (header,
 * then room for 14 + MTU bytes, at least 1514: big buffers, one frame
 * each, DRV-5.1.4.2-7), so the layout is valid whether or not ANY_LAYOUT
 * was negotiated.  Every received frame is validated (used
 * length, num_buffers, merged-buffer fill, frame size, gso_type) and a bad
 * one is dropped and counted by reason; its buffers are posted again.
 *
 * Release rule (net.h): a buffer given to the device is reused, re-posted
 * or freed only once the device returned it in the used ring or after a
 * reset it acknowledged.  When the driver gives up on the device it stops
 * it first (net_give_up); a device that does not stop keeps everything it
 * was given, and every later call fails fast (n->stopped).
 */
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/wait.h"
#include "net_csum_priv.h"

#if VLAB_CFG_NET /* vlab/config.h */

#define NET_WAIT_STEP_NS 1000u        /* receive and control polls: fixed steps */
#define NET_DRAIN_STEP_MAX_NS 1000000u /* the shutdown drain: growing to 1 ms */
#define NET_TX_DATA_OFF 16u    /* header (10 or 12 bytes) padded to 16 */
#define NET_MRG_BUF_DEFAULT 2048u
#define NET_MIN_RX_DATA 1514u  /* with a 12-byte header: 1526 (DRV-5.1.6.3.1-2) */
#define NET_CTRL_DATA_OFF 16u
#define NET_CTRL_ACK_OFF 240u
#define NET_CTRL_BYTES 256u

const char *vlab_net_drop_name(enum vlab_net_drop r)
{
	switch (r) {
	case VLAB_NET_DROP_SHORT: return "short";
	case VLAB_NET_DROP_LONG: return "long";
	case VLAB_NET_DROP_NUM_BUFFERS: return "num_buffers";
	case VLAB_NET_DROP_MERGE: return "merge";
	case VLAB_NET_DROP_GSO: return "gso";
	case VLAB_NET_DROP_PROTO: return "protocol";
	case VLAB_NET_DROP_CSUM: return "csum";
	case VLAB_NET_DROP_QUEUE: return "queue";
	case VLAB_NET_DROP_COUNT: break;
	}
	return "?";
}

const char *vlab_net_csum_name(enum vlab_net_csum c)
{
	switch (c) {
	case VLAB_NET_CSUM_NONE: return "none";
	case VLAB_NET_CSUM_DEVICE: return "device";
	case VLAB_NET_CSUM_VERIFIED: return "verified";
	case VLAB_NET_CSUM_COMPLETED: return "completed";
	}
	return "?";
}

static const char *net_name(const struct vlab_net *n)
{
	return (n->vdev && n->vdev->name) ? n->vdev->name : "virtio-net";
}

static const struct vlab_platform *net_plat(const struct vlab_net *n)
{
	return n->vdev->plat;
}

/*
 * Give up on the device (rc says why: a timeout, a protocol breach, a
 * request for a reset) and stop it before anything it was given is touched
 * again (DRV-3.3.1-2): from here on every call fails with VLAB_EBROKEN and
 * no buffer is re-posted, reused or freed until a reset the device
 * acknowledges (shutdown's, or init's).  Returns rc, or VLAB_EWEDGED when
 * the device did not acknowledge the reset.
 */
static int net_give_up(struct vlab_net *n, int rc, const char *why)
{
	n->stopped = true;
	if (vlab_virtio_stop(n->vdev, why) != 0)
		return VLAB_EWEDGED;
	return rc;
}

/* rc of an operation on the device: when it left the device broken (a
 * breach found on the way), give up on it. */
static int net_after(struct vlab_net *n, int rc)
{
	if (rc && !n->stopped && n->vdev->broken)
		return net_give_up(n, rc, "net: device broken");
	return rc;
}

/* 0 when the device may be used; otherwise the error, once a device that
 * asks for a reset or was found broken has been stopped. */
static int net_usable(struct vlab_net *n)
{
	int rc;

	if (n->stopped)
		return VLAB_EBROKEN;
	rc = vlab_virtio_check(n->vdev);
	if (rc == VLAB_ENEEDSRESET)
		return net_give_up(n, rc, "net: device needs a reset");
	return net_after(n, rc);
}

/* Header and control fields: little-endian on a modern interface,
 * guest-native on a legacy one. */
static void put16(const struct vlab_net *n, uint8_t *p, uint16_t v)
{
	if (n->vdev->legacy) {
		vlab_memcpy(p, &v, 2);
		return;
	}
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(const struct vlab_net *n, uint8_t *p, uint32_t v)
{
	if (n->vdev->legacy) {
		vlab_memcpy(p, &v, 4);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const struct vlab_net *n, const uint8_t *p)
{
	uint16_t v;
	if (n->vdev->legacy) {
		vlab_memcpy(&v, p, 2);
		return v;
	}
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t align16(uint32_t v)
{
	return (v + 15u) & ~15u;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                        */

static int net_config_error(struct vlab_net *n, const char *what, uint32_t val)
{
	vlab_log(net_plat(n), VLAB_LOG_ERROR, "%s: bad config: %s (%u)", net_name(n), what, (unsigned)val);
	return VLAB_ECONFIG;
}

/* A locally administered unicast address (DRV-5.1.4.2-3): random bits from
 * the platform, or, without a random source, a fixed one derived from the
 * device's name (which carries its address), so it is stable per slot. */
static void make_local_mac(struct vlab_net *n)
{
	const struct vlab_platform *p = net_plat(n);
	uint64_t r;

	if (p->ops->random) {
		r = p->ops->random(p->ctx);
	} else {
		const char *s = net_name(n);
		r = 0xcbf29ce484222325ull; /* FNV-1a */
		for (size_t i = 0; s[i] && i < 64; i++) {
			r ^= (uint8_t)s[i];
			r *= 0x100000001b3ull;
		}
	}
	for (unsigned i = 0; i < VLAB_ETH_ALEN; i++)
		n->mac[i] = (uint8_t)(r >> (8 * i));
	n->mac[0] = (uint8_t)((n->mac[0] & 0xfcu) | 0x02u); /* unicast, locally administered */
	n->mac_from_device = false;
}

static int net_read_link(struct vlab_net *n, bool *up)
{
	uint16_t st = 0;
	int rc;

	if (!vlab_virtio_has(n->vdev, VIRTIO_NET_F_STATUS)) {
		*up = true; /* DRV-5.1.4.2-4 */
		return 0;
	}
	rc = vlab_virtio_config_read(n->vdev, VIRTIO_NET_CFG_STATUS, &st, 2);
	if (rc)
		return rc;
	/* DRV-5.1.4.2-5: bit 0; other bits ignored (ANNOUNCE: GUEST_ANNOUNCE
	 * is never negotiated, so a device setting it is not answered). */
	*up = (st & VIRTIO_NET_S_LINK_UP) != 0;
	return 0;
}

static int net_read_config(struct vlab_net *n)
{
	struct vlab_virtio_dev *d = n->vdev;
	int rc;

	if (vlab_virtio_has(d, VIRTIO_NET_F_MAC)) {
		uint8_t mac[VLAB_ETH_ALEN];
		static const uint8_t zero[VLAB_ETH_ALEN];

		/* DRV-5.1.4.2-2: the device's mac is the NIC's address. */
		rc = vlab_virtio_config_read(d, VIRTIO_NET_CFG_MAC, mac, sizeof mac);
		if (rc)
			return rc;
		if (mac[0] & 1u)
			return net_config_error(n, "mac is a multicast address", mac[0]);
		if (vlab_memcmp(mac, zero, sizeof mac) == 0)
			return net_config_error(n, "mac is all zero", 0);
		vlab_memcpy(n->mac, mac, sizeof mac);
		n->mac_from_device = true;
	} else {
		make_local_mac(n);
	}

	n->mtu = VLAB_NET_MTU_DEFAULT;
	if (vlab_virtio_has(d, VIRTIO_NET_F_MTU)) {
		uint16_t mtu = 0;
		rc = vlab_virtio_config_read(d, VIRTIO_NET_CFG_MTU, &mtu, 2);
		if (rc)
			return rc;
		/* DEV-5.1.4.1-2 bounds it to 68..65535; below is refused. */
		if (mtu < VLAB_NET_MTU_MIN)
			return net_config_error(n, "mtu below 68", mtu);
		n->mtu = mtu;
	}
	if (vlab_virtio_has(d, VIRTIO_NET_F_MQ)) {
		uint16_t mp = 0;
		/* Read once, only with MQ (DRV-2.5.1-3); 1..0x8000 checked by
		 * net_start (DEV-5.1.4.1-1). */
		rc = vlab_virtio_config_read(d, VIRTIO_NET_CFG_MAX_VQ_PAIRS, &mp, 2);
		if (rc)
			return rc;
		n->max_pairs_offered = mp;
	}
	return net_read_link(n, &n->link_up);
}

/* ------------------------------------------------------------------ */
/* Receive buffers                                                      */

static uint8_t *rx_buf(const struct vlab_net *n, unsigned i)
{
	return n->rx_mem + (size_t)i * n->rx_buf_len;
}

static void *rx_cookie(unsigned i)
{
	return (void *)(uintptr_t)(i + 1u);
}

/* The receive / transmit queue of pair p (0: receiveq1, transmitq1). */
static struct vlab_vq *rxq_of(struct vlab_net *n, unsigned p)
{
	return p == 0 ? &n->rxq : &n->mrxq[p - 1];
}

static struct vlab_vq *txq_of(struct vlab_net *n, unsigned p)
{
	return p == 0 ? &n->txq : &n->mtxq[p - 1];
}

static bool rx_is_posted(const struct vlab_net *n, unsigned i)
{
	return (n->rx_posted[i / 32u] >> (i % 32u)) & 1u;
}

/* Receive buffer i is now with the device (posted) or back with the driver. */
static void rx_mark(struct vlab_net *n, unsigned i, bool posted)
{
	uint32_t bit = 1u << (i % 32u);

	if (posted)
		n->rx_posted[i / 32u] |= bit;
	else
		n->rx_posted[i / 32u] &= ~bit;
}

/* The number of the lowest set bit of m (not 0): a de Bruijn sequence, no
 * compiler built-in (on targets without a count-zeros instruction those
 * call into libgcc, which a freestanding image may not link). */
static unsigned lowest_bit(uint32_t m)
{
	static const uint8_t pos[32] = {0,  1,  28, 2,  29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4,  8,
	                                31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6,  11, 5,  10, 9};

	return pos[(uint32_t)((m & (0u - m)) * 0x077CB531u) >> 27];
}

/* Post buffer i (device-writable, zeroed first so that nothing of an old
 * frame can pass for a new one, unless vlab_net_cfg.no_rx_zeroing). */
static int rx_post(struct vlab_net *n, unsigned i)
{
	struct vlab_sg sg[2];
	vlab_addr_t a = n->rx_dev + (vlab_addr_t)i * n->rx_buf_len;
	int rc;

	if (!n->no_rx_zeroing)
		vlab_memset(rx_buf(n, i), 0, n->rx_buf_len);
	if (n->mrg) {
		/* DRV-5.1.6.3.1-3: each buffer at least the header. */
		sg[0].addr = a;
		sg[0].len = n->rx_buf_len;
		rc = vlab_vq_add(rxq_of(n, i / n->rx_per_q), NULL, 0, sg, 1, rx_cookie(i));
	} else {
		sg[0].addr = a;
		sg[0].len = n->hdr_len;
		sg[1].addr = a + n->hdr_len;
		sg[1].len = n->rx_buf_len - n->hdr_len;
		rc = vlab_vq_add(rxq_of(n, i / n->rx_per_q), NULL, 0, sg, 2, rx_cookie(i));
	}
	if (rc == 0) {
		rx_mark(n, i, true);
		n->stats.rx_buffers_posted++;
	}
	return rc;
}

/* Post every buffer of receive queue p the driver holds; kick once. */
static int rx_refill(struct vlab_net *n, unsigned p)
{
	const unsigned lo = p * n->rx_per_q, hi = lo + n->rx_per_q;
	bool added = false;

	/* The clear bits of the queue's range, a word at a time, lowest first. */
	for (unsigned w = lo / 32u; w * 32u < hi; w++) {
		uint32_t held = ~n->rx_posted[w];

		if (w * 32u < lo)
			held &= ~0u << (lo - w * 32u);
		if (hi - w * 32u < 32u)
			held &= (1u << (hi - w * 32u)) - 1u;
		while (held) {
			unsigned b = lowest_bit(held);
			int rc = rx_post(n, w * 32u + b);

			if (rc == VLAB_EBUSY)
				return added ? vlab_vq_kick(rxq_of(n, p)) : 0;
			if (rc)
				return rc;
			added = true;
			held &= held - 1u;
		}
	}
	return added ? vlab_vq_kick(rxq_of(n, p)) : 0;
}

/* fn on every pair set up, in order, until one fails. */
static int each_pair(struct vlab_net *n, int (*fn)(struct vlab_net *, unsigned))
{
	for (unsigned p = 0; p < n->pairs_set_up; p++) {
		int rc = fn(n, p);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Initialisation                                                       */

static void net_free_mem(struct vlab_net *n)
{
	const struct vlab_platform *p = net_plat(n);

	if (n->rx_mem)
		p->ops->dma_free(p->ctx, n->rx_mem, n->rx_mem_len);
	if (n->tx_mem)
		p->ops->dma_free(p->ctx, n->tx_mem, n->tx_mem_len);
	if (n->ctrl_mem)
		p->ops->dma_free(p->ctx, n->ctrl_mem, n->ctrl_mem_len);
	n->rx_mem = n->tx_mem = n->ctrl_mem = NULL;
	n->rx_mem_len = n->tx_mem_len = n->ctrl_mem_len = 0;
}

static void net_teardown_queues(struct vlab_net *n)
{
	for (unsigned p = 0; p < VLAB_NET_MAX_PAIRS; p++) {
		if (vlab_vq_allocated(rxq_of(n, p)))
			vlab_vq_teardown(rxq_of(n, p));
		if (vlab_vq_allocated(txq_of(n, p)))
			vlab_vq_teardown(txq_of(n, p));
	}
	if (vlab_vq_allocated(&n->ctrlq))
		vlab_vq_teardown(&n->ctrlq);
}

static void *dma_block(struct vlab_net *n, size_t len, vlab_addr_t *dev)
{
	const struct vlab_platform *p = net_plat(n);
	return p->ops->dma_alloc(p->ctx, len, 16, dev);
}

/* The smallest of the sizes of the receive (tx false) or transmit queues
 * set up. */
static uint32_t min_q_size(struct vlab_net *n, bool tx)
{
	uint32_t m = vlab_vq_size(tx ? &n->txq : &n->rxq);
	for (unsigned p = 1; p < n->pairs_set_up; p++) {
		uint32_t s = vlab_vq_size(tx ? txq_of(n, p) : rxq_of(n, p));
		if (s < m)
			m = s;
	}
	return m;
}

/* Buffers and slots for each of the pairs_set_up pairs: as many as the
 * smallest queue takes, the driver's caps and the caller's limits shared
 * out among the pairs.  With MRG_RXBUF one queue's buffers must hold a
 * largest frame; when they cannot, fewer pairs are used (logged). */
static int net_setup_buffers(struct vlab_net *n, const struct vlab_net_cfg *cfg)
{
	uint32_t room;
	unsigned per;

	n->no_rx_zeroing = cfg && cfg->no_rx_zeroing;
	if (n->mrg) {
		n->rx_buf_len = cfg && cfg->rx_buf_len ? cfg->rx_buf_len : NET_MRG_BUF_DEFAULT;
		if (n->rx_buf_len < n->hdr_len || n->rx_buf_len > (1u << 20))
			return VLAB_EINVAL; /* DRV-5.1.6.3.1-3 */
	} else {
		/* DRV-5.1.4.2-7 (MTU) and DRV-5.1.6.3.1-2 (1526 bytes). */
		room = n->max_frame > NET_MIN_RX_DATA ? n->max_frame : NET_MIN_RX_DATA;
		n->rx_buf_len = align16(n->hdr_len + room);
	}
	for (;;) {
		const unsigned np = n->pairs_set_up;
		per = min_q_size(n, false) / (n->mrg ? 1u : 2u);
		if (per > VLAB_NET_RX_BUFS / np)
			per = VLAB_NET_RX_BUFS / np;
		if (cfg && cfg->rx_buffers && per > (unsigned)cfg->rx_buffers / np)
			per = (unsigned)cfg->rx_buffers / np;
		if (np == 1 || per == 0 || !n->mrg || (uint64_t)per * n->rx_buf_len >= (uint64_t)n->hdr_len + n->max_frame)
			break;
		n->pairs_set_up--;
		vlab_log(net_plat(n), VLAB_LOG_WARN, "%s: %u receive buffers per queue cannot hold a frame of %u: "
		         "using %u queue pair(s)", net_name(n), per, (unsigned)n->max_frame, n->pairs_set_up);
	}
	n->rx_per_q = per;
	n->nrx = per * n->pairs_set_up;
	per = min_q_size(n, true) / 2u;
	if (per > VLAB_NET_TX_SLOTS / n->pairs_set_up)
		per = VLAB_NET_TX_SLOTS / n->pairs_set_up;
	if (cfg && cfg->tx_slots && per > (unsigned)cfg->tx_slots / n->pairs_set_up)
		per = (unsigned)cfg->tx_slots / n->pairs_set_up;
	n->tx_per_q = per;
	n->ntx = per * n->pairs_set_up;
	if (n->nrx == 0 || n->ntx == 0)
		return net_config_error(n, "queue too small", n->nrx ? vlab_vq_size(&n->txq) : vlab_vq_size(&n->rxq));
	/* With MRG_RXBUF a frame must fit the buffers there are. */
	if (n->mrg && (uint64_t)n->rx_per_q * n->rx_buf_len < (uint64_t)n->hdr_len + n->max_frame) {
		vlab_log(net_plat(n), VLAB_LOG_ERROR,
		         "%s: %u receive buffers of %u bytes cannot hold a frame of %u (mtu %u) and its "
		         "%u-byte header: more buffers (vlab_net_cfg.rx_buffers) or larger ones (rx_buf_len)",
		         net_name(n), n->rx_per_q, (unsigned)n->rx_buf_len, (unsigned)n->max_frame, n->mtu,
		         (unsigned)n->hdr_len);
		return VLAB_EINVAL;
	}

	n->rx_mem_len = (size_t)n->nrx * n->rx_buf_len;
	n->rx_mem = dma_block(n, n->rx_mem_len, &n->rx_dev);
	n->tx_stride = NET_TX_DATA_OFF + align16(n->max_frame);
	n->tx_mem_len = (size_t)n->ntx * n->tx_stride;
	n->tx_mem = dma_block(n, n->tx_mem_len, &n->tx_dev);
	if (VLAB_CFG_NET_EXTRA && n->has_ctrl) {
		n->ctrl_mem_len = NET_CTRL_BYTES;
		n->ctrl_mem = dma_block(n, n->ctrl_mem_len, &n->ctrl_dev);
	}
	if (!n->rx_mem || !n->tx_mem || (n->has_ctrl && !n->ctrl_mem)) {
		vlab_log(net_plat(n), VLAB_LOG_ERROR,
		         "%s: no DMA memory for %u receive buffers of %u bytes and %u transmit slots of %u (mtu %u)",
		         net_name(n), n->nrx, (unsigned)n->rx_buf_len, n->ntx, (unsigned)n->tx_stride, n->mtu);
		return VLAB_ENOMEM;
	}
	return 0;
}

/* CTRL_RX, MQ and CTRL_MAC_ADDR need the control queue (5.1.3.1). */
static const struct vlab_feature_dep net_deps[] = {
	{VIRTIO_NET_F_CTRL_RX, VLAB_BIT(VIRTIO_NET_F_CTRL_VQ)},
	{VIRTIO_NET_F_MQ, VLAB_BIT(VIRTIO_NET_F_CTRL_VQ)},
	{VIRTIO_NET_F_CTRL_MAC_ADDR, VLAB_BIT(VIRTIO_NET_F_CTRL_VQ)},
};
/* The features the driver implements: MAC and MTU whenever offered
 * (DRV-5.1.4.2-1, DRV-5.1.4.2-6); CSUM and GUEST_CSUM, no segmentation
 * offload (DRV-5.1.6.2.1-18: gso_type stays NONE). */
#if defined(VLAB_MUTANT_NO_MAC_FEATURE) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_MAC_FEATURE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
#define NET_F_MAC 0ull /* MAC not accepted */
#else
#define NET_F_MAC VLAB_BIT(VIRTIO_NET_F_MAC)
#endif
#if defined(VLAB_MUTANT_NO_MTU_FEATURE) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_MTU_FEATURE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
#define NET_F_MTU 0ull /* MTU not accepted */
#else
#define NET_F_MTU VLAB_BIT(VIRTIO_NET_F_MTU)
#endif
/* MQ when more than one pair may be used; never RSS or HASH_REPORT: the
 * device steers and hashes as it likes, the driver needs neither. */
#if VLAB_NET_MAX_PAIRS > 1
#define NET_F_MQ VLAB_BIT(VIRTIO_NET_F_MQ)
#else
#define NET_F_MQ 0ull
#endif
/* What VLAB_CFG_NET_EXTRA=0 leaves out (vlab/config.h): the control queue
 * and all that rides on it, and checksum offload.  The code behind them
 * stays compiled in C but is dead (every path starts with a test of
 * VLAB_CFG_NET_EXTRA), so the compiler drops it. */
#if VLAB_CFG_NET_EXTRA
#define NET_F_EXTRA                                                                               \
	(NET_F_MQ | VLAB_BIT(VIRTIO_NET_F_CTRL_VQ) | VLAB_BIT(VIRTIO_NET_F_CTRL_RX) |               \
	 VLAB_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM))
#else
#define NET_F_EXTRA 0ull
#endif
#define NET_FEATURES                                                                          \
	(NET_F_EXTRA | NET_F_MAC | VLAB_BIT(VIRTIO_NET_F_STATUS) | NET_F_MTU | VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	 VLAB_BIT(VIRTIO_F_VERSION_1))

struct ctrl_part {
	const uint8_t *p;
	uint32_t len;
};

static int net_start(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg);
static int ctrl_cmd(struct vlab_net *n, uint8_t cls, uint8_t cmd, const struct ctrl_part *parts,
                    unsigned nparts);
static int net_probe(void *priv, struct vlab_virtio_dev *d, const void *cfg);
static int net_remove(void *priv);

/* The registry entry (vlab/bus.h). */
const struct vlab_driver vlab_net_driver = {
	.device_id = VIRTIO_ID_NET,
	.name = "virtio-net",
	.features = NET_FEATURES,
	.deps = net_deps,
	.ndeps = sizeof net_deps / sizeof net_deps[0],
	.priv_size = sizeof(struct vlab_net),
	.priv_align = _Alignof(struct vlab_net),
	.probe = net_probe,
	.remove = net_remove,
};

int vlab_net_init(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg)
{
	if (!n || !d)
		return VLAB_EINVAL;
	vlab_memset(n, 0, sizeof *n);
	n->vdev = d;
	return vlab_driver_start(&vlab_net_driver, n, d, cfg,
	                         cfg ? cfg->refuse & ~VLAB_BIT(VIRTIO_F_VERSION_1) : 0);
}

/*
 * MQ cannot be used (max_virtqueue_pairs a lie, no control queue where it
 * says, VQ_PAIRS_SET not answered): reset, release everything (the reset
 * was acknowledged: the device holds nothing), and negotiate again as
 * before but without MQ: one pair, the control queue at 2.  The pairs are
 * lost, not the NIC.
 */
static int net_without_mq(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg,
                          uint64_t negotiated, const char *why, unsigned v)
{
	/* What was negotiated, less MQ (negotiated: read before any reset
	 * cleared d->features). */
	const uint64_t refuse = (vlab_net_driver.features & ~negotiated) | VLAB_BIT(VIRTIO_NET_F_MQ);

	vlab_log(d->plat, VLAB_LOG_WARN, "%s: multiqueue: %s %u: negotiating again without MQ (one queue pair)",
	         net_name(n), why, v);
	if (vlab_virtio_reset(d) != 0) {
		vlab_log(d->plat, VLAB_LOG_ERROR, "%s: the device did not reset: its buffers are kept", net_name(n));
		n->stopped = true;
		return VLAB_EWEDGED;
	}
	net_teardown_queues(n);
	net_free_mem(n);
	return vlab_driver_start(&vlab_net_driver, n, d, cfg, refuse);
}

/* Pairs 2.. up to max_virtqueue_pairs, VLAB_NET_MAX_PAIRS and the caller's
 * max_pairs: a pair whose queues the transport refuses (MMIO QueueNumMax
 * 0, a legacy PCI ring above VLAB_VQ_SIZE_MAX) ends the count there (a log
 * line), unless the device broke. */
static int net_setup_pairs(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg)
{
	unsigned want = n->max_pairs_offered;

	if (want > VLAB_NET_MAX_PAIRS)
		want = VLAB_NET_MAX_PAIRS;
	if (cfg && cfg->max_pairs && want > cfg->max_pairs)
		want = cfg->max_pairs;
	for (unsigned q = 1; q < want; q++) {
		int rc = vlab_vq_setup(rxq_of(n, q), d, (uint16_t)(2u * q), cfg ? cfg->rx_queue_cap : 0);
		if (!rc)
			rc = vlab_vq_setup(txq_of(n, q), d, (uint16_t)(2u * q + 1u), cfg ? cfg->tx_queue_cap : 0);
		if (rc) {
			if (d->broken)
				return rc;
			vlab_log(d->plat, VLAB_LOG_WARN, "%s: multiqueue: queue pair %u not usable (%s): using %u",
			         net_name(n), q + 1u, vlab_errname(rc), q);
			break;
		}
		n->pairs_set_up = (uint16_t)(q + 1u);
	}
	return 0;
}

/* VQ_PAIRS_SET pairs_set_up (5.1.6.5.6): its queues were set up and
 * filled before (DRV-5.1.6.5.6.1-1, DRV-5.1.6.3.1-4), 1..max_virtqueue_pairs
 * (DRV-5.1.6.5.6.1-2).  A NAK leaves one pair in use; a command that
 * failed otherwise (the device was stopped) costs MQ, not the NIC. */
static int net_set_pairs(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg)
{
	const uint64_t negotiated = d->features; /* a timeout's reset clears them */
	uint8_t v[2];
	struct ctrl_part part = {v, 2};
	int rc;

	put16(n, v, n->pairs_set_up);
	rc = ctrl_cmd(n, VLAB_NET_CTRL_MQ, VLAB_NET_CTRL_MQ_VQ_PAIRS_SET, &part, 1);
	if (rc == 0) {
		n->pairs = n->pairs_set_up;
		return 0;
	}
	if (rc == VLAB_EIO) {
		vlab_log(d->plat, VLAB_LOG_WARN, "%s: multiqueue: VQ_PAIRS_SET %u refused: using one pair",
		         net_name(n), n->pairs_set_up);
		n->pairs = 1;
		return 0;
	}
	if (rc == VLAB_EWEDGED)
		return rc;
	vlab_log(d->plat, VLAB_LOG_WARN, "%s: multiqueue: VQ_PAIRS_SET %u failed (%s)", net_name(n),
	         n->pairs_set_up, vlab_errname(rc));
	return net_without_mq(n, d, cfg, negotiated, "VQ_PAIRS_SET, pairs", n->pairs_set_up);
}

/* After FEATURES_OK: config, queues, buffers, DRIVER_OK. */
static int net_start(struct vlab_net *n, struct vlab_virtio_dev *d, const struct vlab_net_cfg *cfg)
{
	const struct vlab_platform *p = d->plat;
	int rc;

	vlab_memset(n, 0, sizeof *n);
	n->vdev = d;
	n->mrg = vlab_virtio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	n->has_ctrl = vlab_virtio_has(d, VIRTIO_NET_F_CTRL_VQ);
	n->csum = vlab_virtio_has(d, VIRTIO_NET_F_CSUM);
	n->guest_csum = vlab_virtio_has(d, VIRTIO_NET_F_GUEST_CSUM);
	n->rx_csum_verify = cfg && cfg->rx_csum_verify;
	/* 5.1.6: num_buffers exists with VERSION_1 or MRG_RXBUF. */
	n->hdr_len = (vlab_virtio_has(d, VIRTIO_F_VERSION_1) || n->mrg) ? VIRTIO_NET_HDR_LEN
	                                                                : VIRTIO_NET_HDR_LEN_LEGACY;
	rc = net_read_config(n);
	if (rc) {
		vlab_virtio_fail(d);
		return rc;
	}
	n->max_frame = VLAB_ETH_HLEN + n->mtu;

	/* DEV-5.1.4.1-1: 1..0x8000; anything else leaves the control
	 * queue's place (2 * max_virtqueue_pairs) unknown. */
	if (VLAB_CFG_NET_EXTRA && (n->max_pairs_offered == 0 || n->max_pairs_offered > VLAB_NET_MQ_PAIRS_MAX)) {
		if (vlab_virtio_has(d, VIRTIO_NET_F_MQ))
			return net_without_mq(n, d, cfg, d->features, "max_virtqueue_pairs (not 1..0x8000)",
			                      n->max_pairs_offered);
	}

	n->pairs_set_up = n->pairs = 1;
	rc = vlab_vq_setup(&n->rxq, d, VIRTIO_NET_Q_RX, cfg ? cfg->rx_queue_cap : 0);
	if (!rc)
		rc = vlab_vq_setup(&n->txq, d, VIRTIO_NET_Q_TX, cfg ? cfg->tx_queue_cap : 0);
	if (!rc && VLAB_CFG_NET_EXTRA && n->has_ctrl) {
		/* 5.1.2: controlq is 2N, N max_virtqueue_pairs with MQ. */
		const uint32_t cq = n->max_pairs_offered ? 2u * n->max_pairs_offered : VIRTIO_NET_Q_CTRL;
		rc = cq > 0xffffu ? VLAB_ENODEV : vlab_vq_setup(&n->ctrlq, d, (uint16_t)cq, 0);
		if (rc && n->max_pairs_offered && !d->broken) {
			return net_without_mq(n, d, cfg, d->features, "no usable control queue at 2 * max_virtqueue_pairs, queue",
			                      cq);
		}
	}
	if (!rc && VLAB_CFG_NET_EXTRA && n->max_pairs_offered)
		rc = net_setup_pairs(n, d, cfg);
	/* Transmit and control completions are polled for: no interrupts
	 * for them. */
	if (!rc) {
		for (unsigned q = 0; q < n->pairs_set_up; q++)
			vlab_vq_disable_cb(txq_of(n, q));
		vlab_vq_disable_cb(&n->ctrlq);
	}
	if (!rc)
		rc = net_setup_buffers(n, cfg);
	/* Receive buffers go in before DRIVER_OK; they are published but the
	 * notification waits for DRIVER_OK (DRV-3.1.1-7). */
	if (!rc)
		rc = each_pair(n, rx_refill); /* DRV-5.1.6.3.1-4: every receive queue filled */
	if (!rc)
		rc = vlab_virtio_driver_ok(d);
	for (unsigned q = 0; !rc && q < n->pairs_set_up; q++)
		rc = vlab_vq_kick(rxq_of(n, q));
	if (rc)
		goto undo;
	/* More than one pair: enabled by VQ_PAIRS_SET, after DRIVER_OK (the
	 * control queue works then); until it is answered only pair 1 is
	 * used (DRV-5.1.6.5.6.1-3).  One pair is what the device uses after
	 * a reset (DEV-5.1.6.5.6.2-1): no command. */
	if (VLAB_CFG_NET_EXTRA && n->pairs_set_up > 1) {
		rc = net_set_pairs(n, d, cfg);
		if (rc || !n->max_pairs_offered)
			return rc; /* (negotiated again without MQ: that init logged) */
	}
	vlab_log(p, VLAB_LOG_INFO,
	         "%s: virtio-net %02x:%02x:%02x:%02x:%02x:%02x mtu %u, header %u, %s, %u rx buffers "
	         "of %u, %u tx slots%s%s%s",
	         net_name(n), n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->mtu,
	         (unsigned)n->hdr_len, n->mrg ? "mergeable" : "whole-frame", n->nrx, (unsigned)n->rx_buf_len, n->ntx,
	         n->has_ctrl ? ", control queue" : "", n->csum ? ", tx checksum offload" : "",
	         n->guest_csum ? ", rx checksum flags" : "");
	if (n->max_pairs_offered)
		vlab_log(p, VLAB_LOG_INFO, "%s: multiqueue: %u queue pair(s) in use, %u set up, max_virtqueue_pairs %u",
		         net_name(n), n->pairs, n->pairs_set_up, n->max_pairs_offered);
	return 0;

undo:
	/* Reset before freeing anything the device may still use (DRV-3.3.1-2). */
	if (vlab_virtio_reset(d) == 0) {
		net_teardown_queues(n);
		net_free_mem(n);
	} else {
		vlab_log(p, VLAB_LOG_ERROR, "%s: init failed (%s) and the device did not reset: "
		         "its buffers are kept", net_name(n), vlab_errname(rc));
		n->stopped = true;
		rc = VLAB_EWEDGED;
	}
	vlab_virtio_fail(d);
	return rc;
}

static int tx_reclaim(struct vlab_net *n);

/*
 * Wait (growing steps, bounded by the device timeout) for the device to
 * return every queued transmit buffer, so that shutdown's reset drops no
 * frame a working device was about to send.  Not on a device given up on
 * or asking for a reset.  Returns the frames still queued.
 */
static unsigned net_drain_tx(struct vlab_net *n)
{
	struct vlab_wait w;

	if (!n->tx_mem || vlab_net_tx_pending(n) == 0 || n->stopped || vlab_virtio_check(n->vdev) != 0)
		return vlab_net_tx_pending(n);
	vlab_wait_start_growing(&w, net_plat(n), vlab_virtio_timeout(n->vdev), NET_WAIT_STEP_NS,
	                        NET_DRAIN_STEP_MAX_NS);
	while (tx_reclaim(n) == 0 && vlab_net_tx_pending(n) != 0) {
		if (!vlab_wait_step(&w))
			break;
	}
	return vlab_net_tx_pending(n);
}

int vlab_net_shutdown(struct vlab_net *n)
{
	unsigned dropped;
	int rc;

	if (!n || !n->vdev)
		return VLAB_EINVAL;
	dropped = net_drain_tx(n);
	if (dropped) {
		n->stats.tx_dropped_at_shutdown += dropped;
		vlab_log(net_plat(n), VLAB_LOG_WARN, "%s: shutdown: %u queued frames dropped (not sent)",
		         net_name(n), dropped);
	}
	rc = vlab_virtio_reset(n->vdev);
	if (rc) {
		/* A device that does not reset may still write our buffers:
		 * keep them (leak them) rather than free them. */
		vlab_log(net_plat(n), VLAB_LOG_ERROR, "%s: reset failed (%s); buffers not freed",
		         net_name(n), vlab_errname(rc));
		n->stopped = true;
		rc = VLAB_EWEDGED;
	} else {
		net_teardown_queues(n);
		net_free_mem(n);
	}
	vlab_memset(n->rx_posted, 0, sizeof n->rx_posted);
	vlab_memset(n->tx, 0, sizeof n->tx);
	n->nrx = n->ntx = 0;
	n->rx_per_q = n->tx_per_q = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Transmit                                                             */

/* Free the slots of the transmit buffers the device returned on queue p:
 * each must be a slot in flight on that queue. */
static int tx_reclaim_q(struct vlab_net *n, unsigned p)
{
	struct vlab_vq *vq = txq_of(n, p);

	for (uint32_t i = 0; i <= vlab_vq_size(vq); i++) {
		void *cookie = NULL;
		uint32_t len = 0;
		int rc = vlab_vq_pop(vq, &cookie, &len);

		if (rc == VLAB_EAGAIN)
			return 0;
		if (rc)
			return net_after(n, rc);
		uintptr_t s = (uintptr_t)cookie;
		if (s <= p * n->tx_per_q || s > (p + 1u) * n->tx_per_q || !n->tx[s - 1].busy)
			return net_after(n, vlab_virtio_mark_broken(n->vdev, "net: transmit completion for no slot"));
		n->tx[s - 1].busy = false;
		n->stats.tx_completed++;
	}
	return 0;
}

static int tx_reclaim(struct vlab_net *n)
{
	return each_pair(n, tx_reclaim_q);
}

/*
 * The pair a frame goes out on: a flow hash (FNV-1a over the Ethernet
 * addresses and type and, for TCP/UDP, the ports) modulo the pairs in
 * use, so that one flow keeps its order on one queue.  Pair 1 until
 * VQ_PAIRS_SET enabled more (DRV-5.1.6.5.6.1-3), none beyond those
 * (DRV-5.1.6.5.6.1-4).
 */
static unsigned tx_pair(const struct vlab_net *n, const uint8_t *f, uint32_t len)
{
#if VLAB_CFG_NET_EXTRA /* else one pair (vlab/config.h) */
	struct vlab_net_l4 l4;
	uint32_t h = 0x811c9dc5u;

	if (n->pairs <= 1)
		return 0;
	for (unsigned i = 0; i < VLAB_ETH_HLEN; i++)
		h = (h ^ f[i]) * 0x01000193u;
	if (vlab_net_l4_find(f, len, &l4) == 0)
		for (unsigned i = 0; i < 4; i++)
			h = (h ^ f[l4.start + i]) * 0x01000193u;
	return (h ^ (h >> 16)) % n->pairs;
#else
	(void)n;
	(void)f;
	(void)len;
	return 0;
#endif
}

int vlab_net_tx_reclaim(struct vlab_net *n)
{
	int rc;

	if (!n || !n->vdev || !n->tx_mem)
		return VLAB_EINVAL;
	rc = net_usable(n);
	return rc ? rc : tx_reclaim(n);
}

unsigned vlab_net_tx_pending(const struct vlab_net *n)
{
	unsigned c = 0;
	for (unsigned i = 0; i < n->ntx; i++)
		c += n->tx[i].busy;
	return c;
}

/* Send frame; with l4, ask the device to complete its checksum. */
static int net_send(struct vlab_net *n, const void *frame, uint32_t len, const struct vlab_net_l4 *l4)
{
	struct vlab_sg sg[2];
	const unsigned p = tx_pair(n, frame, len);
	struct vlab_vq *vq = txq_of(n, p);
	const unsigned end = (p + 1u) * n->tx_per_q;
	unsigned s;
	uint8_t *slot;
	int rc;

	rc = tx_reclaim(n);
	if (rc)
		return rc;
	for (s = p * n->tx_per_q; s < end; s++)
		if (!n->tx[s].busy)
			break;
	if (s == end || vlab_vq_num_free(vq) < 2) {
		n->stats.tx_busy++;
		return VLAB_EBUSY;
	}
	slot = n->tx_mem + (size_t)s * n->tx_stride;
	/* DRV-5.1.6.2.1-1/2/18/24: num_buffers 0, flags 0, gso NONE. */
	vlab_memset(slot, 0, NET_TX_DATA_OFF);
#if defined(VLAB_MUTANT_TX_HDR_FLAGS) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_TX_HDR_FLAGS is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	slot[VIRTIO_NET_HDR_OFF_FLAGS] = 4; /* an undefined flag */
#else
	slot[VIRTIO_NET_HDR_OFF_FLAGS] = 0;
#endif
#if defined(VLAB_MUTANT_TX_GSO) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_TX_GSO is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	slot[VIRTIO_NET_HDR_OFF_GSO_TYPE] = 1; /* TCPV4 */
#else
	slot[VIRTIO_NET_HDR_OFF_GSO_TYPE] = VIRTIO_NET_HDR_GSO_NONE;
#endif
#if defined(VLAB_MUTANT_TX_DATA_VALID) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_TX_DATA_VALID is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	slot[VIRTIO_NET_HDR_OFF_FLAGS] = 2; /* DATA_VALID */
#endif
	if (n->hdr_len == VIRTIO_NET_HDR_LEN)
#if defined(VLAB_MUTANT_TX_NUM_BUFFERS) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_TX_NUM_BUFFERS is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		put16(n, slot + VIRTIO_NET_HDR_OFF_NUM_BUFFERS, 1);
#else
		put16(n, slot + VIRTIO_NET_HDR_OFF_NUM_BUFFERS, 0);
#endif
	if (l4) {
		/* DRV-5.1.6.2.1-14: NEEDS_CSUM only with CSUM (the caller's
		 * pseudo-header sum in the field, DRV-5.1.6.2.1-15/16/17). */
		slot[VIRTIO_NET_HDR_OFF_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		put16(n, slot + VLAB_NET_HDR_OFF_CSUM_START, (uint16_t)l4->start);
		put16(n, slot + VLAB_NET_HDR_OFF_CSUM_OFFSET, (uint16_t)l4->field);
	}
	vlab_memcpy(slot + NET_TX_DATA_OFF, frame, len);
	sg[0].addr = n->tx_dev + (vlab_addr_t)s * n->tx_stride;
	sg[0].len = n->hdr_len;
	sg[1].addr = sg[0].addr + NET_TX_DATA_OFF;
	sg[1].len = len;
	rc = vlab_vq_add(vq, sg, 2, NULL, 0, (void *)(uintptr_t)(s + 1u));
	if (rc == VLAB_EBUSY)
		n->stats.tx_busy++;
	if (rc)
		return rc;
	n->tx[s].busy = true;
	n->stats.tx_frames++;
	n->stats.tx_bytes += len;
	n->stats.tx_frames_pair[p]++;
	return net_after(n, vlab_vq_kick(vq));
}

/* 0 when frame may be sent: the device usable, the length in bounds. */
static int send_check(struct vlab_net *n, const void *frame, uint32_t len)
{
	int rc;

	if (!n || !n->vdev || !frame || !n->tx_mem)
		return VLAB_EINVAL;
	rc = net_usable(n);
	if (rc)
		return rc;
	/* DRV-5.1.4.2-8: nothing above MTU + Ethernet header; nothing
	 * shorter than an Ethernet header. */
	if (len < VLAB_ETH_HLEN || len > n->max_frame)
		return VLAB_EINVAL;
	return 0;
}

int vlab_net_send(struct vlab_net *n, const void *frame, uint32_t len)
{
	int rc = send_check(n, frame, len);
	return rc ? rc : net_send(n, frame, len, NULL);
}

int vlab_net_send_csum(struct vlab_net *n, const void *frame, uint32_t len)
{
	int rc = send_check(n, frame, len);

	if (rc)
		return rc;
#if VLAB_CFG_NET_EXTRA /* else never CSUM (vlab/config.h) */
	struct vlab_net_l4 l4;
	if (!n->csum)
		return VLAB_ENOTSUP;
	/* The checksum covers csum_start to the end of the frame
	 * (DRV-5.1.6.2.1-17): no bytes after the segment. */
	if (vlab_net_l4_find(frame, len, &l4) != 0 || l4.end != len)
		return VLAB_EINVAL;
	return net_send(n, frame, len, &l4);
#else
	return VLAB_ENOTSUP;
#endif
}

/* ------------------------------------------------------------------ */
/* Receive                                                              */

/* The buffer index behind a receive completion on queue q, or -1 (device
 * broken): a buffer posted on that queue. */
static int rx_index(struct vlab_net *n, unsigned q, void *cookie)
{
	uintptr_t i = (uintptr_t)cookie;
	if (i <= q * n->rx_per_q || i > (q + 1u) * n->rx_per_q || !rx_is_posted(n, (unsigned)(i - 1))) {
		vlab_virtio_mark_broken(n->vdev, "net: receive completion for no buffer");
		return -1;
	}
	rx_mark(n, (unsigned)(i - 1), false);
	return (int)(i - 1);
}

static int rx_drop(struct vlab_net *n, enum vlab_net_drop why)
{
	n->stats.rx_dropped[why]++;
	vlab_log(net_plat(n), VLAB_LOG_DEBUG, "%s: received frame dropped: %s", net_name(n),
	         vlab_net_drop_name(why));
	return 0;
}

/*
 * num_buffers lied (0, or more than were posted): where the frame ends is
 * unknown, and the buffers after its first would be read as frames of
 * their own, headers taken from its payload.  A frame's buffers are used
 * together (DEV-5.1.6.4.1-4), so every used buffer there is now may be
 * part of it: all are taken back (bounded by the buffers posted), counted
 * in rx_buffers_discarded, and posted again; the frame is one drop.
 */
static int rx_drop_bad_num_buffers(struct vlab_net *n, unsigned q)
{
	for (unsigned k = 0; k < n->rx_per_q; k++) {
		void *cookie = NULL;
		uint32_t ulen = 0;
		int rc = vlab_vq_pop(rxq_of(n, q), &cookie, &ulen);
		if (rc == VLAB_EAGAIN)
			break;
		if (rc == VLAB_EPROTO)
			n->stats.rx_dropped[VLAB_NET_DROP_PROTO]++;
		if (rc)
			return rc;
		if (rx_index(n, q, cookie) < 0)
			return VLAB_EPROTO;
		n->stats.rx_buffers_discarded++;
	}
	return rx_drop(n, VLAB_NET_DROP_NUM_BUFFERS);
}

/*
 * GUEST_CSUM: what the header's flags claim about the frame in buf (the
 * driver's copy), checked against the frame's own headers.  Returns 1 with
 * *csum set, or 0 when the frame was dropped (a claim that lied).
 *
 * NEEDS_CSUM (DEV-5.1.6.4.1-13/14/15): csum_start and csum_offset must be
 * where the frame's TCP/UDP checksum is (N12), the segment must end the
 * frame, and the field must hold the pseudo-header sum of the frame's own
 * IP header (N13); then the checksum is completed here.  DATA_VALID
 * (DEV-5.1.6.4.1-23): the device's word (N11), checked with rx_csum_verify.
 * Both clear: not checked (DRV-5.1.6.4.2-5).  Other bits are ignored
 * (DRV-5.1.6.4.2-1), RSC_INFO too (RSC_EXT is not negotiated).
 */
static int rx_csum(struct vlab_net *n, const uint8_t *hdr, uint8_t *buf, uint32_t len,
                   enum vlab_net_csum *csum)
{
	*csum = VLAB_NET_CSUM_NONE;
#if VLAB_CFG_NET_EXTRA /* else never GUEST_CSUM (vlab/config.h) */
	const uint8_t flags = hdr[VIRTIO_NET_HDR_OFF_FLAGS];
	struct vlab_net_l4 l4;

	if (!n->guest_csum)
		return 1;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = get16(n, hdr + VLAB_NET_HDR_OFF_CSUM_START);
		uint32_t field = get16(n, hdr + VLAB_NET_HDR_OFF_CSUM_OFFSET);
		uint16_t have, want, c;

		if (vlab_net_l4_find(buf, len, &l4) != 0 || l4.start != start || l4.field != field ||
		    l4.end != len)
			return rx_drop(n, VLAB_NET_DROP_CSUM);
		have = (uint16_t)((buf[start + field] << 8) | buf[start + field + 1]);
		want = vlab_net_csum_fold(l4.pseudo);
		/* 0 and 0xffff are the same ones'-complement number. */
		if (have != want && !((have == 0 || have == 0xffffu) && (want == 0 || want == 0xffffu)))
			return rx_drop(n, VLAB_NET_DROP_CSUM);
		c = (uint16_t)~vlab_net_csum_add(buf + start, len - start, 0);
		if (c == 0 && l4.udp4)
			c = 0xffffu; /* UDP over IPv4: 0 would say "no checksum" */
		buf[start + field] = (uint8_t)(c >> 8);
		buf[start + field + 1] = (uint8_t)c;
		*csum = VLAB_NET_CSUM_COMPLETED;
		return 1;
	}
	if (!(flags & VIRTIO_NET_HDR_F_DATA_VALID))
		return 1;
	*csum = VLAB_NET_CSUM_DEVICE;
	if (!n->rx_csum_verify || vlab_net_l4_find(buf, len, &l4) != 0)
		return 1;
	if (l4.udp4 && buf[l4.start + 6] == 0 && buf[l4.start + 7] == 0) {
		*csum = VLAB_NET_CSUM_NONE; /* UDP over IPv4 sent without a checksum */
		return 1;
	}
	if (!vlab_net_l4_csum_ok(buf, &l4))
		return rx_drop(n, VLAB_NET_DROP_CSUM);
	*csum = VLAB_NET_CSUM_VERIFIED;
	return 1;
#else
	(void)n;
	(void)hdr;
	(void)buf;
	(void)len;
	return 1;
#endif
}

/*
 * Take the next frame off receive queue q's used ring.  Returns 1 with the
 * frame copied into buf, 0 when a bad frame was dropped (counted),
 * VLAB_EAGAIN when the ring is empty, or a device error.
 */
static int rx_one(struct vlab_net *n, unsigned q, uint8_t *buf, uint32_t *len, enum vlab_net_csum *csum)
{
	struct vlab_vq *vq = rxq_of(n, q);
	uint16_t idx[VLAB_NET_RX_BUFS];
	uint32_t blen[VLAB_NET_RX_BUFS];
	uint8_t hdr[VIRTIO_NET_HDR_LEN];
	unsigned nb = 1, got = 0;
	uint64_t total = 0;
	void *cookie = NULL;
	uint32_t ulen = 0;
	int rc, i;

	rc = vlab_vq_pop(vq, &cookie, &ulen);
	if (rc == VLAB_EPROTO)
		n->stats.rx_dropped[VLAB_NET_DROP_PROTO]++;
	if (rc)
		return rc;
	i = rx_index(n, q, cookie);
	if (i < 0)
		return VLAB_EPROTO;
	idx[got] = (uint16_t)i;
	blen[got] = ulen;
	got++;
	/* (ulen above what was posted was refused by vlab_vq_pop.) */
	if (ulen < n->hdr_len)
		return rx_drop(n, VLAB_NET_DROP_SHORT);
	vlab_plat_shm_read(net_plat(n), hdr, rx_buf(n, (unsigned)i), n->hdr_len);

	if (n->mrg) {
		nb = get16(n, hdr + VIRTIO_NET_HDR_OFF_NUM_BUFFERS);
		/* At least 1; no more than the device can have filled, which
		 * is what the driver posted. */
		if (nb == 0 || nb > n->rx_per_q)
			return rx_drop_bad_num_buffers(n, q);
	}
	/* Without MRG_RXBUF num_buffers (if present) is not used: a frame is
	 * one buffer (QEMU leaves the field 0 in that case). */
	for (; got < nb; got++) {
		rc = vlab_vq_pop(vq, &cookie, &ulen);
		if (rc == VLAB_EAGAIN) {
			/* DEV-5.1.6.4.1-4: every buffer of a frame is used
			 * together; fewer are there than num_buffers says. */
			return rx_drop(n, VLAB_NET_DROP_NUM_BUFFERS);
		}
		if (rc == VLAB_EPROTO)
			n->stats.rx_dropped[VLAB_NET_DROP_PROTO]++;
		if (rc)
			return rc;
		i = rx_index(n, q, cookie);
		if (i < 0)
			return VLAB_EPROTO;
		idx[got] = (uint16_t)i;
		blen[got] = ulen;
	}
	for (unsigned k = 0; k < got; k++) {
		/* DEV-5.1.6.4.1-3: all but the last buffer filled completely. */
		if (k + 1 < got && blen[k] != n->rx_buf_len)
			return rx_drop(n, VLAB_NET_DROP_MERGE);
		total += blen[k];
	}
	total -= n->hdr_len;
	if (total < VLAB_ETH_HLEN)
		return rx_drop(n, VLAB_NET_DROP_SHORT);
	if (total > n->max_frame)
		return rx_drop(n, VLAB_NET_DROP_LONG);
	/* No GUEST_TSO4/6 or GUEST_UFO negotiated: only GSO_NONE is valid
	 * (DEV-5.1.6.4.1-16); hdr_len is ignored (DRV-5.1.6.4.2-4), and so
	 * are flags and csum_start/offset without GUEST_CSUM
	 * (DRV-5.1.6.4.2-1/2); with it, rx_csum weighs them. */
	if (hdr[VIRTIO_NET_HDR_OFF_GSO_TYPE] != VIRTIO_NET_HDR_GSO_NONE)
		return rx_drop(n, VLAB_NET_DROP_GSO);
	/* DEV-5.1.6.5.6.2-2: nothing on a queue beyond the pairs in use (a
	 * device that NAKed VQ_PAIRS_SET and steers there all the same). */
	if (q >= n->pairs)
		return rx_drop(n, VLAB_NET_DROP_QUEUE);

	uint32_t off = 0;
	for (unsigned k = 0; k < got; k++) {
		uint32_t skip = k == 0 ? n->hdr_len : 0;
		uint32_t l = blen[k] - skip;
		vlab_plat_shm_read(net_plat(n), buf + off, rx_buf(n, idx[k]) + skip, l);
		off += l;
	}
	if (!rx_csum(n, hdr, buf, off, csum))
		return 0;
	*len = off;
	return 1;
}

/* One frame from receive queue q: 0, VLAB_EAGAIN, or a device error. */
static int recv_queue(struct vlab_net *n, unsigned q, uint8_t *buf, uint32_t *len, enum vlab_net_csum *c)
{
	/* Each round consumes at least one used entry; bad frames are
	 * skipped, so bound the rounds by what can be outstanding. */
	for (unsigned round = 0; round <= n->rx_per_q; round++) {
		int rc = rx_one(n, q, buf, len, c);
		if (rc < 0 && rc != VLAB_EAGAIN)
			return net_after(n, rc);
		int rr = rx_refill(n, q);
		if (rr)
			return net_after(n, rr);
		if (rc == VLAB_EAGAIN)
			return VLAB_EAGAIN;
		if (rc == 1) {
			n->stats.rx_frames++;
			n->stats.rx_bytes += *len;
			return 0;
		}
	}
	return VLAB_EAGAIN;
}

int vlab_net_recv(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len)
{
	return vlab_net_recv_csum(n, buf, cap, len, NULL);
}

int vlab_net_recv_csum(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len, enum vlab_net_csum *csum)
{
	enum vlab_net_csum c = VLAB_NET_CSUM_NONE;
	int rc;

	if (csum)
		*csum = VLAB_NET_CSUM_NONE;
	if (len)
		*len = 0;
	if (!n || !n->vdev || !buf || !len || !n->rx_mem)
		return VLAB_EINVAL;
	if (cap < n->max_frame)
		return VLAB_EINVAL;
	rc = net_usable(n);
	if (rc)
		return rc;
	/* Every receive queue set up, the one after the last that gave a
	 * frame first (round robin: no queue starves the others). */
	for (unsigned k = 0; k < n->pairs_set_up; k++) {
		const unsigned q = (n->rx_turn + k) % n->pairs_set_up;
		rc = recv_queue(n, q, buf, len, &c);
		if (rc == VLAB_EAGAIN)
			continue;
		if (rc == 0) {
			n->rx_turn = q + 1u;
			n->stats.rx_frames_pair[q]++;
			if (csum)
				*csum = c;
		}
		return rc;
	}
	return VLAB_EAGAIN;
}

int vlab_net_recv_wait(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len, uint64_t timeout_ns)
{
	return vlab_net_recv_wait_csum(n, buf, cap, len, NULL, timeout_ns);
}

int vlab_net_recv_wait_csum(struct vlab_net *n, void *buf, uint32_t cap, uint32_t *len,
                            enum vlab_net_csum *csum, uint64_t timeout_ns)
{
	struct vlab_wait w;

	if (!n || !n->vdev)
		return VLAB_EINVAL;
	if (timeout_ns == 0)
		timeout_ns = vlab_virtio_timeout(n->vdev);
	vlab_wait_start(&w, net_plat(n), timeout_ns, NET_WAIT_STEP_NS);
	for (;;) {
		int rc = vlab_net_recv_csum(n, buf, cap, len, csum);
		if (rc != VLAB_EAGAIN)
			return rc;
		if (!vlab_wait_step(&w))
			return VLAB_ETIMEDOUT; /* no frame is not a device fault */
	}
}

/* ------------------------------------------------------------------ */
/* Link and interrupts                                                  */

int vlab_net_update_link(struct vlab_net *n)
{
	bool up;
	int rc;

	if (!n || !n->vdev)
		return VLAB_EINVAL;
	/* A stopped device's reset cleared the features: STATUS would read as
	 * not negotiated, hence "link up". */
	if (n->stopped)
		return VLAB_EBROKEN;
	up = n->link_up;
	rc = net_read_link(n, &up);
	if (rc)
		return net_after(n, rc);
	if (up != n->link_up) {
		n->stats.link_changes++;
		vlab_log(net_plat(n), VLAB_LOG_INFO, "%s: link %s", net_name(n), up ? "up" : "down");
	}
	n->link_up = up;
	return 0;
}

uint32_t vlab_net_interrupt(struct vlab_net *n)
{
	uint32_t isr;

	if (!n || !n->vdev)
		return 0;
	isr = vlab_virtio_interrupt(n->vdev);
	if (isr & VIRTIO_ISR_CONFIG) {
		n->stats.config_interrupts++;
		(void)vlab_net_update_link(n);
	}
	return isr;
}

/* ------------------------------------------------------------------ */
/* Control queue                                                        */

static int ctrl_cmd(struct vlab_net *n, uint8_t cls, uint8_t cmd, const struct ctrl_part *parts,
                    unsigned nparts)
{
	const struct vlab_platform *p;
	struct vlab_sg out[3], in[1];
	uint32_t off = NET_CTRL_DATA_OFF;
	struct vlab_wait w;
	uint8_t ack = 0xff;
	unsigned nout = 1;
	int rc;

	if (!VLAB_CFG_NET_EXTRA || !n->has_ctrl || !n->ctrl_mem)
		return VLAB_ENOTSUP;
	rc = net_usable(n);
	if (rc)
		return rc;
	p = net_plat(n);
	n->ctrl_mem[0] = cls;
	n->ctrl_mem[1] = cmd;
	n->ctrl_mem[NET_CTRL_ACK_OFF] = 0xff; /* not an answer: caught if unwritten */
	out[0].addr = n->ctrl_dev;
	out[0].len = 2;
	for (unsigned i = 0; i < nparts && i < 2; i++) {
		if (parts[i].len == 0)
			continue;
		if (off + parts[i].len > NET_CTRL_ACK_OFF)
			return VLAB_EINVAL;
		vlab_memcpy(n->ctrl_mem + off, parts[i].p, parts[i].len);
		out[nout].addr = n->ctrl_dev + off;
		out[nout].len = parts[i].len;
		nout++;
		off += parts[i].len;
	}
	in[0].addr = n->ctrl_dev + NET_CTRL_ACK_OFF;
	in[0].len = 1;
	rc = vlab_vq_add(&n->ctrlq, out, nout, in, 1, n->ctrl_mem);
	if (rc)
		return rc;
	rc = vlab_vq_kick(&n->ctrlq);
	if (rc)
		return net_after(n, rc);
	n->stats.ctrl_commands++;

	/* ctrl_mem is the device's until it returns the command: a command
	 * that is not answered in time stops the device (net_give_up), so no
	 * later command reuses the buffer it may still write. */
	vlab_wait_start(&w, p, vlab_virtio_timeout(n->vdev), NET_WAIT_STEP_NS);
	for (;;) {
		void *cookie = NULL;
		uint32_t len = 0;

		rc = vlab_vq_pop(&n->ctrlq, &cookie, &len);
		if (rc == 0)
			break;
		if (rc != VLAB_EAGAIN)
			return net_after(n, rc);
		if (!vlab_wait_step(&w))
			return net_give_up(n, VLAB_ETIMEDOUT, "net: control command timed out");
	}
	vlab_plat_shm_read(p, &ack, n->ctrl_mem + NET_CTRL_ACK_OFF, 1);
	if (ack == VIRTIO_NET_OK)
		return 0;
	if (ack == VIRTIO_NET_ERR) {
		n->stats.ctrl_errors++;
		return VLAB_EIO;
	}
	return net_after(n, vlab_virtio_mark_broken(n->vdev, "net: control ack neither OK nor ERR"));
}

/* A command that needs feature bit: VLAB_ENOTSUP without it, VLAB_EBROKEN
 * once the device was given up on (its reset cleared the features). */
static int ctrl_allowed(const struct vlab_net *n, unsigned bit)
{
	if (!VLAB_CFG_NET_EXTRA)
		return VLAB_ENOTSUP; /* compiled out (vlab/config.h) */
	if (n->stopped)
		return VLAB_EBROKEN;
	return vlab_virtio_has(n->vdev, bit) ? 0 : VLAB_ENOTSUP;
}

static int ctrl_rx(struct vlab_net *n, uint8_t cmd, bool on)
{
	uint8_t v = on ? 1 : 0;
	struct ctrl_part part = {&v, 1};

	if (!n || !n->vdev)
		return VLAB_EINVAL;
	/* DRV-5.1.6.5.1.2-1: only with CTRL_RX. */
	int rc = ctrl_allowed(n, VIRTIO_NET_F_CTRL_RX);
	return rc ? rc : ctrl_cmd(n, VIRTIO_NET_CTRL_RX, cmd, &part, 1);
}

int vlab_net_set_promisc(struct vlab_net *n, bool on)
{
	int rc = ctrl_rx(n, VIRTIO_NET_CTRL_RX_PROMISC, on);
	if (!rc)
		n->promisc = on;
	return rc;
}

int vlab_net_set_allmulti(struct vlab_net *n, bool on)
{
	int rc = ctrl_rx(n, VIRTIO_NET_CTRL_RX_ALLMULTI, on);
	if (!rc)
		n->allmulti = on;
	return rc;
}

int vlab_net_set_mac_table(struct vlab_net *n, const uint8_t (*uc)[VLAB_ETH_ALEN], unsigned nuc,
                           const uint8_t (*mc)[VLAB_ETH_ALEN], unsigned nmc)
{
	uint8_t ut[4 + VLAB_NET_MAC_TABLE_MAX * VLAB_ETH_ALEN];
	uint8_t mt[4 + VLAB_NET_MAC_TABLE_MAX * VLAB_ETH_ALEN];
	struct ctrl_part parts[2];
	int rc;

	if (!n || !n->vdev || nuc > VLAB_NET_MAC_TABLE_MAX || nmc > VLAB_NET_MAC_TABLE_MAX ||
	    (nuc && !uc) || (nmc && !mc))
		return VLAB_EINVAL;
	/* DRV-5.1.6.5.2.2-1: MAC commands only with CTRL_RX. */
	rc = ctrl_allowed(n, VIRTIO_NET_F_CTRL_RX);
	if (rc)
		return rc;
	/* DRV-5.1.6.5.2.2-3: le32 count + unicast entries, then le32 count +
	 * multicast entries (either count may be 0, DRV-5.1.6.5.2.2-4); one
	 * descriptor per table, as legacy devices expect. */
	put32(n, ut, nuc);
	for (unsigned i = 0; i < nuc; i++)
		vlab_memcpy(ut + 4 + i * VLAB_ETH_ALEN, uc[i], VLAB_ETH_ALEN);
	put32(n, mt, nmc);
	for (unsigned i = 0; i < nmc; i++)
		vlab_memcpy(mt + 4 + i * VLAB_ETH_ALEN, mc[i], VLAB_ETH_ALEN);
	parts[0].p = ut;
	parts[0].len = 4 + nuc * VLAB_ETH_ALEN;
	parts[1].p = mt;
	parts[1].len = 4 + nmc * VLAB_ETH_ALEN;
	return ctrl_cmd(n, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, parts, 2);
}

int vlab_net_set_mac(struct vlab_net *n, const uint8_t mac[VLAB_ETH_ALEN])
{
	struct ctrl_part part;
	int rc;

	if (!n || !n->vdev || !mac || (mac[0] & 1u))
		return VLAB_EINVAL;
	/* MAC_ADDR_SET is of the VIRTIO_NET_CTRL_MAC class: never without
	 * CTRL_RX (DRV-5.1.6.5.2.2-1), whatever CTRL_MAC_ADDR says. */
	rc = ctrl_allowed(n, VIRTIO_NET_F_CTRL_RX);
	if (!rc)
		rc = ctrl_allowed(n, VIRTIO_NET_F_CTRL_MAC_ADDR);
	if (rc)
		return rc;
	part.p = mac;
	part.len = VLAB_ETH_ALEN;
	rc = ctrl_cmd(n, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, &part, 1);
	if (!rc)
		vlab_memcpy(n->mac, mac, VLAB_ETH_ALEN);
	return rc;
}

#if VLAB_CFG_LOG /* names are log text (vlab/config.h) */
static const struct vlab_feature_name net_feature_names[] = {
	{VIRTIO_NET_F_CSUM, "CSUM"},
	{VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM"},
	{VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS"},
	{VIRTIO_NET_F_MTU, "MTU"},
	{VIRTIO_NET_F_MAC, "MAC"},
	{6, "GSO"},
	{VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4"},
	{VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6"},
	{VIRTIO_NET_F_GUEST_ECN, "GUEST_ECN"},
	{VIRTIO_NET_F_GUEST_UFO, "GUEST_UFO"},
	{VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4"},
	{VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6"},
	{VIRTIO_NET_F_HOST_ECN, "HOST_ECN"},
	{VIRTIO_NET_F_HOST_UFO, "HOST_UFO"},
	{VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF"},
	{VIRTIO_NET_F_STATUS, "STATUS"},
	{VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ"},
	{VIRTIO_NET_F_CTRL_RX, "CTRL_RX"},
	{VIRTIO_NET_F_CTRL_VLAN, "CTRL_VLAN"},
	{20, "CTRL_RX_EXTRA"},
	{VIRTIO_NET_F_GUEST_ANNOUNCE, "GUEST_ANNOUNCE"},
	{VIRTIO_NET_F_MQ, "MQ"},
	{VIRTIO_NET_F_CTRL_MAC_ADDR, "CTRL_MAC_ADDR"},
	{52, "VQ_NOTF_COAL"},
	{53, "NOTF_COAL"},
	{54, "GUEST_USO4"},
	{55, "GUEST_USO6"},
	{56, "HOST_USO"},
	{57, "HASH_REPORT"},
	{59, "GUEST_HDRLEN"},
	{60, "RSS"},
	{61, "RSC_EXT"},
	{62, "STANDBY"},
	{63, "SPEED_DUPLEX"},
};

const char *vlab_net_feature_name(unsigned bit)
{
	return vlab_feature_name_in(net_feature_names, sizeof net_feature_names / sizeof net_feature_names[0], bit);
}
#else
const char *vlab_net_feature_name(unsigned bit)
{
	(void)bit;
	return NULL;
}
#endif

static int net_probe(void *priv, struct vlab_virtio_dev *d, const void *cfg)
{
	return net_start(priv, d, cfg);
}

static int net_remove(void *priv)
{
	return vlab_net_shutdown(priv);
}
#else
typedef int vlab_net_net_compiled_out; /* ISO C: no empty translation unit */
#endif
