/* SPDX-License-Identifier: MIT */
/*
 * What a PCI probe found, as transcript lines: the function's identity,
 * its BARs (kind and size; never an address), the virtio structures its
 * capabilities name and MSI-X.  Compared with the model's, this checks the
 * model's PCI profile (DM_VPCI_*) against what QEMU presents.
 */
#include "scenario.h"
#include "vlab/pci.h"

static void region(struct sc_out *o, const char *what, const struct vlab_pci_region *r)
{
	if (!r->present)
		sc_printf(o, "pci: %s structure: none", what);
	else
		sc_printf(o, "pci: %s structure: bar %u offset 0x%x length 0x%x", what, r->bar, (unsigned)r->off, (unsigned)r->len);
}

void sc_pci_describe(struct sc_out *o, const struct vlab_pci *p)
{
	const struct vlab_pci_func *f = &p->id;
	sc_printf(o, "pci: id %04x:%04x revision %u class 0x%06x subsystem %04x:%04x", f->vendor, f->device,
	          f->revision, (unsigned)f->class_code, f->subsys_vendor, f->subsys_id);
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		const struct vlab_pci_bar *b = &p->bar[i];
		if (b->size)
			sc_printf(o, "pci: bar %u %s size 0x%llx", i, b->io ? "io" : b->mem64 ? "mem64" : "mem32",
			          (unsigned long long)b->size);
	}
	if (p->transitional && !p->common.present && !p->notify.present && !p->isr.present) {
		sc_printf(o, "pci: no virtio capabilities");
	} else {
		region(o, "common", &p->common);
		region(o, "notify", &p->notify);
		region(o, "isr", &p->isr);
		region(o, "device", &p->device);
		sc_printf(o, "pci: notify_off_multiplier %u", (unsigned)p->notify_mult);
	}
	if (p->msix_cap)
		sc_printf(o, "pci: msi-x table size %u", p->msix_vectors);
	else
		sc_printf(o, "pci: no msi-x");
}
