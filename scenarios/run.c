/* SPDX-License-Identifier: MIT */
/* One probed device: what its transport found, then its type's scenario,
 * chosen by device ID as the bus binds drivers (vlab/bus.h). */
#include "scenario.h"
#include "vlab/rng.h"

static const struct {
	uint32_t device_id;
	unsigned (*run)(struct sc_out *o, const struct sc_dev *sd);
} scenarios[] = {
	{VIRTIO_ID_BLOCK, sc_blk_run},
	{VIRTIO_ID_NET, sc_net_run},
	{VLAB_VIRTIO_ID_RNG, sc_rng_run},
};

unsigned sc_run(struct sc_out *o, const struct sc_dev *sd)
{
	if (sd->pci)
		sc_pci_describe(o, sd->pci);
	for (unsigned i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (scenarios[i].device_id == sd->vdev->device_id)
			return scenarios[i].run(o, sd);
	sc_printf(o, "device %u: no scenario for it", (unsigned)sd->vdev->device_id);
	return 0;
}
