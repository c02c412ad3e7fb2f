/* SPDX-License-Identifier: MIT */
/*
 * aarch64 start-up at EL1 (QEMU virt, no firmware, MMU off): CPU 0 sets
 * the stack and the exception vectors, enables FP/SIMD access (the code is
 * built without FP registers, this only keeps a stray use from trapping),
 * clears .bss and calls bm_main with the device tree address: x0 when it
 * holds one, else the start of RAM, where QEMU puts the tree for a
 * bare-metal ELF image.  Other CPUs park.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	mrs	x1, mpidr_el1
	and	x1, x1, #0xff
	cbnz	x1, park
	mov	x19, x0
	ldr	x1, =__stack_top
	mov	sp, x1
	mov	x1, #(3 << 20)
	msr	cpacr_el1, x1
	ldr	x1, =vectors
	msr	vbar_el1, x1
	isb
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mov	x0, x19
	bl	arch_fdt_address
	bl	bm_main
	bl	arch_exit
park:
	wfe
	b	park

/* Every exception: report and exit (nothing here expects one). */
	.balign	0x800
vectors:
	.rept	16
	.balign	0x80
	b	trap
	.endr
trap:
	ldr	x1, =__stack_top
	mov	sp, x1
	mrs	x0, esr_el1
	mrs	x1, elr_el1
	mrs	x2, far_el1
	bl	bm_trap
	b	park
