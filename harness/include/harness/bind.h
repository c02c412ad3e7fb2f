/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a machine device: the transport driver probed at the
 * place the device was attached (an mmio slot's base; a PCI function), as
 * firmware that knows its board would.  Tests and tools use it so that a
 * device-level test runs unchanged over every transport.
 */
#ifndef HX_BIND_H
#define HX_BIND_H

#include "harness/machine.h"
#include "vlab/bus.h"
#include "vlab/mmio.h"
#include "vlab/pci.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hx_bound {
	enum hx_transport transport;
	struct vlab_mmio mmio;
	struct vlab_pci pci;          /* PCI transports: found by enumerating bus 0 */
	struct vlab_virtio_dev *vdev; /* the probed device, inside one of the above */
};

/* Probe d's transport. flags: VLAB_MMIO_ALLOW_LEGACY and the like; the
 * driver's return code (0, VLAB_ENODEV, VLAB_ENOTSUP, ...). */
int hx_bind(struct hx_machine *m, const struct hx_dev *d, struct hx_bound *b, unsigned flags);

/*
 * Feed a virtio bus (vlab/bus.h) with what the machine's platform names,
 * as bare-metal firmware does with its board's: every virtio-mmio slot
 * (empty ones read DeviceID 0 and are skipped) and, when the machine has
 * PCI, every virtio function behind its firmware host (hx_pci_firmware).
 * Returns the number of devices on the bus, or a negative vlab_err.
 */
int hx_vbus_scan(struct hx_machine *m, struct vlab_bus *b);

/*
 * A bus over the machine with the library's registry
 * (vlab_default_drivers), storage for HX_VBUS_MAX devices included: scanned
 * and probed by hx_vbus_new (NULL on failure, with a log line), freed by
 * hx_vbus_free (which does not remove the devices: call
 * vlab_bus_remove_all first for a handoff).
 */
#define HX_VBUS_MAX 24
struct hx_vbus {
	struct vlab_bus bus;
	struct vlab_bus_dev devs[HX_VBUS_MAX];
	void *priv;
};
struct hx_vbus *hx_vbus_new(struct hx_machine *m, unsigned flags,
                          void (*configure)(void *ctx, struct vlab_bus_dev *bd), void *ctx);
void hx_vbus_free(struct hx_vbus *hb);
/*
 * A bus holding the one device b probed (hx_bind, hx_replay_bind), on the
 * platform it was probed with, matched to its driver and not yet bound
 * (vlab_bus_probe binds it): how a caller that knows where its device is
 * gets the driver's state from the bus.  The entry is hb->bus.devs[0];
 * NULL when out of memory.  b must outlive the bus.
 */
struct hx_vbus *hx_vbus_one(struct hx_bound *b);
/* An empty bus of that kind over plat (flags: the transports' probe
 * flags), to feed device by device; NULL when out of memory. */
struct hx_vbus *hx_vbus_alloc(const struct vlab_platform *plat, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
