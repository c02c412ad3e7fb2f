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
/* The pool as of the last register write, while tracing: what changed
 * since is what the driver published (bm_trace_publish, pub lines). */
static uint8_t dma_shadow[BM_DMA_POOL_BYTES] __attribute__((aligned(4096)));

struct bm_plat {
	struct vlab_platform plat;
	size_t used;                 /* bytes of dma_pool handed out (bump) */
	size_t high;                 /* the most it ever was, rounded up to 8: what pub lines cover */
	/* While tracing: the first allocation (the scenario's work area, which
	 * holds the driver's state, pointers included) is left out of the
	 * diff, [priv_lo, priv_hi) of the pool; its mapped buffers are
	 * published at the map instead.  first_alloc: none made yet. */
	size_t priv_lo, priv_hi;
	bool first_alloc;
	uint64_t ram_lo, ram_hi;     /* what DMA may reach */
	uint64_t tick_hz;
	bool idle;                   /* delays sleep (arch_idle_init) */
};

static struct bm_plat bm;

/* Every call is also a trace event while bm_tracing (trace.c; the format:
 * docs/trace-format.md).  Device address = physical address, so the
 * trace's addresses are the pointers. */
#define DEV(p) ((unsigned long long)(uintptr_t)(p))

/* A register the CPU does not reach (above 4 GiB on a 32-bit CPU) would
 * be another address once cast to a pointer: it is not accessed (reads
 * give all ones, writes are dropped) and the console says so. */
static bool reg_reachable(vlab_addr_t a, unsigned w)
{
	if (bm_reaches(BM_CPU_ADDR_MAX, a, w))
		return true;
	bm_printf("platform: register 0x%llx is beyond what this CPU reaches: not accessed\n",
	          (unsigned long long)a);
	return false;
}

static uint32_t reg_read(unsigned w, vlab_addr_t a)
{
	uint32_t v = 0xffffffffu >> (32u - 8u * w);
	if (reg_reachable(a, w)) {
		const uintptr_t p = (uintptr_t)a;
		v = w == 1 ? arch_read8(p) : w == 2 ? arch_read16(p) : arch_read32(p);
	}
	if (bm_tracing)
		bm_trace_printf("r%u 0x%llx 0x%x", w, (unsigned long long)a, (unsigned)v);
	return v;
}

/* A register write may be a notification: first what the driver published
 * (the recorder need not know which write notifies). */
static void publish(void)
{
	if (bm_tracing) {
		const size_t lo = bm.priv_lo < bm.high ? bm.priv_lo : bm.high;
		const size_t hi = bm.priv_hi < bm.high ? bm.priv_hi : bm.high;
		bm_trace_publish(dma_pool, dma_shadow, lo, DEV(dma_pool));
		bm_trace_publish(dma_pool + hi, dma_shadow + hi, bm.high - hi, DEV(dma_pool + hi));
	}
}

static void reg_write(unsigned w, vlab_addr_t a, uint32_t v)
{
	publish();
	if (bm_tracing)
		bm_trace_printf("w%u 0x%llx 0x%x", w, (unsigned long long)a, (unsigned)v);
	if (!reg_reachable(a, w))
		return;
	const uintptr_t p = (uintptr_t)a;
	if (w == 1)
		arch_write8(p, (uint8_t)v);
	else if (w == 2)
		arch_write16(p, (uint16_t)v);
	else
		arch_write32(p, v);
}

static uint8_t p_read8(void *c, vlab_addr_t a) { (void)c; return (uint8_t)reg_read(1, a); }
static uint16_t p_read16(void *c, vlab_addr_t a) { (void)c; return (uint16_t)reg_read(2, a); }
static uint32_t p_read32(void *c, vlab_addr_t a) { (void)c; return reg_read(4, a); }
static void p_write8(void *c, vlab_addr_t a, uint8_t v) { (void)c; reg_write(1, a, v); }
static void p_write16(void *c, vlab_addr_t a, uint16_t v) { (void)c; reg_write(2, a, v); }
static void p_write32(void *c, vlab_addr_t a, uint32_t v) { (void)c; reg_write(4, a, v); }

#if BM_HAVE_PIO
/* Port I/O (x86): the legacy virtio-pci registers and PCI configuration
 * (0xCF8/0xCFC); traced as pr/pw, and a port write publishes first, as a
 * register write does (the legacy queue notify is one). */
static uint32_t pio_read(unsigned w, uint32_t port)
{
	const uint32_t v = arch_pio_read(w, port);
	if (bm_tracing)
		bm_trace_printf("pr%u 0x%x 0x%x", w, (unsigned)port, (unsigned)v);
	return v;
}

static void pio_write(unsigned w, uint32_t port, uint32_t v)
{
	publish();
	if (bm_tracing)
		bm_trace_printf("pw%u 0x%x 0x%x", w, (unsigned)port, (unsigned)v);
	arch_pio_write(w, port, v);
}

static uint8_t p_pread8(void *c, uint32_t port) { (void)c; return (uint8_t)pio_read(1, port); }
static uint16_t p_pread16(void *c, uint32_t port) { (void)c; return (uint16_t)pio_read(2, port); }
static uint32_t p_pread32(void *c, uint32_t port) { (void)c; return pio_read(4, port); }
static void p_pwrite8(void *c, uint32_t port, uint8_t v) { (void)c; pio_write(1, port, v); }
static void p_pwrite16(void *c, uint32_t port, uint16_t v) { (void)c; pio_write(2, port, v); }
static void p_pwrite32(void *c, uint32_t port, uint32_t v) { (void)c; pio_write(4, port, v); }
#endif

static const char *dir_name(enum vlab_dma_dir dir)
{
	return dir == VLAB_DMA_TO_DEVICE ? "to" : dir == VLAB_DMA_FROM_DEVICE ? "from" : "both";
}

static void *p_dma_alloc(void *c, size_t size, size_t align, vlab_addr_t *dev)
{
	struct bm_plat *p = c;
	size_t start = (p->used + align - 1) & ~(align - 1);
	if (size == 0 || align == 0 || (align & (align - 1)) != 0 || align > 4096 || start > BM_DMA_POOL_BYTES ||
	    size > BM_DMA_POOL_BYTES - start) {
		if (bm_tracing)
			bm_trace_printf("alloc %llu %llu none", (unsigned long long)size, (unsigned long long)align);
		return NULL;
	}
	uint8_t *cpu = dma_pool + start;
	vlab_memset(cpu, 0, size);
	vlab_memset(dma_shadow + start, 0, size); /* the replay zeroes its allocation too */
	p->used = start + size;
	if (p->high < p->used)
		p->high = (p->used + 7) & ~(size_t)7;
	*dev = (vlab_addr_t)(uintptr_t)cpu;
	if (bm_tracing)
		bm_trace_printf("alloc %llu %llu 0x%llx", (unsigned long long)size, (unsigned long long)align, DEV(cpu));
	if (bm_tracing && p->first_alloc) {
		p->first_alloc = false;
		p->priv_lo = start & ~(size_t)7;
		p->priv_hi = (start + size + 7) & ~(size_t)7;
		bm_trace_printf("nopub 0x%llx %llu", DEV(cpu), (unsigned long long)size);
	}
	return cpu;
}

static void p_dma_free(void *c, void *cpu, size_t size)
{
	struct bm_plat *p = c;
	if (bm_tracing)
		bm_trace_printf("free 0x%llx %llu", DEV(cpu), (unsigned long long)size);
	/* A bump allocator: only the last block is given back; others stay
	 * used (the pool is sized for a run of the scenarios). */
	if ((uint8_t *)cpu >= dma_pool && (uint8_t *)cpu + size == dma_pool + p->used)
		p->used = (size_t)((uint8_t *)cpu - dma_pool);
}

static int p_dma_map(void *c, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	struct bm_plat *p = c;
	const uint64_t a = (uint64_t)(uintptr_t)cpu;
	/* The MMU is off: memory is not cached, DMA is coherent.  The buffer
	 * must be in RAM and reachable (reach.h: a tree's RAM may extend past
	 * 4 GiB, which a 32-bit CPU does not reach). */
	if (!bm_dma_mappable(p->ram_lo, p->ram_hi, BM_CPU_ADDR_MAX, a, len)) {
		if (bm_tracing)
			bm_trace_printf("map none %llu %s", (unsigned long long)len, dir_name(dir));
		return VLAB_EINVAL;
	}
	if (bm_tracing)
		bm_trace_printf("map 0x%llx %llu %s", (unsigned long long)a, (unsigned long long)len, dir_name(dir));
	/* A buffer the device reads, in memory the diff leaves out: published here. */
	const uint64_t plo = DEV(dma_pool + p->priv_lo), phi = DEV(dma_pool + p->priv_hi);
	if (bm_tracing && dir != VLAB_DMA_FROM_DEVICE && len && a >= plo && a < phi && len <= phi - a) {
		char head[48];
		vlab_snprintf(head, sizeof head, "pub 0x%llx %llu ", (unsigned long long)a, (unsigned long long)len);
		bm_trace_bytes(head, cpu, len);
	}
	*dev = a;
	return 0;
}

/* Coherent DMA: nothing to do but record what the device wrote there. */
static void p_dma_unmap(void *c, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev)
{
	char head[64];
	(void)c;
	(void)cpu;
	if (!bm_tracing)
		return;
	if (dir == VLAB_DMA_TO_DEVICE) {
		bm_trace_printf("unmap 0x%llx %llu to -", (unsigned long long)dev, (unsigned long long)len);
		return;
	}
	vlab_snprintf(head, sizeof head, "unmap 0x%llx %llu %s ", (unsigned long long)dev, (unsigned long long)len,
	              dir_name(dir));
	bm_trace_bytes(head, cpu, len);
}

static uint16_t p_shm_read16(void *c, const volatile void *q)
{
	(void)c;
	const uint16_t v = *(const volatile uint16_t *)q;
	if (bm_tracing)
		bm_trace_printf("sh2 0x%llx 0x%x", DEV(q), (unsigned)v);
	return v;
}

static uint32_t p_shm_read32(void *c, const volatile void *q)
{
	(void)c;
	const uint32_t v = *(const volatile uint32_t *)q;
	if (bm_tracing)
		bm_trace_printf("sh4 0x%llx 0x%x", DEV(q), (unsigned)v);
	return v;
}

static void p_shm_read(void *c, void *dst, const volatile void *src, size_t n)
{
	(void)c;
	const volatile uint8_t *s = src;
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	if (bm_tracing) {
		char head[48];
		vlab_snprintf(head, sizeof head, "shm 0x%llx %llu ", DEV(src), (unsigned long long)n);
		bm_trace_bytes(head, dst, n);
	}
}

static void barrier(const char *name)
{
	if (bm_tracing)
		bm_trace_event(name);
}

static void p_mb(void *c) { (void)c; barrier("mb"); arch_mb(); }
static void p_rmb(void *c) { (void)c; barrier("rmb"); arch_rmb(); }
static void p_wmb(void *c) { (void)c; barrier("wmb"); arch_wmb(); }

static uint64_t clock_ns(const struct bm_plat *p)
{
	const uint64_t t = arch_ticks(), hz = p->tick_hz;
	/* Split so that neither product overflows. */
	return (t / hz) * 1000000000ull + (t % hz) * 1000000000ull / hz;
}

static uint64_t p_now(void *c)
{
	const uint64_t v = clock_ns(c);
	if (bm_tracing) {
		bm_trace_now(v);
		bm_trace_printf("now %llu", (unsigned long long)v);
	}
	return v;
}

static void p_delay(void *c, uint64_t ns)
{
	const struct bm_plat *p = c;
	if (bm_tracing)
		bm_trace_printf("delay %llu", (unsigned long long)ns);
	const uint64_t end = clock_ns(c) + ns;
	/* Asleep until the delay's tick (ns split so that neither product
	 * overflows), then the clock decides as before: a wake-up that came
	 * early spins the rest, one that never came is not waited for twice. */
	if (p->idle) {
		const uint64_t hz = p->tick_hz, d = ns / 1000000000ull, r = ns % 1000000000ull;
		const uint64_t now = arch_ticks();
		const uint64_t ticks = d * hz + (r * hz + 999999999ull) / 1000000000ull;
		/* A delay whose tick count overflows is not slept through: it
		 * spins, bounded as before. */
		if (d <= UINT64_MAX / hz / 2 && ticks <= UINT64_MAX - now)
			arch_idle_until(now + ticks);
	}
	for (uint64_t polls = 0; polls < BM_DELAY_MAX_POLLS && clock_ns(c) < end; polls++)
		;
}

static void p_log(void *c, enum vlab_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const char *name = (unsigned)level < 4 ? names[level] : "?";
	(void)c;
	if (bm_tracing)
		bm_trace_comment(name, msg);
	if (level > VLAB_LOG_INFO)
		return;
	bm_printf("log: %s: %s\n", name, msg);
}

static const struct vlab_platform_ops bm_ops = {
	.mmio_read8 = p_read8,
	.mmio_read16 = p_read16,
	.mmio_read32 = p_read32,
	.mmio_write8 = p_write8,
	.mmio_write16 = p_write16,
	.mmio_write32 = p_write32,
#if BM_HAVE_PIO
	.pio_read8 = p_pread8,
	.pio_read16 = p_pread16,
	.pio_read32 = p_pread32,
	.pio_write8 = p_pwrite8,
	.pio_write16 = p_pwrite16,
	.pio_write32 = p_pwrite32,
#endif
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.dma_map = p_dma_map,
	.dma_unmap = p_dma_unmap,
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

void bm_platform_trace_start(void)
{
	vlab_memcpy(dma_shadow, dma_pool, bm.high);
	bm.priv_lo = bm.priv_hi = 0;
	bm.first_alloc = true;
}

extern uint8_t __image_start[], __image_end[];

uint32_t bm_platform_flags(void)
{
	return bm.plat.flags;
}

const struct vlab_platform *bm_platform_init(const struct bm_fdt_info *fdt)
{
	bm.plat.ops = &bm_ops;
	bm.plat.ctx = &bm;
	/* No IOMMU, the MMU off, no memory encryption: QEMU's devices (and
	 * QEMU) read all of the guest's RAM, so zeroing a read buffer before
	 * the device writes it would hide nothing from them (vlab/platform.h;
	 * docs/performance.md "Zeroing device-writable buffers"). */
	bm.plat.flags = VLAB_PLAT_DMA_ALL_MEMORY;
	bm.used = 0;
	bm.high = 0;
	bm.tick_hz = arch_tick_hz(fdt);
	if (bm.tick_hz == 0 || bm.tick_hz > 10000000000ull)
		bm.tick_hz = 10000000; /* a tree without a sane value: QEMU's riscv default */
	bm.idle = arch_idle_init(fdt);
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
