/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-pci enumeration, BAR sizing and assignment, the
 * capability walk, the modern/legacy choice, blk initialisation, one read
 * and shutdown, against a PCI function (fuzz_pci.c) whose config space
 * (header, capability list), the BARs' sizing answers, the BAR registers
 * and the device's answers come from the input.
 *
 * Control stream: two mode bytes, then a patch count and the patches'
 * positions (0x000..0x0ff config space, 0x100..0x117 the BAR sizing masks,
 * 0x118..0x119 queue 0's notify offset);
 * the patched values come from the payload.  Every config-space or register
 * read then takes a control byte when the device may lie (its value from
 * the payload); racy mode makes every shared-memory read fresh.
 *
 * Beyond the sanitizers: a function probe accepts is one the driver can use
 * safely: the interface chosen is one the flags allow, every structure it
 * uses lies inside an implemented BAR and on no other structure (nor on a
 * transitional device's legacy registers), BAR sizes are powers of two, every
 * BAR is aligned, inside the host window of its type and on no other, every
 * queue's notify address lies inside the notify structure, and what blk
 * initialisation accepted is sane (fz_blk_accepted); an honest device the
 * flags allow is found, probed and initialised.
 */
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/blk.h"
#include "vlab/pci.h"

#define MAX_FUNCS 4
#define MAX_PATCHES 32

static struct fz F;
static struct vlab_pci P;
static struct vlab_blk B;

struct found {
	struct vlab_pci_func f[MAX_FUNCS];
	unsigned n;
};

static int visit(void *ctx, const struct vlab_pci_func *fn)
{
	struct found *s = ctx;
	if (vlab_pci_virtio_type(fn) == 0)
		return 0;
	if (fn->vendor == 0xffff || fn->vendor == 0)
		abort(); /* enumeration reported an absent function */
	s->f[s->n++] = *fn;
	return s->n == MAX_FUNCS ? 1 : 0;
}

static void region_ok(const struct vlab_pci *p, const struct vlab_pci_region *r)
{
	if (!r->present)
		return;
	if (r->bar >= VLAB_PCI_NBARS || p->bar[r->bar].size == 0 ||
	    (uint64_t)r->off + r->len > p->bar[r->bar].size)
		FZ_ABORT("probe accepted a structure 0x%x+0x%x in BAR %u", r->off, r->len, r->bar);
}

/* Two ranges that share a byte (a zero-length one shares none). */
static bool overlap(uint64_t off_a, uint64_t len_a, uint64_t off_b, uint64_t len_b)
{
	return len_a && len_b && off_a < off_b + len_b && off_b < off_a + len_a;
}

/* No structure on another, nor on a transitional device's legacy header. */
static void disjoint(const struct vlab_pci *p)
{
	const struct vlab_pci_region *r[4] = {&p->common, &p->notify, &p->isr, &p->device};
	uint64_t legacy = p->msix_cap ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG;

	for (unsigned i = 0; i < 4; i++) {
		if (!r[i]->present)
			continue;
		if (p->transitional && p->bar[0].io && r[i]->bar == 0 && overlap(r[i]->off, r[i]->len, 0, legacy))
			FZ_ABORT("probe accepted a structure 0x%x+0x%x on the legacy registers", r[i]->off,
			         r[i]->len);
		for (unsigned j = i + 1; j < 4; j++)
			if (r[j]->present && r[i]->bar == r[j]->bar &&
			    overlap(r[i]->off, r[i]->len, r[j]->off, r[j]->len))
				FZ_ABORT("probe accepted overlapping structures %u and %u", i, j);
	}
}

/* Every BAR aligned, inside the window of its type, on no other (the
 * windows hold neither ECAM, the PIO window nor DMA memory). */
static void bars_placed(const struct vlab_pci_host *h, const struct vlab_pci *p)
{
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		const struct vlab_pci_bar *b = &p->bar[i];
		uint64_t base = b->io ? h->io_base : h->mem_base, len = b->io ? h->io_size : h->mem_size;
		if (b->size == 0)
			continue;
		if (b->size & (b->size - 1))
			FZ_ABORT("BAR %u of size 0x%llx", i, (unsigned long long)b->size);
		if (b->addr % b->size || b->addr < base || b->addr - base > len || b->size > len - (b->addr - base))
			FZ_ABORT("BAR %u at 0x%llx+0x%llx, outside its window", i, (unsigned long long)b->addr,
			         (unsigned long long)b->size);
		for (unsigned j = 0; j < i; j++)
			if (p->bar[j].io == b->io && overlap(p->bar[j].addr, p->bar[j].size, b->addr, b->size))
				FZ_ABORT("BARs %u and %u overlap", j, i);
	}
}

static void probe_accepted(const struct vlab_pci_host *h, const struct vlab_pci *p, unsigned flags)
{
	bars_placed(h, p);
	if (p->modern) {
		if (!p->common.present || !p->notify.present || !p->isr.present)
			FZ_ABORT("modern interface without its structures");
		region_ok(p, &p->common);
		region_ok(p, &p->notify);
		region_ok(p, &p->isr);
		region_ok(p, &p->device);
		disjoint(p);
	} else {
		if (!(flags & (VLAB_PCI_ALLOW_LEGACY | VLAB_PCI_FORCE_LEGACY)))
			FZ_ABORT("legacy interface not allowed, yet chosen");
		if (!p->bar[0].io || p->bar[0].size < 0x20)
			FZ_ABORT("legacy interface without its I/O BAR");
	}
}

static void queues_ok(const struct vlab_pci *p)
{
	if (!p->modern)
		return;
	for (unsigned i = 0; i < VLAB_PCI_MAX_QUEUES; i++)
		if (p->notify_at[i] != 0 &&
		    (p->notify_at[i] < p->notify.off || p->notify_at[i] + 2 > (uint64_t)p->notify.off + p->notify.len))
			FZ_ABORT("queue %u notifies at 0x%llx, outside the notify structure", i,
			         (unsigned long long)p->notify_at[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fz_pci_kind kinds[4] = {FZ_PCI_MODERN, FZ_PCI_TRANSITIONAL, FZ_PCI_LEGACY,
	                                          FZ_PCI_MODERN};
	struct fz *f = &F;
	struct vlab_pci_host h;
	struct found found = {.n = 0};
	uint8_t a, b;
	unsigned flags, npatch;
	enum fz_pci_kind kind;
	bool honest;
	uint8_t cap;

	fz_init(f, data, size);
	fz_trace_start(f, "fuzz_pci_probe");
	a = fz_ring_offer(f, 0);
	b = fz_choose8(f);
	f->lie_shift = (uint8_t)((a & 0xf) > 8 ? 8 : (a & 0xf)); /* 0: always lie .. 8: never */
	f->racy = (a & 0x10) != 0;
	kind = kinds[(a >> 5) & 3];
	fz_pci_device(f, kind, (a & 0x80) != 0);
	f->pci.msix_refuse = (b & 0x10) != 0;
	flags = ((b & 0x04) ? VLAB_PCI_ALLOW_LEGACY : 0) | ((b & 0x08) ? VLAB_PCI_FORCE_LEGACY : 0);
	npatch = fz_choose8(f) % (MAX_PATCHES + 1);
	for (unsigned i = 0; i < npatch; i++) {
		uint16_t where = (uint16_t)(fz_choose16(f) % FZ_PCI_PATCH_SPACE);
		fz_pci_patch(f, where, (uint8_t)fz_choose_pay(f, 1));
	}
	fz_pci_host(f, &h, (b & 0x01) != 0, (b & 0x02) != 0);
	fz_trace_device(f, "blk", kind == FZ_PCI_MODERN ? "pci" : kind == FZ_PCI_LEGACY ? "pci-legacy" : "pci-transitional",
	                &h, flags);

	/* Bridges first, as firmware: a function whose header the input makes
	 * a bridge (only bus 0 answers here) is numbered and its windows
	 * programmed, against whatever sticks; the result does not matter. */
	(void)vlab_pci_scan(&h);
	if (vlab_pci_enumerate(&h, visit, &found) < 0)
		abort(); /* the host is valid: enumeration cannot refuse it */
	/* An honest device (no patches, not racy, never lying: f->lied) the
	 * flags allow must be found, probed, initialised and read. */
	honest = f->lie_shift == 8 && !f->racy && npatch == 0 &&
	         (kind != FZ_PCI_LEGACY || (flags & VLAB_PCI_ALLOW_LEGACY));
	if (honest && !f->lied && found.n != 1)
		FZ_ABORT("honest function found %u times", found.n);
	for (unsigned i = 0; i < found.n; i++) {
		const struct vlab_pci_func *fn = &found.f[i];
		int rc = vlab_pci_probe(&P, &h, fn->bus, fn->dev, fn->fn, flags);
		if (rc != 0) {
			if (honest && !f->lied)
				FZ_ABORT("honest function refused by probe: %d", rc);
			continue;
		}
		probe_accepted(&h, &P, flags);
		P.vdev.timeout_ns = FZ_TIMEOUT_NS;
		cap = fz_choose8(f);
		rc = vlab_blk_init(&B, &P.vdev, cap);
		if (rc == 0) {
			queues_ok(&P);
			rc = fz_blk_accepted(f, &B);
			if (honest && !f->lied && rc != 0)
				FZ_ABORT("honest function failed a read: %d", rc);
		} else if (honest && !f->lied && cap == 0) {
			/* (a cap may be below what blk needs, or below the legacy
			 * device's fixed queue size) */
			FZ_ABORT("honest function refused by blk init: %d", rc);
		}
	}
	fz_fini(f);
	return 0;
}
