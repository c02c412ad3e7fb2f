/* SPDX-License-Identifier: MIT */
/*
 * The registry: every device driver in this library, one line each
 * (docs/adding-a-device.md).  A caller may give the bus a list of its own.
 */
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/rng.h"

const struct vlab_driver *const vlab_default_drivers[] = {
	&vlab_net_driver,
	&vlab_blk_driver,
	&vlab_rng_driver,
};
const size_t vlab_default_ndrivers = sizeof vlab_default_drivers / sizeof vlab_default_drivers[0];
