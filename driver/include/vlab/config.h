/* SPDX-License-Identifier: MIT */
/*
 * Compile-time configuration: what an embedder leaves out of the drivers.
 *
 * Every option is a VLAB_CFG_* macro, 1 (in) or 0 (out), defaulting to 1:
 * the default build has everything.  Set them on the compiler's command
 * line (-DVLAB_CFG_PACKED=0), from CMake (the options of the same names,
 * driver/CMakeLists.txt, which pass them on to everything linking the
 * library) or in the embedder's own build; the library and every caller
 * must see the same values (vlab_abi_ok, vlab/abi.h, compares them).
 *
 * A feature compiled out is never negotiated: the driver refuses it and
 * stays correct against a device that offers it.  A transport or device
 * compiled out leaves its source files empty, and its functions are not
 * defined (a caller that uses them does not link).  docs/porting.md
 * "Compile-time configuration" lists the options and what each saves.
 */
#ifndef VLAB_CONFIG_H
#define VLAB_CONFIG_H

/* Transports. */
#ifndef VLAB_CFG_MMIO /* virtio-mmio (driver/transport/mmio.c) */
#define VLAB_CFG_MMIO 1
#endif
#ifndef VLAB_CFG_MMIO_LEGACY /* virtio-mmio Version 1 (legacy) devices */
#define VLAB_CFG_MMIO_LEGACY VLAB_CFG_MMIO
#endif
#ifndef VLAB_CFG_PCI /* virtio-pci (driver/transport/pci*.c) */
#define VLAB_CFG_PCI 1
#endif
#ifndef VLAB_CFG_PCI_LEGACY /* legacy virtio-pci (and transitional devices through it) */
#define VLAB_CFG_PCI_LEGACY VLAB_CFG_PCI
#endif
#ifndef VLAB_CFG_PCI_BRIDGE /* vlab_pci_scan numbers and opens PCI-to-PCI bridges */
#define VLAB_CFG_PCI_BRIDGE VLAB_CFG_PCI
#endif

/* Ring features (2.7, 2.8): never negotiated when out. */
#ifndef VLAB_CFG_PACKED /* VIRTIO_F_RING_PACKED (driver/core/virtqueue_packed.c) */
#define VLAB_CFG_PACKED 1
#endif
#ifndef VLAB_CFG_INDIRECT /* VIRTIO_F_RING_INDIRECT_DESC */
#define VLAB_CFG_INDIRECT 1
#endif
#ifndef VLAB_CFG_EVENT_IDX /* VIRTIO_F_RING_EVENT_IDX */
#define VLAB_CFG_EVENT_IDX 1
#endif

/* Devices and what is built on them. */
#ifndef VLAB_CFG_BLK /* virtio-blk (driver/blk) */
#define VLAB_CFG_BLK 1
#endif
#ifndef VLAB_CFG_BLK_EXTRA /* blk: GET_ID, CONFIG_WCE (vlab_blk_set_writeback), TOPOLOGY, GEOMETRY */
#define VLAB_CFG_BLK_EXTRA VLAB_CFG_BLK
#endif
#ifndef VLAB_CFG_BLK_DWZ /* blk: DISCARD and WRITE_ZEROES (vlab_blk_discard, vlab_blk_write_zeroes) */
#define VLAB_CFG_BLK_DWZ VLAB_CFG_BLK
#endif
#ifndef VLAB_CFG_NET /* virtio-net (driver/net) */
#define VLAB_CFG_NET 1
#endif
#ifndef VLAB_CFG_NET_EXTRA /* net: the control queue (CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, MQ), CSUM, GUEST_CSUM */
#define VLAB_CFG_NET_EXTRA VLAB_CFG_NET
#endif
#ifndef VLAB_CFG_RNG /* virtio-rng (driver/rng) */
#define VLAB_CFG_RNG 1
#endif
#ifndef VLAB_CFG_PART /* partition tables on a disk (driver/part): needs BLK */
#define VLAB_CFG_PART VLAB_CFG_BLK
#endif
#ifndef VLAB_CFG_FS /* FAT and ext2/3/4 readers (driver/fs): needs PART */
#define VLAB_CFG_FS VLAB_CFG_PART
#endif
#ifndef VLAB_CFG_BUS /* the bus and registry (driver/core/bus.c, registry.c) */
#define VLAB_CFG_BUS 1
#endif

/* Log text: 0 drops every vlab_log line (and the formatter behind it);
 * errors are still returned, only their explanation is gone. */
#ifndef VLAB_CFG_LOG
#define VLAB_CFG_LOG 1
#endif

#if (VLAB_CFG_MMIO_LEGACY && !VLAB_CFG_MMIO) || \
	((VLAB_CFG_PCI_LEGACY || VLAB_CFG_PCI_BRIDGE) && !VLAB_CFG_PCI)
#error "vlab/config.h: a legacy or bridge option is on without its transport (VLAB_CFG_MMIO, VLAB_CFG_PCI)"
#endif
#if (VLAB_CFG_BLK_EXTRA || VLAB_CFG_BLK_DWZ || VLAB_CFG_PART) && !VLAB_CFG_BLK
#error "vlab/config.h: VLAB_CFG_BLK_EXTRA, VLAB_CFG_BLK_DWZ and VLAB_CFG_PART need VLAB_CFG_BLK"
#endif
#if VLAB_CFG_NET_EXTRA && !VLAB_CFG_NET
#error "vlab/config.h: VLAB_CFG_NET_EXTRA needs VLAB_CFG_NET"
#endif
#if VLAB_CFG_BUS && !(VLAB_CFG_BLK || VLAB_CFG_NET || VLAB_CFG_RNG)
#error "vlab/config.h: VLAB_CFG_BUS needs a device (VLAB_CFG_BLK, VLAB_CFG_NET or VLAB_CFG_RNG)"
#endif
#if VLAB_CFG_FS && !VLAB_CFG_PART
#error "vlab/config.h: VLAB_CFG_FS needs VLAB_CFG_PART"
#endif

/* All options as one word (vlab_abi_ok compares the caller's with the
 * library's): bits 0 to 15 in the order above but for VLAB_CFG_BLK_DWZ
 * and VLAB_CFG_NET_EXTRA, which came later and are bits 16 and 17. */
#define VLAB_CFG_WORD                                                                            \
	((unsigned)!!(VLAB_CFG_MMIO) << 0 | (unsigned)!!(VLAB_CFG_MMIO_LEGACY) << 1 |              \
	 (unsigned)!!(VLAB_CFG_PCI) << 2 | (unsigned)!!(VLAB_CFG_PCI_LEGACY) << 3 |                 \
	 (unsigned)!!(VLAB_CFG_PCI_BRIDGE) << 4 | (unsigned)!!(VLAB_CFG_PACKED) << 5 |              \
	 (unsigned)!!(VLAB_CFG_INDIRECT) << 6 | (unsigned)!!(VLAB_CFG_EVENT_IDX) << 7 |             \
	 (unsigned)!!(VLAB_CFG_BLK) << 8 | (unsigned)!!(VLAB_CFG_BLK_EXTRA) << 9 |                  \
	 (unsigned)!!(VLAB_CFG_NET) << 10 | (unsigned)!!(VLAB_CFG_RNG) << 11 |                      \
	 (unsigned)!!(VLAB_CFG_PART) << 12 | (unsigned)!!(VLAB_CFG_FS) << 13 |                      \
	 (unsigned)!!(VLAB_CFG_BUS) << 14 | (unsigned)!!(VLAB_CFG_LOG) << 15 |                      \
	 (unsigned)!!(VLAB_CFG_BLK_DWZ) << 16 | (unsigned)!!(VLAB_CFG_NET_EXTRA) << 17)

#endif
