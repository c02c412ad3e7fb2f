/* SPDX-License-Identifier: MIT */
/*
 * riscv64 on QEMU virt: ns16550 console, the time CSR, fences, and the
 * sifive_test device to hand QEMU the exit code.
 */
#include "bm.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20u
#define UART_POLLS 100000u
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

const char bm_target_name[] = "riscv64";

/* QEMU's addresses until the device tree says otherwise. */
static uintptr_t uart_base = 0x10000000u;
static uintptr_t test_base = 0x100000u;

void arch_console_from_fdt(const struct bm_fdt_info *f)
{
	if (f->uart_kind == BM_UART_NS16550 && f->uart_base)
		uart_base = (uintptr_t)f->uart_base;
}

void arch_exit_from_fdt(const struct bm_fdt_info *f)
{
	if (f->exit_base)
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
	uint64_t t;
	__asm__ __volatile__("rdtime %0" : "=r"(t));
	return t;
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
        ".previous\n");

_Noreturn void arch_exit(int code)
{
	volatile uint32_t *t = (volatile uint32_t *)test_base;
	__asm__ __volatile__("fence iorw, iorw" ::: "memory");
	*t = code == 0 ? TEST_PASS : ((uint32_t)(code & 0xffff) << 16) | TEST_FAIL;
	for (;;)
		__asm__ __volatile__("wfi");
}

/* Barriers: mb orders everything, including device I/O; rmb loads (memory
 * and I/O) before later loads; wmb stores before later stores. */
void arch_mb(void) { __asm__ __volatile__("fence iorw, iorw" ::: "memory"); }
void arch_rmb(void) { __asm__ __volatile__("fence ir, ir" ::: "memory"); }
void arch_wmb(void) { __asm__ __volatile__("fence ow, ow" ::: "memory"); }

/* Register access: a read completes before later memory reads (so a used
 * ring read after an interrupt-status read sees the device's writes); a
 * write comes after earlier memory writes (so the device sees the ring
 * before the notification). */
#define IO_READ(bits)                                                              \
	uint##bits##_t arch_read##bits(uintptr_t a)                                \
	{                                                                          \
		uint##bits##_t v = *(volatile uint##bits##_t *)a;                  \
		__asm__ __volatile__("fence i, r" ::: "memory");                   \
		return v;                                                          \
	}
#define IO_WRITE(bits)                                                             \
	void arch_write##bits(uintptr_t a, uint##bits##_t v)                       \
	{                                                                          \
		__asm__ __volatile__("fence w, o" ::: "memory");                   \
		*(volatile uint##bits##_t *)a = v;                                 \
	}
IO_READ(8)
IO_READ(16)
IO_READ(32)
IO_WRITE(8)
IO_WRITE(16)
IO_WRITE(32)
