/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue (2.7), driver side.
 *
 * Descriptors and the free list live in driver-private memory; the shared
 * descriptor table is written, never read back.  Everything read from the
 * device (used.idx, used elements) goes through the platform and is
 * validated: used.idx may not advance by more than the queue size, used.id
 * must be the head of an outstanding chain, used.len may not exceed the
 * device-writable bytes posted.  A violation marks the device broken.
 */
#ifndef VLAB_VIRTQUEUE_H
#define VLAB_VIRTQUEUE_H

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Driver cap on queue size; private state is sized by it. */
#ifndef VLAB_VQ_SIZE_MAX
#define VLAB_VQ_SIZE_MAX 256
#endif

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

struct vlab_virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* One buffer of a chain. */
struct vlab_sg {
	vlab_addr_t addr;
	uint32_t len;
};

struct vlab_vq_head_state {
	void *cookie;
	uint32_t writable;  /* device-writable bytes posted in this chain */
	uint16_t ndesc;
	bool outstanding;
};

struct vlab_vq {
	struct vlab_virtio_dev *dev;
	uint16_t index;
	uint16_t size;
	bool live;

	/* Shared ring memory (one DMA block). */
	void *mem;
	size_t mem_len;
	volatile struct vlab_virtq_desc *desc;
	volatile uint16_t *avail;   /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;     /* flags, idx, ring[size] of {id,len}, avail_event */
	struct vlab_vq_layout layout;

	/* Private state.  The free descriptors form a FIFO (taken at
	 * free_head, returned at free_tail): a completed chain's head is
	 * reused as late as possible, so a device that completes a chain a
	 * second time names a head that is no longer outstanding and is
	 * caught, instead of passing for the completion of a new chain. */
	uint16_t free_head;
	uint16_t free_tail;
	uint16_t num_free;
	uint16_t avail_idx;      /* next avail idx to publish (shadow) */
	uint16_t kicked_idx;     /* avail idx at the last notification */
	uint16_t published_idx;  /* avail idx last written to avail->idx */
	uint16_t last_used;      /* next used entry to consume */
	uint16_t next[VLAB_VQ_SIZE_MAX];
	struct vlab_vq_head_state head[VLAB_VQ_SIZE_MAX];
	/* Counters for tests and statistics. */
	uint64_t notifications;
	uint64_t completions;
};

/*
 * Set up queue index: size = min(device maximum, cap, VLAB_VQ_SIZE_MAX),
 * rounded down to a power of two; VLAB_ENODEV if the device has no such
 * queue.  Allocates the ring through the platform and enables it through
 * the transport.  Call between FEATURES_OK and DRIVER_OK.
 */
int vlab_vq_setup(struct vlab_vq *vq, struct vlab_virtio_dev *d, uint16_t index, uint16_t cap);
/* Free the ring memory (the device must have been reset first, DRV-3.3.1-2). */
void vlab_vq_teardown(struct vlab_vq *vq);
/*
 * Expose one chain: out[] device-readable, then in[] device-writable
 * (DRV-2.7.4.2-1).  VLAB_EBUSY when fewer than n_out + n_in descriptors are
 * free, VLAB_EINVAL for an empty chain, a chain of more descriptors than the
 * queue size (it could never fit) or a total length above 2^32 - 1.
 * Not visible to the device before vlab_vq_kick().
 */
int vlab_vq_add(struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                const struct vlab_sg *in, unsigned n_in, void *cookie);
/* Publish the new avail idx (barrier first, DRV-2.7.13.3.1-1) and notify
 * unless the device asked not to (DRV-2.7.10.1-3/4). */
int vlab_vq_kick(struct vlab_vq *vq);
/*
 * Take one completed chain: 0 with *cookie and *len set, VLAB_EAGAIN when
 * nothing is ready, VLAB_EPROTO when the device broke the ring protocol
 * (the device is then broken), VLAB_EBROKEN when it already was.
 */
int vlab_vq_pop(struct vlab_vq *vq, void **cookie, uint32_t *len);
static inline unsigned vlab_vq_num_free(const struct vlab_vq *vq) { return vq->num_free; }
static inline unsigned vlab_vq_in_flight(const struct vlab_vq *vq)
{
	return (unsigned)(vq->size - vq->num_free);
}

#ifdef __cplusplus
}
#endif
#endif
