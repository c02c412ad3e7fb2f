/* SPDX-License-Identifier: MIT */
/* One device on the bus: what its transport found, then the scenario of
 * the driver the bus matched it to (vlab/bus.h), one line per driver. */
#include "scenario.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/rng.h"

static const struct {
	const struct vlab_driver *drv;
	unsigned (*run)(struct sc_out *o, const struct sc_dev *sd);
} scenarios[] = {
	{&vlab_blk_driver, sc_blk_run},
	{&vlab_net_driver, sc_net_run},
	{&vlab_rng_driver, sc_rng_run},
};

unsigned sc_run(struct sc_out *o, const struct sc_dev *sd)
{
	if (sd->pci)
		sc_pci_describe(o, sd->pci);
	const struct vlab_driver *drv = sd->bd ? sd->bd->drv : NULL;
	for (unsigned i = 0; drv && i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (scenarios[i].drv == drv)
			return scenarios[i].run(o, sd);
	sc_printf(o, "device %u: no scenario for it", (unsigned)sd->vdev->device_id);
	return 0;
}
