/* SPDX-License-Identifier: MIT */
/*
 * 32-bit arm on QEMU virt (Cortex-A15, highmem=off): PL011 console, the
 * generic timer (CNTVCT, a 64-bit register read in one MRRC; CNTFRQ), dmb
 * barriers (ARMv7 has no "dmb ld": reads are ordered with "dmb sy"), and
 * semihosting SYS_EXIT_EXTENDED to hand QEMU the exit code (the 32-bit
 * SYS_EXIT carries only the reason; PSCI SYSTEM_OFF when semihosting is
 * off, and the code is then lost).  The C code is Thumb-2, so semihosting
 * is "svc 0xab".
 */
#include "bm.h"

#define RAM_START 0x40000000u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define PSCI_SYSTEM_OFF 0x84000008u

const char bm_target_name[] = "arm";

static uintptr_t uart_base = 0x09000000u;

uintptr_t arch_fdt_address(uintptr_t r2);
_Noreturn void arch_trap(uint32_t vector, uint32_t lr);

/* r2 at entry if it points at a tree, else where QEMU puts it. */
uintptr_t arch_fdt_address(uintptr_t r2)
{
	return bm_arm_fdt_address(r2, RAM_START);
}

void arch_console_from_fdt(const struct bm_fdt_info *f)
{
	if (f->uart_kind == BM_UART_PL011 && f->uart_base && bm_reaches(BM_CPU_ADDR_MAX, f->uart_base, 0x1000))
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
	uint32_t lo, hi;
	__asm__ __volatile__("isb; mrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

uint64_t arch_tick_hz(const struct bm_fdt_info *f)
{
	uint32_t hz;
	(void)f;
	__asm__ __volatile__("mrc p15, 0, %0, c14, c0, 0" : "=r"(hz));
	return hz;
}

long arch_semihost(unsigned op, const uintptr_t *param)
{
	register uint32_t r0 __asm__("r0") = op;
	register uint32_t r1 __asm__("r1") = (uint32_t)(uintptr_t)param;
	__asm__ __volatile__("dsb sy; svc 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return (long)(int32_t)r0;
}

_Noreturn void arch_exit(int code)
{
	/* r1 points at {reason, exit code}. */
	static volatile uint32_t block[2];
	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = (uint32_t)code;
	register uint32_t r0 __asm__("r0") = SEMIHOST_SYS_EXIT_EXTENDED;
	register uint32_t r1 __asm__("r1") = (uint32_t)(uintptr_t)block;
	__asm__ __volatile__("dsb sy; svc 0xab" : "+r"(r0) : "r"(r1) : "memory");
	arch_poweroff(code);
}

_Noreturn void arch_poweroff(int code)
{
	(void)code; /* PSCI SYSTEM_OFF carries none */
	register uint32_t f0 __asm__("r0") = PSCI_SYSTEM_OFF;
	__asm__ __volatile__("hvc #0" : "+r"(f0)::"memory");
	for (;;)
		__asm__ __volatile__("wfe");
}

/* From start.S's vectors: which vector (1 undefined, 2 svc, 3 prefetch
 * abort, 4 data abort, 6 irq, 7 fiq) and the banked lr.  The cause is
 * vector << 32 | the fault status (DFSR or IFSR), the address DFAR or IFAR. */
_Noreturn void arch_trap(uint32_t vector, uint32_t lr)
{
	uint32_t fsr = 0, far = 0;
	if (vector == 4) {
		__asm__ __volatile__("mrc p15, 0, %0, c5, c0, 0" : "=r"(fsr));
		__asm__ __volatile__("mrc p15, 0, %0, c6, c0, 0" : "=r"(far));
	} else if (vector == 3) {
		__asm__ __volatile__("mrc p15, 0, %0, c5, c0, 1" : "=r"(fsr));
		__asm__ __volatile__("mrc p15, 0, %0, c6, c0, 2" : "=r"(far));
	}
	bm_trap(((uint64_t)vector << 32) | fsr, lr, far);
}

/* With the MMU off every access is Strongly-ordered and already in order;
 * the barriers are what the same code needs once memory is Normal. */
void arch_mb(void) { __asm__ __volatile__("dmb sy" ::: "memory"); }
void arch_rmb(void) { __asm__ __volatile__("dmb sy" ::: "memory"); }
void arch_wmb(void) { __asm__ __volatile__("dmb st" ::: "memory"); }

/* Register access (bm.h). */
BM_DEFINE_IO("dmb sy", "dmb st")

/* Sleeping through a delay (bm.h): the virtual timer (CNTV_CVAL,
 * CNTV_CTL ENABLE) wakes wfi through the GICv2. */
bool arch_idle_init(const struct bm_fdt_info *f)
{
	__asm__ __volatile__("mcr p15, 0, %0, c14, c3, 1; isb" ::"r"(0u) : "memory");
	return bm_arm_gic_wake_init(f);
}

void arch_idle_until(uint64_t tick)
{
	__asm__ __volatile__("mcrr p15, 3, %0, %1, c14; mcr p15, 0, %2, c14, c3, 1; isb" ::"r"((uint32_t)tick),
	                     "r"((uint32_t)(tick >> 32)), "r"(1u)
	                     : "memory");
	if (arch_ticks() < tick)
		__asm__ __volatile__("wfi" ::: "memory");
	__asm__ __volatile__("mcr p15, 0, %0, c14, c3, 1; isb" ::"r"(0u) : "memory");
}
