/* SPDX-License-Identifier: MIT */
/*
 * What the device model gets from the machine (devmodel/env.h): guest RAM
 * through bounds-checked accessors, the virtual clock, the scheduler and
 * the interrupt lines.  A descriptor that points outside guest RAM fails
 * here, and the model reports it as the driver's bug.
 */
#include <string.h>

#include "hx_internal.h"

/* The models read and write rings a field at a time: the common sizes
 * copy inline, the rest through the C library. */
static inline void copy_small(void *dst, const void *src, size_t len)
{
	switch (len) {
	case 0: break;
	case 1: memcpy(dst, src, 1); break;
	case 2: memcpy(dst, src, 2); break;
	case 4: memcpy(dst, src, 4); break;
	case 8: memcpy(dst, src, 8); break;
	case 16: memcpy(dst, src, 16); break;
	default: memcpy(dst, src, len); break;
	}
}

static bool env_mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct hx_machine *m = ctx;
	const void *p = hx_arena_ptr(&m->arena, addr, len);
	if (!p)
		return false;
	copy_small(buf, p, len);
	return true;
}

static bool env_mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct hx_machine *m = ctx;
	void *p = hx_arena_ptr(&m->arena, addr, len);
	if (!p)
		return false;
	copy_small(p, buf, len);
	return true;
}

static uint64_t env_now(void *ctx)
{
	struct hx_machine *m = ctx;
	return m->sched.now;
}

static void env_schedule(void *ctx, void (*fn)(void *arg), void *arg, const char *kind)
{
	struct hx_machine *m = ctx;
	(void)kind; /* for the tracer, when there is one */
	hx_sched_work(&m->sched, fn, arg);
}

static void env_schedule_at(void *ctx, void (*fn)(void *arg), void *arg, uint64_t delay_ns)
{
	struct hx_machine *m = ctx;
	hx_sched_at(&m->sched, fn, arg, delay_ns);
}

static void env_irq(void *ctx, unsigned line, bool level)
{
	struct hx_machine *m = ctx;
	if (line >= HX_IRQ_LINES) {
		hx_log(m, VLAB_LOG_WARN, "model drove interrupt line %u, beyond the %u lines", line,
		       HX_IRQ_LINES);
		return;
	}
	m->irq_level[line] = level;
	if (level)
		m->irq_raises[line]++;
}

void hx_env_init(struct hx_machine *m)
{
	m->env.ctx = m;
	m->env.mem_read = env_mem_read;
	m->env.mem_write = env_mem_write;
	m->env.now_ns = env_now;
	m->env.schedule = env_schedule;
	m->env.schedule_at = env_schedule_at;
	m->env.irq = env_irq;
	m->env.report = &m->report;
}
