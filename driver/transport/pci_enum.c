/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration access (ECAM or the 0xCF8/0xCFC ports), enumeration of
 * buses, devices and functions, BAR sizing and assignment, and BAR access.
 * Everything read from config space is the device's word: sizes are
 * derived so that a nonsensical mask cannot make an allocation overflow,
 * and every loop has a fixed bound.
 */
#include "vlab/pci.h"

#if VLAB_CFG_PCI /* vlab/config.h */

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

/* Is a bridge's secondary bus one to follow from bus `bus` (see
 * vlab_pci_enumerate)?  seen: a bit per bus. */
static bool follow(const struct vlab_pci_host *h, unsigned bus, uint32_t nums, const uint32_t seen[8])
{
	unsigned sec = (nums >> 8) & 0xffu, sub = (nums >> 16) & 0xffu;
	return sec > bus && sec <= sub && sub < buses(h) && !(seen[sec / 32] & (1u << (sec % 32)));
}

struct walk {
	vlab_pci_visit_fn visit;
	void *ctx;
	uint32_t seen[8];
	unsigned bridges;
};

/* One bus, then depth first behind its bridges: at most
 * VLAB_PCI_MAX_BRIDGES + 1 buses of 32 * 8 functions, recursion as deep. */
static int walk_bus(const struct vlab_pci_host *h, struct walk *w, unsigned bus)
{
	w->seen[bus / 32] |= 1u << (bus % 32);
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
			int rc = w->visit(w->ctx, &f);
			if (rc != 0)
				return rc;
			if (f.header_type != VLAB_PCI_HEADER_BRIDGE || w->bridges >= VLAB_PCI_MAX_BRIDGES)
				continue;
			uint32_t nums = vlab_pci_cfg_read(h, (uint8_t)bus, dev, fn, VLAB_PCI_PRIMARY_BUS, 4);
			if (!follow(h, bus, nums, w->seen))
				continue;
			w->bridges++;
			if ((rc = walk_bus(h, w, (nums >> 8) & 0xffu)) != 0)
				return rc;
		}
	}
	return VLAB_OK;
}

int vlab_pci_enumerate(const struct vlab_pci_host *h, vlab_pci_visit_fn visit, void *ctx)
{
	if (!host_ok(h) || !visit)
		return VLAB_EINVAL;
	struct walk w = {visit, ctx, {0}, 0};
	return walk_bus(h, &w, 0);
}

/* ---- BARs ---- */

/* A range by its first and last byte (so the top of the space fits). */
struct range {
	uint64_t first, last;
};

static bool meets(struct range a, struct range b)
{
	return a.first <= b.last && b.first <= a.last;
}

static struct range span(uint64_t base, uint64_t size)
{
	uint64_t last = size == 0 ? base : base + (size - 1);
	return (struct range){base, last < base ? UINT64_MAX : last};
}

/* What a BAR at r may not touch, besides the BARs placed before: for an
 * I/O BAR the 0xCF8 configuration ports; for a memory BAR the ECAM window,
 * the PIO window (the I/O window's part of it) and guest RAM. */
enum clash { CLASH_NONE, CLASH_CF8, CLASH_ECAM, CLASH_PIO, CLASH_RAM, CLASH_BAR };

static enum clash clash_of(const struct vlab_pci_host *h, unsigned bus, bool io, struct range r,
                           uint64_t *end, unsigned *which)
{
	struct range x[4];
	enum clash kind[4];
	unsigned n = 0;
	if (io && h->cfg_ports) {
		x[n] = span(CF8_ADDR, 8);
		kind[n++] = CLASH_CF8;
	}
	if (!io && !h->cfg_ports) {
		x[n] = span(h->ecam_base, (uint64_t)buses(h) << 20);
		kind[n++] = CLASH_ECAM;
	}
	if (!io && h->pio_mmio && h->io_size) {
		x[n] = span(h->pio_mmio_base + h->io_base, h->io_size);
		kind[n++] = CLASH_PIO;
	}
	if (!io && h->ram_size) {
		x[n] = span(h->ram_base, h->ram_size);
		kind[n++] = CLASH_RAM;
	}
	for (unsigned i = 0; i < n; i++)
		if (meets(r, x[i])) {
			*end = x[i].last;
			return kind[i];
		}
	for (unsigned i = 0; i < h->n_placed && i < VLAB_PCI_MAX_PLACED; i++) {
		const struct vlab_pci_placed *p = &h->placed[i];
		struct range pr = span(p->base, p->size);
		if (p->window && (p->size == 0 || (bus >= p->sec && bus <= p->sub)))
			continue; /* a bridge's window is for the buses behind it */
		if (p->io == io && meets(r, pr)) {
			*end = pr.last;
			*which = i;
			return CLASH_BAR;
		}
	}
	return CLASH_NONE;
}

/* The innermost window of a bridge the buses behind which hold bus, of
 * this kind; NULL when bus is not behind a configured bridge. */
static const struct vlab_pci_placed *bridge_window(const struct vlab_pci_host *h, unsigned bus,
                                                   bool io)
{
	const struct vlab_pci_placed *in = NULL;
	for (unsigned i = 0; i < h->n_placed && i < VLAB_PCI_MAX_PLACED; i++) {
		const struct vlab_pci_placed *p = &h->placed[i];
		if (p->window && p->io == io && bus >= p->sec && bus <= p->sub &&
		    (!in || p->sub - p->sec < in->sub - in->sec))
			in = p;
	}
	return in;
}

/* The window a BAR of this kind on this bus must lie in, by its first and
 * last byte: the host's, or the innermost bridge's; false when there is
 * none. */
static bool window(const struct vlab_pci_host *h, unsigned bus, const struct vlab_pci_bar *b,
                   struct range *w)
{
	const struct vlab_pci_placed *bw = bridge_window(h, bus, b->io);
	uint64_t base = bw ? bw->base : b->io ? h->io_base : h->mem_base;
	uint64_t size = bw ? bw->size : b->io ? h->io_size : h->mem_size;
	if (size == 0)
		return false;
	*w = span(base, size);
	if (!b->io && !b->mem64 && w->last > 0xffffffffull) {
		if (w->first > 0xffffffffull)
			return false; /* a 32-bit BAR cannot reach this window */
		w->last = 0xffffffffull;
	}
	return true;
}

static void bar_log(const struct vlab_pci_host *h, enum vlab_log_level lvl, uint8_t bus, uint8_t dev,
                    uint8_t fn, unsigned i, const struct vlab_pci_bar *b, const char *what,
                    const char *then)
{
	vlab_log(h->plat, lvl, "pci %02x:%02x.%x: BAR %u (%s, 0x%llx bytes) at 0x%llx %s%s", bus, dev,
	         fn, i, b->io ? "I/O" : "memory", (unsigned long long)b->size,
	         (unsigned long long)b->addr, what, then);
}

/* Is the address a BAR holds sound (see vlab_pci_setup_function)?  Logs
 * why not. */
static bool bar_sound(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                      unsigned i, const struct vlab_pci_bar *b)
{
	static const char *const why[] = {
		[CLASH_CF8] = "covers the 0xCF8 configuration ports",
		[CLASH_ECAM] = "covers the ECAM window",
		[CLASH_PIO] = "covers the PIO window",
		[CLASH_RAM] = "covers guest RAM",
	};
	struct range w, r = span(b->addr, b->size);
	uint64_t end;
	unsigned which = 0;
	enum clash c = CLASH_NONE;
	const char *bad = NULL;

	if (b->addr + (b->size - 1) < b->addr)
		bad = "wraps around the address space";
	else if (b->addr % b->size != 0)
		bad = "is not aligned to its size";
	else if ((c = clash_of(h, bus, b->io, r, &end, &which)) != CLASH_NONE && c != CLASH_BAR)
		bad = why[c];
	else if (!window(h, bus, b, &w) || r.first < w.first || r.last > w.last)
		bad = b->io ? "is outside the I/O window" : "is outside the memory window";
	else if (c == CLASH_BAR) {
		const struct vlab_pci_placed *p = &h->placed[which];
		vlab_log(h->plat, VLAB_LOG_WARN,
		         "pci %02x:%02x.%x: BAR %u at 0x%llx overlaps BAR %u of %02x:%02x.%x; reassigning", bus,
		         dev, fn, i, (unsigned long long)b->addr, p->bar, p->bus, p->dev, p->fn);
		return false;
	}
	if (bad) {
		bar_log(h, VLAB_LOG_WARN, bus, dev, fn, i, b, bad, "; reassigning");
		return false;
	}
	return true;
}

static uint64_t align_up(uint64_t v, uint64_t a, bool *ovf)
{
	if (v > UINT64_MAX - (a - 1)) {
		*ovf = true;
		return 0;
	}
	return (v + a - 1) & ~(a - 1);
}

/* A free place for b in its window: aligned to its size, at or after the
 * window's cursor, clashing with nothing (each clash skipped at most once:
 * the candidate only moves up). */
static int alloc(struct vlab_pci_host *h, unsigned bus, const struct vlab_pci_bar *b, uint64_t *addr)
{
	struct range w;
	if (!window(h, bus, b, &w))
		return VLAB_ENOMEM;
	/* The host's cursor; in a bridge's window, from its start. */
	bool own = bridge_window(h, bus, b->io) != NULL;
	uint64_t used = own ? 0 : b->io ? h->io_used : h->mem_used;
	bool ovf = used > w.last - w.first;
	uint64_t a = ovf ? 0 : align_up(w.first + used, b->size, &ovf);
	for (unsigned n = 0; !ovf && n < VLAB_PCI_MAX_PLACED + 5; n++) {
		if (a < w.first || a > w.last || b->size - 1 > w.last - a)
			break;
		uint64_t end;
		unsigned which;
		if (clash_of(h, bus, b->io, span(a, b->size), &end, &which) == CLASH_NONE) {
			*addr = a;
			if (own)
				return VLAB_OK;
			if (b->io)
				h->io_used = (uint32_t)(a + b->size - w.first);
			else
				h->mem_used = a + b->size - w.first;
			return VLAB_OK;
		}
		if (end == UINT64_MAX)
			break;
		a = align_up(end + 1, b->size, &ovf);
	}
	return VLAB_ENOMEM;
}

static void drop_placed(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn)
{
	unsigned k = 0;
	for (unsigned i = 0; i < h->n_placed && i < VLAB_PCI_MAX_PLACED; i++) {
		const struct vlab_pci_placed *p = &h->placed[i];
		if (p->bus != bus || p->dev != dev || p->fn != fn)
			h->placed[k++] = *p;
	}
	h->n_placed = k;
}

static int add_placed(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, unsigned i,
                      const struct vlab_pci_bar *b)
{
	if (h->n_placed >= VLAB_PCI_MAX_PLACED) {
		vlab_log(h->plat, VLAB_LOG_ERROR, "pci %02x:%02x.%x: more than %u BARs placed", bus, dev, fn,
		         VLAB_PCI_MAX_PLACED);
		return VLAB_ENOMEM;
	}
	h->placed[h->n_placed++] =
		(struct vlab_pci_placed){b->addr, b->size, bus, dev, fn, (uint8_t)i, b->io, false, 0, 0};
	return VLAB_OK;
}

/* Size BAR i (decoding is off): bars[i] gets its size, kind and the
 * address it holds; *type the read-only low bits of a memory BAR.  Returns
 * the number of registers it takes (2 for a 64-bit BAR), or VLAB_EPROTO. */
static int size_bar(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, unsigned i,
                    struct vlab_pci_bar *b, uint32_t *type)
{
	uint16_t reg = (uint16_t)(VLAB_PCI_BAR0 + 4 * i);
	uint32_t orig = vlab_pci_cfg_read(h, bus, dev, fn, reg, 4);
	vlab_pci_cfg_write(h, bus, dev, fn, reg, 4, 0xffffffffu);
	uint32_t mask = vlab_pci_cfg_read(h, bus, dev, fn, reg, 4);
	vlab_pci_cfg_write(h, bus, dev, fn, reg, 4, orig);

	*type = mask & 0xfu;
	if (mask == 0)
		return 1; /* not implemented */
	if (mask & 1u) {
		/* I/O: the size is the lowest address bit that sticks. */
		uint32_t m = mask & ~3u;
		b->io = true;
		b->size = m & (~m + 1u);
		b->addr = orig & ~3u;
	} else {
		uint32_t t = (mask >> 1) & 3u;
		uint64_t m = mask & ~0xfull;
		if (t != 2 && m == 0)
			return 1; /* no address bit sticks */
		uint64_t cur = orig & ~0xfull;
		if (t == 2) {
			if (i + 1 >= VLAB_PCI_NBARS)
				return VLAB_EPROTO; /* a 64-bit BAR in the last slot */
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
	int regs = b->mem64 ? 2 : 1;
	if (b->size == 0)
		*b = (struct vlab_pci_bar){0}; /* no address bit sticks: nothing usable */
	return regs;
}

/* Give BAR i the address a; read it back (a device that does not take it
 * cannot be used). */
static int program_bar(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                       unsigned i, const struct vlab_pci_bar *b, uint32_t type)
{
	uint16_t reg = (uint16_t)(VLAB_PCI_BAR0 + 4 * i);
	uint32_t low = b->io ? 3u : 0xfu;
	vlab_pci_cfg_write(h, bus, dev, fn, reg, 4, (uint32_t)b->addr | (b->io ? 1u : type));
	if (b->mem64)
		vlab_pci_cfg_write(h, bus, dev, fn, (uint16_t)(reg + 4), 4, (uint32_t)(b->addr >> 32));
	uint64_t got = vlab_pci_cfg_read(h, bus, dev, fn, reg, 4) & ~low;
	if (b->mem64)
		got |= (uint64_t)vlab_pci_cfg_read(h, bus, dev, fn, (uint16_t)(reg + 4), 4) << 32;
	if (got != b->addr) {
		vlab_log(h->plat, VLAB_LOG_ERROR,
		         "pci %02x:%02x.%x: BAR %u reads back 0x%llx after 0x%llx was written", bus, dev,
		         fn, i, (unsigned long long)got, (unsigned long long)b->addr);
		return VLAB_EPROTO;
	}
	return VLAB_OK;
}

/* Keep the sound addresses first (so a BAR being moved cannot take the
 * place of one that stays), then place the rest. */
static int place_bars(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                      struct vlab_pci_bar bars[VLAB_PCI_NBARS], const uint32_t type[VLAB_PCI_NBARS])
{
	bool keep[VLAB_PCI_NBARS] = {false};
	int rc;
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		struct vlab_pci_bar *b = &bars[i];
		if (b->size == 0 || b->addr == 0)
			continue;
		keep[i] = bar_sound(h, bus, dev, fn, i, b);
		if (keep[i] && (rc = add_placed(h, bus, dev, fn, i, b)) != 0)
			return rc;
	}
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		struct vlab_pci_bar *b = &bars[i];
		if (b->size == 0 || keep[i])
			continue;
		/* Unassigned (bare metal on QEMU's virt machines), or unsound. */
		uint64_t a;
		if (alloc(h, bus, b, &a) != 0) {
			bar_log(h, VLAB_LOG_ERROR, bus, dev, fn, i, b, "cannot be placed", ": no room in its window");
			return VLAB_ENOMEM;
		}
		b->addr = a;
		if ((rc = program_bar(h, bus, dev, fn, i, b, type[i])) != 0 ||
		    (rc = add_placed(h, bus, dev, fn, i, b)) != 0)
			return rc;
	}
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
		return VLAB_ENOTSUP; /* bridges (vlab_pci_scan) and CardBus: not ours */

	/* Decoding off while the BARs hold sizing patterns and move. */
	uint16_t cmd = (uint16_t)vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_COMMAND, 2);
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2,
	                   cmd & (uint16_t)~(VLAB_PCI_CMD_IO | VLAB_PCI_CMD_MEM));
	/* Set up again (a second probe): its old places are its own. */
	drop_placed(h, bus, dev, fn);

	uint32_t type[VLAB_PCI_NBARS] = {0};
	int rc = VLAB_OK;
	for (unsigned i = 0; i < VLAB_PCI_NBARS;) {
		int regs = size_bar(h, bus, dev, fn, i, &bars[i], &type[i]);
		if (regs < 0) {
			rc = regs;
			break;
		}
		i += (unsigned)regs;
	}
	if (rc == 0)
		rc = place_bars(h, bus, dev, fn, bars, type);
	if (rc != 0) {
		drop_placed(h, bus, dev, fn);
		vlab_memset(bars, 0, sizeof(struct vlab_pci_bar) * VLAB_PCI_NBARS);
		return rc;
	}
	bool any_io = false, any_mem = false;
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		any_io |= bars[i].size && bars[i].io;
		any_mem |= bars[i].size && !bars[i].io;
	}
	cmd |= VLAB_PCI_CMD_MASTER;
	if (any_io)
		cmd |= VLAB_PCI_CMD_IO;
	if (any_mem)
		cmd |= VLAB_PCI_CMD_MEM;
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2, cmd);
	return VLAB_OK;
}

/* ---- PCI-to-PCI bridges (vlab_pci_scan) ---- */

struct scan {
	struct vlab_pci_host *h;
	unsigned next;            /* the next free bus number */
	unsigned bridges;
	int rc;                   /* the first error */
};

#if VLAB_CFG_PCI_BRIDGE /* vlab/config.h */
static void bdf_log(const struct vlab_pci_host *h, enum vlab_log_level lvl, uint8_t bus, uint8_t dev,
                    uint8_t fn, const char *what, unsigned a, unsigned b)
{
	vlab_log(h->plat, lvl, "pci %02x:%02x.%x: bridge %s (%02x, %02x)", bus, dev, fn, what, a, b);
}

/* Primary, secondary and subordinate bus numbers, read back. */
static bool set_buses(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, unsigned sec,
                      unsigned sub)
{
	uint32_t old = vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_PRIMARY_BUS, 4);
	uint32_t want = (uint32_t)sub << 16 | (uint32_t)sec << 8 | bus;
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_PRIMARY_BUS, 4, (old & 0xff000000u) | want);
	return (vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu) == want;
}

/* The hull of what is placed (BARs, bridges' windows) on buses sec..sub,
 * of one kind; false when nothing is. */
static bool hull(const struct vlab_pci_host *h, unsigned sec, unsigned sub, bool io, struct range *r)
{
	bool any = false;
	for (unsigned i = 0; i < h->n_placed && i < VLAB_PCI_MAX_PLACED; i++) {
		const struct vlab_pci_placed *p = &h->placed[i];
		unsigned at = p->window ? p->sec : p->bus;
		if (p->io != io || p->size == 0 || at < sec || at > sub)
			continue;
		struct range pr = span(p->base, p->size);
		if (any) {
			r->first = pr.first < r->first ? pr.first : r->first;
			r->last = pr.last > r->last ? pr.last : r->last;
		} else {
			*r = pr;
		}
		any = true;
	}
	return any;
}

/* Is a window r for buses sec..sub free of everything not behind it? */
static bool window_free(const struct vlab_pci_host *h, unsigned sec, unsigned sub, bool io, struct range r)
{
	uint64_t end;
	unsigned which;
	enum clash c = clash_of(h, sec, io, r, &end, &which);
	if (c != CLASH_NONE && c != CLASH_BAR)
		return false;
	for (unsigned i = 0; i < h->n_placed && i < VLAB_PCI_MAX_PLACED; i++) {
		const struct vlab_pci_placed *p = &h->placed[i];
		unsigned at = p->window ? p->sec : p->bus;
		if (p->io == io && p->size != 0 && (at < sec || at > sub) && meets(r, span(p->base, p->size)))
			return false;
	}
	return true;
}

/* Move the host's cursor of one kind to the window granularity, so that
 * what is placed behind a bridge starts on a boundary of its own. */
static void align_cursor(struct vlab_pci_host *h, bool io)
{
	bool ovf = false;
	uint64_t base = io ? h->io_base : h->mem_base;
	uint64_t used = io ? h->io_used : h->mem_used;
	uint64_t a = io ? VLAB_PCI_BRIDGE_IO_ALIGN : VLAB_PCI_BRIDGE_MEM_ALIGN;
	uint64_t at = base + used < base ? 0 : align_up(base + used, a, &ovf);
	if (ovf || at < base)
		return;
	if (io)
		h->io_used = (uint32_t)(at - base);
	else
		h->mem_used = at - base;
}

/* Program one window of the bridge to cover what is behind it (or close
 * it) and note it as placed.  0, or an error (logged). */
static int set_window(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, unsigned sec,
                      unsigned sub, bool io)
{
	uint64_t a = io ? VLAB_PCI_BRIDGE_IO_ALIGN : VLAB_PCI_BRIDGE_MEM_ALIGN;
	uint64_t top = io ? 0xffffull : 0xffffffffull; /* 16-bit I/O, 32-bit memory window */
	struct range r = {0, 0};
	bool open = hull(h, sec, sub, io, &r);
	if (open) {
		r.first &= ~(a - 1);
		r.last |= a - 1;
		if (r.last > top || !window_free(h, sec, sub, io, r)) {
			vlab_log(h->plat, VLAB_LOG_ERROR,
			         "pci %02x:%02x.%x: bridge %s window 0x%llx..0x%llx for buses %02x..%02x "
			         "would cover something not behind it",
			         bus, dev, fn, io ? "I/O" : "memory", (unsigned long long)r.first,
			         (unsigned long long)r.last, sec, sub);
			open = false;
		}
	}
	/* Closed: base above limit. */
	uint32_t base = open ? (uint32_t)r.first : (uint32_t)top & ~(uint32_t)(a - 1);
	uint32_t limit = open ? (uint32_t)r.last : 0;
	uint16_t reg = io ? VLAB_PCI_IO_BASE : VLAB_PCI_MEM_BASE;
	uint32_t want = io ? ((base >> 8) & 0xf0u) | ((limit >> 8) & 0xf0u) << 8
	                   : ((base >> 16) & 0xfff0u) | ((limit >> 16) & 0xfff0u) << 16;
	uint32_t mask = io ? 0xf0f0u : 0xfff0fff0u;
	vlab_pci_cfg_write(h, bus, dev, fn, reg, io ? 2 : 4, want);
	if (io)
		vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_IO_BASE_HI, 4, 0);
	if ((vlab_pci_cfg_read(h, bus, dev, fn, reg, io ? 2 : 4) & mask) != want) {
		bdf_log(h, VLAB_LOG_ERROR, bus, dev, fn, io ? "does not take its I/O window" :
		        "does not take its memory window", sec, sub);
		return VLAB_EPROTO;
	}
	if (h->n_placed >= VLAB_PCI_MAX_PLACED)
		return VLAB_ENOMEM;
	h->placed[h->n_placed++] = (struct vlab_pci_placed){
		r.first, open ? r.last - r.first + 1 : 0, bus, dev, fn, 0, io, true, (uint8_t)sec, (uint8_t)sub};
	if (open && !io && r.last + 1 - h->mem_base > h->mem_used)
		h->mem_used = r.last + 1 - h->mem_base;
	if (open && io && r.last + 1 - h->io_base > h->io_used)
		h->io_used = (uint32_t)(r.last + 1 - h->io_base);
	return open ? 1 : 0;
}

static void scan_bus(struct scan *s, unsigned bus);

/* Number one bridge, configure what is behind it, open its windows. */
static int setup_bridge(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct vlab_pci_host *h = s->h;
	unsigned nb = buses(h);
	uint16_t cmd = (uint16_t)vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_COMMAND, 2);

	/* No forwarding while the numbers and windows move. */
	cmd &= (uint16_t)~(VLAB_PCI_CMD_IO | VLAB_PCI_CMD_MEM);
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2, cmd);
	drop_placed(h, bus, dev, fn);
	if (s->bridges >= VLAB_PCI_MAX_BRIDGES) {
		bdf_log(h, VLAB_LOG_ERROR, bus, dev, fn, "left off: more bridges than the bound",
		        VLAB_PCI_MAX_BRIDGES, s->bridges);
		return VLAB_EPROTO;
	}
	s->bridges++;
	if (s->next >= nb) {
		bdf_log(h, VLAB_LOG_ERROR, bus, dev, fn, "left off: no bus number left (next, buses)", s->next,
		        nb);
		return VLAB_ENOMEM;
	}
	uint32_t nums = vlab_pci_cfg_read(h, bus, dev, fn, VLAB_PCI_PRIMARY_BUS, 4);
	unsigned pri = nums & 0xffu, sec = (nums >> 8) & 0xffu, sub = (nums >> 16) & 0xffu;
	/* Firmware's numbers stay when they are the depth-first ones. */
	bool sound = pri == bus && sec == s->next && sub >= sec && sub < nb;
	if (!sound && (nums & 0xffffffu) != 0)
		bdf_log(h, VLAB_LOG_WARN, bus, dev, fn, "bus numbers unsound, renumbered (secondary, subordinate)",
		        sec, sub);
	sec = s->next;
	/* Every bus above reaches through it while what is behind is numbered. */
	if (!set_buses(h, bus, dev, fn, sec, nb - 1)) {
		bdf_log(h, VLAB_LOG_ERROR, bus, dev, fn, "does not take its bus numbers (secondary, subordinate)",
		        sec, nb - 1);
		set_buses(h, bus, dev, fn, 0, 0);
		return VLAB_EPROTO;
	}
	s->next = sec + 1;
	align_cursor(h, false);
	align_cursor(h, true);
	scan_bus(s, sec);
	unsigned last = s->next - 1;
	if (sound && sub >= last)
		s->next = sub + 1; /* firmware's reserve of bus numbers kept */
	else
		sub = last;
	if (!set_buses(h, bus, dev, fn, sec, sub)) {
		bdf_log(h, VLAB_LOG_ERROR, bus, dev, fn, "does not take its bus numbers (secondary, subordinate)",
		        sec, sub);
		return VLAB_EPROTO;
	}
	int io = set_window(h, bus, dev, fn, sec, sub, true);
	int mem = io < 0 ? io : set_window(h, bus, dev, fn, sec, sub, false);
	if (io < 0 || mem < 0)
		return io < 0 ? io : mem;
	/* The prefetchable window closed (base above limit). */
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_PREF_BASE, 4, 0x0000fff0u);
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_PREF_BASE_HI, 4, 0);
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_PREF_LIMIT_HI, 4, 0);
	cmd |= VLAB_PCI_CMD_MASTER;
	if (io > 0)
		cmd |= VLAB_PCI_CMD_IO;
	if (mem > 0)
		cmd |= VLAB_PCI_CMD_MEM;
	vlab_pci_cfg_write(h, bus, dev, fn, VLAB_PCI_COMMAND, 2, cmd);
	return VLAB_OK;
}
#endif

/* Every function of one bus: bridges numbered and configured depth first
 * (at most VLAB_PCI_MAX_BRIDGES, so as deep), functions behind a bridge
 * set up.  The first error is kept in s->rc. */
static void scan_bus(struct scan *s, unsigned bus)
{
	struct vlab_pci_host *h = s->h;
	for (uint8_t dev = 0; dev < 32; dev++) {
		if (!present((uint16_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, 0, VLAB_PCI_VENDOR_ID, 2)))
			continue;
		uint8_t ht0 = (uint8_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, 0, VLAB_PCI_HEADER_TYPE, 1);
		uint8_t nfn = (ht0 & VLAB_PCI_HEADER_MULTI) ? 8 : 1;
		for (uint8_t fn = 0; fn < nfn; fn++) {
			if (!present((uint16_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, fn, VLAB_PCI_VENDOR_ID, 2)))
				continue;
			uint8_t ht = (uint8_t)vlab_pci_cfg_read(h, (uint8_t)bus, dev, fn, VLAB_PCI_HEADER_TYPE, 1) &
			             (uint8_t)~VLAB_PCI_HEADER_MULTI;
			int rc = VLAB_OK;
			if (ht == VLAB_PCI_HEADER_BRIDGE) {
#if VLAB_CFG_PCI_BRIDGE
				rc = setup_bridge(s, (uint8_t)bus, dev, fn);
#else
				rc = VLAB_ENOTSUP; /* compiled out: left as firmware set it */
#endif
			} else if (ht == 0 && bus > 0) {
				struct vlab_pci_bar bars[VLAB_PCI_NBARS];
				(void)vlab_pci_setup_function(h, (uint8_t)bus, dev, fn, bars);
			}
			if (rc < 0 && s->rc == VLAB_OK)
				s->rc = rc;
		}
	}
}

int vlab_pci_scan(struct vlab_pci_host *h)
{
	if (!host_ok(h))
		return VLAB_EINVAL;
	struct scan s = {h, 1, 0, VLAB_OK};
	scan_bus(&s, 0);
	return s.rc;
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
#else
typedef int vlab_transport_pci_enum_compiled_out; /* ISO C: no empty translation unit */
#endif
