/* SPDX-License-Identifier: MIT */
/*
 * A small flattened-device-tree reader: what a bare-metal image needs from
 * the tree QEMU hands it (memory, virtio-mmio slots, the console, the exit
 * device, the timer frequency, the PCI host bridge).
 *
 * The blob is treated as hostile input: every offset and length is checked
 * against the blob's declared and maximum size, strings must end inside
 * their block, nesting is bounded, and every loop advances, so a corrupt
 * tree gives an error or a partial result, never a fault or a hang.
 */
#ifndef BM_FDT_H
#define BM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BM_FDT_MAGIC 0xd00dfeedu
#define BM_FDT_MAX_MMIO 32u
#define BM_FDT_MAX_DEPTH 16u
#define BM_FDT_MAX_RANGES 4u

enum bm_uart_kind { BM_UART_NONE = 0, BM_UART_NS16550, BM_UART_PL011 };

struct bm_fdt_range {
	uint32_t space;      /* PCI space code: 1 I/O, 2 32-bit memory, 3 64-bit memory */
	uint64_t pci_addr, cpu_addr, size;
};

struct bm_fdt_info {
	uint64_t mem_base, mem_size;     /* first memory node */
	unsigned n_mmio;                 /* virtio,mmio nodes, sorted by address */
	uint64_t mmio_base[BM_FDT_MAX_MMIO];
	uint64_t mmio_size[BM_FDT_MAX_MMIO];
	unsigned mmio_dropped;           /* beyond BM_FDT_MAX_MMIO or unusable reg */
	uint32_t timebase_hz;            /* /cpus timebase-frequency (riscv), 0 if none */
	enum bm_uart_kind uart_kind;
	uint64_t uart_base;
	uint64_t exit_base;              /* sifive,test0, 0 if none */
	/* What lets the CPU sleep through a delay (bm.h arch_idle_init):
	 * the RISC-V CLINT (riscv,clint0 / sifive,clint0), the GICv2's
	 * distributor and CPU interface (arm,cortex-a15-gic / arm,gic-400: the
	 * first two reg entries) and the generic timer's virtual interrupt
	 * (arm,armv7-timer / arm,armv8-timer: the third of its interrupts, a
	 * PPI, as an interrupt ID); 0 when the tree has none. */
	uint64_t clint_base;
	uint64_t gic_dist, gic_cpu;
	uint32_t timer_virt_irq;
	/* PCI host bridge (pci-host-ecam-generic), for the PCI transport. */
	uint64_t ecam_base, ecam_size;
	unsigned n_pci_ranges;
	struct bm_fdt_range pci_range[BM_FDT_MAX_RANGES];
	bool record;                     /* bootargs "vlab.record" (-append): record traces */
	bool bench;                      /* bootargs "vlab.bench": read each disk whole, timed (bench/qemu-bench.py) */
	/* Set by a target without a device tree (x86: bm_main_info), never
	 * by the parser: PCI configuration through ports 0xCF8/0xCFC and
	 * I/O BARs through port I/O (the I/O range's cpu_addr unused); the
	 * machine's name for the trace header (NULL: "virt"). */
	bool pci_cfg_ports;
	const char *machine;
	unsigned nodes;                  /* nodes seen */
};

/* Errors. */
#define BM_FDT_EMAGIC (-1)   /* no FDT header at blob */
#define BM_FDT_ETRUNC (-2)   /* offsets or sizes beyond the blob */
#define BM_FDT_EBADTAG (-3)  /* an unknown token or a malformed structure */
#define BM_FDT_EDEPTH (-4)   /* nesting deeper than BM_FDT_MAX_DEPTH */

/*
 * Parse the tree at blob, reading at most max_len bytes (the blob's own
 * totalsize must fit in it).  Returns 0 and fills *info, or a negative
 * BM_FDT_E* code (info then holds what was found before the error).
 */
int bm_fdt_parse(const void *blob, size_t max_len, struct bm_fdt_info *info);
/* Readable text for a BM_FDT_E* code. */
const char *bm_fdt_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
