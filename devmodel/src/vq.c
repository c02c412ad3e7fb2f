/* SPDX-License-Identifier: MIT */
/*
 * Device-side split virtqueue (2.7).  Guest memory only through the env's
 * bounds-checked accessors; every value the driver controls is checked
 * before use, and a ring that breaks the protocol stops being processed.
 */
#include "devmodel/vq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devmodel/virtio.h"
#include "devmodel/spec.h"
#include "vq_internal.h"

#define IN_USE_CAP DM_VQ_IN_USE_CAP

bool dm_vq_mem_read(struct dm_vq *q, uint64_t addr, void *buf, size_t len)
{
	struct dm_env *e = q->dv->env;
	return e && e->mem_read && e->mem_read(e->ctx, addr, buf, len);
}

bool dm_vq_mem_write(struct dm_vq *q, uint64_t addr, const void *buf, size_t len)
{
	struct dm_env *e = q->dv->env;
	return e && e->mem_write && e->mem_write(e->ctx, addr, buf, len);
}

bool dm_vq_read16(struct dm_vq *q, uint64_t addr, uint16_t *v)
{
	uint8_t b[2];
	if (!dm_vq_mem_read(q, addr, b, 2))
		return false;
	*v = dm_le16(b);
	return true;
}

bool dm_vq_write16(struct dm_vq *q, uint64_t addr, uint16_t v)
{
	uint8_t b[2];
	dm_put16(b, v);
	return dm_vq_mem_write(q, addr, b, 2);
}

static void violation_va(struct dm_vq *q, const char *req_id, const char *fmt, va_list ap)
{
	char where[16], detail[160];

	vsnprintf(detail, sizeof detail, fmt, ap);
	snprintf(where, sizeof where, "q%u", q->index);
	dm_virtio_violation_where(q->dv, where, req_id, "%s", detail);
}

void dm_vq_violation(struct dm_vq *q, const char *req_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	violation_va(q, req_id, fmt, ap);
	va_end(ap);
}

/* Record a violation and stop processing this queue until reset. */
int dm_vq_breach(struct dm_vq *q, const char *req_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	violation_va(q, req_id, fmt, ap);
	va_end(ap);
	q->broken = true;
	return -1;
}

static bool in_use(const struct dm_vq *q, uint16_t head)
{
	return head < IN_USE_CAP && ((q->in_use[head / 8] >> (head % 8)) & 1u);
}

static void set_in_use(struct dm_vq *q, uint16_t head, bool on)
{
	if (head >= IN_USE_CAP)
		return;
	if (on)
		q->in_use[head / 8] |= (uint8_t)(1u << (head % 8));
	else
		q->in_use[head / 8] &= (uint8_t)~(1u << (head % 8));
}

void dm_vq_reset(struct dm_vq *q)
{
	struct dm_virtio *dv = q->dv;
	uint16_t index = q->index;

	memset(q, 0, sizeof *q);
	q->dv = dv;
	q->index = index;
	q->legacy_align = 4096;
	q->in_use_heads_valid = true;
}

/* Is [addr, addr+len) all guest RAM?  Probed in chunks through mem_read. */
bool dm_vq_range_in_ram(struct dm_vq *q, uint64_t addr, uint64_t len)
{
	uint8_t buf[256];

	if (len == 0)
		return true;
	if (addr + len < addr)
		return false;
	while (len) {
		size_t n = len > sizeof buf ? sizeof buf : (size_t)len;
		if (!dm_vq_mem_read(q, addr, buf, n))
			return false;
		addr += n;
		len -= n;
	}
	return true;
}

/* Cheap check for a buffer: its first and last byte are guest RAM (the
 * device may read device-writable buffers for diagnostics, DEV-2.7.5.1-3);
 * dm_chain_read/write check every byte they move. */
static bool buffer_in_ram(struct dm_vq *q, uint64_t addr, uint32_t len)
{
	uint8_t b;
	if (len == 0)
		return true;
	if (addr + len < addr)
		return false;
	return dm_vq_mem_read(q, addr, &b, 1) && dm_vq_mem_read(q, addr + len - 1, &b, 1);
}

int dm_vq_check_layout(struct dm_vq *q, const char *align_id, unsigned drv_align, unsigned dev_align,
                       uint64_t drv_len, uint64_t dev_len)
{
	dm_vq_checked(q, align_id);
	if (q->desc % 16 || q->avail % drv_align || q->used % dev_align)
		return dm_vq_breach(q, align_id,
		                    "ring misaligned: descriptors 0x%llx (16), driver area 0x%llx (%u), "
		                    "device area 0x%llx (%u)",
		                    (unsigned long long)q->desc, (unsigned long long)q->avail, drv_align,
		                    (unsigned long long)q->used, dev_align);
	dm_vq_checked(q, "DRV-6.1-5");
	if (!dm_vq_range_in_ram(q, q->desc, 16ull * q->num))
		return dm_vq_breach(q, "DRV-6.1-5", "descriptors 0x%llx+%llu outside guest RAM",
		                    (unsigned long long)q->desc, 16ull * q->num);
	if (!dm_vq_range_in_ram(q, q->avail, drv_len))
		return dm_vq_breach(q, "DRV-6.1-5", "driver area 0x%llx+%llu outside guest RAM",
		                    (unsigned long long)q->avail, (unsigned long long)drv_len);
	if (!dm_vq_range_in_ram(q, q->used, dev_len))
		return dm_vq_breach(q, "DRV-6.1-5", "device area 0x%llx+%llu outside guest RAM",
		                    (unsigned long long)q->used, (unsigned long long)dev_len);
	return 0;
}

int dm_vq_enable(struct dm_vq *q)
{
	uint64_t n = q->num;
	uint16_t used_flags;

	q->ready = true;
	q->broken = false;
	q->last_avail = 0;
	q->used_idx = 0;
	q->avail_idx_seen = 0;
	memset(q->in_use, 0, sizeof q->in_use);
	q->packed = dm_virtio_has(q->dv, DM_VIRTIO_F_RING_PACKED);
	if (q->packed)
		return dm_vq_packed_enable(q);

	/* Spec 2.7: Queue Size is a power of 2 (no driver statement carries
	 * it; MODEL-QUEUE-SIZE, see devmodel/README.md). */
	dm_vq_checked(q, "MODEL-QUEUE-SIZE");
	if (n == 0 || (n & (n - 1)) != 0)
		return dm_vq_breach(q, "MODEL-QUEUE-SIZE", "queue size %llu is not a nonzero power of 2",
		              (unsigned long long)n);
	if (n > IN_USE_CAP)
		return dm_vq_breach(q, "MODEL-QUEUE-SIZE", "queue size %llu above the model's limit %u",
		              (unsigned long long)n, IN_USE_CAP);

	/* Descriptor table, driver area (flags, idx, ring, used_event), device
	 * area (flags, idx, ring, avail_event): aligned (DRV-2.7.1-1), guest RAM. */
	if (dm_vq_check_layout(q, "DRV-2.7.1-1", 2, 4, 6 + 2 * n, 6 + 8 * n))
		return -1;

	dm_vq_checked(q, "DRV-2.7.10.1-1");
	if (dm_vq_read16(q, q->used, &used_flags) && used_flags != 0)
		return dm_vq_breach(q, "DRV-2.7.10.1-1", "used ring flags initialised to 0x%x, not 0",
		              used_flags);
	return 0;
}

void dm_vq_walk_start(struct dm_vq_walk *w, struct dm_chain *c, uint16_t head)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	c->head = head;
	c->nseg = 0;
	c->readable_len = c->writable_len = 0;
}

/* Append one descriptor's buffer to the chain (checks common to direct and
 * indirect descriptors, under the split or the packed ring's IDs). */
int dm_vq_add_seg(struct dm_vq *q, struct dm_vq_walk *w, uint64_t addr, uint32_t len, uint16_t flags)
{
	bool writable = (flags & DM_VIRTQ_DESC_F_WRITE) != 0;
	struct dm_chain *c = w->c;
	/* DRV-2.7.4.2-1 / DRV-2.8.17-3: readable elements before writable ones. */
	const char *order_id = q->packed ? "DRV-2.8.17-3" : "DRV-2.7.4.2-1";

	dm_vq_checked_by_ring(q, "DRV-2.7.4.2-1", "DRV-2.8.17-3");
	if (!writable && w->seen_writable)
		return dm_vq_breach(q, order_id,
		                    "chain %u: device-readable descriptor after a device-writable one", c->head);
	w->seen_writable |= writable;

	w->total += len;
	if (!q->packed) {
		dm_vq_checked(q, "DRV-2.7.5.2-1");
		if (w->total > (1ull << 32))
			return dm_vq_breach(q, "DRV-2.7.5.2-1", "chain %u: total length %llu exceeds 2^32",
			                    c->head, (unsigned long long)w->total);
	}

	dm_vq_checked_by_ring(q, "DRV-2.7.4.2-2", "DRV-2.8.17-1");
	if (c->nseg >= DM_CHAIN_MAX) {
		/* DEV-2.7.4.1-2, DEV-2.8.18-2: the device may cap descriptors per
		 * chain; DRV-2.8.17-1: the packed driver stays within the cap. */
		return dm_vq_breach(q, q->packed ? "DRV-2.8.17-1" : "DRV-2.7.4.2-2",
		                    "chain %u: more than %u descriptors", c->head, DM_CHAIN_MAX);
	}
	c->seg[c->nseg].addr = addr;
	c->seg[c->nseg].len = len;
	c->seg[c->nseg].writable = writable;
	c->nseg++;
	if (writable)
		c->writable_len += len;
	else
		c->readable_len += len;
	return 0;
}

/* An indirect table (2.7.5.3, 2.8.19): a nonzero multiple of 16 bytes, all
 * guest RAM. */
int dm_vq_indirect_table_ok(struct dm_vq *q, struct dm_vq_walk *w, uint64_t table, uint32_t len)
{
	dm_vq_checked(q, "MODEL-INDIRECT-LEN");
	if (len == 0 || len % 16)
		return dm_vq_breach(q, "MODEL-INDIRECT-LEN",
		                    "chain %u: indirect table length %u not a multiple of 16", w->c->head, len);
	dm_vq_checked(q, "DRV-6.1-5");
	if (!buffer_in_ram(q, table, len))
		return dm_vq_breach(q, "DRV-6.1-5", "chain %u: indirect table 0x%llx+%u outside guest RAM",
		                    w->c->head, (unsigned long long)table, len);
	return 0;
}

/* An indirect table (2.7.5.3): entries chained through next, within the table. */
static int walk_indirect(struct dm_vq *q, struct dm_vq_walk *w, uint64_t table, uint32_t len)
{
	uint32_t n = len / 16;
	uint32_t i = 0;

	if (dm_vq_indirect_table_ok(q, w, table, len))
		return -1;
	for (uint32_t steps = 0;; steps++) {
		uint8_t d[16];
		uint16_t flags;

		dm_vq_checked(q, "DRV-2.7.5.3.1-3");
		if (steps >= n || ++w->ndesc > q->num)
			return dm_vq_breach(q, steps >= n ? "DRV-2.7.5.2-1" : "DRV-2.7.5.3.1-3",
			              "chain %u: indirect chain loops or holds more descriptors than the queue size",
			              w->c->head);
		if (!dm_vq_mem_read(q, table + 16ull * i, d, sizeof d))
			return dm_vq_breach(q, "DRV-6.1-5", "chain %u: indirect entry unreadable", w->c->head);
		flags = dm_le16(d + 12);
		dm_vq_checked(q, "DRV-2.7.5.3.1-2");
		if (flags & DM_VIRTQ_DESC_F_INDIRECT)
			return dm_vq_breach(q, "DRV-2.7.5.3.1-2", "chain %u: nested indirect table", w->c->head);
		if (dm_vq_add_seg(q, w, dm_le64(d), dm_le32(d + 8), flags))
			return -1;
		if (!(flags & DM_VIRTQ_DESC_F_NEXT))
			return 0;
		i = dm_le16(d + 14);
		if (i >= n)
			return dm_vq_breach(q, "MODEL-DESC-INDEX", "chain %u: indirect next %u beyond table of %u",
			              w->c->head, i, n);
	}
}

/* Buffers last, so a chain's structure is judged whole first. */
int dm_vq_buffers_in_ram(struct dm_vq *q, const struct dm_chain *c)
{
	dm_vq_checked(q, "DRV-6.1-5");
	for (unsigned k = 0; k < c->nseg; k++)
		if (!buffer_in_ram(q, c->seg[k].addr, c->seg[k].len))
			return dm_vq_breach(q, "DRV-6.1-5", "chain %u: buffer 0x%llx+%u outside guest RAM",
			                    c->head, (unsigned long long)c->seg[k].addr, c->seg[k].len);
	return 0;
}

void dm_vq_interrupt(struct dm_vq *q, bool notify)
{
	if (notify) {
		q->interrupts++;
		q->dv->irq_queue = q->index;
		dm_virtio_raise(q->dv, DM_VIRTIO_ISR_QUEUE);
		q->dv->irq_queue = -1;
	} else {
		q->interrupts_suppressed++;
	}
}

/* EVENT_IDX (2.7.10): avail_event, after the used ring, asks for a
 * notification when the driver fills the entry after the last one taken
 * (DEV-2.7.10.2-4). */
static void publish_avail_event(struct dm_vq *q)
{
	if (dm_virtio_has(q->dv, DM_VIRTIO_F_RING_EVENT_IDX))
		dm_vq_write16(q, q->used + 4 + 8ull * q->num, q->last_avail);
}

static int split_pop(struct dm_vq *q, struct dm_chain *c)
{
	struct dm_virtio *dv = q->dv;
	uint8_t hdr[4];
	uint16_t flags, idx, head, i;
	struct dm_vq_walk w;

	if (!dm_vq_mem_read(q, q->avail, hdr, sizeof hdr))
		return dm_vq_breach(q, "DRV-6.1-5", "available ring unreadable");
	flags = dm_le16(hdr);
	idx = dm_le16(hdr + 2);

	if (dm_virtio_has(dv, DM_VIRTIO_F_RING_EVENT_IDX)) {
		dm_vq_checked(q, "DRV-2.7.7.1-3");
		if (flags != 0)
			return dm_vq_breach(q, "DRV-2.7.7.1-3", "avail flags 0x%x with EVENT_IDX (must be 0)", flags);
	} else {
		dm_vq_checked(q, "DRV-2.7.7.1-1");
		if (flags & ~DM_VIRTQ_AVAIL_F_NO_INTERRUPT)
			return dm_vq_breach(q, "DRV-2.7.7.1-1", "avail flags 0x%x (only 0 or 1 allowed)", flags);
	}

	/* DRV-2.7.6.1-1: idx only moves forward, and never exposes more than
	 * the queue size: a backwards step shows as a huge forward one. */
	dm_vq_checked(q, "DRV-2.7.6.1-1");
	if ((uint16_t)(idx - q->avail_idx_seen) > q->num ||
	    (uint16_t)(idx - q->last_avail) > q->num)
		return dm_vq_breach(q, "DRV-2.7.6.1-1",
		              "avail idx moved from %u to %u (device at %u, queue size %u)",
		              q->avail_idx_seen, idx, q->last_avail, q->num);
	/* DRV-3.3.1-1: each entry the new idx exposes names a head the device
	 * does not own yet: not exposed before and used since.  A head at or
	 * over the queue size is left to MODEL-DESC-INDEX when it is taken. */
	for (uint16_t e = q->avail_idx_seen; e != idx; e++) {
		uint16_t h;
		if (!dm_vq_read16(q, q->avail + 4 + 2ull * (e % q->num), &h))
			return dm_vq_breach(q, "DRV-6.1-5", "available ring entry unreadable");
		if (h >= q->num)
			continue;
		dm_vq_checked(q, "DRV-3.3.1-1");
		if (in_use(q, h))
			return dm_vq_breach(q, "DRV-3.3.1-1",
			              "avail entry %u: head %u made available again while the device owns it",
			              e, h);
		set_in_use(q, h, true);
	}
	q->avail_idx_seen = idx;
	if (idx == q->last_avail)
		return 0;

	if (!dm_vq_read16(q, q->avail + 4 + 2ull * (q->last_avail % q->num), &head))
		return dm_vq_breach(q, "DRV-6.1-5", "available ring entry unreadable");
	dm_vq_checked(q, "MODEL-DESC-INDEX");
	if (head >= q->num)
		return dm_vq_breach(q, "MODEL-DESC-INDEX", "avail entry %u: head %u >= queue size %u",
		              q->last_avail, head, q->num);

	dm_vq_walk_start(&w, c, head);
	for (i = head;;) {
		uint8_t d[16];
		uint16_t dflags;

		dm_vq_checked(q, "DRV-2.7.5.2-1");
		if (++w.ndesc > q->num)
			return dm_vq_breach(q, "DRV-2.7.5.2-1",
			              "chain %u: more descriptors than the queue size (a loop)", head);
		if (!dm_vq_mem_read(q, q->desc + 16ull * i, d, sizeof d))
			return dm_vq_breach(q, "DRV-6.1-5", "descriptor %u unreadable", i);
		dflags = dm_le16(d + 12);
		if (!dm_virtio_has(dv, DM_VIRTIO_F_RING_INDIRECT_DESC))
			dm_vq_checked(q, "DRV-2.7.5.3.1-1"); /* each descriptor without the feature */
		if (dflags & DM_VIRTQ_DESC_F_INDIRECT) {
			if (!dm_virtio_has(dv, DM_VIRTIO_F_RING_INDIRECT_DESC))
				return dm_vq_breach(q, "DRV-2.7.5.3.1-1",
				              "chain %u: INDIRECT descriptor %u without VIRTIO_F_INDIRECT_DESC", head, i);
			dm_vq_checked(q, "DRV-2.7.5.3.1-4");
			if (dflags & DM_VIRTQ_DESC_F_NEXT)
				return dm_vq_breach(q, "DRV-2.7.5.3.1-4",
				              "chain %u: descriptor %u has both INDIRECT and NEXT", head, i);
			w.ndesc--; /* the table entries count instead (DRV-2.7.5.3.1-3) */
			/* DEV-2.7.5.3.2-1: WRITE on the indirect descriptor is ignored. */
			if (walk_indirect(q, &w, dm_le64(d), dm_le32(d + 8)))
				return -1;
			break;
		}
		if (dm_vq_add_seg(q, &w, dm_le64(d), dm_le32(d + 8), dflags))
			return -1;
		if (!(dflags & DM_VIRTQ_DESC_F_NEXT))
			break;
		i = dm_le16(d + 14);
		if (i >= q->num)
			return dm_vq_breach(q, "MODEL-DESC-INDEX", "chain %u: next %u >= queue size %u", head, i,
			              q->num);
	}

	if (dm_vq_buffers_in_ram(q, c))
		return -1;

	set_in_use(q, head, true);
	q->head_wlen[head] = c->writable_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->writable_len;
	q->last_avail++;
	q->popped++;
	return 1;
}

int dm_vq_pop(struct dm_vq *q, struct dm_chain *c)
{
	int r;

	if (q->broken)
		return -1;
	if (!q->ready || q->num == 0)
		return 0; /* DEV-4.2.2.1-7: no ring access while not ready */
	if (q->packed)
		return dm_vq_packed_pop(q, c);
	r = split_pop(q, c);
	if (r >= 0)
		publish_avail_event(q);
	return r;
}

static void write_used_elem(struct dm_vq *q, uint32_t id, uint32_t len)
{
	uint8_t e[8];
	dm_put32(e, id);
	dm_put32(e + 4, len);
	dm_vq_mem_write(q, q->used + 4 + 8ull * (q->used_idx % q->num), e, sizeof e);
	q->used_idx++;
}

void dm_vq_used_plan(struct dm_vq *q, struct dm_used_plan *p, uint32_t id, uint32_t len,
                     bool have_wlen, uint32_t wlen)
{
	struct dm_virtio *dv = q->dv;
	struct dm_fault *f;

	p->id = id;
	p->len = len;
	p->copies = 1;
	p->extra = 0;
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_USED_ID, q->index)))
		p->id = (uint32_t)f->value;
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_USED_LEN, q->index)) && have_wlen)
		p->len = (uint32_t)(wlen + f->value);
	if (dm_virtio_fault_hit(dv, DM_FAULT_USED_ID_DUP, q->index))
		p->copies = 2;
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_USED_IDX_JUMP, q->index)))
		p->extra = f->value;
}

void dm_vq_push(struct dm_vq *q, uint16_t head, uint32_t len)
{
	struct dm_virtio *dv = q->dv;
	uint16_t old_idx = q->used_idx;
	struct dm_used_plan plan;
	bool notify;

	if (!q->ready || q->num == 0)
		return; /* reset or disabled since: nothing may be written (DEV-2.4.1-2) */
	if (q->packed) {
		dm_vq_packed_push(q, head, len);
		return;
	}
	if (head < q->num)
		set_in_use(q, head, false);
	dm_vq_used_plan(q, &plan, head, len, head < q->num, head < q->num ? q->head_wlen[head] : 0);

	/* DEV-2.7.8.2-1: the element (id, len) is written before used.idx. */
	for (unsigned k = 0; k < plan.copies; k++)
		write_used_elem(q, plan.id, plan.len);
	q->used_idx = (uint16_t)(q->used_idx + plan.extra);
	dm_vq_write16(q, q->used + 2, q->used_idx);
	q->pushed++;
	/* DM_FAULT_AVAIL_EVENT: avail_event written without EVENT_IDX too,
	 * where the driver must disregard it (DRV-2.7.10.1-2). */
	struct dm_fault *ae = dm_virtio_fault_hit(dv, DM_FAULT_AVAIL_EVENT, q->index);
	if (ae)
		dm_vq_write16(q, q->used + 4 + 8ull * q->num, (uint16_t)ae->value);

	if (dm_virtio_has(dv, DM_VIRTIO_F_RING_EVENT_IDX)) {
		/* DEV-2.7.7.2-4/5/6: the avail flags are disregarded; notify
		 * when the new entries pass used_event (wrapping 16-bit
		 * arithmetic: used_event in [old idx, new idx)). */
		uint16_t used_event = 0;
		dm_vq_read16(q, q->avail + 4 + 2ull * q->num, &used_event);
		notify = (uint16_t)(q->used_idx - used_event - 1) < (uint16_t)(q->used_idx - old_idx);
	} else {
		/* DEV-2.7.7.2-1/2/3: used_event disregarded; avail flags 1
		 * suppresses, 0 requires. */
		uint16_t aflags = 0;
		dm_vq_read16(q, q->avail, &aflags);
		notify = !(aflags & DM_VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	dm_vq_interrupt(q, notify);
}

uint32_t dm_chain_read(struct dm_vq *q, const struct dm_chain *c, uint64_t off, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nseg && done < len; i++) {
		const struct dm_seg *s = &c->seg[i];
		uint32_t n;
		if (s->writable)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = (uint32_t)(s->len - off);
		if (n > len - done)
			n = len - done;
		if (!dm_vq_mem_read(q, s->addr + off, out + done, n))
			break;
		done += n;
		off = 0;
	}
	return done;
}

uint32_t dm_chain_write(struct dm_vq *q, const struct dm_chain *c, uint64_t off, const void *buf,
                        uint32_t len)
{
	const uint8_t *in = buf;
	uint32_t done = 0;

	/* DEV-2.7.5.1-1: only device-writable segments are ever written. */
	for (unsigned i = 0; i < c->nseg && done < len; i++) {
		const struct dm_seg *s = &c->seg[i];
		uint32_t n;
		if (!s->writable)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = (uint32_t)(s->len - off);
		if (n > len - done)
			n = len - done;
		if (!dm_vq_mem_write(q, s->addr + off, in + done, n))
			break;
		done += n;
		off = 0;
	}
	return done;
}
