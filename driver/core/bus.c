/* SPDX-License-Identifier: MIT */
/*
 * The virtio bus (vlab/bus.h): devices the transports found, matched to
 * the registry's drivers by device ID; the common steps run once here;
 * remove, one device or all of them, ends with a reset the bus confirms.
 */
#include "vlab/bus.h"

#if VLAB_CFG_BUS /* vlab/config.h */

#define PRIV_ALIGN 64u

size_t vlab_bus_priv_stride(const struct vlab_driver *const *drivers, size_t ndrivers)
{
	size_t max = 0;
	for (size_t i = 0; drivers && i < ndrivers; i++)
		if (drivers[i] && drivers[i]->priv_size > max)
			max = drivers[i]->priv_size;
	return (max + PRIV_ALIGN - 1) & ~(size_t)(PRIV_ALIGN - 1);
}

int vlab_bus_init(struct vlab_bus *b, const struct vlab_platform *plat,
                  const struct vlab_driver *const *drivers, size_t ndrivers, struct vlab_bus_dev *devs,
                  size_t max_devs, void *priv_mem, size_t priv_len)
{
	if (!b || !plat || !plat->ops || (ndrivers && !drivers) || (max_devs && !devs) ||
	    (priv_len && !priv_mem))
		return VLAB_EINVAL;
	for (size_t i = 0; i < ndrivers; i++) {
		const struct vlab_driver *d = drivers[i];
		if (!d || !d->device_id || !d->name || !d->probe || d->priv_align > PRIV_ALIGN ||
		    (d->priv_align & (d->priv_align - 1)) != 0)
			return VLAB_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (drivers[j]->device_id == d->device_id)
				return VLAB_EINVAL;
	}
	vlab_memset(b, 0, sizeof *b);
	b->plat = plat;
	b->drivers = drivers;
	b->ndrivers = ndrivers;
	b->devs = devs;
	b->max_devs = max_devs;
	b->priv_mem = priv_mem;
	b->priv_len = priv_len;
	b->priv_stride = vlab_bus_priv_stride(drivers, ndrivers);
	/* The caller's storage must be aligned for the drivers' state. */
	if (priv_mem && ((uintptr_t)priv_mem & (PRIV_ALIGN - 1)) != 0)
		return VLAB_EINVAL;
	return 0;
}

const struct vlab_driver *vlab_bus_driver_for(const struct vlab_bus *b, uint32_t device_id)
{
	for (size_t i = 0; b && i < b->ndrivers; i++)
		if (b->drivers[i]->device_id == device_id)
			return b->drivers[i];
	return NULL;
}

/* The next free entry of the table (not yet counted), or NULL. */
static struct vlab_bus_dev *next_dev(struct vlab_bus *b)
{
	if (b->ndevs >= b->max_devs)
		return NULL;
	struct vlab_bus_dev *bd = &b->devs[b->ndevs];
	vlab_memset(bd, 0, sizeof *bd);
	bd->bus = b;
	bd->index = (unsigned)b->ndevs;
	return bd;
}

static void list_dev(struct vlab_bus *b, struct vlab_bus_dev *bd)
{
	bd->drv = vlab_bus_driver_for(b, bd->vdev->device_id);
	b->ndevs++;
	vlab_log(b->plat, VLAB_LOG_DEBUG, "%s: virtio device %u, %s", vlab_bus_dev_place(bd),
	         (unsigned)bd->vdev->device_id, bd->drv ? bd->drv->name : "no driver");
}

#if VLAB_CFG_MMIO
int vlab_bus_add_mmio(struct vlab_bus *b, vlab_addr_t base)
{
	if (!b)
		return VLAB_EINVAL;
	struct vlab_bus_dev *bd = next_dev(b);
	if (!bd)
		return VLAB_ENOMEM;
	bd->transport = VLAB_BUS_MMIO;
	int rc = vlab_mmio_probe(&bd->t.mmio, b->plat, base, b->flags & VLAB_MMIO_ALLOW_LEGACY);
	if (rc)
		return rc;
	bd->vdev = &bd->t.mmio.vdev;
	list_dev(b, bd);
	return 0;
}
#endif

struct vlab_bus_dev *vlab_bus_add_dev(struct vlab_bus *b, struct vlab_virtio_dev *vdev,
                                      enum vlab_bus_transport t)
{
	if (!b || !vdev)
		return NULL;
	struct vlab_bus_dev *bd = next_dev(b);
	if (!bd)
		return NULL;
	bd->transport = t;
	bd->vdev = vdev;
	list_dev(b, bd);
	return bd;
}

#if VLAB_CFG_PCI
/* Virtio functions enumeration found, probed after the walk (which only
 * reads).  Bounded by the device table. */
#define PCI_FOUND_MAX 64
struct pci_found {
	unsigned n;
	bool overflow;
	uint8_t bdf[PCI_FOUND_MAX][3];
};

static int pci_visit(void *ctx, const struct vlab_pci_func *f)
{
	struct pci_found *w = ctx;
	if (vlab_pci_virtio_type(f) == 0)
		return 0;
	if (w->n >= PCI_FOUND_MAX) {
		w->overflow = true;
		return 0;
	}
	w->bdf[w->n][0] = f->bus;
	w->bdf[w->n][1] = f->dev;
	w->bdf[w->n][2] = f->fn;
	w->n++;
	return 0;
}

int vlab_bus_add_pci(struct vlab_bus *b, struct vlab_pci_host *h)
{
	if (!b || !h)
		return VLAB_EINVAL;
	/* A bridge that cannot be set up leaves the rest of the bus usable. */
	int scan = vlab_pci_scan(h);
	if (scan < 0)
		vlab_log(b->plat, VLAB_LOG_WARN, "pci: bridge setup: %s", vlab_strerror(scan));
	struct pci_found w;
	vlab_memset(&w, 0, sizeof w);
	int rc = vlab_pci_enumerate(h, pci_visit, &w);
	if (rc < 0)
		return rc;
	if (w.overflow)
		vlab_log(b->plat, VLAB_LOG_WARN, "pci: more than %u virtio functions, the rest ignored",
		         PCI_FOUND_MAX);
	int listed = 0;
	for (unsigned i = 0; i < w.n; i++) {
		rc = vlab_bus_add_pci_fn(b, h, w.bdf[i][0], w.bdf[i][1], w.bdf[i][2]);
		if (rc == VLAB_ENOMEM)
			return listed ? listed : VLAB_ENOMEM;
		if (rc) {
			vlab_log(b->plat, VLAB_LOG_WARN, "pci %02x:%02x.%x: %s", w.bdf[i][0], w.bdf[i][1],
			         w.bdf[i][2], vlab_strerror(rc));
			continue;
		}
		listed++;
	}
	return listed;
}

int vlab_bus_add_pci_fn(struct vlab_bus *b, struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn)
{
	if (!b || !h)
		return VLAB_EINVAL;
	struct vlab_bus_dev *bd = next_dev(b);
	if (!bd)
		return VLAB_ENOMEM;
	bd->transport = VLAB_BUS_PCI;
	int rc = vlab_pci_probe(&bd->t.pci, h, bus, dev, fn, b->flags);
	if (rc)
		return rc;
	bd->vdev = &bd->t.pci.vdev;
	list_dev(b, bd);
	return 0;
}
#endif

#endif /* VLAB_CFG_BUS */

/* The common steps, for the bus and for the device drivers' own init
 * functions: in every configuration. */
int vlab_driver_start(const struct vlab_driver *drv, void *priv, struct vlab_virtio_dev *d,
                      const void *cfg, uint64_t refuse)
{
	if (!drv || !d || !d->plat || !d->plat->ops || (drv->priv_size && !priv))
		return VLAB_EINVAL;
	if (d->device_id != drv->device_id)
		return VLAB_ENODEV;
	/* The common steps, once (DRV-3.1.1-1): reset, ACKNOWLEDGE, DRIVER,
	 * then the features both sides implement, FEATURES_OK. */
	int rc = vlab_virtio_begin(d);
	if (!rc)
		rc = vlab_virtio_negotiate(d, drv->features & ~refuse, drv->required, drv->deps, drv->ndeps);
	if (rc)
		return rc; /* FAILED already set by the core */
	rc = drv->probe(priv, d, cfg);
	if (rc)
		vlab_virtio_fail(d); /* DRV-3.1.1-5 */
	return rc;
}

#if VLAB_CFG_BUS

int vlab_bus_probe(struct vlab_bus_dev *bd)
{
	if (!bd || !bd->bus || !bd->vdev)
		return VLAB_EINVAL;
	if (bd->bound)
		return VLAB_EBUSY;
	struct vlab_bus *b = bd->bus;
	const struct vlab_driver *drv = bd->drv;
	if (!drv)
		return 0; /* listed, not driven */
	size_t need = b->priv_stride * (bd->index + 1);
	if (drv->priv_size && (need > b->priv_len || b->priv_stride < drv->priv_size)) {
		bd->probe_rc = VLAB_ENOMEM;
		return bd->probe_rc;
	}
	bd->priv = drv->priv_size ? b->priv_mem + b->priv_stride * bd->index : NULL;
	if (bd->priv)
		vlab_memset(bd->priv, 0, drv->priv_size);
	if (b->configure)
		b->configure(b->configure_ctx, bd);
	int rc = vlab_driver_start(drv, bd->priv, bd->vdev, bd->cfg, 0);
	bd->probe_rc = rc;
	bd->bound = rc == 0;
	if (rc)
		vlab_log(b->plat, VLAB_LOG_WARN, "%s: %s: %s", vlab_bus_dev_place(bd), drv->name,
		         vlab_strerror(rc));
	return rc;
}

int vlab_bus_probe_all(struct vlab_bus *b)
{
	if (!b)
		return VLAB_EINVAL;
	int n = 0;
	for (size_t i = 0; i < b->ndevs; i++) {
		struct vlab_bus_dev *bd = &b->devs[i];
		if (bd->drv && !bd->bound && vlab_bus_probe(bd) == 0)
			n++;
	}
	return n;
}

int vlab_bus_remove(struct vlab_bus_dev *bd)
{
	if (!bd || !bd->vdev)
		return VLAB_EINVAL;
	int rc = 0;
	if (bd->bound && bd->drv->remove)
		rc = bd->drv->remove(bd->priv);
	bd->bound = false;
	/* Confirm: whatever the driver did, the device must read status 0
	 * before anything it was given is another's (DRV-2.4.2-1). */
	int reset = vlab_virtio_reset(bd->vdev);
	if (reset)
		return VLAB_EWEDGED;
	return rc == VLAB_EWEDGED ? rc : 0;
}

int vlab_bus_remove_all(struct vlab_bus *b)
{
	if (!b)
		return VLAB_EINVAL;
	int first = 0;
	for (size_t i = b->ndevs; i-- > 0;) {
		int rc = vlab_bus_remove(&b->devs[i]);
		if (rc && !first)
			first = rc;
	}
	return first;
}

struct vlab_bus_dev *vlab_bus_find(struct vlab_bus *b, uint32_t device_id, unsigned nth)
{
	for (size_t i = 0; b && i < b->ndevs; i++) {
		struct vlab_bus_dev *bd = &b->devs[i];
		if (bd->bound && bd->vdev->device_id == device_id && nth-- == 0)
			return bd;
	}
	return NULL;
}

const char *vlab_bus_transport_name(enum vlab_bus_transport t)
{
	return t == VLAB_BUS_PCI ? "pci" : "mmio";
}

const char *vlab_virtio_id_name(uint32_t device_id)
{
	/* 5: the device types this library or its users meet most. */
	static const char *const names[] = {
		[1] = "network",  [2] = "block",    [3] = "console", [4] = "entropy",
		[5] = "balloon",  [8] = "scsi",     [9] = "9p",      [16] = "gpu",
		[18] = "input",   [19] = "vsock",   [20] = "crypto", [26] = "fs",
	};
	if (device_id >= sizeof names / sizeof names[0])
		return NULL;
	return names[device_id];
}
#endif
