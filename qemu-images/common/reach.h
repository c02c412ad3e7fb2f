/* SPDX-License-Identifier: MIT */
/*
 * What the CPU can reach.  With the MMU off a bus address is a CPU address,
 * and a 32-bit CPU (arm, riscv32) reaches only the first 4 GiB: an address
 * beyond that, cast to a pointer, would silently become another address.
 * Plain C, so tested on the host (tests/reach_test.cpp) with the 32-bit
 * limit.
 */
#ifndef BM_REACH_H
#define BM_REACH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The highest address this CPU reaches: its pointer width. */
#define BM_CPU_ADDR_MAX ((uint64_t)UINTPTR_MAX)

/* Whether [addr, addr + len) lies at or below cpu_max (len 0: addr itself). */
bool bm_reaches(uint64_t cpu_max, uint64_t addr, uint64_t len);

/* dma_map's check: [addr, addr + len) inside the RAM [ram_lo, ram_hi) and
 * reachable by the CPU. */
bool bm_dma_mappable(uint64_t ram_lo, uint64_t ram_hi, uint64_t cpu_max, uint64_t addr, uint64_t len);

#ifdef __cplusplus
}
#endif
#endif
