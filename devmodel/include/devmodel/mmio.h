/* SPDX-License-Identifier: MIT */
/* virtio-mmio front end (4.2), versions 1 (legacy) and 2, register for register. */
#ifndef DM_MMIO_H
#define DM_MMIO_H

#include "devmodel/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dm_mmio_cfg {
	uint32_t version;        /* 1 or 2 */
	uint32_t vendor_id;      /* QEMU uses 0x554d4551 ("QEMU") */
};

struct dm_mmio {
	struct dm_mmio_cfg cfg;
	struct dm_virtio *dv;
	uint32_t dev_features_sel, drv_features_sel;
	uint32_t queue_sel;
	uint32_t guest_page_size; /* legacy */
	uint32_t shm_sel;
	/* Added: DeviceFeaturesSel written since the last DeviceFeatures read
	 * (DRV-4.2.2.2-12); DriverFeaturesSel since the last DriverFeatures write (-13). */
	bool dev_sel_fresh, drv_sel_fresh;
};

void dm_mmio_init(struct dm_mmio *m, const struct dm_mmio_cfg *cfg, struct dm_virtio *dv);
/* Register access at offset off from the base, width 1/2/4 (width other
 * than 4 on a control register is a violation, DRV-4.2.2.2-4). */
uint32_t dm_mmio_read(struct dm_mmio *m, uint32_t off, unsigned width);
void dm_mmio_write(struct dm_mmio *m, uint32_t off, unsigned width, uint32_t val);

#ifdef __cplusplus
}
#endif
#endif
