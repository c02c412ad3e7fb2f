/* SPDX-License-Identifier: MIT */
/* What every device's scenario prints the same way: feature bits by name,
 * and the transport's queue maxima. */
#include "scenario.h"
#include "vlab/virtqueue.h"

/* Reserved feature bits (6), the same for every device type. */
static const struct sc_feat_name transport_feat_names[] = {
	{VIRTIO_F_NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY"},
	{VIRTIO_F_ANY_LAYOUT, "ANY_LAYOUT"},
	{VIRTIO_F_RING_INDIRECT_DESC, "RING_INDIRECT_DESC"},
	{VIRTIO_F_RING_EVENT_IDX, "RING_EVENT_IDX"},
	{30, "BAD_FEATURE (legacy)"},
	{VIRTIO_F_VERSION_1, "VERSION_1"},
	{VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
	{VIRTIO_F_RING_PACKED, "RING_PACKED"},
	{VIRTIO_F_IN_ORDER, "IN_ORDER"},
	{VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM"},
	{VIRTIO_F_SR_IOV, "SR_IOV"},
	{VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA"},
	{VIRTIO_F_NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA"},
	{VIRTIO_F_RING_RESET, "RING_RESET"},
	{0, NULL},
};

const char *sc_feat_lookup(const struct sc_feat_name *t, unsigned bit)
{
	for (; t && t->name; t++)
		if (t->bit == bit)
			return t->name;
	return NULL;
}

void sc_print_features(struct sc_out *o, const char *what, uint64_t bits, sc_feat_name_fn device)
{
	sc_printf(o, "features %s: 0x%016llx", what, (unsigned long long)bits);
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!((bits >> bit) & 1u))
			continue;
		const char *name = device ? device(bit) : NULL;
		if (!name)
			name = sc_feat_lookup(transport_feat_names, bit);
		sc_printf(o, "  %s bit %u %s", what, bit, name ? name : "?");
	}
}

void *sc_begin(struct sc_out *o, const struct sc_dev *sd, const char *name, size_t work_bytes, size_t align)
{
	struct vlab_virtio_dev *d = sd->vdev;
	const struct vlab_platform *p = d->plat;
	sc_printf(o, "scenario %s", name);
	sc_printf(o, "device: id %u vendor 0x%08x transport %s", (unsigned)d->device_id,
	          (unsigned)d->vendor_id, sd->transport);
	vlab_addr_t dev = 0;
	void *w = p->ops->dma_alloc(p->ctx, work_bytes, align, &dev);
	if (!w)
		sc_fail(o, "out of DMA memory for %u bytes", (unsigned)work_bytes);
	return w;
}

void sc_print_negotiation(struct sc_out *o, const struct vlab_virtio_dev *d, sc_feat_name_fn device)
{
	sc_printf(o, "interface: %s", d->legacy ? "legacy" : "modern");
	sc_print_features(o, "offered", d->device_features, device);
	sc_print_features(o, "negotiated", d->features, device);
}

/* After the driver is done: what the transport reports for queue sizes
 * (the driver caps its own queue, so this is the only place the device's
 * maxima show), read between FEATURES_OK and DRIVER_OK as in setup. */
void sc_queue_maxima(struct sc_out *o, struct vlab_virtio_dev *d, uint16_t nqueues)
{
	int rc = vlab_virtio_begin(d);
	if (rc == 0)
		rc = vlab_virtio_negotiate(d, VLAB_BIT(VIRTIO_F_VERSION_1), 0, NULL, 0);
	if (rc) {
		sc_fail(o, "queues: re-initialisation: %s", vlab_errname(rc));
		return;
	}
	for (uint16_t q = 0; q < nqueues; q++) {
		uint16_t max = 0;
		rc = d->ops->queue_max(d, q, &max);
		if (rc)
			sc_fail(o, "queue %u: %s", q, vlab_errname(rc));
		else
			sc_printf(o, "queue %u: device maximum %u%s", q, max, max ? "" : " (no such queue)");
	}
	rc = vlab_virtio_reset(d);
	if (rc)
		sc_fail(o, "queues: reset: %s", vlab_errname(rc));
}

/* What the queue's ring used (issue 14): its kind, whether the driver runs
 * it with EVENT_IDX and holds indirect tables, and the driver's counts of
 * chains, the ring slots they took and those that went through an
 * indirect table, so a ring row proves the feature was exercised, not only
 * negotiated.  No kick or interrupt counts: those depend on timing. */
void sc_print_ring(struct sc_out *o, const char *name, const struct vlab_vq *vq)
{
	sc_printf(o, "ring %s: %s, event_idx %s, indirect tables %s", name,
	          vq->kind == VLAB_VQ_PACKED ? "packed" : "split", vq->event_idx ? "on" : "off",
	          vq->ind ? "yes" : "no");
	sc_printf(o, "ring %s: %llu chains in %llu ring slots, %llu through an indirect table", name,
	          (unsigned long long)vq->chains, (unsigned long long)vq->slots, (unsigned long long)vq->indirect);
}
