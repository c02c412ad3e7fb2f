/* SPDX-License-Identifier: MIT */
/*
 * The host machine: guest RAM arena, bus dispatch, virtual clock and a
 * deterministic scheduler, and the platform contract implemented over them.
 * The only place that knows both driver/ and devmodel/.
 */
#ifndef HX_MACHINE_H
#define HX_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "devmodel/blk.h"
#include "devmodel/mmio.h"
#include "devmodel/report.h"
#include "devmodel/rng.h"
#include "vlab/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hx_sched_policy {
	HX_SCHED_IMMEDIATE = 0, /* device work runs at the notification */
	HX_SCHED_DEFERRED,      /* each piece of work after a seeded random delay */
	HX_SCHED_BATCHED,       /* work waits until several pieces or a seeded delay */
};

struct hx_machine_cfg {
	uint64_t ram_base;      /* default 0x80000000 (as QEMU's riscv virt) */
	uint64_t ram_size;      /* default 64 MiB */
	uint64_t seed;          /* scheduler seed */
	enum hx_sched_policy policy;
	uint64_t max_delay_ns;  /* bound of a deferred delay (default 50 us) */
	/* The platform's VLAB_PLAT_* flags (vlab/platform.h).  Default 0: the
	 * device reaches the buffers the driver maps and no others (the
	 * arena tracks the maps); VLAB_PLAT_DMA_ALL_MEMORY plays a platform
	 * whose device reads all memory, as the QEMU images' does. */
	uint32_t plat_flags;
};

void hx_machine_cfg_default(struct hx_machine_cfg *c);

struct hx_machine;
struct dm_net;

struct hx_mmio_ops {
	uint32_t (*read)(void *ctx, uint64_t off, unsigned width);
	void (*write)(void *ctx, uint64_t off, unsigned width, uint32_t val);
};

struct hx_machine *hx_machine_new(const struct hx_machine_cfg *cfg);
void hx_machine_free(struct hx_machine *m);

const struct vlab_platform *hx_platform(struct hx_machine *m);
struct dm_env *hx_env(struct hx_machine *m);
struct dm_report *hx_report(struct hx_machine *m);

/* Bus: map a region; accesses outside every region read as all-ones and
 * are counted (hx_stray_accesses). Returns 0, or -1 on overlap. */
int hx_map_mmio(struct hx_machine *m, uint64_t base, uint64_t size, const struct hx_mmio_ops *ops,
                void *ctx);
uint64_t hx_stray_accesses(struct hx_machine *m);
/* Port I/O space (for PCI): same rules as the MMIO bus; unmapped ports read
 * all-ones and count as stray.  Returns 0, or -1 on overlap or size 0. */
int hx_map_pio(struct hx_machine *m, uint32_t port, uint32_t size, const struct hx_mmio_ops *ops,
               void *ctx);

/* Interrupt lines as the model drives them (env->irq). */
bool hx_irq_level(struct hx_machine *m, unsigned line);
/* Times the model drove line high (every call with level true). */
uint64_t hx_irq_raises(struct hx_machine *m, unsigned line);

/* Guest RAM. */
uint64_t hx_ram_base(struct hx_machine *m);
uint64_t hx_ram_size(struct hx_machine *m);
/* Host pointer to guest-physical [addr, addr+len), NULL when outside RAM. */
void *hx_ram_ptr(struct hx_machine *m, uint64_t addr, uint64_t len);
/* DMA allocation from the arena (what the platform's dma_alloc does). */
void *hx_dma_alloc(struct hx_machine *m, size_t size, size_t align, uint64_t *dev);
void hx_dma_free(struct hx_machine *m, void *cpu, size_t size);

struct hx_arena_stats {
	uint64_t size;          /* bytes of guest RAM */
	uint64_t used;          /* bytes allocated now (after rounding) */
	uint64_t peak_used;
	uint64_t allocs, frees;
	uint64_t failed_allocs; /* no room, bad alignment */
	uint64_t bad_frees;     /* pointer/size not an allocated block: ignored */
	uint64_t free_ranges;   /* fragments in the free list */
	uint64_t largest_free;
	/* dma_map / dma_unmap of callers' buffers (the release rule: a
	 * buffer is unmapped once the device can no longer reach it). */
	uint64_t mapped;        /* buffers mapped now */
	uint64_t maps, unmaps;
	uint64_t bad_unmaps;    /* an unmap that matches no live map (twice, wrong size,
	                           direction or address): a driver bug */
};
void hx_arena_get_stats(struct hx_machine *m, struct hx_arena_stats *st);

/* Virtual time. */
uint64_t hx_now(struct hx_machine *m);
/* Advance the clock by ns, running work as it falls due. */
void hx_advance(struct hx_machine *m, uint64_t ns);
/* Run all pending work (advancing time as needed); returns pieces run.
 * Stops after 2^24 pieces, so work that keeps rescheduling itself ends a
 * test instead of hanging it. */
unsigned hx_run_pending(struct hx_machine *m);
unsigned hx_pending(struct hx_machine *m);

struct hx_sched_stats {
	uint64_t scheduled;     /* env->schedule calls */
	uint64_t scheduled_at;  /* env->schedule_at calls */
	uint64_t run;           /* pieces of work run */
	uint64_t nested;        /* IMMEDIATE work queued behind running work */
	uint64_t batches;       /* BATCHED releases */
};
void hx_sched_get_stats(struct hx_machine *m, struct hx_sched_stats *st);

/* Log lines from the driver go here (default: stderr at WARN and above).
 * Lines above max_level are dropped; fn NULL means stderr, as
 * "vlab: <level>: <msg>". */
/* "error", "warn", "info", "debug"; "?" for anything else. */
const char *hx_log_level_name(enum vlab_log_level level);
void hx_set_log(struct hx_machine *m, void (*fn)(void *ctx, enum vlab_log_level, const char *), void *ctx,
                enum vlab_log_level max_level);

/* ---- Devices ---- */

enum hx_transport {
	HX_MMIO_LEGACY = 0, /* virtio-mmio version 1 */
	HX_MMIO,            /* virtio-mmio version 2 */
	HX_PCI_LEGACY,      /* virtio-pci, legacy only (transitional ID, I/O BAR) */
	HX_PCI_TRANSITIONAL,/* virtio-pci, transitional: legacy I/O BAR and capabilities */
	HX_PCI,             /* virtio-pci, modern only (0x1040 + type) */
	HX_TRANSPORT_COUNT
};
const char *hx_transport_name(enum hx_transport t);
/* Parse "mmio-legacy", "mmio", "pci-legacy", "pci-transitional", "pci";
 * -1 when unknown. */
int hx_transport_parse(const char *s);

struct hx_blk_opts {
	enum hx_transport transport;
	const char *image;      /* raw image file, or NULL for a RAM disk */
	uint64_t ram_bytes;     /* RAM disk size (default 16 MiB) */
	bool read_only;
	bool qemu_profile;      /* offer what QEMU 7.2 offers */
	struct dm_blk_cfg cfg;  /* used when cfg_set */
	bool cfg_set;
	/* Ring features offered / withdrawn on top of the above (vlab's
	 * packed=, indirect_desc=, event_idx=; dm_ring_option). */
	uint64_t features_on, features_off;
	/* QEMU's virtio-blk properties on top of the above (hx_blk_prop);
	 * 0: the configuration's own. */
	uint32_t logical_block_size, physical_block_size;
	uint16_t queue_size;
	uint8_t config_wce, write_cache; /* 0 unset, 1 off, 2 on */
	uint8_t discard, write_zeroes;   /* 0 unset, 1 off, 2 on */
	uint32_t max_discard_sectors, max_write_zeroes_sectors; /* 0 unset */
	uint16_t num_queues;             /* 0 unset; > 1 offers MQ */
};
void hx_blk_opts_default(struct hx_blk_opts *o);
/*
 * One of QEMU 7.2's virtio-blk -device properties, "name=value", into o:
 * logical_block_size=, physical_block_size= (powers of two, 512..65536);
 * queue-size= (a power of two, 4..1024: the size a PCI transport shows,
 * seg_max = queue-size - 2 as QEMU's seg-max-adjust); config-wce=on|off
 * (CONFIG_WCE offered or not), write-cache=on|off (the initial writeback);
 * discard=on|off, write-zeroes=on|off (DISCARD / WRITE_ZEROES offered or
 * not, with QEMU's limits when the configuration has none),
 * max-discard-sectors=, max-write-zeroes-sectors= (1..0x3fffff, as QEMU);
 * num-queues= (1..DM_MAX_QUEUES: above 1, MQ offered with that many
 * request queues, as QEMU offers MQ only then).
 * 1 when taken, 0 when tok is no such property, -1 for a bad value (*why
 * then says what is allowed).
 */
int hx_blk_prop(struct hx_blk_opts *o, const char *tok, const char **why);
/* The property names hx_blk_prop takes, for usage messages. */
#define HX_BLK_PROP_NAMES                                                                             \
	"logical_block_size=, physical_block_size=, queue-size=, config-wce=, write-cache=, discard=, "    \
	"write-zeroes=, max-discard-sectors=, max-write-zeroes-sectors=, num-queues="
/* The cfg hx_add_blk gives the model for o (profile, properties, ring
 * options, ro applied). */
void hx_blk_opts_cfg(const struct hx_blk_opts *o, struct dm_blk_cfg *cfg);

struct hx_dev {
	unsigned index;          /* 0, 1, ... in order of adding */
	enum hx_transport transport;
	uint64_t base;           /* mmio base */
	uint32_t device_id;
	struct dm_virtio *dv;
	struct dm_blk *blk;      /* for block devices */
	struct dm_mmio mmio;
	unsigned slot;           /* mmio slot number */
	unsigned irq_line;       /* 1 + slot */
	struct dm_net *net;      /* for network devices (harness/net.h) */
	/* PCI transports (harness/pci_host.h): bus 0 device and function,
	 * the virtio function's front end. */
	unsigned pci_dev, pci_fn;
	struct dm_vpci *vpci;
	struct dm_rng *rng;      /* for entropy devices */
};

/* MMIO layout as QEMU's riscv virt machine: HX_MMIO_SLOTS slots, slot i at
 * HX_MMIO_SLOT_BASE + i * HX_MMIO_SLOT_SIZE with interrupt line 1 + i.  All
 * slots are mapped at creation; an unused slot reads as a virtio-mmio
 * device with DeviceID 0 (as QEMU's do).  Devices fill slots in order. */
#define HX_MMIO_SLOT_BASE 0x10001000ull
#define HX_MMIO_SLOT_SIZE 0x1000u
#define HX_MMIO_SLOTS 8u
#define HX_MMIO_VENDOR_ID 0x554d4551u /* "QEMU" */

/* Add a block device; mmio slots at 0x10001000 + 0x1000 * n (QEMU riscv
 * virt layout).  NULL with *err set (e.g. image missing, odd size). */
struct hx_dev *hx_add_blk(struct hx_machine *m, const struct hx_blk_opts *o, const char **err);
/* An entropy device (virtio-rng, device ID 4; on PCI 0x1005 transitional,
 * 0x1044 modern, as QEMU's virtio-rng-pci). */
struct hx_rng_opts {
	enum hx_transport transport;
	struct dm_rng_cfg cfg;  /* seed, max bytes per request, fault knobs */
	/* Ring features offered / withdrawn on top of cfg.features. */
	uint64_t features_on, features_off;
};
/* HX_MMIO and dm_rng_cfg_default. */
void hx_rng_opts_default(struct hx_rng_opts *o);
/* Add one (o NULL: the defaults); NULL with *err set. */
struct hx_dev *hx_add_rng(struct hx_machine *m, const struct hx_rng_opts *o, const char **err);
/*
 * Put a device model on transport t: d->dv and d->device_id must be set;
 * the transport's front end is created and mapped, and d->transport, base,
 * slot and irq_line filled in.  Every device type (blk, net, ...) attaches
 * through here, so every type runs over every transport.  0, or -1 with
 * *err set.
 */
int hx_attach(struct hx_machine *m, struct hx_dev *d, enum hx_transport t, const char **err);
/* Does t present a legacy interface only (the device offers no VERSION_1)? */
bool hx_transport_legacy_only(enum hx_transport t);
bool hx_transport_is_pci(enum hx_transport t);
/* The QEMU 7.2 virtio-blk profile as QEMU shows it on transport t. */
void hx_blk_cfg_qemu72(struct dm_blk_cfg *c, enum hx_transport t);
unsigned hx_ndevs(struct hx_machine *m);
struct hx_dev *hx_dev_at(struct hx_machine *m, unsigned i);

#ifdef __cplusplus
}
#endif
#endif
