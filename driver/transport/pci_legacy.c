/* SPDX-License-Identifier: MIT */
/*
 * The legacy virtio-pci interface: the register block at the start of I/O
 * BAR 0 (port I/O on x86, the memory-mapped PIO window elsewhere).  32
 * feature bits, no FEATURES_OK, no config generation, queue sizes fixed by
 * the device, each ring one block at a page frame number with the used
 * ring aligned to 4096.  The device configuration follows the header at
 * 0x14, or at 0x18 while MSI-X is enabled.
 */
#include "pci_priv.h"
#include "vlab/virtqueue.h" /* VLAB_VQ_SIZE_MAX */

#if VLAB_CFG_PCI_LEGACY /* vlab/config.h */

#define MSIX_ENABLE 0x8000u

static uint32_t lr(struct vlab_pci *p, uint32_t off, unsigned width)
{
	return vlab_pci_bar_read(p->host, &p->bar[0], off, width);
}

static void lw(struct vlab_pci *p, uint32_t off, unsigned width, uint32_t val)
{
	vlab_pci_bar_write(p->host, &p->bar[0], off, width, val);
}

static uint8_t l_get_status(struct vlab_virtio_dev *d)
{
	return (uint8_t)lr(vlab_pci_of(d), VIRTIO_PCI_LEGACY_STATUS, 1);
}

static void l_set_status(struct vlab_virtio_dev *d, uint8_t status)
{
	lw(vlab_pci_of(d), VIRTIO_PCI_LEGACY_STATUS, 1, status);
}

static uint64_t l_get_features(struct vlab_virtio_dev *d)
{
	return lr(vlab_pci_of(d), VIRTIO_PCI_LEGACY_HOST_FEATURES, 4);
}

static void l_set_features(struct vlab_virtio_dev *d, uint64_t features)
{
	lw(vlab_pci_of(d), VIRTIO_PCI_LEGACY_GUEST_FEATURES, 4, (uint32_t)features);
}

static uint32_t l_config_generation(struct vlab_virtio_dev *d)
{
	(void)d;
	return 0; /* the legacy interface has none */
}

/* Where the device configuration starts now (it moves with MSI-X). */
static uint32_t config_base(struct vlab_pci *p)
{
	if (p->msix_cap != 0) {
		uint16_t mc = (uint16_t)vlab_pci_cfg_read(p->host, p->id.bus, p->id.dev, p->id.fn,
		                                          (uint16_t)(p->msix_cap + 2), 2);
		if (mc & MSIX_ENABLE)
			return VIRTIO_PCI_LEGACY_CONFIG_MSIX;
	}
	return VIRTIO_PCI_LEGACY_CONFIG;
}

static int config_access(struct vlab_pci *p, uint32_t off, unsigned width, uint32_t *base)
{
	if (width != 1 && width != 2 && width != 4)
		return VLAB_EINVAL;
	if (off % width != 0)
		return VLAB_EINVAL;
	*base = config_base(p);
	uint64_t size = p->bar[0].size;
	if (size <= *base || off > size - *base || width > size - *base - off)
		return VLAB_ERANGE;
	return VLAB_OK;
}

static int l_config_read(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t *val)
{
	struct vlab_pci *p = vlab_pci_of(d);
	uint32_t base;
	int rc = config_access(p, off, width, &base);
	if (rc != 0)
		return rc;
	*val = lr(p, base + off, width);
	return VLAB_OK;
}

static int l_config_write(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t val)
{
	struct vlab_pci *p = vlab_pci_of(d);
	uint32_t base;
	int rc = config_access(p, off, width, &base);
	if (rc != 0)
		return rc;
	lw(p, base + off, width, val);
	return VLAB_OK;
}

static int l_queue_max(struct vlab_virtio_dev *d, uint16_t idx, uint16_t *max)
{
	struct vlab_pci *p = vlab_pci_of(d);
	*max = 0;
	lw(p, VIRTIO_PCI_LEGACY_QUEUE_SEL, 2, idx);
	if (lr(p, VIRTIO_PCI_LEGACY_QUEUE_PFN, 4) != 0)
		return vlab_virtio_mark_broken(d, "queue already in use after reset");
	uint16_t n = (uint16_t)lr(p, VIRTIO_PCI_LEGACY_QUEUE_NUM, 2);
	*max = n > VLAB_PCI_QUEUE_SIZE_LIMIT ? (uint16_t)VLAB_PCI_QUEUE_SIZE_LIMIT : n;
	return VLAB_OK;
}

static int l_queue_enable(struct vlab_virtio_dev *d, uint16_t idx, const struct vlab_vq_layout *l)
{
	struct vlab_pci *p = vlab_pci_of(d);

	if (l->size == 0)
		return VLAB_EINVAL;
	if (l->desc % VIRTIO_PCI_LEGACY_ALIGN != 0 || l->desc / VIRTIO_PCI_LEGACY_ALIGN > 0xffffffffull)
		return VLAB_ERANGE;
	lw(p, VIRTIO_PCI_LEGACY_QUEUE_SEL, 2, idx);
	if (lr(p, VIRTIO_PCI_LEGACY_QUEUE_PFN, 4) != 0)
		return vlab_virtio_mark_broken(d, "queue already in use");
	/* The device fixes the size: the ring must have exactly that many
	 * entries.  A queue larger than the driver's cap (issue 17) cannot be
	 * used: say which cap to raise. */
	uint16_t n = (uint16_t)lr(p, VIRTIO_PCI_LEGACY_QUEUE_NUM, 2);
	if (l->size != n) {
		vlab_log(d->plat, VLAB_LOG_ERROR,
		         "%s: queue %u: the legacy device fixes %u entries, the ring has %u: "
		         "build with VLAB_VQ_SIZE_MAX=%u (now %u) or a larger queue cap",
		         d->name ? d->name : "virtio-pci", (unsigned)idx, (unsigned)n, (unsigned)l->size,
		         (unsigned)n, (unsigned)VLAB_VQ_SIZE_MAX);
		return VLAB_ERANGE;
	}
	lw(p, VIRTIO_PCI_LEGACY_QUEUE_PFN, 4, (uint32_t)(l->desc / VIRTIO_PCI_LEGACY_ALIGN));
	return VLAB_OK;
}

static void l_queue_notify(struct vlab_virtio_dev *d, uint16_t idx)
{
	lw(vlab_pci_of(d), VIRTIO_PCI_LEGACY_QUEUE_NOTIFY, 2, idx);
}

static uint32_t l_interrupt_ack(struct vlab_virtio_dev *d)
{
	return lr(vlab_pci_of(d), VIRTIO_PCI_LEGACY_ISR, 1) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

const struct vlab_transport_ops vlab_pci_legacy_ops = {
	.get_status = l_get_status,
	.set_status = l_set_status,
	.get_features = l_get_features,
	.set_features = l_set_features,
	.config_generation = l_config_generation,
	.config_read = l_config_read,
	.config_write = l_config_write,
	.queue_max = l_queue_max,
	.queue_enable = l_queue_enable,
	.queue_notify = l_queue_notify,
	.interrupt_ack = l_interrupt_ack,
};
#else
typedef int vlab_transport_pci_legacy_compiled_out; /* ISO C: no empty translation unit */
#endif
