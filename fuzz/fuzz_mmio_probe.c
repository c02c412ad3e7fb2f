/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-mmio probe and blk initialisation (reset, feature
 * negotiation, config space, queue setup, DRIVER_OK) against registers whose
 * answers come from the input: the first control byte says how often the
 * device lies (never .. always) and whether legacy devices are allowed; each
 * register read then takes one control byte (lie or not) and a lie takes its
 * value from the payload.  An initialised device does one read and is shut
 * down.  Beyond the sanitizers: init succeeds only with sane values
 * (fz_blk_accepted), and a device that never lied is probed, initialised
 * and read.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/blk.h"
#include "vlab/mmio.h"

static struct fz F;
static struct vlab_mmio M;
static struct vlab_blk B;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = &F;
	uint8_t mode, cap;
	bool honest;
	int rc;

	fz_init(f, data, size);
	fz_trace_start(f, "fuzz_mmio_probe");
	mode = fz_ring_offer(f, 0);
	f->lie_shift = (uint8_t)(mode & 7);     /* 0: always lie .. 7: 1 in 128 */
	f->racy = (mode & 0x10) != 0;
	if (mode & 0x20)
		f->version = 1;
	fz_trace_device(f, "blk", (mode & 0x20) ? "mmio-legacy" : "mmio", NULL,
	                (mode & 0x40) ? VLAB_MMIO_ALLOW_LEGACY : 0);
	rc = vlab_mmio_probe(&M, &f->plat, FZ_MMIO_BASE, (mode & 0x40) ? VLAB_MMIO_ALLOW_LEGACY : 0);
	/* A device that never lied (f->lied), and that the flags allow, is
	 * probed, initialised (unless the queue cap is too small) and read. */
	honest = !f->lied && !f->racy && (f->version == 2 || (mode & 0x40));
	if (rc != 0) {
		if (honest)
			FZ_ABORT("honest device refused by probe: %d", rc);
		goto out;
	}
	if (M.version != 2 && !(M.version == 1 && (mode & 0x40)))
		abort(); /* accepted a version it should not */
	M.vdev.timeout_ns = FZ_TIMEOUT_NS;
	cap = fz_choose8(f);
	rc = vlab_blk_init(&B, &M.vdev, cap);
	if (rc == 0)
		rc = fz_blk_accepted(f, &B);
	/* (a cap of 1..3 is a queue of 1 or 2: too small for blk) */
	if (rc != 0 && honest && !f->lied && (cap == 0 || cap >= 4))
		FZ_ABORT("honest device failed blk init or a read: %d", rc);
out:
	fz_fini(f);
	return 0;
}
