/* SPDX-License-Identifier: MIT */
/* One probed device: what its transport found, then its type's scenario. */
#include "scenario.h"

unsigned sc_run(struct sc_out *o, const struct sc_dev *sd)
{
	if (sd->pci)
		sc_pci_describe(o, sd->pci);
	switch (sd->vdev->device_id) {
	case VIRTIO_ID_BLOCK:
		return sc_blk_run(o, sd);
	case VIRTIO_ID_NET:
		return sc_net_run(o, sd);
	default:
		sc_printf(o, "device %u: no scenario for it", (unsigned)sd->vdev->device_id);
		return 0;
	}
}
