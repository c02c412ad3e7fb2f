/* SPDX-License-Identifier: MIT */
/*
 * The PCI host model: bus 0 with up to 32 devices of up to 8 functions
 * (and the buses behind PCI-to-PCI bridges, pci_bridge.c),
 * configuration space through ECAM and through the 0xCF8/0xCFC ports, and
 * BAR decoding with each function's command register honoured (an access to
 * a BAR whose decoding is off is not answered: reads all-ones).
 *
 * BARs behave as the PCI spec says: writing all-ones and reading back gives
 * the size mask; a memory BAR keeps its type and prefetch bits, an I/O BAR
 * bit 0; an unimplemented BAR reads 0 whatever is written.
 */
#include "devmodel/pci.h"

#include <string.h>

static uint32_t ones(unsigned width)
{
	return width >= 4 ? 0xffffffffu : (uint32_t)((1u << (8 * width)) - 1);
}

void dm_pci_fn_init(struct dm_pci_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
                    uint8_t revision)
{
	memset(f, 0, sizeof *f);
	f->cfg[0x00] = (uint8_t)vendor;
	f->cfg[0x01] = (uint8_t)(vendor >> 8);
	f->cfg[0x02] = (uint8_t)device;
	f->cfg[0x03] = (uint8_t)(device >> 8);
	f->cfg[0x08] = revision;
	f->cfg[0x09] = (uint8_t)class_code;         /* programming interface */
	f->cfg[0x0a] = (uint8_t)(class_code >> 8);  /* sub-class */
	f->cfg[0x0b] = (uint8_t)(class_code >> 16); /* base class */
	dm_pci_changed();
}

uint64_t dm_pci_bar_addr(const struct dm_pci_fn *f, unsigned i)
{
	if (i >= DM_PCI_BARS || f->bar[i].kind == DM_PCI_BAR_NONE)
		return 0;
	return f->bar[i].addr;
}

/* The dword of BAR register i (0..5) as read. */
static uint32_t bar_reg_read(const struct dm_pci_fn *f, unsigned i)
{
	const struct dm_pci_bar *b = &f->bar[i];

	if (b->kind == DM_PCI_BAR_NONE) {
		/* The upper half of a 64-bit BAR below? */
		if (i > 0 && f->bar[i - 1].kind == DM_PCI_BAR_MEM64)
			return (uint32_t)(f->bar[i - 1].addr >> 32);
		return 0;
	}
	switch (b->kind) {
	case DM_PCI_BAR_IO:
		return (uint32_t)b->addr | 0x1u;
	case DM_PCI_BAR_MEM32:
		return (uint32_t)b->addr | (b->prefetch ? 0x8u : 0);
	default:
		return (uint32_t)b->addr | 0x4u | (b->prefetch ? 0x8u : 0);
	}
}

static void bar_reg_write(struct dm_pci_fn *f, unsigned i, uint32_t val)
{
	struct dm_pci_bar *b = &f->bar[i];

	if (b->kind == DM_PCI_BAR_NONE) {
		if (i > 0 && f->bar[i - 1].kind == DM_PCI_BAR_MEM64) {
			struct dm_pci_bar *lo = &f->bar[i - 1];
			lo->addr = ((lo->addr & 0xffffffffull) | ((uint64_t)val << 32)) & ~(lo->size - 1);
		}
		return;
	}
	uint64_t mask = ~(b->size - 1);
	switch (b->kind) {
	case DM_PCI_BAR_IO:
		b->addr = (uint64_t)(val & ~0x3u) & mask & 0xffffffffull;
		break;
	case DM_PCI_BAR_MEM32:
		b->addr = (uint64_t)(val & ~0xfu) & mask & 0xffffffffull;
		break;
	default:
		b->addr = ((b->addr & ~0xffffffffull) | (val & ~0xfu)) & mask;
		break;
	}
}

/* One dword of the header (off a multiple of 4, < 0x40). */
static uint32_t header_dword(const struct dm_pci_fn *f, uint32_t off)
{
	uint32_t v = (uint32_t)f->cfg[off] | ((uint32_t)f->cfg[off + 1] << 8) |
	    ((uint32_t)f->cfg[off + 2] << 16) | ((uint32_t)f->cfg[off + 3] << 24);
	switch (off) {
	case 0x04: {
		uint32_t status = (uint32_t)f->cfg[0x06] | ((uint32_t)f->cfg[0x07] << 8);
		if (f->intx)
			status |= 0x0008u; /* Interrupt Status (DEV-4.1.4.5.1-4: the ISR bits' OR) */
		return f->command | (status << 16);
	}
	case 0x0c:
		if (f->multi)
			v |= 0x80u << 16; /* header type bit 7: multi-function */
		return v;
	case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24:
		return bar_reg_read(f, (off - 0x10) / 4);
	case 0x30:
		return 0; /* no expansion ROM */
	default:
		return v;
	}
}

uint32_t dm_pci_fn_cfg_read(struct dm_pci_fn *f, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	if ((width != 1 && width != 2 && width != 4) || off >= 4096 || width > 4096 - off)
		return ones(width ? width : 4);
	if (f->ops && f->ops->cfg_read && f->ops->cfg_read(f->ctx, off, width, &v))
		return v & ones(width);
	if (off >= DM_PCI_CFG_BYTES)
		return 0; /* no extended capabilities */
	/* Byte by byte from dwords, so unaligned accesses read sensibly. */
	for (unsigned i = 0; i < width; i++) {
		uint32_t o = off + i;
		uint32_t dw = o < 0x40 ? header_dword(f, o & ~3u)
		                       : ((o & ~3u) + 3 < DM_PCI_CFG_BYTES
		                              ? (uint32_t)f->cfg[o & ~3u] | ((uint32_t)f->cfg[(o & ~3u) + 1] << 8) |
		                                    ((uint32_t)f->cfg[(o & ~3u) + 2] << 16) |
		                                    ((uint32_t)f->cfg[(o & ~3u) + 3] << 24)
		                              : 0);
		v |= ((dw >> (8 * (o & 3))) & 0xffu) << (8 * i);
	}
	return v;
}

void dm_pci_fn_cfg_write(struct dm_pci_fn *f, uint32_t off, unsigned width, uint32_t val)
{
	if ((width != 1 && width != 2 && width != 4) || off >= 4096 || width > 4096 - off)
		return;
	dm_pci_changed(); /* any write: a BAR, the command register, a bridge window */
	if (f->ops && f->ops->cfg_write && f->ops->cfg_write(f->ctx, off, width, val))
		return;
	if (off >= 0x40)
		return; /* capabilities without a hook are read-only */
	for (unsigned i = 0; i < width; i++) {
		uint32_t o = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i));
		if (o == 0x04) {
			f->command = (uint16_t)((f->command & 0xff00u) | (byte & 0x07u));
		} else if (o == 0x05) {
			f->command = (uint16_t)((f->command & 0x00ffu) | ((uint16_t)(byte & 0x04u) << 8));
		} else if (o >= 0x10 && o < 0x28) {
			/* BARs are written as whole dwords in practice; assemble
			 * a partial write with the current value. */
			unsigned bi = (o - 0x10) / 4;
			uint32_t cur = bar_reg_read(f, bi);
			unsigned sh = 8 * (o & 3);
			cur = (cur & ~(0xffu << sh)) | ((uint32_t)byte << sh);
			bar_reg_write(f, bi, cur);
		} else if (o == 0x3c) {
			f->cfg[0x3c] = byte; /* interrupt line: scratch for software */
		}
		/* Everything else in the header is read-only here. */
	}
}

/* ---- the host ---- */

static uint64_t pci_gen = 1; /* 0 marks an empty hit entry */

void dm_pci_changed(void)
{
	__atomic_add_fetch(&pci_gen, 1, __ATOMIC_RELAXED);
}

uint64_t dm_pci_generation(void)
{
	return __atomic_load_n(&pci_gen, __ATOMIC_RELAXED);
}

void dm_pci_host_init(struct dm_pci_host *h)
{
	memset(h, 0, sizeof *h);
}

static void update_multi(struct dm_pci_host *h, unsigned dev)
{
	bool others = false;
	for (unsigned fn = 1; fn < DM_PCI_FNS; fn++)
		others = others || h->fn[dev][fn] != NULL;
	if (h->fn[dev][0])
		h->fn[dev][0]->multi = others;
}

/* present[] again from fn[][], in the order decode must try them; a
 * device without function 0 does not answer at all. */
static void update_present(struct dm_pci_host *h)
{
	h->npresent = 0;
	for (unsigned d = 0; d < DM_PCI_DEVS; d++)
		for (unsigned fn = 0; fn < DM_PCI_FNS && h->fn[d][0]; fn++)
			if (h->fn[d][fn])
				h->present[h->npresent++] = h->fn[d][fn];
}

int dm_pci_host_add(struct dm_pci_host *h, unsigned dev, unsigned fn, struct dm_pci_fn *f)
{
	if (dev >= DM_PCI_DEVS || fn >= DM_PCI_FNS || !f || h->fn[dev][fn])
		return -1;
	h->fn[dev][fn] = f;
	update_multi(h, dev);
	update_present(h);
	dm_pci_changed();
	return 0;
}

void dm_pci_host_remove(struct dm_pci_host *h, struct dm_pci_fn *f)
{
	for (unsigned d = 0; d < DM_PCI_DEVS; d++)
		for (unsigned fn = 0; fn < DM_PCI_FNS; fn++)
			if (h->fn[d][fn] == f) {
				h->fn[d][fn] = NULL;
				update_multi(h, d);
			}
	update_present(h);
	dm_pci_changed();
}

/* The function at bus:dev.fn seen from host h, which is bus `self`: its
 * own table, or through a bridge whose [secondary, subordinate] holds the
 * bus (the buses form a tree: the recursion ends at its leaves). */
static struct dm_pci_fn *lookup(struct dm_pci_host *h, unsigned self, unsigned bus, unsigned dev,
                                unsigned fn)
{
	if (dev >= DM_PCI_DEVS || fn >= DM_PCI_FNS)
		return NULL;
	if (bus == self) {
		/* A device without function 0 does not exist (PCI 3.0, 6.1). */
		if (!h->fn[dev][0])
			return NULL;
		return h->fn[dev][fn];
	}
	for (unsigned d = 0; d < DM_PCI_DEVS; d++)
		for (unsigned f = 0; f < DM_PCI_FNS && h->fn[d][0]; f++) {
			struct dm_pci_bridge *b = h->fn[d][f] ? h->fn[d][f]->bridge : NULL;
			if (b && dm_pci_bridge_secondary(b) != self && dm_pci_bridge_secondary(b) <= bus &&
			    bus <= dm_pci_bridge_subordinate(b))
				return lookup(&b->bus, dm_pci_bridge_secondary(b), bus, dev, fn);
		}
	return NULL;
}

uint32_t dm_pci_cfg_read(struct dm_pci_host *h, unsigned bus, unsigned dev, unsigned fn,
                         uint32_t off, unsigned width)
{
	struct dm_pci_fn *f = lookup(h, 0, bus, dev, fn);
	if (!f)
		return ones(width);
	return dm_pci_fn_cfg_read(f, off, width);
}

void dm_pci_cfg_write(struct dm_pci_host *h, unsigned bus, unsigned dev, unsigned fn, uint32_t off,
                      unsigned width, uint32_t val)
{
	struct dm_pci_fn *f = lookup(h, 0, bus, dev, fn);
	if (f)
		dm_pci_fn_cfg_write(f, off, width, val);
}

uint32_t dm_pci_ecam_read(struct dm_pci_host *h, uint64_t off, unsigned width)
{
	return dm_pci_cfg_read(h, (unsigned)(off >> 20) & 0xff, (unsigned)(off >> 15) & 0x1f,
	                       (unsigned)(off >> 12) & 7, (uint32_t)(off & 0xfff), width);
}

void dm_pci_ecam_write(struct dm_pci_host *h, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_cfg_write(h, (unsigned)(off >> 20) & 0xff, (unsigned)(off >> 15) & 0x1f,
	                 (unsigned)(off >> 12) & 7, (uint32_t)(off & 0xfff), width, val);
}

/* CONFIG_ADDRESS: enable (31), bus (23:16), device (15:11), function
 * (10:8), register (7:2).  Only a 32-bit access to 0xCF8 is the address
 * register; CONFIG_DATA is 0xCFC..0xCFF. */
uint32_t dm_pci_port_read(struct dm_pci_host *h, uint32_t off, unsigned width)
{
	if (off == 0 && width == 4)
		return h->cf8;
	if (off < 4 || !(h->cf8 & 0x80000000u))
		return ones(width);
	uint32_t reg = (h->cf8 & 0xfcu) + (off - 4);
	return dm_pci_cfg_read(h, (h->cf8 >> 16) & 0xff, (h->cf8 >> 11) & 0x1f, (h->cf8 >> 8) & 7,
	                       reg, width);
}

void dm_pci_port_write(struct dm_pci_host *h, uint32_t off, unsigned width, uint32_t val)
{
	if (off == 0 && width == 4) {
		h->cf8 = val & 0x80fffffcu;
		return;
	}
	if (off < 4 || !(h->cf8 & 0x80000000u))
		return;
	uint32_t reg = (h->cf8 & 0xfcu) + (off - 4);
	dm_pci_cfg_write(h, (h->cf8 >> 16) & 0xff, (h->cf8 >> 11) & 0x1f, (h->cf8 >> 8) & 7, reg,
	                 width, val);
}

/* Which function and BAR holds [addr, addr+width) in I/O (io) or memory
 * space?  *blocked is set when a BAR holds it but decoding is off. */
static struct dm_pci_fn *decode(struct dm_pci_host *h, bool io, uint64_t addr, unsigned width,
                                unsigned *bar, uint64_t *off, bool *blocked)
{
	*blocked = false;
	for (unsigned k = 0; k < h->npresent; k++) {
		struct dm_pci_fn *f = h->present[k];
		bool claimed = false;
		if (f->bridge && dm_pci_bridge_forwards(f->bridge, io, addr, width, &claimed))
			return decode(&f->bridge->bus, io, addr, width, bar, off, blocked);
		*blocked |= claimed;
		for (unsigned i = 0; i < DM_PCI_BARS; i++) {
			const struct dm_pci_bar *b = &f->bar[i];
			if (b->kind == DM_PCI_BAR_NONE || b->size == 0 || (b->kind == DM_PCI_BAR_IO) != io)
				continue;
			if (addr < b->addr || addr - b->addr >= b->size || width > b->size - (addr - b->addr))
				continue;
			if (!(f->command & (io ? DM_PCI_CMD_IO : DM_PCI_CMD_MEM))) {
				if (io)
					f->blocked_io++;
				else
					f->blocked_mem++;
				*blocked = true;
				continue;
			}
			*bar = i;
			*off = addr - b->addr;
			return f;
		}
	}
	return NULL;
}

/* decode, answered from h->hit for an access decoded before in this
 * generation: the same inputs on the same state give the same function,
 * BAR and offset.  Only a plain hit is kept: an access nobody answered or
 * one a function with decoding off saw (its blocked_* count) decodes
 * afresh every time. */
static struct dm_pci_fn *decode_remembered(struct dm_pci_host *h, bool io, uint64_t addr, unsigned width,
                                           unsigned *bar, uint64_t *off)
{
	const uint64_t gen = dm_pci_generation();
	for (unsigned i = 0; i < sizeof h->hit / sizeof h->hit[0]; i++) {
		const struct dm_pci_hit *e = &h->hit[i];
		if (e->gen == gen && e->addr == addr && e->width == width && e->io == io) {
			*bar = e->bar;
			*off = e->off;
			return e->f;
		}
	}
	bool blocked;
	struct dm_pci_fn *f = decode(h, io, addr, width, bar, off, &blocked);
	if (f && !blocked) {
		struct dm_pci_hit *e = &h->hit[h->hit_next++ % (sizeof h->hit / sizeof h->hit[0])];
		*e = (struct dm_pci_hit){addr, *off, gen, f, (uint8_t)*bar, (uint8_t)width, io};
	}
	return f;
}

static uint32_t space_read(struct dm_pci_host *h, bool io, uint64_t addr, unsigned width)
{
	unsigned bar;
	uint64_t off;
	struct dm_pci_fn *f = decode_remembered(h, io, addr, width, &bar, &off);
	if (!f || !f->ops || !f->ops->bar_read) {
		h->unclaimed++;
		return ones(width);
	}
	return f->ops->bar_read(f->ctx, bar, off, width) & ones(width);
}

static void space_write(struct dm_pci_host *h, bool io, uint64_t addr, unsigned width, uint32_t val)
{
	unsigned bar;
	uint64_t off;
	struct dm_pci_fn *f = decode_remembered(h, io, addr, width, &bar, &off);
	if (!f || !f->ops || !f->ops->bar_write) {
		h->unclaimed++;
		return;
	}
	f->ops->bar_write(f->ctx, bar, off, width, val & ones(width));
}

uint32_t dm_pci_io_read(struct dm_pci_host *h, uint64_t port, unsigned width)
{
	return space_read(h, true, port, width);
}

void dm_pci_io_write(struct dm_pci_host *h, uint64_t port, unsigned width, uint32_t val)
{
	space_write(h, true, port, width, val);
}

uint32_t dm_pci_mem_read(struct dm_pci_host *h, uint64_t addr, unsigned width)
{
	return space_read(h, false, addr, width);
}

void dm_pci_mem_write(struct dm_pci_host *h, uint64_t addr, unsigned width, uint32_t val)
{
	space_write(h, false, addr, width, val);
}
