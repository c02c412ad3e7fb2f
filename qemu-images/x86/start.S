/* SPDX-License-Identifier: MIT */
/*
 * x86 start-up (QEMU pc / q35 after SeaBIOS, -kernel with a multiboot v1
 * header; docs/qemu.md "x86").  QEMU's multiboot loader enters _start in
 * 32-bit protected mode, paging off, interrupts off, EAX the multiboot
 * magic and EBX the multiboot information.  The header carries the
 * address fields (flag bit 16), so QEMU loads the flat binary
 * (objcopy -O binary) of either width: a 64-bit ELF it would refuse.
 *
 * i386: our own GDT (the loader's is not guaranteed), the stack, .bss
 * cleared, x86_main(magic, info), arch_exit with what it returns.
 * x86_64: the same, then page tables that identity-map the low 4 GiB with
 * 2 MiB pages (the image, RAM and the PCI windows below 4 GiB; from 3 GiB
 * up uncached), PAE, EFER.LME, paging, and a far jump to 64-bit code,
 * which calls x86_main(magic, info) with the saved registers.
 * Every exception goes to x86_trap(vector, error code, faulting ip).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010002 /* bit 1: memory information; bit 16: the address fields */

	.section .text.start, "ax"
	.code32
	.globl	_start
	.balign	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header		/* header_addr */
	.long	__image_start		/* load_addr */
	.long	__load_end		/* load_end_addr */
	.long	__image_end		/* bss_end_addr */
	.long	_start			/* entry_addr */

_start:
	cli
	cld
	mov	%eax, %esi		/* magic, info: kept across the set-up */
	mov	%ebx, %ebp
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$__stack_top, %esp
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
#ifndef __x86_64__
	push	%ebp
	push	%esi
	call	x86_main
	push	%eax
	call	arch_exit
2:	cli
	hlt
	jmp	2b
#else
	/* Page tables (in .bss, zeroed above): PML4[0] -> PDPT, PDPT[i] ->
	 * PD i (i < 4), each PD 512 2 MiB pages; PS | RW | P, and PCD | PWT
	 * from 3 GiB up (PCI windows, APICs). */
	mov	$x86_pdpt, %eax
	or	$0x3, %eax
	mov	%eax, x86_pml4
	xor	%ecx, %ecx		/* PD i */
3:	mov	%ecx, %eax
	shl	$12, %eax
	add	$x86_pd, %eax
	or	$0x3, %eax
	mov	%eax, x86_pdpt(,%ecx,8)
	inc	%ecx
	cmp	$4, %ecx
	jb	3b
	xor	%ecx, %ecx		/* 2 MiB page i of 2048 */
4:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax
	cmp	$1536, %ecx
	jb	5f
	or	$0x18, %eax
5:	mov	%eax, x86_pd(,%ecx,8)
	inc	%ecx
	cmp	$2048, %ecx
	jb	4b
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$x86_pml4, %eax
	mov	%eax, %cr3
	mov	$0xC0000080, %ecx	/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000001, %eax	/* PG, PE */
	mov	%eax, %cr0
	ljmp	$0x18, $long_mode

	.code64
long_mode:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$__stack_top, %rsp
	mov	%esi, %edi		/* magic */
	mov	%ebp, %esi		/* info */
	call	x86_main
	mov	%eax, %edi
	call	arch_exit
6:	cli
	hlt
	jmp	6b
#endif

/* Exceptions 0-31: a stub each pushes a zero where the CPU pushes no
 * error code, then the vector; x86_trap(vector, error, ip) reports and
 * exits. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
	.macro	stub v
	.balign	16
stub_\v:
	.if	!HAS_ERR(\v)
	push	$0
	.endif
	push	$\v
	jmp	trap_common
	.endm
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub	\v
	.endr
trap_common:
#ifndef __x86_64__
	call	x86_trap		/* its arguments: vector, error, eip on the stack */
#else
	mov	(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	16(%rsp), %rdx
	and	$-16, %rsp
	call	x86_trap
#endif
7:	cli
	hlt
	jmp	7b

/* The local APIC timer's interrupt (arch_idle_until): it only ends a hlt;
 * the handler tells the APIC it is done (a write to its EOI register) and
 * returns.  The APIC's spurious vector returns without one. */
	.balign	16
	.globl	x86_timer_isr
x86_timer_isr:
#ifndef __x86_64__
	push	%eax
	mov	x86_lapic_eoi, %eax
	movl	$0, (%eax)
	pop	%eax
	iret
#else
	push	%rax
	mov	x86_lapic_eoi(%rip), %rax
	movl	$0, (%rax)
	pop	%rax
	iretq
#endif
	.balign	16
	.globl	x86_spurious_isr
x86_spurious_isr:
#ifndef __x86_64__
	iret
#else
	iretq
#endif

	.section .rodata
	.balign	8
	.globl	x86_trap_stubs
x86_trap_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
#ifndef __x86_64__
	.long	stub_\v
#else
	.quad	stub_\v
#endif
	.endr

	.balign	8
gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x08: 32-bit code */
	.quad	0x00CF92000000FFFF	/* 0x10: data */
	.quad	0x00AF9A000000FFFF	/* 0x18: 64-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

#ifdef __x86_64__
	.section .bss
	.balign	4096
x86_pml4:
	.skip	4096
x86_pdpt:
	.skip	4096
x86_pd:
	.skip	4 * 4096
#endif
	.section .note.GNU-stack, "", @progbits
