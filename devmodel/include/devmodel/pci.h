/* SPDX-License-Identifier: MIT */
/*
 * PCI in the device model: a host bridge with bus 0 (configuration space
 * through an ECAM window and through the 0xCF8/0xCFC ports), functions with
 * BARs and a command register that is honoured, and the virtio PCI
 * function (4.1) in three profiles: legacy only, transitional, modern only.
 *
 * The host knows nothing of virtio; a function is a config space plus BAR
 * handlers.  The virtio function (dm_vpci) builds its config space, its
 * capability list and its BARs from a profile and a set of quirks, and
 * turns BAR accesses into dm_virtio_* calls, as mmio.c does for registers.
 */
#ifndef DM_PCI_H
#define DM_PCI_H

#include "devmodel/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_PCI_DEVS 32
#define DM_PCI_FNS 8
#define DM_PCI_BARS 6
#define DM_PCI_CFG_BYTES 256   /* conventional config space; ECAM's 4 KiB rest reads 0 */

enum dm_pci_bar_kind {
	DM_PCI_BAR_NONE = 0,  /* not implemented: reads 0, sizing reads 0 */
	DM_PCI_BAR_IO,
	DM_PCI_BAR_MEM32,
	DM_PCI_BAR_MEM64,     /* takes this BAR and the next */
};

struct dm_pci_bar {
	enum dm_pci_bar_kind kind;
	uint64_t size;        /* power of two (IO >= 4, memory >= 16) */
	bool prefetch;
	uint64_t addr;        /* programmed address (already masked to the size) */
};

struct dm_pci_fn;
struct dm_pci_bridge;

struct dm_pci_fn_ops {
	/* BAR accesses (the host has decoded the address; off < size). */
	uint32_t (*bar_read)(void *ctx, unsigned bar, uint64_t off, unsigned width);
	void (*bar_write)(void *ctx, unsigned bar, uint64_t off, unsigned width, uint32_t val);
	/* Config-space hooks for capability registers: return true when the
	 * access was handled here (the header and BARs are the host's). */
	bool (*cfg_read)(void *ctx, uint32_t off, unsigned width, uint32_t *val);
	bool (*cfg_write)(void *ctx, uint32_t off, unsigned width, uint32_t val);
};

/* One PCI function: the type-0 header and what lies behind it. */
struct dm_pci_fn {
	uint8_t cfg[DM_PCI_CFG_BYTES]; /* identity, capabilities (read as stored) */
	uint16_t command;
	struct dm_pci_bar bar[DM_PCI_BARS];
	const struct dm_pci_fn_ops *ops;
	void *ctx;
	bool multi;           /* set by the host: fn 0 of a multi-function device */
	bool intx;            /* the INTx line level (status bit 3) */
	struct dm_pci_bridge *bridge; /* a PCI-to-PCI bridge's function (pci_bridge.c) */
	/* Statistics: accesses to a BAR whose decoding was off (not answered). */
	uint64_t blocked_io, blocked_mem;
};

/* Command register bits (PCI Local Bus 3.0, 6.2.2). */
#define DM_PCI_CMD_IO 0x0001u
#define DM_PCI_CMD_MEM 0x0002u
#define DM_PCI_CMD_MASTER 0x0004u
#define DM_PCI_CMD_INTX_DISABLE 0x0400u

/*
 * What BAR decoding depends on (a function's BARs, command register and
 * ops, a bridge's windows, the functions a host has) changes only through
 * dm_pci_fn_init, dm_pci_fn_cfg_write, dm_pci_host_add / _remove and
 * dm_pci_bridge_init, which call dm_pci_changed; code that sets those
 * fields directly calls it too, or a host may answer from its memory of
 * an earlier access.  The generation counts the changes (process-wide).
 */
void dm_pci_changed(void);
uint64_t dm_pci_generation(void);

/* A plain function with identity only (e.g. a host bridge). */
void dm_pci_fn_init(struct dm_pci_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
                    uint8_t revision);
/* Bus address of BAR i's first byte (0 when unimplemented). */
uint64_t dm_pci_bar_addr(const struct dm_pci_fn *f, unsigned i);
/* Config space of one function (off < 4096); width 1/2/4. */
uint32_t dm_pci_fn_cfg_read(struct dm_pci_fn *f, uint32_t off, unsigned width);
void dm_pci_fn_cfg_write(struct dm_pci_fn *f, uint32_t off, unsigned width, uint32_t val);

struct dm_pci_host {
	struct dm_pci_fn *fn[DM_PCI_DEVS][DM_PCI_FNS];
	/* The functions of fn in (dev, fn) order, for BAR decoding (issue
	 * 15: a walk of every slot cost about 500 instructions an access);
	 * kept by dm_pci_host_add and _remove, which alone change fn. */
	struct dm_pci_fn *present[DM_PCI_DEVS * DM_PCI_FNS];
	unsigned npresent;
	uint32_t cf8;         /* CONFIG_ADDRESS latch */
	uint64_t unclaimed;   /* BAR-space accesses nobody answered */
	/* The last BAR-space accesses decoded, by their exact (space, address,
	 * width): a virtio driver reads and writes the same few registers
	 * over and over (issue 15: decoding cost 170 instructions an access).
	 * An entry holds while dm_pci_generation() is the one it was made in. */
	struct dm_pci_hit {
		uint64_t addr, off, gen;
		struct dm_pci_fn *f;
		uint8_t bar, width;
		bool io;
	} hit[4];
	unsigned hit_next;
};

void dm_pci_host_init(struct dm_pci_host *h);
/* Put f at bus 0, dev, fn.  -1 when taken or out of range. */
int dm_pci_host_add(struct dm_pci_host *h, unsigned dev, unsigned fn, struct dm_pci_fn *f);
void dm_pci_host_remove(struct dm_pci_host *h, struct dm_pci_fn *f);
/* Configuration access; an absent function reads all-ones. */
uint32_t dm_pci_cfg_read(struct dm_pci_host *h, unsigned bus, unsigned dev, unsigned fn,
                         uint32_t off, unsigned width);
void dm_pci_cfg_write(struct dm_pci_host *h, unsigned bus, unsigned dev, unsigned fn, uint32_t off,
                      unsigned width, uint32_t val);
/* ECAM: off is from the window's base (bus << 20 | dev << 15 | fn << 12 | reg). */
uint32_t dm_pci_ecam_read(struct dm_pci_host *h, uint64_t off, unsigned width);
void dm_pci_ecam_write(struct dm_pci_host *h, uint64_t off, unsigned width, uint32_t val);
/* The 0xCF8..0xCFF ports; off is from 0xCF8. */
uint32_t dm_pci_port_read(struct dm_pci_host *h, uint32_t off, unsigned width);
void dm_pci_port_write(struct dm_pci_host *h, uint32_t off, unsigned width, uint32_t val);
/* BAR space: I/O ports and memory, decoded against every function's BARs
 * with that function's command register honoured. */
uint32_t dm_pci_io_read(struct dm_pci_host *h, uint64_t port, unsigned width);
void dm_pci_io_write(struct dm_pci_host *h, uint64_t port, unsigned width, uint32_t val);
uint32_t dm_pci_mem_read(struct dm_pci_host *h, uint64_t addr, unsigned width);
void dm_pci_mem_write(struct dm_pci_host *h, uint64_t addr, unsigned width, uint32_t val);

/* ---- a PCI-to-PCI bridge (pci_bridge.c) ----
 * A type 1 header (PCI-to-PCI Bridge Architecture 1.2, 3.2): bus numbers,
 * the I/O, memory and prefetchable windows, held in fn.cfg (0x18..0x33)
 * as written.  Configuration cycles for a bus in [secondary, subordinate]
 * go to the secondary bus (or on through its bridges); memory and I/O
 * accesses inside a window go there when the bridge's command register
 * enables that kind.  The secondary bus is a dm_pci_host of its own (its
 * cf8 unused). */
struct dm_pci_bridge {
	struct dm_pci_fn fn;      /* first: the function on the primary bus */
	struct dm_pci_host bus;   /* the secondary bus */
	bool bus_ro;              /* hostile: bus number registers ignore writes */
};

/* QEMU's pci-bridge (1b36:0001) and pcie-root-port (1b36:000c). */
#define DM_PCI_BRIDGE_VENDOR 0x1b36u
#define DM_PCI_BRIDGE_PCI 0x0001u
#define DM_PCI_BRIDGE_ROOT_PORT 0x000cu

void dm_pci_bridge_init(struct dm_pci_bridge *b, uint16_t device);
uint8_t dm_pci_bridge_secondary(const struct dm_pci_bridge *b);
uint8_t dm_pci_bridge_subordinate(const struct dm_pci_bridge *b);
/* Does the bridge forward [addr, addr+width) of this kind (command bit
 * and window)?  *claimed: it lies in a window whose decoding is off. */
bool dm_pci_bridge_forwards(const struct dm_pci_bridge *b, bool io, uint64_t addr, unsigned width,
                            bool *claimed);

/* ---- the PC chipsets' functions on bus 0 (pci_pc.c) ----
 * Identity only (no BARs), as QEMU 7.2 presents them: on `pc` the i440FX
 * host bridge 00:00.0 (8086:1237) and the PIIX3 ISA bridge 00:01.0
 * (8086:7000), IDE 00:01.1 (8086:7010) and PIIX4 ACPI 00:01.3
 * (8086:7113); on `q35` the host bridge 00:00.0 (8086:29c0) and the ICH9
 * LPC 00:1f.0 (8086:2918), SATA AHCI 00:1f.2 (8086:2922) and SMBus
 * 00:1f.3 (8086:2930). */
#define DM_PCI_PC_FNS 4
struct dm_pci_pc {
	struct dm_pci_fn fn[DM_PCI_PC_FNS];
};
/* Fill pc (q35: the Q35 set) and add its functions to h; -1 when a slot
 * is taken. */
int dm_pci_pc_init(struct dm_pci_pc *pc, bool q35, struct dm_pci_host *h);

/* ---- the virtio PCI function ---- */

#define DM_VPCI_VENDOR 0x1af4u

enum dm_vpci_profile {
	DM_VPCI_LEGACY = 0,     /* transitional ID, legacy I/O BAR only (QEMU disable-modern) */
	DM_VPCI_TRANSITIONAL,   /* transitional ID, I/O BAR and the virtio capabilities */
	DM_VPCI_MODERN,         /* 0x1040 + type, capabilities only (QEMU disable-legacy) */
};

/* Ways a malformed device can be malformed (bits of dm_vpci_cfg.quirks). */
enum dm_vpci_quirk {
	DM_VPCI_Q_CAP_LOOP = 1u << 0,         /* the last capability points back to the first */
	DM_VPCI_Q_CAP_OUTSIDE = 1u << 1,      /* a capability that runs past config space */
	DM_VPCI_Q_STRUCT_BEYOND_BAR = 1u << 2,/* device-config structure past its BAR's end */
	DM_VPCI_Q_NOTIFY_OVERFLOW = 1u << 3,  /* notify_off_multiplier 2^31, notify offsets >= 2 */
	DM_VPCI_Q_NO_COMMON = 1u << 4,        /* no common-config capability */
	DM_VPCI_Q_BAR_SIZE_ZERO = 1u << 5,    /* ISR structure in a BAR that is not implemented */
	DM_VPCI_Q_UNKNOWN_CFG_TYPE = 1u << 6, /* an extra capability of cfg_type 0x42 first */
	DM_VPCI_Q_MSIX_REFUSE = 1u << 7,      /* every MSI-X vector reads back NO_VECTOR */
	DM_VPCI_Q_RESERVED_BAR = 1u << 8,     /* an extra common-config capability naming BAR 6 first */
	/* Allowed by the spec (docs/conformance.md): the driver must cope. */
	DM_VPCI_Q_REVISION = 1u << 9,         /* Revision ID 0xa5 (DRV-4.1.2.2-3) */
	DM_VPCI_Q_LONG_CAPS = 1u << 10,       /* each virtio capability's cap_len 8 bytes longer
	                                         (DRV-4.1.4.1-3/6) */
	DM_VPCI_Q_SECOND_CAPS = 1u << 11,     /* after them, a second capability of each type naming
	                                         BAR 4 at DM_VPCI_SECOND_OFF (DRV-4.1.4.1-2) */
	DM_VPCI_Q_SHORT_DEVICE_CFG = 1u << 12,/* device-config structure 8 bytes long: blk's
	                                         capacity only (DRV-2.5.1-5) */
};

struct dm_vpci_cfg {
	enum dm_vpci_profile profile;
	unsigned quirks;          /* dm_vpci_quirk bits */
	uint16_t msix_vectors;    /* MSI-X table entries (0: no MSI-X capability); default set by init */
	uint16_t subsys_vendor;   /* default 0x1af4 */
};

#define DM_VPCI_NO_VECTOR 0xffffu

/* BAR layout (as QEMU lays it out). */
#define DM_VPCI_LEGACY_BAR 0
#define DM_VPCI_MSIX_BAR 1
#define DM_VPCI_MODERN_BAR 4
#define DM_VPCI_MODERN_BAR_SIZE 0x4000u
#define DM_VPCI_COMMON_OFF 0x0000u
#define DM_VPCI_ISR_OFF 0x1000u
#define DM_VPCI_DEVICE_OFF 0x2000u
#define DM_VPCI_NOTIFY_OFF 0x3000u
#define DM_VPCI_NOTIFY_MULT 4u
/* Where DM_VPCI_Q_SECOND_CAPS points every second capability: the end of
 * the notify region, where no queue notifies. */
#define DM_VPCI_SECOND_OFF 0x3f00u
/* Each structure's capability names a whole 4 KiB region of BAR 4, as
 * QEMU's do (its common, ISR, device and notify regions are 0x1000). */
#define DM_VPCI_REGION_SIZE 0x1000u

struct dm_vpci_cap {
	uint8_t pos, len, type; /* type: cfg_type of a vendor capability, 0 for MSI-X */
};

struct dm_vpci {
	struct dm_pci_fn fn;
	struct dm_vpci_cfg cfg;
	struct dm_virtio *dv;
	/* DMA and interrupts go through this env (bus mastering, MSI-X). */
	struct dm_env env;
	struct dm_env *parent;

	/* Layout built from the profile and quirks. */
	uint32_t legacy_size;          /* I/O BAR size (0: none) */
	bool has_modern;
	uint32_t notify_mult;
	uint32_t device_len;           /* device-config structure length */
	struct dm_vpci_cap caps[16];
	unsigned ncaps;
	uint8_t msix_pos, pcicfg_pos;

	/* Common configuration state. */
	uint32_t dfselect, gfselect;
	uint16_t queue_sel;
	uint16_t qsize[DM_MAX_QUEUES];
	/* The driver wrote queue_size since the reset; until then a queue's
	 * size is its device's starting size as the device's queues are now
	 * (a net device's change with the features: 5.1.2). */
	bool qsize_written[DM_MAX_QUEUES];
	uint16_t qvector[DM_MAX_QUEUES];
	uint16_t config_vector;
	bool queue_enabled[DM_MAX_QUEUES];

	/* MSI-X. */
	uint16_t msix_control;
	uint8_t msix_table[64 * 16];

	/* Statistics and what the tests look at. */
	uint64_t notifies;
	uint64_t last_notify_off;      /* offset inside the notify structure */
	uint64_t dma_blocked;          /* DMA refused: bus mastering off */
	uint64_t msix_messages;
	uint64_t legacy_accesses, modern_accesses;
};

/* Build the function for dv (a device type's dm_virtio, env already set):
 * config space, capabilities, BARs.  dv->env is redirected through vp->env
 * so that DMA needs bus mastering.  cfg NULL: transitional, no quirks. */
void dm_vpci_init(struct dm_vpci *vp, const struct dm_vpci_cfg *cfg, struct dm_virtio *dv);
/* Rebuild config space with other quirks (before the driver probes). */
void dm_vpci_set_quirks(struct dm_vpci *vp, unsigned quirks);
/* Undo the env redirection (before dv or vp goes away). */
void dm_vpci_fini(struct dm_vpci *vp);
/* PCI device ID for a virtio device type in a profile. */
uint16_t dm_vpci_device_id(uint32_t virtio_type, enum dm_vpci_profile profile);

#ifdef __cplusplus
}
#endif
#endif
