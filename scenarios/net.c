/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net scenario (see scenario.h).  Every line depends only on what
 * the device offers and what the peer answers (net_peer.h), never on
 * addresses or times, so QEMU's transcript and the model's compare line
 * for line.
 */
#include "net_peer.h"
#include "scenario.h"
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/part.h" /* vlab_crc32 */

/* How long one answer may take (platform time). */
#define SC_NET_ANSWER_TIMEOUT_NS 2000000000ull
/* Sends refused as busy before giving up on a frame. */
#define SC_NET_BUSY_TRIES 1000u
/* VIRTIO_NET_F_SPEED_DUPLEX (5.1.3): the speed and duplex config fields. */
#define SC_NET_F_SPEED_DUPLEX 63u
#define SC_NET_CFG_SPEED 12u
#define SC_NET_CFG_DUPLEX 16u


struct sc_net_work {
	struct vlab_net *net; /* the driver's state, on the bus */
	/* Each buf_cap bytes, one DMA block: what arrives can be anything up
	 * to the driver's largest frame (14 + the MTU the device offers, up to
	 * 14 + 65535), and the largest frames sent are that long too
	 * (SC_NET_K_LARGEST), so sized after init. */
	uint8_t *frame, *want, *got;
	uint32_t buf_cap;
};
/* The work area's size in DMA memory: the same on every target (sc_begin). */
#define SC_NET_WORK_BYTES (32u * 1024u)
_Static_assert(sizeof(struct sc_net_work) <= SC_NET_WORK_BYTES, "SC_NET_WORK_BYTES is too small");

static uint32_t align16(uint32_t v)
{
	return (v + 15u) & ~15u;
}

static bool offered(const struct vlab_virtio_dev *d, unsigned bit)
{
	return (d->device_features >> bit) & 1u;
}

static void mac_text(char *buf, size_t cap, const uint8_t m[6])
{
	vlab_snprintf(buf, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* One config field of width 1, 2 or 4, read with its own width (DRV-4.2.2.2-5). */
static void print_field(struct sc_out *o, struct vlab_virtio_dev *d, const char *name, uint16_t off,
                        unsigned width)
{
	uint32_t v = 0;
	int rc;
	if (width == 4) {
		rc = vlab_virtio_config_read(d, off, &v, 4);
	} else if (width == 2) {
		uint16_t x = 0;
		rc = vlab_virtio_config_read(d, off, &x, 2);
		v = x;
	} else {
		uint8_t x = 0;
		rc = vlab_virtio_config_read(d, off, &x, 1);
		v = x;
	}
	if (rc)
		sc_fail(o, "config %s: %s", name, vlab_errname(rc));
	else
		sc_printf(o, "config %s = %u (0x%x)", name, (unsigned)v, (unsigned)v);
}

/* The config fields of 5.1.4, each only when its feature is offered
 * (DRV-2.5.1-3). */
static void print_config(struct sc_out *o, struct vlab_virtio_dev *d)
{
	if (offered(d, VIRTIO_NET_F_MAC)) {
		uint8_t m[6];
		int rc = 0;
		for (unsigned i = 0; i < 6 && rc == 0; i++)
			rc = vlab_virtio_config_read(d, (uint16_t)(VIRTIO_NET_CFG_MAC + i), &m[i], 1);
		char t[18];
		mac_text(t, sizeof t, m);
		if (rc)
			sc_fail(o, "config mac: %s", vlab_errname(rc));
		else
			sc_printf(o, "config mac = %s", t);
	} else {
		sc_printf(o, "config mac: not offered");
	}
	static const struct {
		const char *name;
		uint16_t off;
		uint8_t width, feature;
	} fields[] = {
		{"status", VIRTIO_NET_CFG_STATUS, 2, VIRTIO_NET_F_STATUS},
		{"max_virtqueue_pairs", VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2, VIRTIO_NET_F_MQ},
		{"mtu", VIRTIO_NET_CFG_MTU, 2, VIRTIO_NET_F_MTU},
		{"speed", SC_NET_CFG_SPEED, 4, SC_NET_F_SPEED_DUPLEX},
		{"duplex", SC_NET_CFG_DUPLEX, 1, SC_NET_F_SPEED_DUPLEX},
	};
	for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (!offered(d, fields[i].feature))
			sc_printf(o, "config %s: not offered", fields[i].name);
		else
			print_field(o, d, fields[i].name, fields[i].off, fields[i].width);
	}
}

/* offload: vlab_net_send_csum (the device completes the checksum). */
static int send_frame(struct vlab_net *n, const uint8_t *frame, uint32_t len, bool offload)
{
	int rc = VLAB_EBUSY;
	for (unsigned t = 0; t < SC_NET_BUSY_TRIES && rc == VLAB_EBUSY; t++) {
		rc = offload ? vlab_net_send_csum(n, frame, len) : vlab_net_send(n, frame, len);
		if (rc == VLAB_EBUSY)
			(void)vlab_net_tx_reclaim(n);
	}
	return rc;
}

/* Frame k out; false when it was not sent. */
static bool send_k(struct sc_out *o, struct sc_net_work *w, unsigned k)
{
	struct vlab_net *n = w->net;
	const uint32_t len = sc_net_frame_len(k, n->max_frame);
	if (len > n->max_frame) {
		sc_printf(o, "frame %u: %u bytes, above the largest frame %u: not sent", k, (unsigned)len, (unsigned)n->max_frame);
		return false;
	}
	sc_net_build_frame(k, len, n->mac, w->frame);
	int rc = send_frame(n, w->frame, len, false);
	if (rc) {
		sc_fail(o, "frame %u: send %u bytes: %s", k, (unsigned)len, vlab_errname(rc));
		return false;
	}
	return true;
}

/* The answer to frame k, checked. */
static void answer_k(struct sc_out *o, struct sc_net_work *w, unsigned k)
{
	struct vlab_net *n = w->net;
	const uint32_t len = sc_net_frame_len(k, n->max_frame);
	sc_net_build_frame(k, len, n->mac, w->frame);
	uint32_t got = 0;
	int rc = vlab_net_recv_wait(n, w->got, w->buf_cap, &got, SC_NET_ANSWER_TIMEOUT_NS);
	if (rc) {
		sc_fail(o, "frame %u: sent %u bytes, crc32 0x%08x; answer: %s", k, (unsigned)len,
		        (unsigned)vlab_crc32(0, w->frame, len), vlab_errname(rc));
		return;
	}
	sc_net_build_answer(k, len, n->mac, w->want);
	const bool same = got == len && vlab_memcmp(w->got, w->want, len) == 0;
	sc_printf(o, "frame %u: sent %u bytes, crc32 0x%08x; answer %u bytes, crc32 0x%08x, %s", k, (unsigned)len,
	          (unsigned)vlab_crc32(0, w->frame, len), (unsigned)got, (unsigned)vlab_crc32(0, w->got, got),
	          same ? "as expected" : "WRONG");
	if (!same)
		sc_fail(o, "frame %u: the answer is not the expected one", k);
}

/*
 * The checksum frame (net_peer.h), when CSUM or GUEST_CSUM was negotiated:
 * with CSUM sent partial for the device to complete (vlab_net_send_csum,
 * DRV-5.1.6.2.1-15/16), else whole.  The peer answers partial; with
 * GUEST_CSUM the device may hand it on with NEEDS_CSUM and the driver
 * completes it (DEV-5.1.6.4.1-12..15), else the device does
 * (DEV-5.1.6.4.1-6).  Either way the answer must arrive whole with both
 * checksums right.
 */
static void csum_step(struct sc_out *o, struct sc_net_work *w)
{
	struct vlab_net *n = w->net;
	const uint32_t len = SC_NET_CSUM_LEN;
	sc_net_build_csum_frame(n->mac, n->csum, w->frame);
	int rc = send_frame(n, w->frame, len, n->csum);
	if (rc) {
		sc_fail(o, "checksum frame: send %u bytes: %s", (unsigned)len, vlab_errname(rc));
		return;
	}
	uint32_t got = 0;
	enum vlab_net_csum cs = VLAB_NET_CSUM_NONE;
	rc = vlab_net_recv_wait_csum(n, w->got, w->buf_cap, &got, &cs, SC_NET_ANSWER_TIMEOUT_NS);
	if (rc) {
		sc_fail(o, "checksum frame: sent %u bytes (%s); answer: %s", (unsigned)len,
		        n->csum ? "checksum by the device" : "checksum in software", vlab_errname(rc));
		return;
	}
	sc_net_build_csum_answer(n->mac, false, w->want);
	const bool ok = sc_net_udp_csum_ok(w->got, got);
	const bool same = got == len && vlab_memcmp(w->got, w->want, len) == 0;
	sc_printf(o, "checksum frame: sent %u bytes (%s); answer %u bytes, receive checksum %s, IPv4 and UDP "
	          "checksums %s, %s", (unsigned)len, n->csum ? "checksum by the device" : "checksum in software",
	          (unsigned)got, vlab_net_csum_name(cs), ok ? "right" : "WRONG", same ? "as expected" : "WRONG");
	if (!ok || !same)
		sc_fail(o, "checksum frame: the answer is not the expected one");
}

/* The receive and transmit rings, each line over every queue of its kind
 * the driver set up (with MQ, pairs_set_up of each): which receive queue a
 * frame arrives on is the device's choice (QEMU's tap steers by flow, the
 * model in turn), so only the sum is the driver's to show. */
static void print_rings(struct sc_out *o, const struct vlab_net *n)
{
	struct vlab_vq rx = n->rxq, tx = n->txq;
	for (unsigned p = 1; p < n->pairs_set_up && p < VLAB_NET_MAX_PAIRS; p++) {
		const struct vlab_vq *r = &n->mrxq[p - 1], *t = &n->mtxq[p - 1];
		rx.chains += r->chains;
		rx.slots += r->slots;
		rx.indirect += r->indirect;
		tx.chains += t->chains;
		tx.slots += t->slots;
		tx.indirect += t->indirect;
	}
	sc_print_ring(o, "rx", &rx);
	sc_print_ring(o, "tx", &tx);
}

static void print_stats(struct sc_out *o, const struct vlab_net *n)
{
	const struct vlab_net_stats *s = &n->stats;
	sc_printf(o, "stats: tx %llu frames %llu bytes, rx %llu frames %llu bytes, tx busy %llu",
	          (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
	          (unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
	          (unsigned long long)s->tx_busy);
	for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++)
		if (s->rx_dropped[r])
			sc_printf(o, "stats: rx dropped %s: %llu", vlab_net_drop_name((enum vlab_net_drop)r),
			          (unsigned long long)s->rx_dropped[r]);
}

unsigned sc_net_run(struct sc_out *o, const struct sc_dev *sd)
{
	struct vlab_virtio_dev *d = sd->vdev;
	const struct vlab_platform *p = d->plat;
	const unsigned failures_before = o->failures;

	struct sc_net_work *w = sc_begin(o, sd, "net", SC_NET_WORK_BYTES, 16);
	if (!w)
		return o->failures - failures_before;
	int rc = vlab_bus_probe(sd->bd);
	struct vlab_net *n = w->net = sd->bd->priv;
	sc_printf(o, "init: %s", rc ? vlab_errname(rc) : "ok");
	if (rc) {
		sc_fail(o, "vlab_net_init: %s", vlab_strerror(rc));
		p->ops->dma_free(p->ctx, w, SC_NET_WORK_BYTES);
		return o->failures - failures_before;
	}
	sc_print_negotiation(o, d, vlab_net_feature_name);
	print_config(o, d);
	vlab_addr_t bufs_dev;
	w->buf_cap = align16(n->max_frame > SC_NET_MAX_FRAME ? n->max_frame : SC_NET_MAX_FRAME);
	w->frame = p->ops->dma_alloc(p->ctx, 3u * w->buf_cap, 16, &bufs_dev);
	if (!w->frame) {
		sc_fail(o, "no memory for frame buffers of %u bytes (the largest frame)", (unsigned)w->buf_cap);
		(void)vlab_bus_remove(sd->bd);
		p->ops->dma_free(p->ctx, w, SC_NET_WORK_BYTES);
		return o->failures - failures_before;
	}
	w->want = w->frame + w->buf_cap;
	w->got = w->want + w->buf_cap;

	char mac[18];
	mac_text(mac, sizeof mac, n->mac);
	sc_printf(o, "info: mac %s (%s), mtu %u, link %s, header %u bytes, %s", mac,
	          n->mac_from_device ? "device" : "local", n->mtu, n->link_up ? "up" : "down", (unsigned)n->hdr_len,
	          n->mrg ? "mergeable rx buffers" : "whole-frame rx buffers");
	sc_printf(o, "queues: rx %u, tx %u, control %s; %u rx buffers of %u bytes, %u tx slots", n->rxq.size,
	          n->txq.size, n->has_ctrl ? "yes" : "no", n->nrx, (unsigned)n->rx_buf_len, n->ntx);
	if (n->max_pairs_offered > 1) /* MQ with more than one pair offered (one: as without MQ) */
		sc_printf(o, "queue pairs: %u in use, %u set up, max_virtqueue_pairs %u", n->pairs, n->pairs_set_up,
		          n->max_pairs_offered);

	if (n->csum || n->guest_csum)
		csum_step(o, w);
	for (unsigned k = 0; k < SC_NET_NSINGLE; k++)
		if (send_k(o, w, k))
			answer_k(o, w, k);
	/* The burst: all sent, then the answers in order (the peer answers
	 * in the order it got them). */
	bool sent[SC_NET_NBURST];
	for (unsigned i = 0; i < SC_NET_NBURST; i++)
		sent[i] = send_k(o, w, SC_NET_NSINGLE + i);
	for (unsigned i = 0; i < SC_NET_NBURST; i++)
		if (sent[i])
			answer_k(o, w, SC_NET_NSINGLE + i);
	rc = vlab_net_tx_reclaim(n);
	if (rc)
		sc_fail(o, "tx reclaim: %s", vlab_errname(rc));
	sc_printf(o, "tx pending at the end: %u", vlab_net_tx_pending(n));
	print_stats(o, n);
	print_rings(o, n);
	if (n->has_ctrl)
		sc_print_ring(o, "control", &n->ctrlq);

	rc = vlab_virtio_check(d);
	sc_printf(o, "device state: %s", rc ? vlab_errname(rc) : "ok");
	if (rc)
		sc_fail(o, "device ended in state %s", vlab_errname(rc));
	/* Shutdown drains the transmit queue first: a frame it drops is a
	 * frame lost. */
	rc = vlab_bus_remove(sd->bd); /* the driver's shutdown, then a confirmed reset */
	if (rc)
		sc_fail(o, "shutdown: %s", vlab_errname(rc));
	if (n->stats.tx_dropped_at_shutdown)
		sc_fail(o, "shutdown dropped %llu queued frames",
		        (unsigned long long)n->stats.tx_dropped_at_shutdown);
	p->ops->dma_free(p->ctx, w->frame, 3u * w->buf_cap);
	p->ops->dma_free(p->ctx, w, SC_NET_WORK_BYTES);
	sc_queue_maxima(o, d, 4);
	unsigned failures = o->failures - failures_before;
	sc_printf(o, "result net: %s", failures ? "FAIL" : "pass");
	return failures;
}
