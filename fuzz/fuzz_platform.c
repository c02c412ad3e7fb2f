/* SPDX-License-Identifier: MIT */
/*
 * The platform contract answered from fuzz input; see fuzz_platform.h.
 * Here: the input streams, DMA memory, the platform ops and the virtio-mmio
 * front end.  The device side is fuzz_device.c, the PCI front end
 * fuzz_pci.c.
 */
#define _POSIX_C_SOURCE 200809L /* getline, for the trace's header */
#include "fuzz_platform.h"

#include <signal.h>
#include <string.h>

#ifndef FZ_NO_TRACE
#include "harness/trace.h"
#endif
#include "vlab/blk.h"
#include "vlab/mmio.h"
#include "vlab/pci.h"

static struct fz *of(void *ctx)
{
	return (struct fz *)ctx;
}

/* FUZZ_REPLAY: the replay platform instead of the fuzz device. */
static void replay_attach(struct fz *f);

/* ---- Input streams ---- */

bool fz_exhausted(const struct fz *f)
{
	return f->head >= f->tail;
}

uint8_t fz_ctl8(struct fz *f)
{
	if (f->head >= f->tail)
		return 0;
	return f->data[f->head++];
}

uint16_t fz_ctl16(struct fz *f)
{
	uint16_t lo = fz_ctl8(f);
	return (uint16_t)(lo | (uint16_t)fz_ctl8(f) << 8);
}

uint64_t fz_pay(struct fz *f, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n && i < 8; i++) {
		if (f->tail <= f->head)
			break;
		v |= (uint64_t)f->data[--f->tail] << (8 * i);
	}
	return v;
}

bool fz_lie(struct fz *f)
{
	if (f->lie_shift >= 8)
		return false;
	if (fz_ctl8(f) < (uint8_t)(0xff - (0xffu >> f->lie_shift)))
		return false;
	f->lied = true;
	return true;
}

/* ---- The target's choices (fuzz traces) ---- */

/* Record mode: keep v's n bytes (only while a trace is recorded: the
 * header's fuzz-side line), and say so in a comment. */
static uint64_t side_put(struct fz *f, uint64_t v, unsigned n)
{
	if (!f->trace)
		return v;
	if (f->nside + n > f->side_cap) {
		size_t cap = f->side_cap ? 2 * f->side_cap : 256;
		uint8_t *b = realloc(f->side, cap);
		if (!b)
			abort();
		f->side = b;
		f->side_cap = cap;
	}
	for (unsigned i = 0; i < n; i++)
		f->side[f->nside++] = (uint8_t)(v >> (8 * i));
	/* Where it fell among the events, for the reader. */
	fprintf(f->trace_file, "# fuzz: choice 0x%llx (%u byte%s)\n", (unsigned long long)v, n, n == 1 ? "" : "s");
	return v;
}

/* Replay: the next n bytes of the recorded choices (0 beyond them). */
static uint64_t side_get(struct fz *f, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (f->side_pos >= f->nside) {
			f->side_over = true;
			return 0;
		}
		v |= (uint64_t)f->side[f->side_pos++] << (8 * i);
	}
	return v;
}

#define FZ_CHOICE(f, n, expr) ((f)->replay ? side_get(f, n) : side_put(f, (expr), n))

uint64_t fz_choice(struct fz *f, unsigned n, uint64_t v) { return FZ_CHOICE(f, n, v); }
uint8_t fz_choose8(struct fz *f) { return (uint8_t)FZ_CHOICE(f, 1, fz_ctl8(f)); }
uint16_t fz_choose16(struct fz *f) { return (uint16_t)FZ_CHOICE(f, 2, fz_ctl16(f)); }
uint64_t fz_choose_pay(struct fz *f, unsigned n) { return FZ_CHOICE(f, n < 8 ? n : 8, fz_pay(f, n)); }
bool fz_choose_lie(struct fz *f) { return FZ_CHOICE(f, 1, fz_lie(f)) != 0; }
/* (Replay: the recorded choices ran out, so the target stops too.) */
bool fz_choose_done(struct fz *f) { return FZ_CHOICE(f, 1, fz_exhausted(f)) != 0 || f->side_over; }

/* ---- DMA memory ---- */

void *fz_alloc(struct fz *f, size_t n, size_t align, vlab_addr_t *dev)
{
	size_t off, len = (n + FZ_GRANULE - 1) & ~(size_t)(FZ_GRANULE - 1);

	if (align == 0 || (align & (align - 1)) != 0)
		return NULL;
	if (align < FZ_GRANULE)
		align = FZ_GRANULE; /* every block owns its granules */
	off = (f->arena_used + align - 1) & ~(align - 1);
	if (off > FZ_ARENA || len > FZ_ARENA - off)
		return NULL;
	f->arena_used = off + len;
	memset(f->arena + off, 0, n);
	memset(f->live + off / FZ_GRANULE, 1, len / FZ_GRANULE);
	*dev = FZ_DMA_BASE + off;
	return f->arena + off;
}

/* [off, off+len) of the arena: inside it, and (len > 0) still allocated? */
static bool live_range(struct fz *f, size_t off, size_t len, const char *who)
{
	if (off > f->arena_used || len > f->arena_used - off)
		return false;
	if (len && (!f->live[off / FZ_GRANULE] || !f->live[(off + len - 1) / FZ_GRANULE]))
		FZ_ABORT("%s %zu bytes at arena offset 0x%zx after the driver freed them", who, len, off);
	return true;
}

uint8_t *fz_dma_ptr(struct fz *f, uint64_t addr, uint64_t len)
{
	if (addr < FZ_DMA_BASE || addr - FZ_DMA_BASE > FZ_ARENA || len > FZ_ARENA)
		return NULL;
	addr -= FZ_DMA_BASE;
	if (!live_range(f, (size_t)addr, (size_t)len, "the device was given"))
		return NULL;
	return f->arena + addr;
}

static bool in_arena(struct fz *f, const volatile void *p, size_t n, const char *who)
{
	const uint8_t *b = (const uint8_t *)(uintptr_t)p;
	if (b < f->arena || (size_t)(b - f->arena) > FZ_ARENA || n > FZ_ARENA - (size_t)(b - f->arena))
		return false;
	return live_range(f, (size_t)(b - f->arena), n, who);
}

/* ---- virtio-mmio registers ---- */

static uint32_t mmio_honest(struct fz *f, uint64_t off, unsigned width)
{
	struct fz_queue *q = fz_selected(f);

	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		return c + width <= FZ_CONFIG_BYTES ? fz_ld(f->config + c, width) : 0;
	}
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return f->version;
	case VIRTIO_MMIO_DEVICE_ID: return f->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551u;
	case VIRTIO_MMIO_DEVICE_FEATURES: return (uint32_t)(f->features >> (f->dfsel ? 32 : 0));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q && f->version != 1 ? q->ready : 0;
	case VIRTIO_MMIO_QUEUE_PFN: return q ? q->pfn : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return f->isr;
	case VIRTIO_MMIO_STATUS: return f->status;
	case VIRTIO_MMIO_CONFIG_GENERATION: return f->generation;
	default: return 0;
	}
}

static void mmio_write(struct fz *f, uint64_t off, uint32_t v)
{
	struct fz_queue *q = fz_selected(f);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: f->dfsel = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: f->gfsel = v; return;
	case VIRTIO_MMIO_DRIVER_FEATURES: fz_set_half(&f->driver_features, f->gfsel != 0, v); return;
	case VIRTIO_MMIO_QUEUE_SEL: f->qsel = v; return;
	case VIRTIO_MMIO_GUEST_PAGE_SIZE: f->page_size = v; return;
	case VIRTIO_MMIO_INTERRUPT_ACK: f->isr &= ~v; return;
	case VIRTIO_MMIO_QUEUE_NOTIFY: fz_notify(f, v); return;
	case VIRTIO_MMIO_STATUS: fz_set_status(f, v); return;
	default:
		break;
	}
	if (!q)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: q->num = v; break;
	case VIRTIO_MMIO_QUEUE_ALIGN: f->queue_align = v; break;
	case VIRTIO_MMIO_QUEUE_PFN: fz_queue_pfn(f, q, v, f->page_size, f->queue_align); break;
	case VIRTIO_MMIO_QUEUE_READY: q->ready = v & 1; fz_queue_restart(f, q); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: fz_set_half(&q->desc, false, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: fz_set_half(&q->desc, true, v); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: fz_set_half(&q->avail, false, v); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: fz_set_half(&q->avail, true, v); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: fz_set_half(&q->used, false, v); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: fz_set_half(&q->used, true, v); break;
	default: break;
	}
}

/* Every register access: the virtio-mmio device, the PCI front end, or
 * nothing (reads of nothing come from the payload: they should not happen). */
static uint32_t reg_read(void *ctx, vlab_addr_t addr, unsigned width)
{
	struct fz *f = of(ctx);
	uint64_t off = addr - FZ_MMIO_BASE;
	uint32_t v = 0;

	if (addr >= FZ_MMIO_BASE && off < VIRTIO_MMIO_SIZE && !f->pci.on)
		return fz_lie(f) ? (uint32_t)fz_pay(f, width) : mmio_honest(f, off, width);
	if (f->pci.on && fz_pci_mmio(f, addr, width, false, &v))
		return v;
	return (uint32_t)fz_pay(f, width);
}

static void reg_write(void *ctx, vlab_addr_t addr, unsigned width, uint32_t v)
{
	struct fz *f = of(ctx);
	uint64_t off = addr - FZ_MMIO_BASE;

	if (addr >= FZ_MMIO_BASE && off < VIRTIO_MMIO_SIZE && !f->pci.on)
		mmio_write(f, off, v);
	else if (f->pci.on)
		(void)fz_pci_mmio(f, addr, width, true, &v);
}

static uint8_t rd8(void *c, vlab_addr_t a) { return (uint8_t)reg_read(c, a, 1); }
static uint16_t rd16(void *c, vlab_addr_t a) { return (uint16_t)reg_read(c, a, 2); }
static uint32_t rd32(void *c, vlab_addr_t a) { return reg_read(c, a, 4); }
static void wr8(void *c, vlab_addr_t a, uint8_t v) { reg_write(c, a, 1, v); }
static void wr16(void *c, vlab_addr_t a, uint16_t v) { reg_write(c, a, 2, v); }
static void wr32(void *c, vlab_addr_t a, uint32_t v) { reg_write(c, a, 4, v); }
static uint8_t prd8(void *c, uint32_t p) { return (uint8_t)fz_pci_port_read(of(c), p, 1); }
static uint16_t prd16(void *c, uint32_t p) { return (uint16_t)fz_pci_port_read(of(c), p, 2); }
static uint32_t prd32(void *c, uint32_t p) { return fz_pci_port_read(of(c), p, 4); }
static void pwr8(void *c, uint32_t p, uint8_t v) { fz_pci_port_write(of(c), p, 1, v); }
static void pwr16(void *c, uint32_t p, uint16_t v) { fz_pci_port_write(of(c), p, 2, v); }
static void pwr32(void *c, uint32_t p, uint32_t v) { fz_pci_port_write(of(c), p, 4, v); }

/* ---- Device-writable memory: honest, a lie, or (racy) fresh every time ---- */

static void shm_read(void *ctx, void *dst, const volatile void *src, size_t n)
{
	struct fz *f = of(ctx);
	volatile uint8_t *s = (volatile uint8_t *)(uintptr_t)src;

	if (!in_arena(f, src, n, "the driver read"))
		FZ_ABORT("shm read of %zu bytes outside DMA memory", n);
	if (f->racy || fz_lie(f)) {
		f->shm_lied = f->lied = true;
		for (size_t i = 0; i < n; i++)
			s[i] = (uint8_t)fz_pay(f, 1); /* the device writes it now */
	}
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = s[i];
}

static uint16_t shm16(void *ctx, const volatile void *p)
{
	uint16_t v;
	shm_read(ctx, &v, p, 2);
	return v;
}

static uint32_t shm32(void *ctx, const volatile void *p)
{
	uint32_t v;
	shm_read(ctx, &v, p, 4);
	return v;
}

static void *dma_alloc(void *ctx, size_t size, size_t align, vlab_addr_t *dev)
{
	return fz_alloc(of(ctx), size, align, dev);
}

static void dma_free(void *ctx, void *cpu, size_t size)
{
	struct fz *f = of(ctx);
	const uint8_t *b = cpu;
	size_t off = (size_t)(b - f->arena), len = (size + FZ_GRANULE - 1) & ~(size_t)(FZ_GRANULE - 1);

	/* A bump allocator: nothing is reused, but freed memory is marked. */
	if (b < f->arena || off % FZ_GRANULE || !in_arena(f, cpu, size, "the driver freed again"))
		FZ_ABORT("dma_free of %zu bytes not from dma_alloc", size);
	memset(f->live + off / FZ_GRANULE, 0, len / FZ_GRANULE);
}

static int dma_map(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	struct fz *f = of(ctx);
	if (dir < VLAB_DMA_TO_DEVICE || dir > VLAB_DMA_BIDIRECTIONAL)
		FZ_ABORT("dma_map with direction %d", (int)dir);
	if (!in_arena(f, cpu, len, "the driver mapped"))
		return VLAB_EINVAL;
	*dev = FZ_DMA_BASE + (uint64_t)((const uint8_t *)cpu - f->arena);
	f->maps++;
	return 0;
}

/* One unmap per map, with the address the map gave, never more unmaps
 * than maps. */
static void dma_unmap(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev)
{
	struct fz *f = of(ctx);
	(void)dir;
	if (!in_arena(f, cpu, len, "the driver unmapped") ||
	    dev != FZ_DMA_BASE + (uint64_t)((const uint8_t *)cpu - f->arena))
		FZ_ABORT("dma_unmap of %zu bytes at 0x%llx: not what dma_map gave", len, (unsigned long long)dev);
	if (f->unmaps == f->maps)
		FZ_ABORT("more dma_unmap calls than dma_map calls");
	f->unmaps++;
}

static void barrier(void *ctx) { (void)ctx; }
static uint64_t now_ns(void *ctx) { return of(ctx)->now; }
static void delay_ns(void *ctx, uint64_t ns)
{
	struct fz *f = of(ctx);
	f->now += ns ? ns : 1;
	if (++f->delays > 100000000ull)
		FZ_ABORT("more than 1e8 delays: an unbounded wait");
}

/* FZ_LOG=1 in the environment: the driver's log on stderr (to read a
 * finding; off while fuzzing, where formatting would cost time). */
static void log_line(void *ctx, enum vlab_log_level level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "vlab[%d]: %s\n", (int)level, msg);
}

int fz_blk_accepted(struct fz *f, struct vlab_blk *b)
{
	const struct vlab_virtio_dev *d = b->vdev;
	vlab_addr_t dev;
	uint8_t *buf;
	int rc = 0;

	if (b->vq.size == 0 || b->vq.size > VLAB_VQ_SIZE_MAX || (b->vq.size & (b->vq.size - 1)))
		FZ_ABORT("blk accepted a queue of %u", b->vq.size);
	if (b->info.blk_size < 512 || (b->info.blk_size & (b->info.blk_size - 1)))
		FZ_ABORT("blk accepted a block size of %u", b->info.blk_size);
	if (b->info.capacity > UINT64_MAX / 512)
		FZ_ABORT("blk accepted a capacity of %llu sectors", (unsigned long long)b->info.capacity);
	if (d->features & ~d->device_features)
		FZ_ABORT("accepted features 0x%llx not offered", (unsigned long long)(d->features & ~d->device_features));
	buf = fz_buffer(f, 512, 512, &dev);
	if (buf && b->info.capacity > 0)
		rc = vlab_blk_read(b, 0, buf, 1);
	fz_transport_extras(f, b->vdev);
	vlab_blk_shutdown(b);
	return rc;
}

void fz_transport_extras(struct fz *f, struct vlab_virtio_dev *d)
{
	static const unsigned widths[6] = {1, 2, 4, 8, 3, 0};
	unsigned n = (unsigned)fz_choose_pay(f, 1) % 8;

	for (unsigned i = 0; i < n; i++) {
		unsigned op = (unsigned)fz_choose_pay(f, 1);
		uint32_t off = (uint32_t)fz_choose_pay(f, 1) | (op & 0x80u ? 0x100u : 0);
		unsigned w = widths[op % 6];
		uint32_t v = 0;
		uint8_t buf[8];

		switch ((op >> 3) % 4) {
		case 0: (void)d->ops->config_read(d, off, w, &v); break;
		case 1: (void)d->ops->config_write(d, off, w, (uint32_t)fz_choose_pay(f, 4)); break;
		case 2: (void)vlab_virtio_config_read(d, off, buf, w <= 8 ? w : 8); break;
		default:
			memset(buf, (int)op, sizeof buf);
			(void)vlab_virtio_config_write(d, off, buf, w <= 8 ? w : 8);
			break;
		}
	}
}

void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	static uint8_t *arena, *disk, *live;
	static int verbose = -1;

	if (!arena) {
		arena = malloc(FZ_ARENA);
		live = calloc(FZ_ARENA / FZ_GRANULE, 1);
		disk = calloc(FZ_DISK_SECTORS, 512);
		if (!arena || !disk || !live)
			abort();
	}
	memset(live, 0, (f->arena_used + FZ_GRANULE - 1) / FZ_GRANULE); /* what the last input used */
	/* The disk only if the last input wrote it (most do not: net, ring,
	 * probes), not 32 KiB every execution. */
	if (f->disk_written)
		memset(disk, 0, FZ_DISK_SECTORS * 512);
	memset(f, 0, sizeof *f);
	f->live = live;
	f->disk = disk;
	f->data = data;
	f->size = size;
	f->head = 0;
	f->tail = size;
	f->lie_shift = 8; /* honest until the target says otherwise */
	f->arena = arena;
	f->ops.mmio_read8 = rd8;
	f->ops.mmio_read16 = rd16;
	f->ops.mmio_read32 = rd32;
	f->ops.mmio_write8 = wr8;
	f->ops.mmio_write16 = wr16;
	f->ops.mmio_write32 = wr32;
	f->ops.pio_read8 = prd8;
	f->ops.pio_read16 = prd16;
	f->ops.pio_read32 = prd32;
	f->ops.pio_write8 = pwr8;
	f->ops.pio_write16 = pwr16;
	f->ops.pio_write32 = pwr32;
	f->ops.dma_alloc = dma_alloc;
	f->ops.dma_free = dma_free;
	f->ops.dma_map = dma_map;
	f->ops.dma_unmap = dma_unmap;
	f->ops.shm_read16 = shm16;
	f->ops.shm_read32 = shm32;
	f->ops.shm_read = shm_read;
	f->ops.mb = barrier;
	f->ops.rmb = barrier;
	f->ops.wmb = barrier;
	f->ops.now_ns = now_ns;
	f->ops.delay_ns = delay_ns;
	if (verbose < 0)
		verbose = getenv("FZ_LOG") != NULL;
	if (verbose)
		f->ops.log = log_line;
	f->plat.ops = &f->ops;
	f->plat.ctx = f;

	/* The honest device: virtio-mmio 2, blk, VERSION_1 | SEG_MAX | BLK_SIZE | FLUSH. */
	f->version = 2;
	f->device_id = VIRTIO_ID_BLOCK;
	f->features = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_BLK_F_SEG_MAX) |
	              VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE) | VLAB_BIT(VIRTIO_BLK_F_FLUSH);
	f->q[0].max = 64;
	fz_st(f->config + VIRTIO_BLK_CFG_CAPACITY, 4, FZ_DISK_SECTORS);
	fz_st(f->config + VIRTIO_BLK_CFG_SEG_MAX, 4, 8);
	fz_st(f->config + VIRTIO_BLK_CFG_BLK_SIZE, 4, 512);
	/* DISCARD / WRITE_ZEROES limits, for an input whose lies offer them
	 * (the honest device does not, so that its traces stay as they are):
	 * small parts, so that ranges are split. */
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4, FZ_DWZ_MAX_SECTORS);
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4, 1);
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT, 4, 2);
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, 4, FZ_DWZ_MAX_SECTORS);
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, 4, 1);
	fz_st(f->config + VLAB_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP, 1, 1);
	f->engine = FZ_ENGINE_BLK;
	fz_dev_reset(f);
	replay_attach(f);
}

/* The input named on the command line (LLVMFuzzerInitialize). */
static const char *input_name = "-";

/* FZ_NO_TRACE (fuzz/build.sh: no harness, no device model): no traces. */
#ifdef FZ_NO_TRACE
static void replay_attach(struct fz *f)
{
	(void)f;
}
void fz_trace_start(struct fz *f, const char *target)
{
	(void)f;
	(void)target;
	if (getenv("FUZZ_TRACE") || getenv("FUZZ_REPLAY")) {
		fprintf(stderr, "FUZZ_TRACE, FUZZ_REPLAY: this build has no traces (fuzz/build.sh); use the CMake builds\n");
		exit(2);
	}
}
void fz_trace_device(struct fz *f, const char *type, const char *transport, const struct vlab_pci_host *h,
                     unsigned flags)
{
	(void)f, (void)type, (void)transport, (void)h, (void)flags;
}
void *fz_buffer(struct fz *f, size_t n, size_t align, vlab_addr_t *dev)
{
	return fz_alloc(f, n, align, dev);
}
void fz_fini(struct fz *f)
{
	(void)f;
}
#else
/* Replay (FUZZ_REPLAY=TRACE): the trace, its replayer, the input and the
 * target's choices from its header, and how the run went. */
static struct {
	const char *path;
	struct hx_trace *t;
	struct hx_replay *r;
	uint8_t *input, *side;
	size_t ninput, nside;
	char target[64];
	bool finished;      /* fz_fini ran */
	size_t side_used;
	bool side_over;
} rp;
/* Recording: the trace's file, and the execution (for an abort). */
static const char *trace_path;
static struct fz *tracing;

/* In replay the platform is the replayer's, the device side is absent, and
 * its oracles are off: as if the device lied (f->lied, f->shm_lied). */
static void replay_attach(struct fz *f)
{
	if (!rp.r)
		return;
	f->replay = true;
	f->plat = *hx_replay_platform(rp.r);
	f->lied = f->shm_lied = true;
	f->side = rp.side;
	f->nside = rp.nside;
}

void *fz_buffer(struct fz *f, size_t n, size_t align, vlab_addr_t *dev)
{
	if (f->replay) {
		*dev = side_get(f, 8);
		return *dev ? hx_replay_buffer(rp.r, n, align, *dev) : NULL;
	}
	void *p = fz_alloc(f, n, align, dev);
	side_put(f, p ? *dev : 0, 8);
	return p;
}

void fz_trace_device(struct fz *f, const char *type, const char *transport, const struct vlab_pci_host *h,
                     unsigned flags)
{
	if (!f->trace)
		return;
	snprintf(f->device_line, sizeof f->device_line, "device 0 %s transport=%s", type, transport);
	if (h)
		snprintf(f->bind_line, sizeof f->bind_line,
		         "bind pci dev=%u fn=0 flags=0x%x cfg=%s ecam=0x%llx buses=%u mem=0x%llx+0x%llx io=0x%x+0x%x "
		         "pio=%s pio_base=0x%llx ram=0x%llx+0x%llx",
		         FZ_PCI_DEV, flags, h->cfg_ports ? "ports" : "ecam", (unsigned long long)h->ecam_base,
		         h->ecam_buses, (unsigned long long)h->mem_base, (unsigned long long)h->mem_size, h->io_base,
		         h->io_size, h->pio_mmio ? "mmio" : "ports", (unsigned long long)h->pio_mmio_base,
		         (unsigned long long)h->ram_base, (unsigned long long)h->ram_size);
	else if (!strcmp(transport, "none"))
		snprintf(f->bind_line, sizeof f->bind_line, "bind none flags=0x%x", flags);
	else
		snprintf(f->bind_line, sizeof f->bind_line, "bind mmio base=0x%llx flags=0x%x",
		         (unsigned long long)FZ_MMIO_BASE, flags);
}

/* A trace of an input that makes the target abort, or a sanitizer report
 * (a finding), ends there. */
static void end_trace_early(const char *why)
{
	struct fz *f = tracing;
	if (f && f->trace_file) {
		fprintf(f->trace_file, "# fuzz: %s (a finding)\n", why);
		fz_fini(f);
	}
}

static void abort_while_tracing(int sig)
{
	end_trace_early("the target aborted here");
	signal(sig, SIG_DFL);
	raise(sig);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define FZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define FZ_SANITIZED 1
#endif
#endif
#ifdef FZ_SANITIZED
void __sanitizer_set_death_callback(void (*callback)(void));
static void died_while_tracing(void)
{
	end_trace_early("a sanitizer report here");
}
#endif

void fz_trace_start(struct fz *f, const char *target)
{
	if (rp.r) {
		if (strcmp(target, rp.target) != 0) {
			printf("%s: a trace of %s, not of %s: replay it with that target\n", rp.path, rp.target, target);
			exit(2);
		}
		return;
	}
	trace_path = getenv("FUZZ_TRACE");
	if (!trace_path || !*trace_path)
		return;
	char name[256], producer[512], command[512];
	snprintf(name, sizeof name, "%s", input_name);
	for (char *c = name; *c; c++) /* a header line is one line of printable text */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	snprintf(producer, sizeof producer, "producer fuzz target=%s input=%s", target, name);
	snprintf(command, sizeof command, "command %s %s", target, name);
	const char *header[] = {producer, command};
	/* The header's device, bind and fuzz-side lines are known at the end:
	 * a temporary file until fz_fini. */
	f->trace_file = tmpfile();
	if (f->trace_file)
		f->trace = hx_trace_record_platform(&f->plat, f->ops.now_ns, f, f->trace_file, header,
		                                    sizeof header / sizeof header[0]);
	if (!f->trace) {
		fprintf(stderr, "FUZZ_TRACE: cannot write %s\n", trace_path);
		exit(2);
	}
	fz_trace_device(f, "blk", "mmio", NULL, 0);
	tracing = f;
	signal(SIGABRT, abort_while_tracing);
#ifdef FZ_SANITIZED
	__sanitizer_set_death_callback(died_while_tracing);
#endif
}

static void put_hex(FILE *o, const char *key, const uint8_t *b, size_t n)
{
	fprintf(o, "%s ", key);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%02x", b[i]);
	fputs(n ? "\n" : "-\n", o);
}

/* The trace: the temporary file, with the header lines known only at the
 * end after its third line (the command line). */
static int write_trace(struct fz *f)
{
	FILE *o = fopen(trace_path, "w");
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	int rc = 0;

	if (!o || fseek(f->trace_file, 0, SEEK_SET) != 0) {
		if (o)
			fclose(o);
		return -1;
	}
	while (getline(&line, &cap, f->trace_file) > 0) {
		fputs(line, o);
		if (++n == 3) {
			fprintf(o, "%s\n%s\n", f->device_line, f->bind_line);
			put_hex(o, "fuzz-input", f->data, f->size);
			put_hex(o, "fuzz-side", f->side, f->nside);
		}
	}
	free(line);
	if (ferror(f->trace_file) || ferror(o))
		rc = -1;
	if (fclose(o) != 0)
		rc = -1;
	return rc;
}

void fz_fini(struct fz *f)
{
	if (f->replay) {
		rp.finished = true;
		rp.side_used = f->side_pos;
		rp.side_over = f->side_over;
		return;
	}
	if (!f->trace)
		return;
	tracing = NULL;
	char why[160];
	int rc = hx_trace_record_stop(f->trace, why, sizeof why);
	f->trace = NULL;
	if (rc == 0)
		rc = write_trace(f);
	fclose(f->trace_file);
	f->trace_file = NULL;
	free(f->side);
	f->side = NULL;
	f->nside = f->side_cap = 0;
	if (rc != 0) {
		fprintf(stderr, "FUZZ_TRACE: the trace is incomplete: %s\n", why[0] ? why : "writing it failed");
		exit(2);
	}
}

/* "-" or lower-case hex, 2 digits a byte. */
static bool from_hex(const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s);
	*n = 0;
	*out = malloc(len / 2 + 1);
	if (!*out)
		return false;
	if (!strcmp(s, "-"))
		return true;
	if (len % 2)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		unsigned v;
		if (!strchr("0123456789abcdef", s[i]) || !strchr("0123456789abcdef", s[i + 1]) ||
		    sscanf(s + i, "%2x", &v) != 1)
			return false;
		(*out)[(*n)++] = (uint8_t)v;
	}
	return true;
}

/* A check of the target failed in replay (abort). */
static void abort_in_replay(int sig)
{
	(void)sig;
	const char *report = hx_replay_report(rp.r);
	printf("%sreplay: the target aborted: one of its checks of the driver failed%s\n", report,
	       *report ? " after the divergence" : " (the driver had matched the trace so far)");
	fflush(stdout);
	_Exit(1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_REPLAY=TRACE: run the target's driver sequence on the replay
 * platform.  0: the run matched the trace to its end, 1: a divergence, 2:
 * a bad trace (as vlab-scenario replay). */
static int replay_main(const char *path)
{
	char err[512];
	rp.path = path;
	rp.t = hx_trace_load(path, err, sizeof err);
	if (!rp.t) {
		printf("%s\n", err);
		return 2;
	}
	const char *prod = hx_trace_header(rp.t, "producer"), *in = hx_trace_header(rp.t, "fuzz-input"),
	           *side = hx_trace_header(rp.t, "fuzz-side");
	if (!prod || strncmp(prod, "fuzz target=", 12) != 0 || !in || !side) {
		printf("%s: not a fuzz trace (no 'producer fuzz', 'fuzz-input' or 'fuzz-side' line): replay it with "
		       "vlab-scenario replay\n", path);
		return 2;
	}
	snprintf(rp.target, sizeof rp.target, "%.*s", (int)strcspn(prod + 12, " "), prod + 12);
	if (!from_hex(in, &rp.input, &rp.ninput) || !from_hex(side, &rp.side, &rp.nside)) {
		printf("%s: the fuzz-input or fuzz-side line is not hex bytes\n", path);
		return 2;
	}
	rp.r = hx_replay_new(rp.t, getenv("FZ_LOG") ? log_line : NULL, NULL);
	if (!rp.r)
		return 2;
	signal(SIGABRT, abort_in_replay);
	LLVMFuzzerTestOneInput(rp.input, rp.ninput);
	bool ok = hx_replay_finish(rp.r);
	if (!ok)
		printf("%s", hx_replay_report(rp.r));
	else if (!rp.finished)
		printf("replay: the target returned without fz_fini: its choices are not checked\n");
	else if (rp.side_over || rp.side_used != rp.nside)
		printf("replay: divergence at %s's fuzz-side line: the target drew %s choices than the trace holds "
		       "(%zu bytes)\n", path, rp.side_over ? "more" : "fewer", rp.nside);
	else
		printf("replay: %zu events and %zu bytes of the target's choices, the run matched the trace to its end\n",
		       hx_trace_nevents(rp.t), rp.nside);
	ok = ok && rp.finished && !rp.side_over && rp.side_used == rp.nside;
	hx_replay_free(rp.r);
	hx_trace_free(rp.t);
	free(rp.input);
	free(rp.side);
	return ok ? 0 : 1;
}
#endif

/* The input named on the command line (libFuzzer, or regress_main.c): the
 * last argument that is not an option.  FUZZ_REPLAY=TRACE: replay a fuzz
 * trace instead, and exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-')
			input_name = (*argv)[i];
#ifndef FZ_NO_TRACE
	const char *path = getenv("FUZZ_REPLAY");
	if (path && *path) {
		fflush(stdout);
		exit(replay_main(path));
	}
#endif
	return 0;
}
