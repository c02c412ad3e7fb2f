/* SPDX-License-Identifier: MIT */
/* Console output over the target's UART. */
#include "bm.h"

void bm_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			arch_putc('\r');
		arch_putc(*s);
	}
}
