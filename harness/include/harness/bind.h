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

#ifdef __cplusplus
}
#endif
#endif
