/* SPDX-License-Identifier: MIT */
/*
 * Address-space dispatch: disjoint regions, each with read/write ops that
 * see the offset from the region's base.  An access no region holds
 * entirely reads as all-ones (what an unclaimed bus cycle returns on real
 * hardware) and is counted as stray.  Used for MMIO and for port I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"

void hx_bus_fini(struct hx_bus *b)
{
	free(b->r);
	memset(b, 0, sizeof *b);
}

/* Last region with base <= addr, or NULL. */
static struct hx_region *floor_region(struct hx_bus *b, uint64_t addr, size_t *pos)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return lo ? &b->r[lo - 1] : NULL;
}

/* Regions are [base, base + size - 1]; comparing last bytes keeps a region
 * that ends at the top of the address space representable. */
static uint64_t last_byte(uint64_t base, uint64_t size)
{
	return base + (size - 1);
}

int hx_bus_map(struct hx_bus *b, uint64_t base, uint64_t size, const struct hx_mmio_ops *ops, void *ctx)
{
	if (size == 0 || !ops || last_byte(base, size) < base)
		return -1;
	size_t pos;
	struct hx_region *prev = floor_region(b, base, &pos);
	if (prev && last_byte(prev->base, prev->size) >= base)
		return -1;
	if (pos < b->n && b->r[pos].base <= last_byte(base, size))
		return -1;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct hx_region *r = realloc(b->r, cap * sizeof *r);
		if (!r)
			return -1;
		b->r = r;
		b->cap = cap;
	}
	memmove(&b->r[pos + 1], &b->r[pos], (b->n - pos) * sizeof *b->r);
	b->r[pos].base = base;
	b->r[pos].size = size;
	b->r[pos].ops = ops;
	b->r[pos].ctx = ctx;
	b->n++;
	return 0;
}

/* The region holding [addr, addr + width), or NULL.  The region of the
 * last access first (a driver works one device's registers at a time):
 * regions are disjoint, so one that holds addr is the one the search would
 * find, whatever was mapped since. */
static struct hx_region *find(struct hx_bus *b, uint64_t addr, unsigned width)
{
	struct hx_region *r = b->last < b->n ? &b->r[b->last] : NULL;
	if (!r || addr < r->base || addr - r->base >= r->size) {
		r = floor_region(b, addr, NULL);
		if (!r)
			return NULL;
		b->last = (size_t)(r - b->r);
	}
	uint64_t off = addr - r->base;
	if (off >= r->size || width > r->size - off)
		return NULL;
	return r;
}

static uint32_t ones(unsigned width)
{
	return width >= 4 ? 0xffffffffu : (uint32_t)((1ull << (8 * width)) - 1);
}

uint32_t hx_bus_read(struct hx_bus *b, uint64_t addr, unsigned width)
{
	struct hx_region *r = find(b, addr, width);
	if (!r || !r->ops->read) {
		b->stray++;
		return ones(width);
	}
	return r->ops->read(r->ctx, addr - r->base, width) & ones(width);
}

void hx_bus_write(struct hx_bus *b, uint64_t addr, unsigned width, uint32_t val)
{
	struct hx_region *r = find(b, addr, width);
	if (!r || !r->ops->write) {
		b->stray++;
		return;
	}
	r->ops->write(r->ctx, addr - r->base, width, val & ones(width));
}
