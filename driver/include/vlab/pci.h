/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI (4.1): enumeration, BAR assignment, and the modern
 * (capabilities) and legacy (I/O BAR) transports.
 *
 * The platform says where PCI lives by filling struct vlab_pci_host:
 * configuration space through an ECAM window (QEMU's riscv and arm virt
 * machines) or the 0xCF8/0xCFC ports (x86); the windows BARs are assigned
 * from when firmware left them unassigned; and how I/O ports are reached
 * (port I/O instructions, or a memory-mapped PIO window).
 */
#ifndef VLAB_PCI_H
#define VLAB_PCI_H

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PCI configuration space (PCI Local Bus 3.0, 6.1) ---- */
#define VLAB_PCI_VENDOR_ID 0x00
#define VLAB_PCI_DEVICE_ID 0x02
#define VLAB_PCI_COMMAND 0x04
#define VLAB_PCI_STATUS 0x06
#define VLAB_PCI_REVISION 0x08
#define VLAB_PCI_CLASS_PROG 0x09
#define VLAB_PCI_HEADER_TYPE 0x0e
#define VLAB_PCI_BAR0 0x10
#define VLAB_PCI_SUBSYS_VENDOR 0x2c
#define VLAB_PCI_SUBSYS_ID 0x2e
#define VLAB_PCI_CAP_PTR 0x34
/* The type 1 (PCI-to-PCI bridge) header (PCI-to-PCI Bridge 1.2, 3.2). */
#define VLAB_PCI_PRIMARY_BUS 0x18    /* primary, secondary, subordinate, latency */
#define VLAB_PCI_IO_BASE 0x1c        /* I/O base and limit: address bits 15:12 */
#define VLAB_PCI_MEM_BASE 0x20       /* memory base and limit: bits 31:20 */
#define VLAB_PCI_PREF_BASE 0x24      /* prefetchable base and limit */
#define VLAB_PCI_PREF_BASE_HI 0x28
#define VLAB_PCI_PREF_LIMIT_HI 0x2c
#define VLAB_PCI_IO_BASE_HI 0x30
#define VLAB_PCI_HEADER_BRIDGE 0x01
#define VLAB_PCI_CFG_SIZE 256u

#define VLAB_PCI_CMD_IO 0x0001u
#define VLAB_PCI_CMD_MEM 0x0002u
#define VLAB_PCI_CMD_MASTER 0x0004u
#define VLAB_PCI_STATUS_CAP_LIST 0x0010u
#define VLAB_PCI_HEADER_MULTI 0x80u

#define VLAB_PCI_CAP_ID_VNDR 0x09
#define VLAB_PCI_CAP_ID_MSIX 0x11
#define VLAB_PCI_NBARS 6

/* ---- virtio PCI (4.1.2, 4.1.4) ---- */
#define VIRTIO_PCI_VENDOR 0x1af4u
#define VIRTIO_PCI_TRANSITIONAL_FIRST 0x1000u
#define VIRTIO_PCI_TRANSITIONAL_LAST 0x103fu
#define VIRTIO_PCI_MODERN_FIRST 0x1040u
#define VIRTIO_PCI_MODERN_LAST 0x107fu

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* Common configuration structure (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_MIN_LEN 0x38 /* through queue_device (VIRTIO 1.0) */
#define VIRTIO_PCI_NO_VECTOR 0xffffu

/* Legacy register block in I/O BAR 0. */
#define VIRTIO_PCI_LEGACY_HOST_FEATURES 0x00
#define VIRTIO_PCI_LEGACY_GUEST_FEATURES 0x04
#define VIRTIO_PCI_LEGACY_QUEUE_PFN 0x08
#define VIRTIO_PCI_LEGACY_QUEUE_NUM 0x0c
#define VIRTIO_PCI_LEGACY_QUEUE_SEL 0x0e
#define VIRTIO_PCI_LEGACY_QUEUE_NOTIFY 0x10
#define VIRTIO_PCI_LEGACY_STATUS 0x12
#define VIRTIO_PCI_LEGACY_ISR 0x13
#define VIRTIO_PCI_LEGACY_CONFIG 0x14      /* MSI-X disabled */
#define VIRTIO_PCI_LEGACY_CONFIG_MSIX 0x18 /* MSI-X enabled */
#define VIRTIO_PCI_LEGACY_ALIGN 4096u

/* ---- where PCI lives: filled by the platform (the caller) ---- */

/* A BAR placed by vlab_pci_setup_function, or a bridge's window placed by
 * vlab_pci_scan (window: the buses sec..sub behind it may use it, and
 * only they; size 0: closed).  The host keeps the list. */
struct vlab_pci_placed {
	uint64_t base, size;
	uint8_t bus, dev, fn, bar;
	bool io;
	bool window;
	uint8_t sec, sub;
};

#define VLAB_PCI_MAX_PLACED 96
/* Bridges vlab_pci_scan and vlab_pci_enumerate follow at most (which also
 * bounds the depth of the walk), and the windows' granularity. */
#define VLAB_PCI_MAX_BRIDGES 16
#define VLAB_PCI_BRIDGE_MEM_ALIGN 0x100000u
#define VLAB_PCI_BRIDGE_IO_ALIGN 0x1000u

struct vlab_pci_host {
	const struct vlab_platform *plat;
	/* Configuration mechanism: the 0xCF8/0xCFC ports (needs the platform's
	 * pio ops), or an ECAM window at ecam_base covering ecam_buses buses. */
	bool cfg_ports;
	vlab_addr_t ecam_base;
	unsigned ecam_buses;      /* 1..256; 0 means 1 */
	/* Memory BAR window (bus addresses = CPU addresses here). */
	vlab_addr_t mem_base;
	uint64_t mem_size;
	/* I/O BAR window, in port numbers. */
	uint32_t io_base;
	uint32_t io_size;
	/* How ports are reached: port I/O (the platform's pio ops) or a
	 * memory-mapped PIO window where port p is at pio_mmio_base + p. */
	bool pio_mmio;
	vlab_addr_t pio_mmio_base;
	/* Guest RAM, which no BAR may cover (ram_size 0: not given; the
	 * windows alone then keep BARs off it). */
	vlab_addr_t ram_base;
	uint64_t ram_size;
	/* Owned by the driver (zero them): allocation cursors and every BAR
	 * placed so far, which no other BAR may overlap. */
	uint64_t mem_used;
	uint32_t io_used;
	unsigned n_placed;
	struct vlab_pci_placed placed[VLAB_PCI_MAX_PLACED];
};

/* One function as enumeration found it. */
struct vlab_pci_func {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t revision;
	uint32_t class_code;      /* base class << 16 | sub-class << 8 | prog-if */
	uint8_t header_type;      /* without the multi-function bit */
	uint16_t subsys_vendor, subsys_id;
};

/* Configuration access (width 1, 2 or 4, naturally aligned; off < 4096 for
 * ECAM, < 256 for the ports).  An absent function reads all-ones. */
uint32_t vlab_pci_cfg_read(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                           uint16_t off, unsigned width);
void vlab_pci_cfg_write(const struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                        uint16_t off, unsigned width, uint32_t val);

/*
 * Walk bus 0, every device and (for multi-function devices) every
 * function, calling visit for each function present, and after a
 * PCI-to-PCI bridge the bus behind it, depth first, as its secondary bus
 * number says.  A bridge is followed only when its numbers are sound
 * (secondary above the bus it is on, not above subordinate, inside the
 * host's buses, not seen before) and at most VLAB_PCI_MAX_BRIDGES of them:
 * run vlab_pci_scan first to number them.  A non-zero return from visit
 * stops the walk and is returned.  VLAB_EINVAL for a host that cannot work
 * (no pio ops for cfg_ports, ...).
 */
typedef int (*vlab_pci_visit_fn)(void *ctx, const struct vlab_pci_func *f);
int vlab_pci_enumerate(const struct vlab_pci_host *h, vlab_pci_visit_fn visit, void *ctx);

/*
 * Configure the PCI-to-PCI bridges as firmware does, depth first from bus
 * 0: give each a primary, secondary and subordinate bus number (keeping
 * firmware's when they are what a depth-first numbering gives and inside
 * the host's buses), set up every function behind it
 * (vlab_pci_setup_function), program its I/O and memory windows to cover
 * their BARs (the prefetchable window closed: every memory BAR sits in the
 * memory window, below 4 GiB), and enable forwarding (I/O, memory, bus
 * mastering).  Functions on bus 0 are left for their probe.  Run it again
 * after a change: it renumbers and reprograms the same way.  VLAB_EPROTO
 * for a bridge that does not take its bus numbers or windows, or more than
 * VLAB_PCI_MAX_BRIDGES bridges; VLAB_ENOMEM when the bus numbers or a
 * window run out.  A function behind a bridge whose BARs cannot be placed
 * is skipped (its probe fails the same way).
 */
int vlab_pci_scan(struct vlab_pci_host *h);

struct vlab_pci_bar {
	uint64_t addr;            /* bus address (port number for I/O) */
	uint64_t size;            /* 0: not implemented */
	bool io;
	bool mem64;               /* takes this BAR and the next */
};

/*
 * Size every BAR of a function (write all-ones, read back the mask), place
 * them, and enable memory and I/O decoding (for the kinds present) and bus
 * mastering.  Decoding is off while sizing and placing.
 *
 * An address the BAR already holds (firmware's, or the device's) is kept
 * only when it is sound: naturally aligned to the size, not wrapping,
 * wholly inside the host window of its type (a 32-bit BAR below 4 GiB),
 * off the ECAM window, the 0xCF8 ports, the PIO window and guest RAM, and
 * overlapping no BAR placed before (of any function).  Otherwise, and when
 * unassigned, the BAR is given a free, aligned place in its window, and the
 * address is read back.  bars[] receives what was found.  VLAB_ENOMEM when
 * a window (or the host's list of placed BARs) is full, VLAB_EPROTO for a
 * BAR that makes no sense or does not take its address; then bars[] is
 * cleared and decoding stays off.
 */
int vlab_pci_setup_function(struct vlab_pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
                            struct vlab_pci_bar bars[VLAB_PCI_NBARS]);

/* BAR accesses (I/O through pio ops or the PIO window; memory via MMIO). */
uint32_t vlab_pci_bar_read(const struct vlab_pci_host *h, const struct vlab_pci_bar *b, uint64_t off,
                           unsigned width);
void vlab_pci_bar_write(const struct vlab_pci_host *h, const struct vlab_pci_bar *b, uint64_t off,
                        unsigned width, uint32_t val);

/* ---- the virtio-pci transport ---- */

/* Where one virtio structure lives (a VIRTIO_PCI_CAP_* capability). */
struct vlab_pci_region {
	bool present;
	uint8_t bar;
	uint8_t cap;              /* config-space offset of its capability */
	uint32_t off, len;
};

#define VLAB_PCI_MAX_QUEUES 16

struct vlab_pci {
	struct vlab_virtio_dev vdev;
	struct vlab_pci_host *host;
	struct vlab_pci_func id;
	struct vlab_pci_bar bar[VLAB_PCI_NBARS];
	bool modern;              /* driven through the capabilities */
	bool transitional;        /* transitional device ID */
	struct vlab_pci_region common, notify, isr, device;
	uint32_t notify_mult;
	uint8_t msix_cap;         /* 0: none */
	uint16_t msix_vectors;    /* MSI-X table size */
	bool msix_ok;             /* vectors accepted so far (read back not NO_VECTOR) */
	uint64_t notify_at[VLAB_PCI_MAX_QUEUES]; /* offset in the notify BAR, per queue */
	/* One queue at a time above the table (virtio-net's control queue is
	 * at 2 * max_virtqueue_pairs, past the pairs the driver uses): its
	 * index and notify offset; a later enable above the table replaces it. */
	bool notify_hi_used;
	uint16_t notify_hi_idx;
	uint64_t notify_hi_at;
	char name[32];
};

enum vlab_pci_flags {
	/* Accept a device that has only the legacy interface (the same bit as
	 * VLAB_MMIO_ALLOW_LEGACY, so one flags word serves both). */
	VLAB_PCI_ALLOW_LEGACY = 1u << 0,
	/* Drive a transitional device through its legacy interface. */
	VLAB_PCI_FORCE_LEGACY = 1u << 1,
};

/* Is this a virtio function (DRV-4.1.2.2-1/2)?  Returns the virtio device
 * type, or 0. */
uint32_t vlab_pci_virtio_type(const struct vlab_pci_func *f);

/*
 * Probe the function at bus:dev.fn as a virtio device: identify it
 * (VLAB_ENODEV when it is not virtio), assign its BARs and enable it, walk
 * its capabilities (bounded; a malformed list is VLAB_EPROTO) and pick the
 * modern interface, or the legacy one when that is all there is
 * (VLAB_PCI_ALLOW_LEGACY, else VLAB_ENOTSUP) or when VLAB_PCI_FORCE_LEGACY
 * asks for it.  On success p->vdev is ready for vlab_virtio_begin().
 */
int vlab_pci_probe(struct vlab_pci *p, struct vlab_pci_host *h, uint8_t bus, uint8_t dev,
                   uint8_t fn, unsigned flags);

/* Port I/O wrappers (the attack-surface grep target, as in platform.h);
 * a platform without port I/O reads all-ones. */
static inline uint8_t vlab_plat_pio_read8(const struct vlab_platform *p, uint32_t port)
{
	return p->ops->pio_read8 ? p->ops->pio_read8(p->ctx, port) : 0xff;
}
static inline uint16_t vlab_plat_pio_read16(const struct vlab_platform *p, uint32_t port)
{
	return p->ops->pio_read16 ? p->ops->pio_read16(p->ctx, port) : 0xffff;
}
static inline uint32_t vlab_plat_pio_read32(const struct vlab_platform *p, uint32_t port)
{
	return p->ops->pio_read32 ? p->ops->pio_read32(p->ctx, port) : 0xffffffffu;
}
static inline void vlab_plat_pio_write8(const struct vlab_platform *p, uint32_t port, uint8_t v)
{
	if (p->ops->pio_write8)
		p->ops->pio_write8(p->ctx, port, v);
}
static inline void vlab_plat_pio_write16(const struct vlab_platform *p, uint32_t port, uint16_t v)
{
	if (p->ops->pio_write16)
		p->ops->pio_write16(p->ctx, port, v);
}
static inline void vlab_plat_pio_write32(const struct vlab_platform *p, uint32_t port, uint32_t v)
{
	if (p->ops->pio_write32)
		p->ops->pio_write32(p->ctx, port, v);
}

#ifdef __cplusplus
}
#endif
#endif
