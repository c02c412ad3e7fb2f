/* SPDX-License-Identifier: MIT */
/*
 * The device side of the fuzz platform, whatever the transport: queues,
 * the chains the driver posts, and what the device makes of them (blk
 * requests, net frames, or nothing), honestly unless the control stream
 * says otherwise.  See fuzz_platform.h.
 *
 * It aborts on anything the driver must never do (a ring entry naming no
 * descriptor, a chain that loops, a buffer outside DMA memory, a readable
 * descriptor after a writable one): those are driver bugs, and an abort is
 * how libFuzzer reports them.  Anything the device does is fair.
 */
#include <string.h>

#include "fuzz_platform.h"
#include "vlab/blk.h"
#include "vlab/net.h"
#include "vlab/pci.h"
#include "vlab/virtqueue.h"

/* The lies, as the control byte read after each chain the device takes
 * (make_corpus.py knows them too). */
#define LIE_STALL 0xff      /* never completes */
#define LIE_ID 0xfe         /* used.id from the payload */
#define LIE_LEN 0xfd        /* used.len from the payload */
#define LIE_STATUS 0xfc     /* the last writable byte from the payload */
#define LIE_TWICE 0xfb      /* completes twice */
#define LIE_IDX_JUMP 0xfa   /* used.idx jumps by a payload amount */

/* net: the control byte before each received frame's header. */
#define RX_LIE_NUM_BUFFERS 0xff
#define RX_LIE_GSO 0xfe
#define RX_LIE_HEADER 0xfd

#define FZ_CHAIN_MAX 256
#define FZ_RX_CHAINS 64

/* Called at every register and ring field access: their loop edges give
 * libFuzzer no signal (FZ_NO_COVERAGE). */
FZ_NO_COVERAGE uint32_t fz_ld(const uint8_t *p, unsigned width)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < width && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

FZ_NO_COVERAGE void fz_st(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t ld64(const uint8_t *p) { return (uint64_t)fz_ld(p, 4) | (uint64_t)fz_ld(p + 4, 4) << 32; }

struct seg {
	uint8_t *p;
	uint32_t len;
	bool w;
};

struct chain {
	struct seg s[FZ_CHAIN_MAX];
	unsigned n;
	uint16_t head;   /* split: the head descriptor; packed: the buffer ID */
	uint32_t wlen;   /* device-writable bytes */
	uint16_t ndesc;  /* packed: ring slots the list took */
	/* After the device lied about completions (or the driver read lies
	 * from the ring): the driver may have rewritten descriptors the
	 * device had not taken yet, and chains mixed from two uses are the
	 * device's doing, not the driver's.  The device then takes what it
	 * finds, up to the first descriptor it cannot use. */
	bool lax;
};

struct ring {
	struct fz_queue *q;
	uint8_t *desc, *avail, *used;
	bool packed, indirect, event_idx; /* as negotiated */
};

/* Packed ring: the buffer IDs the device took and has not completed, a bit
 * each per queue (a driver that exposes an ID still in flight is wrong). */
static uint8_t ids_held[FZ_QMAX][65536 / 8];
static bool ids_dirty[FZ_QMAX];

uint64_t fz_ring_features(uint8_t bits)
{
	return ((bits & FZ_RING_PACKED) ? VLAB_BIT(VIRTIO_F_RING_PACKED) : 0) |
	       ((bits & FZ_RING_INDIRECT) ? VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0) |
	       ((bits & FZ_RING_EVENT_IDX) ? VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) : 0);
}

uint8_t fz_ring_offer(struct fz *f, unsigned force)
{
	uint8_t mode = fz_choose8(f), bits = (uint8_t)force;
	if (mode == FZ_RING_MAGIC || force) {
		bits |= fz_choose8(f);
		f->ring_ctl = true;
		if (mode == FZ_RING_MAGIC)
			mode = fz_choose8(f);
	}
	f->ring_offer = fz_ring_features(bits);
	f->features |= f->ring_offer;
	return mode;
}

void fz_queue_restart(struct fz *f, struct fz_queue *q)
{
	unsigned qi = (unsigned)(q - f->q);
	q->last_avail = q->used_idx = 0;
	q->aflip = q->uflip = false;
	q->inflight = 0;
	if (qi < FZ_QMAX && ids_dirty[qi]) {
		memset(ids_held[qi], 0, sizeof ids_held[qi]);
		ids_dirty[qi] = false;
	}
}

static struct ring ring_of(struct fz *f, struct fz_queue *q)
{
	struct ring r = {q, NULL, NULL, NULL, false, false, false};
	uint32_t size = q->num;

	if (size == 0 || size > 32768)
		FZ_ABORT("queue size %u", size);
	r.packed = (f->driver_features & VLAB_BIT(VIRTIO_F_RING_PACKED)) != 0;
	r.indirect = (f->driver_features & VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC)) != 0;
	r.event_idx = (f->driver_features & VLAB_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0;
	if (r.packed) {
		/* DRV-2.8.11-1: the descriptor ring 16-aligned, the event
		 * suppression structures 4-aligned. */
		if ((q->desc & 15u) || (q->avail & 3u) || (q->used & 3u))
			FZ_ABORT("packed ring areas misaligned");
		r.desc = fz_dma_ptr(f, q->desc, 16ull * size);
		r.avail = fz_dma_ptr(f, q->avail, 4);
		r.used = fz_dma_ptr(f, q->used, 4);
	} else {
		r.desc = fz_dma_ptr(f, q->desc, 16ull * size);
		r.avail = fz_dma_ptr(f, q->avail, 6ull + 2ull * size);
		r.used = fz_dma_ptr(f, q->used, 6ull + 8ull * size);
	}
	if (!r.desc || !r.avail || !r.used)
		FZ_ABORT("ring outside DMA memory");
	return r;
}

/* Packed: is the descriptor with these flags available in the lap whose
 * wrap counter is !flip (2.8.1: AVAIL = the wrap counter, USED not)? */
static bool p_avail(uint16_t flags, bool flip)
{
	bool a = (flags & VIRTQ_DESC_F_AVAIL) != 0, u = (flags & VIRTQ_DESC_F_USED) != 0;
	return a == !flip && u == flip;
}

/* Packed: one slot on, flipping the wrap counter at the end of the ring. */
static void p_step(const struct fz_queue *q, uint16_t *slot, bool *flip)
{
	if (++*slot >= q->num) {
		*slot = 0;
		*flip = !*flip;
	}
}

/* Chains the driver made available and the device has not taken.  More
 * than the ring holds is a driver bug, unless the device made the driver
 * believe it had completed chains it still held (a used entry for a chain
 * not taken, twice, or used.idx jumping; or lies in the used ring the
 * driver read): then the driver's reposting is all it could do, and the
 * device takes only the newest ring's worth. */
static uint16_t pending(struct fz *f, const struct ring *r)
{
	if (r->packed)
		return p_avail((uint16_t)fz_ld(r->desc + 16u * r->q->last_avail + 14, 2), r->q->aflip);
	uint16_t aidx = (uint16_t)fz_ld(r->avail + 2, 2);
	uint16_t d = (uint16_t)(aidx - r->q->last_avail);
	if (d > r->q->num) {
		if (!r->q->lied && !f->shm_lied)
			FZ_ABORT("avail.idx moved by %u on a ring of %u", d, r->q->num);
		r->q->last_avail = (uint16_t)(aidx - r->q->num);
		d = (uint16_t)r->q->num;
	}
	return d;
}

/* One buffer of a chain: in DMA memory, readable ones before writable
 * ones (DRV-2.7.4.2-1, DRV-2.8.17-3). */
static void add_seg(struct fz *f, struct chain *c, uint64_t addr, uint32_t len, bool w, bool *seen_w)
{
	struct seg *s;

	if (c->n == FZ_CHAIN_MAX && c->lax)
		return;
	if (c->n == FZ_CHAIN_MAX)
		FZ_ABORT("chain from %u loops (more than %u buffers)", c->head, FZ_CHAIN_MAX);
	if (c->lax && len && !fz_dma_ptr(f, addr, len))
		return;
	s = &c->s[c->n++];
	s->p = fz_dma_ptr(f, addr, len);
	if (!s->p && len)
		FZ_ABORT("buffer 0x%llx+%u outside DMA memory", (unsigned long long)addr, len);
	s->len = len;
	s->w = w;
	if (!w && *seen_w && !c->lax)
		FZ_ABORT("readable descriptor after a writable one");
	*seen_w |= w;
	if (w)
		c->wlen += len;
}

/* An indirect table of len bytes at addr (2.7.5.3, 2.8.19): its buffers
 * join the chain. */
static void add_table(struct fz *f, const struct ring *r, struct chain *c, uint64_t addr, uint32_t len,
                      bool *seen_w)
{
	const uint8_t *t = fz_dma_ptr(f, addr, len);
	uint32_t n = len / 16u, i = 0;

	if (c->lax && (!r->indirect || !t || len == 0 || len % 16u || n > r->q->num))
		return; /* a slot the device's lies mixed up (take) */
	/* DRV-2.7.5.3.1-1, DRV-2.8.19-1 */
	if (!r->indirect)
		FZ_ABORT("indirect descriptor without INDIRECT_DESC negotiated");
	if (!t || len == 0 || len % 16u)
		FZ_ABORT("indirect table 0x%llx+%u: outside DMA memory or not whole descriptors",
		         (unsigned long long)addr, len);
	/* DRV-2.7.5.3.1-3, DRV-2.8.19-3: within the queue size. */
	if (n > r->q->num)
		FZ_ABORT("indirect table of %u descriptors on a queue of %u", n, r->q->num);
	for (unsigned k = 0; k < n; k++, i++) {
		const uint8_t *d = t + 16u * i;
		uint16_t flags = (uint16_t)fz_ld(d + (r->packed ? 14 : 12), 2);
		if (r->packed) {
			/* DRV-2.8.19-2: WRITE only; the entries in order. */
			if ((flags & ~(uint16_t)VIRTQ_DESC_F_WRITE) && !c->lax)
				FZ_ABORT("packed indirect entry %u with flags 0x%x", i, flags);
			add_seg(f, c, ld64(d), fz_ld(d + 8, 4), (flags & VIRTQ_DESC_F_WRITE) != 0, seen_w);
			continue;
		}
		/* DRV-2.7.5.3.1-2: no table in a table. */
		if ((flags & VIRTQ_DESC_F_INDIRECT) && !c->lax)
			FZ_ABORT("indirect entry %u is itself indirect", i);
		add_seg(f, c, ld64(d), fz_ld(d + 8, 4), (flags & VIRTQ_DESC_F_WRITE) != 0, seen_w);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return;
		/* DRV-2.7.5.3.1-5: entry i links to i + 1. */
		if ((fz_ld(d + 14, 2) != i + 1 || i + 1 >= n) && c->lax)
			return;
		if (fz_ld(d + 14, 2) != i + 1 || i + 1 >= n)
			FZ_ABORT("indirect entry %u links to %u of %u", i, fz_ld(d + 14, 2), n);
	}
}

/* Split: take the next available chain (there must be one). */
static void take_split(struct fz *f, const struct ring *r, struct chain *c)
{
	uint32_t size = r->q->num;
	uint16_t head = (uint16_t)fz_ld(r->avail + 4 + 2 * (r->q->last_avail % size), 2), i = head;
	bool seen_w = false;
	unsigned ndesc = 0;

	r->q->last_avail++;
	c->head = head;
	if (head >= size)
		FZ_ABORT("avail entry names descriptor %u of %u", head, size);
	for (;;) {
		const uint8_t *d = r->desc + 16u * i;
		uint16_t flags = (uint16_t)fz_ld(d + 12, 2);
		if (ndesc++ == size) {
			if (c->lax)
				break;
			FZ_ABORT("chain from %u loops", head);
		}
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* DRV-2.7.5.3.1-4: not with NEXT. */
			if ((flags & VIRTQ_DESC_F_NEXT) && !c->lax)
				FZ_ABORT("descriptor %u is INDIRECT and NEXT", i);
			add_table(f, r, c, ld64(d), fz_ld(d + 8, 4), &seen_w);
			break;
		}
		add_seg(f, c, ld64(d), fz_ld(d + 8, 4), (flags & VIRTQ_DESC_F_WRITE) != 0, &seen_w);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		i = (uint16_t)fz_ld(d + 14, 2);
		if (i >= size)
			FZ_ABORT("next %u of %u", i, size);
	}
}

/* Packed: take the list at the device's position (it is available). */
static void take_packed(struct fz *f, const struct ring *r, struct chain *c)
{
	struct fz_queue *q = r->q;
	unsigned qi = (unsigned)(q - f->q);
	bool seen_w = false;

	for (;;) {
		const uint8_t *d = r->desc + 16u * q->last_avail;
		uint16_t flags = (uint16_t)fz_ld(d + 14, 2);
		/* DRV-2.8.17-6: the rest of a list is in place before its
		 * first descriptor; DRV-2.8.17-2: no longer than the ring. */
		if (c->ndesc && !p_avail(flags, q->aflip)) {
			/* (unless the device's own lies wrote used descriptors
			 * over it) */
			if (!c->lax)
				FZ_ABORT("packed list continues into slot %u, not available", q->last_avail);
			break;
		}
		if (c->ndesc == q->num) {
			if (!c->lax)
				FZ_ABORT("packed list longer than the ring (%u)", q->num);
			break;
		}
		c->head = (uint16_t)fz_ld(d + 12, 2); /* the ID: the last descriptor's */
		c->ndesc++;
		p_step(q, &q->last_avail, &q->aflip);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* DRV-2.8.19-4: the table alone, not in a NEXT list. */
			if ((c->ndesc != 1 || (flags & VIRTQ_DESC_F_NEXT)) && !c->lax)
				FZ_ABORT("packed indirect descriptor in a list");
			add_table(f, r, c, ld64(d), fz_ld(d + 8, 4), &seen_w);
			break;
		}
		add_seg(f, c, ld64(d), fz_ld(d + 8, 4), (flags & VIRTQ_DESC_F_WRITE) != 0, &seen_w);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
	}
	/* DRV-2.8.17-5: the driver exposes no more than the ring holds, and
	 * (2.8.16) no ID it has not seen come back.  Unless the device lied
	 * (it made the driver believe it completed what it holds): then the
	 * driver's reposting was all it could do, and the device follows. */
	q->inflight += c->ndesc;
	if (q->inflight > q->num) {
		if (!q->lied && !f->shm_lied)
			FZ_ABORT("packed ring: %u slots in flight on a ring of %u", q->inflight, q->num);
		q->inflight = c->ndesc;
	}
	if (ids_held[qi][c->head / 8] & (1u << (c->head % 8))) {
		if (!q->lied && !f->shm_lied)
			FZ_ABORT("packed ring: buffer ID %u exposed again before it was used", c->head);
	}
	ids_held[qi][c->head / 8] |= (uint8_t)(1u << (c->head % 8));
	ids_dirty[qi] = true;
}

/* Take the next available chain (there must be one). */
static void take(struct fz *f, const struct ring *r, struct chain *c)
{
	c->n = 0;
	c->wlen = 0;
	c->ndesc = 0;
	c->head = 0;
	c->lax = r->q->lied || f->shm_lied;
	if (r->packed)
		take_packed(f, r, c);
	else
		take_split(f, r, c);
}

/* ---- net: chains the device holds ----
 *
 * The release rule: what the driver gave the device is reused, re-posted or
 * freed only once the device returned it or after a reset.  A net chain the
 * device took and never completed (a stall) is recorded with a checksum of
 * its bytes (after the device wrote what it writes); until the next reset
 * the driver must neither change nor free it (fz_check_held).  Not on a
 * queue whose used ring lied about which chains completed (the driver may
 * then believe the chain is back) nor after a lie in shared memory. */
#define FZ_HELD 32
#define FZ_HELD_SEGS 4

struct held {
	unsigned q, n;
	uint8_t *p[FZ_HELD_SEGS];
	uint32_t len[FZ_HELD_SEGS];
	uint32_t sum;
};

static struct held held[FZ_HELD];
static unsigned nheld;

/* Checked after every operation over every held buffer (up to 64 KiB
 * each): eight bytes a step, and no coverage callbacks in its loop (they
 * were a tenth of fuzz_net's time and give libFuzzer nothing). */
static FZ_NO_COVERAGE uint32_t held_sum(const struct held *h)
{
	uint64_t x = 14695981039346656037ull; /* FNV-1a, 64-bit words */
	for (unsigned i = 0; i < h->n; i++) {
		const uint8_t *p = h->p[i];
		uint32_t j = 0, w;
		for (; j + 8 <= h->len[i]; j += 8) {
			uint64_t v;
			memcpy(&v, p + j, 8);
			x = (x ^ v) * 1099511628211ull;
		}
		for (w = j; w < h->len[i]; w++)
			x = (x ^ p[w]) * 1099511628211ull;
	}
	return (uint32_t)(x ^ (x >> 32));
}

static void hold_chain(struct fz *f, const struct fz_queue *q, const struct chain *c)
{
	struct held *h;

	if (f->engine != FZ_ENGINE_NET || nheld == FZ_HELD || c->n > FZ_HELD_SEGS)
		return;
	h = &held[nheld++];
	h->q = (unsigned)(q - f->q);
	h->n = c->n;
	for (unsigned i = 0; i < c->n; i++) {
		h->p[i] = c->s[i].p;
		h->len[i] = c->s[i].p ? c->s[i].len : 0;
	}
	h->sum = held_sum(h);
}

void fz_check_held(struct fz *f)
{
	for (unsigned k = 0; k < nheld; k++) {
		const struct held *h = &held[k];
		if (f->q[h->q].lied || f->shm_lied)
			continue;
		for (unsigned i = 0; i < h->n; i++) {
			size_t off = (size_t)(h->p[i] - f->arena);
			if (h->len[i] && (!f->live[off / FZ_GRANULE] || !f->live[(off + h->len[i] - 1) / FZ_GRANULE]))
				FZ_ABORT("queue %u: a buffer the device still holds was freed", h->q);
		}
		if (held_sum(h) != h->sum)
			FZ_ABORT("queue %u: a buffer the device still holds was changed", h->q);
	}
}

/* ---- any engine: which caller buffers the device holds ----
 *
 * The device keeps c without completing it: its buffers stay in the
 * device's hands until a reset (fz_device_holds, for the blk target's
 * release-rule oracle; the net one above also checks the bytes). */
static void hold(struct fz *f, const struct fz_queue *q, const struct chain *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (f->nheld == FZ_HELD_MAX) {
			f->held_overflow = true;
			return;
		}
		f->held[f->nheld].p = c->s[i].p;
		f->held[f->nheld].len = c->s[i].len;
		f->held[f->nheld].q = q;
		f->held[f->nheld].head = c->head;
		f->nheld++;
	}
}

/* After the device lied about completions on q (a wrong ID, twice, used
 * entries jumped over), a used entry it wrote may name a head the driver
 * had not posted yet; posted later and stalled, the chain looks completed
 * to the driver when it reads that entry: is there one naming head?
 * (Split: every used ring slot; packed: every used descriptor.) */
static bool named_in_used(const struct ring *r, uint16_t head)
{
	const struct fz_queue *q = r->q;
	for (uint32_t j = 0; j < q->num; j++) {
		if (r->packed) {
			const uint8_t *d = r->desc + 16u * j;
			uint16_t fl = (uint16_t)fz_ld(d + 14, 2);
			if (!(fl & VIRTQ_DESC_F_AVAIL) == !(fl & VIRTQ_DESC_F_USED) && fz_ld(d + 12, 2) == head)
				return true;
		} else if (fz_ld(r->used + 4 + 8u * j, 4) == head) {
			return true;
		}
	}
	return false;
}

/* A used entry names id on q: a chain held with that head is returned. */
static void unhold(struct fz *f, const struct fz_queue *q, uint32_t id)
{
	for (unsigned i = 0; i < f->nheld; i++)
		if (f->held[i].q == q && f->held[i].head == id)
			f->held[i].p = NULL;
}

bool fz_device_holds(const struct fz *f, const void *p, size_t len)
{
	const uint8_t *a = p;
	if (f->held_overflow || f->shm_lied)
		return false;
	for (unsigned i = 0; i < f->nheld; i++)
		if (f->held[i].p && f->held[i].p < a + len && a < f->held[i].p + f->held[i].len)
			return true;
	return false;
}

/* Packed: the used descriptor (ID id, length len) at the device's used
 * position, which moves on by the slots of the list (2.8.7); twice, or the
 * position jumping, when the device lies so. */
static void complete_packed(struct fz *f, const struct ring *r, const struct chain *c, uint32_t id, uint32_t len,
                            uint8_t lie)
{
	struct fz_queue *q = r->q;
	unsigned qi = (unsigned)(q - f->q);

	for (int k = 0; k < (lie == LIE_TWICE ? 2 : 1); k++) {
		uint8_t *e = r->desc + 16u * q->used_idx;
		fz_st(e + 8, 4, len);
		fz_st(e + 12, 2, id);
		/* The flags last: AVAIL = USED = the device's wrap counter. */
		fz_st(e + 14, 2, q->uflip ? 0 : VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
		unhold(f, q, (uint16_t)id);
		for (unsigned i = 0; i < c->ndesc; i++)
			p_step(q, &q->used_idx, &q->uflip);
	}
	if (lie == LIE_IDX_JUMP) {
		uint32_t n = (uint32_t)(fz_pay(f, 2) % (2u * q->num));
		/* (the slots jumped over name whatever IDs they hold) */
		for (uint32_t j = 0; j < n && j < q->num; j++)
			unhold(f, q, fz_ld(r->desc + 16u * ((q->used_idx + j) % q->num) + 12, 2));
		for (; n >= q->num; n -= q->num)
			q->uflip = !q->uflip;
		q->used_idx = (uint16_t)(q->used_idx + n);
		if (q->used_idx >= q->num) {
			q->used_idx = (uint16_t)(q->used_idx - q->num);
			q->uflip = !q->uflip;
		}
	}
	q->inflight = q->inflight > c->ndesc ? q->inflight - c->ndesc : 0;
	ids_held[qi][c->head / 8] &= (uint8_t)~(1u << (c->head % 8));
}

/* Put a chain on the used ring with length len, unless the control stream
 * says to lie about it. */
static void complete(struct fz *f, const struct ring *r, struct chain *c, uint32_t len)
{
	struct fz_queue *q = r->q;
	uint32_t id = c->head;
	uint8_t lie = fz_ctl8(f);

	if (lie >= LIE_IDX_JUMP)
		f->lied = true;
	if (lie == LIE_STALL) {
		hold_chain(f, q, c);
		/* (regressions/fuzz_blk_io/lied_id_names_a_later_stalled_chain) */
		if (!q->lied || !named_in_used(r, c->head))
			hold(f, q, c);
		return;
	}
	if (lie == LIE_ID)
		id = (uint32_t)fz_pay(f, 4);
	if (lie == LIE_LEN)
		len = (uint32_t)fz_pay(f, 4);
	if (lie == LIE_STATUS && c->n && c->s[c->n - 1].w && c->s[c->n - 1].len)
		c->s[c->n - 1].p[c->s[c->n - 1].len - 1] = (uint8_t)fz_pay(f, 1);
	if (r->packed) {
		complete_packed(f, r, c, id, len, lie);
	} else {
		for (int k = 0; k < (lie == LIE_TWICE ? 2 : 1); k++) {
			uint8_t *e = r->used + 4 + 8u * (q->used_idx % q->num);
			fz_st(e, 4, id);
			fz_st(e + 4, 4, len);
			unhold(f, q, id);
			q->used_idx++;
		}
		if (lie == LIE_IDX_JUMP) {
			uint16_t n = (uint16_t)fz_pay(f, 2);
			/* The entries jumped over name whatever they hold: to
			 * the driver, a completion of those chains. */
			for (uint32_t j = 0; j < n && j < q->num; j++)
				unhold(f, q, fz_ld(r->used + 4 + 8u * ((uint16_t)(q->used_idx + j) % q->num), 4));
			q->used_idx = (uint16_t)(q->used_idx + n);
		}
		fz_st(r->used + 2, 2, q->used_idx);
	}
	if (lie == LIE_ID || lie == LIE_TWICE || lie == LIE_IDX_JUMP)
		q->lied = true;
	f->completions++;
	f->isr |= VIRTIO_ISR_QUEUE;
}

/* ---- blk ---- */

/* Copy between the disk (or a generated ID) and the writable segments. */
static uint32_t fill_writable(struct chain *c, const uint8_t *src, uint32_t want)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < c->n && done < want; i++) {
		if (!c->s[i].w)
			continue;
		uint32_t k = c->s[i].len < want - done ? c->s[i].len : want - done;
		memcpy(c->s[i].p, src + done, k);
		done += k;
	}
	return done;
}

/* DISCARD / WRITE_ZEROES: exactly one 16-byte segment after the header,
 * within the disk and the limits the honest device offers (fuzz_platform.c);
 * both zero the sectors. */
static uint8_t blk_dwz(struct fz *f, const struct chain *c, bool zeroes, uint32_t rdata)
{
	uint8_t seg[VLAB_VIRTIO_BLK_DWZ_SEG_BYTES];
	uint32_t got = 0, skip = 16, num, flags;
	uint64_t sector;

	if (rdata != sizeof seg)
		return VIRTIO_BLK_S_IOERR;
	for (unsigned i = 0; i < c->n && got < sizeof seg; i++) {
		if (c->s[i].w)
			continue;
		uint32_t from = skip < c->s[i].len ? skip : c->s[i].len;
		uint32_t k = c->s[i].len - from < sizeof seg - got ? c->s[i].len - from : (uint32_t)sizeof seg - got;
		skip -= from;
		memcpy(seg + got, c->s[i].p + from, k);
		got += k;
	}
	sector = ld64(seg);
	num = fz_ld(seg + 8, 4);
	flags = fz_ld(seg + 12, 4);
	if ((flags & ~VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) || (!zeroes && flags))
		return VIRTIO_BLK_S_UNSUPP;
	if (num > FZ_DWZ_MAX_SECTORS || sector > FZ_DISK_SECTORS || num > FZ_DISK_SECTORS - sector)
		return VIRTIO_BLK_S_IOERR;
	memset(f->disk + sector * 512u, 0, (size_t)num * 512u);
	f->disk_written = true;
	return VIRTIO_BLK_S_OK;
}

/* Carry out one blk request; returns the used length. */
static uint32_t blk_request(struct fz *f, struct chain *c)
{
	static const char id[VIRTIO_BLK_ID_BYTES] = "fuzz-blk";
	uint8_t hdr[16];
	uint32_t got = 0, rdata = 0, written = 0;
	uint8_t status = VIRTIO_BLK_S_OK;
	unsigned i;

	if (c->wlen == 0)
		return 0;
	/* The header: the first 16 readable bytes. */
	for (i = 0; i < c->n && got < 16 && !c->s[i].w; i++) {
		uint32_t k = c->s[i].len < 16 - got ? c->s[i].len : 16 - got;
		memcpy(hdr + got, c->s[i].p, k);
		got += k;
	}
	if (got < 16) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		uint32_t type = fz_ld(hdr, 4);
		uint64_t sector = ld64(hdr + 8);
		uint64_t pos = sector * 512u;
		uint32_t data_len = c->wlen - 1;
		for (i = 0; i < c->n; i++)
			if (!c->s[i].w)
				rdata += c->s[i].len;
		rdata -= 16;
		if (type == VIRTIO_BLK_T_IN) {
			if (sector > FZ_DISK_SECTORS || data_len > (FZ_DISK_SECTORS - sector) * 512u)
				status = VIRTIO_BLK_S_IOERR;
			else
				written = fill_writable(c, f->disk + pos, data_len);
		} else if (type == VIRTIO_BLK_T_OUT) {
			if (sector > FZ_DISK_SECTORS || rdata > (FZ_DISK_SECTORS - sector) * 512u) {
				status = VIRTIO_BLK_S_IOERR;
			} else {
				uint32_t skip = 16, done = 0;
				f->disk_written = true;
				for (i = 0; i < c->n; i++) {
					if (c->s[i].w)
						continue;
					uint32_t from = skip < c->s[i].len ? skip : c->s[i].len;
					skip -= from;
					memcpy(f->disk + pos + done, c->s[i].p + from, c->s[i].len - from);
					done += c->s[i].len - from;
				}
			}
		} else if (type == VIRTIO_BLK_T_GET_ID) {
			written = fill_writable(c, (const uint8_t *)id,
			                        data_len < sizeof id ? data_len : (uint32_t)sizeof id);
		} else if (type == VLAB_VIRTIO_BLK_T_DISCARD || type == VLAB_VIRTIO_BLK_T_WRITE_ZEROES) {
			status = blk_dwz(f, c, type == VLAB_VIRTIO_BLK_T_WRITE_ZEROES, rdata);
		} else if (type != VIRTIO_BLK_T_FLUSH) {
			status = VIRTIO_BLK_S_UNSUPP;
		}
	}
	/* The status byte: the last writable byte. */
	for (i = c->n; i-- > 0;)
		if (c->s[i].w && c->s[i].len) {
			c->s[i].p[c->s[i].len - 1] = status;
			break;
		}
	return written + 1;
}

/* ---- net transmit ---- */

static uint32_t net_hdr_len(const struct fz *f)
{
	bool v1 = (f->driver_features & VLAB_BIT(VIRTIO_F_VERSION_1)) != 0;
	bool mrg = (f->driver_features & VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	return v1 || mrg ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY;
}

/* A frame to send: the header, then the frame; keep the frame's bytes. */
static void net_tx(struct fz *f, const struct chain *c)
{
	uint32_t hdr_len = net_hdr_len(f), k = 0;
	/* With CSUM the first byte may be NEEDS_CSUM, with csum_start and
	 * csum_offset (bytes 6..9) beside it (DRV-5.1.6.2.1-14). */
	const bool csum = (f->driver_features & VLAB_BIT(VIRTIO_NET_F_CSUM)) && c->n && !c->s[0].w &&
	                  c->s[0].len && c->s[0].p[0] == VIRTIO_NET_HDR_F_NEEDS_CSUM;

	f->net_tx_len = 0;
	for (unsigned i = 0; i < c->n; i++) {
		const struct seg *sg = &c->s[i];
		for (uint32_t j = 0; j < sg->len && !sg->w; j++, k++) {
			/* DRV-5.1.6.2.1-1/2/18/24: no offload but the checksum's
			 * asked for, num_buffers 0. */
			if (k < hdr_len && sg->p[j] != 0 && !c->lax && !(csum && (k == 0 || (k >= 6 && k < 10))))
				FZ_ABORT("transmit header byte %u is 0x%02x", k, sg->p[j]);
			if (k >= hdr_len && k - hdr_len < FZ_NET_FRAME)
				f->net_tx[f->net_tx_len++] = sg->p[j];
		}
	}
	if (k < hdr_len && !c->lax)
		FZ_ABORT("transmit chain of %u bytes: no room for the header", k);
}

/* ---- rng ---- */

static uint8_t *wbyte(struct chain *c, uint32_t k);

/* Write some random bytes (a counter's pattern) at the start of the
 * writable part: all, 8 short (a real device's habit), none (another's,
 * for small requests), or any number. */
static uint32_t rng_fill(struct fz *f, struct chain *c)
{
	uint8_t how = fz_ctl8(f);
	uint32_t n = c->wlen;
	if (how < 32)
		n = 0;
	else if (how < 96)
		n = n > 8 ? n - 8 : 0;
	else if (how < 128)
		n = (uint32_t)fz_pay(f, 2) % (n + 1);
	for (uint32_t k = 0; k < n; k++) {
		uint8_t *p = wbyte(c, k);
		uint8_t v = (uint8_t)(0x5a + 7 * f->rng_logged + (f->rng_logged >> 8));
		if (!p)
			return k;
		*p = v;
		if (f->rng_logged < sizeof f->rng_log)
			f->rng_log[f->rng_logged] = v;
		f->rng_logged++;
	}
	return n;
}

void fz_rng_device(struct fz *f, uint32_t qmax)
{
	f->device_id = 4; /* entropy (5) */
	f->engine = FZ_ENGINE_RNG;
	f->features = VLAB_BIT(VIRTIO_F_VERSION_1);
	f->rng_logged = 0;
	memset(f->config, 0, sizeof f->config);
	for (unsigned i = 0; i < FZ_NQ; i++)
		f->q[i].max = i == 0 ? qmax : 0;
}

/* ---- the queues ---- */

/* Event suppression, the driver's side (read at every notification): what
 * it asks of the device's used buffer notifications must be well formed. */
static void check_driver_event(const struct ring *r)
{
	if (r->packed) {
		uint16_t off_wrap = (uint16_t)fz_ld(r->avail, 2), flags = (uint16_t)fz_ld(r->avail + 2, 2);
		/* 2.8.10: 0 enable, 1 disable, 2 desc (EVENT_IDX only). */
		if (flags > VIRTQ_EVENT_F_DESC || (flags == VIRTQ_EVENT_F_DESC && !r->event_idx))
			FZ_ABORT("driver event suppression flags %u", flags);
		if (flags == VIRTQ_EVENT_F_DESC && (off_wrap & 0x7fffu) >= r->q->num)
			FZ_ABORT("driver event suppression names slot %u of %u", off_wrap & 0x7fffu, r->q->num);
		return;
	}
	uint16_t flags = (uint16_t)fz_ld(r->avail, 2);
	/* DRV-2.7.7.1-1: 0 or 1; DRV-2.7.7.1-3: 0 with EVENT_IDX. */
	if (flags > VIRTQ_AVAIL_F_NO_INTERRUPT || (flags && r->event_idx))
		FZ_ABORT("avail.flags 0x%x%s", flags, r->event_idx ? " with EVENT_IDX" : "");
}

/* Event suppression, the device's side: after it took what was there,
 * it asks for a notification at the next chain (EVENT_IDX: avail_event, or
 * the device event descriptor at its position), or for every one; unless
 * the input has it lie (suppressed, or any value), when the input chose
 * the ring features. */
static void device_event(struct fz *f, const struct ring *r)
{
	const struct fz_queue *q = r->q;
	bool lie = f->ring_ctl && fz_lie(f);
	uint32_t v = lie ? (uint32_t)fz_pay(f, 4) : 0;

	if (lie)
		f->lied = true;
	if (r->packed) {
		if (!lie && r->event_idx)
			v = (uint32_t)VIRTQ_EVENT_F_DESC << 16 | q->last_avail | (q->aflip ? 0u : 0x8000u);
		fz_st(r->used, 4, v);
	} else if (r->event_idx) {
		fz_st(r->used + 4 + 8u * q->num, 2, lie ? v : q->last_avail); /* avail_event */
	} else {
		fz_st(r->used, 2, v); /* used.flags: NO_NOTIFY or not */
	}
}

/* What net queue qi is (5.1.2): VIRTIO_NET_Q_RX, _TX or _CTRL (the
 * control queue is 2N with MQ negotiated, 2 without). */
static unsigned net_kind(const struct fz *f, unsigned qi)
{
	const unsigned ctrl = f->net_pairs && (f->driver_features & VLAB_BIT(VIRTIO_NET_F_MQ)) ? 2u * f->net_pairs : 2u;
	if (qi == ctrl)
		return VIRTIO_NET_Q_CTRL;
	return qi > ctrl ? FZ_QMAX : qi & 1u;
}

/* VQ_PAIRS_SET (class 4, command 0, le16): carried out when the device
 * serves that many pairs. */
static void net_ctrl_mq(struct fz *f, const struct chain *c)
{
	uint8_t b[4];
	unsigned k = 0;

	for (unsigned i = 0; i < c->n && k < sizeof b; i++)
		for (uint32_t j = 0; !c->s[i].w && j < c->s[i].len && k < sizeof b; j++)
			b[k++] = c->s[i].p[j];
	if (k < 4 || b[0] != 4 || b[1] != 0)
		return;
	if ((b[2] | b[3] << 8) >= 1 && (unsigned)(b[2] | b[3] << 8) <= f->net_pairs)
		f->net_enabled = (unsigned)(b[2] | b[3] << 8);
	else
		f->lied = true; /* acknowledged (OK) all the same, not carried out */
}

void fz_device_work(struct fz *f, unsigned qi)
{
	static struct chain c;
	struct ring r;

	if (f->replay)
		return; /* the device is absent (fuzz_ring's notify) */

	if (qi >= FZ_QMAX)
		return;
	r = ring_of(f, &f->q[qi]);
	check_driver_event(&r);
	/* net receive buffers wait for a frame (fz_net_rx). */
	if (f->engine == FZ_ENGINE_NET && net_kind(f, qi) == VIRTIO_NET_Q_RX) {
		device_event(f, &r);
		return;
	}
	while (pending(f, &r) != 0) {
		uint32_t len;
		take(f, &r, &c);
		len = c.wlen;
		if (f->engine == FZ_ENGINE_BLK) {
			len = blk_request(f, &c);
		} else if (f->engine == FZ_ENGINE_NET && net_kind(f, qi) == VIRTIO_NET_Q_TX) {
			/* DRV-5.1.6.5.6.1-3/4: only the pairs VQ_PAIRS_SET enabled. */
			if (qi / 2u >= f->net_enabled && !f->lied)
				FZ_ABORT("net: transmit on transmitq%u with %u pair(s) enabled", qi / 2u + 1u,
				         f->net_enabled);
			net_tx(f, &c);
		} else if (f->engine == FZ_ENGINE_RNG) {
			len = rng_fill(f, &c);
		} else if (f->engine == FZ_ENGINE_NET && net_kind(f, qi) == VIRTIO_NET_Q_CTRL) {
			net_ctrl_mq(f, &c);
			/* The ack: the last writable byte. */
			if (c.n && c.s[c.n - 1].w && c.s[c.n - 1].len) {
				c.s[c.n - 1].p[c.s[c.n - 1].len - 1] = VIRTIO_NET_OK;
				len = 1;
			}
		}
		complete(f, &r, &c, len);
	}
	device_event(f, &r);
}

void fz_notify(struct fz *f, unsigned qi)
{
	struct fz_queue *q;

	if (qi >= FZ_QMAX)
		return;
	q = &f->q[qi];
	if (!q->ready || !(f->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	/* Against what the device reported, which may have been a lie: only
	 * the spec's limit holds for sure. */
	if (q->num == 0 || q->num > 32768)
		FZ_ABORT("notify on a queue of size %u", q->num);
	fz_device_work(f, qi);
}

void fz_queue_pfn(struct fz *f, struct fz_queue *q, uint32_t pfn, uint32_t page, uint32_t align)
{
	q->pfn = pfn;
	q->ready = false;
	if (pfn == 0)
		return;
	if (page == 0 || (page & (page - 1)) || align == 0 || (align & (align - 1)))
		FZ_ABORT("queue PFN set with page size %u and alignment %u", page, align);
	if (q->num == 0 || q->num > 32768)
		FZ_ABORT("queue PFN set on a queue of size %u", q->num);
	q->desc = (uint64_t)pfn * page;
	q->avail = q->desc + 16ull * q->num;
	q->used = (q->avail + 2ull * (3 + q->num) + align - 1) & ~(uint64_t)(align - 1);
	fz_queue_restart(f, q);
	q->ready = true;
}

void fz_dev_reset(struct fz *f)
{
	nheld = 0; /* the device can no longer reach what it held */
	f->nheld = 0;
	f->held_overflow = false;
	f->status = 0;
	f->isr = 0;
	f->qsel = 0;
	f->driver_features = 0;
	f->net_enabled = 1; /* one pair after a reset */
	for (unsigned i = 0; i < FZ_QMAX; i++) {
		struct fz_queue *q = &f->q[i];
		q->num = 0;
		q->ready = false;
		q->desc = q->avail = q->used = 0;
		fz_queue_restart(f, q);
		q->pfn = 0;
		q->msix = VIRTIO_PCI_NO_VECTOR;
		q->lied = false;
		q->told = 0;
	}
	f->pci.msix_config = VIRTIO_PCI_NO_VECTOR;
}

void fz_set_status(struct fz *f, uint32_t v)
{
	if ((v & 0xff) == 0)
		fz_dev_reset(f);
	else
		f->status = v & 0xff;
}

struct fz_queue *fz_selected(struct fz *f)
{
	return f->qsel < FZ_QMAX ? &f->q[f->qsel] : NULL;
}

void fz_set_half(uint64_t *r, bool high, uint32_t v)
{
	*r = high ? (*r & 0xffffffffull) | (uint64_t)v << 32 : (*r & ~0xffffffffull) | v;
}

/* ---- net ---- */

void fz_net_device(struct fz *f, uint32_t qmax)
{
	static const uint8_t mac[VLAB_ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	f->device_id = VIRTIO_ID_NET;
	f->engine = FZ_ENGINE_NET;
	nheld = 0;
	f->features = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_NET_F_MAC) |
	              VLAB_BIT(VIRTIO_NET_F_STATUS) | VLAB_BIT(VIRTIO_NET_F_MTU) |
	              VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF) | VLAB_BIT(VIRTIO_NET_F_CTRL_VQ) |
	              VLAB_BIT(VIRTIO_NET_F_CTRL_RX) | VLAB_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
	              VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM) | f->ring_offer;
	memset(f->config, 0, sizeof f->config);
	memcpy(f->config + VIRTIO_NET_CFG_MAC, mac, sizeof mac);
	fz_st(f->config + VIRTIO_NET_CFG_STATUS, 2, VIRTIO_NET_S_LINK_UP);
	fz_st(f->config + VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2, 1);
	fz_st(f->config + VIRTIO_NET_CFG_MTU, 2, VLAB_NET_MTU_DEFAULT);
	for (unsigned i = 0; i < FZ_NQ; i++)
		f->q[i].max = qmax;
	f->net_pairs = 0;
	f->net_enabled = 1;
	f->net_rxq = 0;
}

void fz_net_mq(struct fz *f, unsigned pairs, uint16_t claimed)
{
	f->net_pairs = pairs < 1 ? 1 : pairs > FZ_NET_PAIRS ? FZ_NET_PAIRS : pairs;
	f->features |= VLAB_BIT(VIRTIO_NET_F_MQ);
	fz_st(f->config + VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2, claimed);
	if (claimed != f->net_pairs)
		f->lied = true; /* the config says otherwise */
	for (unsigned i = 1; i < 2 * f->net_pairs + 1; i++)
		f->q[i].max = f->q[0].max;
}

/* Byte k of the writable part of a chain, or NULL. */
static uint8_t *wbyte(struct chain *c, uint32_t k)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (!c->s[i].w)
			continue;
		if (k < c->s[i].len)
			return c->s[i].p + k;
		k -= c->s[i].len;
	}
	return NULL;
}

static bool net_rx(struct fz *f, uint32_t len)
{
	static struct chain c[FZ_RX_CHAINS];
	static uint32_t used_len[FZ_RX_CHAINS];
	/* MQ: the queue the target chose (even, below the control queue). */
	const unsigned qi = f->net_rxq < FZ_QMAX && net_kind(f, f->net_rxq) == VIRTIO_NET_Q_RX ? f->net_rxq : 0;
	struct fz_queue *q = &f->q[qi];
	bool mrg = (f->driver_features & VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	uint32_t hdr_len = net_hdr_len(f);
	uint32_t total = hdr_len + len, k = 0;
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
	unsigned nb = 0;
	struct ring r;

	if (f->engine != FZ_ENGINE_NET || !q->ready || !(f->status & VIRTIO_STATUS_DRIVER_OK))
		return false;
	r = ring_of(f, q);
	if (pending(f, &r) == 0)
		return false;
	/* A queue beyond the enabled pairs: DEV-5.1.6.5.6.2-2 broken. */
	if (qi / 2u >= f->net_enabled)
		f->lied = true;
	/* Fill buffers in order; without MRG_RXBUF the frame is one buffer
	 * (cut short if it does not fit: that is a lie the driver sees). */
	while (k < total && nb < FZ_RX_CHAINS && pending(f, &r) != 0 && (mrg || nb == 0)) {
		uint32_t w = 0;
		take(f, &r, &c[nb]);
		/* Frame bytes: a fill per segment (the header is written below). */
		for (unsigned i = 0; i < c[nb].n && k < total; i++) {
			struct seg *sg = &c[nb].s[i];
			uint32_t m = sg->len < total - k ? sg->len : total - k;
			if (!sg->w)
				continue;
			memset(sg->p, (int)(k * 7u + 1u) & 0xff, m);
			if (k + m > hdr_len && k + m - hdr_len <= FZ_NET_FRAME) {
				uint32_t from = k > hdr_len ? k - hdr_len : 0;
				memset(f->net_rx + from, (int)(k * 7u + 1u) & 0xff, k + m - hdr_len - from);
			}
			k += m;
			w += m;
		}
		used_len[nb++] = w;
	}
	if (k < total)
		f->lied = true; /* the frame did not fit: cut short */
	f->net_rx_len = k > hdr_len ? k - hdr_len : 0;
	fz_st(hdr + VIRTIO_NET_HDR_OFF_NUM_BUFFERS, 2, mrg ? nb : 0);
	uint8_t lie = fz_ctl8(f);
	if (lie >= RX_LIE_HEADER)
		f->lied = true;
	switch (lie) {
	case RX_LIE_NUM_BUFFERS:
		fz_st(hdr + VIRTIO_NET_HDR_OFF_NUM_BUFFERS, 2, fz_pay(f, 2));
		break;
	case RX_LIE_GSO:
		hdr[VIRTIO_NET_HDR_OFF_GSO_TYPE] = (uint8_t)fz_pay(f, 1);
		break;
	case RX_LIE_HEADER:
		for (unsigned i = 0; i < hdr_len; i++)
			hdr[i] = (uint8_t)fz_pay(f, 1);
		break;
	default:
		break;
	}
	for (uint32_t i = 0; i < hdr_len; i++) {
		uint8_t *b = wbyte(&c[0], i);
		if (b)
			*b = hdr[i];
	}
	for (unsigned i = 0; i < nb; i++)
		complete(f, &r, &c[i], used_len[i]);
	return true;
}

/* What the target learns of it is one of its choices (fuzz traces); the
 * device is absent in replay. */
bool fz_net_rx(struct fz *f, uint32_t len)
{
	return fz_choice(f, 1, !f->replay && net_rx(f, len)) != 0;
}

void fz_net_link(struct fz *f, bool up)
{
	fz_st(f->config + VIRTIO_NET_CFG_STATUS, 2, up ? VIRTIO_NET_S_LINK_UP : 0);
	f->generation++;
	f->isr |= VIRTIO_ISR_CONFIG;
}
