/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng driver (VIRTIO 1.2, 5.4: the entropy device): one request
 * queue of device-writable buffers the device fills with random bytes.
 *
 * Hardened as blk and net are: a device may answer fewer bytes than asked,
 * or none at all (a real device returned 8 bytes short, and 0 for small
 * requests, which hung a bootloader), or claim more than was posted.  The
 * driver never hangs (each call is bounded in requests, in empty answers
 * and in platform time) and never hands out a byte the device did not
 * write: only the used length is copied, bounded by what was posted (a
 * larger claim marks the device broken, and it is stopped before its
 * buffer is touched again).
 */
#ifndef VLAB_RNG_H
#define VLAB_RNG_H

#include "vlab/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLAB_VIRTIO_ID_RNG 4u

/* Bytes asked for in one request (the driver's DMA buffer). */
#ifndef VLAB_RNG_BUF_BYTES
#define VLAB_RNG_BUF_BYTES 64u
#endif
/* Requests one vlab_rng_read makes at most, and answers of 0 bytes in a
 * row it accepts before it gives up. */
#ifndef VLAB_RNG_MAX_REQUESTS
#define VLAB_RNG_MAX_REQUESTS 64u
#endif
#ifndef VLAB_RNG_EMPTY_MAX
#define VLAB_RNG_EMPTY_MAX 4u
#endif

struct vlab_rng_stats {
	uint64_t requests;       /* buffers given to the device */
	uint64_t bytes;          /* random bytes handed out */
	uint64_t short_answers;  /* answers below what was asked, above 0 */
	uint64_t empty_answers;  /* answers of 0 bytes */
};

struct vlab_rng {
	struct vlab_virtio_dev *vdev;
	struct vlab_vq vq;
	/* One DMA buffer of VLAB_RNG_BUF_BYTES, the device's while posted. */
	uint8_t *buf;
	vlab_addr_t buf_dev;
	/* Given up on (a timeout, a protocol breach): every call fails with
	 * VLAB_EBROKEN until init.  wedged: the device did not acknowledge the
	 * reset that should have stopped it, so its buffer is kept. */
	bool stopped;
	bool wedged;
	struct vlab_rng_stats stats;
};

/* Initialise: reset, negotiate (VERSION_1 on modern; the device has no
 * feature bits of its own), set up the queue, DRIVER_OK. */
int vlab_rng_init(struct vlab_rng *r, struct vlab_virtio_dev *d);
/*
 * Fill buf with up to len random bytes; *got says how many (0 .. len).
 * Returns 0 when *got > 0 or len is 0 (fewer than len when the device gave
 * fewer within the bounds: VLAB_RNG_MAX_REQUESTS requests, VLAB_RNG_EMPTY_MAX
 * empty answers in a row, the device timeout for the whole call), VLAB_EIO
 * when the device gave nothing, VLAB_ETIMEDOUT when a request was not
 * answered in time and VLAB_EPROTO when the device claimed more bytes than
 * asked (both stop the device: VLAB_EBROKEN from then on; VLAB_EWEDGED
 * when it did not stop).  Bytes are handed out as they come: *got is valid
 * on every return.
 */
int vlab_rng_read(struct vlab_rng *r, void *buf, size_t len, size_t *got);
/* Reset the device and release its queue and buffer: 0, or VLAB_EWEDGED
 * when the reset was not acknowledged (the memory is kept). */
int vlab_rng_shutdown(struct vlab_rng *r);

/* The registry entry for the bus (vlab/bus.h). */
struct vlab_driver;
extern const struct vlab_driver vlab_rng_driver;

#ifdef __cplusplus
}
#endif
#endif
