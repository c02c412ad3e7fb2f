/* SPDX-License-Identifier: MIT */
/*
 * Virtqueues, driver side: one API over two ring kinds, the split ring
 * (2.7, driver/core/virtqueue_split.c) and the packed ring (2.8,
 * driver/core/virtqueue_packed.c).  The kind is chosen at setup from what
 * was negotiated (VIRTIO_F_RING_PACKED), and so are indirect descriptors
 * (VIRTIO_F_INDIRECT_DESC) and event suppression by index
 * (VIRTIO_F_EVENT_IDX).  See docs/virtqueue.md.
 *
 * Descriptors and the free list live in driver-private memory; the shared
 * descriptor table (and every indirect table) is written, never read back.
 * Everything read from the device (used.idx and used elements, packed used
 * descriptors, avail_event, the device event suppression structure) goes
 * through the platform, once, and is validated: the device may not use more
 * than was published, a buffer ID must name an outstanding chain, a used
 * length may not exceed the device-writable bytes posted.  A violation
 * marks the device broken.
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
/* Packed ring descriptor flags (2.8.1) and event suppression (2.8.14). */
#define VIRTQ_DESC_F_AVAIL (1u << 7)
#define VIRTQ_DESC_F_USED (1u << 15)
#define VIRTQ_EVENT_F_ENABLE 0u
#define VIRTQ_EVENT_F_DISABLE 1u
#define VIRTQ_EVENT_F_DESC 2u

/* Indirect tables: a pool per queue of VLAB_VQ_IND_TABLES tables of
 * VLAB_VQ_IND_MAX descriptors, allocated at setup when INDIRECT_DESC was
 * negotiated; a chain of VLAB_VQ_IND_MIN descriptors or more (and not more
 * than VLAB_VQ_IND_MAX nor the queue size) goes through a table when one is
 * free, and takes a single ring slot. */
#ifndef VLAB_VQ_IND_TABLES
#define VLAB_VQ_IND_TABLES 32
#endif
#ifndef VLAB_VQ_IND_MAX
#define VLAB_VQ_IND_MAX 16
#endif
#ifndef VLAB_VQ_IND_MIN
#define VLAB_VQ_IND_MIN 3
#endif

enum vlab_vq_kind {
	VLAB_VQ_SPLIT = 0,
	VLAB_VQ_PACKED = 1,
};

/* A packed ring descriptor (2.8.13); also the layout of indirect tables. */
struct vlab_pvirtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

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
	uint16_t ndesc;     /* ring slots the chain takes */
	uint8_t table;      /* indirect table + 1, 0 for none */
	bool outstanding;
};

struct vlab_vq {
	struct vlab_virtio_dev *dev;
	uint16_t index;
	uint16_t size;
	bool live;
	enum vlab_vq_kind kind;
	bool event_idx;      /* VIRTIO_F_EVENT_IDX negotiated */
	bool cb_disabled;    /* used buffer notifications suppressed (poll mode) */

	/* Shared ring memory (one DMA block). */
	void *mem;
	size_t mem_len;
	volatile struct vlab_virtq_desc *desc;
	volatile uint16_t *avail;   /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;     /* flags, idx, ring[size] of {id,len}, avail_event */
	struct vlab_vq_layout layout;
	/* Packed ring (desc is unused): descriptor ring and the driver and
	 * device event suppression structures. */
	volatile struct vlab_pvirtq_desc *pdesc;
	volatile uint16_t *drv_event;       /* off_wrap, flags: driver-written */
	volatile uint16_t *dev_event;       /* off_wrap, flags: device-written */
	uint16_t pending_head;   /* packed: first unexposed head of the batch */
	uint16_t pending_flags;  /* and the flags it gets at the kick */
	bool pending;
	uint8_t size_log2;

	/* Indirect tables (DMA memory, written, never read back). */
	volatile struct vlab_pvirtq_desc *ind;
	vlab_addr_t ind_dev;
	size_t ind_len;
	uint32_t ind_free;       /* bit t set: table t is free */

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
	uint64_t chains;         /* chains added */
	uint64_t slots;          /* ring slots (descriptors in the ring) they took */
	uint64_t indirect;       /* chains that went through an indirect table */
};

/*
 * Set up queue index: size = min(device maximum, cap, VLAB_VQ_SIZE_MAX),
 * rounded down to a power of two; VLAB_ENODEV if the device has no such
 * queue.  The ring kind follows the negotiated features (packed when
 * VIRTIO_F_RING_PACKED was).  Allocates the ring (and, with INDIRECT_DESC,
 * the indirect table pool) through the platform and enables it through the
 * transport.  Call between FEATURES_OK and DRIVER_OK.  Used buffer
 * notifications start enabled.
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
/*
 * Used buffer notification suppression, for queues the caller polls: after
 * disable_cb the device is asked not to interrupt for this queue
 * (split: avail.flags NO_INTERRUPT, or with EVENT_IDX a used_event it will
 * not reach; packed: driver event flags DISABLE).  enable_cb asks for an
 * interrupt at the next completion (EVENT_IDX: used_event / the driver
 * event descriptor at the next used entry) and returns true when a
 * completion is already there (the caller pops before it sleeps).  Advisory
 * to the device: spurious interrupts stay possible (DRV-2.7.7.1-5).
 */
void vlab_vq_disable_cb(struct vlab_vq *vq);
bool vlab_vq_enable_cb(struct vlab_vq *vq);
/* vring_need_event of 2.7.10 written from the spec: true when event_idx is
 * in [old, new), i.e. the index moved from old to new passed it. */
static inline bool vlab_vq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}
/* The queue's size (0 before setup) and whether it holds ring memory or is
 * live (then vlab_vq_teardown has something to do). */
static inline unsigned vlab_vq_size(const struct vlab_vq *vq) { return vq->size; }
static inline bool vlab_vq_allocated(const struct vlab_vq *vq) { return vq->mem != NULL || vq->live; }
static inline bool vlab_vq_live(const struct vlab_vq *vq) { return vq->live; }
static inline unsigned vlab_vq_num_free(const struct vlab_vq *vq) { return vq->num_free; }
static inline unsigned vlab_vq_in_flight(const struct vlab_vq *vq)
{
	return (unsigned)(vq->size - vq->num_free);
}

#ifdef __cplusplus
}
#endif
#endif
