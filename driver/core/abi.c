/* SPDX-License-Identifier: MIT */
/* The library's side of vlab_abi_ok (vlab/abi.h). */
#include "vlab/abi.h"

#include "vlab/err.h"
#include "vlab/virtio.h"

int vlab_abi_check(const struct vlab_platform *plat, const struct vlab_abi *caller)
{
	static const struct vlab_abi lib = VLAB_ABI_HERE;
	static const char *const what[VLAB_ABI_WORDS] = {
		"VLAB_VQ_SIZE_MAX", "VLAB_VQ_IND_TABLES", "VLAB_VQ_IND_MAX", "VLAB_VQ_IND_MIN",
		"VLAB_BLK_MAX_INFLIGHT", "VLAB_BLK_MAX_SEGS", "VLAB_NET_RX_BUFS", "VLAB_NET_TX_SLOTS",
		"sizeof(struct vlab_vq)", "sizeof(struct vlab_blk)", "sizeof(struct vlab_net)",
		"sizeof(struct vlab_fs)", "VLAB_CFG_WORD (the VLAB_CFG_* options, vlab/config.h)",
	};
	if (caller == NULL)
		return VLAB_EINVAL;
	for (unsigned i = 0; i < VLAB_ABI_WORDS; i++) {
		const uint32_t a = lib.v[i], b = caller->v[i];
		if (a == b)
			continue;
		if (plat)
			vlab_log(plat, VLAB_LOG_ERROR, "abi: %s is %u in the caller, %u in the library: rebuild "
			         "one of them with the other's settings", what[i], (unsigned)b, (unsigned)a);
		return VLAB_EINVAL;
	}
	return VLAB_OK;
}
