/* SPDX-License-Identifier: MIT */
/*
 * Inside the host machine: the pieces machine.h hides (arena, bus,
 * scheduler, interrupt lines) and how machine.c ties them together.
 * Private to harness/src.
 */
#ifndef HX_INTERNAL_H
#define HX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devmodel/env.h"
#include "devmodel/report.h"
#include "harness/machine.h"

/* ---- Guest RAM arena (arena.c) ---- */

struct hx_range {
	uint64_t off; /* from the start of RAM */
	uint64_t len;
};

struct hx_arena {
	void *raw;          /* the mapping: a guard page, the RAM, a guard page */
	size_t raw_len;     /* its length */
	uint8_t *host;      /* page-aligned start of guest RAM */
	uint64_t base;      /* guest-physical address of host[0] */
	uint64_t size;
	struct hx_range *free; /* free ranges, sorted by off, never adjacent */
	size_t nfree, cap;
	struct hx_arena_stats stats;
	struct hx_mapping *maps; /* live dma_map()s, for dma_unmap to match */
	size_t nmaps, capmaps;
};

struct hx_mapping {
	uint64_t addr, len;
	int dir;
};

/* Record a dma_map of [addr, addr+len); false when out of memory. */
bool hx_arena_map(struct hx_arena *a, uint64_t addr, uint64_t len, int dir);
/* Match and drop a live map; false (a bad unmap, counted) when none matches. */
bool hx_arena_unmap(struct hx_arena *a, uint64_t addr, uint64_t len, int dir);

int hx_arena_init(struct hx_arena *a, uint64_t base, uint64_t size);
void hx_arena_fini(struct hx_arena *a);
void *hx_arena_alloc(struct hx_arena *a, size_t size, size_t align, uint64_t *dev);
/* false when [cpu, cpu+size) is not one allocated block's worth of arena. */
bool hx_arena_free(struct hx_arena *a, void *cpu, size_t size);
/* Guest address -> host pointer, NULL outside RAM (overflow-safe). */
/* Inline: every guest memory access of the models goes through it. */
static inline void *hx_arena_ptr(const struct hx_arena *a, uint64_t addr, uint64_t len)
{
	if (addr < a->base)
		return NULL;
	uint64_t off = addr - a->base;
	if (off > a->size || len > a->size - off)
		return NULL;
	return a->host + off;
}
/* Host pointer -> guest address; false outside RAM. */
bool hx_arena_addr(const struct hx_arena *a, const void *cpu, size_t len, uint64_t *addr);

/* ---- Address-space dispatch (bus.c); one for MMIO, one for port I/O ---- */

struct hx_region {
	uint64_t base, size;
	const struct hx_mmio_ops *ops;
	void *ctx;
};

struct hx_bus {
	struct hx_region *r; /* sorted by base, disjoint */
	size_t n, cap;
	uint64_t stray;
	size_t last; /* index of the region of the last access, tried first */
};

void hx_bus_fini(struct hx_bus *b);
int hx_bus_map(struct hx_bus *b, uint64_t base, uint64_t size, const struct hx_mmio_ops *ops, void *ctx);
/* width 1, 2 or 4 */
uint32_t hx_bus_read(struct hx_bus *b, uint64_t addr, unsigned width);
void hx_bus_write(struct hx_bus *b, uint64_t addr, unsigned width, uint32_t val);

/* ---- Seeded PRNG (rng.c): splitmix64 ---- */

struct hx_rng {
	uint64_t state;
};

void hx_rng_seed(struct hx_rng *r, uint64_t seed);
uint64_t hx_rng_next(struct hx_rng *r);
/* Uniform in [1, n] (n >= 1), without modulo bias. */
uint64_t hx_rng_range1(struct hx_rng *r, uint64_t n);

/* ---- Virtual clock and scheduler (sched.c) ---- */

typedef void (*hx_work_fn)(void *arg);

struct hx_work {
	hx_work_fn fn;
	void *arg;
};

enum hx_event_kind {
	HX_EV_WORK = 0,     /* a piece of device work */
	HX_EV_BATCH_FLUSH,  /* the BATCHED policy's deadline; arg = generation */
};

struct hx_event {
	uint64_t time;
	uint64_t seq;       /* insertion order: ties run first-in first-out */
	enum hx_event_kind kind;
	struct hx_work work;
	uint64_t gen;
};

/* A FIFO of work (the inline queue, the batch). */
struct hx_fifo {
	struct hx_work *w;
	size_t head, n, cap;
};

#define HX_BATCH_PIECES 4

struct hx_sched {
	uint64_t now;
	enum hx_sched_policy policy;
	uint64_t max_delay_ns;
	struct hx_rng rng;

	struct hx_event *heap; /* binary min-heap on (time, seq) */
	size_t nheap, capheap;
	size_t heap_work;      /* HX_EV_WORK entries in the heap */
	uint64_t seq;

	struct hx_fifo inline_q;  /* IMMEDIATE work waiting for the running piece */
	struct hx_fifo batch;     /* BATCHED work not yet released */
	uint64_t batch_gen;       /* bumps when a batch is released */
	bool running;             /* a piece of work is running now */

	struct hx_sched_stats stats;
};

void hx_sched_init(struct hx_sched *s, enum hx_sched_policy policy, uint64_t max_delay_ns, uint64_t seed);
void hx_sched_fini(struct hx_sched *s);
/* env->schedule: by policy. */
void hx_sched_work(struct hx_sched *s, hx_work_fn fn, void *arg);
/* env->schedule_at: always through the heap. */
void hx_sched_at(struct hx_sched *s, hx_work_fn fn, void *arg, uint64_t delay_ns);
void hx_sched_advance(struct hx_sched *s, uint64_t ns);
unsigned hx_sched_run_pending(struct hx_sched *s);
unsigned hx_sched_pending(const struct hx_sched *s);

/* ---- Devices and MMIO slots (devices.c) ---- */

struct hx_slot {
	struct hx_machine *m;
	unsigned index;
	uint64_t base;
	struct dm_mmio empty;  /* the front end of an unused slot (DeviceID 0) */
	struct hx_dev *dev;    /* NULL while empty */
};

int hx_slots_init(struct hx_machine *m);
void hx_devices_free(struct hx_machine *m);
/* Devices of this type on the machine so far (names them: net0, rng1, ...). */
unsigned hx_count_devs(struct hx_machine *m, uint32_t device_id);

/* ---- The machine (machine.c) ---- */

#define HX_IRQ_LINES 64

struct hx_machine {
	struct hx_machine_cfg cfg;
	struct hx_arena arena;
	struct hx_bus mmio;
	struct hx_bus pio;
	struct hx_sched sched;

	struct vlab_platform plat;
	struct dm_env env;
	struct dm_report report;

	bool irq_level[HX_IRQ_LINES];
	uint64_t irq_raises[HX_IRQ_LINES];

	void (*log_fn)(void *ctx, enum vlab_log_level, const char *);
	void *log_ctx;
	enum vlab_log_level log_max;

	struct hx_slot slots[HX_MMIO_SLOTS];
	struct hx_dev **devs;
	unsigned ndevs, capdevs;
	unsigned nblk;

	char err[512]; /* the last error message handed out by hx_add_blk */
	struct hx_pci *pci; /* PCI host, bridge, windows (pci_host.c); NULL until used */
};

extern const struct vlab_platform_ops hx_platform_ops;
void hx_env_init(struct hx_machine *m);
/* What every QEMU 7.2 device shows differently on transport t (feature
 * bits, queue size); the device profiles (hx_*_cfg_qemu72) apply it. */
void hx_qemu72_transport(uint64_t *features, uint16_t *queue_num_max, enum hx_transport t);
void hx_log(struct hx_machine *m, enum vlab_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
