/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-net initialisation, receive, transmit, the control
 * queue and link changes, over virtio-mmio (Version 2 or 1) or virtio-pci
 * (modern or legacy), against a device whose answers come from the input.
 *
 * Control stream: three mode bytes (how often the device lies and whether
 * during initialisation too, racy mode, the transport; features the driver
 * refuses and queue caps; receive buffer size and count), then operations:
 * (a first byte FZ_NET_MQ_MAGIC has the device offer MQ: the next byte
 * gives the pairs it serves, 1 + b % FZ_NET_PAIRS, the next two its
 * max_virtqueue_pairs (le16, any value: 0 and above 0x8000 are lies);
 * then the mode bytes; each frame that arrives then takes a byte for its
 * receive queue, one beyond the enabled pairs being a lie),
 * the device delivers a frame (its length from the control stream, its
 * header honest or lying: num_buffers, gso_type, every byte), receive,
 * send, reclaim, link up/down with a config interrupt, the interrupt entry,
 * control commands, a bounded wait, re-initialisation.  Each chain the
 * device completes takes a control byte that may make it lie (fuzz_device.c);
 * lies take their values from the payload; racy mode makes every
 * shared-memory read fresh.
 *
 * Beyond the sanitizers: what init accepted is sane, a frame delivered is
 * 14 .. 14 + MTU bytes (and, from a device that never lied, whole and
 * the device's bytes), a frame sent is the caller's bytes behind a zero
 * header (checked by the device side), transmit slots in flight never exceed the slots,
 * broken stays broken until re-initialisation, a broken device's calls fail
 * without success, shutdown leaves nothing in flight, and a buffer the
 * device still holds (a chain it never completed) is neither changed nor
 * freed until a reset (the release rule: fz_check_held).
 */
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/mmio.h"
#include "vlab/net.h"
#include "vlab/pci.h"

#define FRAME_MAX (65535u + VLAB_ETH_HLEN)
#define FZ_NET_MQ_MAGIC 0x6du

static struct fz F;
static struct vlab_mmio M;
static struct vlab_pci P;
static struct vlab_pci_host H;
static struct vlab_net N;

enum transport { T_MMIO, T_PCI, T_PCI_LEGACY, T_MMIO_LEGACY };

static struct vlab_virtio_dev *bring_up(struct fz *f, enum transport t, const struct vlab_net_cfg *cfg,
                                        bool lies)
{
	uint8_t keep = f->lie_shift;
	struct vlab_virtio_dev *d = NULL;
	int rc;

	if (!lies)
		f->lie_shift = 8;
	if (t == T_PCI || t == T_PCI_LEGACY) {
		rc = vlab_pci_probe(&P, &H, 0, FZ_PCI_DEV, 0, VLAB_PCI_ALLOW_LEGACY);
		d = &P.vdev;
	} else {
		rc = vlab_mmio_probe(&M, &f->plat, FZ_MMIO_BASE, VLAB_MMIO_ALLOW_LEGACY);
		d = &M.vdev;
	}
	if (rc == 0) {
		d->timeout_ns = FZ_TIMEOUT_NS;
		rc = vlab_net_init(&N, d, cfg);
	}
	f->lie_shift = keep;
	if (rc != 0)
		return NULL;
	/* What init accepted must be sane. */
	if (N.mtu < VLAB_NET_MTU_MIN || N.max_frame != VLAB_ETH_HLEN + N.mtu)
		FZ_ABORT("net accepted mtu %u", N.mtu);
	if (N.mac[0] & 1u)
		FZ_ABORT("net accepted a multicast MAC");
	if (N.nrx == 0 || N.nrx > VLAB_NET_RX_BUFS || N.ntx == 0 || N.ntx > VLAB_NET_TX_SLOTS)
		FZ_ABORT("net accepted %u rx buffers, %u tx slots", N.nrx, N.ntx);
	if (N.rx_buf_len < N.hdr_len || (!N.mrg && N.rx_buf_len < N.hdr_len + N.max_frame))
		FZ_ABORT("net receive buffers of %u bytes", N.rx_buf_len);
	if (d->features & ~d->device_features)
		FZ_ABORT("accepted features not offered");
	/* MQ: pairs used within what was set up, set up within the offer and
	 * the cap; a max_virtqueue_pairs out of 1..0x8000 never kept. */
	if (N.pairs < 1 || N.pairs > N.pairs_set_up || N.pairs_set_up > VLAB_NET_MAX_PAIRS ||
	    (N.max_pairs_offered && N.pairs_set_up > N.max_pairs_offered) ||
	    (!(d->features & VLAB_BIT(VIRTIO_NET_F_MQ)) && N.pairs_set_up != 1) ||
	    ((d->features & VLAB_BIT(VIRTIO_NET_F_MQ)) &&
	     (N.max_pairs_offered == 0 || N.max_pairs_offered > VLAB_NET_MQ_PAIRS_MAX)))
		FZ_ABORT("net MQ: %u pairs used, %u set up, max_virtqueue_pairs %u", N.pairs, N.pairs_set_up,
		         N.max_pairs_offered);
	return d;
}

/* Receive (waiting up to wait_ns, if not 0); a frame must be 14 .. 14 + MTU,
 * and its checksum verified only by the driver, when it was asked to. */
static int recv_checked(uint8_t *buf, uint32_t cap, uint32_t *len, uint64_t wait_ns)
{
	enum vlab_net_csum cs = VLAB_NET_CSUM_NONE;
	int rc = wait_ns ? vlab_net_recv_wait_csum(&N, buf, cap, len, &cs, wait_ns)
	                 : vlab_net_recv_csum(&N, buf, cap, len, &cs);
	if (rc == 0 && (*len < VLAB_ETH_HLEN || *len > N.max_frame))
		FZ_ABORT("frame of %u bytes delivered (max %u)", *len, N.max_frame);
	if (rc == 0 && cs != VLAB_NET_CSUM_NONE && !N.guest_csum)
		FZ_ABORT("checksum reported %s without GUEST_CSUM", vlab_net_csum_name(cs));
	if (rc == 0 && cs == VLAB_NET_CSUM_VERIFIED && !N.rx_csum_verify)
		FZ_ABORT("checksum reported verified without rx_csum_verify");
	return rc;
}

/* A UDP/IPv4 frame of n (>= 42) bytes whose checksum field holds the
 * pseudo-header sum, for vlab_net_send_csum. */
static void udp4_partial(uint8_t *fr, uint32_t n)
{
	uint32_t s = 17u + (n - 34u);
	fr[12] = 0x08;
	fr[13] = 0x00;
	fr[14] = 0x45;
	fr[15] = 0;
	fr[16] = (uint8_t)((n - 14u) >> 8);
	fr[17] = (uint8_t)(n - 14u);
	fr[20] = fr[21] = 0; /* not a fragment */
	fr[23] = 17;
	fr[24] = fr[25] = 0;
	uint32_t h = 0;
	for (unsigned i = 14; i < 34; i += 2)
		h += (uint32_t)(fr[i] << 8 | fr[i + 1]);
	while (h >> 16)
		h = (h & 0xffffu) + (h >> 16);
	fr[24] = (uint8_t)(~h >> 8);
	fr[25] = (uint8_t)~h;
	for (unsigned i = 26; i < 34; i += 2) /* source, destination */
		s += (uint32_t)(fr[i] << 8 | fr[i + 1]);
	while (s >> 16)
		s = (s & 0xffffu) + (s >> 16);
	fr[38] = (uint8_t)((n - 34u) >> 8);
	fr[39] = (uint8_t)(n - 34u);
	fr[40] = (uint8_t)(s >> 8);
	fr[41] = (uint8_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_MAX];
	static const uint16_t caps[4] = {0, 4, 8, 2};
	struct fz *f = &F;
	struct vlab_net_cfg cfg;
	struct vlab_virtio_dev *d;
	enum transport t;
	uint8_t a, b, c;
	bool lies_in_init;
	unsigned mq_pairs = 0;
	uint16_t mq_claimed = 0;

	fz_init(f, data, size);
	fz_trace_start(f, "fuzz_net");
	a = fz_ring_offer(f, 0);
	if (a == FZ_NET_MQ_MAGIC) {
		mq_pairs = 1u + fz_choose8(f) % FZ_NET_PAIRS;
		mq_claimed = fz_choose16(f);
		a = fz_choose8(f);
	}
	b = fz_choose8(f);
	c = fz_choose8(f);
	f->lie_shift = (uint8_t)((a & 0xf) > 8 ? 8 : (a & 0xf)); /* 0: always lie .. 8: never */
	f->racy = (a & 0x10) != 0;
	t = (enum transport)((a >> 5) & 3);
	lies_in_init = (a & 0x80) != 0;
	fz_net_device(f, 16);
	if (mq_pairs)
		fz_net_mq(f, mq_pairs, mq_claimed);
	if (t == T_MMIO_LEGACY)
		f->version = 1;
	if (t == T_PCI || t == T_PCI_LEGACY) {
		fz_pci_device(f, t == T_PCI ? FZ_PCI_MODERN : FZ_PCI_LEGACY, false);
		fz_pci_host(f, &H, false, false);
	}
	fz_trace_device(f, "net", (const char *const[]){"mmio", "pci", "pci-legacy", "mmio-legacy"}[t],
	                t == T_PCI || t == T_PCI_LEGACY ? &H : NULL,
	                t == T_PCI || t == T_PCI_LEGACY ? VLAB_PCI_ALLOW_LEGACY : VLAB_MMIO_ALLOW_LEGACY);
	memset(&cfg, 0, sizeof cfg);
	cfg.refuse = ((b & 0x01) ? VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF) : 0) |
	             ((b & 0x02) ? VLAB_BIT(VIRTIO_NET_F_CTRL_VQ) : 0) |
	             ((b & 0x04) ? VLAB_BIT(VIRTIO_NET_F_MTU) : 0) |
	             ((b & 0x08) ? VLAB_BIT(VIRTIO_NET_F_STATUS) : 0) |
	             ((b & 0x10) ? VLAB_BIT(VIRTIO_NET_F_MAC) : 0) |
	             ((b & 0x20) ? VLAB_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) : 0);
	if (t != T_PCI_LEGACY && t != T_MMIO_LEGACY)
		cfg.rx_queue_cap = cfg.tx_queue_cap = caps[b >> 6];
	cfg.rx_buffers = c & 0xf;
	cfg.rx_csum_verify = (c & 1) != 0;
	cfg.rx_buf_len = 64u * (c >> 4);
	d = bring_up(f, t, &cfg, lies_in_init);

	for (unsigned step = 0; d && step < 64 && !fz_choose_done(f); step++) {
		uint8_t op = fz_choose8(f);
		bool was_broken = d->broken;
		uint32_t len = 0;
		int rc = 0;

		switch (op % 10) {
		case 0: { /* a frame arrives, and the driver takes it */
			uint32_t n = fz_choose16(f) % 1600u;
			if (f->net_pairs)
				f->net_rxq = 2u * (fz_choose8(f) % f->net_pairs);
			bool sent = fz_net_rx(f, n);
			rc = recv_checked(frame, sizeof frame, &len, 0);
			/* From a device that never lied, a frame of a valid length
			 * is delivered whole. */
			if (sent && !f->lied && !was_broken && n >= VLAB_ETH_HLEN && n <= N.max_frame &&
			    (rc != 0 || len != n || memcmp(frame, f->net_rx, n) != 0))
				FZ_ABORT("honest frame of %u bytes: rc %d, %u bytes delivered", n, rc, len);
			break;
		}
		case 1:
			rc = recv_checked(frame, sizeof frame, &len, 0);
			break;
		case 2: {
			uint32_t n = fz_choose16(f) % (N.max_frame + 8u);
			memset(frame, op, n);
			if ((op & 0xe0) == 0xe0 && n >= 42 && N.csum) {
				/* Checksum offload: the device gets the same bytes. */
				udp4_partial(frame, n);
				rc = vlab_net_send_csum(&N, frame, n);
			} else {
				rc = vlab_net_send(&N, frame, n);
			}
			if (rc == 0 && (n < VLAB_ETH_HLEN || n > N.max_frame))
				FZ_ABORT("sent a frame of %u bytes", n);
			/* An honest device completes at once: a slot is always free;
			 * and what it sent is the frame. */
			if (rc != 0 && !f->lied && !was_broken && n >= VLAB_ETH_HLEN && n <= N.max_frame)
				FZ_ABORT("honest device, frame of %u bytes refused: %d", n, rc);
			if (rc == 0 && !f->lied && (f->net_tx_len != n || memcmp(frame, f->net_tx, n) != 0))
				FZ_ABORT("sent %u bytes, the device got %u others", n, f->net_tx_len);
			break;
		}
		case 3:
			rc = vlab_net_tx_reclaim(&N);
			break;
		case 4:
			fz_net_link(f, (op & 0x10) != 0);
			(void)vlab_net_interrupt(&N);
			break;
		case 5:
			(void)vlab_net_interrupt(&N);
			break;
		case 6: {
			static const uint8_t table[2][VLAB_ETH_ALEN] = {{0x02, 0, 0, 0, 0, 1},
			                                                {0x01, 0, 0x5e, 0, 0, 1}};
			switch ((op >> 4) & 3) {
			case 0: rc = vlab_net_set_promisc(&N, (op & 0x40) != 0); break;
			case 1: rc = vlab_net_set_allmulti(&N, (op & 0x40) != 0); break;
			case 2: rc = vlab_net_set_mac_table(&N, table, 1, table + 1, 1); break;
			default: rc = vlab_net_set_mac(&N, table[0]); break;
			}
			if (rc != 0 && rc != VLAB_ENOTSUP && !f->lied && !was_broken)
				FZ_ABORT("honest device, control command failed: %d", rc);
			break;
		}
		case 7:
			rc = recv_checked(frame, sizeof frame, &len, 20000);
			break;
		case 8:
			rc = vlab_net_update_link(&N);
			break;
		default:
			vlab_net_shutdown(&N);
			if (vlab_net_tx_pending(&N) != 0)
				FZ_ABORT("transmit slots in flight after shutdown");
			d = bring_up(f, t, &cfg, lies_in_init);
			was_broken = false;
			break;
		}
		if (!d)
			break;
		if (vlab_net_tx_pending(&N) > N.ntx)
			FZ_ABORT("%u transmit slots in flight of %u", vlab_net_tx_pending(&N), N.ntx);
		if (was_broken && !d->broken)
			FZ_ABORT("broken device no longer broken without a reset");
		if (was_broken && rc == 0 && len != 0)
			FZ_ABORT("a broken device delivered a frame");
		fz_check_held(f);
	}
	if (d) {
		vlab_net_shutdown(&N);
		if (vlab_net_tx_pending(&N) != 0)
			FZ_ABORT("transmit slots in flight after shutdown");
	}
	fz_fini(f);
	return 0;
}
