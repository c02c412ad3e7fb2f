/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci front end of the fuzz device: one function at
 * 00:FZ_PCI_DEV.0 on bus 0 (config space through ECAM or the 0xCF8/0xCFC
 * ports), BAR 0 the legacy I/O register block, BAR 1 the MSI-X table, BAR 4
 * (64-bit memory) the modern structures: common configuration at 0x0000,
 * ISR at 0x1000, device configuration at 0x2000, notify at 0x3000.  Honest
 * (a modern, transitional or legacy-only device) unless the input patches
 * config space or the BARs' sizing answers before the driver looks, or a
 * control byte makes one read lie.
 */
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/pci.h"

#define CAP_COMMON 0x40u
#define CAP_NOTIFY 0x50u
#define CAP_ISR 0x64u
#define CAP_DEVICE 0x74u
#define CAP_PCICFG 0x84u
#define CAP_MSIX 0x98u

#define OFF_COMMON 0x0000u
#define OFF_ISR 0x1000u
#define OFF_DEVICE 0x2000u
#define OFF_NOTIFY 0x3000u
#define BAR4_SIZE 0x4000u
#define NOTIFY_MULT 4u
#define MSIX_VECTORS 4u
#define LEGACY_IO_SIZE 0x40u

#define CF8 0xcf8u
#define CFC 0xcfcu

static void vcap(struct fz_pci *p, unsigned at, unsigned next, uint8_t type, uint8_t len,
                 uint32_t off, uint32_t size)
{
	p->cfg[at] = VLAB_PCI_CAP_ID_VNDR;
	p->cfg[at + 1] = (uint8_t)next;
	p->cfg[at + 2] = len;
	p->cfg[at + 3] = type;
	p->cfg[at + 4] = 4; /* BAR 4 */
	fz_st(p->cfg + at + 8, 4, off);
	fz_st(p->cfg + at + 12, 4, size);
}

void fz_pci_device(struct fz *f, enum fz_pci_kind kind, bool preassigned)
{
	struct fz_pci *p = &f->pci;
	bool modern = kind != FZ_PCI_LEGACY;
	bool legacy = kind != FZ_PCI_MODERN;
	/* Transitional device IDs (4.1.2.1): net 0x1000, blk 0x1001. */
	uint16_t tid = f->device_id == VIRTIO_ID_NET ? 0x1000 : 0x1001;

	memset(p, 0, sizeof *p);
	p->on = true;
	p->msix_config = VIRTIO_PCI_NO_VECTOR;
	fz_st(p->cfg + VLAB_PCI_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	fz_st(p->cfg + VLAB_PCI_DEVICE_ID, 2,
	      kind == FZ_PCI_MODERN ? VIRTIO_PCI_MODERN_FIRST + f->device_id : tid);
	p->cfg[VLAB_PCI_REVISION] = modern ? 1 : 0;
	fz_st(p->cfg + VLAB_PCI_CLASS_PROG, 3, f->device_id == VIRTIO_ID_NET ? 0x020000 : 0x010000);
	fz_st(p->cfg + VLAB_PCI_SUBSYS_VENDOR, 2, VIRTIO_PCI_VENDOR);
	fz_st(p->cfg + VLAB_PCI_SUBSYS_ID, 2, f->device_id);
	if (legacy)
		p->bar_mask[0] = ~(LEGACY_IO_SIZE - 1) | 1u;
	if (modern) {
		p->bar_mask[1] = ~0xfffu;                       /* MSI-X table, 32-bit */
		p->bar_mask[4] = ~(BAR4_SIZE - 1) | 0xcu;       /* 64-bit, prefetchable */
		p->bar_mask[5] = 0xffffffffu;
		fz_st(p->cfg + VLAB_PCI_STATUS, 2, VLAB_PCI_STATUS_CAP_LIST);
		p->cfg[VLAB_PCI_CAP_PTR] = CAP_COMMON;
		vcap(p, CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG, 16, OFF_COMMON, 0x38);
		vcap(p, CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, OFF_NOTIFY, 0x1000);
		fz_st(p->cfg + CAP_NOTIFY + 16, 4, NOTIFY_MULT);
		vcap(p, CAP_ISR, CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG, 16, OFF_ISR, 4);
		vcap(p, CAP_DEVICE, CAP_PCICFG, VIRTIO_PCI_CAP_DEVICE_CFG, 16, OFF_DEVICE, FZ_CONFIG_BYTES);
		vcap(p, CAP_PCICFG, CAP_MSIX, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 4);
		p->cfg[CAP_MSIX] = VLAB_PCI_CAP_ID_MSIX;
		fz_st(p->cfg + CAP_MSIX + 2, 2, MSIX_VECTORS - 1);
		fz_st(p->cfg + CAP_MSIX + 4, 4, 1);             /* table in BAR 1 at 0 */
		fz_st(p->cfg + CAP_MSIX + 8, 4, 0x800u | 1u);   /* PBA in BAR 1 at 0x800 */
	}
	if (preassigned) {
		/* Firmware placed the BARs (at the top of the windows). */
		fz_st(p->cfg + VLAB_PCI_BAR0, 4, legacy ? (FZ_PCI_IO_BASE + 0xf00u) | 1u : 0);
		fz_st(p->cfg + VLAB_PCI_BAR0 + 4, 4, modern ? (uint32_t)FZ_PCI_MEM_BASE + 0xf0000u : 0);
		fz_st(p->cfg + VLAB_PCI_BAR0 + 16, 4, modern ? ((uint32_t)FZ_PCI_MEM_BASE + 0xf8000u) | 0xcu : 0);
	}
	for (unsigned i = 0; i < FZ_QMAX; i++)
		f->q[i].notify_off = (uint16_t)i;
	fz_dev_reset(f);
}

void fz_pci_patch(struct fz *f, uint16_t where, uint8_t v)
{
	struct fz_pci *p = &f->pci;
	if (where < sizeof p->cfg)
		p->cfg[where] = v;
	else if (where - sizeof p->cfg < sizeof p->bar_mask)
		((uint8_t *)p->bar_mask)[where - sizeof p->cfg] = v; /* host order: little-endian hosts */
	else if (where - sizeof p->cfg - sizeof p->bar_mask < 2) {
		/* queue 0's queue_notify_off */
		unsigned sh = 8 * (where - sizeof p->cfg - sizeof p->bar_mask);
		f->q[0].notify_off = (uint16_t)((f->q[0].notify_off & ~(0xffu << sh)) | (unsigned)v << sh);
	}
}

void fz_pci_host(struct fz *f, struct vlab_pci_host *h, bool cfg_ports, bool pio_mmio)
{
	memset(h, 0, sizeof *h);
	h->plat = &f->plat;
	h->cfg_ports = cfg_ports;
	h->ecam_base = FZ_ECAM_BASE;
	h->ecam_buses = 1;
	h->mem_base = FZ_PCI_MEM_BASE;
	h->mem_size = FZ_PCI_MEM_SIZE;
	h->io_base = FZ_PCI_IO_BASE;
	h->io_size = 0x1000;
	h->pio_mmio = pio_mmio;
	h->pio_mmio_base = FZ_PIO_MMIO_BASE;
	h->ram_base = FZ_DMA_BASE;
	h->ram_size = FZ_ARENA;
}

/* ---- config space ---- */

static uint64_t bar_addr(const struct fz_pci *p, unsigned i)
{
	uint32_t lo = fz_ld(p->cfg + VLAB_PCI_BAR0 + 4 * i, 4);
	if (lo & 1u)
		return lo & ~3u;
	uint64_t a = lo & ~0xfu;
	if (((lo >> 1) & 3u) == 2 && i + 1 < 6)
		a |= (uint64_t)fz_ld(p->cfg + VLAB_PCI_BAR0 + 4 * (i + 1), 4) << 32;
	return a;
}

static uint32_t cfg_read(struct fz *f, unsigned bus, unsigned dev, unsigned fn, unsigned off,
                         unsigned width)
{
	if (fz_lie(f))
		return (uint32_t)fz_pay(f, width);
	if (bus != 0 || dev != FZ_PCI_DEV || fn != 0 || off + width > sizeof f->pci.cfg)
		return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1; /* nothing there */
	return fz_ld(f->pci.cfg + off, width);
}

static void cfg_write(struct fz *f, unsigned bus, unsigned dev, unsigned fn, unsigned off,
                      unsigned width, uint32_t v)
{
	struct fz_pci *p = &f->pci;

	if (bus != 0 || dev != FZ_PCI_DEV || fn != 0 || off + width > sizeof p->cfg)
		return;
	if (off >= VLAB_PCI_BAR0 && off < VLAB_PCI_BAR0 + 24 && width == 4 && off % 4 == 0) {
		/* A BAR: the address bits that stick, and its read-only type
		 * bits (none in the upper half of a 64-bit BAR). */
		unsigned i = (off - VLAB_PCI_BAR0) / 4;
		uint32_t m = p->bar_mask[i];
		bool upper = i > 0 && !(p->bar_mask[i - 1] & 1u) && ((p->bar_mask[i - 1] >> 1) & 3u) == 2;
		uint32_t ro = upper ? 0 : (m & 1u) ? 3u : 0xfu;
		fz_st(p->cfg + off, 4, (v & m & ~ro) | (m & ro));
		return;
	}
	/* Writable: the command register and MSI-X message control. */
	for (unsigned k = 0; k < width; k++) {
		unsigned o = off + k;
		if (o == VLAB_PCI_COMMAND || o == VLAB_PCI_COMMAND + 1 || o == CAP_MSIX + 3)
			p->cfg[o] = (uint8_t)(v >> (8 * k));
	}
}

/* ---- the modern structures (BAR 4) ---- */

static uint16_t num_queues(const struct fz *f)
{
	uint16_t n = 0;
	for (unsigned i = 0; i < FZ_QMAX; i++)
		if (f->q[i].max)
			n = (uint16_t)(i + 1);
	return n;
}

static uint32_t common_read(struct fz *f, uint32_t off)
{
	struct fz_queue *q = fz_selected(f);
	uint32_t sel = off >= VIRTIO_PCI_COMMON_GF ? f->gfsel : f->dfsel;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return f->dfsel;
	case VIRTIO_PCI_COMMON_DF: return sel < 2 ? (uint32_t)(f->features >> (32 * sel)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return f->gfsel;
	case VIRTIO_PCI_COMMON_GF: return sel < 2 ? (uint32_t)(f->driver_features >> (32 * sel)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return f->pci.msix_config;
	case VIRTIO_PCI_COMMON_NUMQ: return num_queues(f);
	case VIRTIO_PCI_COMMON_STATUS: return f->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return f->generation & 0xff;
	case VIRTIO_PCI_COMMON_Q_SELECT: return f->qsel;
	default: break;
	}
	if (!q)
		return 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: return q->num ? q->num : q->max;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q->msix;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q->ready;
	case VIRTIO_PCI_COMMON_Q_NOFF: return q->notify_off;
	case VIRTIO_PCI_COMMON_Q_DESCLO: return (uint32_t)q->desc;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return (uint32_t)(q->desc >> 32);
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return (uint32_t)q->avail;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return (uint32_t)(q->avail >> 32);
	case VIRTIO_PCI_COMMON_Q_USEDLO: return (uint32_t)q->used;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return (uint32_t)(q->used >> 32);
	default: return 0;
	}
}

static void common_write(struct fz *f, uint32_t off, uint32_t v)
{
	struct fz_queue *q = fz_selected(f);
	uint16_t vec = f->pci.msix_refuse || (v >= MSIX_VECTORS && v != VIRTIO_PCI_NO_VECTOR)
	                       ? (uint16_t)VIRTIO_PCI_NO_VECTOR : (uint16_t)v;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: f->dfsel = v; return;
	case VIRTIO_PCI_COMMON_GFSELECT: f->gfsel = v; return;
	case VIRTIO_PCI_COMMON_GF:
		if (f->gfsel < 2)
			fz_set_half(&f->driver_features, f->gfsel == 1, v);
		return;
	case VIRTIO_PCI_COMMON_MSIX: f->pci.msix_config = vec; return;
	case VIRTIO_PCI_COMMON_STATUS: fz_set_status(f, v); return;
	case VIRTIO_PCI_COMMON_Q_SELECT: f->qsel = v & 0xffff; return;
	default: break;
	}
	if (!q || !q->max)
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: q->num = v & 0xffff; break;
	case VIRTIO_PCI_COMMON_Q_MSIX: q->msix = vec; break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v & 1) {
			if (!q->num)
				q->num = q->max;
			q->ready = true;
			fz_queue_restart(f, q);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: fz_set_half(&q->desc, false, v); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: fz_set_half(&q->desc, true, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: fz_set_half(&q->avail, false, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: fz_set_half(&q->avail, true, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: fz_set_half(&q->used, false, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: fz_set_half(&q->used, true, v); break;
	default: break;
	}
}

static uint32_t config_bytes(struct fz *f, uint32_t off, unsigned width)
{
	return off + width <= FZ_CONFIG_BYTES ? fz_ld(f->config + off, width) : 0;
}

static uint32_t modern_read(struct fz *f, uint32_t off, unsigned width)
{
	uint32_t v;

	if (off < OFF_ISR)
		return common_read(f, off - OFF_COMMON) & (width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1);
	if (off < OFF_DEVICE) {
		v = f->isr; /* reading acknowledges (4.1.4.5) */
		f->isr = 0;
		return v;
	}
	if (off < OFF_NOTIFY)
		return config_bytes(f, off - OFF_DEVICE, width);
	return 0;
}

static void modern_write(struct fz *f, uint32_t off, uint32_t v)
{
	if (off < OFF_ISR)
		common_write(f, off - OFF_COMMON, v);
	else if (off >= OFF_NOTIFY)
		fz_notify(f, v); /* the queue index (4.1.4.4) */
}

/* ---- the legacy register block (BAR 0) ---- */

static uint32_t legacy_read(struct fz *f, uint32_t off, unsigned width)
{
	struct fz_queue *q = fz_selected(f);
	uint32_t cfg_at = (f->pci.cfg[CAP_MSIX + 3] & 0x80u) ? VIRTIO_PCI_LEGACY_CONFIG_MSIX
	                                                    : VIRTIO_PCI_LEGACY_CONFIG;
	uint32_t v;

	if (off >= cfg_at)
		return config_bytes(f, off - cfg_at, width);
	switch (off) {
	case VIRTIO_PCI_LEGACY_HOST_FEATURES: return (uint32_t)f->features;
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: return (uint32_t)f->driver_features;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN: return q ? q->pfn : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_NUM: return q ? q->max : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: return f->qsel;
	case VIRTIO_PCI_LEGACY_STATUS: return f->status;
	case VIRTIO_PCI_LEGACY_ISR:
		v = f->isr;
		f->isr = 0;
		return v;
	default: return 0;
	}
}

static void legacy_write(struct fz *f, uint32_t off, uint32_t v)
{
	struct fz_queue *q = fz_selected(f);

	switch (off) {
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: f->driver_features = v; break;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: f->qsel = v & 0xffff; break;
	case VIRTIO_PCI_LEGACY_QUEUE_NOTIFY: fz_notify(f, v & 0xffff); break;
	case VIRTIO_PCI_LEGACY_STATUS: fz_set_status(f, v); break;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN:
		if (q && q->max) {
			/* Fixed by the device: the size it last said (a lie it told
			 * included: the driver can only go by what it read). */
			q->num = q->told ? q->told : q->max;
			fz_queue_pfn(f, q, v, VIRTIO_PCI_LEGACY_ALIGN, VIRTIO_PCI_LEGACY_ALIGN);
		}
		break;
	default: break;
	}
}

/* ---- routing ---- */

static bool decodes(const struct fz_pci *p, uint16_t bit)
{
	return (fz_ld(p->cfg + VLAB_PCI_COMMAND, 2) & bit) != 0;
}

/* The I/O BAR: is port inside it?  Then *off. */
static bool in_io_bar(const struct fz_pci *p, uint32_t port, uint32_t *off)
{
	uint64_t a = bar_addr(p, 0);
	if (!(p->bar_mask[0] & 1u) || !decodes(p, VLAB_PCI_CMD_IO) || a == 0)
		return false;
	if (port < a || port - a >= LEGACY_IO_SIZE)
		return false;
	*off = (uint32_t)(port - a);
	return true;
}

uint32_t fz_pci_port_read(struct fz *f, uint32_t port, unsigned width)
{
	struct fz_pci *p = &f->pci;
	uint32_t off;

	if (port >= CFC && port < CFC + 4 && (p->cf8 & 0x80000000u))
		return cfg_read(f, (p->cf8 >> 16) & 0xff, (p->cf8 >> 11) & 31, (p->cf8 >> 8) & 7,
		                (p->cf8 & 0xfcu) + (port - CFC), width);
	if (p->on && in_io_bar(p, port, &off)) {
		uint32_t v = fz_lie(f) ? (uint32_t)fz_pay(f, width) : legacy_read(f, off, width);
		struct fz_queue *q = fz_selected(f);

		if (off == VIRTIO_PCI_LEGACY_QUEUE_NUM && width == 2 && q)
			q->told = v & 0xffffu; /* regressions/fuzz_net/legacy_queue_num_lied_twice */
		return v;
	}
	return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

void fz_pci_port_write(struct fz *f, uint32_t port, unsigned width, uint32_t v)
{
	struct fz_pci *p = &f->pci;
	uint32_t off;

	if (port == CF8 && width == 4)
		p->cf8 = v;
	else if (port >= CFC && port < CFC + 4 && (p->cf8 & 0x80000000u))
		cfg_write(f, (p->cf8 >> 16) & 0xff, (p->cf8 >> 11) & 31, (p->cf8 >> 8) & 7,
		          (p->cf8 & 0xfcu) + (port - CFC), width, v);
	else if (p->on && in_io_bar(p, port, &off))
		legacy_write(f, off, v);
}

bool fz_pci_mmio(struct fz *f, vlab_addr_t addr, unsigned width, bool write, uint32_t *val)
{
	struct fz_pci *p = &f->pci;

	if (addr >= FZ_ECAM_BASE && addr - FZ_ECAM_BASE < (1u << 20)) {
		uint32_t a = (uint32_t)(addr - FZ_ECAM_BASE);
		unsigned dev = (a >> 15) & 31, fn = (a >> 12) & 7, off = a & 0xfff;
		if (write)
			cfg_write(f, 0, dev, fn, off, width, *val);
		else
			*val = cfg_read(f, 0, dev, fn, off, width);
		return true;
	}
	if (addr >= FZ_PIO_MMIO_BASE && addr - FZ_PIO_MMIO_BASE < 0x10000u) {
		uint32_t port = (uint32_t)(addr - FZ_PIO_MMIO_BASE);
		if (write)
			fz_pci_port_write(f, port, width, *val);
		else
			*val = fz_pci_port_read(f, port, width);
		return true;
	}
	uint64_t b4 = bar_addr(p, 4);
	if ((p->bar_mask[4] & 0x7u) == 0x4u && decodes(p, VLAB_PCI_CMD_MEM) && b4 != 0 && addr >= b4 &&
	    addr - b4 < BAR4_SIZE) {
		uint32_t off = (uint32_t)(addr - b4);
		if (write)
			modern_write(f, off, *val);
		else
			*val = fz_lie(f) ? (uint32_t)fz_pay(f, width) : modern_read(f, off, width);
		return true;
	}
	return false; /* the MSI-X table, or nothing: reads from the payload */
}
