/* SPDX-License-Identifier: MIT */
/*
 * The model's own protocol constants, written from the VIRTIO 1.2
 * specification (OASIS virtio-spec, tag v1.2-cs01; section numbers below
 * are that version's).  devmodel includes nothing from driver/: the model
 * is the independent judge of the driver, so a wrong constant on the
 * driver's side must disagree with this file, not share its mistake
 * (docs/architecture.md, "The model includes nothing from driver/").
 *
 * Every name is the spec's own with a DM_ prefix, so that code including
 * both sides (harness, tests, fuzz targets) sees no clash.
 */
#ifndef DM_SPEC_H
#define DM_SPEC_H

#define DM_BIT(n) (1ull << (n))

/* ---- Device status field (2.1) ---- */
#define DM_VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define DM_VIRTIO_STATUS_DRIVER 0x02u
#define DM_VIRTIO_STATUS_DRIVER_OK 0x04u
#define DM_VIRTIO_STATUS_FEATURES_OK 0x08u
#define DM_VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40u
#define DM_VIRTIO_STATUS_FAILED 0x80u

/* ---- Reserved feature bits (6), bit numbers ---- */
#define DM_VIRTIO_F_NOTIFY_ON_EMPTY 24     /* legacy (6.3) */
#define DM_VIRTIO_F_ANY_LAYOUT 27          /* legacy (6.3) */
#define DM_VIRTIO_F_RING_INDIRECT_DESC 28  /* 6: VIRTIO_F_INDIRECT_DESC */
#define DM_VIRTIO_F_RING_EVENT_IDX 29      /* 6: VIRTIO_F_EVENT_IDX */
#define DM_VIRTIO_F_VERSION_1 32
#define DM_VIRTIO_F_ACCESS_PLATFORM 33
#define DM_VIRTIO_F_RING_PACKED 34
#define DM_VIRTIO_F_IN_ORDER 35
#define DM_VIRTIO_F_ORDER_PLATFORM 36
#define DM_VIRTIO_F_SR_IOV 37
#define DM_VIRTIO_F_NOTIFICATION_DATA 38
#define DM_VIRTIO_F_NOTIF_CONFIG_DATA 39
#define DM_VIRTIO_F_RING_RESET 40

/* ---- Device IDs (5) ---- */
#define DM_VIRTIO_ID_NET 1u
#define DM_VIRTIO_ID_BLOCK 2u
#define DM_VIRTIO_ID_RNG 4u /* entropy source (5.4) */

/* ---- ISR status bits (4.1.4.5, 4.2.2 InterruptStatus) ---- */
#define DM_VIRTIO_ISR_QUEUE 0x1u
#define DM_VIRTIO_ISR_CONFIG 0x2u

/* ---- Split virtqueue flags (2.7.5, 2.7.6, 2.7.8) ---- */
#define DM_VIRTQ_DESC_F_NEXT 1u
#define DM_VIRTQ_DESC_F_WRITE 2u
#define DM_VIRTQ_DESC_F_INDIRECT 4u
#define DM_VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define DM_VIRTQ_USED_F_NO_NOTIFY 1u

/* ---- Packed virtqueue (2.8) ---- */
/* Descriptor flags besides NEXT, WRITE, INDIRECT (2.8.1). */
#define DM_VIRTQ_DESC_F_AVAIL (1u << 7)
#define DM_VIRTQ_DESC_F_USED (1u << 15)
/* Event suppression structure (2.8, "Event Suppression Structure Format"): le16 desc (offset in bits
 * 0-14, wrap counter in bit 15), le16 flags (bits 0-1). */
#define DM_RING_EVENT_FLAGS_ENABLE 0x0u
#define DM_RING_EVENT_FLAGS_DISABLE 0x1u
#define DM_RING_EVENT_FLAGS_DESC 0x2u /* only with VIRTIO_F_EVENT_IDX; 0x3 reserved */
#define DM_RING_EVENT_WRAP_SHIFT 15
/* Packed queue part alignments (2.8, "Structure Size and Alignment"; DRV-2.8.11-1). */
#define DM_PACKED_DESC_ALIGN 16u
#define DM_PACKED_EVENT_ALIGN 4u

/* ---- virtio-mmio register layout (4.2.2; legacy 4.2.4) ---- */
#define DM_VIRTIO_MMIO_MAGIC 0x74726976u /* "virt", little-endian */
#define DM_VIRTIO_MMIO_MAGIC_VALUE 0x000
#define DM_VIRTIO_MMIO_VERSION 0x004
#define DM_VIRTIO_MMIO_DEVICE_ID 0x008
#define DM_VIRTIO_MMIO_VENDOR_ID 0x00c
#define DM_VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define DM_VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define DM_VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define DM_VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define DM_VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028 /* legacy only (4.2.4) */
#define DM_VIRTIO_MMIO_QUEUE_SEL 0x030
#define DM_VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define DM_VIRTIO_MMIO_QUEUE_NUM 0x038
#define DM_VIRTIO_MMIO_QUEUE_ALIGN 0x03c /* legacy only (4.2.4) */
#define DM_VIRTIO_MMIO_QUEUE_PFN 0x040   /* legacy only (4.2.4) */
#define DM_VIRTIO_MMIO_QUEUE_READY 0x044
#define DM_VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define DM_VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define DM_VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define DM_VIRTIO_MMIO_STATUS 0x070
#define DM_VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define DM_VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define DM_VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define DM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define DM_VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define DM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define DM_VIRTIO_MMIO_SHM_SEL 0x0ac
#define DM_VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define DM_VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define DM_VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define DM_VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define DM_VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define DM_VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define DM_VIRTIO_MMIO_CONFIG 0x100

/* ---- virtio-pci (4.1) ---- */
/* PCI capability IDs (PCI Local Bus spec) and virtio cfg_type (4.1.4). */
#define DM_VPCI_CAP_ID_VNDR 0x09
#define DM_VPCI_CAP_ID_MSIX 0x11
#define DM_VPCI_CFG_COMMON 1
#define DM_VPCI_CFG_NOTIFY 2
#define DM_VPCI_CFG_ISR 3
#define DM_VPCI_CFG_DEVICE 4
#define DM_VPCI_CFG_PCI 5

/* struct virtio_pci_common_cfg (4.1.4.3), byte offsets. */
enum {
	DM_VPCI_CC_DFSELECT = 0x00, DM_VPCI_CC_DF = 0x04, DM_VPCI_CC_GFSELECT = 0x08,
	DM_VPCI_CC_GF = 0x0c, DM_VPCI_CC_MSIX = 0x10, DM_VPCI_CC_NUMQ = 0x12,
	DM_VPCI_CC_STATUS = 0x14, DM_VPCI_CC_CFGGEN = 0x15, DM_VPCI_CC_Q_SELECT = 0x16,
	DM_VPCI_CC_Q_SIZE = 0x18, DM_VPCI_CC_Q_MSIX = 0x1a, DM_VPCI_CC_Q_ENABLE = 0x1c,
	DM_VPCI_CC_Q_NOFF = 0x1e, DM_VPCI_CC_Q_DESC = 0x20, DM_VPCI_CC_Q_AVAIL = 0x28,
	DM_VPCI_CC_Q_USED = 0x30, DM_VPCI_CC_Q_NDATA = 0x38, DM_VPCI_CC_Q_RESET = 0x3a,
	DM_VPCI_CC_LEN = 0x3c,
};

/* Legacy register header in BAR 0 (4.1.4.10), byte offsets; the device
 * config follows at 0x14, or at 0x18 with MSI-X enabled. */
enum {
	DM_VPCI_LG_HOST_F = 0x00, DM_VPCI_LG_GUEST_F = 0x04, DM_VPCI_LG_Q_PFN = 0x08,
	DM_VPCI_LG_Q_NUM = 0x0c, DM_VPCI_LG_Q_SEL = 0x0e, DM_VPCI_LG_Q_NOTIFY = 0x10,
	DM_VPCI_LG_STATUS = 0x12, DM_VPCI_LG_ISR = 0x13, DM_VPCI_LG_CFG_MSIX = 0x14,
	DM_VPCI_LG_Q_MSIX = 0x16,
};
#define DM_VPCI_LG_HDR 0x14u
#define DM_VPCI_LG_HDR_MSIX 0x18u
/* Legacy queue address unit: QUEUE_PFN is in 4096-byte pages (4.1.4.10). */
#define DM_VPCI_LEGACY_PAGE 4096u

/* ---- Block device (5.2) ---- */
/* Feature bits (5.2.3). */
#define DM_VIRTIO_BLK_F_SIZE_MAX 1
#define DM_VIRTIO_BLK_F_SEG_MAX 2
#define DM_VIRTIO_BLK_F_GEOMETRY 4
#define DM_VIRTIO_BLK_F_RO 5
#define DM_VIRTIO_BLK_F_BLK_SIZE 6
#define DM_VIRTIO_BLK_F_FLUSH 9
#define DM_VIRTIO_BLK_F_TOPOLOGY 10
#define DM_VIRTIO_BLK_F_CONFIG_WCE 11
#define DM_VIRTIO_BLK_F_MQ 12
#define DM_VIRTIO_BLK_F_DISCARD 13
#define DM_VIRTIO_BLK_F_WRITE_ZEROES 14
#define DM_VIRTIO_BLK_F_LIFETIME 15
#define DM_VIRTIO_BLK_F_SECURE_ERASE 16
/* struct virtio_blk_config byte offsets (5.2.4). */
#define DM_VIRTIO_BLK_CFG_CAPACITY 0    /* le64 */
#define DM_VIRTIO_BLK_CFG_SIZE_MAX 8    /* le32 */
#define DM_VIRTIO_BLK_CFG_SEG_MAX 12    /* le32 */
#define DM_VIRTIO_BLK_CFG_GEOMETRY 16   /* cylinders le16, heads u8, sectors u8 */
#define DM_VIRTIO_BLK_CFG_BLK_SIZE 20   /* le32 */
#define DM_VIRTIO_BLK_CFG_TOPOLOGY 24   /* physical_block_exp u8, alignment_offset u8,
                                           min_io_size le16, opt_io_size le32 */
#define DM_VIRTIO_BLK_CFG_WRITEBACK 32  /* u8 */
#define DM_VIRTIO_BLK_CFG_NUM_QUEUES 34 /* le16 */
/* Request types and status (5.2.6). */
#define DM_VIRTIO_BLK_T_IN 0u
#define DM_VIRTIO_BLK_T_OUT 1u
#define DM_VIRTIO_BLK_T_FLUSH 4u
#define DM_VIRTIO_BLK_T_GET_ID 8u
#define DM_VIRTIO_BLK_T_DISCARD 11u
#define DM_VIRTIO_BLK_T_WRITE_ZEROES 13u
/* struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors,
 * le32 flags (bit 0: unmap). */
#define DM_VIRTIO_BLK_DWZ_SEG_BYTES 16u
#define DM_VIRTIO_BLK_DWZ_FLAG_UNMAP 1u
#define DM_VIRTIO_BLK_S_OK 0u
#define DM_VIRTIO_BLK_S_IOERR 1u
#define DM_VIRTIO_BLK_S_UNSUPP 2u
/* sector is in 512-byte units whatever blk_size says (5.2.6). */
#define DM_VIRTIO_BLK_SECTOR_SIZE 512u
/* GET_ID: a 20-byte string (5.2.6). */
#define DM_VIRTIO_BLK_ID_BYTES 20u

/* ---- Network device (5.1) ---- */
/* Feature bits (5.1.3). */
#define DM_VIRTIO_NET_F_CSUM 0
#define DM_VIRTIO_NET_F_GUEST_CSUM 1
#define DM_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define DM_VIRTIO_NET_F_MTU 3
#define DM_VIRTIO_NET_F_MAC 5
#define DM_VIRTIO_NET_F_GUEST_TSO4 7
#define DM_VIRTIO_NET_F_GUEST_TSO6 8
#define DM_VIRTIO_NET_F_GUEST_ECN 9
#define DM_VIRTIO_NET_F_GUEST_UFO 10
#define DM_VIRTIO_NET_F_HOST_TSO4 11
#define DM_VIRTIO_NET_F_HOST_TSO6 12
#define DM_VIRTIO_NET_F_HOST_ECN 13
#define DM_VIRTIO_NET_F_HOST_UFO 14
#define DM_VIRTIO_NET_F_MRG_RXBUF 15
#define DM_VIRTIO_NET_F_STATUS 16
#define DM_VIRTIO_NET_F_CTRL_VQ 17
#define DM_VIRTIO_NET_F_CTRL_RX 18
#define DM_VIRTIO_NET_F_CTRL_VLAN 19
#define DM_VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define DM_VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define DM_VIRTIO_NET_F_MQ 22
#define DM_VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define DM_VIRTIO_NET_F_HOST_USO 56
#define DM_VIRTIO_NET_F_RSS 60
/* struct virtio_net_config byte offsets (5.1.4). */
#define DM_VIRTIO_NET_CFG_MAC 0
#define DM_VIRTIO_NET_CFG_STATUS 6
#define DM_VIRTIO_NET_CFG_MAX_VQ_PAIRS 8
#define DM_VIRTIO_NET_CFG_MTU 10
#define DM_VIRTIO_NET_S_LINK_UP 1u
#define DM_VIRTIO_NET_S_ANNOUNCE 2u
/* Queue numbers without VIRTIO_NET_F_MQ (5.1.2). */
#define DM_VIRTIO_NET_Q_RX 0
#define DM_VIRTIO_NET_Q_TX 1
#define DM_VIRTIO_NET_Q_CTRL 2
/* struct virtio_net_hdr (5.1.6): 12 bytes with VERSION_1 or MRG_RXBUF,
 * 10 bytes (no num_buffers) for a legacy device without MRG_RXBUF (5.1.6.1). */
#define DM_VIRTIO_NET_HDR_LEN_LEGACY 10u
#define DM_VIRTIO_NET_HDR_LEN 12u
#define DM_VIRTIO_NET_HDR_OFF_FLAGS 0
#define DM_VIRTIO_NET_HDR_OFF_GSO_TYPE 1
#define DM_VIRTIO_NET_HDR_OFF_CSUM_START 6
#define DM_VIRTIO_NET_HDR_OFF_CSUM_OFFSET 8
#define DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS 10
#define DM_VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define DM_VIRTIO_NET_HDR_F_DATA_VALID 2u
#define DM_VIRTIO_NET_HDR_F_RSC_INFO 4u
#define DM_VIRTIO_NET_HDR_GSO_NONE 0u
#define DM_VIRTIO_NET_HDR_GSO_TCPV4 1u
#define DM_VIRTIO_NET_HDR_GSO_UDP 3u
#define DM_VIRTIO_NET_HDR_GSO_TCPV6 4u
#define DM_VIRTIO_NET_HDR_GSO_UDP_L4 5u
#define DM_VIRTIO_NET_HDR_GSO_ECN 0x80u
/* Control virtqueue (5.1.6.5). */
#define DM_VIRTIO_NET_CTRL_RX 0
#define DM_VIRTIO_NET_CTRL_RX_PROMISC 0
#define DM_VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define DM_VIRTIO_NET_CTRL_MAC 1
#define DM_VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define DM_VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define DM_VIRTIO_NET_CTRL_ANNOUNCE 3
#define DM_VIRTIO_NET_CTRL_ANNOUNCE_ACK 0
#define DM_VIRTIO_NET_CTRL_MQ 4
#define DM_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define DM_VIRTIO_NET_CTRL_MQ_RSS_CONFIG 1
#define DM_VIRTIO_NET_MQ_PAIRS_MAX 0x8000u /* max_virtqueue_pairs' range is 1..0x8000 (DEV-5.1.4.1-1) */
#define DM_VIRTIO_NET_OK 0u
#define DM_VIRTIO_NET_ERR 1u

#endif
