/* SPDX-License-Identifier: MIT */
/*
 * The platform contract on bare metal.  The MMU is off, so a device address
 * is the physical address of the CPU pointer.  DMA memory comes from a
 * static pool; time from the target's tick counter.
 */
#include "bm.h"

#define BM_DMA_POOL_BYTES (2u * 1024u * 1024u)
/* A delay whose clock does not move ends after this many polls anyway. */
#define BM_DELAY_MAX_POLLS (1ull << 32)

static uint8_t dma_pool[BM_DMA_POOL_BYTES] __attribute__((aligned(4096)));

struct bm_plat {
	struct vlab_platform plat;
	size_t used;                 /* bytes of dma_pool handed out (bump) */
	uint64_t ram_lo, ram_hi;     /* what DMA may reach */
	uint64_t tick_hz;
};

static struct bm_plat bm;

static uint8_t p_read8(void *c, vlab_addr_t a) { (void)c; return arch_read8((uintptr_t)a); }
static uint16_t p_read16(void *c, vlab_addr_t a) { (void)c; return arch_read16((uintptr_t)a); }
static uint32_t p_read32(void *c, vlab_addr_t a) { (void)c; return arch_read32((uintptr_t)a); }
static void p_write8(void *c, vlab_addr_t a, uint8_t v) { (void)c; arch_write8((uintptr_t)a, v); }
static void p_write16(void *c, vlab_addr_t a, uint16_t v) { (void)c; arch_write16((uintptr_t)a, v); }
static void p_write32(void *c, vlab_addr_t a, uint32_t v) { (void)c; arch_write32((uintptr_t)a, v); }

static void *p_dma_alloc(void *c, size_t size, size_t align, vlab_addr_t *dev)
{
	struct bm_plat *p = c;
	if (size == 0 || align == 0 || (align & (align - 1)) != 0 || align > 4096)
		return NULL;
	size_t start = (p->used + align - 1) & ~(align - 1);
	if (start > BM_DMA_POOL_BYTES || size > BM_DMA_POOL_BYTES - start)
		return NULL;
	uint8_t *cpu = dma_pool + start;
	vlab_memset(cpu, 0, size);
	p->used = start + size;
	*dev = (vlab_addr_t)(uintptr_t)cpu;
	return cpu;
}

static void p_dma_free(void *c, void *cpu, size_t size)
{
	struct bm_plat *p = c;
	/* A bump allocator: only the last block is given back; others stay
	 * used (the pool is sized for a run of the scenarios). */
	if ((uint8_t *)cpu >= dma_pool && (uint8_t *)cpu + size == dma_pool + p->used)
		p->used = (size_t)((uint8_t *)cpu - dma_pool);
}

static int p_dma_map(void *c, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	struct bm_plat *p = c;
	const uint64_t a = (uint64_t)(uintptr_t)cpu;
	(void)dir; /* the MMU is off: memory is not cached, DMA is coherent */
	if (a < p->ram_lo || a >= p->ram_hi || len > p->ram_hi - a)
		return VLAB_EINVAL;
	*dev = a;
	return 0;
}

static uint16_t p_shm_read16(void *c, const volatile void *q)
{
	(void)c;
	return *(const volatile uint16_t *)q;
}

static uint32_t p_shm_read32(void *c, const volatile void *q)
{
	(void)c;
	return *(const volatile uint32_t *)q;
}

static void p_shm_read(void *c, void *dst, const volatile void *src, size_t n)
{
	(void)c;
	const volatile uint8_t *s = src;
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

static void p_mb(void *c) { (void)c; arch_mb(); }
static void p_rmb(void *c) { (void)c; arch_rmb(); }
static void p_wmb(void *c) { (void)c; arch_wmb(); }

static uint64_t p_now(void *c)
{
	const struct bm_plat *p = c;
	const uint64_t t = arch_ticks(), hz = p->tick_hz;
	/* Split so that neither product overflows. */
	return (t / hz) * 1000000000ull + (t % hz) * 1000000000ull / hz;
}

static void p_delay(void *c, uint64_t ns)
{
	const uint64_t end = p_now(c) + ns;
	for (uint64_t polls = 0; polls < BM_DELAY_MAX_POLLS && p_now(c) < end; polls++)
		;
}

static void p_log(void *c, enum vlab_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	(void)c;
	if (level > VLAB_LOG_INFO)
		return;
	bm_printf("log: %s: %s\n", (unsigned)level < 4 ? names[level] : "?", msg);
}

static const struct vlab_platform_ops bm_ops = {
	.mmio_read8 = p_read8,
	.mmio_read16 = p_read16,
	.mmio_read32 = p_read32,
	.mmio_write8 = p_write8,
	.mmio_write16 = p_write16,
	.mmio_write32 = p_write32,
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.dma_map = p_dma_map,
	.shm_read16 = p_shm_read16,
	.shm_read32 = p_shm_read32,
	.shm_read = p_shm_read,
	.mb = p_mb,
	.rmb = p_rmb,
	.wmb = p_wmb,
	.now_ns = p_now,
	.delay_ns = p_delay,
	.log = p_log,
};

extern uint8_t __image_start[], __image_end[];

const struct vlab_platform *bm_platform_init(const struct bm_fdt_info *fdt)
{
	bm.plat.ops = &bm_ops;
	bm.plat.ctx = &bm;
	bm.used = 0;
	bm.tick_hz = arch_tick_hz(fdt);
	if (bm.tick_hz == 0 || bm.tick_hz > 10000000000ull)
		bm.tick_hz = 10000000; /* a tree without a sane value: QEMU's riscv default */
	/* DMA may reach RAM as the tree gives it; the image itself (pool,
	 * stack) is in it.  Without a memory node: the image only. */
	const uint64_t lo = (uint64_t)(uintptr_t)__image_start, hi = (uint64_t)(uintptr_t)__image_end;
	if (fdt->mem_size && fdt->mem_base <= lo && hi - fdt->mem_base <= fdt->mem_size) {
		bm.ram_lo = fdt->mem_base;
		bm.ram_hi = fdt->mem_base + fdt->mem_size;
	} else {
		bm.ram_lo = lo;
		bm.ram_hi = hi;
	}
	return &bm.plat;
}
