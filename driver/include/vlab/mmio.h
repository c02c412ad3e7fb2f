/* SPDX-License-Identifier: MIT */
/* virtio-mmio transport (4.2), versions 1 (legacy) and 2. */
#ifndef VLAB_MMIO_H
#define VLAB_MMIO_H

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_SIZE 0x200u       /* registers + config window */

/* Register offsets (4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028 /* legacy */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c /* legacy */
#define VIRTIO_MMIO_QUEUE_PFN 0x040   /* legacy */
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

/* Legacy page size the driver programs into GuestPageSize. */
#define VLAB_MMIO_LEGACY_PAGE 4096u

struct vlab_mmio {
	struct vlab_virtio_dev vdev;
	vlab_addr_t base;
	uint32_t version; /* 1 or 2 */
	char name[32];
};

enum vlab_mmio_flags {
	VLAB_MMIO_ALLOW_LEGACY = 1u << 0, /* accept Version 1 devices (4.2.4) */
};

/*
 * Probe the slot at base: magic (DRV-4.2.2.2-6), version (2; 1 only with
 * VLAB_MMIO_ALLOW_LEGACY, DRV-4.2.2.2-8), device ID (0 = empty slot,
 * VLAB_ENODEV without an error log, DRV-4.2.2.2-10/11).  On success m->vdev
 * is ready for vlab_virtio_begin() and a device driver.
 */
int vlab_mmio_probe(struct vlab_mmio *m, const struct vlab_platform *plat, vlab_addr_t base,
                    unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
