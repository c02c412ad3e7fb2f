/* SPDX-License-Identifier: MIT */
/* What arm and aarch64 share on QEMU virt: the PL011 and where the device
 * tree is (bm.h).  Unused on the other targets (--gc-sections drops it). */
#include "bm.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF 0x20u
#define UART_POLLS 100000u

void bm_pl011_putc(uintptr_t base, char c)
{
	volatile uint32_t *u = (volatile uint32_t *)base;
	for (unsigned i = 0; i < UART_POLLS && (u[PL011_FR / 4] & PL011_FR_TXFF); i++)
		;
	u[PL011_DR / 4] = (uint8_t)c;
}

uintptr_t bm_arm_fdt_address(uintptr_t reg, uintptr_t ram_start)
{
	if (reg >= ram_start && (reg & 7u) == 0) {
		const volatile uint8_t *p = (const volatile uint8_t *)reg;
		if (p[0] == 0xd0 && p[1] == 0x0d && p[2] == 0xfe && p[3] == 0xed)
			return reg;
	}
	return ram_start;
}

/* The GICv2 set up only so that the generic timer's virtual interrupt
 * wakes the CPU from wfi (bm.h arch_idle_init): that interrupt enabled at
 * the distributor with a priority the CPU interface lets through, both
 * enabled.  It stays masked at the CPU (PSTATE.I, set from reset), so it
 * is never taken and never acknowledged: turning the timer off drops it. */
#define GICD_CTLR 0x000u
#define GICD_ISENABLER0 0x100u
#define GICD_IPRIORITYR 0x400u
#define GICC_CTLR 0x000u
#define GICC_PMR 0x004u
#define GIC_FRAME 0x1000u

bool bm_arm_gic_wake_init(const struct bm_fdt_info *f)
{
	const uint32_t irq = f->timer_virt_irq;
	if (!f->gic_dist || !f->gic_cpu || irq < 16 || irq >= 32 ||
	    !bm_reaches(BM_CPU_ADDR_MAX, f->gic_dist, GIC_FRAME) || !bm_reaches(BM_CPU_ADDR_MAX, f->gic_cpu, GIC_FRAME))
		return false;
	volatile uint32_t *d = (volatile uint32_t *)(uintptr_t)f->gic_dist;
	volatile uint32_t *c = (volatile uint32_t *)(uintptr_t)f->gic_cpu;
	volatile uint8_t *prio = (volatile uint8_t *)(uintptr_t)(f->gic_dist + GICD_IPRIORITYR);
	prio[irq] = 0x80;
	d[GICD_ISENABLER0 / 4] = 1u << irq;
	d[GICD_CTLR / 4] = 1;
	c[GICC_PMR / 4] = 0xf0;
	c[GICC_CTLR / 4] = 1;
	return true;
}
