/* SPDX-License-Identifier: MIT */
/*
 * Device-side virtqueue engines: the split ring (2.7, vq.c) and the packed
 * ring (2.8, vq_packed.c) behind one interface, chosen when the queue is
 * enabled from whether VIRTIO_F_RING_PACKED was negotiated; both with
 * indirect descriptors and EVENT_IDX.  Guest memory only through the env's
 * bounds-checked accessors; the driver's side of the ring protocol is
 * checked and each breach recorded as a violation.
 */
#ifndef DM_VQ_H
#define DM_VQ_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dm_virtio;

#define DM_CHAIN_MAX 1024 /* segments in one chain the model will walk */

struct dm_seg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

struct dm_chain {
	uint16_t head;          /* split: head descriptor index; packed: buffer ID */
	unsigned nseg;
	struct dm_seg seg[DM_CHAIN_MAX];
	uint64_t readable_len, writable_len;
};

struct dm_vq {
	struct dm_virtio *dv;
	uint16_t index;
	/* Programmed by the front end. */
	uint16_t num;           /* queue size */
	uint64_t desc, avail, used;
	uint32_t legacy_align;  /* legacy: QueueAlign / 4096 */
	uint32_t legacy_pfn;
	bool ready;
	/* Engine state. */
	bool packed;            /* packed ring (VIRTIO_F_RING_PACKED negotiated at enable) */
	uint16_t last_avail;    /* split: next avail entry to take; packed: next ring slot to read */
	uint16_t used_idx;      /* split: next used idx to publish; packed: next slot to write */
	bool avail_wrap, used_wrap; /* packed: the device's wrap counters for reading / writing (2.8.1) */
	bool in_use_heads_valid;
	uint8_t in_use[4096 / 8]; /* heads handed out and not completed (bitmap, num <= 32768 checked) */
	uint64_t popped, pushed;
	/* Added. */
	bool broken;            /* a violation stopped processing until reset */
	uint16_t avail_idx_seen;/* avail.idx at the last read */
	uint32_t head_wlen[4096]; /* writable bytes of each in-use chain (for DM_FAULT_USED_LEN) */
	/* Packed: the buffers the device holds (at most num), by buffer ID. */
	struct dm_vq_out {
		uint16_t id;
		uint16_t slots;     /* ring slots the chain took (the used write skips them) */
		uint32_t wlen;      /* writable bytes */
	} out[4096];
	uint16_t nout;
	/* Packed, faults (docs/fault-plans.md): a second completion of a buffer
	 * held for the next used write (DM_FAULT_USED_ID_DUP), and whether a
	 * fault put the used position out of step with the ring (the model then
	 * stops judging flags it may have written itself). */
	bool dup_held, ring_faulted;
	uint16_t dup_id, dup_slots;
	uint32_t dup_len;
	/* Notification counts since the queue's reset, so tests can assert
	 * suppression: available buffer notifications the driver sent for this
	 * queue, used buffer notifications sent, and those suppressed. */
	uint64_t kicks, interrupts, interrupts_suppressed;
};

/*
 * Take the next available chain into *c.  Returns 1 when a chain was taken,
 * 0 when none is available, -1 when the ring is unusable (a violation was
 * recorded and the queue stops being processed until reset).
 */
int dm_vq_pop(struct dm_vq *q, struct dm_chain *c);
/* Return a chain to the driver: used element {head, len}, used.idx + 1,
 * interrupt (unless the driver suppressed it).  Faults applied here. */
void dm_vq_push(struct dm_vq *q, uint16_t head, uint32_t len);
/* Copy out of / into a chain's readable / writable segments at byte offset
 * off (counted within the readable resp. writable part).  Returns bytes
 * copied (short when the chain is shorter or memory is outside RAM). */
uint32_t dm_chain_read(struct dm_vq *q, const struct dm_chain *c, uint64_t off, void *buf, uint32_t len);
uint32_t dm_chain_write(struct dm_vq *q, const struct dm_chain *c, uint64_t off, const void *buf, uint32_t len);
/* Back to the state after reset. */
void dm_vq_reset(struct dm_vq *q);
/* Added: queue programming done (desc/avail/used/num set): check alignment
 * (DRV-2.7.1-1), size, rings inside guest RAM; make it live.  0, or -1 with
 * a violation recorded and the queue broken. */
int dm_vq_enable(struct dm_vq *q);

#ifdef __cplusplus
}
#endif
#endif
