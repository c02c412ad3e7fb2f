/* SPDX-License-Identifier: MIT */
/*
 * Device-side packed virtqueue (2.8).  The device reads driver descriptors
 * in ring order at its own position and wrap counter, writes one used
 * descriptor per buffer (ID, length, AVAIL = USED = its used wrap counter)
 * and skips the slots the buffer took; event suppression both ways.  What
 * the split engine shares (memory access, chain walk, indirect-table and
 * buffer checks, faults on the used write) is in vq.c; the driver's side of
 * 2.8 is checked here and every breach recorded under its requirement ID.
 */
#include <string.h>

#include "devmodel/spec.h"
#include "devmodel/virtio.h"
#include "vq_internal.h"

/* A ring position with its wrap counter as one number in [0, 2 * num): the
 * lap with the counter at 1 first (the counters start at 1, 2.8.1). */
static uint32_t lin(const struct dm_vq *q, uint16_t pos, bool wrap)
{
	return (uint32_t)pos + (wrap ? 0u : q->num);
}

static void unlin(const struct dm_vq *q, uint32_t l, uint16_t *pos, bool *wrap)
{
	l %= 2u * q->num;
	*wrap = l < q->num;
	*pos = (uint16_t)(*wrap ? l : l - q->num);
}

static void advance(const struct dm_vq *q, uint16_t *pos, bool *wrap, uint64_t k)
{
	unlin(q, (uint32_t)((lin(q, *pos, *wrap) + k % (2u * q->num)) % (2u * q->num)), pos, wrap);
}

static bool flag(uint16_t flags, uint16_t bit)
{
	return (flags & bit) != 0;
}

int dm_vq_packed_enable(struct dm_vq *q)
{
	uint64_t n = q->num;

	q->avail_wrap = q->used_wrap = true; /* 2.8.1: both counters start at 1 */
	q->nout = 0;
	q->dup_held = q->ring_faulted = false;

	/* 2.8: Queue Size need not be a power of 2; the model holds at most
	 * 4096 buffers (MODEL-QUEUE-SIZE). */
	dm_vq_checked(q, "MODEL-QUEUE-SIZE");
	if (n == 0 || n > DM_VQ_IN_USE_CAP)
		return dm_vq_breach(q, "MODEL-QUEUE-SIZE", "packed queue size %llu not in 1..%u",
		                    (unsigned long long)n, DM_VQ_IN_USE_CAP);

	/* Descriptor ring 16, driver and device event suppression 4 bytes
	 * each (DRV-2.8.11-1); all guest RAM. */
	return dm_vq_check_layout(q, "DRV-2.8.11-1", DM_PACKED_EVENT_ALIGN, DM_PACKED_EVENT_ALIGN, 4, 4);
}

static int find_out(const struct dm_vq *q, uint16_t id)
{
	for (unsigned i = 0; i < q->nout; i++)
		if (q->out[i].id == id)
			return (int)i;
	return -1;
}

/* Read the descriptor at slot pos; is it available in the lap whose
 * counter is wrap?  1 yes, 0 not (yet), -1 breach (AVAIL = USED = wrap: a
 * used descriptor where the driver must have made one available). */
static int read_desc(struct dm_vq *q, uint16_t pos, bool wrap, uint8_t d[16])
{
	uint16_t flags;
	bool avail, used;

	if (!dm_vq_mem_read(q, q->desc + 16ull * pos, d, 16))
		return dm_vq_breach(q, "DRV-6.1-5", "descriptor %u unreadable", pos);
	flags = dm_le16(d + 14);
	avail = flag(flags, DM_VIRTQ_DESC_F_AVAIL);
	used = flag(flags, DM_VIRTQ_DESC_F_USED);
	/* DEV-2.8.15-3: a descriptor is used only once its AVAIL bit shows
	 * the lap the device is in. */
	if (avail != wrap)
		return 0;
	/* 2.8.1: an available descriptor has AVAIL != USED. */
	dm_vq_checked(q, "MODEL-PACKED-FLAGS");
	if (used == wrap && q->ring_faulted)
		return 0; /* maybe the model's own used write: a fault moved it into the ring */
	if (used == wrap)
		return dm_vq_breach(q, "MODEL-PACKED-FLAGS",
		                    "descriptor %u: AVAIL and USED both %u (made available, lap %u)", pos,
		                    (unsigned)avail, (unsigned)wrap);
	return 1;
}

/* An indirect table (2.8.19): consecutive entries, WRITE their only flag. */
static int walk_indirect(struct dm_vq *q, struct dm_vq_walk *w, uint64_t table, uint32_t len)
{
	uint32_t n = len / 16;

	if (dm_vq_indirect_table_ok(q, w, table, len))
		return -1;
	dm_vq_checked(q, "DRV-2.8.19-3");
	if (n > DM_CHAIN_MAX)
		return dm_vq_breach(q, "DRV-2.8.19-3", "buffer %u: indirect table of %u entries (limit %u)",
		                    w->c->head, n, DM_CHAIN_MAX);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t d[16];
		uint16_t flags;

		if (!dm_vq_mem_read(q, table + 16ull * i, d, sizeof d))
			return dm_vq_breach(q, "DRV-6.1-5", "buffer %u: indirect entry unreadable", w->c->head);
		flags = dm_le16(d + 14);
		dm_vq_checked(q, "DRV-2.8.19-2");
		if (flags & ~DM_VIRTQ_DESC_F_WRITE)
			return dm_vq_breach(q, "DRV-2.8.19-2", "buffer %u: indirect entry %u has flags 0x%x",
			                    w->c->head, i, flags);
		if (dm_vq_add_seg(q, w, dm_le64(d), dm_le32(d + 8), flags))
			return -1;
	}
	return 0;
}

/* EVENT_IDX: ask for a notification when the driver makes available the
 * descriptor at the device's next slot (the device event suppression,
 * RING_EVENT_FLAGS_DESC).  Without it the area stays as the driver set it
 * (zero: notifications enabled). */
static void publish_event(struct dm_vq *q)
{
	uint8_t e[4];

	if (!dm_virtio_has(q->dv, DM_VIRTIO_F_RING_EVENT_IDX))
		return;
	dm_put16(e, (uint16_t)(q->last_avail | (q->avail_wrap ? 1u << DM_RING_EVENT_WRAP_SHIFT : 0)));
	dm_put16(e + 2, DM_RING_EVENT_FLAGS_DESC);
	dm_vq_mem_write(q, q->used, e, sizeof e);
}

static int take(struct dm_vq *q, struct dm_chain *c)
{
	uint16_t pos = q->last_avail, id = 0;
	bool wrap = q->avail_wrap;
	struct dm_vq_walk w;
	unsigned slots = 0;
	uint8_t d[16];
	int r;

	r = read_desc(q, pos, wrap, d);
	if (r <= 0)
		return r;
	dm_vq_walk_start(&w, c, 0);
	for (;;) {
		uint16_t flags = dm_le16(d + 14);

		slots++;
		id = dm_le16(d + 12); /* the list's last descriptor holds the ID */
		c->head = id;
		if (flags & DM_VIRTQ_DESC_F_INDIRECT) {
			dm_vq_checked(q, "DRV-2.8.19-1");
			if (!dm_virtio_has(q->dv, DM_VIRTIO_F_RING_INDIRECT_DESC))
				return dm_vq_breach(q, "DRV-2.8.19-1",
				                    "slot %u: INDIRECT without VIRTIO_F_INDIRECT_DESC", pos);
			dm_vq_checked(q, "DRV-2.8.19-4");
			if ((flags & DM_VIRTQ_DESC_F_NEXT) || slots > 1)
				return dm_vq_breach(q, "DRV-2.8.19-4",
				                    "slot %u: INDIRECT descriptor in a NEXT-linked list", pos);
			/* WRITE on it is reserved and ignored (2.8.19). */
			if (walk_indirect(q, &w, dm_le64(d), dm_le32(d + 8)))
				return -1;
			break;
		}
		if (dm_vq_add_seg(q, &w, dm_le64(d), dm_le32(d + 8), flags))
			return -1;
		if (!(flags & DM_VIRTQ_DESC_F_NEXT))
			break;
		/* DRV-2.8.17-2: a list never holds more descriptors than the
		 * queue size (so it cannot loop). */
		dm_vq_checked(q, "DRV-2.8.17-2");
		if (slots >= q->num)
			return dm_vq_breach(q, "DRV-2.8.17-2",
			                    "descriptor list at slot %u longer than the queue size %u",
			                    q->last_avail, q->num);
		advance(q, &pos, &wrap, 1);
		/* DRV-2.8.17-6: the first descriptor is made available after
		 * the rest of its list, so the rest is available already. */
		r = read_desc(q, pos, wrap, d);
		if (r < 0)
			return -1;
		dm_vq_checked(q, "DRV-2.8.17-6");
		if (r == 0 && q->ring_faulted)
			return 0; /* maybe a used write a fault moved into the list */
		if (r == 0)
			return dm_vq_breach(q, "DRV-2.8.17-6",
			                    "list at slot %u exposed before its descriptor at slot %u", q->last_avail,
			                    pos);
	}
	if (dm_vq_buffers_in_ram(q, c))
		return -1;

	/* One buffer ID names one outstanding buffer: the used descriptor
	 * carries only the ID back (2.8, "Buffer ID"; MODEL-PACKED-ID). */
	dm_vq_checked(q, "MODEL-PACKED-ID");
	if (find_out(q, id) >= 0)
		return dm_vq_breach(q, "MODEL-PACKED-ID",
		                    "buffer ID %u made available again while the device still owns it", id);
	/* More buffers than slots: descriptors were rewritten before the
	 * device marked them used. */
	dm_vq_checked(q, "DRV-2.8.16-1");
	if (q->nout >= q->num)
		return dm_vq_breach(q, "DRV-2.8.16-1",
		                    "%u buffers outstanding in a queue of %u: descriptors reused before used",
		                    q->nout + 1u, q->num);
	q->out[q->nout].id = id;
	q->out[q->nout].slots = (uint16_t)slots;
	q->out[q->nout].wlen = c->writable_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->writable_len;
	q->nout++;

	advance(q, &pos, &wrap, 1);
	q->last_avail = pos;
	q->avail_wrap = wrap;
	q->popped++;
	return 1;
}

int dm_vq_packed_pop(struct dm_vq *q, struct dm_chain *c)
{
	int r = take(q, c);
	if (r >= 0)
		publish_event(q);
	return r;
}

/* Write one used descriptor at the used slot: ID and length first, then
 * the flags that hand it back (AVAIL = USED = the used wrap counter). */
static void write_used(struct dm_vq *q, uint16_t id, uint32_t len)
{
	uint64_t at = q->desc + 16ull * q->used_idx;
	uint8_t e[6];

	dm_put32(e, len);
	dm_put16(e + 4, id);
	dm_vq_mem_write(q, at + 8, e, sizeof e);
	dm_vq_write16(q, at + 14,
	              (uint16_t)(q->used_wrap ? (DM_VIRTQ_DESC_F_AVAIL | DM_VIRTQ_DESC_F_USED) : 0));
}

/* Does the driver want a used buffer notification for used slots
 * [old, new) (linear positions, lap included)? */
static bool want_interrupt(struct dm_vq *q, uint32_t old, uint32_t new_)
{
	uint8_t e[4];
	uint16_t off_wrap, flags;
	uint32_t ring = 2u * q->num, event;

	if (!dm_vq_mem_read(q, q->avail, e, sizeof e))
		return true;
	off_wrap = dm_le16(e);
	flags = dm_le16(e + 2) & 3u;
	dm_vq_checked(q, "MODEL-PACKED-EVENT");
	if (flags == 3u || (flags == DM_RING_EVENT_FLAGS_DESC &&
	                    !dm_virtio_has(q->dv, DM_VIRTIO_F_RING_EVENT_IDX))) {
		dm_vq_violation(q, "MODEL-PACKED-EVENT", "driver event flags %u (%s)", flags,
		                flags == 3u ? "reserved" : "DESC without VIRTIO_F_EVENT_IDX");
		return true;
	}
	if (flags == DM_RING_EVENT_FLAGS_ENABLE)
		return true;
	if (flags == DM_RING_EVENT_FLAGS_DISABLE)
		return false;
	/* DESC: notify when the used write covers the slot (and lap) named. */
	if ((off_wrap & 0x7fffu) >= q->num)
		return false;
	event = lin(q, off_wrap & 0x7fffu, (off_wrap >> DM_RING_EVENT_WRAP_SHIFT) & 1u);
	return (event + ring - old) % ring < (new_ + ring - old) % ring;
}

void dm_vq_packed_push(struct dm_vq *q, uint16_t id, uint32_t len)
{
	struct dm_used_plan plan;
	int k = find_out(q, id);
	uint16_t slots = 1;
	uint32_t wlen = 0, old;

	if (k >= 0) {
		slots = q->out[k].slots;
		wlen = q->out[k].wlen;
		q->out[k] = q->out[--q->nout];
	}
	dm_vq_used_plan(q, &plan, id, len, k >= 0, wlen);
	old = lin(q, q->used_idx, q->used_wrap);
	/* DM_FAULT_USED_ID_DUP: the duplicate held from an earlier completion
	 * goes first, where this one belongs: the driver, waiting for this
	 * buffer, reads a buffer it got back already.  (Written at once, it
	 * would land in slots nothing is exposed in, which a driver does not
	 * read and overwrites with its next list.) */
	if (q->dup_held) {
		write_used(q, q->dup_id, q->dup_len);
		advance(q, &q->used_idx, &q->used_wrap, q->dup_slots);
		q->dup_held = false;
	}
	/* DEV-2.8.12-2: used descriptors in completion order; each skips the
	 * slots its buffer took.  The ID field is 16 bits: a DM_FAULT_USED_ID
	 * value is written as its low 16 bits. */
	write_used(q, (uint16_t)plan.id, plan.len);
	advance(q, &q->used_idx, &q->used_wrap, slots);
	if (plan.copies > 1) {
		q->dup_held = q->ring_faulted = true;
		q->dup_id = (uint16_t)plan.id;
		q->dup_len = plan.len;
		q->dup_slots = slots;
	}
	/* DM_FAULT_USED_IDX_JUMP: the used position skips value more slots. */
	if (plan.extra)
		q->ring_faulted = true;
	advance(q, &q->used_idx, &q->used_wrap, plan.extra);
	q->pushed++;
	dm_vq_interrupt(q, want_interrupt(q, old, lin(q, q->used_idx, q->used_wrap)));
}
