/* SPDX-License-Identifier: MIT */
/* What the CPU can reach (reach.h). */
#include "reach.h"

bool bm_reaches(uint64_t cpu_max, uint64_t addr, uint64_t len)
{
	if (addr > cpu_max)
		return false;
	return len == 0 || len - 1 <= cpu_max - addr;
}

bool bm_dma_mappable(uint64_t ram_lo, uint64_t ram_hi, uint64_t cpu_max, uint64_t addr, uint64_t len)
{
	return addr >= ram_lo && addr < ram_hi && len <= ram_hi - addr && bm_reaches(cpu_max, addr, len);
}
