/* SPDX-License-Identifier: MIT */
/*
 * What the split (vq.c) and packed (vq_packed.c) virtqueue engines share:
 * guest memory through the env's accessors, little-endian fields, violation
 * records that break the queue, the walk that turns descriptors into a
 * chain, indirect-table checks and the used buffer notification.
 */
#ifndef DM_VQ_INTERNAL_H
#define DM_VQ_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devmodel/vq.h"

#define DM_VQ_IN_USE_CAP ((unsigned)(sizeof(((struct dm_vq *)0)->in_use) * 8))

bool dm_vq_mem_read(struct dm_vq *q, uint64_t addr, void *buf, size_t len);
bool dm_vq_mem_write(struct dm_vq *q, uint64_t addr, const void *buf, size_t len);
bool dm_vq_read16(struct dm_vq *q, uint64_t addr, uint16_t *v);
bool dm_vq_write16(struct dm_vq *q, uint64_t addr, uint16_t v);

static inline uint16_t dm_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t dm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t dm_le64(const uint8_t *p) { return dm_le32(p) | ((uint64_t)dm_le32(p + 4) << 32); }
static inline void dm_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void dm_put32(uint8_t *p, uint32_t v)
{
	dm_put16(p, (uint16_t)v);
	dm_put16(p + 2, (uint16_t)(v >> 16));
}

/* Record a violation at "q<index>" (the queue goes on). */
void dm_vq_violation(struct dm_vq *q, const char *req_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record a violation at "q<index>" and stop processing the queue until
 * reset; returns -1. */
int dm_vq_breach(struct dm_vq *q, const char *req_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define dm_vq_checked(q, req_id) dm_virtio_checked((q)->dv, req_id)
/* A check whose ID is the split or the packed ring's: the choice made here,
 * so that each is a literal at its site (DM_REQ_NUM numbers it once). */
#define dm_vq_checked_by_ring(q, split_id, packed_id)                                                \
	((q)->packed ? dm_vq_checked((q), packed_id) : dm_vq_checked((q), split_id))
/* Is [addr, addr+len) all guest RAM (every byte probed)? */
bool dm_vq_range_in_ram(struct dm_vq *q, uint64_t addr, uint64_t len);

/* A queue's three parts aligned (16 for descriptors, drv_align and
 * dev_align for the driver and device areas; align_id names the rule) and
 * inside guest RAM (DRV-6.1-5).  0, or -1 with the queue broken. */
int dm_vq_check_layout(struct dm_vq *q, const char *align_id, unsigned drv_align, unsigned dev_align,
                       uint64_t drv_len, uint64_t dev_len);

/* One chain being walked. */
struct dm_vq_walk {
	struct dm_chain *c;
	unsigned ndesc;     /* descriptors counted against the queue size */
	bool seen_writable;
	uint64_t total;
};
void dm_vq_walk_start(struct dm_vq_walk *w, struct dm_chain *c, uint16_t head);
/* Append one descriptor's buffer (the checks common to ring and indirect
 * descriptors, under the ring kind's requirement IDs). */
int dm_vq_add_seg(struct dm_vq *q, struct dm_vq_walk *w, uint64_t addr, uint32_t len, uint16_t flags);
/* An indirect table's length and place (both ring kinds). */
int dm_vq_indirect_table_ok(struct dm_vq *q, struct dm_vq_walk *w, uint64_t table, uint32_t len);
/* Every buffer of the walked chain inside guest RAM (DRV-6.1-5). */
int dm_vq_buffers_in_ram(struct dm_vq *q, const struct dm_chain *c);
/* After a used write: send the used buffer notification, or count it as
 * suppressed. */
void dm_vq_interrupt(struct dm_vq *q, bool notify);

/* What the used write does under the fault plan (DM_FAULT_USED_ID, _LEN,
 * _ID_DUP, _IDX_JUMP): the id and length written, how many copies, how far
 * the used index jumps beyond them.  wlen: the chain's writable bytes, when
 * known. */
struct dm_used_plan {
	uint32_t id, len;
	unsigned copies;
	uint64_t extra;
};
void dm_vq_used_plan(struct dm_vq *q, struct dm_used_plan *p, uint32_t id, uint32_t len,
                     bool have_wlen, uint32_t wlen);

/* The packed engine (vq_packed.c), reached through dm_vq_enable/pop/push. */
int dm_vq_packed_enable(struct dm_vq *q);
int dm_vq_packed_pop(struct dm_vq *q, struct dm_chain *c);
void dm_vq_packed_push(struct dm_vq *q, uint16_t id, uint32_t len);

#endif
