/* SPDX-License-Identifier: MIT */
/*
 * What the bare-metal images share, and what each target directory
 * (riscv/, aarch64/, arm/, ...) provides: a console byte out, a tick counter,
 * MMIO accessors with the architecture's barriers, and the exit path.
 * Adding a target is writing these for it plus start.S and link.ld.
 */
#ifndef BM_H
#define BM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdt.h"
#include "pci_host.h"
#include "vlab/virtio.h"

/* Exit codes the image hands QEMU (and the runner reads). */
#define BM_EXIT_PASS 0
#define BM_EXIT_FAIL 1  /* a scenario failed */
#define BM_EXIT_SETUP 2 /* no device tree, no device */
#define BM_EXIT_TRAP 3  /* an exception */

/* ---- per target (<target>/arch.c) ---- */
extern const char bm_target_name[];
/* Use the console the device tree names (called once it is parsed). */
void arch_console_from_fdt(const struct bm_fdt_info *fdt);
void arch_putc(char c);
uint64_t arch_ticks(void);
/* Tick frequency: the device tree's or the architecture's; 0 if unknown. */
uint64_t arch_tick_hz(const struct bm_fdt_info *fdt);
/* Use the exit device the device tree names, where the target has one. */
void arch_exit_from_fdt(const struct bm_fdt_info *fdt);
_Noreturn void arch_exit(int code);
/* The exit that needs nothing but the machine (no semihosting), for a trap
 * while exiting (main.c bm_trap); where the machine carries no code
 * (arm's PSCI SYSTEM_OFF) QEMU exits 0. */
_Noreturn void arch_poweroff(int code);
void arch_mb(void);
void arch_rmb(void);
void arch_wmb(void);
/*
 * Sleeping through a delay (platform.c p_delay), so that the vCPU leaves
 * the host's cores to the device while it waits: under QEMU a spinning
 * vCPU holds a core its I/O threads could use (docs/performance.md "Early
 * notification, and sleeping in delays").  arch_idle_init sets up a timer
 * that can wake the CPU from its wait-for-interrupt (the interrupt stays
 * masked: it wakes the CPU and is never taken) and says whether the
 * target can; arch_idle_until sleeps until the tick counter reaches tick
 * or something else wakes the CPU, whichever comes first (the caller
 * checks the time again).  A target that cannot returns false and the
 * delay spins.
 */
bool arch_idle_init(const struct bm_fdt_info *fdt);
void arch_idle_until(uint64_t tick);
uint8_t arch_read8(uintptr_t a);
uint16_t arch_read16(uintptr_t a);
uint32_t arch_read32(uintptr_t a);
void arch_write8(uintptr_t a, uint8_t v);
void arch_write16(uintptr_t a, uint16_t v);
void arch_write32(uintptr_t a, uint32_t v);
/* The six register accessors above, for a target whose barriers are RB
 * (after a read: it completes before later memory reads, so a used ring
 * read after an interrupt-status read sees the device's writes) and WB
 * (before a write: it comes after earlier memory writes, so the device
 * sees the ring before the notification), each an asm string. */
#define BM_DEFINE_IO_BITS(bits, RB, WB)                                            \
	uint##bits##_t arch_read##bits(uintptr_t a)                                \
	{                                                                          \
		uint##bits##_t v = *(volatile uint##bits##_t *)a;                  \
		__asm__ __volatile__(RB ::: "memory");                             \
		return v;                                                          \
	}                                                                          \
	void arch_write##bits(uintptr_t a, uint##bits##_t v)                       \
	{                                                                          \
		__asm__ __volatile__(WB ::: "memory");                             \
		*(volatile uint##bits##_t *)a = v;                                 \
	}
#define BM_DEFINE_IO(RB, WB)             \
	BM_DEFINE_IO_BITS(8, RB, WB)     \
	BM_DEFINE_IO_BITS(16, RB, WB)    \
	BM_DEFINE_IO_BITS(32, RB, WB)
/* Port I/O, on x86 only (BM_HAVE_PIO): w is 1, 2 or 4 bytes. */
#if defined(__i386__) || defined(__x86_64__)
#define BM_HAVE_PIO 1
uint32_t arch_pio_read(unsigned w, uint32_t port);
void arch_pio_write(unsigned w, uint32_t port, uint32_t v);
#else
#define BM_HAVE_PIO 0
#endif
/* A semihosting call (op, parameter block): QEMU's answer.  Only with
 * -semihosting-config enable=on (else it traps): see trace.c. */
long arch_semihost(unsigned op, const uintptr_t *param);

/* ---- common ---- */
void bm_puts(const char *s);
/* arm and aarch64 on QEMU virt (common/arm_virt.c): a byte out through the
 * PL011 at base; the device tree at reg when it holds one (a boot
 * register), else at the start of RAM, where QEMU puts it for a bare-metal
 * ELF image. */
void bm_pl011_putc(uintptr_t base, char c);
uintptr_t bm_arm_fdt_address(uintptr_t reg, uintptr_t ram_start);
/* arm and aarch64: the GICv2 lets the virtual timer wake wfi (arm_virt.c);
 * false when the tree names no GICv2 or no timer interrupt. */
bool bm_arm_gic_wake_init(const struct bm_fdt_info *fdt);
/* printf-like (vlab_snprintf formats; lines up to 255 bytes). */
#define bm_printf(...)                                        \
	do {                                                  \
		char bm_buf_[256];                            \
		vlab_snprintf(bm_buf_, sizeof bm_buf_, __VA_ARGS__); \
		bm_puts(bm_buf_);                             \
	} while (0)

/* The platform contract on bare metal: device address = physical address. */
const struct vlab_platform *bm_platform_init(const struct bm_fdt_info *fdt);
/* The platform's VLAB_PLAT_* flags (the trace header's dma= word). */
uint32_t bm_platform_flags(void);

/* The trace of a run (trace.c, docs/qemu.md "Record and replay"): begin
 * opens vlab-INDEX.trace on the host and writes the header (without the
 * driver line, which it adds); while bm_tracing, the platform hands every
 * call to bm_trace_event / bm_trace_bytes ("OP ARGS", without the time)
 * and every log line to bm_trace_comment; end writes the "end" line and
 * closes the file (false: a write failed). */
extern bool bm_tracing;
bool bm_trace_begin(unsigned index, const char *const *header, unsigned n);
void bm_trace_now(uint64_t ns);
void bm_trace_event(const char *text);
void bm_trace_bytes(const char *head, const void *buf, size_t len);
void bm_trace_comment(const char *level, const char *msg);
bool bm_trace_end(void);
/* What the driver published (docs/trace-format.md): at every register
 * write, the bytes of mem[0, len) (device address dev) that differ from
 * shadow become pub lines, and shadow takes them.  The platform keeps the
 * shadow of its DMA pool; bm_platform_trace_start (platform.c, called by
 * bm_trace_begin) makes it equal to the pool. */
void bm_trace_publish(const uint8_t *mem, uint8_t *shadow, size_t len, uint64_t dev);
void bm_platform_trace_start(void);
#define bm_trace_printf(...)                                  \
	do {                                                  \
		char bm_tbuf_[128];                           \
		vlab_snprintf(bm_tbuf_, sizeof bm_tbuf_, __VA_ARGS__); \
		bm_trace_event(bm_tbuf_);                     \
	} while (0)

/* Called from start.S with the address of the device tree (0 if none). */
int bm_main(uintptr_t fdt);
/* The same for a target without a device tree (x86), which fills *info
 * from its boot information and the machine's fixed layout. */
int bm_main_info(const struct bm_fdt_info *info);
/* Called from the trap vector: prints what happened and exits BM_EXIT_TRAP. */
_Noreturn void bm_trap(uint64_t cause, uint64_t pc, uint64_t addr);

#endif
