/* SPDX-License-Identifier: MIT */
/*
 * 32-bit arm start-up (QEMU virt, Cortex-A15, no firmware: SVC mode, MMU
 * and caches off, interrupts masked): CPU 0 sets the stack and the
 * exception vectors (VBAR, ARM state), clears .bss and calls bm_main with
 * the device tree address: r2 when it holds one (the Linux convention),
 * else the start of RAM, where QEMU puts the tree for a bare-metal ELF
 * image.  Other CPUs park.  The C code is Thumb-2; bl to it becomes blx.
 */
	.syntax	unified
	.arm
	.section .text.start, "ax"
	.globl	_start
_start:
	cpsid	aif
	mrc	p15, 0, r4, c0, c0, 5		@ MPIDR
	ands	r4, r4, #0xff
	bne	park
	mov	r4, r2
	ldr	sp, =__stack_top
	ldr	r0, =vectors
	mcr	p15, 0, r0, c12, c0, 0		@ VBAR
	mrc	p15, 0, r0, c1, c0, 0		@ SCTLR: V = 0 (vectors at VBAR), TE = 0 (ARM)
	bic	r0, r0, #(1 << 13)
	bic	r0, r0, #(1 << 30)
	mcr	p15, 0, r0, c1, c0, 0
	isb
	ldr	r0, =__bss_start
	ldr	r1, =__bss_end
	mov	r2, #0
1:	cmp	r0, r1
	strlo	r2, [r0], #4
	blo	1b
	mov	r0, r4
	bl	arch_fdt_address
	bl	bm_main
	bl	arch_exit
park:
	wfe
	b	park

/* Every exception: report (which vector, the return address) and exit;
 * nothing here expects one. */
	.balign	32
vectors:
	b	park			@ reset
	b	v_und
	b	v_svc
	b	v_pabt
	b	v_dabt
	b	park			@ unused
	b	v_irq
	b	v_fiq
v_und:	mov	r0, #1
	b	trap
v_svc:	mov	r0, #2
	b	trap
v_pabt:	mov	r0, #3
	b	trap
v_dabt:	mov	r0, #4
	b	trap
v_irq:	mov	r0, #6
	b	trap
v_fiq:	mov	r0, #7
trap:
	mov	r1, lr
	ldr	sp, =__stack_top
	bl	arch_trap
	b	park
