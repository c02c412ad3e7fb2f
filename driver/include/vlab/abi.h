/* SPDX-License-Identifier: MIT */
/*
 * The library and its caller agree on the compile-time caps.
 *
 * VLAB_VQ_SIZE_MAX, VLAB_VQ_IND_*, VLAB_BLK_MAX_*, VLAB_NET_RX_BUFS and
 * VLAB_NET_TX_SLOTS may be set at build time, and they size the public
 * structs the caller allocates (struct vlab_vq and the device structs that
 * embed it); so may the VLAB_CFG_* options of vlab/config.h, which decide
 * what the library does.  A caller built with other values than the library would hand
 * it structs of the wrong size: memory corruption, not an error.  Call
 * vlab_abi_ok() once, before the first init: the inline below is compiled in
 * the caller, so it reports the caller's view, and the library compares it
 * with its own (docs/porting.md).
 */
#ifndef VLAB_ABI_H
#define VLAB_ABI_H

#include "vlab/blk.h"
#include "vlab/fs.h"
#include "vlab/net.h"
#include "vlab/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLAB_ABI_WORDS 13
/* In this order: VLAB_VQ_SIZE_MAX, VLAB_VQ_IND_TABLES, VLAB_VQ_IND_MAX,
 * VLAB_VQ_IND_MIN, VLAB_BLK_MAX_INFLIGHT, VLAB_BLK_MAX_SEGS,
 * VLAB_NET_RX_BUFS, VLAB_NET_TX_SLOTS, then the sizes of struct vlab_vq,
 * vlab_blk, vlab_net and vlab_fs, then VLAB_CFG_WORD (vlab/config.h). */
struct vlab_abi {
	uint32_t v[VLAB_ABI_WORDS];
};

/* The caps and struct sizes as the code expanding it sees them. */
#define VLAB_ABI_HERE                                                                         \
	{{(uint32_t)(VLAB_VQ_SIZE_MAX), (uint32_t)(VLAB_VQ_IND_TABLES), (uint32_t)(VLAB_VQ_IND_MAX), \
	 (uint32_t)(VLAB_VQ_IND_MIN), (uint32_t)(VLAB_BLK_MAX_INFLIGHT),                           \
	 (uint32_t)(VLAB_BLK_MAX_SEGS), (uint32_t)(VLAB_NET_RX_BUFS), (uint32_t)(VLAB_NET_TX_SLOTS), \
	 (uint32_t)sizeof(struct vlab_vq), (uint32_t)sizeof(struct vlab_blk),                       \
	 (uint32_t)sizeof(struct vlab_net), (uint32_t)sizeof(struct vlab_fs), (uint32_t)(VLAB_CFG_WORD)}}

/* 0 when caller's caps and sizes are the library's; VLAB_EINVAL otherwise
 * (logged through plat when it is not NULL). */
int vlab_abi_check(const struct vlab_platform *plat, const struct vlab_abi *caller);

static inline int vlab_abi_ok(const struct vlab_platform *plat)
{
	const struct vlab_abi here = VLAB_ABI_HERE;
	return vlab_abi_check(plat, &here);
}

#ifdef __cplusplus
}
#endif
#endif
