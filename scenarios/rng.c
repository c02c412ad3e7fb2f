/* SPDX-License-Identifier: MIT */
/*
 * The virtio-rng scenario: initialise, read random bytes in a few sizes,
 * and print how many came, never which (QEMU's are random, the model's
 * seeded: the transcripts compare counts).  Small requests matter: one
 * real device answered 0 bytes to them, which hung a bootloader.
 */
#include "scenario.h"
#include "vlab/bus.h"
#include "vlab/rng.h"

#define SC_RNG_WORK_BYTES 8192u

struct sc_rng_work {
	struct vlab_rng *rng; /* the driver's state, on the bus */
	uint8_t data[512];
};
_Static_assert(sizeof(struct sc_rng_work) <= SC_RNG_WORK_BYTES, "SC_RNG_WORK_BYTES too small");

unsigned sc_rng_run(struct sc_out *o, const struct sc_dev *sd)
{
	static const uint32_t sizes[] = {1, 8, 16, 64, 100, 512};
	struct vlab_virtio_dev *d = sd->vdev;
	const struct vlab_platform *p = d->plat;
	const unsigned failures_before = o->failures;

	struct sc_rng_work *w = sc_begin(o, sd, "rng", SC_RNG_WORK_BYTES, 64);
	if (!w)
		return o->failures - failures_before;
	int rc = vlab_bus_probe(sd->bd);
	w->rng = sd->bd->priv;
	sc_printf(o, "init: %s", rc ? vlab_errname(rc) : "ok");
	if (rc) {
		sc_fail(o, "vlab_rng_init: %s", vlab_strerror(rc));
		p->ops->dma_free(p->ctx, w, SC_RNG_WORK_BYTES);
		return o->failures - failures_before;
	}
	sc_printf(o, "interface: %s", d->legacy ? "legacy" : "modern");
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t got = 0;
		rc = vlab_rng_read(w->rng, w->data, sizes[i], &got);
		sc_printf(o, "read %u: %s, %u bytes", (unsigned)sizes[i], rc ? vlab_errname(rc) : "ok",
		          (unsigned)got);
		if (rc || got != sizes[i])
			sc_fail(o, "asked %u random bytes, got %u", (unsigned)sizes[i], (unsigned)got);
	}
	rc = vlab_virtio_check(d);
	sc_printf(o, "device state: %s", rc ? vlab_errname(rc) : "ok");
	if (rc)
		sc_fail(o, "device ended in state %s", vlab_errname(rc));
	(void)vlab_bus_remove(sd->bd); /* the driver's shutdown, then a confirmed reset */
	p->ops->dma_free(p->ctx, w, SC_RNG_WORK_BYTES);
	unsigned failures = o->failures - failures_before;
	sc_printf(o, "result rng: %s", failures ? "FAIL" : "pass");
	return failures;
}
