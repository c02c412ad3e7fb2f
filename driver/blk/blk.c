/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver (VIRTIO 1.2, 5.2).
 *
 * One request queue, or with MQ up to VLAB_BLK_MAX_QUEUES of them (5.2.2),
 * all of one size; parts go to them in turn.  A caller's request is cut into parts that each fit
 * one virtio request (max_req_bytes, derived from seg_max, size_max and the
 * queue size); a part occupies a slot, which owns a 16-byte header and a
 * status byte in one DMA block.  Parts wait in a FIFO for a free slot and
 * enough descriptors; completions free slots and refill them.
 *
 * Everything the device says is checked: config values at init, the status
 * byte (read through the platform, never dereferenced), the used length of
 * requests that return data.  A device that breaks the protocol is marked
 * broken and every request in flight fails with the reason.
 *
 * The release rule: a caller's buffer goes back to the caller only once the
 * device can no longer reach it.  When the driver gives up on the device (a
 * timeout, a protocol breach, NEEDS_RESET) it stops the device (reset) before
 * it fails any request back; a device that does not acknowledge the reset
 * keeps every part it holds (its slot is never reused) and those requests
 * fail with VLAB_EWEDGED.  Every request the driver accepted comes back
 * exactly once: from vlab_blk_poll, or from the vlab_blk_wait that waited
 * for it.
 */
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/wait.h"

#if VLAB_CFG_BLK /* vlab/config.h */

#define BLK_SLOT_STRIDE 32u    /* header (16, 16-aligned) + status byte + pad */
#define BLK_HDR_BYTES 16u
#define BLK_STATUS_OFF 16u
/* A wait polls after 1 us, then after steps doubling up to 64 us: a
 * platform whose delay idles the CPU (the bare-metal images) sleeps in
 * steps long enough to leave the host's cores to the device (QEMU's I/O
 * threads), and a completion is seen at most one step late. */
#define BLK_WAIT_STEP_NS 1000u
#define BLK_WAIT_STEP_MAX_NS 64000u
/* A part of at least this many bytes is notified as soon as it is posted
 * (docs/performance.md "Early notification, and sleeping in delays"). */
#define BLK_EARLY_KICK_BYTES (1u << 20)
/* Bound on list walks over caller-owned requests (a corrupted list must not hang us). */
#define BLK_LIST_BOUND (1u << 20)

/* A macro: with VLAB_CFG_LOG=0 it appears in unevaluated log lines only. */
#define blk_name(b) (((b)->vdev && (b)->vdev->name) ? (b)->vdev->name : "virtio-blk")

static const struct vlab_platform *blk_plat(const struct vlab_blk *b)
{
	return b->vdev->plat;
}

/* Header fields: little-endian on a modern interface, guest-native on legacy. */
static void put_u32(const struct vlab_blk *b, uint8_t *p, uint32_t v)
{
	if (b->vdev->legacy) {
		vlab_memcpy(p, &v, sizeof v);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(const struct vlab_blk *b, uint8_t *p, uint64_t v)
{
	if (b->vdev->legacy) {
		vlab_memcpy(p, &v, sizeof v);
		return;
	}
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Queue i (0: requestq1), i below nq_setup. */
static struct vlab_vq *blk_vq(struct vlab_blk *b, unsigned i)
{
#if VLAB_BLK_MAX_QUEUES > 1
	if (i > 0 && i < VLAB_BLK_MAX_QUEUES)
		return &b->mq[i - 1];
#endif
	(void)i;
	return &b->vq;
}

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* ------------------------------------------------------------------ */
/* Request lists                                                        */

static void list_push(struct vlab_blk_req **head, struct vlab_blk_req **tail, struct vlab_blk_req *r)
{
	r->queue_next = NULL;
	if (*tail)
		(*tail)->queue_next = r;
	else
		*head = r;
	*tail = r;
}

static void list_remove(struct vlab_blk_req **head, struct vlab_blk_req **tail, struct vlab_blk_req *r)
{
	struct vlab_blk_req *prev = NULL, *cur = *head;
	for (uint32_t n = 0; cur && n < BLK_LIST_BOUND; n++) {
		if (cur == r) {
			if (prev)
				prev->queue_next = cur->queue_next;
			else
				*head = cur->queue_next;
			if (*tail == cur)
				*tail = prev;
			cur->queue_next = NULL;
			return;
		}
		prev = cur;
		cur = cur->queue_next;
	}
}

static bool list_has(struct vlab_blk_req *head, const struct vlab_blk_req *r)
{
	for (uint32_t n = 0; head && n < BLK_LIST_BOUND; n++, head = head->queue_next)
		if (head == r)
			return true;
	return false;
}

/* r is queued, in flight or waiting in the done list: owned by the driver. */
static bool blk_owns(const struct vlab_blk *b, const struct vlab_blk_req *r)
{
	for (unsigned i = 0; i < b->nslots; i++)
		if (b->slot[i].busy && b->slot[i].req == r)
			return true;
	return list_has(b->pending_head, r) || list_has(b->done_head, r);
}

static enum vlab_dma_dir blk_dir(enum vlab_blk_op op)
{
	return op == VLAB_BLK_WRITE ? VLAB_DMA_TO_DEVICE : VLAB_DMA_FROM_DEVICE;
}

/* r is done: its buffer goes back to the CPU (dma_unmap), unless the
 * device could not be stopped and may still reach it (VLAB_EWEDGED: it
 * stays mapped for good). */
static void blk_finish(struct vlab_blk *b, struct vlab_blk_req *r)
{
	if (r->mapped && r->result != VLAB_EWEDGED) {
		vlab_plat_dma_unmap(blk_plat(b), r->buf, r->len, blk_dir(r->op), r->buf_dev);
		r->mapped = false;
	}
	r->done = true;
	if (r->result != 0)
		b->errors++;
}

/* r finished: it waits in the done list for poll (or for its wait). */
static void blk_finish_later(struct vlab_blk *b, struct vlab_blk_req *r)
{
	blk_finish(b, r);
	list_push(&b->done_head, &b->done_tail, r);
}

/*
 * Fail every request the driver holds with err (once the device can no
 * longer reach their buffers, or it cannot be stopped: b->wedged).  Each
 * goes to the done list, where poll returns it once; requests finished
 * before stay there.  A part the device still holds after a failed stop
 * leaves its slot stranded (busy, no request: never reused until the next
 * initialisation) and fails its request with VLAB_EWEDGED.
 */
static void blk_abort_all(struct vlab_blk *b, int err)
{
	struct vlab_blk_req *r = b->pending_head;

	/* Parts not handed to the device yet: nothing of them is exposed. */
	b->pending_head = b->pending_tail = NULL;
	for (uint32_t n = 0; r && n < BLK_LIST_BOUND; n++) {
		struct vlab_blk_req *next = r->queue_next;
		r->queue_next = NULL;
		r->all_submitted = true;
		if (r->result == 0)
			r->result = err;
		if (r->parts_pending == 0 && !r->done)
			blk_finish_later(b, r);
		r = next;
	}
	for (unsigned i = 0; i < b->nslots; i++) {
		struct vlab_blk_slot *s = &b->slot[i];
		if (!s->busy || !s->req)
			continue;
		r = s->req;
		s->req = NULL;
		if (b->wedged) {
			r->result = VLAB_EWEDGED; /* the slot stays busy: stranded */
			if (r->mapped) {
				/* The slot keeps the mapping: unmapped by the reset
				 * that finally stops the device (shutdown). */
				s->unmap_due = true;
				s->unmap_buf = r->buf;
				s->unmap_len = r->len;
				s->unmap_dir = (uint8_t)blk_dir(r->op);
				s->unmap_dev = r->buf_dev;
				r->mapped = false;
			}
		} else {
			s->busy = false;
			if (r->result == 0)
				r->result = err;
		}
		r->all_submitted = true;
		if (r->parts_pending)
			r->parts_pending--;
		if (r->parts_pending == 0 && !r->done)
			blk_finish_later(b, r);
	}
}

/* A part of a request is in the device's hands. */
static bool blk_exposed(const struct vlab_blk *b)
{
	for (unsigned i = 0; i < b->nslots; i++)
		if (b->slot[i].busy && b->slot[i].req)
			return true;
	return false;
}

/* With VLAB_CFG_LOG=0 the reasons are log text (vlab_virtio_mark_broken). */
#define blk_give_up_device(b, err, why) (blk_give_up_device)((b), (err), VLAB_CFG_LOG ? (why) : NULL)

/*
 * The driver gives up on the device: stop it before any request goes back
 * (the release rule), then fail them all with err.  Returns err, or
 * VLAB_EWEDGED when the device did not acknowledge the reset.
 */
static int (blk_give_up_device)(struct vlab_blk *b, int err, const char *why)
{
	int rc = err;

	if (!why)
		why = "blk: device failed";
	if (blk_exposed(b) && !b->wedged) {
		if (vlab_virtio_stop(b->vdev, why) == VLAB_EWEDGED) {
			b->wedged = true;
			rc = VLAB_EWEDGED;
		}
	} else {
		vlab_virtio_mark_broken(b->vdev, why);
	}
	blk_abort_all(b, err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Initialisation                                                       */

static int blk_config_error(struct vlab_blk *b, const char *what, uint32_t val)
{
	vlab_log(blk_plat(b), VLAB_LOG_ERROR, "%s: bad config: %s (%u)", blk_name(b), what, (unsigned)val);
	return VLAB_ECONFIG;
}

/* capacity is 64 bits wide: the core retries the two halves until the
 * config generation is stable (DRV-2.5.1-1, DRV-2.5.1-2). */
static int blk_read_capacity(struct vlab_blk *b, uint64_t *cap)
{
	int rc = vlab_virtio_config_read(b->vdev, VIRTIO_BLK_CFG_CAPACITY, cap, 8);
	if (rc)
		return rc;
	if (*cap > UINT64_MAX / VIRTIO_BLK_SECTOR_SIZE)
		return blk_config_error(b, "capacity in bytes overflows 64 bits", (uint32_t)(*cap >> 32));
	return 0;
}

/* TOPOLOGY (5.2.4): advice, read once; a device that lies about it loses
 * the advice (a warning), not the disk. */
static int blk_read_topology(struct vlab_blk *b)
{
	struct vlab_virtio_dev *d = b->vdev;
	struct vlab_blk_info *info = &b->info;
	uint8_t exp = 0, align = 0;
	uint16_t min_io = 0;
	uint32_t opt_io = 0;
	int rc;

	if (!vlab_virtio_has(d, VIRTIO_BLK_F_TOPOLOGY))
		return 0;
	rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_TOPOLOGY, &exp, 1);
	if (!rc)
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_TOPOLOGY + 1, &align, 1);
	if (!rc)
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_TOPOLOGY + 2, &min_io, 2);
	if (!rc)
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_TOPOLOGY + 4, &opt_io, 4);
	if (rc)
		return rc;
	/* A physical block of at most 2^16 logical blocks, and the first
	 * aligned logical block inside the first physical block. */
	if (exp > VLAB_BLK_MAX_PHYS_EXP || align >= (1u << exp)) {
		vlab_log(blk_plat(b), VLAB_LOG_WARN,
		         "%s: topology ignored: physical_block_exp %u, alignment_offset %u", blk_name(b),
		         (unsigned)exp, (unsigned)align);
		return 0;
	}
	info->topology = true;
	info->physical_block_exp = exp;
	info->alignment_offset = align;
	info->min_io_size = min_io;
	info->opt_io_size = opt_io;
	return 0;
}

/* A DISCARD or WRITE_ZEROES limit the driver cannot work with: the
 * feature is not used (its calls answer VLAB_ENOTSUP), the disk is. */
static bool blk_dwz_unusable(struct vlab_blk *b, const char *feature, const char *what, uint32_t val)
{
	vlab_log(blk_plat(b), VLAB_LOG_WARN, "%s: %s not used: %s (%u)", blk_name(b), feature, what,
	         (unsigned)val);
	return false;
}

/* max_sectors (per segment) and max_seg of one of the two features, read
 * once and judged against the logical block: every part the driver sends
 * is one segment of whole blocks. */
static int blk_read_dwz_pair(struct vlab_blk *b, const char *feature, uint32_t off_sectors, uint32_t off_seg,
                             uint32_t *max_sectors, uint32_t *max_seg, bool *usable)
{
	const uint32_t spb = b->info.blk_size / VIRTIO_BLK_SECTOR_SIZE;
	int rc;

	rc = vlab_virtio_config_read(b->vdev, off_sectors, max_sectors, 4);
	if (!rc)
		rc = vlab_virtio_config_read(b->vdev, off_seg, max_seg, 4);
	if (rc)
		return rc;
	if (*max_seg == 0)
		*usable = blk_dwz_unusable(b, feature, "max_seg is 0", *max_seg);
	else if (*max_sectors < spb)
		*usable = blk_dwz_unusable(b, feature, "max_sectors below one logical block", *max_sectors);
	else
		*usable = true;
	return 0;
}

/* DISCARD and WRITE_ZEROES limits (5.2.4), each only when its feature was
 * negotiated (DRV-2.5.1-3). */
static int blk_read_dwz_limits(struct vlab_blk *b)
{
	struct vlab_virtio_dev *d = b->vdev;
	struct vlab_blk_info *info = &b->info;
	const uint32_t spb = info->blk_size / VIRTIO_BLK_SECTOR_SIZE;
	int rc;

	if (VLAB_CFG_BLK_DWZ && vlab_virtio_has(d, VIRTIO_BLK_F_DISCARD)) {
		uint32_t align = 0;
		rc = blk_read_dwz_pair(b, "DISCARD", VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SEG,
		                       &info->max_discard_sectors, &info->max_discard_seg, &info->discard);
		if (!rc)
			rc = vlab_virtio_config_read(d, VLAB_VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT, &align, 4);
		if (rc)
			return rc;
		/* Advice for splitting; parts must be whole blocks anyway. */
		if (align == 0 || align % spb) {
			if (info->discard)
				vlab_log(blk_plat(b), VLAB_LOG_WARN,
				         "%s: discard_sector_alignment %u ignored: not a multiple of %u", blk_name(b),
				         (unsigned)align, (unsigned)spb);
			align = spb;
		}
		info->discard_sector_alignment = align;
	}
	if (VLAB_CFG_BLK_DWZ && vlab_virtio_has(d, VIRTIO_BLK_F_WRITE_ZEROES)) {
		uint8_t may_unmap = 0;
		rc = blk_read_dwz_pair(b, "WRITE_ZEROES", VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS,
		                       VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, &info->max_write_zeroes_sectors,
		                       &info->max_write_zeroes_seg, &info->write_zeroes);
		if (!rc)
			rc = vlab_virtio_config_read(d, VLAB_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP, &may_unmap, 1);
		if (rc)
			return rc;
		/* A hint: anything but 1 means the driver never sets UNMAP. */
		info->write_zeroes_may_unmap = may_unmap == 1;
	}
	return 0;
}

static int blk_read_config(struct vlab_blk *b)
{
	struct vlab_virtio_dev *d = b->vdev;
	struct vlab_blk_info *info = &b->info;
	uint64_t cap = 0;
	uint32_t v32 = 0;
	int rc;

	/* Every field is read once into info (private memory) and validated
	 * there; nothing is read again except the capacity, on a config change
	 * (vlab_blk_config_changed). */
	rc = blk_read_capacity(b, &cap);
	if (rc)
		return rc;
	info->capacity = cap;

	/* Optional fields only when their feature was negotiated (DRV-2.5.1-3). */
	if (vlab_virtio_has(d, VIRTIO_BLK_F_SIZE_MAX)) {
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_SIZE_MAX, &v32, 4);
		if (rc)
			return rc;
		if (v32 == 0)
			return blk_config_error(b, "size_max is 0", v32);
		info->size_max = v32;
	}
	if (vlab_virtio_has(d, VIRTIO_BLK_F_SEG_MAX)) {
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_SEG_MAX, &v32, 4);
		if (rc)
			return rc;
		if (v32 == 0)
			return blk_config_error(b, "seg_max is 0", v32);
		info->seg_max = v32;
	}
	if (VLAB_CFG_BLK_EXTRA && vlab_virtio_has(d, VIRTIO_BLK_F_GEOMETRY)) {
		uint16_t cyl = 0;
		uint8_t heads = 0, sectors = 0;
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_GEOMETRY, &cyl, 2);
		if (!rc)
			rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_GEOMETRY + 2, &heads, 1);
		if (!rc)
			rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_GEOMETRY + 3, &sectors, 1);
		if (rc)
			return rc;
		info->cylinders = cyl;
		info->heads = heads;
		info->sectors = sectors;
	}
	info->blk_size = VIRTIO_BLK_SECTOR_SIZE;
#if defined(VLAB_MUTANT_UNOFFERED_FIELD_READ) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_UNOFFERED_FIELD_READ is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	(void)vlab_virtio_config_read(d, VIRTIO_BLK_CFG_BLK_SIZE, &v32, 4); /* whether offered or not */
#endif
	if (vlab_virtio_has(d, VIRTIO_BLK_F_BLK_SIZE)) {
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_BLK_SIZE, &v32, 4);
		if (rc)
			return rc;
		if (!is_pow2(v32) || v32 < VIRTIO_BLK_SECTOR_SIZE || v32 > VLAB_BLK_MAX_BLOCK)
			return blk_config_error(b, "blk_size not a power of two in 512.." VLAB_BLK_STR(VLAB_BLK_MAX_BLOCK),
			                        v32);
		info->blk_size = v32;
	}
	info->read_only = vlab_virtio_has(d, VIRTIO_BLK_F_RO);
	info->flush = vlab_virtio_has(d, VIRTIO_BLK_F_FLUSH);
	rc = VLAB_CFG_BLK_EXTRA ? blk_read_topology(b) : 0;
	if (rc)
		return rc;
	/* Without CONFIG_WCE: writeback exactly when FLUSH was negotiated
	 * (DRV-5.2.5.1-2/3).  With it, the device says, and only now, after
	 * FEATURES_OK (DRV-5.2.5.1-4). */
	rc = blk_read_dwz_limits(b);
	if (rc)
		return rc;
	info->writeback = info->flush;
	/* num_queues only with MQ (DRV-2.5.1-3); judged in blk_setup_queues. */
	if (vlab_virtio_has(d, VIRTIO_BLK_F_MQ)) {
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_NUM_QUEUES, &info->num_queues_offered, 2);
		if (rc)
			return rc;
	}
	info->config_wce = VLAB_CFG_BLK_EXTRA && vlab_virtio_has(d, VIRTIO_BLK_F_CONFIG_WCE);
	if (info->config_wce) {
		uint8_t wb = 0;
		rc = vlab_virtio_config_read(d, VIRTIO_BLK_CFG_WRITEBACK, &wb, 1);
		if (rc)
			return rc;
		if (wb > 1)
			return blk_config_error(b, "writeback not 0 or 1", wb);
		info->writeback = wb == 1;
	}
	return 0;
}

/* How much one virtio request may carry, given the queue we got and the
 * caller's cap (cap: 0 for the default). */
static int blk_size_requests(struct vlab_blk *b, uint32_t cap)
{
	uint32_t qsize = vlab_vq_size(&b->vq);
	uint32_t segs;
	uint64_t bytes;

	if (qsize < 3) /* header + one data segment + status */
		return blk_config_error(b, "queue too small for one request", qsize);
	segs = qsize - 2;
	if (segs > VLAB_BLK_MAX_SEGS)
		segs = VLAB_BLK_MAX_SEGS;
	if (b->info.seg_max && segs > b->info.seg_max)
		segs = b->info.seg_max;
	if (cap == 0)
		cap = VLAB_BLK_DEFAULT_REQ_BYTES;
	if (cap < b->info.blk_size) {
		vlab_log(blk_plat(b), VLAB_LOG_ERROR, "%s: max_request_bytes %u is below the logical block (%u)",
		         blk_name(b), (unsigned)cap, (unsigned)b->info.blk_size);
		return VLAB_EINVAL;
	}
	bytes = b->info.size_max ? (uint64_t)segs * b->info.size_max : cap;
	if (bytes > cap)
		bytes = cap;
	/* Whole logical blocks only: every part of a request starts and ends
	 * on a block boundary (QEMU answers IOERR otherwise). */
	bytes -= bytes % b->info.blk_size;
	if (bytes < b->info.blk_size)
		return blk_config_error(b, "seg_max * size_max below one block", (uint32_t)bytes);
	b->max_segs = segs;
	b->max_req_bytes = (uint32_t)bytes;

	b->nslots = (qsize / 3) * b->info.num_queues;
	if (b->nslots == 0)
		b->nslots = 1;
	if (b->nslots > VLAB_BLK_MAX_INFLIGHT)
		b->nslots = VLAB_BLK_MAX_INFLIGHT;
	return 0;
}

/* Every queue set up (the device was reset: DRV-3.3.1-2). */
static void blk_teardown_queues(struct vlab_blk *b)
{
	for (unsigned i = 0; i < b->nq_setup; i++)
		if (vlab_vq_allocated(blk_vq(b, i)))
			vlab_vq_teardown(blk_vq(b, i));
	b->nq_setup = 0;
}

/*
 * The request queues (5.2.2): queue 0, and with MQ as many more as
 * num_queues says, within VLAB_BLK_MAX_QUEUES and the caller's max_queues.
 * num_queues is hostile: 0 is taken as 1, a count above what the driver
 * can use, a queue the transport does not have (VLAB_ENODEV), refuses
 * (VLAB_ERANGE) or whose size differs from queue 0's (parts are sized for
 * queue 0) ends the count there, with a log line; only a failure of queue
 * 0, or a device that broke, fails the disk.
 */
static int blk_setup_queues(struct vlab_blk *b, uint16_t max_queues, uint16_t queue_cap)
{
	const struct vlab_platform *p = blk_plat(b);
	unsigned want = 1, cap = VLAB_BLK_MAX_QUEUES;
	int rc;

	rc = vlab_vq_setup(&b->vq, b->vdev, 0, queue_cap);
	if (rc)
		return rc; /* nq_setup 0: nothing to tear down */
	b->nq_setup = 1;
	b->info.num_queues = 1;
	if (!vlab_virtio_has(b->vdev, VIRTIO_BLK_F_MQ))
		return 0;
	if (max_queues && max_queues < cap)
		cap = max_queues;
	want = b->info.num_queues_offered;
	if (want == 0) {
		vlab_log(p, VLAB_LOG_WARN, "%s: num_queues is 0 with MQ: using one queue", blk_name(b));
		want = 1;
	} else if (want > cap) {
		vlab_log(p, VLAB_LOG_INFO, "%s: num_queues %u: using %u (VLAB_BLK_MAX_QUEUES %u, max_queues %u)",
		         blk_name(b), (unsigned)want, cap, (unsigned)VLAB_BLK_MAX_QUEUES, (unsigned)max_queues);
		want = cap;
	}
	for (unsigned i = 1; i < want; i++) {
		struct vlab_vq *vq = blk_vq(b, i);

		b->nq_setup = (uint16_t)(i + 1);
		rc = vlab_vq_setup(vq, b->vdev, (uint16_t)i, (uint16_t)vlab_vq_size(&b->vq));
		if (rc == VLAB_ENODEV) {
			b->nq_setup = (uint16_t)i;
			vlab_log(p, VLAB_LOG_WARN, "%s: num_queues %u, but the transport has no queue %u: using %u",
			         blk_name(b), (unsigned)b->info.num_queues_offered, i, i);
			break;
		}
		if (rc && vlab_virtio_check(b->vdev) == 0) {
			/* Any other refusal of this queue (a legacy ring
			 * fixed above the driver's cap: VLAB_ERANGE) costs
			 * the queues from here on, not the disk. */
			vlab_log(p, VLAB_LOG_WARN, "%s: queue %u not usable (%s): using %u queue(s)", blk_name(b), i,
			         vlab_errname(rc), i);
			break;
		}
		if (rc)
			return rc; /* the device broke */
		if (vlab_vq_size(vq) != vlab_vq_size(&b->vq)) {
			/* Set up (nq_setup counts it: torn down after the
			 * reset) but never used: never notified. */
			vlab_log(p, VLAB_LOG_WARN, "%s: queue %u has %u entries, queue 0 %u: using %u queue(s)",
			         blk_name(b), i, vlab_vq_size(vq), vlab_vq_size(&b->vq), i);
			break;
		}
		b->info.num_queues = (uint16_t)(i + 1);
	}
	return 0;
}

static size_t blk_id_off(const struct vlab_blk *b)
{
	return (size_t)b->nslots * BLK_SLOT_STRIDE;
}

int vlab_blk_init(struct vlab_blk *b, struct vlab_virtio_dev *d, uint16_t queue_cap)
{
	struct vlab_blk_cfg cfg;

	vlab_memset(&cfg, 0, sizeof cfg);
	cfg.queue_cap = queue_cap;
	return vlab_blk_init_cfg(b, d, &cfg);
}

/* The features the driver implements (5.2.3): the bus and
 * vlab_blk_init_cfg negotiate them. */
#define BLK_FEATURES_BASE                                                               \
	(VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX) | VLAB_BIT(VIRTIO_BLK_F_SEG_MAX) |                   \
	 VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE) |                                                    \
	 /* we do issue FLUSH, so we may negotiate it (DRV-5.2.5.1-1) */                      \
	 VLAB_BIT(VIRTIO_BLK_F_FLUSH) | VLAB_BIT(VIRTIO_F_VERSION_1) |                        \
	 BLK_FEATURES_DWZ | BLK_FEATURES_EXTRA |                                              \
	 (VLAB_BLK_MAX_QUEUES > 1 ? VLAB_BIT(VIRTIO_BLK_F_MQ) : 0))
/* Compiled out with VLAB_CFG_BLK_DWZ=0 or VLAB_CFG_BLK_EXTRA=0 (vlab/config.h):
 * never negotiated. */
#define BLK_FEATURES_DWZ \
	(VLAB_CFG_BLK_DWZ ? VLAB_BIT(VIRTIO_BLK_F_DISCARD) | VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES) : 0)
#define BLK_FEATURES_EXTRA                                                              \
	(VLAB_CFG_BLK_EXTRA ? VLAB_BIT(VIRTIO_BLK_F_GEOMETRY) | VLAB_BIT(VIRTIO_BLK_F_TOPOLOGY) | \
	                          VLAB_BIT(VIRTIO_BLK_F_CONFIG_WCE)                               \
	                    : 0)
/* accept RO when offered (DRV-5.2.6.1-2) */
#if defined(VLAB_MUTANT_NO_RO_FEATURE) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_RO_FEATURE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
#define BLK_FEATURES BLK_FEATURES_BASE /* RO not accepted */
#else
#define BLK_FEATURES (BLK_FEATURES_BASE | VLAB_BIT(VIRTIO_BLK_F_RO))
#endif

/* After FEATURES_OK: config, queue, slots, DRIVER_OK (FAILED on an
 * error: vlab_driver_start sets it). */
static int blk_start(struct vlab_blk *b, struct vlab_virtio_dev *d, const struct vlab_blk_cfg *cfg)
{
	const uint16_t queue_cap = cfg ? cfg->queue_cap : 0;
	const struct vlab_platform *p = d->plat;
	int rc;

	if (cfg && cfg->no_zeroing && cfg->zeroing)
		return VLAB_EINVAL; /* both asked for: no default to fall back on */
	if (cfg && cfg->max_request_bytes && cfg->max_request_bytes < VIRTIO_BLK_SECTOR_SIZE)
		return VLAB_EINVAL;
	vlab_memset(b, 0, sizeof *b);
	b->vdev = d;
	/* Device-writable buffers are zeroed unless the caller says not to,
	 * or the platform says the device reads all memory anyway and the
	 * caller did not ask for it (VLAB_PLAT_DMA_ALL_MEMORY). */
	b->no_zeroing = cfg && cfg->no_zeroing;
	if (!(cfg && cfg->zeroing) && (p->flags & VLAB_PLAT_DMA_ALL_MEMORY))
		b->no_zeroing = true;
	rc = blk_read_config(b);
	if (rc)
		return rc;
	rc = blk_setup_queues(b, cfg ? cfg->max_queues : 0, queue_cap);
	if (rc && b->nq_setup == 0)
		return rc; /* queue 0 failed: as without MQ */
	if (rc)
		goto undo;
	rc = blk_size_requests(b, cfg ? cfg->max_request_bytes : 0);
	if (rc)
		goto undo;
	b->slot_mem_len = blk_id_off(b) + 32u; /* + the 20-byte GET_ID buffer */
	/* + a DISCARD / WRITE_ZEROES segment per slot, only when one of them
	 * may be sent (the layout without them is unchanged). */
	b->has_dwz_segs = VLAB_CFG_BLK_DWZ && (b->info.discard || b->info.write_zeroes);
	if (b->has_dwz_segs)
		b->slot_mem_len += (size_t)b->nslots * VLAB_VIRTIO_BLK_DWZ_SEG_BYTES;
	b->slot_mem = p->ops->dma_alloc(p->ctx, b->slot_mem_len, 16, &b->slot_dev);
	if (!b->slot_mem) {
		rc = VLAB_ENOMEM;
		goto undo;
	}
	rc = vlab_virtio_driver_ok(d);
	if (rc)
		goto undo;
	vlab_log(p, VLAB_LOG_INFO,
	         "%s: virtio-blk %llu sectors, blk_size %u, %s%s %u queue(s) of %u, %u slots, %u bytes/request",
	         blk_name(b), (unsigned long long)b->info.capacity, (unsigned)b->info.blk_size,
	         b->info.read_only ? "ro" : "rw", b->info.flush ? " flush," : ",", (unsigned)b->info.num_queues,
	         vlab_vq_size(&b->vq), b->nslots, (unsigned)b->max_req_bytes);
	return 0;

undo:
	/* The ring is known to the device: reset before freeing it
	 * (DRV-3.3.1-2), then say we gave up (DRV-3.1.1-5). */
	if (vlab_virtio_reset(d) == 0) {
		blk_teardown_queues(b);
		if (b->slot_mem)
			p->ops->dma_free(p->ctx, b->slot_mem, b->slot_mem_len);
	}
	b->slot_mem = NULL;
	b->nslots = 0;
	vlab_virtio_fail(d);
	return rc;
}

int vlab_blk_init_cfg(struct vlab_blk *b, struct vlab_virtio_dev *d, const struct vlab_blk_cfg *cfg)
{
	if (!b || !d)
		return VLAB_EINVAL;
	vlab_memset(b, 0, sizeof *b);
	b->vdev = d;
	return vlab_driver_start(&vlab_blk_driver, b, d, cfg, 0);
}

void vlab_blk_shutdown(struct vlab_blk *b)
{
	const struct vlab_platform *p;
	int rc;

	if (!b || !b->vdev)
		return;
	p = blk_plat(b);
	/* Reset first: requests go back only once the device stopped. */
	rc = vlab_virtio_reset(b->vdev);
	b->wedged = rc != 0;
	blk_abort_all(b, VLAB_ENODEV);
	for (unsigned i = 0; i < b->nslots && rc == 0; i++) {
		struct vlab_blk_slot *s = &b->slot[i];
		/* Buffers the device kept when it could not be stopped: it
		 * can no longer reach them now. */
		if (s->unmap_due)
			vlab_plat_dma_unmap(p, s->unmap_buf, s->unmap_len, (enum vlab_dma_dir)s->unmap_dir,
			                    s->unmap_dev);
		s->unmap_due = false;
		s->busy = false;
	}
	if (rc) {
		/* A device that does not reset may still write the ring and
		 * our buffers: leak them rather than hand them back. */
		vlab_log(p, VLAB_LOG_WARN, "%s: reset failed (%s); queue memory not freed", blk_name(b),
		         vlab_errname(rc));
	} else {
		blk_teardown_queues(b);
		if (b->slot_mem)
			p->ops->dma_free(p->ctx, b->slot_mem, b->slot_mem_len);
	}
	b->slot_mem = NULL;
	b->slot_mem_len = 0;
	b->nslots = 0;
}

/* ------------------------------------------------------------------ */
/* Posting parts                                                        */

static bool op_has_data(enum vlab_blk_op op)
{
	return op == VLAB_BLK_READ || op == VLAB_BLK_WRITE;
}

/* DISCARD or WRITE_ZEROES: a range and no buffer.  With VLAB_CFG_BLK_DWZ=0
 * no such request gets past vlab_blk_submit, and their paths compile out. */
static bool op_is_dwz(enum vlab_blk_op op)
{
	return VLAB_CFG_BLK_DWZ &&
	       (op == VLAB_BLK_DISCARD || op == VLAB_BLK_WRITE_ZEROES || op == VLAB_BLK_WRITE_ZEROES_UNMAP);
}

/* The request covers a range that may be cut into parts. */
static bool op_is_range(enum vlab_blk_op op)
{
	return op_has_data(op) || op_is_dwz(op);
}

static size_t blk_seg_off(const struct vlab_blk *b, unsigned si)
{
	return blk_id_off(b) + 32u + (size_t)si * VLAB_VIRTIO_BLK_DWZ_SEG_BYTES;
}

/*
 * Bytes of the DISCARD / WRITE_ZEROES range r carries from off on in its
 * next part: one segment of at most max_*_sectors (rounded down to whole
 * logical blocks), and for DISCARD, when the range goes on, ending on a
 * multiple of discard_sector_alignment if that leaves anything (5.2.4: the
 * device's hint for splitting), so that the next part starts aligned.
 */
static uint32_t blk_dwz_part(const struct vlab_blk *b, const struct vlab_blk_req *r, uint32_t off)
{
	const uint32_t spb = b->info.blk_size / VIRTIO_BLK_SECTOR_SIZE;
	const uint64_t start = r->sector + off / VIRTIO_BLK_SECTOR_SIZE;
	const uint32_t left = (r->len - off) / VIRTIO_BLK_SECTOR_SIZE;
	const bool discard = r->op == VLAB_BLK_DISCARD;
	uint32_t max = discard ? b->info.max_discard_sectors : b->info.max_write_zeroes_sectors;
	uint32_t n;

	max -= max % spb; /* >= spb: checked at init */
	n = left < max ? left : max;
	if (discard && n < left && b->info.discard_sector_alignment > spb) {
		const uint64_t end = start + n;
		const uint64_t cut = end - end % b->info.discard_sector_alignment;
		if (cut > start)
			n = (uint32_t)(cut - start);
	}
	return n * VIRTIO_BLK_SECTOR_SIZE;
}

/* Expose one part of r (bytes [off, off+len) of its buffer) in slot si. */
static int blk_post(struct vlab_blk *b, struct vlab_vq *vq, unsigned si, struct vlab_blk_req *r, uint32_t off,
                    uint32_t len)
{
	struct vlab_sg sg[VLAB_BLK_MAX_SEGS + 2];
	uint8_t *hdr = b->slot_mem + (size_t)si * BLK_SLOT_STRIDE;
	vlab_addr_t hdr_dev = b->slot_dev + (vlab_addr_t)si * BLK_SLOT_STRIDE;
	uint32_t type;
	uint64_t sector = 0;
	unsigned n = 0, ndata = 0;

	switch (r->op) {
	case VLAB_BLK_READ:
		type = VIRTIO_BLK_T_IN;
		sector = r->sector + off / VIRTIO_BLK_SECTOR_SIZE;
		break;
	case VLAB_BLK_WRITE:
		type = VIRTIO_BLK_T_OUT;
		sector = r->sector + off / VIRTIO_BLK_SECTOR_SIZE;
		break;
	case VLAB_BLK_FLUSH:
		type = VIRTIO_BLK_T_FLUSH; /* sector 0 (DRV-5.2.6.1-3), no data (DRV-5.2.6.1-4) */
		break;
	case VLAB_BLK_GET_ID:
		type = VIRTIO_BLK_T_GET_ID;
		break;
	case VLAB_BLK_DISCARD:
		type = VLAB_VIRTIO_BLK_T_DISCARD;
		break;
	case VLAB_BLK_WRITE_ZEROES:
	case VLAB_BLK_WRITE_ZEROES_UNMAP:
		type = VLAB_VIRTIO_BLK_T_WRITE_ZEROES;
		break;
	default:
		return VLAB_EINVAL;
	}
	put_u32(b, hdr, type);
	put_u32(b, hdr + 4, 0);
#if defined(VLAB_MUTANT_BLK_SECTOR_BYTES) /* TEST-ONLY: tests/replay/qemu_trace_test.sh */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_BLK_SECTOR_BYTES is for the test-only mutant build (scenarios/CMakeLists.txt)"
#endif
	put_u64(b, hdr + 8, sector * VIRTIO_BLK_SECTOR_SIZE); /* a byte offset where a sector is due */
#else
	put_u64(b, hdr + 8, sector);
#endif
	/* An impossible status: a device that completes without writing it
	 * is caught at completion. */
	hdr[BLK_STATUS_OFF] = 0xFF;
#if defined(VLAB_MUTANT_FLUSH_SECTOR) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_FLUSH_SECTOR is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	if (type == VIRTIO_BLK_T_FLUSH)
		put_u64(b, hdr + 8, 1); /* a flush with a sector */
#endif

	sg[n].addr = hdr_dev;
	sg[n].len = BLK_HDR_BYTES;
	n++;
	if (op_is_dwz(r->op)) {
		/* One segment (DRV-5.2.6.1-8/10: max_*_seg is at least 1), 16
		 * bytes (DRV-5.2.6.1-6); the header's sector stays 0, the range
		 * is in the segment.  UNMAP never on a DISCARD (DRV-5.2.6.1-13),
		 * on a WRITE_ZEROES only when asked and the device may unmap. */
		const size_t so = blk_seg_off(b, si);
		uint8_t *seg = b->slot_mem + so;
		uint32_t flags = r->op == VLAB_BLK_WRITE_ZEROES_UNMAP && b->info.write_zeroes_may_unmap
		                         ? VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
		                         : 0;
#if defined(VLAB_MUTANT_DISCARD_UNMAP) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_DISCARD_UNMAP is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		flags = VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP; /* on a DISCARD too */
#endif
		if (!b->has_dwz_segs)
			return VLAB_EINVAL;
		put_u64(b, seg, r->sector + off / VIRTIO_BLK_SECTOR_SIZE);
		put_u32(b, seg + 8, len / VIRTIO_BLK_SECTOR_SIZE);
		put_u32(b, seg + 12, flags);
		sg[n].addr = b->slot_dev + so;
		sg[n].len = VLAB_VIRTIO_BLK_DWZ_SEG_BYTES;
		n++;
		sg[n].addr = hdr_dev + BLK_STATUS_OFF;
		sg[n].len = 1;
		return vlab_vq_add(vq, sg, 2, &sg[2], 1, &b->slot[si]);
	}
	if (len) {
		uint32_t seg = b->info.size_max ? b->info.size_max : len;
		uint32_t left = len;
		vlab_addr_t a = r->buf_dev + off;
		while (left && ndata < b->max_segs) {
			uint32_t l = left < seg ? left : seg;
			sg[n].addr = a;
#if defined(VLAB_MUTANT_PARTIAL_SECTOR) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_PARTIAL_SECTOR is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
			sg[n].len = op_has_data(r->op) && l > 1 ? l - 1 : l; /* not whole sectors */
#else
			sg[n].len = l;
#endif
			n++;
			ndata++;
			a += l;
			left -= l;
		}
		if (left) /* cannot happen: len <= max_segs * size_max */
			return VLAB_EINVAL;
	}
	sg[n].addr = hdr_dev + BLK_STATUS_OFF;
	sg[n].len = 1;
	n++;

	/* Device-readable first, then device-writable (DRV-2.7.4.2-1). */
	if (r->op == VLAB_BLK_WRITE)
		return vlab_vq_add(vq, sg, 1 + ndata, &sg[1 + ndata], 1, &b->slot[si]);
	return vlab_vq_add(vq, sg, 1, &sg[1], ndata + 1, &b->slot[si]);
}

static int blk_free_slot(const struct vlab_blk *b)
{
	for (unsigned i = 0; i < b->nslots; i++)
		if (!b->slot[i].busy)
			return (int)i;
	return -1;
}

/* Stop submitting r: it failed, or the device refused a part. */
static void blk_give_up(struct vlab_blk *b, struct vlab_blk_req *r, int err)
{
	if (r->result == 0)
		r->result = err;
	if (!r->all_submitted) {
		list_remove(&b->pending_head, &b->pending_tail, r);
		r->all_submitted = true;
	}
}

/* Some queue in use holds a chain the device has not returned. */
static bool blk_any_in_flight(struct vlab_blk *b)
{
	for (unsigned q = 0; q < b->info.num_queues; q++)
		if (vlab_vq_in_flight(blk_vq(b, q)) != 0)
			return true;
	return false;
}

/* Post one part in slot si on the next queue in turn that has room for it
 * (round robin: b->next_q moves on past the queue taken).  *qi: the queue. */
static int blk_post_spread(struct vlab_blk *b, unsigned si, struct vlab_blk_req *r, uint32_t off, uint32_t len,
                           unsigned *qi)
{
	const unsigned nq = b->info.num_queues ? b->info.num_queues : 1;
	int rc = VLAB_EBUSY;

	for (unsigned k = 0; k < nq; k++) {
		const unsigned q = (b->next_q + k) % nq;

		rc = blk_post(b, blk_vq(b, q), si, r, off, len);
		if (rc == VLAB_EBUSY)
			continue;
		if (!rc) {
			*qi = q;
			b->next_q = (uint16_t)((q + 1) % nq);
		}
		return rc;
	}
	return rc;
}

/* Hand waiting parts to free slots; kick each queue once that got any.
 * Returns 0 or a device error (the caller then aborts everything). */
static int blk_refill(struct vlab_blk *b)
{
	uint32_t added = 0; /* bit q: queue q got a part */

	for (uint32_t guard = 0; b->pending_head && guard < BLK_LIST_BOUND; guard++) {
		struct vlab_blk_req *r = b->pending_head;
		int si = blk_free_slot(b);
		uint32_t off = r->next_off, len = 0;
		int rc;

		if (si < 0)
			break;
		if (op_has_data(r->op)) {
			len = r->len - off;
			if (len > b->max_req_bytes)
				len = b->max_req_bytes;
		} else if (op_is_dwz(r->op)) {
			len = blk_dwz_part(b, r, off);
		} else if (r->op == VLAB_BLK_GET_ID) {
#if defined(VLAB_MUTANT_GET_ID_LENGTH) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_GET_ID_LENGTH is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
			len = VIRTIO_BLK_ID_BYTES - 4; /* 16 bytes */
#else
			len = VIRTIO_BLK_ID_BYTES;
#endif
		}
		unsigned qi = 0;
		rc = blk_post_spread(b, (unsigned)si, r, off, len, &qi);
		if (rc == VLAB_EBUSY) {
			if (blk_any_in_flight(b))
				break; /* descriptors come back with completions */
			rc = VLAB_ENOMEM; /* a part that can never fit: should not happen */
		}
		if (rc == VLAB_EBROKEN || rc == VLAB_EPROTO)
			return rc;
		if (rc) {
			blk_give_up(b, r, rc);
			if (r->parts_pending == 0)
				blk_finish_later(b, r);
			continue;
		}
		b->slot[si].busy = true;
		b->slot[si].req = r;
		b->slot[si].off = off;
		b->slot[si].len = len;
		b->slot[si].q = (uint16_t)qi;
		r->parts_pending++;
		r->next_off = off + len;
		added |= 1u << qi;
		/* A large part goes to the device at once: it can start on it
		 * while the driver posts the next, and a device that merges
		 * the requests one notification exposes (QEMU's virtio-blk
		 * merges adjacent ones) keeps the parts apart, to work on
		 * them in parallel. */
		if (len >= BLK_EARLY_KICK_BYTES) {
			rc = vlab_vq_kick(blk_vq(b, qi));
			if (rc)
				return rc;
			added &= ~(1u << qi);
		}
		if (!op_is_range(r->op) || r->next_off >= r->len) {
			list_remove(&b->pending_head, &b->pending_tail, r);
			r->all_submitted = true;
		}
	}
	for (unsigned q = 0; q < b->info.num_queues; q++) {
		if (added & (1u << q)) {
			int rc = vlab_vq_kick(blk_vq(b, q));
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Submission                                                           */

/* A DISCARD or WRITE_ZEROES range: the feature usable (negotiated, limits
 * not refused), a writable disk, whole logical blocks at a block boundary
 * (as a WRITE), inside the capacity (DRV-5.2.6.1-1).  0 or the error. */
static int blk_dwz_check(const struct vlab_blk *b, bool discard, uint64_t sector, uint64_t nsectors)
{
	const uint32_t spb = b->info.blk_size / VIRTIO_BLK_SECTOR_SIZE;

	if (!VLAB_CFG_BLK_DWZ || !(discard ? b->info.discard : b->info.write_zeroes))
		return VLAB_ENOTSUP; /* compiled out, not negotiated, or unusable limits */
	if (b->info.read_only)
		return VLAB_EROFS;
	if (nsectors == 0 || sector % spb || nsectors % spb)
		return VLAB_EINVAL;
	if (sector > b->info.capacity || nsectors > b->info.capacity - sector)
		return VLAB_ERANGE;
	return 0;
}

static int blk_reject(struct vlab_blk_req *r, int err)
{
	r->result = err;
	r->done = true;
	return err;
}

int vlab_blk_submit(struct vlab_blk *b, struct vlab_blk_req *r)
{
	const struct vlab_platform *p;
	int rc;

	if (!b || !r || !b->vdev)
		return VLAB_EINVAL;
	if (blk_owns(b, r))
		return VLAB_EINVAL; /* already submitted and not finished */
	r->result = 0;
	r->done = false;
	r->parts_pending = 0;
	r->parts_done = 0;
	r->next_off = 0;
	r->queue_next = NULL;
	r->all_submitted = false;
	r->buf_dev = 0;
	r->mapped = false;

	rc = vlab_virtio_check(b->vdev);
	if (rc)
		return blk_reject(r, rc);
	if (!b->slot_mem)
		return blk_reject(r, VLAB_EINVAL);
	p = blk_plat(b);

	switch (r->op) {
	case VLAB_BLK_WRITE:
		if (b->info.read_only)
			return blk_reject(r, VLAB_EROFS); /* the device is never asked */
		/* fall through */
	case VLAB_BLK_READ: {
		uint64_t nsect;
		/* Data length a multiple of 512 (DRV-5.2.6.1-5), and whole
		 * logical blocks at a block boundary: a device with a larger
		 * blk_size fails anything else (QEMU: IOERR). */
		if (!r->buf || r->len == 0 || r->len % b->info.blk_size ||
		    r->sector % (b->info.blk_size / VIRTIO_BLK_SECTOR_SIZE))
			return blk_reject(r, VLAB_EINVAL);
		/* Nothing beyond capacity (DRV-5.2.6.1-1). */
		nsect = r->len / VIRTIO_BLK_SECTOR_SIZE;
		if (r->sector > b->info.capacity || nsect > b->info.capacity - r->sector)
			return blk_reject(r, VLAB_ERANGE);
		if (r->op == VLAB_BLK_READ) {
			/* Device-writable: the device may read it (DEV-2.7.5.1-3),
			 * so nothing the caller left there is shown to it.  Before
			 * the map: after it the buffer is the device's.  Unless
			 * it hides nothing (blk_start: vlab_blk_cfg.no_zeroing,
			 * VLAB_PLAT_DMA_ALL_MEMORY). */
			if (!b->no_zeroing)
				vlab_memset(r->buf, 0, r->len);
		}
		if (vlab_plat_dma_map(p, r->buf, r->len, blk_dir(r->op), &r->buf_dev) != 0)
			return blk_reject(r, VLAB_EINVAL);
		r->mapped = true;
		if (r->op == VLAB_BLK_READ)
			b->reads++;
		else
			b->writes++;
		break;
	}
	case VLAB_BLK_FLUSH:
		if (r->len != 0)
			return blk_reject(r, VLAB_EINVAL); /* FLUSH carries no data (DRV-5.2.6.1-4) */
		b->flushes++;
		if (!b->info.flush) {
			/* No FLUSH negotiated: the cache is writethrough
			 * (DRV-5.2.5.1-2); nothing to ask the device. */
			r->all_submitted = true;
			blk_finish_later(b, r);
			return 0;
		}
		break;
	case VLAB_BLK_DISCARD:
	case VLAB_BLK_WRITE_ZEROES:
	case VLAB_BLK_WRITE_ZEROES_UNMAP: {
		const bool discard = r->op == VLAB_BLK_DISCARD;
		int rc = blk_dwz_check(b, discard, r->sector, r->len / VIRTIO_BLK_SECTOR_SIZE);
		if (!rc && r->len % VIRTIO_BLK_SECTOR_SIZE)
			rc = VLAB_EINVAL;
		if (rc)
			return blk_reject(r, rc);
		if (discard)
			b->discards++;
		else
			b->write_zeroes++;
		break;
	}
	case VLAB_BLK_GET_ID:
		if (!VLAB_CFG_BLK_EXTRA)
			return blk_reject(r, VLAB_ENOTSUP); /* compiled out (vlab/config.h) */
		/* Exactly 20 bytes of data (DRV-5.2.6.1-7). */
		if (!r->buf || r->len != VIRTIO_BLK_ID_BYTES)
			return blk_reject(r, VLAB_EINVAL);
		if (!b->no_zeroing)
			vlab_memset(r->buf, 0, r->len); /* device-writable: zeroed, as for READ */
		if (vlab_plat_dma_map(p, r->buf, r->len, VLAB_DMA_FROM_DEVICE, &r->buf_dev) != 0)
			return blk_reject(r, VLAB_EINVAL);
		r->mapped = true;
		break;
	default:
		return blk_reject(r, VLAB_EINVAL);
	}

	list_push(&b->pending_head, &b->pending_tail, r);
	rc = blk_refill(b);
	if (rc) {
		/* The device broke while taking r: r comes back here, the
		 * others from poll. */
		blk_give_up_device(b, rc, "blk: the queue broke at submission");
		list_remove(&b->done_head, &b->done_tail, r);
		return r->result;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Completion                                                           */

/* One used entry.  *fin is set when its request finished.  Returns 0, or
 * VLAB_EPROTO when the device broke the protocol (then marked broken). */
static int blk_complete(struct vlab_blk *b, unsigned qi, void *cookie, uint32_t used_len, struct vlab_blk_req **fin)
{
	struct vlab_blk_slot *s = NULL;
	struct vlab_blk_req *r;
	unsigned si = 0;
	uint8_t status = 0xFF;
	int err = 0;

	*fin = NULL;
	for (si = 0; si < b->nslots; si++) {
		if (cookie == (void *)&b->slot[si]) {
			s = &b->slot[si];
			break;
		}
	}
	if (!s || !s->busy || !s->req)
		return vlab_virtio_mark_broken(b->vdev, "blk: completion for a slot not in use");
	if (s->q != qi) /* the ring checks make it impossible; checked all the same */
		return vlab_virtio_mark_broken(b->vdev, "blk: completion on another queue than the request's");
	r = s->req;

	/* The status byte is device-writable: read it through the platform. */
	vlab_plat_shm_read(blk_plat(b), &status,
	                   b->slot_mem + (size_t)si * BLK_SLOT_STRIDE + BLK_STATUS_OFF, 1);
	switch (status) {
	case VIRTIO_BLK_S_OK:
		/* A device that reports success for a read must have written
		 * the data and the status: anything shorter lost data. */
		if ((r->op == VLAB_BLK_READ || r->op == VLAB_BLK_GET_ID) && used_len < s->len + 1u)
			return vlab_virtio_mark_broken(b->vdev, "blk: OK with a short used length");
		break;
	case VIRTIO_BLK_S_IOERR:
		err = VLAB_EIO;
		break;
	case VIRTIO_BLK_S_UNSUPP:
		err = VLAB_ENOTSUP;
		break;
	default:
		return vlab_virtio_mark_broken(b->vdev, "blk: status byte not OK/IOERR/UNSUPP");
	}

	s->busy = false;
	s->req = NULL;
	r->parts_done++;
	if (r->parts_pending)
		r->parts_pending--;
	if (err)
		blk_give_up(b, r, err);
	if (r->all_submitted && r->parts_pending == 0) {
		blk_finish(b, r);
		*fin = r;
	}
	return 0;
}

/*
 * Take up to budget used entries (0: the queue size, so a device that
 * completes without end costs a bounded amount of work per call); finished
 * requests go to the done list.  Returns the entries taken, or a device
 * error after giving up on the device (every request is then in the done
 * list).
 */
static int blk_reap(struct vlab_blk *b, unsigned budget)
{
	int rc = vlab_virtio_check(b->vdev);
	unsigned n = 0;

	if (rc)
		return blk_give_up_device(b, rc, rc == VLAB_ENEEDSRESET ? "blk: device needs a reset" : NULL);
	/* Every queue in use, each at most its size per call; budget (when
	 * not 0) bounds the entries of all of them together. */
	for (unsigned q = 0; q < b->info.num_queues; q++) {
		struct vlab_vq *vq = blk_vq(b, q);
		unsigned taken = 0;

		for (; taken < vlab_vq_size(vq) && !(budget && n >= budget); taken++, n++) {
			struct vlab_blk_req *fin = NULL;
			void *cookie = NULL;
			uint32_t len = 0;

			rc = vlab_vq_pop(vq, &cookie, &len);
			if (rc == VLAB_EAGAIN)
				break;
			if (!rc)
				rc = blk_complete(b, q, cookie, len, &fin);
			if (!rc && fin)
				list_push(&b->done_head, &b->done_tail, fin);
			if (!rc)
				rc = blk_refill(b);
			if (rc)
				return blk_give_up_device(b, rc, NULL);
		}
	}
	return (int)n;
}

int vlab_blk_poll(struct vlab_blk *b, struct vlab_blk_req **done)
{
	struct vlab_blk_req *r;
	int rc = 0;

	if (done)
		*done = NULL;
	if (!b || !b->vdev)
		return VLAB_EINVAL;
	if (!b->done_head)
		rc = blk_reap(b, 0);
	r = b->done_head;
	if (!r)
		return rc < 0 ? rc : VLAB_EAGAIN;
	list_remove(&b->done_head, &b->done_tail, r);
	if (done)
		*done = r;
	return 0;
}

int vlab_blk_config_changed(struct vlab_blk *b)
{
	uint64_t cap = 0;
	int rc;

	if (!b || !b->vdev)
		return VLAB_EINVAL;
	rc = vlab_virtio_check(b->vdev);
	if (rc)
		return rc;
	rc = blk_read_capacity(b, &cap);
	if (rc == VLAB_ECONFIG)
		rc = VLAB_EPROTO; /* a device that changes to an impossible value broke */
	if (rc)
		return blk_give_up_device(b, rc, "blk: capacity changed to an impossible value");
	if (cap != b->info.capacity)
		vlab_log(blk_plat(b), VLAB_LOG_INFO, "%s: capacity changed: %llu -> %llu sectors",
		         blk_name(b), (unsigned long long)b->info.capacity, (unsigned long long)cap);
	b->info.capacity = cap;
	return 0;
}

int vlab_blk_interrupt(struct vlab_blk *b, unsigned budget)
{
	uint32_t isr;
	int rc;

	if (!b || !b->vdev)
		return VLAB_EINVAL;
	/* Not live (before DRIVER_OK, after a reset): 0 without a device access. */
	isr = vlab_virtio_interrupt(b->vdev);
	if (b->vdev->broken)
		return VLAB_EBROKEN;
	if (isr == 0 || !vlab_vq_live(&b->vq))
		return 0;
	if (isr & VIRTIO_ISR_CONFIG) {
		rc = vlab_blk_config_changed(b);
		if (rc)
			return rc;
	}
	if (!(isr & VIRTIO_ISR_QUEUE))
		return 0;
	return blk_reap(b, budget);
}

/* r is done: the waiter takes it, so poll must not report it again
 * (nor hold its address once it is back with its owner). */
static int blk_collect(struct vlab_blk *b, struct vlab_blk_req *r)
{
	list_remove(&b->done_head, &b->done_tail, r);
	return r->result;
}

int vlab_blk_wait(struct vlab_blk *b, struct vlab_blk_req *r)
{
	struct vlab_wait w = {0};

	if (!b || !r || !b->vdev)
		return VLAB_EINVAL;
	if (r->done)
		return blk_collect(b, r);
	if (!blk_owns(b, r))
		return VLAB_EINVAL; /* never submitted: it would never finish */
	/* Bounded in platform time and in polls (vlab_wait): every poll lets a
	 * step pass, so a device that keeps completing other requests cannot
	 * hold the wait either.  The bound runs from the last of r's own parts
	 * the device completed: a long request on a slow device is waited for
	 * while it moves (each part completes once, and r has finitely many),
	 * and a part that never comes ends it one timeout later. */
	uint32_t done_parts = r->parts_done;
	bool timing = false;
	for (;;) {
		/* Other requests that finish meanwhile stay in the done list
		 * for poll. */
		int rc = blk_reap(b, 0);

		if (r->done)
			return blk_collect(b, r);
		if (rc < 0)
			return rc; /* not reached: a device failure fails r too */
		/* The bound starts at the first poll that finds r unfinished (a
		 * request the device completed already costs no clock read). */
		if (!timing || r->parts_done != done_parts) {
			timing = true;
			done_parts = r->parts_done;
			vlab_wait_start_growing(&w, blk_plat(b), vlab_virtio_timeout(b->vdev), BLK_WAIT_STEP_NS,
			                        BLK_WAIT_STEP_MAX_NS);
		}
		if (!vlab_wait_step(&w)) {
			blk_give_up_device(b, VLAB_ETIMEDOUT, "blk: request timed out");
			return blk_collect(b, r);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Synchronous calls                                                    */

/*
 * The synchronous calls use the request inside struct vlab_blk, never one
 * on their own stack: the driver may hold a request's address only as long
 * as it owns the request, and this one outlives every call.  It is free
 * again when the call returns (its wait collected it).
 */
static int blk_sync(struct vlab_blk *b, enum vlab_blk_op op, uint64_t sector, void *buf, uint32_t len)
{
	struct vlab_blk_req *r = &b->sync;
	int rc;

	vlab_memset(r, 0, sizeof *r);
	r->op = op;
	r->sector = sector;
	r->buf = buf;
	r->len = len;
	rc = vlab_blk_submit(b, r);
	if (rc)
		return rc;
	return vlab_blk_wait(b, r);
}

static int blk_rw(struct vlab_blk *b, enum vlab_blk_op op, uint64_t sector, void *buf, uint32_t nsectors)
{
	if (!b)
		return VLAB_EINVAL;
	if (nsectors > UINT32_MAX / VIRTIO_BLK_SECTOR_SIZE)
		return VLAB_EINVAL;
	return blk_sync(b, op, sector, buf, nsectors * VIRTIO_BLK_SECTOR_SIZE);
}

int vlab_blk_read(struct vlab_blk *b, uint64_t sector, void *buf, uint32_t nsectors)
{
	return blk_rw(b, VLAB_BLK_READ, sector, buf, nsectors);
}

int vlab_blk_write(struct vlab_blk *b, uint64_t sector, const void *buf, uint32_t nsectors)
{
	/* The buffer is only ever device-readable for a write. */
	return blk_rw(b, VLAB_BLK_WRITE, sector, (void *)(uintptr_t)buf, nsectors);
}

/* Logical blocks to 512-byte sectors, and the calls above. */
static int blk_rw_blocks(struct vlab_blk *b, enum vlab_blk_op op, uint64_t lba, void *buf, uint32_t nblocks)
{
	uint32_t spb;

	if (!b || !b->slot_mem)
		return VLAB_EINVAL;
	spb = b->info.blk_size / VIRTIO_BLK_SECTOR_SIZE;
	if (lba > UINT64_MAX / spb || nblocks > UINT32_MAX / b->info.blk_size)
		return VLAB_EINVAL;
	return blk_rw(b, op, lba * spb, buf, nblocks * spb);
}

int vlab_blk_read_blocks(struct vlab_blk *b, uint64_t lba, void *buf, uint32_t nblocks)
{
	return blk_rw_blocks(b, VLAB_BLK_READ, lba, buf, nblocks);
}

int vlab_blk_write_blocks(struct vlab_blk *b, uint64_t lba, const void *buf, uint32_t nblocks)
{
	return blk_rw_blocks(b, VLAB_BLK_WRITE, lba, (void *)(uintptr_t)buf, nblocks);
}

int vlab_blk_part_read(void *blk, uint64_t lba, uint32_t nblocks, void *buf)
{
	return vlab_blk_read_blocks(blk, lba, buf, nblocks);
}

int vlab_blk_flush(struct vlab_blk *b)
{
	int rc;

	if (!b || !b->vdev)
		return VLAB_EINVAL;
	rc = vlab_virtio_check(b->vdev);
	if (rc)
		return rc;
	if (!b->info.flush)
		return 0; /* writethrough assumed (DRV-5.2.5.1-2) */
	return blk_sync(b, VLAB_BLK_FLUSH, 0, NULL, 0);
}

/* A call of an optional feature: a device that is set up and not broken,
 * and the feature (have), else VLAB_ENOTSUP. */
static int blk_optional_call(struct vlab_blk *b, bool have)
{
	int rc;

	if (!b || !b->vdev || !b->slot_mem)
		return VLAB_EINVAL;
	rc = vlab_virtio_check(b->vdev);
	if (rc)
		return rc;
	return have ? 0 : VLAB_ENOTSUP;
}

int vlab_blk_set_writeback(struct vlab_blk *b, bool writeback)
{
	const uint8_t want = writeback ? 1 : 0;
	uint8_t got = 0xff;
	int rc;

	rc = blk_optional_call(b, b && VLAB_CFG_BLK_EXTRA && b->info.config_wce);
	if (rc)
		return rc;
	/* DRV-5.2.6.1-11: the driver may select the mode. */
	rc = vlab_virtio_config_write(b->vdev, VIRTIO_BLK_CFG_WRITEBACK, &want, 1);
	if (!rc)
		rc = vlab_virtio_config_read(b->vdev, VIRTIO_BLK_CFG_WRITEBACK, &got, 1);
	if (rc)
		return rc;
	if (got > 1)
		return blk_give_up_device(b, VLAB_EPROTO, "blk: writeback reads neither 0 nor 1");
	b->info.writeback = got == 1;
	if (got != want) {
		vlab_log(blk_plat(b), VLAB_LOG_WARN, "%s: the device kept its %s cache", blk_name(b),
		         got ? "writeback" : "writethrough");
		return VLAB_EIO;
	}
	/* DRV-5.2.6.1-12: writes before the switch may still be in the
	 * cache; a FLUSH makes them durable. */
	if (!writeback)
		return vlab_blk_flush(b);
	return 0;
}

/* A DISCARD / WRITE_ZEROES range, checked whole, then sent in calls of
 * at most BLK_DWZ_CALL_BYTES (a request's len is 32 bits). */
#define BLK_DWZ_CALL_BYTES 0x7fff0000u /* a multiple of every block size up to 64 KiB */
static int blk_dwz(struct vlab_blk *b, enum vlab_blk_op op, uint64_t sector, uint64_t nsectors)
{
	const bool discard = op == VLAB_BLK_DISCARD;
	int rc;

	/* The whole range is checked before any part is sent. */
	rc = blk_optional_call(b, b && VLAB_CFG_BLK_DWZ && (discard ? b->info.discard : b->info.write_zeroes));
	if (!rc)
		rc = blk_dwz_check(b, discard, sector, nsectors);
	if (rc)
		return rc;
	while (nsectors) {
		uint64_t n = nsectors;
		if (n > BLK_DWZ_CALL_BYTES / VIRTIO_BLK_SECTOR_SIZE)
			n = BLK_DWZ_CALL_BYTES / VIRTIO_BLK_SECTOR_SIZE;
		rc = blk_sync(b, op, sector, NULL, (uint32_t)(n * VIRTIO_BLK_SECTOR_SIZE));
		if (rc)
			return rc; /* nothing known of any part (DRV-5.2.6.1-15) */
		sector += n;
		nsectors -= n;
	}
	return 0;
}

int vlab_blk_discard(struct vlab_blk *b, uint64_t sector, uint64_t nsectors)
{
	return blk_dwz(b, VLAB_BLK_DISCARD, sector, nsectors);
}

int vlab_blk_write_zeroes(struct vlab_blk *b, uint64_t sector, uint64_t nsectors, bool unmap)
{
	return blk_dwz(b, unmap ? VLAB_BLK_WRITE_ZEROES_UNMAP : VLAB_BLK_WRITE_ZEROES, sector, nsectors);
}

int vlab_blk_get_id(struct vlab_blk *b, char id[VIRTIO_BLK_ID_BYTES + 1])
{
	uint8_t raw[VIRTIO_BLK_ID_BYTES];
	uint8_t *ibuf;
	unsigned n;
	int rc;

	if (!b || !b->vdev || !id)
		return VLAB_EINVAL;
	id[0] = '\0';
	if (!b->slot_mem)
		return VLAB_EINVAL;
	if (!VLAB_CFG_BLK_EXTRA)
		return VLAB_ENOTSUP; /* compiled out (vlab/config.h) */
	ibuf = b->slot_mem + blk_id_off(b);
	vlab_memset(ibuf, 0, VIRTIO_BLK_ID_BYTES);
	/* exactly 20 bytes (DRV-5.2.6.1-7) */
	rc = blk_sync(b, VLAB_BLK_GET_ID, 0, ibuf, VIRTIO_BLK_ID_BYTES);
	if (rc)
		return rc;

	/* One snapshot through the platform, then validate that copy only. */
	vlab_plat_shm_read(blk_plat(b), raw, ibuf, sizeof raw);
	for (n = 0; n < VIRTIO_BLK_ID_BYTES && raw[n] != 0; n++) {
		if (raw[n] < 0x20 || raw[n] > 0x7e) {
			vlab_log(blk_plat(b), VLAB_LOG_WARN, "%s: GET_ID returned non-text byte 0x%02x",
			         blk_name(b), raw[n]);
			return VLAB_EPROTO;
		}
	}
	vlab_memcpy(id, raw, n);
	id[n] = '\0';
	return 0;
}

#if VLAB_CFG_LOG /* names are log text (vlab/config.h) */
static const struct vlab_feature_name blk_feature_names[] = {
	{VIRTIO_BLK_F_SIZE_MAX, "SIZE_MAX"},
	{VIRTIO_BLK_F_SEG_MAX, "SEG_MAX"},
	{VIRTIO_BLK_F_GEOMETRY, "GEOMETRY"},
	{VIRTIO_BLK_F_RO, "RO"},
	{VIRTIO_BLK_F_BLK_SIZE, "BLK_SIZE"},
	{7, "SCSI"},
	{VIRTIO_BLK_F_FLUSH, "FLUSH"},
	{VIRTIO_BLK_F_TOPOLOGY, "TOPOLOGY"},
	{VIRTIO_BLK_F_CONFIG_WCE, "CONFIG_WCE"},
	{VIRTIO_BLK_F_MQ, "MQ"},
	{VIRTIO_BLK_F_DISCARD, "DISCARD"},
	{VIRTIO_BLK_F_WRITE_ZEROES, "WRITE_ZEROES"},
	{VIRTIO_BLK_F_LIFETIME, "LIFETIME"},
	{VIRTIO_BLK_F_SECURE_ERASE, "SECURE_ERASE"},
};

const char *vlab_blk_feature_name(unsigned bit)
{
	return vlab_feature_name_in(blk_feature_names, sizeof blk_feature_names / sizeof blk_feature_names[0], bit);
}
#else
const char *vlab_blk_feature_name(unsigned bit)
{
	(void)bit;
	return NULL;
}
#endif

/* The registry entry (vlab/bus.h). */
static int blk_probe(void *priv, struct vlab_virtio_dev *d, const void *cfg)
{
	return blk_start(priv, d, cfg);
}

static int blk_remove(void *priv)
{
	struct vlab_blk *b = priv;
	vlab_blk_shutdown(b);
	return b->wedged ? VLAB_EWEDGED : 0;
}

const struct vlab_driver vlab_blk_driver = {
	.device_id = VIRTIO_ID_BLOCK,
	.name = "virtio-blk",
	.features = BLK_FEATURES,
	.priv_size = sizeof(struct vlab_blk),
	.priv_align = _Alignof(struct vlab_blk),
	.probe = blk_probe,
	.remove = blk_remove,
};
#else
typedef int vlab_blk_blk_compiled_out; /* ISO C: no empty translation unit */
#endif
