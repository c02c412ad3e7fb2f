/* SPDX-License-Identifier: MIT */
/* Flattened device tree reader (Devicetree Specification 0.4, chapter 5). */
#include "fdt.h"

#include <stdbool.h>

#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define FDT_HEADER_BYTES 40u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Equal C strings, b NUL-terminated, a at most alen bytes. */
static bool str_eq(const char *a, size_t alen, const char *b)
{
	size_t i = 0;
	for (; i < alen && b[i] != '\0'; i++)
		if (a[i] != b[i])
			return false;
	return b[i] == '\0' && (i == alen || a[i] == '\0');
}

/* Does the string list (len bytes) contain s? */
static bool list_has(const uint8_t *list, uint32_t len, const char *s)
{
	uint32_t i = 0;
	while (i < len) {
		uint32_t j = i;
		while (j < len && list[j] != '\0')
			j++;
		if (str_eq((const char *)list + i, j - i, s))
			return true;
		i = j + 1;
	}
	return false;
}

/* cells 1 or 2 big-endian cells into a value; false for other counts. */
static bool read_cells(const uint8_t *p, uint32_t cells, uint64_t *v)
{
	if (cells == 1) {
		*v = be32(p);
		return true;
	}
	if (cells == 2) {
		*v = (uint64_t)be32(p) << 32 | be32(p + 4);
		return true;
	}
	return false;
}

struct level {
	uint32_t addr_cells, size_cells; /* for this node's children */
};

struct node {
	bool virtio_mmio, ns16550, pl011, sifive_test, pci_ecam, memory, cpus;
	bool clint, gicv2, arch_timer;
	const uint8_t *interrupts;
	uint32_t interrupts_len;
	bool record; /* bootargs "vlab.record" */
	bool bench;  /* bootargs "vlab.bench" */
	const uint8_t *reg;
	uint32_t reg_len;
	const uint8_t *ranges;
	uint32_t ranges_len;
	uint32_t timebase;
};

static void add_mmio(struct bm_fdt_info *info, uint64_t base, uint64_t size)
{
	if (info->n_mmio >= BM_FDT_MAX_MMIO) {
		info->mmio_dropped++;
		return;
	}
	/* Insert sorted by address, so the order does not depend on the tree's. */
	unsigned i = info->n_mmio;
	while (i > 0 && info->mmio_base[i - 1] > base) {
		info->mmio_base[i] = info->mmio_base[i - 1];
		info->mmio_size[i] = info->mmio_size[i - 1];
		i--;
	}
	info->mmio_base[i] = base;
	info->mmio_size[i] = size;
	info->n_mmio++;
}

static void decode_ranges(struct bm_fdt_info *info, const struct node *n, const struct level *parent,
                          const struct level *self)
{
	/* PCI child address: 3 cells (phys.hi with the space code, then 64 bits). */
	const uint32_t child = 3, pa = parent->addr_cells, sz = self->size_cells;
	if (self->addr_cells != child || (pa != 1 && pa != 2) || (sz != 1 && sz != 2))
		return;
	const uint32_t entry = 4u * (child + pa + sz);
	for (uint32_t off = 0; off + entry <= n->ranges_len && info->n_pci_ranges < BM_FDT_MAX_RANGES;
	     off += entry) {
		const uint8_t *p = n->ranges + off;
		struct bm_fdt_range *r = &info->pci_range[info->n_pci_ranges];
		r->space = (be32(p) >> 24) & 3u;
		r->pci_addr = (uint64_t)be32(p + 4) << 32 | be32(p + 8);
		read_cells(p + 12, pa, &r->cpu_addr);
		read_cells(p + 12 + 4 * pa, sz, &r->size);
		info->n_pci_ranges++;
	}
}

/* A node ended: record what it was, reading reg with the parent's cells. */
static void finish_node(struct bm_fdt_info *info, const struct node *n, const struct level *parent,
                        const struct level *self)
{
	uint64_t base = 0, size = 0;
	const uint32_t ac = parent->addr_cells, sc = parent->size_cells;
	bool have_reg = false;
	if (n->reg && (ac == 1 || ac == 2) && (sc == 1 || sc == 2) && n->reg_len >= 4 * (ac + sc)) {
		read_cells(n->reg, ac, &base);
		read_cells(n->reg + 4 * ac, sc, &size);
		have_reg = true;
	}
	if (n->cpus && n->timebase)
		info->timebase_hz = n->timebase;
	if (n->record)
		info->record = true;
	/* interrupts: (type, number, flags) triples, type 1 a PPI (ID 16 +
	 * number); the third is the virtual timer's. */
	if (n->arch_timer && n->interrupts && n->interrupts_len >= 36 && be32(n->interrupts + 24) == 1 &&
	    be32(n->interrupts + 28) < 16 && info->timer_virt_irq == 0)
		info->timer_virt_irq = 16 + be32(n->interrupts + 28);
	if (n->bench)
		info->bench = true;
	if (!have_reg) {
		if (n->virtio_mmio)
			info->mmio_dropped++;
		return;
	}
	if (n->memory && info->mem_size == 0 && size != 0) {
		info->mem_base = base;
		info->mem_size = size;
	}
	if (n->virtio_mmio)
		add_mmio(info, base, size);
	if (n->ns16550 && info->uart_kind == BM_UART_NONE) {
		info->uart_kind = BM_UART_NS16550;
		info->uart_base = base;
	}
	if (n->pl011 && info->uart_kind == BM_UART_NONE) {
		info->uart_kind = BM_UART_PL011;
		info->uart_base = base;
	}
	if (n->sifive_test && info->exit_base == 0)
		info->exit_base = base;
	if (n->clint && info->clint_base == 0)
		info->clint_base = base;
	if (n->gicv2 && info->gic_dist == 0 && n->reg_len >= 8 * (ac + sc)) {
		uint64_t cpu = 0;
		read_cells(n->reg + 4 * (ac + sc), ac, &cpu);
		if (cpu) {
			info->gic_dist = base;
			info->gic_cpu = cpu;
		}
	}
	if (n->pci_ecam && info->ecam_size == 0) {
		info->ecam_base = base;
		info->ecam_size = size;
		if (n->ranges)
			decode_ranges(info, n, parent, self);
	}
}

static void prop(struct node *n, struct level *self, const char *name, size_t name_max, const uint8_t *val,
                 uint32_t len)
{
	if (str_eq(name, name_max, "compatible")) {
		n->virtio_mmio |= list_has(val, len, "virtio,mmio");
		n->ns16550 |= list_has(val, len, "ns16550a") || list_has(val, len, "ns16550");
		n->pl011 |= list_has(val, len, "arm,pl011");
		n->sifive_test |= list_has(val, len, "sifive,test0");
		n->pci_ecam |= list_has(val, len, "pci-host-ecam-generic");
		n->clint |= list_has(val, len, "riscv,clint0") || list_has(val, len, "sifive,clint0");
		n->gicv2 |= list_has(val, len, "arm,cortex-a15-gic") || list_has(val, len, "arm,gic-400");
		n->arch_timer |= list_has(val, len, "arm,armv7-timer") || list_has(val, len, "arm,armv8-timer");
	} else if (str_eq(name, name_max, "device_type")) {
		n->memory |= list_has(val, len, "memory");
	} else if (str_eq(name, name_max, "reg")) {
		n->reg = val;
		n->reg_len = len;
	} else if (str_eq(name, name_max, "ranges")) {
		n->ranges = val;
		n->ranges_len = len;
	} else if (str_eq(name, name_max, "#address-cells") && len == 4) {
		self->addr_cells = be32(val);
	} else if (str_eq(name, name_max, "#size-cells") && len == 4) {
		self->size_cells = be32(val);
	} else if (str_eq(name, name_max, "bootargs")) {
		n->record |= list_has(val, len, "vlab.record");
		n->bench |= list_has(val, len, "vlab.bench");
	} else if (str_eq(name, name_max, "interrupts")) {
		n->interrupts = val;
		n->interrupts_len = len;
	} else if (str_eq(name, name_max, "timebase-frequency") && len == 4) {
		n->timebase = be32(val);
	}
}

int bm_fdt_parse(const void *blob, size_t max_len, struct bm_fdt_info *info)
{
	const uint8_t *b = blob;
	struct level lv[BM_FDT_MAX_DEPTH + 1];
	struct node nodes[BM_FDT_MAX_DEPTH + 1];
	unsigned depth = 0; /* nodes open */

	for (size_t i = 0; i < sizeof *info; i++)
		((uint8_t *)info)[i] = 0;
	if (!b || max_len < FDT_HEADER_BYTES || be32(b) != BM_FDT_MAGIC)
		return BM_FDT_EMAGIC;
	const uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12);
	const uint32_t version = be32(b + 20);
	const uint32_t size_strings = be32(b + 32), size_struct = be32(b + 36);
	if (total > max_len || total < FDT_HEADER_BYTES || version < 17)
		return BM_FDT_ETRUNC;
	if (off_struct > total || size_struct > total - off_struct || off_strings > total ||
	    size_strings > total - off_strings || (off_struct & 3u) != 0)
		return BM_FDT_ETRUNC;

	const uint8_t *st = b + off_struct, *strs = b + off_strings;
	/* The root's parent: the defaults of the spec (2 address, 1 size cell). */
	lv[0].addr_cells = 2;
	lv[0].size_cells = 1;
	uint64_t pos = 0; /* 64-bit: rounding up can never wrap */
	for (;;) {
		if (pos > size_struct || size_struct - pos < 4)
			return BM_FDT_ETRUNC;
		const uint32_t tok = be32(st + pos);
		pos += 4;
		switch (tok) {
		case FDT_BEGIN_NODE: {
			uint64_t end = pos;
			while (end < size_struct && st[end] != '\0')
				end++;
			if (end >= size_struct)
				return BM_FDT_ETRUNC;
			if (depth >= BM_FDT_MAX_DEPTH)
				return BM_FDT_EDEPTH;
			const char *name = (const char *)st + pos;
			const uint32_t name_len = (uint32_t)(end - pos);
			depth++;
			struct node *n = &nodes[depth];
			for (size_t i = 0; i < sizeof *n; i++)
				((uint8_t *)n)[i] = 0;
			lv[depth].addr_cells = 2;
			lv[depth].size_cells = 1;
			n->cpus = depth == 2 && str_eq(name, name_len, "cpus");
			/* "memory" or "memory@..." also names a memory node. */
			n->memory = name_len >= 6 && name[0] == 'm' && name[1] == 'e' && name[2] == 'm' &&
			            name[3] == 'o' && name[4] == 'r' && name[5] == 'y' &&
			            (name_len == 6 || name[6] == '@');
			info->nodes++;
			pos = (end + 1 + 3u) & ~(uint64_t)3u;
			break;
		}
		case FDT_END_NODE:
			if (depth == 0)
				return BM_FDT_EBADTAG;
			finish_node(info, &nodes[depth], &lv[depth - 1], &lv[depth]);
			depth--;
			break;
		case FDT_PROP: {
			if (size_struct - pos < 8)
				return BM_FDT_ETRUNC;
			const uint32_t len = be32(st + pos), nameoff = be32(st + pos + 4);
			pos += 8;
			if (len > size_struct - pos)
				return BM_FDT_ETRUNC;
			if (depth == 0 || nameoff >= size_strings)
				return BM_FDT_EBADTAG;
			const char *pname = (const char *)strs + nameoff;
			const size_t pname_max = size_strings - nameoff;
			prop(&nodes[depth], &lv[depth], pname, pname_max, st + pos, len);
			pos = (pos + len + 3u) & ~(uint64_t)3u;
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return depth == 0 ? 0 : BM_FDT_EBADTAG;
		default:
			return BM_FDT_EBADTAG;
		}
	}
}

const char *bm_fdt_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case BM_FDT_EMAGIC:
		return "no device tree (bad magic)";
	case BM_FDT_ETRUNC:
		return "device tree truncated or with offsets beyond its size";
	case BM_FDT_EBADTAG:
		return "malformed device tree structure";
	case BM_FDT_EDEPTH:
		return "device tree nested too deeply";
	default:
		return "unknown device tree error";
	}
}
