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
};

void hx_machine_cfg_default(struct hx_machine_cfg *c);

struct hx_machine;

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

/* Guest RAM. */
uint64_t hx_ram_base(struct hx_machine *m);
uint64_t hx_ram_size(struct hx_machine *m);
/* Host pointer to guest-physical [addr, addr+len), NULL when outside RAM. */
void *hx_ram_ptr(struct hx_machine *m, uint64_t addr, uint64_t len);
/* DMA allocation from the arena (what the platform's dma_alloc does). */
void *hx_dma_alloc(struct hx_machine *m, size_t size, size_t align, uint64_t *dev);
void hx_dma_free(struct hx_machine *m, void *cpu, size_t size);

/* Virtual time. */
uint64_t hx_now(struct hx_machine *m);
/* Advance the clock by ns, running work as it falls due. */
void hx_advance(struct hx_machine *m, uint64_t ns);
/* Run all pending work (advancing time as needed); returns pieces run. */
unsigned hx_run_pending(struct hx_machine *m);
unsigned hx_pending(struct hx_machine *m);

/* Log lines from the driver go here (default: stderr at WARN and above). */
void hx_set_log(struct hx_machine *m, void (*fn)(void *ctx, enum vlab_log_level, const char *), void *ctx,
                enum vlab_log_level max_level);

/* ---- Devices ---- */

enum hx_transport {
	HX_MMIO_LEGACY = 0, /* virtio-mmio version 1 */
	HX_MMIO,            /* virtio-mmio version 2 */
	HX_TRANSPORT_COUNT
};
const char *hx_transport_name(enum hx_transport t);
/* Parse "mmio-legacy", "mmio"; -1 when unknown. */
int hx_transport_parse(const char *s);

struct hx_blk_opts {
	enum hx_transport transport;
	const char *image;      /* raw image file, or NULL for a RAM disk */
	uint64_t ram_bytes;     /* RAM disk size (default 16 MiB) */
	bool read_only;
	bool qemu_profile;      /* offer what QEMU 7.2 offers */
	struct dm_blk_cfg cfg;  /* used when cfg_set */
	bool cfg_set;
};
void hx_blk_opts_default(struct hx_blk_opts *o);

struct hx_dev {
	unsigned index;          /* 0, 1, ... in order of adding */
	enum hx_transport transport;
	uint64_t base;           /* mmio base */
	uint32_t device_id;
	struct dm_virtio *dv;
	struct dm_blk *blk;      /* for block devices */
	struct dm_mmio mmio;
};

/* Add a block device; mmio slots at 0x10001000 + 0x1000 * n (QEMU riscv
 * virt layout).  NULL with *err set (e.g. image missing, odd size). */
struct hx_dev *hx_add_blk(struct hx_machine *m, const struct hx_blk_opts *o, const char **err);
unsigned hx_ndevs(struct hx_machine *m);
struct hx_dev *hx_dev_at(struct hx_machine *m, unsigned i);

#ifdef __cplusplus
}
#endif
#endif
