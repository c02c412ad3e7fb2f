/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue (2.7), driver side.
 *
 * Ring memory is one DMA block:
 *   descriptor table  16 * size          at 0            (16-aligned)
 *   available ring    2 * (3 + size)     right after     (2-aligned)
 *   used ring         6 + 8 * size       4-aligned, or on a legacy
 *                                        interface the next multiple of
 *                                        legacy_align (DRV-2.7.1-1)
 * The free list and the chain bookkeeping are private (vq->next[],
 * vq->head[]); the shared descriptor table is written, never read.  What
 * the device writes (used ring) is read only through vlab_plat_shm_read*.
 *
 * The public entry points are the API of both ring kinds: on a packed queue
 * each one hands over to driver/core/virtqueue_packed.c.
 */
#include "virtqueue_priv.h"

/* Offsets inside the rings, in 16-bit units for avail and bytes for used. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM 8

static bool is_packed(const struct vlab_vq *vq)
{
	return VLAB_CFG_PACKED && vq->kind == VLAB_VQ_PACKED;
}

/* used_event (EVENT_IDX): the last 16-bit word of the available ring. */
static void set_used_event(struct vlab_vq *vq, uint16_t v)
{
	vq->avail[AVAIL_RING + vq->size] = vq16(vq, v);
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static const volatile void *used_at(const struct vlab_vq *vq, size_t off)
{
	return vq->used + off;
}

int vlab_vq_setup(struct vlab_vq *vq, struct vlab_virtio_dev *d, uint16_t index, uint16_t cap)
{
	if (vq == NULL || d == NULL || d->ops == NULL || d->plat == NULL)
		return VLAB_EINVAL;
	vlab_memset(vq, 0, sizeof(*vq));
	if (d->broken)
		return VLAB_EBROKEN;
	if (d->legacy_align != 0 && (!is_pow2(d->legacy_align) || d->legacy_align < 16))
		return VLAB_EINVAL;

	uint16_t max = 0;
	int rc = d->ops->queue_max(d, index, &max);
	if (rc != 0)
		return rc;
	if (max == 0)
		return VLAB_ENODEV;

	/* min(device maximum, cap, our cap), rounded down to a power of two
	 * (split queues may have any size, but a power of two keeps the
	 * free-running indices simple and is what legacy devices require). */
	uint32_t size = max;
	if (cap != 0 && cap < size)
		size = cap;
	if (size > VLAB_VQ_SIZE_MAX)
		size = VLAB_VQ_SIZE_MAX;
	while (!is_pow2(size))
		size &= size - 1;

	vq->dev = d;
	vq->index = index;
	vq->event_idx = VLAB_CFG_EVENT_IDX && vlab_virtio_has(d, VIRTIO_F_RING_EVENT_IDX);
	if (VLAB_CFG_PACKED && vlab_virtio_has(d, VIRTIO_F_RING_PACKED)) {
		vq->kind = VLAB_VQ_PACKED;
		return vlab_vqi_packed_setup(vq, (uint16_t)size);
	}

	/* DRV-2.7.1-1: descriptor table 16-aligned, available ring 2-aligned,
	 * used ring 4-aligned.  Legacy: used ring at the next legacy_align
	 * boundary and the whole block aligned to it. */
	size_t align = d->legacy_align != 0 ? d->legacy_align : 16;
	size_t desc_len = 16u * size;
	size_t avail_off = desc_len;
	size_t avail_len = 2u * (3u + size);
#if defined(VLAB_MUTANT_USED_MISALIGNED) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_USED_MISALIGNED is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	size_t used_off = align_up(avail_off + avail_len, d->legacy_align != 0 ? align : 4) + 2;
#else
	size_t used_off = align_up(avail_off + avail_len, d->legacy_align != 0 ? align : 4);
#endif
	size_t used_len = 6u + 8u * size;
	size_t total = used_off + used_len;
	if (d->legacy_align != 0)
		total = align_up(total, align);

	const struct vlab_platform *p = d->plat;
	vlab_addr_t dev = 0;
	void *mem = p->ops->dma_alloc(p->ctx, total, align, &dev);
	if (mem == NULL)
		return VLAB_ENOMEM;
	if ((dev & (align - 1)) != 0 || ((uintptr_t)mem & 15u) != 0 || dev + total < dev) {
		p->ops->dma_free(p->ctx, mem, total);
		return VLAB_EINVAL; /* the platform broke its dma_alloc contract */
	}
	/* dma_alloc zero-fills; clear again so used.flags starts at 0 on any
	 * platform (DRV-2.7.10.1-1) and avail.flags is 0 (DRV-2.7.7.1-3). */
	vlab_memset(mem, 0, total);
#if defined(VLAB_MUTANT_USED_FLAGS_NONZERO) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_USED_FLAGS_NONZERO is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	((volatile uint16_t *)((uint8_t *)mem + used_off))[0] = 1; /* used.flags not 0 */
#endif
#if defined(VLAB_MUTANT_AVAIL_FLAGS_UNDEFINED) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_AVAIL_FLAGS_UNDEFINED is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	((volatile uint16_t *)((uint8_t *)mem + avail_off))[0] = 2; /* an undefined bit */
#endif

	vq->size = (uint16_t)size;
	vq->mem = mem;
	vq->mem_len = total;
	vq->desc = (volatile struct vlab_virtq_desc *)mem;
	vq->avail = (volatile uint16_t *)((uint8_t *)mem + avail_off);
	vq->used = (volatile uint8_t *)mem + used_off;
	vq->layout.size = (uint16_t)size;
	vq->layout.desc = dev;
	vq->layout.avail = dev + avail_off;
	vq->layout.used = dev + used_off;

	vlab_vqi_init_free(vq, (uint16_t)size);
	return vlab_vqi_go_live(vq, mem, total);
}

void vlab_vq_teardown(struct vlab_vq *vq)
{
	if (vq == NULL)
		return;
	if (vq->mem != NULL && vq->dev != NULL) {
		const struct vlab_platform *p = vq->dev->plat;
		p->ops->dma_free(p->ctx, vq->mem, vq->mem_len);
	}
	vlab_vqi_ind_teardown(vq);
	vq->mem = NULL;
	vq->pdesc = NULL;
	vq->drv_event = NULL;
	vq->dev_event = NULL;
	vq->mem_len = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->live = false;
}

int vlab_vq_add(struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                const struct vlab_sg *in, unsigned n_in, void *cookie)
{
	if (vq == NULL || !vq->live)
		return VLAB_EINVAL;
	if (is_packed(vq))
		return vlab_vqi_packed_add(vq, out, n_out, in, n_in, cookie);
	uint32_t writable = 0;
	int rc = vlab_vqi_check_chain(vq, out, n_out, in, n_in, &writable);
	if (rc != 0)
		return rc;
	unsigned n_chain = n_out + n_in;
	/* A long chain goes through an indirect table and takes one slot. */
	int table = vlab_vqi_ind_take(vq, n_chain);
	unsigned n = table >= 0 ? 1 : n_chain;

	if (n > vq->num_free) {
		if (table >= 0)
			vlab_vqi_ind_put(vq, (unsigned)table); /* not lost to a refused chain */
		return VLAB_EBUSY;
	}

	/* DRV-2.7.4.2-1: device-readable descriptors first, then writable. */
	uint16_t head = vq->free_head;
	uint16_t cur = head;
	if (table >= 0) {
		/* DRV-2.7.5.3.1-4: INDIRECT without NEXT; the table holds the
		 * chain (readable first, entries linked in order). */
		vlab_addr_t ta = vlab_vqi_ind_fill(vq, (unsigned)table, out, n_out, in, n_in);
		vq->desc[cur].addr = vq64(vq, ta);
		vq->desc[cur].len = vq32(vq, (uint32_t)(n_chain * sizeof(struct vlab_virtq_desc)));
		vq->desc[cur].flags = vq16(vq, VIRTQ_DESC_F_INDIRECT);
		vq->desc[cur].next = 0;
		cur = vq->next[cur];
		vq->indirect++;
	}
	for (unsigned i = 0; i < n && table < 0; i++) {
#if defined(VLAB_MUTANT_WRITABLE_FIRST) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_WRITABLE_FIRST is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		const struct vlab_sg *sg = i < n_in ? &in[i] : &out[i - n_in];
		uint16_t flags = i < n_in ? VIRTQ_DESC_F_WRITE : 0;
#else
		const struct vlab_sg *sg = i < n_out ? &out[i] : &in[i - n_out];
		uint16_t flags = i < n_out ? 0 : VIRTQ_DESC_F_WRITE;
#endif
		bool last = i + 1 == n;
		uint16_t nxt = vq->next[cur];
#if defined(VLAB_MUTANT_INDIRECT_UNNEGOTIATED) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_INDIRECT_UNNEGOTIATED is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		flags |= last ? VIRTQ_DESC_F_INDIRECT : VIRTQ_DESC_F_NEXT;
#else
		if (!last)
			flags |= VIRTQ_DESC_F_NEXT;
#endif
#if defined(VLAB_MUTANT_DESC_OUTSIDE_RAM) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_DESC_OUTSIDE_RAM is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		vq->desc[cur].addr = vq64(vq, sg->addr + (1ull << 40)); /* beyond guest RAM */
#else
		vq->desc[cur].addr = vq64(vq, sg->addr);
#endif
		vq->desc[cur].len = vq32(vq, sg->len);
		vq->desc[cur].flags = vq16(vq, flags);
#if defined(VLAB_MUTANT_CHAIN_LOOP) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_CHAIN_LOOP is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		vq->desc[cur].next = vq16(vq, last ? cur : nxt);
		if (last)
			vq->desc[cur].flags = vq16(vq, flags | VIRTQ_DESC_F_NEXT); /* a loop on itself */
#else
		vq->desc[cur].next = vq16(vq, last ? 0 : nxt);
#endif
		cur = nxt;
	}
	vq->free_head = cur;
	vq->num_free = (uint16_t)(vq->num_free - n);

	vlab_vqi_start(vq, &vq->head[head], cookie, writable, n, table);

	/* The ring entry; avail.idx is published by vlab_vq_kick(). */
#if defined(VLAB_MUTANT_REUSE_HEAD) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_REUSE_HEAD is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	{
		/* the previous entry's head again while the device still owns it */
		uint16_t prev = vq16(vq, vq->avail[AVAIL_RING + ((uint16_t)(vq->avail_idx - 1) & (vq->size - 1))]);
		bool again = vq->avail_idx != 0 && prev < vq->size && vq->head[prev].outstanding && prev != head;
		vq->avail[AVAIL_RING + (vq->avail_idx & (vq->size - 1))] = vq16(vq, again ? prev : head);
	}
#else
	vq->avail[AVAIL_RING + (vq->avail_idx & (vq->size - 1))] = vq16(vq, head);
#endif
	vq->avail_idx++;
	return VLAB_OK;
}

int vlab_vq_kick(struct vlab_vq *vq)
{
	if (vq == NULL || !vq->live)
		return VLAB_EINVAL;
	if (is_packed(vq))
		return vlab_vqi_packed_kick(vq);
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	if (d->broken)
		return VLAB_EBROKEN;

	/* DRV-2.7.13.3.1-1: descriptors and ring entries before the index. */
#if defined(VLAB_MUTANT_NO_AVAIL_WMB) /* TEST-ONLY: tests/replay/mutant_test.sh */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_AVAIL_WMB is for the test-only mutant build (scenarios/CMakeLists.txt)"
#endif
	/* the barrier skipped on purpose */
#else
	vlab_plat_wmb(p);
#endif
#if defined(VLAB_MUTANT_AVAIL_IDX_BACK) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_AVAIL_IDX_BACK is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	vq->avail[AVAIL_IDX] = vq16(vq, (uint16_t)(vq->avail_idx - (vq->notifications != 0 ? 2 : 0)));
#else
	vq->avail[AVAIL_IDX] = vq16(vq, vq->avail_idx);
#endif
	vq->published_idx = vq->avail_idx;

	/* DRV-3.1.1-7: no notification before DRIVER_OK.  The buffers stay
	 * published; the first kick after DRIVER_OK notifies. */
#if defined(VLAB_MUTANT_NOTIFY_BEFORE_DRIVER_OK) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NOTIFY_BEFORE_DRIVER_OK is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	/* notified whatever the status */
#else
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK))
		return VLAB_OK;
#endif
	if (vq->avail_idx == vq->kicked_idx)
		return VLAB_OK; /* nothing new since the last notification */

	/* DRV-2.7.13.4.1-1: the index store before the flags (avail_event) load. */
	vlab_plat_mb(p);
	uint16_t old = vq->kicked_idx;
	vq->kicked_idx = vq->avail_idx;
	if (vq->event_idx) {
		/* DRV-2.7.10.1-5/6/7: used.flags disregarded; notify when the
		 * entries published since the last notification passed
		 * avail_event (read once). */
		uint16_t ev = vq16(vq, vlab_plat_shm_read16(p, used_at(vq, USED_RING + USED_ELEM * (size_t)vq->size)));
		if (!vlab_vq_need_event(ev, vq->avail_idx, old))
			return VLAB_OK;
	} else {
		uint16_t flags = vq16(vq, vlab_plat_shm_read16(p, used_at(vq, USED_FLAGS)));
		/* DRV-2.7.10.1-2/3/4 (no EVENT_IDX): notify unless NO_NOTIFY;
		 * avail_event and other bits of used.flags are ignored. */
		if (flags & VIRTQ_USED_F_NO_NOTIFY)
			return VLAB_OK;
	}
	d->ops->queue_notify(d, vq->index);
	vq->notifications++;
	return VLAB_OK;
}

int vlab_vq_pop(struct vlab_vq *vq, void **cookie, uint32_t *len)
{
	if (vq == NULL || !vq->live)
		return VLAB_EINVAL;
	if (is_packed(vq))
		return vlab_vqi_packed_pop(vq, cookie, len);
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	if (d->broken)
		return VLAB_EBROKEN;

	uint16_t idx = vq16(vq, vlab_plat_shm_read16(p, used_at(vq, USED_IDX)));
	uint16_t delta = (uint16_t)(idx - vq->last_used);
	/* The device can only have used what was published and not yet
	 * consumed, which is never more than the queue size. */
	uint16_t pending = (uint16_t)(vq->published_idx - vq->last_used);
	if (delta > vq->size || delta > pending)
		return vlab_virtio_mark_broken(d, "used.idx jumped");
	if (delta == 0)
		return VLAB_EAGAIN;

	/* The element is read only after the index that covers it. */
	vlab_plat_rmb(p);
	size_t elem = USED_RING + USED_ELEM * (size_t)(vq->last_used & (vq->size - 1));
	uint32_t id = vq32(vq, vlab_plat_shm_read32(p, used_at(vq, elem)));
	uint32_t ulen = vq32(vq, vlab_plat_shm_read32(p, used_at(vq, elem + 4)));

	if (id >= vq->size)
		return vlab_virtio_mark_broken(d, "used.id out of range");
	struct vlab_vq_head_state *hs = &vq->head[id];
	if (!hs->outstanding) /* also catches the same id completed twice */
		return vlab_virtio_mark_broken(d, "used.id is not an outstanding chain");
	if (ulen > hs->writable)
		return vlab_virtio_mark_broken(d, "used.len above the writable bytes posted");

	/* Return the chain to the end of the free list (a FIFO, see
	 * struct vlab_vq), walking the private links. */
	uint16_t tail = (uint16_t)id;
	for (uint16_t i = 1; i < hs->ndesc; i++)
		tail = vq->next[tail];
	if (vq->num_free == 0)
		vq->free_head = (uint16_t)id;
	else
		vq->next[vq->free_tail] = (uint16_t)id;
	vq->free_tail = tail;
	vq->num_free = (uint16_t)(vq->num_free + hs->ndesc);

	vlab_vqi_finish(vq, hs, ulen, cookie, len);
	vq->last_used++;
	/* DRV-2.7.7.1-4 (EVENT_IDX): interrupts on, ask for one at the next
	 * entry; off, keep used_event one behind what was consumed, an entry
	 * the device has already passed. */
	if (vq->event_idx)
		set_used_event(vq, (uint16_t)(vq->last_used - (vq->cb_disabled ? 1u : 0u)));
	return VLAB_OK;
}

void vlab_vq_disable_cb(struct vlab_vq *vq)
{
	if (vq == NULL || !vq->live || vq->cb_disabled)
		return;
	vq->cb_disabled = true;
	if (is_packed(vq)) {
		vlab_vqi_packed_disable_cb(vq);
		return;
	}
	if (vq->event_idx) /* DRV-2.7.7.1-3: flags stay 0 */
		set_used_event(vq, (uint16_t)(vq->last_used - 1u));
	else /* DRV-2.7.7.1-1/2 */
		vq->avail[AVAIL_FLAGS] = vq16(vq, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vlab_vq_enable_cb(struct vlab_vq *vq)
{
	if (vq == NULL || !vq->live || vq->dev->broken)
		return false;
	vq->cb_disabled = false;
	if (is_packed(vq))
		return vlab_vqi_packed_enable_cb(vq);
	const struct vlab_platform *p = vq->dev->plat;
	if (vq->event_idx)
		set_used_event(vq, vq->last_used);
	else
		vq->avail[AVAIL_FLAGS] = 0;
	/* The store before the used.idx load: a completion that came before
	 * the device saw the request is found here, not lost. */
	vlab_plat_mb(p);
	uint16_t idx = vq16(vq, vlab_plat_shm_read16(p, used_at(vq, USED_IDX)));
	return idx != vq->last_used;
}
