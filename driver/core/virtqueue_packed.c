/* SPDX-License-Identifier: MIT */
/*
 * Packed virtqueue (2.8), driver side, behind the API of vlab/virtqueue.h.
 *
 * Ring memory is one DMA block (DRV-2.8.11-1):
 *   descriptor ring            16 * size   at 0              (16-aligned)
 *   driver event suppression   4           at 16 * size      (4-aligned)
 *   device event suppression   4           at 16 * size + 4  (4-aligned)
 *
 * The queue size is a power of two (see vlab_vq_setup), so the driver keeps
 * free-running 16-bit counters of ring slots: avail_idx (the next slot to
 * fill), published_idx (slots exposed at the last kick), kicked_idx (at the
 * last notification), last_used (the next slot the device writes a used
 * descriptor to).  A counter's slot is (counter & (size - 1)) and its wrap
 * counter is 1 on even laps, 0 on odd ones: the driver and device ring wrap
 * counters of 2.8.1 both start at 1 and flip at each lap.
 *
 * Buffer IDs are 0..size-1, taken from a FIFO of free IDs (vq->next[],
 * free_head, free_tail) so that a completed ID is reused as late as
 * possible and a second completion of it is caught; vq->head[id] holds the
 * chain's cookie, ring slots, writable bytes and indirect table.
 *
 * The first head of a batch of chains has its flags written only by
 * vlab_vq_kick(), after a write barrier (DRV-2.8.21.1.1-1): until then the
 * device, which walks the ring in order, reaches none of the batch
 * (DRV-2.8.17-6: every later descriptor of a list is in place before its
 * first one is exposed).
 *
 * Everything the device writes (used descriptors, the device event
 * suppression structure) is read once, through vlab_plat_shm_read*.
 */
#include "virtqueue_priv.h"

#if VLAB_CFG_PACKED /* vlab/config.h */

#define DRV_EVENT_OFF_WRAP 0 /* in 16-bit units */
#define DRV_EVENT_FLAGS 1
#define EVENT_WRAP (1u << 15)

static uint16_t slot_of(const struct vlab_vq *vq, uint16_t ctr)
{
	return (uint16_t)(ctr & (vq->size - 1u));
}

static bool wrap_of(const struct vlab_vq *vq, uint16_t ctr)
{
	return ((ctr >> vq->size_log2) & 1u) == 0;
}

/* The descriptor flags that make a slot available in the lap of ctr:
 * AVAIL equal to the driver wrap counter, USED its inverse (2.8.1). */
static uint16_t avail_bits(const struct vlab_vq *vq, uint16_t ctr)
{
	return wrap_of(vq, ctr) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/* An event suppression off_wrap naming the slot of ctr in its lap. */
static uint16_t off_wrap_of(const struct vlab_vq *vq, uint16_t ctr)
{
	return (uint16_t)(slot_of(vq, ctr) | (wrap_of(vq, ctr) ? EVENT_WRAP : 0u));
}

static void set_drv_event(struct vlab_vq *vq, uint16_t off_wrap, uint16_t flags)
{
	vq->drv_event[DRV_EVENT_OFF_WRAP] = vq16(vq, off_wrap);
	vq->drv_event[DRV_EVENT_FLAGS] = vq16(vq, flags);
}

int vlab_vqi_packed_setup(struct vlab_vq *vq, uint16_t size)
{
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	if (d->legacy)
		return VLAB_EINVAL; /* RING_PACKED needs VERSION_1 */

	size_t desc_len = 16u * (size_t)size;
	size_t total = desc_len + 8u;
	vlab_addr_t dev = 0;
	void *mem = p->ops->dma_alloc(p->ctx, total, 16, &dev);
	if (mem == NULL)
		return VLAB_ENOMEM;
	if ((dev & 15u) != 0 || ((uintptr_t)mem & 15u) != 0 || dev + total < dev) {
		p->ops->dma_free(p->ctx, mem, total);
		return VLAB_EINVAL; /* the platform broke its dma_alloc contract */
	}
	/* Every descriptor starts with AVAIL = USED = 0: neither available
	 * nor used in the first lap (wrap counter 1). */
	vlab_memset(mem, 0, total);

	vq->size = size;
	while ((1u << vq->size_log2) < size)
		vq->size_log2++;
	vq->mem = mem;
	vq->mem_len = total;
	vq->pdesc = (volatile struct vlab_pvirtq_desc *)mem;
	vq->drv_event = (volatile uint16_t *)((uint8_t *)mem + desc_len);
	vq->dev_event = (volatile uint16_t *)((uint8_t *)mem + desc_len + 4);
	vq->layout.size = size;
	vq->layout.desc = dev;
	vq->layout.avail = dev + desc_len;     /* driver area */
	vq->layout.used = dev + desc_len + 4u; /* device area */

	vlab_vqi_init_free(vq, size);
	/* Used buffer notifications on: with EVENT_IDX at the first used
	 * descriptor (slot 0, wrap 1), else for every one. */
	if (vq->event_idx)
		set_drv_event(vq, off_wrap_of(vq, 0), VIRTQ_EVENT_F_DESC);

	return vlab_vqi_go_live(vq, mem, total);
}

/* Free buffer IDs: one per chain not outstanding. */
static unsigned ids_free(const struct vlab_vq *vq)
{
	return vq->size - (unsigned)(vq->chains - vq->completions);
}

int vlab_vqi_packed_add(struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                  const struct vlab_sg *in, unsigned n_in, void *cookie)
{
	uint32_t writable = 0;
	int rc = vlab_vqi_check_chain(vq, out, n_out, in, n_in, &writable);
	if (rc != 0)
		return rc;
	unsigned n_chain = n_out + n_in;
	int table = vlab_vqi_ind_take(vq, n_chain);
	unsigned n = table >= 0 ? 1 : n_chain;
	/* DRV-2.8.17-5: room for the whole list before any of it is exposed
	 * (a free slot per descriptor implies a free ID). */
	if (n > vq->num_free || ids_free(vq) == 0) {
		if (table >= 0)
			vlab_vqi_ind_put(vq, (unsigned)table);
		return VLAB_EBUSY;
	}

	uint16_t id = vq->free_head;
	vq->free_head = vq->next[id];
	for (unsigned i = 0; i < n; i++) {
		uint16_t ctr = (uint16_t)(vq->avail_idx + i);
		volatile struct vlab_pvirtq_desc *dd = &vq->pdesc[slot_of(vq, ctr)];
		uint16_t flags = avail_bits(vq, ctr);
		if (table >= 0) {
			/* DRV-2.8.19-4: the table alone, not in a NEXT list. */
			dd->addr = vq64(vq, vlab_vqi_ind_fill(vq, (unsigned)table, out, n_out, in, n_in));
			dd->len = vq32(vq, (uint32_t)(n_chain * sizeof(struct vlab_pvirtq_desc)));
			flags |= VIRTQ_DESC_F_INDIRECT;
		} else {
			/* DRV-2.8.17-3: readable elements first, then writable. */
			const struct vlab_sg *sg = i < n_out ? &out[i] : &in[i - n_out];
			dd->addr = vq64(vq, sg->addr);
			dd->len = vq32(vq, sg->len);
			if (i >= n_out)
				flags |= VIRTQ_DESC_F_WRITE;
			if (i + 1 < n)
				flags |= VIRTQ_DESC_F_NEXT;
		}
		dd->id = vq16(vq, id);
		if (i == 0 && !vq->pending) {
			/* The batch's first head: exposed by the kick. */
			vq->pending = true;
			vq->pending_head = slot_of(vq, ctr);
			vq->pending_flags = flags;
		} else {
			/* Behind the unexposed first head: out of the device's
			 * reach until the kick's barrier and flags store. */
			dd->flags = vq16(vq, flags);
		}
	}
	vq->avail_idx = (uint16_t)(vq->avail_idx + n);
	vq->num_free = (uint16_t)(vq->num_free - n);
	if (table >= 0)
		vq->indirect++;

	vlab_vqi_start(vq, &vq->head[id], cookie, writable, n, table);
	return VLAB_OK;
}

int vlab_vqi_packed_kick(struct vlab_vq *vq)
{
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	if (d->broken)
		return VLAB_EBROKEN;

	if (vq->pending) {
		/* DRV-2.8.21.1.1-1: descriptors before the flags that expose
		 * them. */
		vlab_plat_wmb(p);
		vq->pdesc[vq->pending_head].flags = vq16(vq, vq->pending_flags);
		vq->pending = false;
	}
	vq->published_idx = vq->avail_idx;

	/* DRV-3.1.1-7: no notification before DRIVER_OK. */
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK))
		return VLAB_OK;
	if (vq->avail_idx == vq->kicked_idx)
		return VLAB_OK;

	/* DRV-2.8.21.3.1-1: the flags stores before the device event
	 * suppression load; the structure is read once (off_wrap, flags). */
	vlab_plat_mb(p);
	uint32_t ev = vq32(vq, vlab_plat_shm_read32(p, vq->dev_event));
	uint16_t off_wrap = (uint16_t)ev;
	uint16_t flags = (uint16_t)((ev >> 16) & 3u);
	uint16_t old = vq->kicked_idx;
	vq->kicked_idx = vq->avail_idx;

	bool notify = flags != VIRTQ_EVENT_F_DISABLE;
	uint16_t off = (uint16_t)(off_wrap & ~EVENT_WRAP);
	if (flags == VIRTQ_EVENT_F_DESC && vq->event_idx && off < vq->size) {
		/* The slot named in the lap of its wrap bit, as a counter:
		 * in the lap of avail_idx, or the one before. */
		uint16_t base = (uint16_t)(vq->avail_idx & ~(uint16_t)(vq->size - 1u));
		uint16_t at = (uint16_t)(base + off);
		if (((off_wrap & EVENT_WRAP) != 0) != wrap_of(vq, vq->avail_idx))
			at = (uint16_t)(at - vq->size);
		notify = vlab_vq_need_event(at, vq->avail_idx, old);
	}
	/* DESC without EVENT_IDX, an offset beyond the ring or the reserved
	 * value 3: notify (an extra notification is harmless, DRV-2.8.16-4). */
	if (!notify)
		return VLAB_OK;
	d->ops->queue_notify(d, vq->index);
	vq->notifications++;
	return VLAB_OK;
}

int vlab_vqi_packed_pop(struct vlab_vq *vq, void **cookie, uint32_t *len)
{
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	if (d->broken)
		return VLAB_EBROKEN;

	/* Nothing exposed and not yet used: the device cannot have used
	 * anything, and the slot is not read. */
	uint16_t pending = (uint16_t)(vq->published_idx - vq->last_used);
	if (pending == 0)
		return VLAB_EAGAIN;

	volatile struct vlab_pvirtq_desc *ud = &vq->pdesc[slot_of(vq, vq->last_used)];
	uint16_t flags = vq16(vq, vlab_plat_shm_read16(p, &ud->flags));
	bool a = (flags & VIRTQ_DESC_F_AVAIL) != 0;
	bool u = (flags & VIRTQ_DESC_F_USED) != 0;
	if (a != u)
		return VLAB_EAGAIN; /* still available: not used yet */
	/* The slot was exposed in this lap of the driver's counter, which is
	 * the device's: AVAIL = USED = the other value is a used descriptor
	 * from the wrong lap. */
	if (a != wrap_of(vq, vq->last_used))
		return vlab_virtio_mark_broken(d, "used descriptor with the wrong wrap counter");

	/* The ID and length only after the flags that say they are there. */
	vlab_plat_rmb(p);
	uint16_t id = vq16(vq, vlab_plat_shm_read16(p, &ud->id));
	uint32_t ulen = vq32(vq, vlab_plat_shm_read32(p, &ud->len));
	if (id >= vq->size)
		return vlab_virtio_mark_broken(d, "buffer ID out of range");
	struct vlab_vq_head_state *hs = &vq->head[id];
	if (!hs->outstanding) /* also catches a chain completed twice */
		return vlab_virtio_mark_broken(d, "buffer ID is not an outstanding chain");
	if (hs->ndesc > pending)
		return vlab_virtio_mark_broken(d, "used descriptors beyond the ones exposed");
	/* The length counts for a list with device-writable buffers, bounded
	 * by them; a list without any has nothing to report, whatever the
	 * field says (it is reserved there).  The WRITE flag of the used
	 * descriptor is not relied on: QEMU 7.2 leaves it clear on lists it
	 * wrote into (seen on the riscv64 packed rows). */
	if (hs->writable == 0)
		ulen = 0;
	if (ulen > hs->writable)
		return vlab_virtio_mark_broken(d, "used length above the writable bytes posted");

	/* The ID back to the end of the FIFO. */
	if (ids_free(vq) == 0)
		vq->free_head = id;
	else
		vq->next[vq->free_tail] = id;
	vq->free_tail = id;
	vq->num_free = (uint16_t)(vq->num_free + hs->ndesc);
	/* The device skipped the list's other slots (2.8.7). */
	vq->last_used = (uint16_t)(vq->last_used + hs->ndesc);
	vlab_vqi_finish(vq, hs, ulen, cookie, len);
	/* EVENT_IDX with interrupts on: the next one at the next used slot. */
	if (vq->event_idx && !vq->cb_disabled)
		vq->drv_event[DRV_EVENT_OFF_WRAP] = vq16(vq, off_wrap_of(vq, vq->last_used));
	return VLAB_OK;
}

void vlab_vqi_packed_disable_cb(struct vlab_vq *vq)
{
	vq->drv_event[DRV_EVENT_FLAGS] = vq16(vq, VIRTQ_EVENT_F_DISABLE);
}

bool vlab_vqi_packed_enable_cb(struct vlab_vq *vq)
{
	const struct vlab_platform *p = vq->dev->plat;
	if (vq->event_idx) {
		vq->drv_event[DRV_EVENT_OFF_WRAP] = vq16(vq, off_wrap_of(vq, vq->last_used));
		vlab_plat_wmb(p); /* the offset before the flags that use it */
		vq->drv_event[DRV_EVENT_FLAGS] = vq16(vq, VIRTQ_EVENT_F_DESC);
	} else {
		vq->drv_event[DRV_EVENT_FLAGS] = vq16(vq, VIRTQ_EVENT_F_ENABLE);
	}
	/* The store before the descriptor load: a completion that came
	 * before the device saw the change is found here. */
	vlab_plat_mb(p);
	if (vq->published_idx == vq->last_used)
		return false;
	uint16_t flags = vq16(vq, vlab_plat_shm_read16(p, &vq->pdesc[slot_of(vq, vq->last_used)].flags));
	return ((flags & VIRTQ_DESC_F_AVAIL) != 0) == ((flags & VIRTQ_DESC_F_USED) != 0);
}
#else
typedef int vlab_core_virtqueue_packed_compiled_out; /* ISO C: no empty translation unit */
#endif
