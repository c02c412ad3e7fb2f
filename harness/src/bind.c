/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "harness/bind.h"
#include "harness/pci_host.h"
#include "hx_internal.h"

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

int hx_vbus_scan(struct hx_machine *m, struct vlab_bus *b)
{
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++) {
		int rc = vlab_bus_add_mmio(b, HX_MMIO_SLOT_BASE + (uint64_t)i * HX_MMIO_SLOT_SIZE);
		if (rc && rc != VLAB_ENODEV)
			hx_log(m, VLAB_LOG_WARN, "mmio slot %u: %s", i, vlab_strerror(rc));
	}
	struct vlab_pci_host *h = hx_pci_firmware(m);
	if (h) {
		int rc = vlab_bus_add_pci(b, h);
		if (rc < 0)
			return rc;
	}
	return (int)b->ndevs;
}

struct hx_vbus *hx_vbus_alloc(const struct vlab_platform *plat, unsigned flags)
{
	struct hx_vbus *hb = calloc(1, sizeof *hb);
	size_t stride = vlab_bus_priv_stride(vlab_default_drivers, vlab_default_ndrivers);
	if (!hb)
		return NULL;
	hb->priv = aligned_alloc(64, stride * HX_VBUS_MAX);
	if (!hb->priv || vlab_bus_init(&hb->bus, plat, vlab_default_drivers, vlab_default_ndrivers, hb->devs,
	                               HX_VBUS_MAX, hb->priv, stride * HX_VBUS_MAX) != 0) {
		hx_vbus_free(hb);
		return NULL;
	}
	hb->bus.flags = flags;
	return hb;
}

struct hx_vbus *hx_vbus_new(struct hx_machine *m, unsigned flags,
                          void (*configure)(void *ctx, struct vlab_bus_dev *bd), void *ctx)
{
	struct hx_vbus *hb = hx_vbus_alloc(hx_platform(m), flags);
	int rc = hb ? 0 : VLAB_ENOMEM;
	if (rc == 0) {
		hb->bus.configure = configure;
		hb->bus.configure_ctx = ctx;
		rc = hx_vbus_scan(m, &hb->bus);
	}
	if (rc < 0) {
		hx_log(m, VLAB_LOG_ERROR, "virtio bus: %s", vlab_strerror(rc));
		hx_vbus_free(hb);
		return NULL;
	}
	vlab_bus_probe_all(&hb->bus);
	return hb;
}

struct hx_vbus *hx_vbus_one(struct hx_bound *b)
{
	if (!b || !b->vdev)
		return NULL;
	struct hx_vbus *hb = hx_vbus_alloc(b->vdev->plat, 0);
	if (hb && !vlab_bus_add_dev(&hb->bus, b->vdev, hx_transport_is_pci(b->transport) ? VLAB_BUS_PCI : VLAB_BUS_MMIO)) {
		hx_vbus_free(hb);
		return NULL;
	}
	return hb;
}

void hx_vbus_free(struct hx_vbus *hb)
{
	if (!hb)
		return;
	free(hb->priv);
	free(hb);
}
