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
