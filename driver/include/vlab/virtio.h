/* SPDX-License-Identifier: MIT */
/*
 * The transport-independent virtio device: status, feature negotiation,
 * configuration space, the broken state.  A transport (mmio, pci) fills in
 * struct vlab_virtio_dev and its ops; device drivers (blk, net) use only the
 * functions declared here and in virtqueue.h.
 */
#ifndef VLAB_VIRTIO_H
#define VLAB_VIRTIO_H

#include "vlab/config.h"
#include "vlab/err.h"
#include "vlab/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Reserved feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VIRTIO_F_ANY_LAYOUT 27
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36
#define VIRTIO_F_SR_IOV 37
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
#define VIRTIO_F_RING_RESET 40

#define VLAB_BIT(n) (1ull << (n))

/* Device IDs (5). */
#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_BLOCK 2u

/* Interrupt status bits (ISR / InterruptStatus). */
#define VIRTIO_ISR_QUEUE 0x1u
#define VIRTIO_ISR_CONFIG 0x2u

/* Default bound for waits on the device (reset, FEATURES_OK, requests). */
#define VLAB_DEFAULT_TIMEOUT_NS (1000ull * 1000 * 1000) /* 1 s */
/* Bound on config-generation retries (DRV-2.5.1-2). */
#define VLAB_CONFIG_RETRIES 16

struct vlab_virtio_dev;

/* Where a split virtqueue lives, as the device must be told. */
struct vlab_vq_layout {
	uint16_t size;
	vlab_addr_t desc;  /* descriptor table */
	vlab_addr_t avail; /* driver area */
	vlab_addr_t used;  /* device area */
};

/*
 * What a transport provides.  Values returned here come straight from the
 * device: the core validates them, the transport only moves them.
 */
struct vlab_transport_ops {
	uint8_t (*get_status)(struct vlab_virtio_dev *d);
	void (*set_status)(struct vlab_virtio_dev *d, uint8_t status);
	/* All 64 device feature bits (a legacy transport gives 32). */
	uint64_t (*get_features)(struct vlab_virtio_dev *d);
	void (*set_features)(struct vlab_virtio_dev *d, uint64_t features);
	/* Config generation; a transport without one returns 0. */
	uint32_t (*config_generation)(struct vlab_virtio_dev *d);
	/* One device-config access of width 1, 2 or 4 bytes at off (aligned to
	 * its width).  Returns 0 or VLAB_ERANGE when off is beyond what the
	 * transport exposes. */
	int (*config_read)(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t *val);
	int (*config_write)(struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t val);
	/* Largest size queue idx may have; 0 when the queue does not exist.
	 * Also checks the queue is not already in use (VLAB_EPROTO if so). */
	int (*queue_max)(struct vlab_virtio_dev *d, uint16_t idx, uint16_t *max);
	/* Program and enable queue idx. */
	int (*queue_enable)(struct vlab_virtio_dev *d, uint16_t idx, const struct vlab_vq_layout *l);
	/* Available-buffer notification. */
	void (*queue_notify)(struct vlab_virtio_dev *d, uint16_t idx);
	/* Read the interrupt status and acknowledge what was read; returns the
	 * defined bits only (VIRTIO_ISR_*). */
	uint32_t (*interrupt_ack)(struct vlab_virtio_dev *d);
};

struct vlab_virtio_dev {
	const struct vlab_platform *plat;
	const struct vlab_transport_ops *ops;
	void *transport;          /* the transport's own state */
	const char *name;         /* for log lines, e.g. "mmio@10001000" */

	uint32_t device_id;       /* VIRTIO_ID_* */
	uint32_t vendor_id;
	bool legacy;              /* driven through a legacy interface */
	/* Legacy interfaces need the whole ring in one block with the used
	 * ring aligned to this (QueueAlign, 4096 on PCI); 0 for modern. */
	uint32_t legacy_align;

	uint64_t device_features; /* as offered (read once at negotiation) */
	uint64_t features;        /* negotiated */
	uint8_t status;           /* what the driver last wrote */
	uint64_t timeout_ns;      /* bound for every wait; 0 means default */
	/* Ring features (VIRTIO_F_RING_PACKED, _INDIRECT_DESC, _EVENT_IDX)
	 * the driver must not accept even when offered; set by the caller
	 * before the device driver's init. */
	uint64_t refuse_features;

	bool broken;              /* sticky until vlab_virtio_reset() */
	const char *broken_why;
};

/* A feature and what it needs (DRV-2.2.1-2). */
struct vlab_feature_dep {
	uint8_t bit;
	uint64_t needs;
};

/* A device type's table of feature names (vlab_net_feature_name,
 * vlab_blk_feature_name): the name of bit in t[0..n), NULL when none.
 * Not in a VLAB_CFG_LOG=0 build. */
struct vlab_feature_name {
	uint8_t bit;
	const char *name;
};
const char *vlab_feature_name_in(const struct vlab_feature_name *t, size_t n, unsigned bit);

/* Reset: write 0, wait (bounded) until status reads 0 (DRV-2.4.2-1).
 * Clears the broken state on success. */
int vlab_virtio_reset(struct vlab_virtio_dev *d);
/*
 * Stop a device the driver gives up on (a request timed out, the device
 * broke the protocol or needs a reset) before anything it was given goes
 * back to its owner: reset it (bounded, DRV-2.4.2-1) and leave it marked
 * broken with why, so that every later call fails fast until the device is
 * initialised again.  Returns 0 when the device acknowledged the reset: it
 * can no longer reach any buffer, which may then be handed back.  Returns
 * VLAB_EWEDGED when it did not: every buffer it was given must stay out of
 * its owner's hands (and DMA memory must not be freed).
 */
int vlab_virtio_stop(struct vlab_virtio_dev *d, const char *why);
/* Reset, then ACKNOWLEDGE and DRIVER (DRV-3.1.1-1). */
int vlab_virtio_begin(struct vlab_virtio_dev *d);
/*
 * Negotiate: accept offered & supported features, drop those whose
 * dependencies are missing (generic ones plus deps[]), handle VERSION_1
 * (required on a modern interface, DRV-6.1-1), write them, set FEATURES_OK
 * and read it back (modern only).  required: features without which the
 * driver cannot work (VLAB_ENOTSUP if absent).  On failure FAILED is set.
 */
int vlab_virtio_negotiate(struct vlab_virtio_dev *d, uint64_t supported, uint64_t required,
                          const struct vlab_feature_dep *deps, size_t ndeps);
int vlab_virtio_driver_ok(struct vlab_virtio_dev *d);
/* Set FAILED (DRV-3.1.1-5). */
void vlab_virtio_fail(struct vlab_virtio_dev *d);
/* Mark the device broken (sticky) and log why. Returns VLAB_EPROTO.  With
 * VLAB_CFG_LOG=0 the reason is log text: broken_why stays NULL. */
int vlab_virtio_mark_broken(struct vlab_virtio_dev *d, const char *why);
#if !VLAB_CFG_LOG
#define vlab_virtio_mark_broken(d, why) (vlab_virtio_mark_broken)((d), VLAB_CFG_LOG ? (why) : NULL)
#endif
/* 0 if usable; VLAB_EBROKEN or VLAB_ENEEDSRESET (reads status). */
int vlab_virtio_check(struct vlab_virtio_dev *d);
static inline bool vlab_virtio_has(const struct vlab_virtio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1u;
}
/*
 * Read one config field of len bytes at off into buf (little-endian value
 * stored in CPU order for len 1/2/4/8; bytes as they are otherwise), with
 * the access widths of DRV-4.2.2.2-5 (1, 2, 4 bytes; 8 as two 4-byte
 * accesses; other lengths byte by byte), repeated until the config
 * generation is stable (DRV-2.5.1-2), bounded by VLAB_CONFIG_RETRIES
 * (VLAB_EPROTO after that).
 */
int vlab_virtio_config_read(struct vlab_virtio_dev *d, uint32_t off, void *buf, size_t len);
int vlab_virtio_config_write(struct vlab_virtio_dev *d, uint32_t off, const void *buf, size_t len);
/* Interrupt entry: reads and acknowledges; returns the VIRTIO_ISR_* bits,
 * 0 when the device is not (yet) live (interrupts before DRIVER_OK ignored). */
uint32_t vlab_virtio_interrupt(struct vlab_virtio_dev *d);
uint64_t vlab_virtio_timeout(const struct vlab_virtio_dev *d);

/* printf-style format checking where the compiler has it (GCC, Clang);
 * nothing elsewhere.  Public headers use no attribute without such a
 * fallback (docs/porting.md). */
#if defined(__GNUC__) || defined(__clang__)
#define VLAB_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VLAB_PRINTF_LIKE(fmt, args)
#endif

/* Freestanding helpers. */
void vlab_memset(void *dst, int c, size_t n);
void vlab_memcpy(void *dst, const void *src, size_t n);
int vlab_memcmp(const void *a, const void *b, size_t n);
size_t vlab_strlen(const char *s);
#if VLAB_CFG_LOG
/* printf-like into buf (always NUL-terminated when size > 0): %s %c %d %i
 * %u %x %X %p %%, with h/hh/l/ll/z length modifiers, '0' and '-' flags,
 * width (or '*') and precision (digits, or the maximum length of %s).
 * Returns the length it would have written.  Part of the log text: not in
 * a VLAB_CFG_LOG=0 build. */
int vlab_snprintf(char *buf, size_t size, const char *fmt, ...) VLAB_PRINTF_LIKE(3, 4);
/* Log through the platform (no-op when the platform has no log). */
void vlab_log(const struct vlab_platform *p, enum vlab_log_level level, const char *fmt, ...)
	VLAB_PRINTF_LIKE(3, 4);
#else
/* VLAB_CFG_LOG=0: a log line is an unevaluated operand of sizeof, so its
 * arguments count as used, the format is still checked, and neither the
 * text nor a call is compiled in (vlab_log_dropped is never defined). */
int vlab_log_dropped(const struct vlab_platform *p, enum vlab_log_level level, const char *fmt, ...)
	VLAB_PRINTF_LIKE(3, 4);
#define vlab_log(...) ((void)sizeof(vlab_log_dropped(__VA_ARGS__)))
#endif

#ifdef __cplusplus
}
#endif
#endif
