/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "harness/bind.h"
#include "harness/pci_host.h"

struct pci_find {
	uint8_t bus, dev, fn;
	bool found;
};

static int find_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct pci_find *w = ctx;
	if (f->bus == w->bus && f->dev == w->dev && f->fn == w->fn) {
		w->found = true;
		return 1;
	}
	return 0;
}

/* As firmware would: number the bridges and open their windows, enumerate
 * the buses with the machine's description, find the function the device
 * sits at, probe it (BARs assigned once, from the shared windows). */
static int bind_pci(struct hx_machine *m, const struct hx_dev *d, struct hx_bound *b, unsigned flags)
{
	struct vlab_pci_host *h = hx_pci_firmware(m);
	if (!h)
		return VLAB_ENODEV;
	int scan = vlab_pci_scan(h);
	int bus = hx_pci_bus_of(m, d);
	if (bus < 0)
		return scan < 0 ? scan : VLAB_ENODEV; /* behind a bridge left unnumbered */
	struct pci_find w = {(uint8_t)bus, (uint8_t)d->pci_dev, (uint8_t)d->pci_fn, false};
	int rc = vlab_pci_enumerate(h, find_fn, &w);
	if (rc < 0)
		return rc;
	if (!w.found)
		return scan < 0 ? scan : VLAB_ENODEV;
	return vlab_pci_probe(&b->pci, h, w.bus, w.dev, w.fn, flags);
}

int hx_bind(struct hx_machine *m, const struct hx_dev *d, struct hx_bound *b, unsigned flags)
{
	int rc;
	memset(b, 0, sizeof *b);
	b->transport = d->transport;
	switch (d->transport) {
	case HX_MMIO_LEGACY:
	case HX_MMIO:
		rc = vlab_mmio_probe(&b->mmio, hx_platform(m), d->base, flags);
		if (rc == 0)
			b->vdev = &b->mmio.vdev;
		return rc;
	case HX_PCI_LEGACY:
	case HX_PCI_TRANSITIONAL:
	case HX_PCI:
		rc = bind_pci(m, d, b, flags);
		if (rc == 0)
			b->vdev = &b->pci.vdev;
		return rc;
	default:
		return VLAB_ENOTSUP;
	}
}
