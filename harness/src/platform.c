/* SPDX-License-Identifier: MIT */
/*
 * The platform contract (vlab/platform.h) over the host machine: register
 * accesses go to the bus, DMA memory comes from the guest-RAM arena, time is
 * the virtual clock and waiting lets device work happen.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hx_internal.h"
#include "vlab/err.h"

/* ---- registers ---- */

static uint8_t p_read8(void *ctx, vlab_addr_t a)
{
	return (uint8_t)hx_bus_read(&((struct hx_machine *)ctx)->mmio, a, 1);
}

static uint16_t p_read16(void *ctx, vlab_addr_t a)
{
	return (uint16_t)hx_bus_read(&((struct hx_machine *)ctx)->mmio, a, 2);
}

static uint32_t p_read32(void *ctx, vlab_addr_t a)
{
	return hx_bus_read(&((struct hx_machine *)ctx)->mmio, a, 4);
}

static void p_write8(void *ctx, vlab_addr_t a, uint8_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->mmio, a, 1, v);
}

static void p_write16(void *ctx, vlab_addr_t a, uint16_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->mmio, a, 2, v);
}

static void p_write32(void *ctx, vlab_addr_t a, uint32_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->mmio, a, 4, v);
}

static uint8_t p_pio_read8(void *ctx, uint32_t port)
{
	return (uint8_t)hx_bus_read(&((struct hx_machine *)ctx)->pio, port, 1);
}

static uint16_t p_pio_read16(void *ctx, uint32_t port)
{
	return (uint16_t)hx_bus_read(&((struct hx_machine *)ctx)->pio, port, 2);
}

static uint32_t p_pio_read32(void *ctx, uint32_t port)
{
	return hx_bus_read(&((struct hx_machine *)ctx)->pio, port, 4);
}

static void p_pio_write8(void *ctx, uint32_t port, uint8_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->pio, port, 1, v);
}

static void p_pio_write16(void *ctx, uint32_t port, uint16_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->pio, port, 2, v);
}

static void p_pio_write32(void *ctx, uint32_t port, uint32_t v)
{
	hx_bus_write(&((struct hx_machine *)ctx)->pio, port, 4, v);
}

/* ---- DMA memory ---- */

static void *p_dma_alloc(void *ctx, size_t size, size_t align, vlab_addr_t *dev)
{
	return hx_dma_alloc(ctx, size, align, dev);
}

static void p_dma_free(void *ctx, void *cpu, size_t size)
{
	hx_dma_free(ctx, cpu, size);
}

/* Guest RAM is coherent and identity-mapped: a map is a translation, kept
 * so that the unmap can be matched to it (a bad unmap is counted). */
static int p_dma_map(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	struct hx_machine *m = ctx;
	uint64_t addr;
	if (!cpu || !hx_arena_addr(&m->arena, cpu, len, &addr))
		return VLAB_EINVAL;
	if (!hx_arena_map(&m->arena, addr, len, (int)dir))
		return VLAB_ENOMEM;
	if (dev)
		*dev = addr;
	return VLAB_OK;
}

static void p_dma_unmap(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev)
{
	struct hx_machine *m = ctx;
	uint64_t addr = 0;
	if (!cpu || !hx_arena_addr(&m->arena, cpu, len, &addr) || addr != dev ||
	    !hx_arena_unmap(&m->arena, dev, len, (int)dir))
		hx_log(m, VLAB_LOG_ERROR, "dma_unmap of 0x%llx+%zu (dir %d) matches no live map",
		       (unsigned long long)dev, len, (int)dir);
}

/* ---- device-writable shared memory: volatile loads ---- */

static uint16_t p_shm_read16(void *ctx, const volatile void *p)
{
	(void)ctx;
	return *(const volatile uint16_t *)p;
}

static uint32_t p_shm_read32(void *ctx, const volatile void *p)
{
	(void)ctx;
	return *(const volatile uint32_t *)p;
}

/* One bulk copy: the device model runs in this thread, only inside a
 * platform call (a register access, a wait), so the bytes cannot change
 * while they are copied, and memcpy reads each once; a byte loop of
 * volatile loads cost a receive of a 64-byte frame about 450 instructions
 * (issue 15).  A platform whose device runs alongside the CPU reads each
 * byte once with volatile loads instead. */
static void p_shm_read(void *ctx, void *dst, const volatile void *src, size_t len)
{
	(void)ctx;
	if (len)
		memcpy(dst, (const void *)(uintptr_t)src, len);
}

/* ---- barriers ---- */

static void p_mb(void *ctx)
{
	(void)ctx;
	atomic_thread_fence(memory_order_seq_cst);
}

static void p_rmb(void *ctx)
{
	(void)ctx;
	atomic_thread_fence(memory_order_acquire);
}

static void p_wmb(void *ctx)
{
	(void)ctx;
	atomic_thread_fence(memory_order_release);
}

/* ---- time ---- */

static uint64_t p_now(void *ctx)
{
	return hx_now(ctx);
}

static void p_delay(void *ctx, uint64_t ns)
{
	hx_advance(ctx, ns);
}

/* ---- randomness: the machine's seeded generator, so runs repeat ---- */

static uint64_t p_random(void *ctx)
{
	return hx_rng_next(&((struct hx_machine *)ctx)->sched.rng);
}

/* ---- log ---- */

static const char *level_name(enum vlab_log_level l)
{
	switch (l) {
	case VLAB_LOG_ERROR: return "error";
	case VLAB_LOG_WARN: return "warn";
	case VLAB_LOG_INFO: return "info";
	case VLAB_LOG_DEBUG: return "debug";
	}
	return "?";
}

static void p_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	struct hx_machine *m = ctx;
	if (level > m->log_max)
		return;
	if (m->log_fn)
		m->log_fn(m->log_ctx, level, msg ? msg : "");
	else
		fprintf(stderr, "vlab: %s: %s\n", level_name(level), msg ? msg : "");
}

void hx_log(struct hx_machine *m, enum vlab_log_level level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	p_log(m, level, buf);
}

const char *hx_log_level_name(enum vlab_log_level level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void hx_set_log(struct hx_machine *m, void (*fn)(void *ctx, enum vlab_log_level, const char *), void *ctx,
                enum vlab_log_level max_level)
{
	m->log_fn = fn;
	m->log_ctx = ctx;
	m->log_max = max_level;
}

const struct vlab_platform_ops hx_platform_ops = {
	.mmio_read8 = p_read8,
	.mmio_read16 = p_read16,
	.mmio_read32 = p_read32,
	.mmio_write8 = p_write8,
	.mmio_write16 = p_write16,
	.mmio_write32 = p_write32,
	.pio_read8 = p_pio_read8,
	.pio_read16 = p_pio_read16,
	.pio_read32 = p_pio_read32,
	.pio_write8 = p_pio_write8,
	.pio_write16 = p_pio_write16,
	.pio_write32 = p_pio_write32,
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
	.random = p_random,
};
