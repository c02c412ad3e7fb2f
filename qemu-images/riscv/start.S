/* SPDX-License-Identifier: MIT */
/*
 * riscv64 and riscv32 start-up, machine mode (QEMU virt with -bios none): hart 0 sets
 * up gp, the stack and the trap vector, clears .bss and calls
 * bm_main(a1 = the device tree QEMU passes); other harts park.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	csrw	mie, zero
	la	t0, trap_entry
	csrw	mtvec, t0
	bnez	a0, park
.option push
.option norelax
	la	gp, __global_pointer$
.option pop
	la	sp, __stack_top
	mv	s1, a1
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
#if __riscv_xlen == 32
	sw	zero, 0(t0)
	addi	t0, t0, 4
#else
	sd	zero, 0(t0)
	addi	t0, t0, 8
#endif
	j	1b
2:	mv	a0, s1
	call	bm_main
	call	arch_exit
park:
	wfi
	j	park

	.balign	4
trap_entry:
	la	sp, __stack_top
#if __riscv_xlen == 32
	/* bm_trap(uint64_t cause, uint64_t pc, uint64_t addr): ilp32 passes
	 * each in a register pair, low half first. */
	csrr	a0, mcause
	li	a1, 0
	csrr	a2, mepc
	li	a3, 0
	csrr	a4, mtval
	li	a5, 0
#else
	csrr	a0, mcause
	csrr	a1, mepc
	csrr	a2, mtval
#endif
	call	bm_trap
	j	park
