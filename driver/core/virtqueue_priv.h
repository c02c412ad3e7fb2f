/* SPDX-License-Identifier: MIT */
/*
 * What the two ring kinds share (driver/core/virtqueue_split.c dispatches to
 * driver/core/virtqueue_packed.c on a packed queue): byte order, the checks
 * of a new chain, the indirect table pool.  Private to driver/core.
 */
#ifndef VLAB_VIRTQUEUE_PRIV_H
#define VLAB_VIRTQUEUE_PRIV_H

#include "vlab/virtqueue.h"

/* Modern rings are little-endian; a legacy interface uses guest-native
 * order.  The platform's shm reads return the value as stored in memory. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
	__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VLAB_CPU_BIG_ENDIAN 1
#else
#define VLAB_CPU_BIG_ENDIAN 0
#endif

static inline uint16_t vq_swap16(uint16_t v)
{
	return (uint16_t)((v >> 8) | (v << 8));
}

static inline uint32_t vq_swap32(uint32_t v)
{
	return ((v >> 24) & 0xffu) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static inline bool vq_need_swap(const struct vlab_vq *vq)
{
	return VLAB_CPU_BIG_ENDIAN && !vq->dev->legacy;
}

static inline uint16_t vq16(const struct vlab_vq *vq, uint16_t v)
{
	return vq_need_swap(vq) ? vq_swap16(v) : v;
}

static inline uint32_t vq32(const struct vlab_vq *vq, uint32_t v)
{
	return vq_need_swap(vq) ? vq_swap32(v) : v;
}

static inline uint64_t vq64(const struct vlab_vq *vq, uint64_t v)
{
	return vq_need_swap(vq) ? ((uint64_t)vq_swap32((uint32_t)v) << 32) | vq_swap32((uint32_t)(v >> 32))
	                        : v;
}

/*
 * The checks every ring kind makes on a new chain: 0 with *writable set,
 * VLAB_EINVAL (empty, longer than the queue (DRV-2.7.5.3.1-3, DRV-2.8.17-2),
 * total length above 2^32 - 1 (DRV-2.7.5.2-1)), VLAB_EBROKEN.
 */
int vlab_vqi_check_chain(const struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                   const struct vlab_sg *in, unsigned n_in, uint32_t *writable);
#if VLAB_CFG_INDIRECT
/* The indirect table pool: allocated at setup when INDIRECT_DESC was
 * negotiated (0, or VLAB_ENOMEM), freed at teardown. */
int vlab_vqi_ind_setup(struct vlab_vq *vq);
void vlab_vqi_ind_teardown(struct vlab_vq *vq);
/* A free table for a chain of n descriptors, or -1 when the chain should
 * take ring slots (too short to be worth it, too long, no table free,
 * INDIRECT_DESC not negotiated: DRV-2.7.5.3.1-1, DRV-2.8.19-1). */
int vlab_vqi_ind_take(struct vlab_vq *vq, unsigned n);
void vlab_vqi_ind_put(struct vlab_vq *vq, unsigned table);
/* Write table t: out[] then in[] (DRV-2.7.4.2-1, DRV-2.8.17-3), never
 * INDIRECT inside (DRV-2.7.5.3.1-2, DRV-2.8.19-2); split tables link entry
 * i to i+1 with NEXT (DRV-2.7.5.3.1-5), packed ones carry WRITE only.
 * Returns the table's device address; its length is 16 * (n_out + n_in). */
vlab_addr_t vlab_vqi_ind_fill(struct vlab_vq *vq, unsigned t, const struct vlab_sg *out, unsigned n_out,
                        const struct vlab_sg *in, unsigned n_in);
#else /* compiled out (vlab/config.h): never negotiated, no table ever taken */
static inline int vlab_vqi_ind_setup(struct vlab_vq *vq) { (void)vq; return VLAB_OK; }
static inline void vlab_vqi_ind_teardown(struct vlab_vq *vq) { (void)vq; }
static inline int vlab_vqi_ind_take(struct vlab_vq *vq, unsigned n) { (void)vq; (void)n; return -1; }
static inline void vlab_vqi_ind_put(struct vlab_vq *vq, unsigned table) { (void)vq; (void)table; }
static inline vlab_addr_t vlab_vqi_ind_fill(struct vlab_vq *vq, unsigned t, const struct vlab_sg *out,
                                            unsigned n_out, const struct vlab_sg *in, unsigned n_in)
{
	(void)vq; (void)t; (void)out; (void)n_out; (void)in; (void)n_in;
	return 0;
}
#endif

/* The free list (split: descriptors; packed: buffer IDs) as a FIFO of
 * 0..size-1, all free. */
void vlab_vqi_init_free(struct vlab_vq *vq, uint16_t size);
/* Ring memory set up in vq: the indirect pool, then the transport enables
 * the queue.  On failure everything is freed and vq cleared. */
int vlab_vqi_go_live(struct vlab_vq *vq, void *mem, size_t total);
/* A chain is exposed: its state (cookie, writable bytes, n ring slots,
 * indirect table or -1) recorded as outstanding, counted. */
void vlab_vqi_start(struct vlab_vq *vq, struct vlab_vq_head_state *hs, void *cookie, uint32_t writable, unsigned n,
                    int table);
/* A chain is done: its table back to the pool, cookie and length out, its
 * state cleared, counted. */
void vlab_vqi_finish(struct vlab_vq *vq, struct vlab_vq_head_state *hs, uint32_t ulen, void **cookie,
                     uint32_t *len);

#if VLAB_CFG_PACKED
/* The packed ring, behind the same API (the split ring's entry points
 * dispatch here when vq->kind is VLAB_VQ_PACKED). */
int vlab_vqi_packed_setup(struct vlab_vq *vq, uint16_t size);
int vlab_vqi_packed_add(struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                  const struct vlab_sg *in, unsigned n_in, void *cookie);
int vlab_vqi_packed_kick(struct vlab_vq *vq);
int vlab_vqi_packed_pop(struct vlab_vq *vq, void **cookie, uint32_t *len);
void vlab_vqi_packed_disable_cb(struct vlab_vq *vq);
bool vlab_vqi_packed_enable_cb(struct vlab_vq *vq);
#else /* compiled out (vlab/config.h): RING_PACKED never negotiated, no queue is packed */
static inline int vlab_vqi_packed_setup(struct vlab_vq *vq, uint16_t size) { (void)vq; (void)size; return VLAB_ENOTSUP; }
static inline int vlab_vqi_packed_add(struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                                      const struct vlab_sg *in, unsigned n_in, void *cookie)
{
	(void)vq; (void)out; (void)n_out; (void)in; (void)n_in; (void)cookie;
	return VLAB_ENOTSUP;
}
static inline int vlab_vqi_packed_kick(struct vlab_vq *vq) { (void)vq; return VLAB_ENOTSUP; }
static inline int vlab_vqi_packed_pop(struct vlab_vq *vq, void **cookie, uint32_t *len)
{
	(void)vq; (void)cookie; (void)len;
	return VLAB_ENOTSUP;
}
static inline void vlab_vqi_packed_disable_cb(struct vlab_vq *vq) { (void)vq; }
static inline bool vlab_vqi_packed_enable_cb(struct vlab_vq *vq) { (void)vq; return false; }
#endif

#endif
