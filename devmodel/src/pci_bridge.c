/* SPDX-License-Identifier: MIT */
/*
 * A PCI-to-PCI bridge function (devmodel/pci.h): the type 1 header's bus
 * numbers and windows (PCI-to-PCI Bridge Architecture 1.2, 3.2.5), kept in
 * the function's cfg bytes as software writes them, and the forwarding
 * decisions pci_host.c asks for.  No BARs, no expansion ROM, 16-bit I/O
 * addressing, 64-bit prefetchable addressing.
 */
#include "devmodel/pci.h"

#include <string.h>

#define BR_PRIMARY 0x18
#define BR_SECONDARY 0x19
#define BR_SUBORDINATE 0x1a
#define BR_IO_BASE 0x1c
#define BR_IO_LIMIT 0x1d
#define BR_MEM_BASE 0x20
#define BR_MEM_LIMIT 0x22
#define BR_PREF_BASE 0x24
#define BR_PREF_LIMIT 0x26
#define BR_PREF_BASE_HI 0x28
#define BR_PREF_LIMIT_HI 0x2c
#define BR_END 0x34 /* the capability pointer and on: the plain header's */

/* Which bits of each byte in 0x18..0x33 software may write. */
static uint8_t writable(const struct dm_pci_bridge *b, uint32_t o)
{
	switch (o) {
	case BR_PRIMARY: case BR_SECONDARY: case BR_SUBORDINATE:
		return b->bus_ro ? 0x00 : 0xff;
	case 0x1b: return 0xff;                       /* secondary latency timer */
	case BR_IO_BASE: case BR_IO_LIMIT: return 0xf0;
	case BR_MEM_BASE: case BR_MEM_LIMIT: case BR_PREF_BASE: case BR_PREF_LIMIT: return 0xf0;
	case BR_MEM_BASE + 1: case BR_MEM_LIMIT + 1: case BR_PREF_BASE + 1: case BR_PREF_LIMIT + 1:
		return 0xff;
	default:
		return o >= BR_PREF_BASE_HI && o < BR_PREF_LIMIT_HI + 4 ? 0xff : 0x00;
	}
}

static bool br_cfg_read(void *ctx, uint32_t off, unsigned width, uint32_t *val)
{
	const struct dm_pci_bridge *b = ctx;
	if (off < BR_PRIMARY || off + width > BR_END)
		return false;
	*val = 0;
	for (unsigned i = 0; i < width; i++)
		*val |= (uint32_t)b->fn.cfg[off + i] << (8 * i);
	return true;
}

static bool br_cfg_write(void *ctx, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_pci_bridge *b = ctx;
	if (off < BR_PRIMARY || off + width > BR_END)
		return false;
	for (unsigned i = 0; i < width; i++) {
		uint32_t o = off + i;
		uint8_t m = writable(b, o);
		b->fn.cfg[o] = (uint8_t)((b->fn.cfg[o] & ~m) | ((uint8_t)(val >> (8 * i)) & m));
	}
	return true;
}

static const struct dm_pci_fn_ops bridge_ops = {NULL, NULL, br_cfg_read, br_cfg_write};

void dm_pci_bridge_init(struct dm_pci_bridge *b, uint16_t device)
{
	memset(b, 0, sizeof *b);
	dm_pci_fn_init(&b->fn, DM_PCI_BRIDGE_VENDOR, device, 0x060400, 0);
	b->fn.cfg[0x0e] = 0x01;              /* header type 1 */
	b->fn.cfg[BR_PREF_BASE] = 0x01;      /* 64-bit prefetchable window */
	b->fn.cfg[BR_PREF_LIMIT] = 0x01;
	b->fn.cfg[0x3d] = 0x01;              /* INTA */
	b->fn.ops = &bridge_ops;
	b->fn.ctx = b;
	b->fn.bridge = b;
	dm_pci_host_init(&b->bus);
	dm_pci_changed();
}

uint8_t dm_pci_bridge_secondary(const struct dm_pci_bridge *b)
{
	return b->fn.cfg[BR_SECONDARY];
}

uint8_t dm_pci_bridge_subordinate(const struct dm_pci_bridge *b)
{
	return b->fn.cfg[BR_SUBORDINATE];
}

static uint32_t le(const struct dm_pci_bridge *b, uint32_t o, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)b->fn.cfg[o + i] << (8 * i);
	return v;
}

static bool inside(uint64_t base, uint64_t limit, uint64_t addr, unsigned width)
{
	return base <= limit && addr >= base && addr <= limit && width - 1 <= limit - addr;
}

bool dm_pci_bridge_forwards(const struct dm_pci_bridge *b, bool io, uint64_t addr, unsigned width,
                            bool *claimed)
{
	bool in;
	if (io) {
		uint64_t base = (uint64_t)(le(b, BR_IO_BASE, 1) & 0xf0u) << 8;
		uint64_t limit = (uint64_t)(le(b, BR_IO_LIMIT, 1) & 0xf0u) << 8 | 0xfffu;
		in = inside(base, limit, addr, width);
	} else {
		uint64_t base = (uint64_t)(le(b, BR_MEM_BASE, 2) & 0xfff0u) << 16;
		uint64_t limit = (uint64_t)(le(b, BR_MEM_LIMIT, 2) & 0xfff0u) << 16 | 0xfffffu;
		uint64_t pbase = (uint64_t)(le(b, BR_PREF_BASE, 2) & 0xfff0u) << 16 |
		                 (uint64_t)le(b, BR_PREF_BASE_HI, 4) << 32;
		uint64_t plimit = ((uint64_t)(le(b, BR_PREF_LIMIT, 2) & 0xfff0u) << 16 | 0xfffffu) |
		                  (uint64_t)le(b, BR_PREF_LIMIT_HI, 4) << 32;
		in = inside(base, limit, addr, width) || inside(pbase, plimit, addr, width);
	}
	bool on = (b->fn.command & (io ? DM_PCI_CMD_IO : DM_PCI_CMD_MEM)) != 0;
	*claimed = in && !on;
	return in && on;
}
