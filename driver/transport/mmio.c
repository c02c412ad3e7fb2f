/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport (4.2), Version 2 and (on request) legacy Version 1.
 *
 * Control registers are accessed only with aligned 32-bit accesses
 * (DRV-4.2.2.2-4); the device-config window at 0x100 with the width of the
 * field (DRV-4.2.2.2-5).  The shared-memory registers (SHMSel...) are never
 * touched (DRV-4.2.3.1.1-5).  Values read here are moved, not trusted: the
 * core validates them.
 */
#include "vlab/mmio.h"

#if VLAB_CFG_MMIO /* vlab/config.h */

/* Largest queue size the spec allows (2.7). */
#define MMIO_QUEUE_SIZE_LIMIT 32768u
/* Device-config window: 0x100 .. VIRTIO_MMIO_SIZE. */
#define MMIO_CONFIG_LEN (VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)

static struct vlab_mmio *to_mmio(struct vlab_virtio_dev *d)
{
	return (struct vlab_mmio *)d->transport;
}

static uint32_t reg_read(struct vlab_mmio *m, uint32_t off)
{
	return vlab_plat_read32(m->vdev.plat, m->base + off);
}

static void reg_write(struct vlab_mmio *m, uint32_t off, uint32_t v)
{
	vlab_plat_write32(m->vdev.plat, m->base + off, v);
}

static uint8_t mmio_get_status(struct vlab_virtio_dev *d)
{
#if defined(VLAB_MUTANT_READ_WO_REG) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_READ_WO_REG is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	(void)reg_read(to_mmio(d), VIRTIO_MMIO_QUEUE_SEL); /* write-only */
	return (uint8_t)reg_read(to_mmio(d), VIRTIO_MMIO_STATUS);
#else
	return (uint8_t)reg_read(to_mmio(d), VIRTIO_MMIO_STATUS);
#endif
}

static void mmio_set_status(struct vlab_virtio_dev *d, uint8_t status)
{
	reg_write(to_mmio(d), VIRTIO_MMIO_STATUS, status);
}

static uint64_t mmio_get_features(struct vlab_virtio_dev *d)
{
	struct vlab_mmio *m = to_mmio(d);
	/* DRV-4.2.2.2-12: DeviceFeaturesSel before each DeviceFeatures read. */
#if defined(VLAB_MUTANT_NO_DEVICE_FEATURES_SEL) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_DEVICE_FEATURES_SEL is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	/* DeviceFeaturesSel not written */
#else
	reg_write(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
#endif
	uint64_t f = reg_read(m, VIRTIO_MMIO_DEVICE_FEATURES);
	if (m->version >= 2) {
		reg_write(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		f |= (uint64_t)reg_read(m, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	}
	return f;
}

static void mmio_set_features(struct vlab_virtio_dev *d, uint64_t features)
{
	struct vlab_mmio *m = to_mmio(d);
	/* DRV-4.2.2.2-13: DriverFeaturesSel before each DriverFeatures write. */
#if defined(VLAB_MUTANT_NO_DRIVER_FEATURES_SEL) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_DRIVER_FEATURES_SEL is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	/* DriverFeaturesSel not written */
#else
	reg_write(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
#endif
	reg_write(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	if (m->version >= 2) {
		reg_write(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		reg_write(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	}
}

static uint32_t mmio_config_generation(struct vlab_virtio_dev *d)
{
	struct vlab_mmio *m = to_mmio(d);
	if (m->version < 2)
		return 0; /* Version 1 has no ConfigGeneration */
	return reg_read(m, VIRTIO_MMIO_CONFIG_GENERATION);
}

static int config_access_ok(uint32_t off, unsigned width)
{
	if (width != 1 && width != 2 && width != 4)
		return VLAB_EINVAL;
	if (off % width != 0)
		return VLAB_EINVAL; /* DRV-4.2.2.2-5: aligned to the width */
	if (off > MMIO_CONFIG_LEN || width > MMIO_CONFIG_LEN - off)
		return VLAB_ERANGE;
	return 0;
}

static int mmio_config_read(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t *val)
{
	struct vlab_mmio *m = to_mmio(d);
	int rc = config_access_ok(off, width);
	if (rc != 0)
		return rc;
	vlab_addr_t a = m->base + VIRTIO_MMIO_CONFIG + off;
	switch (width) {
	case 1:
		*val = vlab_plat_read8(d->plat, a);
		break;
	case 2:
		*val = vlab_plat_read16(d->plat, a);
		break;
	default:
		*val = vlab_plat_read32(d->plat, a);
		break;
	}
	return 0;
}

static int mmio_config_write(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t val)
{
	struct vlab_mmio *m = to_mmio(d);
	int rc = config_access_ok(off, width);
	if (rc != 0)
		return rc;
	vlab_addr_t a = m->base + VIRTIO_MMIO_CONFIG + off;
	switch (width) {
	case 1:
		vlab_plat_write8(d->plat, a, (uint8_t)val);
		break;
	case 2:
		vlab_plat_write16(d->plat, a, (uint16_t)val);
		break;
	default:
		vlab_plat_write32(d->plat, a, val);
		break;
	}
	return 0;
}

/* QueueSel written; is the selected queue already in use? */
static int queue_in_use(struct vlab_mmio *m)
{
	if (m->version >= 2)
		return reg_read(m, VIRTIO_MMIO_QUEUE_READY) != 0;
	return reg_read(m, VIRTIO_MMIO_QUEUE_PFN) != 0;
}

static int mmio_queue_max(struct vlab_virtio_dev *d, uint16_t idx, uint16_t *max)
{
	struct vlab_mmio *m = to_mmio(d);
	*max = 0;
	reg_write(m, VIRTIO_MMIO_QUEUE_SEL, idx);
	if (queue_in_use(m))
		return vlab_virtio_mark_broken(d, "queue already in use after reset");
	uint32_t n = reg_read(m, VIRTIO_MMIO_QUEUE_NUM_MAX);
	*max = (uint16_t)(n > MMIO_QUEUE_SIZE_LIMIT ? MMIO_QUEUE_SIZE_LIMIT : n);
	return 0;
}

static int mmio_queue_enable(struct vlab_virtio_dev *d, uint16_t idx, const struct vlab_vq_layout *l)
{
	struct vlab_mmio *m = to_mmio(d);

	if (l->size == 0)
		return VLAB_EINVAL;
	if (m->version < 2) {
		/* Legacy: one contiguous block addressed by page frame number. */
		if (l->desc % VLAB_MMIO_LEGACY_PAGE != 0 ||
		    l->desc / VLAB_MMIO_LEGACY_PAGE > 0xffffffffull)
			return VLAB_ERANGE;
		/* Again here: GuestPageSize must be set before QueuePFN is used,
		 * and a device reset may have forgotten it. */
#if defined(VLAB_MUTANT_LEGACY_NO_PAGE_SIZE) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_LEGACY_NO_PAGE_SIZE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		/* GuestPageSize not written */
#else
		reg_write(m, VIRTIO_MMIO_GUEST_PAGE_SIZE, VLAB_MMIO_LEGACY_PAGE);
#endif
	}

	reg_write(m, VIRTIO_MMIO_QUEUE_SEL, idx);
	if (queue_in_use(m))
		return vlab_virtio_mark_broken(d, "queue already in use");
	/* DRV-4.2.2.2-14: QueueNum never above QueueNumMax. */
#if defined(VLAB_MUTANT_REG_16BIT) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_REG_16BIT is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	uint32_t max = vlab_plat_read16(m->vdev.plat, m->base + VIRTIO_MMIO_QUEUE_NUM_MAX); /* 16 bits wide */
#else
	uint32_t max = reg_read(m, VIRTIO_MMIO_QUEUE_NUM_MAX);
#endif
	if (l->size > max)
		return VLAB_ERANGE;
#if defined(VLAB_MUTANT_QUEUE_NUM_OVER_MAX) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_QUEUE_NUM_OVER_MAX is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	reg_write(m, VIRTIO_MMIO_QUEUE_NUM, max + 1);
#else
	reg_write(m, VIRTIO_MMIO_QUEUE_NUM, l->size);
#endif

	if (m->version < 2) {
		reg_write(m, VIRTIO_MMIO_QUEUE_ALIGN, VLAB_MMIO_LEGACY_PAGE);
		reg_write(m, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(l->desc / VLAB_MMIO_LEGACY_PAGE));
		return 0;
	}
#if defined(VLAB_MUTANT_DESC_HIGH_FIRST) /* TEST-ONLY: tests/replay/mutant_test.sh */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_DESC_HIGH_FIRST is for the test-only mutant build (scenarios/CMakeLists.txt)"
#endif
	reg_write(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(l->desc >> 32));
	reg_write(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)l->desc);
#else
	reg_write(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)l->desc);
	reg_write(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(l->desc >> 32));
#endif
	reg_write(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)l->avail);
	reg_write(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(l->avail >> 32));
	reg_write(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)l->used);
	reg_write(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(l->used >> 32));
#if defined(VLAB_MUTANT_QUEUE_NUM_WHILE_READY) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_QUEUE_NUM_WHILE_READY is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	reg_write(m, VIRTIO_MMIO_QUEUE_READY, 1);
	reg_write(m, VIRTIO_MMIO_QUEUE_NUM, l->size); /* while ready */
#else
	reg_write(m, VIRTIO_MMIO_QUEUE_READY, 1);
#endif
	return 0;
}

static void mmio_queue_notify(struct vlab_virtio_dev *d, uint16_t idx)
{
#if defined(VLAB_MUTANT_WRITE_RO_REG) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_WRITE_RO_REG is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	reg_write(to_mmio(d), VIRTIO_MMIO_QUEUE_NOTIFY, idx);
	reg_write(to_mmio(d), VIRTIO_MMIO_QUEUE_NUM_MAX, idx); /* read-only */
#else
	reg_write(to_mmio(d), VIRTIO_MMIO_QUEUE_NOTIFY, idx);
#endif
}

static uint32_t mmio_interrupt_ack(struct vlab_virtio_dev *d)
{
	struct vlab_mmio *m = to_mmio(d);
	/* DRV-4.2.3.4.1-1: read InterruptStatus; DRV-4.2.2.2-18: ignore
	 * undefined bits; DRV-4.2.2.2-19/20, DRV-4.2.3.4.1-3: acknowledge
	 * exactly the defined bits that were seen. */
	uint32_t s = reg_read(m, VIRTIO_MMIO_INTERRUPT_STATUS) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
	if (s != 0)
#if defined(VLAB_MUTANT_BAD_INTERRUPT_ACK) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_BAD_INTERRUPT_ACK is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		reg_write(m, VIRTIO_MMIO_INTERRUPT_ACK, s | 0x80);
#else
		reg_write(m, VIRTIO_MMIO_INTERRUPT_ACK, s);
#endif
	return s;
}

static const struct vlab_transport_ops mmio_ops = {
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_generation = mmio_config_generation,
	.config_read = mmio_config_read,
	.config_write = mmio_config_write,
	.queue_max = mmio_queue_max,
	.queue_enable = mmio_queue_enable,
	.queue_notify = mmio_queue_notify,
	.interrupt_ack = mmio_interrupt_ack,
};

int vlab_mmio_probe(struct vlab_mmio *m, const struct vlab_platform *plat, vlab_addr_t base,
                    unsigned flags)
{
	if (m == NULL || plat == NULL || plat->ops == NULL)
		return VLAB_EINVAL;
	vlab_memset(m, 0, sizeof(*m));
	m->base = base;
	m->vdev.plat = plat;
#if VLAB_CFG_LOG
	vlab_snprintf(m->name, sizeof(m->name), "mmio@%llx", (unsigned long long)base);
#else
	vlab_memcpy(m->name, "mmio", 5); /* the name is for log lines */
#endif
	m->vdev.name = m->name;

	/* DRV-4.2.3.1.1-1: MagicValue and Version first.  DRV-4.2.2.2-6: a
	 * wrong magic is not a virtio device. */
	uint32_t magic = reg_read(m, VIRTIO_MMIO_MAGIC_VALUE);
	if (magic != VIRTIO_MMIO_MAGIC) {
		vlab_log(plat, VLAB_LOG_DEBUG, "%s: no virtio-mmio magic (0x%x)", m->name, (unsigned)magic);
		return VLAB_ENODEV;
	}
	uint32_t version = reg_read(m, VIRTIO_MMIO_VERSION);
	if (version == 1) {
		if (!VLAB_CFG_MMIO_LEGACY || !(flags & VLAB_MMIO_ALLOW_LEGACY)) {
			/* DRV-4.2.2.2-8/9: ignored, with a report (also when
			 * compiled out: VLAB_CFG_MMIO_LEGACY, vlab/config.h). */
			vlab_log(plat, VLAB_LOG_INFO, "%s: legacy virtio-mmio (Version 1) not enabled",
			         m->name);
			return VLAB_ENOTSUP;
		}
	} else if (version != 2) {
		vlab_log(plat, VLAB_LOG_WARN, "%s: unsupported virtio-mmio version %u", m->name, (unsigned)version);
		return VLAB_ENODEV;
	}

	/* DRV-4.2.3.1.1-2: then DeviceID.  0 is an empty slot: no error
	 * (DRV-4.2.2.2-10/11) and no further register access
	 * (DRV-4.2.3.1.1-3/4). */
	uint32_t id = reg_read(m, VIRTIO_MMIO_DEVICE_ID);
	if (id == 0)
		return VLAB_ENODEV;
	uint32_t vendor = reg_read(m, VIRTIO_MMIO_VENDOR_ID);

	m->version = version;
	m->vdev.ops = &mmio_ops;
	m->vdev.transport = m;
	m->vdev.device_id = id;
	m->vdev.vendor_id = vendor;
	if (VLAB_CFG_MMIO_LEGACY && version == 1) {
		m->vdev.legacy = true;
		m->vdev.legacy_align = VLAB_MMIO_LEGACY_PAGE;
#if defined(VLAB_MUTANT_LEGACY_NO_PAGE_SIZE) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_LEGACY_NO_PAGE_SIZE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		/* GuestPageSize not written */
#else
		reg_write(m, VIRTIO_MMIO_GUEST_PAGE_SIZE, VLAB_MMIO_LEGACY_PAGE);
#endif
	}
	/* DRV-4.2.3.1.1-6: the rest follows the generic sequence (3.1),
	 * starting with vlab_virtio_begin(). */
	return VLAB_OK;
}
#else
typedef int vlab_transport_mmio_compiled_out; /* ISO C: no empty translation unit */
#endif
