/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng driver (VIRTIO 1.2, 5.4).  See vlab/rng.h for the contract.
 *
 * One buffer is posted at a time, device-writable only (5.4.6.1: the
 * driver MUST NOT place driver-readable buffers into the queue).  The used
 * length says how many bytes the device wrote (5.4.6.1: the driver MUST
 * examine it); the virtqueue layer refuses a length above what was posted
 * (the device is then broken), and only [0, used length) is copied out,
 * through the platform's shared-memory read.  The buffer is zeroed before
 * each post, so that a device that claims bytes it did not write hands out
 * zeros, never bytes an earlier request already gave.
 */
#include "vlab/bus.h"
#include "vlab/rng.h"
#include "vlab/wait.h"

#if VLAB_CFG_RNG /* vlab/config.h */

#define RNG_QUEUE 0
#define RNG_QUEUE_CAP 8 /* one request in flight at a time */
#define RNG_WAIT_STEP_NS 1000u

/* A macro: with VLAB_CFG_LOG=0 it appears in unevaluated log lines only. */
#define rng_name(r) ((r)->vdev->name ? (r)->vdev->name : "virtio-rng")

/* After FEATURES_OK: the queue, the buffer, DRIVER_OK (FAILED on an
 * error: vlab_driver_start sets it). */
static int rng_start(struct vlab_rng *r, struct vlab_virtio_dev *d)
{
	const struct vlab_platform *p = d->plat;
	int rc;

	vlab_memset(r, 0, sizeof *r);
	r->vdev = d;
	rc = vlab_vq_setup(&r->vq, d, RNG_QUEUE, RNG_QUEUE_CAP);
	if (rc == VLAB_ERANGE) /* legacy PCI: the device fixes the size */
		rc = vlab_vq_setup(&r->vq, d, RNG_QUEUE, 0);
	if (rc)
		return rc;
	/* Completions are polled for. */
	vlab_vq_disable_cb(&r->vq);
	r->buf = p->ops->dma_alloc(p->ctx, VLAB_RNG_BUF_BYTES, 16, &r->buf_dev);
	rc = r->buf ? vlab_virtio_driver_ok(d) : VLAB_ENOMEM;
	if (rc) {
		/* The ring is known to the device: reset before freeing it. */
		if (vlab_virtio_reset(d) == 0) {
			vlab_vq_teardown(&r->vq);
			if (r->buf)
				p->ops->dma_free(p->ctx, r->buf, VLAB_RNG_BUF_BYTES);
			r->buf = NULL;
		} else {
			r->wedged = r->stopped = true;
		}
		return rc;
	}
	vlab_log(p, VLAB_LOG_INFO, "%s: virtio-rng queue %u, %u bytes per request", rng_name(r),
	         vlab_vq_size(&r->vq), VLAB_RNG_BUF_BYTES);
	return 0;
}

int vlab_rng_init(struct vlab_rng *r, struct vlab_virtio_dev *d)
{
	if (!r || !d)
		return VLAB_EINVAL;
	vlab_memset(r, 0, sizeof *r);
	r->vdev = d;
	return vlab_driver_start(&vlab_rng_driver, r, d, NULL, 0);
}

/* Give up on the device: stop it before its buffer is ours again. */
static int rng_give_up(struct vlab_rng *r, int rc, const char *why)
{
	r->stopped = true;
	if (vlab_virtio_stop(r->vdev, why) != 0) {
		r->wedged = true;
		return VLAB_EWEDGED;
	}
	return rc;
}

/* One request of want bytes: 0 with *n the bytes the device wrote (copied
 * to out), or an error after which the device is stopped. */
static int rng_request(struct vlab_rng *r, uint8_t *out, uint32_t want, uint32_t *n,
                       struct vlab_wait *w)
{
	const struct vlab_platform *p = r->vdev->plat;
	struct vlab_sg in = {r->buf_dev, want};
	int rc;

	vlab_memset(r->buf, 0, want);
	rc = vlab_vq_add(&r->vq, NULL, 0, &in, 1, r->buf);
	if (!rc)
		rc = vlab_vq_kick(&r->vq);
	if (rc)
		return rng_give_up(r, rc, "rng: request not accepted");
	r->stats.requests++;
	for (;;) {
		void *cookie = NULL;
		uint32_t len = 0;

		rc = vlab_vq_pop(&r->vq, &cookie, &len);
		if (rc == 0) {
			/* The ring checked len <= want and the cookie; check
			 * again rather than trust that here. */
			if (len > want || cookie != r->buf)
				return rng_give_up(r, vlab_virtio_mark_broken(r->vdev, "rng: used length above the buffer"),
				                   "rng: used length above the buffer");
			vlab_plat_shm_read(p, out, r->buf, len);
			*n = len;
			return 0;
		}
		if (rc != VLAB_EAGAIN)
			return rng_give_up(r, rc, "rng: the device broke the ring protocol");
		if (!vlab_wait_step(w))
			return rng_give_up(r, VLAB_ETIMEDOUT, "rng: request not answered in time");
	}
}

int vlab_rng_read(struct vlab_rng *r, void *buf, size_t len, size_t *got)
{
	uint8_t *out = buf;
	struct vlab_wait w;
	unsigned empty = 0;
	size_t have = 0;
	int rc = 0;

	if (got)
		*got = 0;
	if (!r || !r->vdev || !got || (len && !buf))
		return VLAB_EINVAL;
	if (r->stopped || !r->buf)
		return VLAB_EBROKEN;
	rc = vlab_virtio_check(r->vdev);
	if (rc)
		return rc == VLAB_ENEEDSRESET ? rng_give_up(r, rc, "rng: the device needs a reset") : rc;
	/* A deadline that runs from the call or from the last request the
	 * device answered with bytes (a slow source that keeps answering, as
	 * a rate-limited one, is waited for), and a bound on requests: at most
	 * VLAB_RNG_MAX_REQUESTS + 1 deadlines a call. */
	vlab_wait_start(&w, r->vdev->plat, vlab_virtio_timeout(r->vdev), RNG_WAIT_STEP_NS);
	for (unsigned i = 0; i < VLAB_RNG_MAX_REQUESTS && have < len; i++) {
		uint32_t want = len - have < VLAB_RNG_BUF_BYTES ? (uint32_t)(len - have) : VLAB_RNG_BUF_BYTES;
		uint32_t n = 0;

		rc = rng_request(r, out + have, want, &n, &w);
		if (rc)
			break;
		have += n;
		r->stats.bytes += n;
		*got = have;
		if (n == 0) {
			r->stats.empty_answers++;
			if (++empty >= VLAB_RNG_EMPTY_MAX)
				break;
			/* The device may be waiting for entropy: the next
			 * try after a step, within the call's deadline. */
			if (!vlab_wait_step(&w))
				break;
			continue;
		}
		empty = 0;
		if (n < want)
			r->stats.short_answers++;
		vlab_wait_start(&w, r->vdev->plat, vlab_virtio_timeout(r->vdev), RNG_WAIT_STEP_NS);
	}
	if (rc)
		return rc;
	if (have == 0 && len != 0) {
		vlab_log(r->vdev->plat, VLAB_LOG_WARN, "%s: the device gave no random bytes", rng_name(r));
		return VLAB_EIO;
	}
	return 0;
}

int vlab_rng_shutdown(struct vlab_rng *r)
{
	if (!r || !r->vdev)
		return VLAB_EINVAL;
	const struct vlab_platform *p = r->vdev->plat;
	if (vlab_virtio_reset(r->vdev) != 0) {
		vlab_log(p, VLAB_LOG_ERROR, "%s: reset failed; buffer not freed", rng_name(r));
		r->stopped = r->wedged = true;
		return VLAB_EWEDGED;
	}
	vlab_vq_teardown(&r->vq);
	if (r->buf)
		p->ops->dma_free(p->ctx, r->buf, VLAB_RNG_BUF_BYTES);
	r->buf = NULL;
	r->stopped = true;
	r->wedged = false;
	return 0;
}

/* The registry entry (vlab/bus.h). */
static int rng_probe(void *priv, struct vlab_virtio_dev *d, const void *cfg)
{
	(void)cfg; /* nothing to choose */
	return rng_start(priv, d);
}

static int rng_remove(void *priv)
{
	return vlab_rng_shutdown(priv);
}

const struct vlab_driver vlab_rng_driver = {
	.device_id = VLAB_VIRTIO_ID_RNG,
	.name = "virtio-rng",
	.features = VLAB_BIT(VIRTIO_F_VERSION_1),
	.priv_size = sizeof(struct vlab_rng),
	.priv_align = _Alignof(struct vlab_rng),
	.probe = rng_probe,
	.remove = rng_remove,
};
#else
typedef int vlab_rng_rng_compiled_out; /* ISO C: no empty translation unit */
#endif
