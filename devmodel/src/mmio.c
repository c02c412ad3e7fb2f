/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio front end: the register file of 4.2.2 (Version 2) and the
 * legacy one of 4.2.4 (Version 1), with the checks of 4.2.2.2.
 */
#include "devmodel/mmio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devmodel/spec.h"

enum access { RO, WO, RW, NONE };

/* What a control register is in this version (NONE: not defined). */
static enum access reg_access(const struct dm_mmio *m, uint32_t off)
{
	bool v1 = m->cfg.version == 1;

	switch (off) {
	case DM_VIRTIO_MMIO_MAGIC_VALUE:
	case DM_VIRTIO_MMIO_VERSION:
	case DM_VIRTIO_MMIO_DEVICE_ID:
	case DM_VIRTIO_MMIO_VENDOR_ID:
	case DM_VIRTIO_MMIO_DEVICE_FEATURES:
	case DM_VIRTIO_MMIO_QUEUE_NUM_MAX:
	case DM_VIRTIO_MMIO_INTERRUPT_STATUS:
		return RO;
	case DM_VIRTIO_MMIO_DEVICE_FEATURES_SEL:
	case DM_VIRTIO_MMIO_DRIVER_FEATURES:
	case DM_VIRTIO_MMIO_DRIVER_FEATURES_SEL:
	case DM_VIRTIO_MMIO_QUEUE_SEL:
	case DM_VIRTIO_MMIO_QUEUE_NUM:
	case DM_VIRTIO_MMIO_QUEUE_NOTIFY:
	case DM_VIRTIO_MMIO_INTERRUPT_ACK:
		return WO;
	case DM_VIRTIO_MMIO_STATUS:
		return RW;
	case DM_VIRTIO_MMIO_GUEST_PAGE_SIZE:
	case DM_VIRTIO_MMIO_QUEUE_ALIGN:
		return v1 ? WO : NONE;
	case DM_VIRTIO_MMIO_QUEUE_PFN:
		return v1 ? RW : NONE;
	case DM_VIRTIO_MMIO_QUEUE_READY:
		return v1 ? NONE : RW;
	case DM_VIRTIO_MMIO_QUEUE_DESC_LOW:
	case DM_VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case DM_VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case DM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case DM_VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case DM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
	case DM_VIRTIO_MMIO_SHM_SEL:
		return v1 ? NONE : WO;
	case DM_VIRTIO_MMIO_SHM_LEN_LOW:
	case DM_VIRTIO_MMIO_SHM_LEN_HIGH:
	case DM_VIRTIO_MMIO_SHM_BASE_LOW:
	case DM_VIRTIO_MMIO_SHM_BASE_HIGH:
	case DM_VIRTIO_MMIO_CONFIG_GENERATION:
		return v1 ? NONE : RO;
	case DM_VIRTIO_MMIO_QUEUE_RESET:
		/* Defined only with VIRTIO_F_RING_RESET negotiated (4.2.2). */
		return (!v1 && m->dv && dm_virtio_has(m->dv, DM_VIRTIO_F_RING_RESET)) ? RW : NONE;
	default:
		return NONE;
	}
}

static void violation(struct dm_mmio *m, uint32_t off, const char *req_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void violation(struct dm_mmio *m, uint32_t off, const char *req_id, const char *fmt, ...)
{
	char where[24], detail[160];
	va_list ap;

	if (!m->dv)
		return; /* an empty slot has nowhere to report */
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(where, sizeof where, "reg 0x%03x", off);
	dm_virtio_violation_where(m->dv, where, req_id, "%s", detail);
}

static void checked_num(struct dm_mmio *m, unsigned num, const char *req_id)
{
	if (m->dv)
		dm_virtio_checked_num(m->dv, num, req_id);
}
#define checked(m, req_id) checked_num((m), DM_REQ_NUM(req_id), (req_id))

void dm_mmio_init(struct dm_mmio *m, const struct dm_mmio_cfg *cfg, struct dm_virtio *dv)
{
	memset(m, 0, sizeof *m);
	if (cfg)
		m->cfg = *cfg;
	if (m->cfg.version != 1)
		m->cfg.version = 2;
	m->dv = dv;
	m->guest_page_size = 0; /* not written yet (MODEL-MMIO-GUEST-PAGE-SIZE) */
	if (dv) {
		dv->legacy = m->cfg.version == 1;
		/* A legacy interface shows 32 feature bits only (4.2.4). */
		if (dv->legacy)
			dv->host_features &= 0xffffffffull;
	}
}

static struct dm_vq *sel_vq(struct dm_mmio *m)
{
	if (!m->dv || m->queue_sel >= DM_MAX_QUEUES || m->queue_sel >= m->dv->num_queues)
		return NULL;
	return &m->dv->vq[m->queue_sel];
}

/* Access checks common to reads and writes of a control register. */
static bool control_access_ok(struct dm_mmio *m, uint32_t off, unsigned width, bool write,
                              enum access *acc)
{
	checked(m, "DRV-4.2.2.2-4");
	if (width != 4 || off % 4) {
		violation(m, off, "DRV-4.2.2.2-4", "%u-byte %s at 0x%03x: control registers are 32-bit",
		          width, write ? "write" : "read", off);
		return false;
	}
	*acc = reg_access(m, off & ~3u);
	checked(m, "DRV-4.2.2.2-1");
	if (*acc == NONE) {
		violation(m, off, "DRV-4.2.2.2-1", "%s of undefined register 0x%03x (version %u)",
		          write ? "write" : "read", off, m->cfg.version);
		return false;
	}
	/* DRV-4.2.3.1.1-5: no device of the model has shared memory regions, and
	 * a driver that does not expect any never uses the SHM registers. */
	if (m->cfg.version != 1) {
		checked(m, "DRV-4.2.3.1.1-5");
		if ((off & ~3u) >= DM_VIRTIO_MMIO_SHM_SEL && (off & ~3u) <= DM_VIRTIO_MMIO_SHM_BASE_HIGH)
			violation(m, off, "DRV-4.2.3.1.1-5", "%s of shared memory register 0x%03x",
			          write ? "write" : "read", off);
	}
	if (write) {
		checked(m, "DRV-4.2.2.2-2");
		if (*acc == RO) {
			violation(m, off, "DRV-4.2.2.2-2", "write of read-only register 0x%03x", off);
			return false;
		}
	} else {
		checked(m, "DRV-4.2.2.2-3");
		if (*acc == WO) {
			violation(m, off, "DRV-4.2.2.2-3", "read of write-only register 0x%03x", off);
			return false;
		}
	}
	return true;
}

static bool config_access_ok(struct dm_mmio *m, uint32_t off, unsigned width, bool write)
{
	uint32_t len = 0;
	if (m->dv && m->dv->ops && m->dv->ops->config_len)
		len = m->dv->ops->config_len(m->dv->dev);
	checked(m, "DRV-4.2.2.2-5");
	if ((width != 1 && width != 2 && width != 4) || off % width) {
		violation(m, DM_VIRTIO_MMIO_CONFIG + off, "DRV-4.2.2.2-5",
		          "config %s of width %u at offset 0x%x (must be 1/2/4, aligned)",
		          write ? "write" : "read", width, off);
		return false;
	}
	checked(m, "DRV-4.2.2.2-1");
	if (off >= len || width > len - off) {
		violation(m, DM_VIRTIO_MMIO_CONFIG + off, "DRV-4.2.2.2-1",
		          "config %s at offset 0x%x+%u beyond the %u-byte config space",
		          write ? "write" : "read", off, width, len);
		return false;
	}
	return true;
}

static uint32_t read_reg(struct dm_mmio *m, uint32_t off)
{
	struct dm_virtio *dv = m->dv;
	struct dm_vq *vq;

	switch (off) {
	case DM_VIRTIO_MMIO_MAGIC_VALUE:
		return DM_VIRTIO_MMIO_MAGIC;
	case DM_VIRTIO_MMIO_VERSION:
		return m->cfg.version;
	case DM_VIRTIO_MMIO_DEVICE_ID:
		return dv && dv->ops ? dv->ops->device_id : 0;
	case DM_VIRTIO_MMIO_VENDOR_ID:
		return m->cfg.vendor_id;
	}
	if (!dv)
		return 0; /* empty slot: only the identification registers */

	switch (off) {
	case DM_VIRTIO_MMIO_DEVICE_FEATURES:
		checked(m, "DRV-4.2.2.2-12");
		if (!m->dev_sel_fresh)
			violation(m, off, "DRV-4.2.2.2-12",
			          "DeviceFeatures read without writing DeviceFeaturesSel first");
		m->dev_sel_fresh = false;
		return dm_virtio_get_host_features(dv, m->dev_features_sel);
	case DM_VIRTIO_MMIO_QUEUE_NUM_MAX:
		return sel_vq(m) ? dv->queue_num_max : 0;
	case DM_VIRTIO_MMIO_QUEUE_PFN:
		vq = sel_vq(m);
		return vq ? vq->legacy_pfn : 0;
	case DM_VIRTIO_MMIO_QUEUE_READY:
		vq = sel_vq(m);
		return vq && vq->ready ? 1 : 0;
	case DM_VIRTIO_MMIO_INTERRUPT_STATUS:
		return dm_virtio_isr_read(dv);
	case DM_VIRTIO_MMIO_STATUS:
		return dm_virtio_get_status(dv);
	case DM_VIRTIO_MMIO_SHM_LEN_LOW:
	case DM_VIRTIO_MMIO_SHM_LEN_HIGH:
		/* No shared memory regions: length reads as all-ones (4.2.2). */
		return 0xffffffffu;
	case DM_VIRTIO_MMIO_SHM_BASE_LOW:
	case DM_VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;
	case DM_VIRTIO_MMIO_QUEUE_RESET:
		return 0; /* resets complete at once (DEV-4.2.2.1-12) */
	case DM_VIRTIO_MMIO_CONFIG_GENERATION:
		return dm_virtio_config_generation(dv);
	}
	return 0;
}

uint32_t dm_mmio_read(struct dm_mmio *m, uint32_t off, unsigned width)
{
	enum access acc;

	if (off >= DM_VIRTIO_MMIO_CONFIG) {
		uint32_t coff = off - DM_VIRTIO_MMIO_CONFIG;
		if (!m->dv || !config_access_ok(m, coff, width, false))
			return 0;
		return dm_virtio_config_read(m->dv, coff, width);
	}
	if (!control_access_ok(m, off, width, false, &acc))
		return 0;
	return read_reg(m, off);
}

/* Queue registers may not change while QueueReady is 1 (DRV-4.2.2.2-15). */
static struct dm_vq *writable_vq(struct dm_mmio *m, uint32_t off)
{
	struct dm_vq *vq = sel_vq(m);
	if (!vq)
		return NULL;
	if (m->cfg.version == 2) {
		checked(m, "DRV-4.2.2.2-15");
		if (vq->ready) {
			violation(m, off, "DRV-4.2.2.2-15", "queue %u register 0x%03x written while QueueReady is 1",
			          vq->index, off);
			return NULL;
		}
	}
	return vq;
}

static void set_lo(uint64_t *v, uint32_t val) { *v = (*v & ~0xffffffffull) | val; }
static void set_hi(uint64_t *v, uint32_t val) { *v = (*v & 0xffffffffull) | ((uint64_t)val << 32); }

/* Legacy layout (4.2.4 / 2.7 legacy): one block at QueuePFN * GuestPageSize,
 * descriptors, then the available ring, then the used ring aligned to QueueAlign. */
static void legacy_program(struct dm_mmio *m, struct dm_vq *vq, uint32_t pfn)
{
	uint64_t page = m->guest_page_size ? m->guest_page_size : 4096;
	uint64_t align = vq->legacy_align ? vq->legacy_align : 4096;
	uint64_t avail_end;

	vq->legacy_pfn = pfn;
	if (pfn == 0) {
		dm_virtio_queue_disable(m->dv, vq->index);
		return;
	}
	vq->desc = (uint64_t)pfn * page;
	vq->avail = vq->desc + 16ull * vq->num;
	avail_end = vq->avail + 6 + 2ull * vq->num;
	vq->used = (avail_end + align - 1) & ~(align - 1);
	dm_virtio_queue_enable(m->dv, vq->index);
}

static void write_reg(struct dm_mmio *m, uint32_t off, uint32_t val)
{
	struct dm_virtio *dv = m->dv;
	struct dm_vq *vq;

	switch (off) {
	case DM_VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = val;
		m->dev_sel_fresh = true;
		return;
	case DM_VIRTIO_MMIO_DRIVER_FEATURES:
		checked(m, "DRV-4.2.2.2-13");
		if (!m->drv_sel_fresh)
			violation(m, off, "DRV-4.2.2.2-13",
			          "DriverFeatures written without writing DriverFeaturesSel first");
		m->drv_sel_fresh = false;
		dm_virtio_set_guest_features(dv, m->drv_features_sel, val);
		return;
	case DM_VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = val;
		m->drv_sel_fresh = true;
		return;
	case DM_VIRTIO_MMIO_GUEST_PAGE_SIZE:
		m->guest_page_size = val;
		return;
	case DM_VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = val;
		return;
	case DM_VIRTIO_MMIO_QUEUE_NUM:
		if (!(vq = writable_vq(m, off)))
			return;
		checked(m, "DRV-4.2.2.2-14");
		if (val > dv->queue_num_max) {
			violation(m, off, "DRV-4.2.2.2-14", "QueueNum %u exceeds QueueNumMax %u", val,
			          dv->queue_num_max);
			return;
		}
		vq->num = (uint16_t)val;
		return;
	case DM_VIRTIO_MMIO_QUEUE_ALIGN:
		if ((vq = sel_vq(m)))
			vq->legacy_align = val;
		return;
	case DM_VIRTIO_MMIO_QUEUE_PFN:
		/* Legacy 4.2.4: QueuePFN counts pages of GuestPageSize, which
		 * the driver writes first (the model's own ID: no 1.2 statement). */
		if (val != 0) {
			checked(m, "MODEL-MMIO-GUEST-PAGE-SIZE");
			if (m->guest_page_size == 0)
				violation(m, off, "MODEL-MMIO-GUEST-PAGE-SIZE",
				          "QueuePFN 0x%x written before GuestPageSize", val);
		}
		if ((vq = sel_vq(m)))
			legacy_program(m, vq, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_READY:
		if (!(vq = sel_vq(m)))
			return;
		if (val & 1) {
			if (!vq->ready)
				dm_virtio_queue_enable(dv, vq->index);
		} else {
			dm_virtio_queue_disable(dv, vq->index);
		}
		return;
	case DM_VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index. */
		dm_virtio_notify(dv, (uint16_t)(val & 0xffff));
		return;
	case DM_VIRTIO_MMIO_INTERRUPT_ACK:
		checked(m, "DRV-4.2.2.2-20");
		if (val & ~(uint32_t)(DM_VIRTIO_ISR_QUEUE | DM_VIRTIO_ISR_CONFIG))
			violation(m, off, "DRV-4.2.2.2-20", "InterruptACK 0x%x has undefined bits", val);
		dm_virtio_isr_ack(dv, val & (DM_VIRTIO_ISR_QUEUE | DM_VIRTIO_ISR_CONFIG));
		return;
	case DM_VIRTIO_MMIO_STATUS:
		dm_virtio_set_status(dv, (uint8_t)val);
		if (val == 0) {
			m->dev_sel_fresh = m->drv_sel_fresh = false;
			m->queue_sel = 0;
		}
		return;
	case DM_VIRTIO_MMIO_QUEUE_DESC_LOW:
		if ((vq = writable_vq(m, off)))
			set_lo(&vq->desc, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if ((vq = writable_vq(m, off)))
			set_hi(&vq->desc, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		if ((vq = writable_vq(m, off)))
			set_lo(&vq->avail, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if ((vq = writable_vq(m, off)))
			set_hi(&vq->avail, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		if ((vq = writable_vq(m, off)))
			set_lo(&vq->used, val);
		return;
	case DM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if ((vq = writable_vq(m, off)))
			set_hi(&vq->used, val);
		return;
	case DM_VIRTIO_MMIO_SHM_SEL:
		m->shm_sel = val;
		return;
	case DM_VIRTIO_MMIO_QUEUE_RESET:
		/* DEV-4.2.2.1-10/12: writing 1 resets the queue, at once. */
		if ((val & 1) && (vq = sel_vq(m))) {
			uint16_t num = vq->num;
			dm_vq_reset(vq);
			vq->num = num;
		}
		return;
	}
}

void dm_mmio_write(struct dm_mmio *m, uint32_t off, unsigned width, uint32_t val)
{
	enum access acc;

	if (off >= DM_VIRTIO_MMIO_CONFIG) {
		uint32_t coff = off - DM_VIRTIO_MMIO_CONFIG;
		if (!m->dv || !config_access_ok(m, coff, width, true))
			return;
		dm_virtio_config_write(m->dv, coff, width, val);
		return;
	}
	if (!control_access_ok(m, off, width, true, &acc))
		return;
	if (!m->dv)
		return; /* empty slot ignores writes */
	write_reg(m, off, val);
}
