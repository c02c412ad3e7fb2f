/* SPDX-License-Identifier: MIT */
/*
 * Fuzz targets fuzz_ring and fuzz_packed (this file built with
 * FZ_PACKED_TARGET): the virtqueue API (vlab_vq_add / kick / pop, and
 * interrupt suppression) against a device whose ring answers come from the
 * input.  A minimal transport with no registers; the control stream picks
 * operations and chain shapes, the device side (fuzz_device.c) serves the
 * split or the packed ring, with indirect descriptors and EVENT_IDX as
 * negotiated, and completes chains honestly unless told to lie (used IDs,
 * lengths, completing twice, the used position jumping, its event
 * suppression structure); in racy mode every read of the ring is fresh
 * input.  fuzz_ring: the split ring, and the ring features when the input
 * begins with FZ_RING_MAGIC; fuzz_packed: the packed ring always, the ring
 * byte (indirect, EVENT_IDX) second.
 *
 * Checked here, beyond the sanitizers: every chain popped was added and not
 * yet popped, its length is within what was posted, the free count always
 * matches the chains outstanding, the ring kind is the negotiated one, and
 * a broken device stays broken.  The device side checks the driver's ring
 * (fuzz_device.c: layout, lists, indirect tables, IDs, slots in flight,
 * event suppression values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/virtqueue.h"

#define MAX_TOKENS 512
#ifdef FZ_PACKED_TARGET
#define TARGET "fuzz_packed"
#define FORCE FZ_RING_PACKED
#else
#define TARGET "fuzz_ring"
#define FORCE 0u
#endif

static struct fz F;
static struct vlab_vq VQ;

struct ring_dev {
	struct vlab_virtio_dev d;
	struct fz *f;
	uint16_t qmax;
	uint8_t status;
};

static struct ring_dev *rd(struct vlab_virtio_dev *d) { return (struct ring_dev *)d->transport; }

static uint8_t t_get_status(struct vlab_virtio_dev *d)
{
	struct ring_dev *r = rd(d);
	return fz_choose_lie(r->f) ? (uint8_t)fz_choose_pay(r->f, 1) : r->status;
}
static void t_set_status(struct vlab_virtio_dev *d, uint8_t s) { rd(d)->status = s; }
static uint64_t t_get_features(struct vlab_virtio_dev *d)
{
	struct ring_dev *r = rd(d);
	return fz_choose_lie(r->f) ? fz_choose_pay(r->f, 8) : VLAB_BIT(VIRTIO_F_VERSION_1) | r->f->ring_offer;
}
/* The device serves the ring the driver accepted. */
static void t_set_features(struct vlab_virtio_dev *d, uint64_t f) { rd(d)->f->driver_features = f; }
static uint32_t t_generation(struct vlab_virtio_dev *d) { (void)d; return 0; }
static int t_config_read(struct vlab_virtio_dev *d, uint32_t off, unsigned w, uint32_t *v)
{
	(void)off;
	*v = (uint32_t)fz_choose_pay(rd(d)->f, w);
	return 0;
}
static int t_config_write(struct vlab_virtio_dev *d, uint32_t off, unsigned w, uint32_t v)
{
	(void)d; (void)off; (void)w; (void)v;
	return 0;
}
static int t_queue_max(struct vlab_virtio_dev *d, uint16_t idx, uint16_t *max)
{
	(void)idx;
	*max = rd(d)->qmax;
	return 0;
}
static int t_queue_enable(struct vlab_virtio_dev *d, uint16_t idx, const struct vlab_vq_layout *l)
{
	(void)idx;
	if (l->size == 0 || l->size > rd(d)->qmax)
		abort(); /* the driver chose a size the device does not allow */
	rd(d)->f->q[0].num = l->size;
	rd(d)->f->q[0].desc = l->desc;
	rd(d)->f->q[0].avail = l->avail;
	rd(d)->f->q[0].used = l->used;
	fz_queue_restart(rd(d)->f, &rd(d)->f->q[0]);
	return 0;
}
static void t_queue_notify(struct vlab_virtio_dev *d, uint16_t idx)
{
	(void)idx;
	fz_device_work(rd(d)->f, 0);
}
static uint32_t t_interrupt_ack(struct vlab_virtio_dev *d)
{
	return (uint32_t)fz_choose_pay(rd(d)->f, 1);
}

static const struct vlab_transport_ops ring_ops = {
	.get_status = t_get_status,
	.set_status = t_set_status,
	.get_features = t_get_features,
	.set_features = t_set_features,
	.config_generation = t_generation,
	.config_read = t_config_read,
	.config_write = t_config_write,
	.queue_max = t_queue_max,
	.queue_enable = t_queue_enable,
	.queue_notify = t_queue_notify,
	.interrupt_ack = t_interrupt_ack,
};

struct token {
	bool out;         /* added and not popped */
	uint32_t writable;
	unsigned ndesc;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token tok[MAX_TOKENS];
	static struct ring_dev dev;
	struct fz *f = &F;
	struct vlab_vq *vq = &VQ;
	unsigned ntok = 0, outstanding_desc = 0;
	uint8_t mode;
	uint8_t *bufs;
	vlab_addr_t bufs_dev;

	fz_init(f, data, size);
	fz_trace_start(f, TARGET);
	fz_trace_device(f, "ring", "none", NULL, 0);
	f->engine = FZ_ENGINE_RING;
	mode = fz_ring_offer(f, FORCE);
	f->racy = mode & 1;
	f->lie_shift = (uint8_t)(1 + ((mode >> 1) & 7)); /* 1 (lie half the time) .. 8 (never) */
	memset(&dev, 0, sizeof dev);
	memset(tok, 0, sizeof tok);
	dev.f = f;
	dev.qmax = (uint16_t)(1u + fz_choose8(f));
	dev.d.plat = &f->plat;
	dev.d.ops = &ring_ops;
	dev.d.transport = &dev;
	dev.d.name = "fuzz-ring";
	dev.d.timeout_ns = FZ_TIMEOUT_NS;

	if (vlab_virtio_begin(&dev.d) != 0 || vlab_virtio_negotiate(&dev.d, 0, 0, NULL, 0) != 0)
		goto out;
	if (vlab_vq_setup(vq, &dev.d, 0, fz_choose8(f)) != 0)
		goto out;
	if ((vq->kind == VLAB_VQ_PACKED) != ((f->driver_features & VLAB_BIT(VIRTIO_F_RING_PACKED)) != 0))
		abort(); /* the ring kind is the negotiated one */
	if (vlab_virtio_driver_ok(&dev.d) != 0)
		goto out;
	bufs = fz_buffer(f, 4096, 16, &bufs_dev);
	if (!bufs)
		abort();

	for (unsigned step = 0; step < 1024 && !fz_choose_done(f); step++) {
		uint8_t op = fz_choose8(f);
		bool was_broken = dev.d.broken;
		int rc;

		switch (op % 4) {
		case 0: { /* add a chain */
			struct vlab_sg out[4], in[16];
			unsigned n_out = (op >> 2) & 3, n_in = (op >> 4) & 3;
			/* With the ring byte, lists long enough for an
			 * indirect table (and beyond its size). */
			if (f->ring_ctl)
				n_in += 4u * (op >> 6);
			uint32_t w = 0;
			for (unsigned i = 0; i < n_out; i++) {
				out[i].addr = bufs_dev + 64u * i;
				out[i].len = 1u + fz_choose8(f);
			}
			for (unsigned i = 0; i < n_in; i++) {
				in[i].addr = bufs_dev + 1024u + 64u * i;
				in[i].len = 1u + fz_choose8(f);
				w += in[i].len;
			}
			if (ntok == MAX_TOKENS)
				ntok = 0; /* reuse: only outstanding tokens matter */
			if (tok[ntok].out)
				break;
			unsigned free_before = vq->num_free;
			rc = vlab_vq_add(vq, out, n_out, in, n_in, &tok[ntok]);
			if (rc == 0) {
				if (n_out + n_in == 0 || was_broken || vq->num_free >= free_before)
					abort();
				tok[ntok].out = true;
				tok[ntok].writable = w;
				/* The ring slots the chain took: one per buffer, or
				 * one for an indirect table. */
				tok[ntok].ndesc = free_before - vq->num_free;
				outstanding_desc += tok[ntok].ndesc;
				ntok++;
			} else if (was_broken && rc != VLAB_EBROKEN) {
				abort();
			}
			break;
		}
		case 1:
			rc = vlab_vq_kick(vq);
			if (was_broken && rc != VLAB_EBROKEN)
				abort();
			break;
		case 2: { /* pop */
			void *cookie = NULL;
			uint32_t len = 0;
			rc = vlab_vq_pop(vq, &cookie, &len);
			if (rc == 0) {
				struct token *t = cookie;
				if (was_broken || t < tok || t >= tok + MAX_TOKENS || !t->out)
					abort(); /* a chain that was not outstanding */
				if (len > t->writable)
					abort();
				t->out = false;
				outstanding_desc -= t->ndesc;
			} else if (rc != VLAB_EAGAIN && rc != VLAB_EPROTO && rc != VLAB_EBROKEN) {
				abort();
			} else if (rc == VLAB_EPROTO && !dev.d.broken) {
				abort(); /* a protocol error must leave the device broken */
			}
			break;
		}
		default:
			/* With the ring byte: interrupt suppression too. */
			if (f->ring_ctl && ((op >> 2) & 3) == 1)
				vlab_vq_disable_cb(vq);
			else if (f->ring_ctl && ((op >> 2) & 3) == 2)
				(void)vlab_vq_enable_cb(vq);
			else
				(void)vlab_virtio_interrupt(&dev.d);
			break;
		}
		if (was_broken && !dev.d.broken)
			abort(); /* broken is sticky until reset */
		if (vq->num_free + outstanding_desc != vq->size)
			abort();
	}
	vlab_vq_teardown(vq);
out:
	fz_fini(f);
	return 0;
}
