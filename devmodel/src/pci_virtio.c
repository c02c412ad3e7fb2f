/* SPDX-License-Identifier: MIT */
/*
 * The virtio PCI function (4.1): identity, the capability list (common,
 * notify, ISR, device, PCI-config-access, MSI-X), the modern structures in
 * BAR 4, the MSI-X table in BAR 1, the legacy register block in the I/O
 * BAR 0, and the checks of the driver's side of 4.1.  The device itself is
 * a dm_virtio (status, features, queues, config) shared with virtio-mmio.
 *
 * Three profiles as QEMU has them: legacy only (disable-modern: transitional
 * ID, I/O BAR, no virtio capabilities), transitional (both), modern only
 * (disable-legacy: ID 0x1040 + type, revision 1, no I/O BAR).  Quirks make
 * the function malformed in the ways a driver must survive.
 */
#include "devmodel/pci.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devmodel/spec.h"

/* Where the model starts its capability list (any offset >= 0x40 will do). */
#define CAP_FIRST 0x40

/* The MSI-X table and PBA in BAR 1 (the model's layout, as QEMU). */
#define MSIX_TABLE_OFF 0x000u
#define MSIX_PBA_OFF 0x800u
#define MSIX_BAR_SIZE 0x1000u
#define MSIX_MAX 64u

static void violation(struct dm_vpci *vp, const char *where, const char *req_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void violation(struct dm_vpci *vp, const char *where, const char *req_id, const char *fmt, ...)
{
	char detail[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	dm_virtio_violation_where(vp->dv, where, req_id, "%s", detail);
}

static void checked_num(struct dm_vpci *vp, unsigned num, const char *req_id)
{
	dm_virtio_checked_num(vp->dv, num, req_id);
}
#define checked(vp, req_id) checked_num((vp), DM_REQ_NUM(req_id), (req_id))

uint16_t dm_vpci_device_id(uint32_t type, enum dm_vpci_profile profile)
{
	if (profile == DM_VPCI_MODERN)
		return (uint16_t)(0x1040u + type);
	/* Transitional IDs (4.1.2.1). */
	switch (type) {
	case 1: return 0x1000; /* network */
	case 2: return 0x1001; /* block */
	case 5: return 0x1002; /* balloon */
	case 3: return 0x1003; /* console */
	case 8: return 0x1004; /* SCSI host */
	case 4: return 0x1005; /* entropy */
	case 9: return 0x1009; /* 9P */
	default: return (uint16_t)(0x1040u + type); /* no transitional ID */
	}
}

static uint32_t class_of(uint32_t type)
{
	switch (type) {
	case 1: return 0x020000; /* network controller, Ethernet */
	case 2: return 0x010000; /* mass storage, SCSI (as QEMU) */
	case 4: return 0x00ff00; /* QEMU's virtio-rng-pci: PCI_CLASS_OTHERS, 0x00ff (the cross-check) */
	default: return 0xff0000; /* unclassified, as QEMU's "other" */
	}
}

static uint32_t config_len(struct dm_vpci *vp)
{
	struct dm_virtio *dv = vp->dv;
	return dv->ops && dv->ops->config_len ? dv->ops->config_len(dv->dev) : 0;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

static const struct dm_pci_fn_ops vpci_ops_ref;

/* ---- config space layout ---- */

struct builder {
	struct dm_vpci *vp;
	uint8_t pos;       /* next free byte */
	uint8_t last_next; /* where the previous capability's next pointer is */
};

static void put8(struct dm_vpci *vp, unsigned off, uint8_t v)
{
	if (off < DM_PCI_CFG_BYTES)
		vp->fn.cfg[off] = v;
}

static void put16(struct dm_vpci *vp, unsigned off, uint16_t v)
{
	put8(vp, off, (uint8_t)v);
	put8(vp, off + 1, (uint8_t)(v >> 8));
}

static void put32(struct dm_vpci *vp, unsigned off, uint32_t v)
{
	put16(vp, off, (uint16_t)v);
	put16(vp, off + 2, (uint16_t)(v >> 16));
}

/* Start a capability of len bytes at b->pos and link it in. */
static uint8_t cap_begin(struct builder *b, uint8_t id, uint8_t len, uint8_t type)
{
	struct dm_vpci *vp = b->vp;
	uint8_t pos = b->pos;

	put8(vp, b->last_next, pos);
	put8(vp, pos, id);
	put8(vp, pos + 1, 0);
	b->last_next = (uint8_t)(pos + 1);
	b->pos = (uint8_t)((pos + len + 3) & ~3u);
	if (vp->ncaps < sizeof vp->caps / sizeof vp->caps[0]) {
		vp->caps[vp->ncaps].pos = pos;
		vp->caps[vp->ncaps].len = len;
		vp->caps[vp->ncaps].type = type;
		vp->ncaps++;
	}
	return pos;
}

static uint8_t vendor_cap(struct builder *b, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
                          uint8_t cap_len)
{
	if (b->vp->cfg.quirks & DM_VPCI_Q_LONG_CAPS)
		cap_len = (uint8_t)(cap_len + 8); /* DRV-4.1.4.1-3: longer than 4.1.4 defines */
	uint8_t pos = cap_begin(b, DM_VPCI_CAP_ID_VNDR, cap_len, type);
	put8(b->vp, pos + 2, cap_len);
	put8(b->vp, pos + 3, type);
	put8(b->vp, pos + 4, bar);
	put32(b->vp, pos + 8, off);
	put32(b->vp, pos + 12, len);
	return pos;
}

static void build(struct dm_vpci *vp)
{
	struct dm_virtio *dv = vp->dv;
	const uint32_t type = dv->ops ? dv->ops->device_id : 0;
	const enum dm_vpci_profile prof = vp->cfg.profile;
	const unsigned q = vp->cfg.quirks;
	struct dm_pci_fn *f = &vp->fn;
	uint16_t command = f->command;
	bool multi = f->multi;
	struct dm_pci_bar old[DM_PCI_BARS];

	memcpy(old, f->bar, sizeof old);
	dm_pci_fn_init(f, DM_VPCI_VENDOR, dm_vpci_device_id(type, prof), class_of(type),
	               (q & DM_VPCI_Q_REVISION) ? 0xa5 : prof == DM_VPCI_MODERN ? 1 : 0); /* DEV-4.1.2.1-5 */
	f->command = command;
	f->ops = &vpci_ops_ref;
	f->ctx = vp;
	f->multi = multi;
	/* Subsystem IDs: the virtio type for transitional devices (4.1.2.1),
	 * at least 0x40 otherwise (DEV-4.1.2.1-6; QEMU's 0x1100). */
	put16(vp, 0x2c, vp->cfg.subsys_vendor);
	put16(vp, 0x2e, prof == DM_VPCI_MODERN ? 0x1100 : (uint16_t)type);
	put8(vp, 0x3d, 1); /* INTA# */
	vp->ncaps = 0;
	vp->msix_pos = vp->pcicfg_pos = 0;

	vp->has_modern = prof != DM_VPCI_LEGACY;
	vp->notify_mult = (q & DM_VPCI_Q_NOTIFY_OVERFLOW) ? 0x80000000u : DM_VPCI_NOTIFY_MULT;
	vp->device_len = config_len(vp);
	vp->legacy_size = 0;
	if (prof != DM_VPCI_MODERN) {
		vp->legacy_size = pow2_at_least(DM_VPCI_LG_HDR_MSIX + vp->device_len);
		if (vp->legacy_size < 32)
			vp->legacy_size = 32;
		f->bar[DM_VPCI_LEGACY_BAR].kind = DM_PCI_BAR_IO;
		f->bar[DM_VPCI_LEGACY_BAR].size = vp->legacy_size;
	}
	if (vp->cfg.msix_vectors) {
		f->bar[DM_VPCI_MSIX_BAR].kind = DM_PCI_BAR_MEM32;
		f->bar[DM_VPCI_MSIX_BAR].size = MSIX_BAR_SIZE;
	}
	if (vp->has_modern) {
		f->bar[DM_VPCI_MODERN_BAR].kind = DM_PCI_BAR_MEM64;
		f->bar[DM_VPCI_MODERN_BAR].size = DM_VPCI_MODERN_BAR_SIZE;
		f->bar[DM_VPCI_MODERN_BAR].prefetch = true;
	}
	/* Keep addresses already programmed (a rebuild for new quirks). */
	for (unsigned i = 0; i < DM_PCI_BARS; i++)
		if (f->bar[i].kind == old[i].kind && f->bar[i].size == old[i].size)
			f->bar[i].addr = old[i].addr;

	struct builder b = {vp, CAP_FIRST, 0x34};
	if (vp->has_modern) {
		const uint8_t mb = DM_VPCI_MODERN_BAR;
		if (q & DM_VPCI_Q_UNKNOWN_CFG_TYPE)
			vendor_cap(&b, 0x42, mb, 0, 0x10, 16);
		if (q & DM_VPCI_Q_RESERVED_BAR)
			vendor_cap(&b, DM_VPCI_CFG_COMMON, 6, DM_VPCI_COMMON_OFF, DM_VPCI_CC_LEN, 16);
		/* The lengths are the regions', as QEMU 7.2 gives them (seen in
		 * the cross-check), not the structures' own sizes. */
		const uint32_t rs = DM_VPCI_REGION_SIZE;
		if (!(q & DM_VPCI_Q_NO_COMMON))
			vendor_cap(&b, DM_VPCI_CFG_COMMON, mb, DM_VPCI_COMMON_OFF, rs, 16);
		if (q & DM_VPCI_Q_BAR_SIZE_ZERO)
			vendor_cap(&b, DM_VPCI_CFG_ISR, 2, 0, 1, 16); /* BAR 2 is not implemented */
		else
			vendor_cap(&b, DM_VPCI_CFG_ISR, mb, DM_VPCI_ISR_OFF, rs, 16);
		if (q & DM_VPCI_Q_STRUCT_BEYOND_BAR)
			vendor_cap(&b, DM_VPCI_CFG_DEVICE, mb, DM_VPCI_MODERN_BAR_SIZE - 8, 0x100, 16);
		else if (vp->device_len || vp->dv->ops->device_id == 4)
			/* QEMU 7.2 maps the device region even for virtio-rng,
			 * which has no configuration (the cross-check). */
			vendor_cap(&b, DM_VPCI_CFG_DEVICE, mb, DM_VPCI_DEVICE_OFF,
			           (q & DM_VPCI_Q_SHORT_DEVICE_CFG) ? 8 : rs, 16);
		uint8_t n = vendor_cap(&b, DM_VPCI_CFG_NOTIFY, mb, DM_VPCI_NOTIFY_OFF, rs, 20);
		put32(vp, n + 16, vp->notify_mult);
		if (q & DM_VPCI_Q_SECOND_CAPS) {
			/* notify_off_multiplier 0 in the second notify capability. */
			static const uint8_t types[] = {DM_VPCI_CFG_COMMON, DM_VPCI_CFG_ISR, DM_VPCI_CFG_DEVICE,
			                                DM_VPCI_CFG_NOTIFY};
			for (unsigned i = 0; i < sizeof types; i++)
				vendor_cap(&b, types[i], mb, DM_VPCI_SECOND_OFF, 0x100,
				           types[i] == DM_VPCI_CFG_NOTIFY ? 20 : 16);
		}
		vp->pcicfg_pos = vendor_cap(&b, DM_VPCI_CFG_PCI, 0, 0, 0, 20);
	}
	if (vp->cfg.msix_vectors) {
		uint8_t m = cap_begin(&b, DM_VPCI_CAP_ID_MSIX, 12, 0);
		vp->msix_pos = m;
		/* Message control is dynamic (table size, enable, mask). */
		put32(vp, m + 4, MSIX_TABLE_OFF | DM_VPCI_MSIX_BAR);
		put32(vp, m + 8, MSIX_PBA_OFF | DM_VPCI_MSIX_BAR);
	}
	if (q & DM_VPCI_Q_CAP_OUTSIDE) {
		/* A vendor capability at 0xf8 whose 16 bytes run past 0x100. */
		put8(vp, b.last_next, 0xf8);
		put8(vp, 0xf8, DM_VPCI_CAP_ID_VNDR);
		put8(vp, 0xf9, 0);
		put8(vp, 0xfa, 16);
		put8(vp, 0xfb, DM_VPCI_CFG_DEVICE);
		put8(vp, 0xfc, DM_VPCI_MODERN_BAR);
	}
	if (q & DM_VPCI_Q_CAP_LOOP)
		put8(vp, b.last_next, CAP_FIRST);
	if (vp->ncaps)
		put16(vp, 0x06, 0x0010); /* status: capabilities list */
	else
		put8(vp, 0x34, 0);
	dm_pci_changed(); /* the BARs, command and ops were set directly above */
}

/* ---- DMA and interrupts through the function ---- */

static bool env_mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct dm_vpci *vp = ctx;
	if (!(vp->fn.command & DM_PCI_CMD_MASTER)) {
		if (vp->dma_blocked++ == 0)
			violation(vp, "pci", "MODEL-PCI-BUS-MASTER",
			          "device DMA read at 0x%llx with bus mastering disabled (command 0x%04x): refused",
			          (unsigned long long)addr, vp->fn.command);
		return false;
	}
	return vp->parent->mem_read(vp->parent->ctx, addr, buf, len);
}

static bool env_mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct dm_vpci *vp = ctx;
	if (!(vp->fn.command & DM_PCI_CMD_MASTER)) {
		if (vp->dma_blocked++ == 0)
			violation(vp, "pci", "MODEL-PCI-BUS-MASTER",
			          "device DMA write at 0x%llx with bus mastering disabled (command 0x%04x): refused",
			          (unsigned long long)addr, vp->fn.command);
		return false;
	}
	return vp->parent->mem_write(vp->parent->ctx, addr, buf, len);
}

static uint64_t env_now(void *ctx)
{
	struct dm_vpci *vp = ctx;
	return vp->parent->now_ns ? vp->parent->now_ns(vp->parent->ctx) : 0;
}

static void env_schedule(void *ctx, void (*fn)(void *arg), void *arg, const char *kind)
{
	struct dm_vpci *vp = ctx;
	if (vp->parent->schedule)
		vp->parent->schedule(vp->parent->ctx, fn, arg, kind);
	else
		fn(arg);
}

static void env_schedule_at(void *ctx, void (*fn)(void *arg), void *arg, uint64_t delay_ns)
{
	struct dm_vpci *vp = ctx;
	if (vp->parent->schedule_at)
		vp->parent->schedule_at(vp->parent->ctx, fn, arg, delay_ns);
}

static bool msix_enabled(const struct dm_vpci *vp)
{
	return vp->msix_pos && (vp->msix_control & 0x8000u);
}

static void env_irq(void *ctx, unsigned line, bool level)
{
	struct dm_vpci *vp = ctx;
	bool intx = level;

	if (msix_enabled(vp)) {
		/* A message instead of the line (not delivered anywhere: counted)
		 * to the vector of the event: the queue's for a used buffer
		 * notification, else the configuration vector; none when that
		 * is NO_VECTOR (DEV-4.1.5.3.1-1, DEV-4.1.5.4.1-1).  Each is an
		 * occasion for DRV-4.1.4.5.2-1 (no ISR read after it). */
		const int q = vp->dv->irq_queue;
		const uint16_t vec = q >= 0 && q < DM_MAX_QUEUES ? vp->qvector[q] : vp->config_vector;
		if (level && vec != DM_VPCI_NO_VECTOR) {
			vp->msix_messages++;
			dm_virtio_checked(vp->dv, "DRV-4.1.4.5.2-1");
		}
		intx = false;
	}
	if (vp->fn.command & DM_PCI_CMD_INTX_DISABLE)
		intx = false;
	vp->fn.intx = level;
	if (vp->parent->irq)
		vp->parent->irq(vp->parent->ctx, line, intx);
}

/* ---- the device's queues and vectors as PCI sees them ---- */

/* Queue i's registers as after a reset: its starting size, no vector,
 * disabled (a device reset, or a queue reset: DEV-2.6.1.1.1-2). */
static uint16_t queue_start_size(const struct dm_vpci *vp, unsigned i)
{
	const uint16_t start = vp->dv->queue_size[i] ? vp->dv->queue_size[i] : vp->dv->queue_num_max;
	return i < vp->dv->num_queues ? start : 0;
}

/* Queue i's size now: what the driver wrote, else its starting size. */
static uint16_t queue_size_now(const struct dm_vpci *vp, unsigned i)
{
	return vp->qsize_written[i] ? vp->qsize[i] : queue_start_size(vp, i);
}

static void pci_reset_queue(struct dm_vpci *vp, unsigned i)
{
	vp->qsize[i] = queue_start_size(vp, i);
	vp->qsize_written[i] = false;
	vp->qvector[i] = DM_VPCI_NO_VECTOR;
	vp->queue_enabled[i] = false;
}

static void pci_reset_state(struct dm_vpci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->queue_sel = 0;
	vp->config_vector = DM_VPCI_NO_VECTOR; /* DEV-4.1.5.1.2.1-7 */
	for (unsigned i = 0; i < DM_MAX_QUEUES; i++)
		pci_reset_queue(vp, i);
}

static void set_status(struct dm_vpci *vp, bool legacy, uint8_t val)
{
	struct dm_virtio *dv = vp->dv;
	/* A transitional device speaks whichever interface the driver uses. */
	if (vp->cfg.profile == DM_VPCI_TRANSITIONAL)
		dv->legacy = legacy;
	dm_virtio_set_status(dv, val);
	if (val == 0)
		pci_reset_state(vp);
}

static struct dm_vq *sel_vq(struct dm_vpci *vp)
{
	if (vp->queue_sel >= DM_MAX_QUEUES || vp->queue_sel >= vp->dv->num_queues)
		return NULL;
	return &vp->dv->vq[vp->queue_sel];
}

static uint16_t map_vector(struct dm_vpci *vp, const char *where, uint16_t v)
{
	if (v == DM_VPCI_NO_VECTOR)
		return v;
	checked(vp, "DRV-4.1.5.1.2.2-4");
	if (v >= vp->cfg.msix_vectors) {
		violation(vp, where, "DRV-4.1.5.1.2.2-4", "MSI-X vector %u beyond the table size %u", v,
		          vp->cfg.msix_vectors);
		return DM_VPCI_NO_VECTOR; /* DEV-4.1.5.1.2.1-9: the mapping fails */
	}
	if (vp->cfg.quirks & DM_VPCI_Q_MSIX_REFUSE)
		return DM_VPCI_NO_VECTOR;
	return v;
}

/* ---- common configuration ---- */

struct cc_field {
	uint8_t off, size;
	bool ro;
};

static const struct cc_field cc_fields[] = {
	{DM_VPCI_CC_DFSELECT, 4, false}, {DM_VPCI_CC_DF, 4, true},       {DM_VPCI_CC_GFSELECT, 4, false},
	{DM_VPCI_CC_GF, 4, false},       {DM_VPCI_CC_MSIX, 2, false},    {DM_VPCI_CC_NUMQ, 2, true},
	{DM_VPCI_CC_STATUS, 1, false},   {DM_VPCI_CC_CFGGEN, 1, true},   {DM_VPCI_CC_Q_SELECT, 2, false},
	{DM_VPCI_CC_Q_SIZE, 2, false},   {DM_VPCI_CC_Q_MSIX, 2, false},  {DM_VPCI_CC_Q_ENABLE, 2, false},
	{DM_VPCI_CC_Q_NOFF, 2, true},    {DM_VPCI_CC_Q_DESC, 8, false},  {DM_VPCI_CC_Q_AVAIL, 8, false},
	{DM_VPCI_CC_Q_USED, 8, false},   {DM_VPCI_CC_Q_NDATA, 2, true},  {DM_VPCI_CC_Q_RESET, 2, false},
};

static const struct cc_field *cc_field_at(uint32_t off)
{
	for (size_t i = 0; i < sizeof cc_fields / sizeof cc_fields[0]; i++)
		if (off >= cc_fields[i].off && off < (uint32_t)cc_fields[i].off + cc_fields[i].size)
			return &cc_fields[i];
	return NULL;
}

/* The place a violation at off is reported at: formatted only for a
 * violation, not on every access (issue 15). */
static const char *cc_where(char *buf, size_t n, uint32_t off)
{
	snprintf(buf, n, "common 0x%02x", off);
	return buf;
}

/* DRV-4.1.3.1-1: 8-bit fields 8-bit, 16-bit aligned 16-bit, 32- and 64-bit
 * fields aligned 32-bit (DRV-4.1.3.1-2: each half of a 64-bit field). */
static const struct cc_field *cc_access_ok(struct dm_vpci *vp, uint32_t off, unsigned width, bool write)
{
	char where[24];
	const struct cc_field *fd = cc_field_at(off);

	checked(vp, "DRV-4.1.3.1-1");
	if (!fd) {
		violation(vp, cc_where(where, sizeof where, off), "DRV-4.1.3.1-1",
		          "%s of %u bytes at 0x%02x: no field there", write ? "write" : "read", width, off);
		return NULL;
	}
	unsigned want = fd->size == 8 ? 4 : fd->size;
	if (width != want || (off - fd->off) % want != 0) {
		violation(vp, cc_where(where, sizeof where, off), "DRV-4.1.3.1-1",
		          "%u-byte %s at 0x%02x of a %u-byte field (must be %u-byte aligned)", width,
		          write ? "write" : "read", off, fd->size, want);
		return NULL;
	}
	if (write)
		checked(vp, "DRV-4.1.4.3.2-1");
	if (write && fd->ro) {
		violation(vp, cc_where(where, sizeof where, off), "DRV-4.1.4.3.2-1",
		          "write of read-only field at 0x%02x", off);
		return NULL;
	}
	return fd;
}

static uint32_t half(uint64_t v, uint32_t off, uint32_t base)
{
	return off == base ? (uint32_t)v : (uint32_t)(v >> 32);
}

static void set_half(uint64_t *v, uint32_t off, uint32_t base, uint32_t val)
{
	if (off == base)
		*v = (*v & ~0xffffffffull) | val;
	else
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
}

static uint16_t notify_off_of(struct dm_vpci *vp, uint16_t q)
{
	return (vp->cfg.quirks & DM_VPCI_Q_NOTIFY_OVERFLOW) ? (uint16_t)(q + 2) : q;
}

static uint32_t common_read(struct dm_vpci *vp, uint32_t off, unsigned width)
{
	struct dm_virtio *dv = vp->dv;
	const struct cc_field *fd = cc_access_ok(vp, off, width, false);
	struct dm_vq *vq;

	if (!fd)
		return 0;
	switch (fd->off) {
	case DM_VPCI_CC_DFSELECT: return vp->dfselect;
	case DM_VPCI_CC_DF: return vp->dfselect > 1 ? 0 : dm_virtio_get_host_features(dv, vp->dfselect);
	case DM_VPCI_CC_GFSELECT: return vp->gfselect;
	case DM_VPCI_CC_GF: return vp->gfselect > 1 ? 0 : (uint32_t)(dv->guest_features >> (32 * vp->gfselect));
	case DM_VPCI_CC_MSIX: return vp->config_vector;
	case DM_VPCI_CC_NUMQ: return dv->num_queues;
	case DM_VPCI_CC_STATUS: return dm_virtio_get_status(dv);
	case DM_VPCI_CC_CFGGEN: return dm_virtio_config_generation(dv) & 0xff;
	case DM_VPCI_CC_Q_SELECT: return vp->queue_sel;
	case DM_VPCI_CC_Q_SIZE: return sel_vq(vp) ? queue_size_now(vp, vp->queue_sel) : 0; /* DEV-4.1.4.3.1-14 */
	case DM_VPCI_CC_Q_MSIX: return sel_vq(vp) ? vp->qvector[vp->queue_sel] : DM_VPCI_NO_VECTOR;
	case DM_VPCI_CC_Q_ENABLE: return sel_vq(vp) && vp->queue_enabled[vp->queue_sel] ? 1 : 0;
	case DM_VPCI_CC_Q_NOFF: return sel_vq(vp) ? notify_off_of(vp, vp->queue_sel) : 0;
	case DM_VPCI_CC_Q_DESC: return (vq = sel_vq(vp)) ? half(vq->desc, off, DM_VPCI_CC_Q_DESC) : 0;
	case DM_VPCI_CC_Q_AVAIL: return (vq = sel_vq(vp)) ? half(vq->avail, off, DM_VPCI_CC_Q_AVAIL) : 0;
	case DM_VPCI_CC_Q_USED: return (vq = sel_vq(vp)) ? half(vq->used, off, DM_VPCI_CC_Q_USED) : 0;
	/* DEV-4.1.4.3.1-9/10/13: a queue reset completes at once, so
	 * queue_reset always reads 0; queue_notify_data: NOTIFICATION_DATA
	 * is never offered. */
	default: return 0;
	}
}

static void common_write(struct dm_vpci *vp, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_virtio *dv = vp->dv;
	const struct cc_field *fd = cc_access_ok(vp, off, width, true);
	struct dm_vq *vq;
	char where[24];

	if (!fd)
		return;
	snprintf(where, sizeof where, "common 0x%02x", off);
	switch (fd->off) {
	case DM_VPCI_CC_DFSELECT: vp->dfselect = val; return;
	case DM_VPCI_CC_GFSELECT: vp->gfselect = val; return;
	case DM_VPCI_CC_GF: dm_virtio_set_guest_features(dv, vp->gfselect, val); return;
	case DM_VPCI_CC_MSIX: vp->config_vector = map_vector(vp, where, (uint16_t)val); return;
	case DM_VPCI_CC_STATUS: set_status(vp, false, (uint8_t)val); return;
	case DM_VPCI_CC_Q_SELECT: vp->queue_sel = (uint16_t)val; return;
	case DM_VPCI_CC_Q_SIZE:
		if (!sel_vq(vp))
			return;
		checked(vp, "DRV-4.1.4.3.2-2");
		checked(vp, "DRV-4.1.4.3.2-3");
		if (val == 0) {
			violation(vp, where, "DRV-4.1.4.3.2-2", "queue %u: 0 written to queue_size", vp->queue_sel);
			return;
		}
		/* Powers of 2 only on a split ring (a packed ring's size is any). */
		if ((val & (val - 1)) && !dm_virtio_has(dv, DM_VIRTIO_F_RING_PACKED)) {
			violation(vp, where, "DRV-4.1.4.3.2-3", "queue %u: queue_size %u is not a power of 2",
			          vp->queue_sel, val);
			return;
		}
		if (val > dv->queue_num_max) {
			violation(vp, where, "DRV-4.1.4.3.2-3", "queue %u: queue_size %u above the maximum %u",
			          vp->queue_sel, val, dv->queue_num_max);
			return;
		}
		vp->qsize[vp->queue_sel] = (uint16_t)val;
		vp->qsize_written[vp->queue_sel] = true;
		return;
	case DM_VPCI_CC_Q_MSIX:
		if (sel_vq(vp))
			vp->qvector[vp->queue_sel] = map_vector(vp, where, (uint16_t)val);
		return;
	case DM_VPCI_CC_Q_ENABLE:
		if (!(vq = sel_vq(vp)))
			return;
		checked(vp, "DRV-4.1.4.3.2-6");
		if (val == 0) {
			violation(vp, where, "DRV-4.1.4.3.2-6", "queue %u: 0 written to queue_enable",
			          vp->queue_sel);
			return;
		}
		if (vp->queue_enabled[vp->queue_sel])
			return;
		checked(vp, "DRV-4.1.4.3.2-4");
		if (vq->desc == 0 || vq->avail == 0 || vq->used == 0)
			violation(vp, where, "DRV-4.1.4.3.2-4",
			          "queue %u enabled before its ring addresses were programmed", vp->queue_sel);
		vp->queue_enabled[vp->queue_sel] = true;
		vq->num = queue_size_now(vp, vp->queue_sel);
		dm_virtio_queue_enable(dv, vp->queue_sel);
		return;
	case DM_VPCI_CC_Q_DESC:
		if ((vq = sel_vq(vp)))
			set_half(&vq->desc, off, DM_VPCI_CC_Q_DESC, val);
		return;
	case DM_VPCI_CC_Q_AVAIL:
		if ((vq = sel_vq(vp)))
			set_half(&vq->avail, off, DM_VPCI_CC_Q_AVAIL, val);
		return;
	case DM_VPCI_CC_Q_USED:
		if ((vq = sel_vq(vp)))
			set_half(&vq->used, off, DM_VPCI_CC_Q_USED, val);
		return;
	case DM_VPCI_CC_Q_RESET:
		/* DEV-4.1.4.3.1-11: writing 1 resets the selected queue (QEMU
		 * 7.2 offers RING_RESET on PCI); done at once, every queue
		 * register back to its default (DEV-2.6.1.1.1-2).  The field
		 * exists only once RING_RESET is negotiated. */
		if ((val & 1) && dm_virtio_has(dv, DM_VIRTIO_F_RING_RESET) && (vq = sel_vq(vp))) {
			dm_vq_reset(vq);
			pci_reset_queue(vp, vp->queue_sel);
		}
		return;
	default:
		return;
	}
}

/* ---- the other modern structures ---- */

static uint32_t isr_read_clear(struct dm_vpci *vp)
{
	/* DRV-4.1.4.5.2-1 (SHOULD NOT): with MSI-X enabled the vector says
	 * which interrupt it is; the driver has no reason to read ISR. */
	if (msix_enabled(vp)) {
		dm_virtio_checked(vp->dv, "DRV-4.1.4.5.2-1");
		dm_virtio_violation_where(vp->dv, "isr", "DRV-4.1.4.5.2-1",
		                          "ISR status read with MSI-X enabled");
	}
	/* DEV-4.1.4.5.1-5: reading ISR status clears it. */
	uint32_t v = dm_virtio_isr_read(vp->dv);
	dm_virtio_isr_ack(vp->dv, v);
	return v;
}

static void notify_write(struct dm_vpci *vp, uint64_t off, unsigned width, uint32_t val)
{
	/* Queue by address, as QEMU decodes it; the value is the queue index
	 * without VIRTIO_F_NOTIFICATION_DATA. */
	uint16_t q = (uint16_t)val;
	if (width != 2 && width != 4)
		return;
	vp->notifies++;
	vp->last_notify_off = off;
	if (vp->notify_mult != 0 && !(vp->cfg.quirks & DM_VPCI_Q_NOTIFY_OVERFLOW)) {
		uint64_t byaddr = off / vp->notify_mult;
		if (byaddr != q) {
			violation(vp, "notify", "MODEL-PCI-NOTIFY-ADDR",
			          "notification for queue %u written at the address of queue %llu", q,
			          (unsigned long long)byaddr);
			return;
		}
	}
	dm_virtio_notify(vp->dv, q);
}

static uint32_t modern_read(struct dm_vpci *vp, uint64_t off, unsigned width)
{
	vp->modern_accesses++;
	if (off < DM_VPCI_COMMON_OFF + DM_VPCI_CC_LEN)
		return common_read(vp, (uint32_t)off, width);
	/* QEMU's ISR region answers (and clears) at any offset of its 4 KiB. */
	if (off >= DM_VPCI_ISR_OFF && off < DM_VPCI_ISR_OFF + DM_VPCI_REGION_SIZE)
		return isr_read_clear(vp);
	if (off >= DM_VPCI_DEVICE_OFF && off < DM_VPCI_DEVICE_OFF + DM_VPCI_REGION_SIZE) {
		uint32_t coff = (uint32_t)(off - DM_VPCI_DEVICE_OFF);
		checked(vp, "DRV-4.1.3.1-1");
		if (off % width != 0) {
			violation(vp, "device cfg", "DRV-4.1.3.1-1", "unaligned %u-byte read at 0x%x", width, coff);
			return 0;
		}
		return dm_virtio_config_read(vp->dv, coff, width);
	}
	return 0;
}

static void modern_write(struct dm_vpci *vp, uint64_t off, unsigned width, uint32_t val)
{
	vp->modern_accesses++;
	if (off < DM_VPCI_COMMON_OFF + DM_VPCI_CC_LEN) {
		common_write(vp, (uint32_t)off, width, val);
	} else if (off >= DM_VPCI_DEVICE_OFF && off < DM_VPCI_DEVICE_OFF + DM_VPCI_REGION_SIZE) {
		uint32_t coff = (uint32_t)(off - DM_VPCI_DEVICE_OFF);
		checked(vp, "DRV-4.1.3.1-1");
		if (off % width != 0) {
			violation(vp, "device cfg", "DRV-4.1.3.1-1", "unaligned %u-byte write at 0x%x", width, coff);
			return;
		}
		dm_virtio_config_write(vp->dv, coff, width, val);
	} else if (off >= DM_VPCI_NOTIFY_OFF && off < DM_VPCI_NOTIFY_OFF + DM_VPCI_REGION_SIZE) {
		notify_write(vp, off - DM_VPCI_NOTIFY_OFF, width, val);
	}
}

/* ---- legacy register block ---- */

static uint32_t legacy_cfg_off(const struct dm_vpci *vp)
{
	return msix_enabled(vp) ? DM_VPCI_LG_HDR_MSIX : DM_VPCI_LG_HDR;
}

static void legacy_pfn(struct dm_vpci *vp, uint32_t pfn)
{
	struct dm_vq *vq = sel_vq(vp);
	if (!vq)
		return;
	if (pfn == 0) {
		vq->legacy_pfn = 0;
		vp->queue_enabled[vp->queue_sel] = false;
		dm_virtio_queue_disable(vp->dv, vp->queue_sel);
		return;
	}
	/* Legacy layout (2.7 legacy interfaces): one block at PFN * 4096,
	 * the used ring aligned to 4096. */
	uint64_t n = queue_size_now(vp, vp->queue_sel);
	vq->num = (uint16_t)n;
	vq->legacy_pfn = pfn;
	vq->legacy_align = DM_VPCI_LEGACY_PAGE;
	vq->desc = (uint64_t)pfn * DM_VPCI_LEGACY_PAGE;
	vq->avail = vq->desc + 16 * n;
	vq->used = (vq->avail + 6 + 2 * n + DM_VPCI_LEGACY_PAGE - 1) & ~(uint64_t)(DM_VPCI_LEGACY_PAGE - 1);
	vp->queue_enabled[vp->queue_sel] = true;
	dm_virtio_queue_enable(vp->dv, vp->queue_sel);
}

static uint32_t legacy_read(struct dm_vpci *vp, uint32_t off, unsigned width)
{
	struct dm_virtio *dv = vp->dv;
	uint32_t cfg = legacy_cfg_off(vp);
	struct dm_vq *vq;

	vp->legacy_accesses++;
	if (off >= cfg)
		return dm_virtio_config_read(dv, off - cfg, width);
	switch (off) {
	case DM_VPCI_LG_HOST_F: return dm_virtio_get_host_features(dv, 0);
	case DM_VPCI_LG_GUEST_F: return (uint32_t)dv->guest_features;
	case DM_VPCI_LG_Q_PFN: return (vq = sel_vq(vp)) ? vq->legacy_pfn : 0;
	case DM_VPCI_LG_Q_NUM: return sel_vq(vp) ? queue_size_now(vp, vp->queue_sel) : 0;
	case DM_VPCI_LG_Q_SEL: return vp->queue_sel;
	case DM_VPCI_LG_STATUS: return dm_virtio_get_status(dv);
	case DM_VPCI_LG_ISR: return isr_read_clear(vp);
	case DM_VPCI_LG_CFG_MSIX: return vp->config_vector;
	case DM_VPCI_LG_Q_MSIX: return sel_vq(vp) ? vp->qvector[vp->queue_sel] : DM_VPCI_NO_VECTOR;
	default: return 0;
	}
}

static void legacy_write(struct dm_vpci *vp, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_virtio *dv = vp->dv;
	uint32_t cfg = legacy_cfg_off(vp);

	vp->legacy_accesses++;
	if (off >= cfg) {
		dm_virtio_config_write(dv, off - cfg, width, val);
		return;
	}
	switch (off) {
	case DM_VPCI_LG_GUEST_F:
		dm_virtio_set_guest_features(dv, 0, val);
		return;
	case DM_VPCI_LG_Q_PFN:
		legacy_pfn(vp, val);
		return;
	case DM_VPCI_LG_Q_SEL:
		vp->queue_sel = (uint16_t)val;
		return;
	case DM_VPCI_LG_Q_NOTIFY:
		vp->notifies++;
		dm_virtio_notify(dv, (uint16_t)val);
		return;
	case DM_VPCI_LG_STATUS:
		set_status(vp, true, (uint8_t)val);
		return;
	case DM_VPCI_LG_CFG_MSIX:
		if (msix_enabled(vp))
			vp->config_vector = map_vector(vp, "legacy", (uint16_t)val);
		return;
	case DM_VPCI_LG_Q_MSIX:
		if (msix_enabled(vp) && sel_vq(vp))
			vp->qvector[vp->queue_sel] = map_vector(vp, "legacy", (uint16_t)val);
		return;
	default:
		return; /* read-only registers ignore writes */
	}
}

/* ---- MSI-X table ---- */

static uint32_t msix_read(struct dm_vpci *vp, uint64_t off, unsigned width)
{
	uint32_t v = 0;
	uint64_t tbl = (uint64_t)vp->cfg.msix_vectors * 16;
	if (off < tbl) {
		for (unsigned i = 0; i < width && off + i < tbl; i++)
			v |= (uint32_t)vp->msix_table[off + i] << (8 * i);
	}
	return v; /* the PBA: nothing pending */
}

static void msix_write(struct dm_vpci *vp, uint64_t off, unsigned width, uint32_t val)
{
	uint64_t tbl = (uint64_t)vp->cfg.msix_vectors * 16;
	for (unsigned i = 0; i < width && off + i < tbl; i++)
		vp->msix_table[off + i] = (uint8_t)(val >> (8 * i));
}

/* ---- BAR dispatch ---- */

static uint32_t vpci_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned width)
{
	struct dm_vpci *vp = ctx;
	if (bar == DM_VPCI_LEGACY_BAR && vp->legacy_size)
		return legacy_read(vp, (uint32_t)off, width);
	if (bar == DM_VPCI_MSIX_BAR && vp->cfg.msix_vectors)
		return msix_read(vp, off, width);
	if (bar == DM_VPCI_MODERN_BAR && vp->has_modern)
		return modern_read(vp, off, width);
	return 0;
}

static void vpci_bar_write(void *ctx, unsigned bar, uint64_t off, unsigned width, uint32_t val)
{
	struct dm_vpci *vp = ctx;
	if (bar == DM_VPCI_LEGACY_BAR && vp->legacy_size)
		legacy_write(vp, (uint32_t)off, width, val);
	else if (bar == DM_VPCI_MSIX_BAR && vp->cfg.msix_vectors)
		msix_write(vp, off, width, val);
	else if (bar == DM_VPCI_MODERN_BAR && vp->has_modern)
		modern_write(vp, off, width, val);
}

/* ---- capability registers with behaviour ---- */

static uint32_t cfg32(const struct dm_vpci *vp, unsigned off)
{
	const uint8_t *c = vp->fn.cfg;
	return (uint32_t)c[off] | ((uint32_t)c[off + 1] << 8) | ((uint32_t)c[off + 2] << 16) |
	       ((uint32_t)c[off + 3] << 24);
}

/* The BAR range one of the other virtio capabilities describes holds
 * [off, off+len) of bar? (DRV-4.1.4.9.2-2) */
static bool in_described_range(struct dm_vpci *vp, uint8_t bar, uint32_t off, uint32_t len)
{
	for (unsigned i = 0; i < vp->ncaps; i++) {
		const struct dm_vpci_cap *c = &vp->caps[i];
		if (c->type == 0 || c->type == DM_VPCI_CFG_PCI)
			continue;
		uint32_t coff = cfg32(vp, c->pos + 8u), clen = cfg32(vp, c->pos + 12u);
		if (vp->fn.cfg[c->pos + 4] == bar && off >= coff && (uint64_t)off + len <= (uint64_t)coff + clen)
			return true;
	}
	return false;
}

/* cap.bar, cap.offset, cap.length of the PCI-config-access capability, as
 * the driver wrote them. */
static bool pcicfg_access_ok(struct dm_vpci *vp, uint8_t *bar, uint32_t *off, uint32_t *len)
{
	uint8_t p = vp->pcicfg_pos;
	*bar = vp->fn.cfg[p + 4];
	*off = cfg32(vp, p + 8u);
	*len = cfg32(vp, p + 12u);
	checked(vp, "DRV-4.1.4.9.2-1");
	if ((*len != 1 && *len != 2 && *len != 4) || *off % *len != 0) {
		violation(vp, "pci_cfg", "DRV-4.1.4.9.2-1",
		          "pci_cfg_data access with cap.offset 0x%x and cap.length %u", *off, *len);
		return false;
	}
	checked(vp, "DRV-4.1.4.9.2-2");
	if (!in_described_range(vp, *bar, *off, *len)) {
		violation(vp, "pci_cfg", "DRV-4.1.4.9.2-2",
		          "pci_cfg_data access to BAR %u 0x%x+%u outside every structure", *bar, *off, *len);
		return false;
	}
	return true;
}

static const struct dm_vpci_cap *cap_at(struct dm_vpci *vp, uint32_t off)
{
	for (unsigned i = 0; i < vp->ncaps; i++)
		if (off >= vp->caps[i].pos && off < (uint32_t)vp->caps[i].pos + vp->caps[i].len)
			return &vp->caps[i];
	return NULL;
}

static uint16_t msix_control_read(const struct dm_vpci *vp)
{
	return (uint16_t)((vp->msix_control & 0xc000u) | ((vp->cfg.msix_vectors - 1u) & 0x7ffu));
}

static bool vpci_cfg_read(void *ctx, uint32_t off, unsigned width, uint32_t *val)
{
	struct dm_vpci *vp = ctx;
	uint8_t p = vp->pcicfg_pos, m = vp->msix_pos;

	if (off < CAP_FIRST)
		return false; /* the header is the host's */
	if (p && off >= p + 16u && off < p + 20u) {
		uint8_t bar;
		uint32_t boff, blen;
		*val = 0;
		if (pcicfg_access_ok(vp, &bar, &boff, &blen))
			*val = vpci_bar_read(vp, bar, boff, (unsigned)blen);
		return true;
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		uint32_t o = off + i;
		uint8_t byte = o < DM_PCI_CFG_BYTES ? vp->fn.cfg[o] : 0;
		if (m && o == m + 2u)
			byte = (uint8_t)msix_control_read(vp);
		else if (m && o == m + 3u)
			byte = (uint8_t)(msix_control_read(vp) >> 8);
		v |= (uint32_t)byte << (8 * i);
	}
	*val = v;
	return true;
}

static bool vpci_cfg_write(void *ctx, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_vpci *vp = ctx;
	uint8_t p = vp->pcicfg_pos, m = vp->msix_pos;
	bool bad = false;

	/* DRV-4.1.4.1-8: every config write is looked at (below). */
	checked(vp, "DRV-4.1.4.1-8");
	if (off < CAP_FIRST)
		return false;
	if (p && off >= p + 16u && off < p + 20u) {
		uint8_t bar;
		uint32_t boff, blen;
		if (pcicfg_access_ok(vp, &bar, &boff, &blen))
			vpci_bar_write(vp, bar, boff, (unsigned)blen, val);
		return true;
	}
	for (unsigned i = 0; i < width; i++) {
		uint32_t o = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i));
		if (o >= DM_PCI_CFG_BYTES)
			break;
		if (m && o == m + 3u) {
			/* Message control: enable (15) and function mask (14). */
			vp->msix_control = (uint16_t)(((uint16_t)byte << 8) & 0xc000u);
		} else if (m && o == m + 2u) {
			/* Table size bits are read-only. */
		} else if (p && (o == p + 4u || (o >= p + 8u && o < p + 16u))) {
			vp->fn.cfg[o] = byte; /* cap.bar, cap.offset, cap.length */
		} else {
			const struct dm_vpci_cap *c = cap_at(vp, o);
			if (c && c->type != 0)
				bad = true;
		}
	}
	if (bad || (p && off >= p && off < p + 4u)) {
		violation(vp, "pci cfg", "DRV-4.1.4.1-8",
		          "%u-byte write of 0x%x at 0x%02x: a virtio capability field", width, val, off);
	}
	return true; /* the rest of the capability area is read-only */
}

static const struct dm_pci_fn_ops vpci_ops_ref = {
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.cfg_read = vpci_cfg_read,
	.cfg_write = vpci_cfg_write,
};

void dm_vpci_init(struct dm_vpci *vp, const struct dm_vpci_cfg *cfg, struct dm_virtio *dv)
{
	memset(vp, 0, sizeof *vp);
	if (cfg)
		vp->cfg = *cfg;
	else
		vp->cfg.profile = DM_VPCI_TRANSITIONAL;
	if (vp->cfg.subsys_vendor == 0)
		vp->cfg.subsys_vendor = DM_VPCI_VENDOR;
	if (vp->cfg.msix_vectors == 0)
		vp->cfg.msix_vectors = dv->msix_vectors ? dv->msix_vectors
		                                        : (uint16_t)(dv->num_queues + 1); /* as QEMU: queues + config */
	if (vp->cfg.msix_vectors > MSIX_MAX)
		vp->cfg.msix_vectors = MSIX_MAX;
	vp->dv = dv;
	dv->legacy = vp->cfg.profile == DM_VPCI_LEGACY;
	/* A legacy-only interface shows 32 feature bits (no VERSION_1). */
	if (dv->legacy)
		dv->host_features &= 0xffffffffull;

	vp->parent = dv->env;
	if (vp->parent) {
		vp->env = *vp->parent;
		vp->env.ctx = vp;
		vp->env.mem_read = env_mem_read;
		vp->env.mem_write = env_mem_write;
		vp->env.now_ns = env_now;
		vp->env.schedule = env_schedule;
		vp->env.schedule_at = env_schedule_at;
		vp->env.irq = env_irq;
		dv->env = &vp->env;
	}
	build(vp);
	for (unsigned i = 0; i < vp->cfg.msix_vectors; i++)
		vp->msix_table[i * 16 + 12] = 1; /* vector control: masked */
	pci_reset_state(vp);
}

void dm_vpci_set_quirks(struct dm_vpci *vp, unsigned quirks)
{
	vp->cfg.quirks = quirks;
	memset(vp->fn.cfg, 0, sizeof vp->fn.cfg);
	build(vp);
	pci_reset_state(vp);
}

void dm_vpci_fini(struct dm_vpci *vp)
{
	if (vp->dv && vp->parent && vp->dv->env == &vp->env)
		vp->dv->env = vp->parent;
}
