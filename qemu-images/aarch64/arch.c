/* SPDX-License-Identifier: MIT */
/*
 * aarch64 on QEMU virt: PL011 console, the generic timer (CNTVCT_EL0 /
 * CNTFRQ_EL0), dmb barriers, and semihosting SYS_EXIT to hand QEMU the exit
 * code (PSCI SYSTEM_OFF when semihosting is off; the code is then lost).
 */
#include "bm.h"

#define RAM_START 0x40000000u
#define SEMIHOST_SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define PSCI_SYSTEM_OFF 0x84000008u

const char bm_target_name[] = "aarch64";

static uintptr_t uart_base = 0x09000000u;

uintptr_t arch_fdt_address(uintptr_t x0);

/* x0 at entry if it points at a tree, else where QEMU puts it. */
uintptr_t arch_fdt_address(uintptr_t x0)
{
	return bm_arm_fdt_address(x0, RAM_START);
}

void arch_console_from_fdt(const struct bm_fdt_info *f)
{
	if (f->uart_kind == BM_UART_PL011 && f->uart_base)
		uart_base = (uintptr_t)f->uart_base;
}

void arch_exit_from_fdt(const struct bm_fdt_info *f)
{
	(void)f;
}

void arch_putc(char c)
{
	bm_pl011_putc(uart_base, c);
}

uint64_t arch_ticks(void)
{
	uint64_t t;
	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(t)::"memory");
	return t;
}

uint64_t arch_tick_hz(const struct bm_fdt_info *f)
{
	uint64_t hz;
	(void)f;
	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(hz));
	return hz & 0xffffffffu;
}

long arch_semihost(unsigned op, const uintptr_t *param)
{
	register uint64_t x0 __asm__("x0") = op;
	register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)param;
	__asm__ __volatile__("dsb sy; hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	return (long)x0;
}

_Noreturn void arch_exit(int code)
{
	/* AArch64 semihosting: x1 points at {reason, exit code}. */
	static volatile uint64_t block[2];
	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = (uint64_t)(uint32_t)code;
	register uint64_t x0 __asm__("x0") = SEMIHOST_SYS_EXIT;
	register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
	__asm__ __volatile__("dsb sy; hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	arch_poweroff(code);
}

_Noreturn void arch_poweroff(int code)
{
	(void)code; /* PSCI SYSTEM_OFF carries none */
	register uint64_t f0 __asm__("x0") = PSCI_SYSTEM_OFF;
	__asm__ __volatile__("hvc #0" : "+r"(f0)::"memory");
	for (;;)
		__asm__ __volatile__("wfe");
}

/* With the MMU off every access is Device-nGnRnE and already in order; the
 * barriers are what the same code needs once memory is Normal. */
void arch_mb(void) { __asm__ __volatile__("dmb sy" ::: "memory"); }
void arch_rmb(void) { __asm__ __volatile__("dmb ld" ::: "memory"); }
void arch_wmb(void) { __asm__ __volatile__("dmb st" ::: "memory"); }

/* Register access (bm.h). */
BM_DEFINE_IO("dmb ld", "dmb st")

/* Sleeping through a delay (bm.h): the virtual timer (CNTV_CVAL_EL0,
 * CNTV_CTL_EL0 ENABLE) wakes wfi through the GICv2. */
bool arch_idle_init(const struct bm_fdt_info *f)
{
	__asm__ __volatile__("msr cntv_ctl_el0, xzr; isb" ::: "memory");
	return bm_arm_gic_wake_init(f);
}

void arch_idle_until(uint64_t tick)
{
	__asm__ __volatile__("msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb" ::"r"(tick), "r"(1ull) : "memory");
	if (arch_ticks() < tick)
		__asm__ __volatile__("wfi" ::: "memory");
	__asm__ __volatile__("msr cntv_ctl_el0, xzr; isb" ::: "memory");
}
