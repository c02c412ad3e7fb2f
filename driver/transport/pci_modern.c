/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci interface (4.1.4): common configuration, notify,
 * ISR and device configuration structures, found through the capabilities
 * and validated against their BARs at probe time (pci.c).  Every field is
 * accessed with its natural width (DRV-4.1.3.1-1), 64-bit fields as two
 * 32-bit halves, low first (DRV-4.1.3.1-2).
 */
#include "pci_priv.h"

#if VLAB_CFG_PCI /* vlab/config.h */

static uint32_t rd(struct vlab_pci *p, const struct vlab_pci_region *r, uint32_t off, unsigned width)
{
	/* Regions were checked against their BARs and minimum lengths at
	 * probe; this guards the offsets used below. */
	if (!r->present || off > r->len || width > r->len - off)
		return 0xffffffffu >> (32 - 8 * width);
	return vlab_pci_bar_read(p->host, &p->bar[r->bar], (uint64_t)r->off + off, width);
}

static void wr(struct vlab_pci *p, const struct vlab_pci_region *r, uint32_t off, unsigned width,
               uint32_t val)
{
	if (!r->present || off > r->len || width > r->len - off)
		return;
	vlab_pci_bar_write(p->host, &p->bar[r->bar], (uint64_t)r->off + off, width, val);
}

#define CC_R8(p, f) ((uint8_t)rd((p), &(p)->common, (f), 1))
#define CC_R16(p, f) ((uint16_t)rd((p), &(p)->common, (f), 2))
#define CC_R32(p, f) rd((p), &(p)->common, (f), 4)
#define CC_W8(p, f, v) wr((p), &(p)->common, (f), 1, (uint8_t)(v))
#define CC_W16(p, f, v) wr((p), &(p)->common, (f), 2, (uint16_t)(v))
#define CC_W32(p, f, v) wr((p), &(p)->common, (f), 4, (uint32_t)(v))

static uint8_t m_get_status(struct vlab_virtio_dev *d)
{
	return CC_R8(vlab_pci_of(d), VIRTIO_PCI_COMMON_STATUS);
}

static void m_set_status(struct vlab_virtio_dev *d, uint8_t status)
{
	struct vlab_pci *p = vlab_pci_of(d);
	CC_W8(p, VIRTIO_PCI_COMMON_STATUS, status);
	if (status == 0)
		p->msix_ok = p->msix_vectors > 0; /* vectors are gone with the reset */
}

static uint64_t m_get_features(struct vlab_virtio_dev *d)
{
	struct vlab_pci *p = vlab_pci_of(d);
	CC_W32(p, VIRTIO_PCI_COMMON_DFSELECT, 0);
	uint64_t f = CC_R32(p, VIRTIO_PCI_COMMON_DF);
	CC_W32(p, VIRTIO_PCI_COMMON_DFSELECT, 1);
	f |= (uint64_t)CC_R32(p, VIRTIO_PCI_COMMON_DF) << 32;
	return f;
}

static void m_set_features(struct vlab_virtio_dev *d, uint64_t features)
{
	struct vlab_pci *p = vlab_pci_of(d);
	CC_W32(p, VIRTIO_PCI_COMMON_GFSELECT, 0);
	CC_W32(p, VIRTIO_PCI_COMMON_GF, (uint32_t)features);
	CC_W32(p, VIRTIO_PCI_COMMON_GFSELECT, 1);
	CC_W32(p, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32));
}

static uint32_t m_config_generation(struct vlab_virtio_dev *d)
{
	return CC_R8(vlab_pci_of(d), VIRTIO_PCI_COMMON_CFGGENERATION);
}

static int device_access_ok(struct vlab_pci *p, uint32_t off, unsigned width)
{
	if (width != 1 && width != 2 && width != 4)
		return VLAB_EINVAL;
	if (off % width != 0)
		return VLAB_EINVAL; /* DRV-4.1.3.1-1 */
	if (!p->device.present || off > p->device.len || width > p->device.len - off)
		return VLAB_ERANGE;
	return VLAB_OK;
}

static int m_config_read(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t *val)
{
	struct vlab_pci *p = vlab_pci_of(d);
	int rc = device_access_ok(p, off, width);
	if (rc != 0)
		return rc;
	*val = rd(p, &p->device, off, width);
	return VLAB_OK;
}

static int m_config_write(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t val)
{
	struct vlab_pci *p = vlab_pci_of(d);
	int rc = device_access_ok(p, off, width);
	if (rc != 0)
		return rc;
	wr(p, &p->device, off, width, val);
	return VLAB_OK;
}

/* Where queue idx's notify offset is kept: the table, or the one slot
 * above it (claim: take it for idx). */
static uint64_t *notify_slot(struct vlab_pci *p, uint16_t idx, bool claim)
{
	if (idx < VLAB_PCI_MAX_QUEUES)
		return &p->notify_at[idx];
	if (claim) {
		p->notify_hi_used = true;
		p->notify_hi_idx = idx;
	}
	return p->notify_hi_used && p->notify_hi_idx == idx ? &p->notify_hi_at : NULL;
}

static int m_queue_max(struct vlab_virtio_dev *d, uint16_t idx, uint16_t *max)
{
	struct vlab_pci *p = vlab_pci_of(d);
	*max = 0;
	if (idx >= CC_R16(p, VIRTIO_PCI_COMMON_NUMQ))
		return VLAB_OK; /* no such queue */
	CC_W16(p, VIRTIO_PCI_COMMON_Q_SELECT, idx);
	if (CC_R16(p, VIRTIO_PCI_COMMON_Q_ENABLE) != 0)
		return vlab_virtio_mark_broken(d, "queue already enabled after reset");
	uint16_t n = CC_R16(p, VIRTIO_PCI_COMMON_Q_SIZE);
	/* 0: the queue is unavailable (DEV-4.1.4.3.1-14). */
	*max = n > VLAB_PCI_QUEUE_SIZE_LIMIT ? (uint16_t)VLAB_PCI_QUEUE_SIZE_LIMIT : n;
	return VLAB_OK;
}

/*
 * MSI-X vector for an event: write, read back; NO_VECTOR means the device
 * could not map it (DRV-4.1.5.1.2.2-5).  Then the driver goes on without
 * vectors (DRV-4.1.5.1.2.2-6 allows it): interrupts come as INTx and the
 * ISR, which is how this driver takes them anyway.
 */
static void assign_vector(struct vlab_pci *p, uint32_t field, uint16_t vec)
{
	if (!p->msix_ok)
		return;
	/* DRV-4.1.5.1.2.2-4: never beyond the table. */
	if (vec >= p->msix_vectors)
		vec = (uint16_t)(p->msix_vectors - 1);
	CC_W16(p, field, vec);
	if (CC_R16(p, field) == VIRTIO_PCI_NO_VECTOR) {
		vlab_log(p->vdev.plat, VLAB_LOG_WARN,
		         "%s: MSI-X vector %u not accepted; continuing without vectors", p->name, vec);
		p->msix_ok = false;
		CC_W16(p, VIRTIO_PCI_COMMON_MSIX, VIRTIO_PCI_NO_VECTOR);
		CC_W16(p, field, VIRTIO_PCI_NO_VECTOR);
	}
}

static int m_queue_enable(struct vlab_virtio_dev *d, uint16_t idx, const struct vlab_vq_layout *l)
{
	struct vlab_pci *p = vlab_pci_of(d);

	/* DRV-4.1.4.3.2-2/3: queue_size only ever a nonzero power of two. */
	if (l->size == 0 || (l->size & (l->size - 1)) != 0)
		return VLAB_EINVAL;
	if (idx >= CC_R16(p, VIRTIO_PCI_COMMON_NUMQ))
		return VLAB_ERANGE;
	/* 4.1.5.1.3: select, read the size, program, enable last. */
	CC_W16(p, VIRTIO_PCI_COMMON_Q_SELECT, idx);
	if (CC_R16(p, VIRTIO_PCI_COMMON_Q_ENABLE) != 0)
		return vlab_virtio_mark_broken(d, "queue already enabled");
	uint16_t max = CC_R16(p, VIRTIO_PCI_COMMON_Q_SIZE);
	if (l->size > max)
		return VLAB_ERANGE;

	/* The notify address: cap.offset + queue_notify_off *
	 * notify_off_multiplier, in 64 bits (16 x 32 bits cannot overflow
	 * them), and 2 bytes of it inside the notify structure. */
	uint16_t noff = CC_R16(p, VIRTIO_PCI_COMMON_Q_NOFF);
#if defined(VLAB_MUTANT_NOTIFY_NO_MULTIPLIER) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NOTIFY_NO_MULTIPLIER is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	uint64_t rel = (uint64_t)noff; /* the multiplier forgotten */
#else
	uint64_t rel = (uint64_t)noff * p->notify_mult;
#endif
	if (rel > p->notify.len || p->notify.len - rel < 2) {
		vlab_log(d->plat, VLAB_LOG_ERROR,
		         "%s: queue %u notify offset %u x %u = 0x%llx beyond the %u-byte notify structure",
		         p->name, idx, noff, (unsigned)p->notify_mult, (unsigned long long)rel, (unsigned)p->notify.len);
		return vlab_virtio_mark_broken(d, "queue notify address outside the notify structure");
	}
	*notify_slot(p, idx, true) = (uint64_t)p->notify.off + rel;

#if defined(VLAB_MUTANT_WRITE_NOTIFY_OFF) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_WRITE_NOTIFY_OFF is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	CC_W16(p, VIRTIO_PCI_COMMON_Q_NOFF, noff); /* read-only */
#endif
#if defined(VLAB_MUTANT_QUEUE_ENABLE_FIRST) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_QUEUE_ENABLE_FIRST is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	CC_W16(p, VIRTIO_PCI_COMMON_Q_ENABLE, 1); /* before the addresses */
#endif
#if defined(VLAB_MUTANT_QUEUE_ENABLE_ZERO) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_QUEUE_ENABLE_ZERO is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	CC_W16(p, VIRTIO_PCI_COMMON_Q_ENABLE, 0); /* 0 to queue_enable */
#endif
#if defined(VLAB_MUTANT_QUEUE_SIZE_NOT_POW2) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_QUEUE_SIZE_NOT_POW2 is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	CC_W16(p, VIRTIO_PCI_COMMON_Q_SIZE, (uint16_t)(l->size * 3 / 4)); /* not a power of 2 */
#else
	CC_W16(p, VIRTIO_PCI_COMMON_Q_SIZE, l->size);
#endif
	CC_W32(p, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)l->desc);
	CC_W32(p, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(l->desc >> 32));
	CC_W32(p, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)l->avail);
	CC_W32(p, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(l->avail >> 32));
	CC_W32(p, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)l->used);
	CC_W32(p, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(l->used >> 32));
	/* Vector 0 for configuration changes, 1.. for the queues. */
	assign_vector(p, VIRTIO_PCI_COMMON_MSIX, 0);
	assign_vector(p, VIRTIO_PCI_COMMON_Q_MSIX, (uint16_t)(idx + 1));
	/* DRV-4.1.4.3.2-4: everything above before queue_enable; and only 1
	 * is ever written there (DRV-4.1.4.3.2-6). */
	CC_W16(p, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	return VLAB_OK;
}

static void m_queue_notify(struct vlab_virtio_dev *d, uint16_t idx)
{
	struct vlab_pci *p = vlab_pci_of(d);
	const uint64_t *at = notify_slot(p, idx, false);
	if (!at)
		return;
	vlab_pci_bar_write(p->host, &p->bar[p->notify.bar], *at, 2, idx);
}

static uint32_t m_interrupt_ack(struct vlab_virtio_dev *d)
{
	/* Reading the ISR acknowledges it (4.1.4.5). */
	return rd(vlab_pci_of(d), &vlab_pci_of(d)->isr, 0, 1) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

const struct vlab_transport_ops vlab_pci_modern_ops = {
	.get_status = m_get_status,
	.set_status = m_set_status,
	.get_features = m_get_features,
	.set_features = m_set_features,
	.config_generation = m_config_generation,
	.config_read = m_config_read,
	.config_write = m_config_write,
	.queue_max = m_queue_max,
	.queue_enable = m_queue_enable,
	.queue_notify = m_queue_notify,
	.interrupt_ack = m_interrupt_ack,
};
#else
typedef int vlab_transport_pci_modern_compiled_out; /* ISO C: no empty translation unit */
#endif
