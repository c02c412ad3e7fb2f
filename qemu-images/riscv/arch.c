/* SPDX-License-Identifier: MIT */
/*
 * riscv64 and riscv32 on QEMU virt: ns16550 console, the time CSR, fences,
 * and the sifive_test device to hand QEMU the exit code.  One source for
 * both widths (riscv32.cmake builds this directory too).
 */
#include "bm.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20u
#define UART_POLLS 100000u
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

#if __riscv_xlen == 32
const char bm_target_name[] = "riscv32";
#else
const char bm_target_name[] = "riscv64";
#endif

/* QEMU's addresses until the device tree says otherwise. */
static uintptr_t uart_base = 0x10000000u;
static uintptr_t test_base = 0x100000u;

void arch_console_from_fdt(const struct bm_fdt_info *f)
{
	if (f->uart_kind == BM_UART_NS16550 && f->uart_base && bm_reaches(BM_CPU_ADDR_MAX, f->uart_base, 8))
		uart_base = (uintptr_t)f->uart_base;
}

void arch_exit_from_fdt(const struct bm_fdt_info *f)
{
	if (f->exit_base && bm_reaches(BM_CPU_ADDR_MAX, f->exit_base, 4))
		test_base = (uintptr_t)f->exit_base;
}

void arch_putc(char c)
{
	volatile uint8_t *u = (volatile uint8_t *)uart_base;
	for (unsigned i = 0; i < UART_POLLS && !(u[UART_LSR] & UART_LSR_THRE); i++)
		;
	u[UART_THR] = (uint8_t)c;
}

uint64_t arch_ticks(void)
{
#if __riscv_xlen == 32
	/* mtime is 64-bit, read as two halves: hi, lo, hi again; a carry
	 * between the reads shows as a changed hi, and the pair is read again
	 * (bounded: a counter that carries on every read is not a clock). */
	uint32_t hi, lo, hi2;
	for (unsigned i = 0; i < 16u; i++) {
		__asm__ __volatile__("rdtimeh %0\n\trdtime %1\n\trdtimeh %2" : "=r"(hi), "=r"(lo), "=r"(hi2));
		if (hi == hi2)
			break;
	}
	return ((uint64_t)hi2 << 32) | (hi == hi2 ? lo : 0u);
#else
	uint64_t t;
	__asm__ __volatile__("rdtime %0" : "=r"(t));
	return t;
#endif
}

uint64_t arch_tick_hz(const struct bm_fdt_info *f)
{
	return f->timebase_hz;
}

/* RISC-V semihosting: ebreak between the two marker instructions, all
 * three uncompressed and in one page (the 16-byte alignment sees to it);
 * a0 the operation, a1 the parameter block, the answer in a0. */
__asm__(".section .text.arch_semihost,\"ax\",@progbits\n"
        ".globl arch_semihost\n"
        ".type arch_semihost, @function\n"
        ".balign 16\n"
        "arch_semihost:\n"
        ".option push\n"
        ".option norvc\n"
        "fence rw, rw\n"
        "slli zero, zero, 0x1f\n"
        "ebreak\n"
        "srai zero, zero, 7\n"
        ".option pop\n"
        "ret\n"
        ".size arch_semihost, . - arch_semihost\n"
        ".previous\n");

_Noreturn void arch_exit(int code)
{
	volatile uint32_t *t = (volatile uint32_t *)test_base;
	__asm__ __volatile__("fence iorw, iorw" ::: "memory");
	*t = code == 0 ? TEST_PASS : ((uint32_t)(code & 0xffff) << 16) | TEST_FAIL;
	for (;;)
		__asm__ __volatile__("wfi");
}

/* arch_exit needs no semihosting here. */
_Noreturn void arch_poweroff(int code)
{
	arch_exit(code);
}

/* Barriers: mb orders everything, including device I/O; rmb loads (memory
 * and I/O) before later loads; wmb stores before later stores. */
void arch_mb(void) { __asm__ __volatile__("fence iorw, iorw" ::: "memory"); }
void arch_rmb(void) { __asm__ __volatile__("fence ir, ir" ::: "memory"); }
void arch_wmb(void) { __asm__ __volatile__("fence ow, ow" ::: "memory"); }

/* Register access (bm.h). */
BM_DEFINE_IO("fence i, r", "fence w, o")

/* Sleeping through a delay (bm.h): the CLINT's mtimecmp for hart 0 (the
 * image runs on hart 0 in machine mode), with the machine timer enabled
 * in mie while mstatus.MIE stays 0, so that the timer wakes wfi and is
 * never taken.  mtimecmp is put back to its largest value afterwards,
 * which clears the pending timer. */
#define CLINT_MTIMECMP0 0x4000u
#define MIE_MTIE (1u << 7)

static volatile uint32_t *mtimecmp;

static void set_mtimecmp(uint64_t v)
{
	/* In 32-bit halves on both widths, the high one set to its largest
	 * first, so that no value in between lies in the past. */
	mtimecmp[1] = 0xffffffffu;
	mtimecmp[0] = (uint32_t)v;
	mtimecmp[1] = (uint32_t)(v >> 32);
}

bool arch_idle_init(const struct bm_fdt_info *f)
{
	if (!f->clint_base || f->clint_base > UINT64_MAX - CLINT_MTIMECMP0 ||
	    !bm_reaches(BM_CPU_ADDR_MAX, f->clint_base + CLINT_MTIMECMP0, 8))
		return false;
	mtimecmp = (volatile uint32_t *)(uintptr_t)(f->clint_base + CLINT_MTIMECMP0);
	set_mtimecmp(~0ull);
	return true;
}

void arch_idle_until(uint64_t tick)
{
	if (!mtimecmp)
		return;
	set_mtimecmp(tick);
	__asm__ __volatile__("csrs mie, %0" ::"r"(MIE_MTIE) : "memory");
	if (arch_ticks() < tick)
		__asm__ __volatile__("wfi" ::: "memory");
	__asm__ __volatile__("csrc mie, %0" ::"r"(MIE_MTIE) : "memory");
	set_mtimecmp(~0ull);
}
