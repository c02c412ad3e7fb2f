/* SPDX-License-Identifier: MIT */
/*
 * The platform contract: the only way out of driver/.
 *
 * Everything the device controls enters the driver through these functions:
 * register reads (memory-mapped and port I/O) and reads of device-writable
 * shared memory (used ring, buffers the device filled).  The host harness,
 * the bare-metal images, the fuzzers and record/replay each provide one
 * implementation.  An audit of the attack surface is a grep for the
 * vlab_plat_* wrappers below.
 *
 * Freestanding: only <stdint.h>, <stddef.h>, <stdbool.h>.
 */
#ifndef VLAB_PLATFORM_H
#define VLAB_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An address as the device sees it (bus / guest-physical address). */
typedef uint64_t vlab_addr_t;

enum vlab_log_level {
	VLAB_LOG_ERROR = 0,
	VLAB_LOG_WARN = 1,
	VLAB_LOG_INFO = 2,
	VLAB_LOG_DEBUG = 3,
};

/* Which way the data of a mapped buffer goes. */
enum vlab_dma_dir {
	VLAB_DMA_TO_DEVICE = 1,     /* the device reads it (a WRITE's data) */
	VLAB_DMA_FROM_DEVICE = 2,   /* the device writes it (a READ's data, GET_ID) */
	VLAB_DMA_BIDIRECTIONAL = 3,
};

struct vlab_platform_ops {
	/* Memory-mapped register access; addr is a bus address. */
	uint8_t (*mmio_read8)(void *ctx, vlab_addr_t addr);
	uint16_t (*mmio_read16)(void *ctx, vlab_addr_t addr);
	uint32_t (*mmio_read32)(void *ctx, vlab_addr_t addr);
	void (*mmio_write8)(void *ctx, vlab_addr_t addr, uint8_t val);
	void (*mmio_write16)(void *ctx, vlab_addr_t addr, uint16_t val);
	void (*mmio_write32)(void *ctx, vlab_addr_t addr, uint32_t val);

	/* Port I/O (x86 I/O space; elsewhere the platform maps it onto its
	 * PIO window).  May be NULL on platforms without port I/O. */
	uint8_t (*pio_read8)(void *ctx, uint32_t port);
	uint16_t (*pio_read16)(void *ctx, uint32_t port);
	uint32_t (*pio_read32)(void *ctx, uint32_t port);
	void (*pio_write8)(void *ctx, uint32_t port, uint8_t val);
	void (*pio_write16)(void *ctx, uint32_t port, uint16_t val);
	void (*pio_write32)(void *ctx, uint32_t port, uint32_t val);

	/* DMA memory: zero-filled, aligned to align (a power of two), CPU
	 * pointer returned, device address stored in *dev.  NULL on failure. */
	void *(*dma_alloc)(void *ctx, size_t size, size_t align, vlab_addr_t *dev);
	void (*dma_free)(void *ctx, void *cpu, size_t size);
	/*
	 * Hand a caller's buffer to the device for one request: translate it
	 * into a device address.  Returns 0, or a negative vlab_err when
	 * [cpu, cpu+len) is not reachable by DMA.  A board with non-coherent
	 * DMA cleans the CPU caches here (TO_DEVICE: the device must see what
	 * the CPU wrote; FROM_DEVICE: no dirty line may be written back over
	 * what the device writes); a bounce-buffer platform copies in here.
	 */
	int (*dma_map)(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev);
	/*
	 * The device can no longer reach a mapped buffer (it completed the
	 * request, or a reset it acknowledged stopped it): give the buffer
	 * back to the CPU.  Called once per successful dma_map, with the same
	 * arguments and the device address it gave, before the caller sees
	 * the buffer again; never while the device may still reach it (a
	 * device that could not be stopped keeps its buffers mapped: see the
	 * release rule in docs/architecture.md).  A non-coherent board
	 * invalidates the CPU caches here (FROM_DEVICE); a bounce-buffer
	 * platform copies out here; record/replay records (replays) the bytes
	 * the device wrote here.  May be NULL (coherent, identity-mapped).
	 */
	void (*dma_unmap)(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev);

	/* Reads of device-writable shared memory.  The driver never
	 * dereferences memory the device may write; it calls these. */
	uint16_t (*shm_read16)(void *ctx, const volatile void *p);
	uint32_t (*shm_read32)(void *ctx, const volatile void *p);
	void (*shm_read)(void *ctx, void *dst, const volatile void *src, size_t len);

	/* Barriers: full, read (load-load), write (store-store). */
	void (*mb)(void *ctx);
	void (*rmb)(void *ctx);
	void (*wmb)(void *ctx);

	/* Time.  now_ns is monotonic.  delay_ns lets time pass; on the host
	 * it advances the virtual clock and runs device work that is due. */
	uint64_t (*now_ns)(void *ctx);
	void (*delay_ns)(void *ctx, uint64_t ns);

	/* One line of log text, without a trailing newline.  May be NULL. */
	void (*log)(void *ctx, enum vlab_log_level level, const char *msg);

	/* 64 random bits (e.g. for a locally administered MAC address when
	 * the device offers none).  May be NULL; a host implementation should
	 * draw from a seeded generator so runs stay reproducible. */
	uint64_t (*random)(void *ctx);
};

/*
 * struct vlab_platform.flags.
 *
 * VLAB_PLAT_DMA_ALL_MEMORY: the device can read all of the memory the
 * driver runs in, mapped or not (no IOMMU, no bounce buffers, no memory
 * encryption: a guest without confidential computing, whose hypervisor runs
 * the device; a bare-metal board without an IOMMU).  Zeroing a buffer
 * before it is given to the device as device-writable hides nothing from
 * such a device, so the blk driver skips it unless the caller asks for it
 * (vlab_blk_cfg.zeroing; docs/performance.md "Zeroing device-writable
 * buffers").  A platform that does not say so is taken to confine the
 * device to the buffers it maps, and buffers are zeroed.
 */
#define VLAB_PLAT_DMA_ALL_MEMORY (1u << 0)
#define VLAB_PLAT_FLAGS_KNOWN VLAB_PLAT_DMA_ALL_MEMORY

struct vlab_platform {
	const struct vlab_platform_ops *ops;
	void *ctx;
	uint32_t flags; /* VLAB_PLAT_*; 0 unless the platform knows better */
};

/* Thin wrappers; the names are the grep target of the attack-surface audit. */
static inline uint8_t vlab_plat_read8(const struct vlab_platform *p, vlab_addr_t a) { return p->ops->mmio_read8(p->ctx, a); }
static inline uint16_t vlab_plat_read16(const struct vlab_platform *p, vlab_addr_t a) { return p->ops->mmio_read16(p->ctx, a); }
static inline uint32_t vlab_plat_read32(const struct vlab_platform *p, vlab_addr_t a) { return p->ops->mmio_read32(p->ctx, a); }
static inline void vlab_plat_write8(const struct vlab_platform *p, vlab_addr_t a, uint8_t v) { p->ops->mmio_write8(p->ctx, a, v); }
static inline void vlab_plat_write16(const struct vlab_platform *p, vlab_addr_t a, uint16_t v) { p->ops->mmio_write16(p->ctx, a, v); }
static inline void vlab_plat_write32(const struct vlab_platform *p, vlab_addr_t a, uint32_t v) { p->ops->mmio_write32(p->ctx, a, v); }
static inline uint16_t vlab_plat_shm_read16(const struct vlab_platform *p, const volatile void *q) { return p->ops->shm_read16(p->ctx, q); }
static inline uint32_t vlab_plat_shm_read32(const struct vlab_platform *p, const volatile void *q) { return p->ops->shm_read32(p->ctx, q); }
static inline void vlab_plat_shm_read(const struct vlab_platform *p, void *dst, const volatile void *src, size_t n) { p->ops->shm_read(p->ctx, dst, src, n); }
static inline void vlab_plat_mb(const struct vlab_platform *p) { p->ops->mb(p->ctx); }
static inline void vlab_plat_rmb(const struct vlab_platform *p) { p->ops->rmb(p->ctx); }
static inline void vlab_plat_wmb(const struct vlab_platform *p) { p->ops->wmb(p->ctx); }
static inline uint64_t vlab_plat_now(const struct vlab_platform *p) { return p->ops->now_ns(p->ctx); }
static inline void vlab_plat_delay(const struct vlab_platform *p, uint64_t ns) { p->ops->delay_ns(p->ctx, ns); }
static inline int vlab_plat_dma_map(const struct vlab_platform *p, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev) { return p->ops->dma_map(p->ctx, cpu, len, dir, dev); }
static inline void vlab_plat_dma_unmap(const struct vlab_platform *p, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev) { if (p->ops->dma_unmap) p->ops->dma_unmap(p->ctx, cpu, len, dir, dev); }

#ifdef __cplusplus
}
#endif
#endif
