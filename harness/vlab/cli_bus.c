/* SPDX-License-Identifier: MIT */
/*
 * The machine's virtio bus as vlab drives it (vlab/bus.h): `virtio scan`
 * lists every mmio slot and PCI function there and binds the disks; the
 * net and rng commands bind their devices on first use, by place; at exit
 * every device is removed (vlab_bus_remove_all, the handoff).  No command
 * switches on a device ID: the bus matched each device to its driver.
 */
#include <inttypes.h>
#include <stdio.h>

#include "vlab/err.h"
#include "vlab_cli.h"

/* Every probe declines the ring features --refuse names. */
static void configure(void *ctx, struct vlab_bus_dev *bd)
{
	(void)ctx;
	bd->vdev->refuse_features = cli_refuse_features;
}

struct vlab_bus *cli_bus(struct cli *c)
{
	if (!c->vbus) {
		c->vbus = hx_vbus_alloc(c->plat, VLAB_MMIO_ALLOW_LEGACY | VLAB_PCI_ALLOW_LEGACY);
		if (!c->vbus)
			return NULL;
		c->vbus->bus.configure = configure;
	}
	return &c->vbus->bus;
}

struct vlab_bus_dev *cli_bus_at_mmio(struct cli *c, uint64_t base)
{
	struct vlab_bus *b = c->vbus ? &c->vbus->bus : NULL;
	for (size_t i = 0; b && i < b->ndevs; i++)
		if (b->devs[i].transport == VLAB_BUS_MMIO && b->devs[i].t.mmio.base == base)
			return &b->devs[i];
	return NULL;
}

struct vlab_bus_dev *cli_bus_at_pci(struct cli *c, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct vlab_bus *b = c->vbus ? &c->vbus->bus : NULL;
	for (size_t i = 0; b && i < b->ndevs; i++) {
		const struct vlab_pci_func *f = &b->devs[i].t.pci.id;
		if (b->devs[i].transport == VLAB_BUS_PCI && f->bus == bus && f->dev == dev && f->fn == fn)
			return &b->devs[i];
	}
	return NULL;
}

struct vlab_bus_dev *cli_bus_dev_of(struct cli *c, const struct hx_dev *hx, int *err)
{
	struct vlab_bus *b = cli_bus(c);
	struct vlab_bus_dev *bd;
	int rc;

	*err = VLAB_ENOMEM;
	if (!b)
		return NULL;
	if (!hx_transport_is_pci(hx->transport)) {
		bd = cli_bus_at_mmio(c, hx->base);
		if (bd)
			return bd;
		rc = vlab_bus_add_mmio(b, hx->base);
	} else {
		struct vlab_pci_host *h = hx_pci_firmware(c->m);
		int scan = h ? vlab_pci_scan(h) : VLAB_ENODEV; /* bridges first, as firmware */
		int bus = h ? hx_pci_bus_of(c->m, hx) : -1;
		if (bus < 0) {
			*err = scan < 0 ? scan : VLAB_ENODEV; /* behind a bridge left unnumbered */
			return NULL;
		}
		bd = cli_bus_at_pci(c, (uint8_t)bus, (uint8_t)hx->pci_dev, (uint8_t)hx->pci_fn);
		if (bd)
			return bd;
		rc = vlab_bus_add_pci_fn(b, h, (uint8_t)bus, (uint8_t)hx->pci_dev, (uint8_t)hx->pci_fn);
	}
	*err = rc;
	return rc ? NULL : &b->devs[b->ndevs - 1];
}

void cli_bus_handoff(struct cli *c)
{
	if (!c->vbus)
		return;
	int rc = vlab_bus_remove_all(&c->vbus->bus);
	if (rc)
		fprintf(stderr, "vlab: handoff: %s (its memory stays reserved)\n", vlab_strerror(rc));
	hx_vbus_free(c->vbus);
	c->vbus = NULL;
}

int cli_bus_list(struct cli *c)
{
	cli_ensure_scanned(c);
	struct vlab_bus *b = cli_bus(c);
	if (!b)
		return CLI_FAIL;
	/* U-Boot's `dm tree` columns: what the device is, its index, whether
	 * a driver is bound ([ + ]), the driver, and its name (the place). */
	printf(" Index  Probed  Device               Driver      Transport  Place\n");
	printf("------------------------------------------------------------------------\n");
	for (size_t i = 0; i < b->ndevs; i++) {
		const struct vlab_bus_dev *bd = &b->devs[i];
		const char *kind = vlab_virtio_id_name(bd->vdev->device_id);
		char dev[32];

		snprintf(dev, sizeof dev, "%u (%s)", (unsigned)bd->vdev->device_id, kind ? kind : "unknown");
		printf(" %5zu  [ %c ]   %-20s %-11s %-10s %s\n", i, bd->bound ? '+' : ' ', dev,
		       bd->drv ? bd->drv->name : "no driver", vlab_bus_transport_name(bd->transport),
		       vlab_bus_dev_place(bd));
	}
	if (b->ndevs == 0)
		printf("No virtio devices\n");
	return CLI_OK;
}
