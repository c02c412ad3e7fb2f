/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: blk I/O against a device whose answers come from the input.
 * The device is probed and initialised (honestly, unless the mode byte asks
 * for lies during initialisation too), then the control stream drives
 * operations: synchronous reads, writes, flushes, DISCARD, WRITE_ZEROES, GET_ID, asynchronous
 * submissions with poll and the interrupt entry, re-initialisation.  The
 * device's lies (registers, used ring, status bytes, IDs) come from the
 * payload; racy mode makes every shared-memory read fresh.  An input whose
 * mode byte is FZ_BLK_MQ_MAGIC has the device offer MQ: the next two bytes
 * are its num_queues (any value, 0 and lies included) and how many queues
 * its transport has (1 + the byte % FZ_NQ), then the mode byte follows.
 *
 * Beyond the sanitizers: every request the driver took is finished by the
 * end (nothing forgotten) and comes back exactly once (from poll, or from
 * the wait of a synchronous call: none is lost, none twice), from a device
 * that never lied a read or write that succeeded moved exactly the
 * caller's data, poll only returns requests it was given, a successful
 * GET_ID is printable text, broken stays broken until reset, and no buffer
 * goes back to the caller while the device still holds it (the release
 * rule: a stalled chain is the device's until a reset; only VLAB_EWEDGED
 * may say otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/blk.h"
#include "vlab/mmio.h"

#define NREQ 4
/* The mode byte that makes the device offer MQ (see above). */
#define FZ_BLK_MQ_MAGIC 0x6du

static struct fz F;
static struct vlab_mmio M;
static struct vlab_blk B;

/* From a device that never lied, a synchronous read or write that
 * succeeded moved exactly the caller's data. */
static void same_as_disk(struct fz *f, int rc, uint64_t sector, const uint8_t *buf, uint32_t n,
                         const char *what)
{
	if (rc != 0 || f->lied)
		return;
	if (sector + n > FZ_DISK_SECTORS)
		FZ_ABORT("%s of sectors %llu+%u beyond the disk succeeded", what, (unsigned long long)sector, n);
	if (memcmp(f->disk + sector * 512u, buf, 512u * n) != 0)
		FZ_ABORT("%s of sectors %llu+%u succeeded with other data", what, (unsigned long long)sector, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Poll until nothing is left to return: every request that is done by then
 * must have come back (a completion a synchronous call reaped for another
 * request is not lost), and none twice. */
static void drain(struct fz *f, struct vlab_blk_req *req, bool *owned, bool *lent)
{
	(void)f;
	for (unsigned i = 0; i < 4 * NREQ + 4; i++) {
		struct vlab_blk_req *done = NULL;
		if (vlab_blk_poll(&B, &done) != 0)
			break;
		if (!done || done < req || done >= req + NREQ || !owned[done - req])
			FZ_ABORT("poll returned a request it does not hold (twice, or never given)");
		owned[done - req] = false;
		lent[done - req] = done->result == VLAB_EWEDGED;
	}
	for (unsigned k = 0; k < NREQ; k++)
		if (owned[k] && req[k].done)
			FZ_ABORT("request %u finished but never came back from poll", k);
}

/* The release rule: what went back to the caller is out of the device's
 * hands (unless the driver said VLAB_EWEDGED). */
static void release_rule(struct fz *f, const uint8_t *buf, bool buf_lent, const uint8_t *abuf,
                         const bool *owned, const bool *lent, const bool *submitted)
{
	if (!buf_lent && fz_device_holds(f, buf, 16 * 512))
		FZ_ABORT("a synchronous call returned while the device holds its buffer");
	for (unsigned k = 0; k < NREQ; k++)
		if (submitted[k] && !owned[k] && !lent[k] && fz_device_holds(f, abuf + k * 4 * 512, 4 * 512))
			FZ_ABORT("request %u came back while the device holds its buffer", k);
}

static int bring_up(struct fz *f, uint8_t mode, bool lies)
{
	uint8_t keep = f->lie_shift;
	int rc;

	if (!lies)
		f->lie_shift = 8;
	rc = vlab_mmio_probe(&M, &f->plat, FZ_MMIO_BASE, 0);
	M.vdev.timeout_ns = FZ_TIMEOUT_NS;
	if (rc == 0)
		rc = vlab_blk_init(&B, &M.vdev, (mode & 0x80) ? 8 : 0);
	f->lie_shift = keep;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vlab_blk_req req[NREQ];
	static bool submitted[NREQ];
	static bool owned[NREQ]; /* the driver holds it: until poll returns it, or shutdown */
	static bool lent[NREQ];  /* came back VLAB_EWEDGED: the device may still write it */
	bool buf_lent = false;   /* likewise, buf after a synchronous call */
	bool leaked = false;     /* a shutdown could not reset the device: its maps stay for good */
	struct fz *f = &F;
	uint8_t mode, *buf, *abuf;
	vlab_addr_t dev;
	bool up;

	fz_init(f, data, size);
	fz_trace_start(f, "fuzz_blk_io");
	mode = fz_ring_offer(f, 0);
	if (mode == FZ_BLK_MQ_MAGIC) {
		const uint8_t claimed = fz_choose8(f);
		const unsigned served = 1u + fz_choose8(f) % FZ_NQ;
		f->features |= VLAB_BIT(VIRTIO_BLK_F_MQ);
		fz_st(f->config + VIRTIO_BLK_CFG_NUM_QUEUES, 2, claimed);
		for (unsigned i = 0; i < served; i++)
			f->q[i].max = f->q[0].max;
		mode = fz_choose8(f);
	}
	f->racy = mode & 1;
	f->lie_shift = (uint8_t)(1 + ((mode >> 1) & 7)); /* 8: an honest device */
	memset(req, 0, sizeof req);
	memset(submitted, 0, sizeof submitted);
	memset(owned, 0, sizeof owned);
	memset(lent, 0, sizeof lent);
	buf = fz_buffer(f, 16 * 512, 512, &dev);
	abuf = fz_buffer(f, NREQ * 4 * 512, 512, &dev);
	if (!buf || !abuf)
		abort();
	up = bring_up(f, mode, (mode & 0x40) != 0) == 0;
	/* Queues used: at least one, never one the transport does not have nor
	 * more than the driver holds, whatever num_queues said. */
	if (up && !f->lied) {
		unsigned have = 0;
		while (have < FZ_NQ && f->q[have].max)
			have++;
		if (B.info.num_queues < 1 || B.info.num_queues > have || B.info.num_queues > VLAB_BLK_MAX_QUEUES)
			FZ_ABORT("%u queues used of num_queues %u, %u on the transport", B.info.num_queues,
			         B.info.num_queues_offered, have);
	}

	for (unsigned step = 0; up && step < 64 && !fz_choose_done(f); step++) {
		uint8_t op = fz_choose8(f);
		bool was_broken = M.vdev.broken;
		uint64_t sector = fz_choose8(f) % (FZ_DISK_SECTORS + 4);
		uint32_t n = 1u + (op >> 4) % 16;
		int rc = 0;

		switch (op & 7) {
		case 0:
			rc = vlab_blk_read(&B, sector, buf, n);
			same_as_disk(f, rc, sector, buf, n, "read");
			break;
		case 1:
			memset(buf, op ^ (int)step, 512u * n);
			rc = vlab_blk_write(&B, sector, buf, n);
			same_as_disk(f, rc, sector, buf, n, "write");
			break;
		case 2:
			/* FLUSH, or DISCARD / WRITE_ZEROES (limits and statuses
			 * from the fuzz input) when the top bit is set. */
			if (!(op & 0x80))
				rc = vlab_blk_flush(&B);
			else if (op & 0x40) {
				rc = vlab_blk_write_zeroes(&B, sector, n, (op & 0x20) != 0);
				memset(buf, 0, 512u * n);
				same_as_disk(f, rc, sector, buf, n, "write_zeroes");
			} else
				rc = vlab_blk_discard(&B, sector, n);
			break;
		case 3: {
			char id[VIRTIO_BLK_ID_BYTES + 1];
			rc = vlab_blk_get_id(&B, id);
			if (rc == 0)
				for (unsigned i = 0; id[i]; i++)
					if (i >= VIRTIO_BLK_ID_BYTES || id[i] < 0x20 || id[i] > 0x7e)
						abort();
			break;
		}
		case 4: { /* asynchronous submission */
			unsigned k = (op >> 3) % NREQ;
			struct vlab_blk_req *r = &req[k];
			if (owned[k] || lent[k])
				break; /* still the driver's (even when done), or the device's */
			memset(r, 0, sizeof *r);
			r->op = (op & 0x80) ? VLAB_BLK_WRITE : VLAB_BLK_READ;
			r->sector = sector;
			r->buf = abuf + k * 4 * 512;
			r->len = 512u * (1u + (op >> 5) % 4);
			rc = vlab_blk_submit(&B, r);
			submitted[k] = true;
			owned[k] = rc == 0;
			if (rc != 0 && !r->done)
				abort(); /* refused, yet left pending */
			break;
		}
		case 5: {
			struct vlab_blk_req *done = NULL;
			rc = vlab_blk_poll(&B, &done);
			if (rc == 0 && done) {
				if (done < req || done >= req + NREQ || !done->done || !owned[done - req])
					FZ_ABORT("poll returned a request it does not hold (twice, or never given)");
				owned[done - req] = false;
				lent[done - req] = done->result == VLAB_EWEDGED;
			}
			break;
		}
		case 6:
			rc = vlab_blk_interrupt(&B, (op >> 3) % 8);
			break;
		default:
			drain(f, req, owned, lent);
			vlab_blk_shutdown(&B);
			leaked |= B.wedged;
			for (unsigned k = 0; k < NREQ; k++) {
				if (submitted[k] && !req[k].done)
					abort(); /* shutdown forgot a request */
				owned[k] = false;
				lent[k] = false; /* a reset, or memory never freed again */
			}
			buf_lent = false;
			up = bring_up(f, mode, (mode & 0x40) != 0) == 0;
			was_broken = false;
			break;
		}
		if ((op & 7) <= 1 && rc == VLAB_EWEDGED)
			buf_lent = true;
		release_rule(f, buf, buf_lent, abuf, owned, lent, submitted);
		if (was_broken && up && !M.vdev.broken)
			abort(); /* broken is sticky until reset */
		if (was_broken && rc != VLAB_EBROKEN && rc != VLAB_EINVAL && rc != 0 &&
		    rc != VLAB_ENEEDSRESET)
			abort();
	}
	if (up) {
		drain(f, req, owned, lent);
		vlab_blk_shutdown(&B);
		for (unsigned k = 0; k < NREQ; k++)
			if (submitted[k] && !req[k].done)
				abort();
		/* The fuzz device always resets: every buffer the driver mapped
		 * went back to the CPU (dma_unmap) by now. */
		if (!B.wedged && !leaked && f->unmaps != f->maps)
			FZ_ABORT("%llu buffers mapped, %llu unmapped after shutdown", (unsigned long long)f->maps,
			         (unsigned long long)f->unmaps);
	}
	fz_fini(f);
	return 0;
}
