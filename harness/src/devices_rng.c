/* SPDX-License-Identifier: MIT */
/* Entropy devices: the virtio-rng model (5.4) on any transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"
#include "devmodel/spec.h"

void hx_rng_opts_default(struct hx_rng_opts *o)
{
	memset(o, 0, sizeof *o);
	o->transport = HX_MMIO;
	dm_rng_cfg_default(&o->cfg);
}

struct hx_dev *hx_add_rng(struct hx_machine *m, const struct hx_rng_opts *o, const char **err)
{
	struct hx_rng_opts def;
	struct dm_rng_cfg cfg;
	char name[24];

	if (!o) {
		hx_rng_opts_default(&def);
		o = &def;
	}
	cfg = o->cfg;
	cfg.features = (cfg.features | o->features_on) & ~o->features_off;
	if (hx_transport_legacy_only(o->transport))
		cfg.features &= ~DM_BIT(DM_VIRTIO_F_VERSION_1);
	snprintf(name, sizeof name, "rng%u", hx_count_devs(m, DM_VIRTIO_ID_RNG));
	struct hx_dev *d = calloc(1, sizeof *d);
	struct dm_rng *r = dm_rng_new(&cfg, &m->env, name);
	if (!d || !r) {
		free(d);
		dm_rng_free(r);
		if (err)
			*err = "out of memory";
		return NULL;
	}
	d->device_id = DM_VIRTIO_ID_RNG;
	d->dv = &r->dv;
	d->rng = r;
	if (hx_attach(m, d, o->transport, err) != 0) {
		dm_rng_free(r);
		free(d);
		return NULL;
	}
	return d;
}
