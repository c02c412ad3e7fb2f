/* SPDX-License-Identifier: MIT */
/*
 * Transport-independent device side of virtio: status, features, queues,
 * config generation, interrupt status, and the checks on the driver's use
 * of them.  Front ends (mmio, pci) translate register accesses into calls
 * here; device types (blk, net) plug in through dm_device_ops.
 */
#ifndef DM_VIRTIO_H
#define DM_VIRTIO_H

#include "devmodel/env.h"
#include "devmodel/fault.h"
#include "devmodel/report.h"
#include "devmodel/vq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_MAX_QUEUES 17 /* virtio-net: 8 queue pairs and the control queue */
#define DM_MAX_FAULTS 16

struct dm_virtio;

struct dm_device_ops {
	const char *type_name;   /* "blk", "net" */
	uint32_t device_id;
	/* Back to power-on state (device reset). */
	void (*reset)(void *dev);
	/* Features were accepted (FEATURES_OK set, or first queue use on legacy). */
	void (*features_ok)(void *dev, uint64_t features);
	uint32_t (*config_len)(void *dev);
	/* Config access of width 1/2/4 at off (already bounds-checked). */
	uint32_t (*config_read)(void *dev, uint32_t off, unsigned width);
	void (*config_write)(void *dev, uint32_t off, unsigned width, uint32_t val);
	/* Process what the driver made available on queue q. */
	void (*queue_work)(void *dev, struct dm_virtio *dv, uint16_t q);
};

struct dm_virtio {
	const struct dm_device_ops *ops;
	void *dev;
	struct dm_env *env;
	char name[24];              /* "blk0": used in violation records */
	unsigned irq_line;
	/* While a used buffer notification is raised: its queue (an MSI-X
	 * transport picks that queue's vector); -1 otherwise (configuration
	 * changes and the rest). */
	int irq_queue;

	uint64_t host_features;     /* offered */
	uint64_t guest_features;    /* written by the driver */
	uint8_t status;
	bool legacy;                /* legacy interface (mmio v1, legacy pci) */
	uint32_t config_generation;
	uint32_t isr;               /* VIRTIO_ISR_* pending */
	uint16_t num_queues;
	uint16_t queue_num_max;
	/* The MSI-X table size a PCI function shows; 0: num_queues + 1 (a
	 * vector a queue and one for configuration changes, as QEMU). */
	uint16_t msix_vectors;
	/* The size a queue starts with where the transport shows it (PCI's
	 * queue_size, legacy QUEUE_NUM); 0: queue_num_max.  QEMU starts each
	 * queue at its device's own size (virtio-net's control queue: 64). */
	uint16_t queue_size[DM_MAX_QUEUES];
	struct dm_vq vq[DM_MAX_QUEUES];
	bool needs_reset;

	struct dm_fault faults[DM_MAX_FAULTS];
	unsigned nfaults;
	/* Chains a slow device (DM_FAULT_DELAY) took and answers later
	 * (dm_virtio_defer); kept across resets, freed by dm_virtio_drop_deferred. */
	struct dm_deferred *deferred;
	/* Statistics. */
	uint64_t notifications, resets;

	/* Added: checker state (all cleared by reset). */
	uint8_t driver_status;       /* bits the driver wrote (status may differ under faults) */
	bool features_checked;       /* features validated (FEATURES_OK, or legacy first use) */
	bool failed_seen;            /* FAILED written since the last reset (DRV-2.1.1-3) */
	bool features_ok_reread;     /* status read with FEATURES_OK since it was set (DRV-3.1.1-1) */
	bool needs_reset_seen;       /* status read with DEVICE_NEEDS_RESET since the reset (DRV-2.1.1-4) */
	bool reset_stuck;            /* DM_FAULT_RESET_STUCK: status reads stuck_status */
	uint8_t stuck_status;
	bool work_pending[DM_MAX_QUEUES]; /* one scheduled piece of work per queue */
	uint64_t epoch;              /* bumped by every reset; stale deferred work checks it */
};

void dm_virtio_init(struct dm_virtio *dv, const struct dm_device_ops *ops, void *dev,
                    struct dm_env *env, const char *name, uint64_t host_features,
                    uint16_t num_queues, uint16_t queue_num_max);
/* Status register: writes are checked (DRV-2.1.1-2, DRV-3.1.1-1, ...). */
uint8_t dm_virtio_get_status(struct dm_virtio *dv);
void dm_virtio_set_status(struct dm_virtio *dv, uint8_t status);
void dm_virtio_reset(struct dm_virtio *dv);
/* Driver feature bits, 32 at a time (sel 0 or 1); checked on FEATURES_OK. */
void dm_virtio_set_guest_features(struct dm_virtio *dv, unsigned sel, uint32_t bits);
uint32_t dm_virtio_get_host_features(struct dm_virtio *dv, unsigned sel);
/* Device config access through a front end; off/width validated here. */
uint32_t dm_virtio_config_read(struct dm_virtio *dv, uint32_t off, unsigned width);
/* An optional config field and the feature that governs it. */
struct dm_cfg_field {
	uint8_t off, len, feature;
};
/* DRV-2.5.1-3: a read of [off, off+width) that touches one of the n
 * fields whose feature was not offered is a breach (the device types'
 * config_read call it). */
void dm_virtio_check_cfg_read(struct dm_virtio *dv, const struct dm_cfg_field *f, unsigned n,
                              uint32_t off, unsigned width);
void dm_virtio_config_write(struct dm_virtio *dv, uint32_t off, unsigned width, uint32_t val);
uint32_t dm_virtio_config_generation(struct dm_virtio *dv);
/* Queue programming done: check alignment etc., make it live. */
void dm_virtio_queue_enable(struct dm_virtio *dv, uint16_t q);
void dm_virtio_queue_disable(struct dm_virtio *dv, uint16_t q);
/* Available-buffer notification: checked (DRV-3.1.1-7), work scheduled. */
void dm_virtio_notify(struct dm_virtio *dv, uint16_t q);
/* Interrupt status read / acknowledge. */
uint32_t dm_virtio_isr_read(struct dm_virtio *dv);
void dm_virtio_isr_ack(struct dm_virtio *dv, uint32_t bits);
/* Used by device types and faults. */
void dm_virtio_raise(struct dm_virtio *dv, uint32_t isr_bits);
void dm_virtio_set_needs_reset(struct dm_virtio *dv);
void dm_virtio_config_changed(struct dm_virtio *dv);
/* Record a violation of the driver's side of the spec. */
void dm_virtio_violation(struct dm_virtio *dv, const char *req_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Added: a violation at a named place ("reg 0x070", "q0"; prefixed with
 * the device name), a check that held, and negotiated-feature test. */
void dm_virtio_violation_where(struct dm_virtio *dv, const char *where, const char *req_id,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* dm_virtio_checked(dv, req_id): req_id was checked (a macro, so that a
 * literal ID is numbered once at its call site: DM_REQ_NUM). */
#define dm_virtio_checked(dv, req_id) dm_virtio_checked_num((dv), DM_REQ_NUM(req_id), (req_id))
static inline void dm_virtio_checked_num(struct dm_virtio *dv, unsigned num, const char *req_id)
{
	dm_report_checked_num(dv->env ? dv->env->report : NULL, num, req_id);
}
/* Inline: the models ask it tens of times per request. */
static inline bool dm_virtio_has(const struct dm_virtio *dv, unsigned bit)
{
	return bit < 64 && ((dv->guest_features >> bit) & 1u);
}
/* DRIVER_OK set and DEVICE_NEEDS_RESET not: the device processes queues. */
bool dm_virtio_running(const struct dm_virtio *dv);
/*
 * DM_FAULT_DELAY: the device took chain c from queue q and works on it ns
 * later: fire(dv, vq, c) runs then with a copy of the chain, unless a reset
 * came in between or the device no longer runs (the request is dropped, as
 * a real device drops what it held: DEV-2.4.1-2).  False when it cannot be
 * deferred (no scheduler, no memory): the caller handles c now.
 */
typedef void dm_deferred_fn(struct dm_virtio *dv, struct dm_vq *vq, const struct dm_chain *c);
bool dm_virtio_defer(struct dm_virtio *dv, uint16_t q, const struct dm_chain *c, uint64_t ns, dm_deferred_fn *fire);
/* At the device's free: the deferred chains go (the env must not run work
 * of a freed device, as for queue work). */
void dm_virtio_drop_deferred(struct dm_virtio *dv);
uint64_t dm_virtio_now(const struct dm_virtio *dv);

/*
 * The ring options of a device, by QEMU's property names: "packed=on|off"
 * (VIRTIO_F_RING_PACKED), "indirect_desc=on|off" (VIRTIO_F_INDIRECT_DESC),
 * "event_idx=on|off" (VIRTIO_F_EVENT_IDX).  On a match the bit goes into
 * *set (on) or *clear (off) and 1 is returned; 0 when opt is not one of
 * these names; -1 when the name matches and the value is neither on nor off.
 */
int dm_ring_option(const char *opt, uint64_t *set, uint64_t *clear);

/* Faults. Returns false when the table is full. */
bool dm_virtio_add_fault(struct dm_virtio *dv, const struct dm_fault *f);
void dm_virtio_clear_faults(struct dm_virtio *dv);
/* Does a fault of kind k fire now for queue q?  Counts the event. */
struct dm_fault *dm_virtio_fault_hit(struct dm_virtio *dv, enum dm_fault_kind k, int q);

#ifdef __cplusplus
}
#endif
#endif
