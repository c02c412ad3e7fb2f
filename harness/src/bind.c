/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "harness/bind.h"

int hx_bind(struct hx_machine *m, const struct hx_dev *d, struct hx_bound *b, unsigned flags)
{
	int rc;
	memset(b, 0, sizeof *b);
	b->transport = d->transport;
	switch (d->transport) {
	case HX_MMIO_LEGACY:
	case HX_MMIO:
		rc = vlab_mmio_probe(&b->mmio, hx_platform(m), d->base, flags);
		if (rc == 0)
			b->vdev = &b->mmio.vdev;
		return rc;
	default:
		return VLAB_ENOTSUP;
	}
}
