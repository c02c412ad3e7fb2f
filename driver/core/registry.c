/* SPDX-License-Identifier: MIT */
/*
 * The registry: every device driver in this library, one line each
 * (docs/adding-a-device.md).  A caller may give the bus a list of its own.
 */
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/rng.h"

#if VLAB_CFG_BUS /* vlab/config.h */

const struct vlab_driver *const vlab_default_drivers[] = {
#if VLAB_CFG_NET
	&vlab_net_driver,
#endif
#if VLAB_CFG_BLK
	&vlab_blk_driver,
#endif
#if VLAB_CFG_RNG
	&vlab_rng_driver,
#endif
};
const size_t vlab_default_ndrivers = sizeof vlab_default_drivers / sizeof vlab_default_drivers[0];
#else
typedef int vlab_core_registry_compiled_out; /* ISO C: no empty translation unit */
#endif
