/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration access (ECAM or the 0xCF8/0xCFC ports), enumeration of
 * buses, devices and functions, BAR sizing and assignment, and BAR access.
 * Everything read from config space is the device's word: sizes are
 * derived so that a nonsensical mask cannot make an allocation overflow,
 * and every loop has a fixed bound.
 */
#include "vlab/pci.h"

#define CF8_ADDR 0xcf8u
#define CF8_DATA 0xcfcu

static bool width_ok(uint32_t off, unsigned width)
{
	return (width == 1 || width == 2 || width == 4) && off % width == 0;
}

static unsigned buses(const struct vlab_pci_host *h)
{
	if (h->cfg_ports)
		return 256;
	if (h->ecam_buses == 0)
		return 1;
	return h->ecam_buses > 256 ? 256 : h->ecam_buses;
}

static uint32_t ones(unsigned width)
{
	return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

uint32_t vlab_pci_cfg_read(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                           uint16_t off, unsigned width)
{
	const struct vlab_platform *p = h->plat;

	if (!width_ok(off, width) || dev >= 32 || fn >= 8 || bus >= buses(h))
		return ones(width);
	if (h->cfg_ports) {
		if (off >= VLAB_PCI_CFG_SIZE)
			return ones(width);
		uint32_t a = 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
		             (uint32_t)fn << 8 | (off & 0xfcu);
		vlab_plat_pio_write32(p, CF8_ADDR, a);
		switch (width) {
		case 1: return vlab_plat_pio_read8(p, CF8_DATA + (off & 3u));
		case 2: return vlab_plat_pio_read16(p, CF8_DATA + (off & 3u));
		default: return vlab_plat_pio_read32(p, CF8_DATA);
		}
	}
	if (off >= 4096)
		return ones(width);
	vlab_addr_t a = h->ecam_base + ((uint64_t)bus << 20 | (uint64_t)dev << 15 | (uint64_t)fn << 12 | off);
	switch (width) {
	case 1: return vlab_plat_read8(p, a);
	case 2: return vlab_plat_read16(p, a);
	default: return vlab_plat_read32(p, a);
	}
}

void vlab_pci_cfg_write(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                        uint16_t off, unsigned width, uint32_t val)
{
	const struct vlab_platform *p = h->plat;

	if (!width_ok(off, width) || dev >= 32 || fn >= 8 || bus >= buses(h))
		return;
	if (h->cfg_ports) {
		if (off >= VLAB_PCI_CFG_SIZE)
			return;
		uint32_t a = 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
		             (uint32_t)fn << 8 | (off & 0xfcu);
		vlab_plat_pio_write32(p, CF8_ADDR, a);
		switch (width) {
		case 1: vlab_plat_pio_write8(p, CF8_DATA + (off & 3u), (uint8_t)val); break;
		case 2: vlab_plat_pio_write16(p, CF8_DATA + (off & 3u), (uint16_t)val); break;
		default: vlab_plat_pio_write32(p, CF8_DATA, val); break;
		}
		return;
	}
	if (off >= 4096)
		return;
	vlab_addr_t a = h->ecam_base + ((uint64_t)bus << 20 | (uint64_t)dev << 15 | (uint64_t)fn << 12 | off);
	switch (width) {
	case 1: vlab_plat_write8(p, a, (uint8_t)val); break;
	case 2: vlab_plat_write16(p, a, (uint16_t)val); break;
	default: vlab_plat_write32(p, a, val); break;
	}
}

static bool host_ok(const struct vlab_pci_host *h)
{
	if (!h || !h->plat || !h->plat->ops)
		return false;
	const struct vlab_platform_ops *o = h->plat->ops;
	if (h->cfg_ports && (!o->pio_read32 || !o->pio_write32 || !o->pio_read8 || !o->pio_read16))
		return false;
	return true;
}

static void read_func(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                      struct vlab_pci_func *f)
{
	uint32_t id = vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_VENDOR_ID, 4);
	uint32_t cr = vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_REVISION, 4);
	uint32_t ss = vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_SUBSYS_VENDOR, 4);

	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	f->revision = (uint8_t)cr;
	f->class_code = cr >> 8;
	f->header_type = (uint8_t)(vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_HEADER_TYPE, 1) &
	                           ~VLAB_PCI_HEADER_MULTI);
	f->subsys_vendor = (uint16_t)ss;
	f->subsys_id = (uint16_t)(ss >> 16);
}

static bool present(uint16_t vendor)
{
	return vendor != 0xffff && vendor != 0x0000;
}

int vlab_pci_enumerate(const struct vlab_pci_host *h, vlab_pci_visit_fn visit, void *ctx)
{
	if (!host_ok(h) || !visit)
		return VLAB_EINVAL;
	/* Bridges are not configured: with ECAM every bus the window covers
	 * is walked; firmware that numbered bridges made them reachable. */
	unsigned nb = h->cfg_ports ? 1 : buses(h);
	for (unsigned bus = 0; bus < nb; bus++) {
		for (uint8_t dev = 0; dev < 32; dev++) {
			uint16_t v0 = (uint16_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, 0, VLAB_PCI_VENDOR_ID, 2);
			if (!present(v0))
				continue; /* no function 0: no device (PCI 3.0, 6.1) */
			uint8_t ht = (uint8_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, 0, VLAB_PCI_HEADER_TYPE, 1);
			uint8_t nfn = (ht & VLAB_PCI_HEADER_MULTI) ? 8 : 1;
			for (uint8_t fn = 0; fn < nfn; fn++) {
				struct vlab_pci_func f;
				if (fn > 0 &&
				    !present((uint16_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, fn, VLAB_PCI_VENDOR_ID, 2)))
					continue;
				read_func(h, (uint8_t)bus, dev, fn, &f);
				if (!present(f.vendor))
					continue; /* vanished between two reads */
				int rc = visit(ctx, &f);
				if (rc != 0)
					return rc;
			}
		}
	}
	return VLAB_OK;
}

/* ---- BARs ---- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Take size bytes, aligned to size, from [base, base+len) after *used. */
static int alloc(uint64_t base, uint64_t len, uint64_t *used, uint64_t size, uint64_t *addr)
{
	if (size == 0 || len == 0)
		return VLAB_ENOMEM;
	uint64_t start = base + *used;
	if (start < base)
		return VLAB_ENOMEM;
	uint64_t a = align_up(start, size);
	if (a < start || a - base > len || size > len - (a - base))
		return VLAB_ENOMEM;
	*addr = a;
	*used = a - base + size;
	return VLAB_OK;
}

int vlab_pci_setup_function(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                            struct vlab_pci_bar bars[VLAB_PCI_NBARS])
{
	if (!host_ok(h) || !bars)
		return VLAB_EINVAL;
	vlab_memset(bars, 0, sizeof(struct vlab_pci_bar) * VLAB_PCI_NBARS);

	uint8_t ht = (uint8_t)vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_HEADER_TYPE, 1);
	if ((ht & ~VLAB_PCI_HEADER_MULTI) != 0)
		return VLAB_ENOTSUP; /* bridges and CardBus: not ours */

	/* Decoding off while the BARs hold sizing patterns. */
	uint16_t cmd = (uint16_t)vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_COMMAND, 2);
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2,
	                   cmd & (uint16_t)~(VLAB_PCI_CMD_IO | VLAB_PCI_CMD_MEM));

	bool any_io = false, any_mem = false;
	int rc = VLAB_OK;
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		uint16_t reg = (uint16_t)(VLAB_PCI_BAR0 + 4 * i);
		uint32_t orig = vlab_pci_cfg_read(h, bus, dev, fn, reg, 4);
		vlab_pci_cfg_write(h, bus, dev, fn, reg, 4, 0xffffffffu);
		uint32_t mask = vlab_pci_cfg_read(h, bus, dev, fn, reg, 4);
		vlab_pci_cfg_write(h, bus, dev, fn, reg, 4, orig);
		struct vlab_pci_bar *b = &bars[i];

		if (mask == 0)
			continue; /* not implemented */
		if (mask & 1u) {
			/* I/O: the size is the lowest address bit that sticks. */
			uint32_t m = mask & ~3u;
			b->io = true;
			b->size = m & (~m + 1u);
			b->addr = orig & ~3u;
		} else {
			uint32_t type = (mask >> 1) & 3u;
			uint64_t m = mask & ~0xfull;
			if (type != 2 && m == 0)
				continue; /* no address bit sticks */
			uint64_t cur = orig & ~0xfull;
			if (type == 2) {
				if (i + 1 >= VLAB_PCI_NBARS) {
					rc = VLAB_EPROTO; /* a 64-bit BAR in the last slot */
					break;
				}
				uint16_t hreg = (uint16_t)(reg + 4);
				uint32_t horig = vlab_pci_cfg_read(h, bus, dev, fn, hreg, 4);
				vlab_pci_cfg_write(h, bus, dev, fn, hreg, 4, 0xffffffffu);
				uint32_t hmask = vlab_pci_cfg_read(h, bus, dev, fn, hreg, 4);
				vlab_pci_cfg_write(h, bus, dev, fn, hreg, 4, horig);
				m |= (uint64_t)hmask << 32;
				cur |= (uint64_t)horig << 32;
				b->mem64 = true;
			} else {
				m |= 0xffffffff00000000ull; /* a 32-bit BAR: above bit 31 fixed */
			}
			b->size = m & (~m + 1u);
			b->addr = cur;
		}
		if (b->size == 0) {
			b->io = b->mem64 = false;
			continue; /* no address bit sticks: nothing usable */
		}
		if (b->addr == 0) {
			/* Unassigned (bare metal on QEMU's virt machines): place it. */
			uint64_t a;
			if (b->io) {
				uint64_t used = h->io_used;
				rc = alloc(h->io_base, h->io_size, &used, b->size, &a);
				if (rc == 0)
					h->io_used = (uint32_t)used;
			} else {
				rc = alloc(h->mem_base, h->mem_size, &h->mem_used, b->size, &a);
				if (rc == 0 && !b->mem64 && a + b->size - 1 > 0xffffffffull)
					rc = VLAB_ENOMEM; /* a 32-bit BAR above 4 GiB */
			}
			if (rc != 0) {
				vlab_log(h->plat, VLAB_LOG_ERROR,
				         "pci %02x:%02x.%x: no room for BAR %u (%llu bytes, %s)", bus, dev, fn, i,
				         (unsigned long long)b->size, b->io ? "I/O" : "memory");
				break;
			}
			b->addr = a;
			vlab_pci_cfg_write(h, bus, dev, fn, reg, 4,
			                   (uint32_t)a | (b->io ? 1u : (mask & 0xfu)));
			if (b->mem64)
				vlab_pci_cfg_write(h, bus, dev, fn, (uint16_t)(reg + 4), 4, (uint32_t)(a >> 32));
		}
		if (b->io)
			any_io = true;
		else
			any_mem = true;
		if (b->mem64)
			i++; /* the upper half was this BAR's */
	}
	if (rc != 0) {
		vlab_memset(bars, 0, sizeof(struct vlab_pci_bar) * VLAB_PCI_NBARS);
		return rc;
	}
	cmd |= VLAB_PCI_CMD_MASTER;
	if (any_io)
		cmd |= VLAB_PCI_CMD_IO;
	if (any_mem)
		cmd |= VLAB_PCI_CMD_MEM;
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2, cmd);
	return VLAB_OK;
}

uint32_t vlab_pci_bar_read(const struct vlab_pci_host *h, const struct vlab_pci_bar *b, uint64_t off,
                           unsigned width)
{
	const struct vlab_platform *p = h->plat;
	if (b->io && !h->pio_mmio) {
		uint32_t port = (uint32_t)(b->addr + off);
		switch (width) {
		case 1: return vlab_plat_pio_read8(p, port);
		case 2: return vlab_plat_pio_read16(p, port);
		default: return vlab_plat_pio_read32(p, port);
		}
	}
	vlab_addr_t a = (b->io ? h->pio_mmio_base : 0) + b->addr + off;
	switch (width) {
	case 1: return vlab_plat_read8(p, a);
	case 2: return vlab_plat_read16(p, a);
	default: return vlab_plat_read32(p, a);
	}
}

void vlab_pci_bar_write(const struct vlab_pci_host *h, const struct vlab_pci_bar *b, uint64_t off,
                        unsigned width, uint32_t val)
{
	const struct vlab_platform *p = h->plat;
	if (b->io && !h->pio_mmio) {
		uint32_t port = (uint32_t)(b->addr + off);
		switch (width) {
		case 1: vlab_plat_pio_write8(p, port, (uint8_t)val); break;
		case 2: vlab_plat_pio_write16(p, port, (uint16_t)val); break;
		default: vlab_plat_pio_write32(p, port, val); break;
		}
		return;
	}
	vlab_addr_t a = (b->io ? h->pio_mmio_base : 0) + b->addr + off;
	switch (width) {
	case 1: vlab_plat_write8(p, a, (uint8_t)val); break;
	case 2: vlab_plat_write16(p, a, (uint16_t)val); break;
	default: vlab_plat_write32(p, a, val); break;
	}
}
