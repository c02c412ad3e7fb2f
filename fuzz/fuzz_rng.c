/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-rng driver (driver/rng/rng.c) against a device
 * whose answers come from the input: how many bytes it writes into each
 * buffer (all, 8 short, none, any), and its lies (used length above the
 * buffer, wrong id, a completion twice, one that never comes, registers).
 * The control stream asks for reads of 0 .. 600 bytes and re-inits.
 *
 * Beyond the sanitizers: a read returns at most what was asked; from a
 * device that never lied, the bytes handed out are exactly the bytes it
 * wrote, in order (none made up, none twice); a device that lied may
 * break the driver but never hang it (fz's delay bound); broken stays
 * broken until init; the buffer never goes back while the device holds
 * it (a read that returns leaves nothing posted unless the driver said
 * VLAB_EWEDGED).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/mmio.h"
#include "vlab/rng.h"

static struct fz F;
static struct vlab_mmio M;
static struct vlab_rng R;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int bring_up(struct fz *f, bool lies)
{
	uint8_t keep = f->lie_shift;
	if (!lies)
		f->lie_shift = 8;
	int rc = vlab_mmio_probe(&M, &f->plat, FZ_MMIO_BASE, VLAB_MMIO_ALLOW_LEGACY);
	if (rc == 0) {
		M.vdev.timeout_ns = FZ_TIMEOUT_NS;
		rc = vlab_rng_init(&R, &M.vdev);
	}
	f->lie_shift = keep;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[600], got_log[4096];
	struct fz *f = &F;
	uint32_t handed = 0; /* bytes handed out since the device was initialised */
	bool up;

	fz_init(f, data, size);
	fz_trace_start(f, "fuzz_rng");
	uint8_t mode = fz_choose8(f);
	f->lie_shift = (uint8_t)((mode & 0xf) > 8 ? 8 : (mode & 0xf)); /* 0: always lie .. 8: never */
	f->racy = (mode & 0x10) != 0;
	fz_rng_device(f, 8);
	if (mode & 0x20)
		f->version = 1;
	fz_trace_device(f, "rng", (mode & 0x20) ? "mmio-legacy" : "mmio", NULL, VLAB_MMIO_ALLOW_LEGACY);
	up = bring_up(f, (mode & 0x40) != 0) == 0;
	if (!up && !f->lied && !f->racy)
		FZ_ABORT("an honest rng device was refused");

	for (unsigned step = 0; up && step < 32 && !fz_choose_done(f); step++) {
		uint8_t op = fz_choose8(f);
		if (op < 16) { /* init again: a broken device comes back */
			vlab_rng_shutdown(&R);
			f->rng_logged = 0;
			handed = 0;
			up = bring_up(f, true) == 0;
			continue;
		}
		bool was_broken = R.stopped;
		size_t want = fz_choose16(f) % sizeof out, got = 12345;
		int rc = vlab_rng_read(&R, out, want, &got);
		if (got > want)
			FZ_ABORT("read of %zu gave %zu bytes", want, got);
		if (was_broken && rc != VLAB_EBROKEN)
			FZ_ABORT("a stopped device answered a read: %d", rc);
		if (rc != 0 && rc != VLAB_EIO && rc != VLAB_EBROKEN && rc != VLAB_ETIMEDOUT && rc != VLAB_EPROTO &&
		    rc != VLAB_EWEDGED && rc != VLAB_ENEEDSRESET)
			FZ_ABORT("read returned %d", rc);
		if (rc != VLAB_EWEDGED && fz_device_holds(f, R.buf, VLAB_RNG_BUF_BYTES))
			FZ_ABORT("read returned while the device holds the buffer");
		/* From a device that never lied: the bytes it wrote, in order. */
		if (!f->lied && !f->racy) {
			if (handed + got <= sizeof got_log) {
				memcpy(got_log + handed, out, got);
				if (memcmp(got_log + handed, f->rng_log + handed, got) != 0)
					FZ_ABORT("bytes handed out that the device did not write");
			}
			if (rc == 0 && want && got == 0)
				FZ_ABORT("success with no byte");
		}
		handed += (uint32_t)got;
	}
	if (up)
		vlab_rng_shutdown(&R);
	fz_fini(f);
	return 0;
}
