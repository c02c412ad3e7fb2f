/* SPDX-License-Identifier: MIT */
/* The host machine: creation, teardown and the small accessors of machine.h. */
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"

void hx_machine_cfg_default(struct hx_machine_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->ram_base = 0x80000000ull;
	c->ram_size = 64ull << 20;
	c->seed = 1;
	c->policy = HX_SCHED_IMMEDIATE;
	c->max_delay_ns = 50000;
}

struct hx_machine *hx_machine_new(const struct hx_machine_cfg *cfg)
{
	struct hx_machine_cfg def;
	if (!cfg) {
		hx_machine_cfg_default(&def);
		cfg = &def;
	}
	if ((unsigned)cfg->policy > HX_SCHED_BATCHED || (cfg->plat_flags & ~(uint32_t)VLAB_PLAT_FLAGS_KNOWN))
		return NULL;
	struct hx_machine *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (hx_arena_init(&m->arena, cfg->ram_base, cfg->ram_size) != 0) {
		free(m);
		return NULL;
	}
	hx_sched_init(&m->sched, cfg->policy, cfg->max_delay_ns, cfg->seed);
	dm_report_init(&m->report);
	hx_env_init(m);
	m->plat.ops = &hx_platform_ops;
	m->plat.ctx = m;
	m->plat.flags = cfg->plat_flags;
	m->log_max = VLAB_LOG_WARN;
	if (hx_slots_init(m) != 0) {
		hx_machine_free(m);
		return NULL;
	}
	return m;
}

void hx_machine_free(struct hx_machine *m)
{
	if (!m)
		return;
	/* Devices first: pending work may point at them, and it is dropped
	 * with the scheduler below, never run. */
	hx_devices_free(m);
	hx_sched_fini(&m->sched);
	hx_bus_fini(&m->mmio);
	hx_bus_fini(&m->pio);
	hx_arena_fini(&m->arena);
	free(m);
}

const struct vlab_platform *hx_platform(struct hx_machine *m)
{
	return &m->plat;
}

struct dm_env *hx_env(struct hx_machine *m)
{
	return &m->env;
}

struct dm_report *hx_report(struct hx_machine *m)
{
	return &m->report;
}

int hx_map_mmio(struct hx_machine *m, uint64_t base, uint64_t size, const struct hx_mmio_ops *ops,
                void *ctx)
{
	return hx_bus_map(&m->mmio, base, size, ops, ctx);
}

int hx_map_pio(struct hx_machine *m, uint32_t port, uint32_t size, const struct hx_mmio_ops *ops,
               void *ctx)
{
	/* Port space is 32 bits wide; a range must not run past its top. */
	if (size == 0 || (uint64_t)port + size - 1 > UINT32_MAX)
		return -1;
	return hx_bus_map(&m->pio, port, size, ops, ctx);
}

uint64_t hx_stray_accesses(struct hx_machine *m)
{
	return m->mmio.stray + m->pio.stray;
}

bool hx_irq_level(struct hx_machine *m, unsigned line)
{
	return line < HX_IRQ_LINES && m->irq_level[line];
}

uint64_t hx_irq_raises(struct hx_machine *m, unsigned line)
{
	return line < HX_IRQ_LINES ? m->irq_raises[line] : 0;
}

uint64_t hx_ram_base(struct hx_machine *m)
{
	return m->arena.base;
}

uint64_t hx_ram_size(struct hx_machine *m)
{
	return m->arena.size;
}

void *hx_ram_ptr(struct hx_machine *m, uint64_t addr, uint64_t len)
{
	return hx_arena_ptr(&m->arena, addr, len);
}

void *hx_dma_alloc(struct hx_machine *m, size_t size, size_t align, uint64_t *dev)
{
	return hx_arena_alloc(&m->arena, size, align, dev);
}

void hx_dma_free(struct hx_machine *m, void *cpu, size_t size)
{
	if (!hx_arena_free(&m->arena, cpu, size))
		hx_log(m, VLAB_LOG_WARN, "dma_free of %zu bytes at %p: not an allocated block", size, cpu);
}

uint64_t hx_now(struct hx_machine *m)
{
	return m->sched.now;
}

void hx_advance(struct hx_machine *m, uint64_t ns)
{
	hx_sched_advance(&m->sched, ns);
}

unsigned hx_run_pending(struct hx_machine *m)
{
	return hx_sched_run_pending(&m->sched);
}

unsigned hx_pending(struct hx_machine *m)
{
	return hx_sched_pending(&m->sched);
}

void hx_sched_get_stats(struct hx_machine *m, struct hx_sched_stats *st)
{
	*st = m->sched.stats;
}
