/* SPDX-License-Identifier: MIT */
/*
 * The virtio bus: the driver model.  Three levels, as in U-Boot's and
 * Linux's virtio support:
 *   - the core (virtio.h) does what every device needs: reset, ACKNOWLEDGE,
 *     DRIVER, feature negotiation; the bus runs it once per device;
 *   - the transports (mmio.h, pci.h) find devices and report their IDs; the
 *     bus is fed by probing every virtio-mmio slot and every virtio PCI
 *     function the platform names;
 *   - device drivers (blk, net, rng) are bound to devices by device ID,
 *     through a registry of struct vlab_driver entries.
 *
 * No global state and no allocation: the caller gives the bus its device
 * table and the storage for the drivers' per-device state
 * (vlab_bus_priv_stride says how much one device needs).  A device no
 * driver claims is listed (ID, transport, place), which is no error.
 *
 * Remove (one device, or all: the handoff before an operating system takes
 * the machine): the driver's remove stops its I/O and releases its queues,
 * then the bus resets the device and waits (bounded) until it reads status
 * 0 (DRV-2.4.2-1), so that no DMA is in flight afterwards.  See
 * docs/adding-a-device.md for how a device driver joins.
 */
#ifndef VLAB_BUS_H
#define VLAB_BUS_H

#include "vlab/mmio.h"
#include "vlab/pci.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vlab_bus;
struct vlab_bus_dev;

/* A device driver: one registry entry.  Every field but remove is needed. */
struct vlab_driver {
	uint32_t device_id;        /* VIRTIO_ID_* it drives */
	const char *name;          /* "virtio-blk", ... */
	/* Feature negotiation, run by the bus before probe: the features the
	 * driver implements (device-type bits and VERSION_1; the ring
	 * features are the core's), those it cannot work without, and the
	 * dependencies between its bits (DRV-2.2.1-2). */
	uint64_t features;
	uint64_t required;
	const struct vlab_feature_dep *deps;
	size_t ndeps;
	/* Bytes (and alignment, a power of two up to 64) of the driver's
	 * per-device state, which the bus hands to probe as bd->priv. */
	size_t priv_size;
	size_t priv_align;
	/* Called after FEATURES_OK with the driver's state (priv_size bytes,
	 * zeroed) and the caller's choices (or NULL): read the config, set up
	 * the queues, DRIVER_OK.  On failure FAILED is set (DRV-3.1.1-5) and
	 * probe must have released what it took. */
	int (*probe)(void *priv, struct vlab_virtio_dev *d, const void *cfg);
	/* Stop the device's I/O, reset it and release its queues and DMA
	 * memory (the release rule).  0, or VLAB_EWEDGED when the device did
	 * not acknowledge its reset (then its memory is kept). */
	int (*remove)(void *priv);
};

enum vlab_bus_transport {
	VLAB_BUS_MMIO = 0,
	VLAB_BUS_PCI = 1,
};

/* One device the transports found. */
struct vlab_bus_dev {
	struct vlab_bus *bus;
	unsigned index;                  /* 0, 1, ... in the order found */
	enum vlab_bus_transport transport;
	union {
		struct vlab_mmio mmio;
		struct vlab_pci pci;
	} t;
	struct vlab_virtio_dev *vdev;    /* inside t */
	const struct vlab_driver *drv;   /* NULL: no driver for its ID */
	void *priv;                      /* the driver's state (drv->priv_size bytes) */
	/* Set by the caller before probe (vlab_bus.configure), read by the
	 * driver's probe: its choices (e.g. struct vlab_net_cfg *), or NULL. */
	const void *cfg;
	bool bound;                      /* probe succeeded; remove is due */
	int probe_rc;                    /* last probe's result (0 when none ran) */
};

struct vlab_bus {
	const struct vlab_platform *plat;
	const struct vlab_driver *const *drivers;
	size_t ndrivers;
	struct vlab_bus_dev *devs;       /* caller's table */
	size_t max_devs;
	size_t ndevs;
	uint8_t *priv_mem;               /* caller's storage for the drivers' state */
	size_t priv_len;
	size_t priv_stride;              /* bytes per device in priv_mem */
	/* Transport flags for every probe (VLAB_MMIO_ALLOW_LEGACY, which is
	 * VLAB_PCI_ALLOW_LEGACY, and VLAB_PCI_FORCE_LEGACY). */
	unsigned flags;
	/* Optional: called for each device just before the common steps, to
	 * set bd->cfg, the timeout or the refused ring features. */
	void (*configure)(void *ctx, struct vlab_bus_dev *bd);
	void *configure_ctx;
};

/*
 * The common steps and a driver's probe, on one device: VLAB_ENODEV when
 * its ID is not drv's; reset, ACKNOWLEDGE, DRIVER (DRV-3.1.1-1); the
 * features drv implements, less refuse, negotiated (FEATURES_OK); then
 * drv->probe(priv, d, cfg).  The bus runs it for every device it binds;
 * a driver's own init (vlab_blk_init, ...) is this with its entry.
 */
int vlab_driver_start(const struct vlab_driver *drv, void *priv, struct vlab_virtio_dev *d,
                      const void *cfg, uint64_t refuse);

/* Bytes of per-device storage the drivers of a registry need (the largest
 * priv_size, rounded up to 64); give the bus max_devs times that. */
size_t vlab_bus_priv_stride(const struct vlab_driver *const *drivers, size_t ndrivers);

/*
 * Set up an empty bus over the caller's storage.  priv_mem may be NULL when
 * no driver has state (priv_len then 0).  VLAB_EINVAL for a NULL platform,
 * a driver entry without device_id, name or probe, or two entries for one
 * device ID.
 */
int vlab_bus_init(struct vlab_bus *b, const struct vlab_platform *plat,
                  const struct vlab_driver *const *drivers, size_t ndrivers, struct vlab_bus_dev *devs,
                  size_t max_devs, void *priv_mem, size_t priv_len);

/*
 * Feed the bus.  add_mmio probes the virtio-mmio slot at base: 0 when a
 * device was listed, VLAB_ENODEV for an empty slot or no virtio-mmio there
 * (quietly), another error for a slot the transport refuses.  add_pci
 * numbers the bridges (vlab_pci_scan), enumerates every bus and probes
 * every virtio function; it returns how many devices it listed, or an
 * error (a function the transport refuses is logged and skipped).
 * VLAB_ENOMEM when the device table is full.
 */
int vlab_bus_add_mmio(struct vlab_bus *b, vlab_addr_t base);
int vlab_bus_add_pci(struct vlab_bus *b, struct vlab_pci_host *h);
/* One PCI function the caller found (enumerated) itself: probed and
 * listed, 0; the transport's error (nothing listed), or VLAB_ENOMEM when
 * the table is full.  add_pci runs it for every virtio function. */
int vlab_bus_add_pci_fn(struct vlab_bus *b, struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn);

/*
 * List a device the caller probed itself through its transport (a board
 * that knows where its one device is; a replay that probes as its trace
 * says): no probe here, the device is matched to its driver by ID.  vdev
 * stays the caller's and must outlive the entry (bd->t is unused).  The
 * entry, or NULL (VLAB_ENOMEM: the table is full; a NULL argument).
 */
struct vlab_bus_dev *vlab_bus_add_dev(struct vlab_bus *b, struct vlab_virtio_dev *vdev,
                                      enum vlab_bus_transport t);

/* The registry entry for a device ID, or NULL. */
const struct vlab_driver *vlab_bus_driver_for(const struct vlab_bus *b, uint32_t device_id);

/*
 * Bind one device: find its driver by ID; none is no error (0, bd->drv
 * NULL, the device untouched).  Otherwise the common steps (reset,
 * ACKNOWLEDGE, DRIVER: DRV-3.1.1-1; negotiation with the driver's feature
 * set, FEATURES_OK) and the driver's probe.  Returns probe's result (also
 * in bd->probe_rc); VLAB_EBUSY when already bound.
 */
int vlab_bus_probe(struct vlab_bus_dev *bd);
/* Bind every listed device that is not bound; returns the number bound,
 * failures are in each bd->probe_rc. */
int vlab_bus_probe_all(struct vlab_bus *b);

/*
 * Remove one device: the driver's remove (if bound), then a reset the bus
 * confirms (status reads 0).  A device without a driver is reset too.
 * 0 when the device reads status 0 afterwards, VLAB_EWEDGED when it did not
 * acknowledge the reset (nothing it was given may be reused).
 */
int vlab_bus_remove(struct vlab_bus_dev *bd);
/* The handoff: remove every device, in reverse order of finding.  0 when
 * every device was reset, else the first error (each is still tried). */
int vlab_bus_remove_all(struct vlab_bus *b);

/* The nth bound device (0, 1, ...) driven by a driver for device_id, or
 * NULL. */
struct vlab_bus_dev *vlab_bus_find(struct vlab_bus *b, uint32_t device_id, unsigned nth);
/* "mmio" or "pci"; and where: "mmio@10001000" / "pci 00:01.0" (the
 * transport's name). */
const char *vlab_bus_transport_name(enum vlab_bus_transport t);
static inline const char *vlab_bus_dev_place(const struct vlab_bus_dev *bd)
{
	return bd->vdev && bd->vdev->name ? bd->vdev->name : "?";
}
/* The spec's name of a device type (5: "network", "block", "entropy",
 * ...), or NULL when the ID is not one it names. */
const char *vlab_virtio_id_name(uint32_t device_id);

/* The registry of the drivers in this library (driver/core/registry.c),
 * and its length. */
extern const struct vlab_driver *const vlab_default_drivers[];
extern const size_t vlab_default_ndrivers;

#ifdef __cplusplus
}
#endif
#endif
