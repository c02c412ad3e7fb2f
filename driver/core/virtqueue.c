/* SPDX-License-Identifier: MIT */
/*
 * What the split and the packed ring share: the checks of a new chain and
 * the indirect table pool (2.7.5.3, 2.8.19).  A table belongs to one chain
 * from vlab_vq_add until the device used that chain (or was reset); it is
 * written by the driver and never read back.
 */
#include "virtqueue_priv.h"

int vlab_vqi_check_chain(const struct vlab_vq *vq, const struct vlab_sg *out, unsigned n_out,
                   const struct vlab_sg *in, unsigned n_in, uint32_t *writable)
{
	if (vq->dev->broken)
		return VLAB_EBROKEN;
	if ((out == NULL && n_out != 0) || (in == NULL && n_in != 0))
		return VLAB_EINVAL;
	/* DRV-2.7.5.3.1-3, DRV-2.8.17-2: no chain longer than the queue,
	 * counting indirect entries: it could never fit. */
	if (n_out > vq->size || n_in > vq->size || n_out + n_in > vq->size)
		return VLAB_EINVAL;
	if (n_out + n_in == 0)
		return VLAB_EINVAL;

	/* DRV-2.7.5.2-1: the chain's total length stays below 2^32. */
	uint64_t total = 0, w = 0;
	for (unsigned i = 0; i < n_out; i++)
		total += out[i].len;
	for (unsigned i = 0; i < n_in; i++)
		w += in[i].len;
	total += w;
	if (total > 0xffffffffull)
		return VLAB_EINVAL;
	*writable = (uint32_t)w;
	return VLAB_OK;
}

#if VLAB_CFG_INDIRECT /* vlab/config.h */
static unsigned ind_tables(const struct vlab_vq *vq)
{
	return vq->size < VLAB_VQ_IND_TABLES ? vq->size : VLAB_VQ_IND_TABLES;
}

int vlab_vqi_ind_setup(struct vlab_vq *vq)
{
	const struct vlab_platform *p = vq->dev->plat;
	if (!vlab_virtio_has(vq->dev, VIRTIO_F_RING_INDIRECT_DESC))
		return VLAB_OK;
	unsigned n = ind_tables(vq);
	size_t len = (size_t)n * VLAB_VQ_IND_MAX * sizeof(struct vlab_pvirtq_desc);
	vlab_addr_t dev = 0;
	void *mem = p->ops->dma_alloc(p->ctx, len, 16, &dev);
	if (mem == NULL)
		return VLAB_ENOMEM;
	if ((dev & 15u) != 0 || dev + len < dev) {
		p->ops->dma_free(p->ctx, mem, len);
		return VLAB_EINVAL; /* the platform broke its dma_alloc contract */
	}
	vq->ind = (volatile struct vlab_pvirtq_desc *)mem;
	vq->ind_dev = dev;
	vq->ind_len = len;
	vq->ind_free = n >= 32 ? 0xffffffffu : (1u << n) - 1u;
	return VLAB_OK;
}

void vlab_vqi_ind_teardown(struct vlab_vq *vq)
{
	if (vq->ind != NULL && vq->dev != NULL) {
		const struct vlab_platform *p = vq->dev->plat;
		p->ops->dma_free(p->ctx, (void *)(uintptr_t)vq->ind, vq->ind_len);
	}
	vq->ind = NULL;
	vq->ind_len = 0;
	vq->ind_free = 0;
}

int vlab_vqi_ind_take(struct vlab_vq *vq, unsigned n)
{
	if (vq->ind == NULL || n < VLAB_VQ_IND_MIN || n > VLAB_VQ_IND_MAX || n > vq->size)
		return -1;
	for (unsigned t = 0; t < ind_tables(vq); t++) {
		if (vq->ind_free & (1u << t)) {
			vq->ind_free &= ~(1u << t);
			return (int)t;
		}
	}
	return -1;
}

void vlab_vqi_ind_put(struct vlab_vq *vq, unsigned table)
{
	vq->ind_free |= 1u << table;
}

vlab_addr_t vlab_vqi_ind_fill(struct vlab_vq *vq, unsigned t, const struct vlab_sg *out, unsigned n_out,
                        const struct vlab_sg *in, unsigned n_in)
{
	volatile struct vlab_pvirtq_desc *tab = vq->ind + (size_t)t * VLAB_VQ_IND_MAX;
	bool split = vq->kind == VLAB_VQ_SPLIT;
	unsigned n = n_out + n_in;
	for (unsigned i = 0; i < n; i++) {
		const struct vlab_sg *sg = i < n_out ? &out[i] : &in[i - n_out];
		uint16_t flags = i < n_out ? 0 : VIRTQ_DESC_F_WRITE;
		tab[i].addr = vq64(vq, sg->addr);
		tab[i].len = vq32(vq, sg->len);
		if (split) {
			/* struct vlab_virtq_desc: flags then next in the last 4 bytes. */
			volatile struct vlab_virtq_desc *sd = (volatile struct vlab_virtq_desc *)&tab[i];
			bool last = i + 1 == n;
			sd->flags = vq16(vq, (uint16_t)(flags | (last ? 0 : VIRTQ_DESC_F_NEXT)));
			sd->next = vq16(vq, (uint16_t)(last ? 0 : i + 1));
		} else {
			tab[i].id = 0;
			tab[i].flags = vq16(vq, flags);
		}
	}
	return vq->ind_dev + (vlab_addr_t)t * VLAB_VQ_IND_MAX * sizeof(struct vlab_pvirtq_desc);
}
#endif

void vlab_vqi_init_free(struct vlab_vq *vq, uint16_t size)
{
	for (uint32_t i = 0; i < size; i++)
		vq->next[i] = (uint16_t)(i + 1 < size ? i + 1 : 0);
	vq->free_head = 0;
	vq->free_tail = (uint16_t)(size - 1);
	vq->num_free = size;
}

int vlab_vqi_go_live(struct vlab_vq *vq, void *mem, size_t total)
{
	struct vlab_virtio_dev *d = vq->dev;
	const struct vlab_platform *p = d->plat;
	int rc = vlab_vqi_ind_setup(vq);
	if (rc == 0)
		rc = d->ops->queue_enable(d, vq->index, &vq->layout);
	if (rc != 0) {
		vlab_vqi_ind_teardown(vq);
		p->ops->dma_free(p->ctx, mem, total);
		vlab_memset(vq, 0, sizeof(*vq));
		return rc;
	}
	vq->live = true;
	return VLAB_OK;
}

void vlab_vqi_start(struct vlab_vq *vq, struct vlab_vq_head_state *hs, void *cookie, uint32_t writable, unsigned n,
                    int table)
{
	hs->cookie = cookie;
	hs->writable = writable;
	hs->ndesc = (uint16_t)n;
	hs->table = (uint8_t)(table + 1);
	hs->outstanding = true;
	vq->chains++;
	vq->slots += n;
}

void vlab_vqi_finish(struct vlab_vq *vq, struct vlab_vq_head_state *hs, uint32_t ulen, void **cookie,
                     uint32_t *len)
{
	if (hs->table != 0)
		vlab_vqi_ind_put(vq, hs->table - 1u);
	if (cookie != NULL)
		*cookie = hs->cookie;
	if (len != NULL)
		*len = ulen;
	hs->outstanding = false;
	hs->cookie = NULL;
	hs->writable = 0;
	hs->ndesc = 0;
	hs->table = 0;
	vq->completions++;
}
