/* SPDX-License-Identifier: MIT */
/*
 * Transport-independent device side: status machine, feature negotiation,
 * config generation, interrupt status, notifications, faults, and the
 * checks of the driver's use of them (2.1, 2.2, 3.1, 6).
 */
#include "devmodel/virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/spec.h"

#define STATUS_INIT_BITS                                                                  \
	(DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER | DM_VIRTIO_STATUS_FEATURES_OK |       \
	 DM_VIRTIO_STATUS_DRIVER_OK)

uint64_t dm_virtio_now(const struct dm_virtio *dv)
{
	if (dv->env && dv->env->now_ns)
		return dv->env->now_ns(dv->env->ctx);
	return 0;
}

static struct dm_report *report_of(const struct dm_virtio *dv)
{
	return dv->env ? dv->env->report : NULL;
}

static void violation_va(struct dm_virtio *dv, const char *where, const char *req_id,
                         const char *fmt, va_list ap)
{
	char place[48];
	char detail[160];
	struct dm_report *r = report_of(dv);

	if (!r)
		return;
	if (where && where[0])
		snprintf(place, sizeof place, "%s %s", dv->name, where);
	else
		snprintf(place, sizeof place, "%s", dv->name);
	vsnprintf(detail, sizeof detail, fmt, ap);
	dm_report_add(r, req_id, place, dm_virtio_now(dv), "%s", detail);
}

void dm_virtio_violation(struct dm_virtio *dv, const char *req_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	violation_va(dv, NULL, req_id, fmt, ap);
	va_end(ap);
}

void dm_virtio_violation_where(struct dm_virtio *dv, const char *where, const char *req_id,
                               const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	violation_va(dv, where, req_id, fmt, ap);
	va_end(ap);
}

bool dm_virtio_running(const struct dm_virtio *dv)
{
	return (dv->status & DM_VIRTIO_STATUS_DRIVER_OK) && !dv->needs_reset;
}

static void update_irq(struct dm_virtio *dv)
{
	if (dv->env && dv->env->irq)
		dv->env->irq(dv->env->ctx, dv->irq_line, dv->isr != 0);
}

/* DM_FAULT_IRQ_STORM: the device asserts its interrupt again whenever the
 * driver touches status or interrupt status, whatever the state (before
 * DRIVER_OK and after a reset too, which DEV-2.4.1-2 forbids). */
static void irq_storm(struct dm_virtio *dv)
{
	struct dm_fault *f = dm_virtio_fault_hit(dv, DM_FAULT_IRQ_STORM, -1);
	if (!f)
		return;
	dv->isr |= f->value ? (uint32_t)f->value : DM_VIRTIO_ISR_QUEUE;
	update_irq(dv);
}

void dm_virtio_init(struct dm_virtio *dv, const struct dm_device_ops *ops, void *dev,
                    struct dm_env *env, const char *name, uint64_t host_features,
                    uint16_t num_queues, uint16_t queue_num_max)
{
	memset(dv, 0, sizeof *dv);
	dv->ops = ops;
	dv->dev = dev;
	dv->env = env;
	snprintf(dv->name, sizeof dv->name, "%s", name ? name : "dev");
	dv->host_features = host_features;
	dv->num_queues = num_queues > DM_MAX_QUEUES ? DM_MAX_QUEUES : num_queues;
	dv->queue_num_max = queue_num_max;
	dv->irq_queue = -1;
	for (uint16_t i = 0; i < DM_MAX_QUEUES; i++) {
		dv->vq[i].dv = dv;
		dv->vq[i].index = i;
		dm_vq_reset(&dv->vq[i]);
	}
}

void dm_virtio_reset(struct dm_virtio *dv)
{
	uint8_t before = dv->status;

	dv->status = 0;
	dv->driver_status = 0;
	dv->guest_features = 0;
	dv->isr = 0;
	dv->needs_reset = false;
	dv->features_checked = false;
	dv->failed_seen = false;
	dv->features_ok_reread = false;
	dv->needs_reset_seen = false;
	dv->epoch++;
	for (uint16_t i = 0; i < DM_MAX_QUEUES; i++)
		dm_vq_reset(&dv->vq[i]);
	if (dv->ops && dv->ops->reset)
		dv->ops->reset(dv->dev);
	dv->resets++;
	update_irq(dv);

	/* Fault: the device never finishes its reset (status keeps reading
	 * what it was), which DEV-2.4.1-1 forbids and DRV-2.4.2-1 guards. */
	dv->reset_stuck = false;
	if (dm_virtio_fault_hit(dv, DM_FAULT_RESET_STUCK, -1)) {
		dv->reset_stuck = true;
		dv->stuck_status = before ? before : DM_VIRTIO_STATUS_ACKNOWLEDGE;
	}
	/* Fault: after this reset the device reports another QueueNumMax
	 * (0, above any driver's cap, not a power of two), for good. */
	struct dm_fault *qf = dm_virtio_fault_hit(dv, DM_FAULT_QUEUE_NUM_MAX, -1);
	if (qf)
		dv->queue_num_max = (uint16_t)qf->value;
}

uint8_t dm_virtio_get_status(struct dm_virtio *dv)
{
	if (dv->reset_stuck)
		return dv->stuck_status;
	/* DRV-3.1.1-1: the driver confirms FEATURES_OK by reading it back. */
	if ((dv->driver_status & DM_VIRTIO_STATUS_FEATURES_OK) &&
	    (dv->status & DM_VIRTIO_STATUS_FEATURES_OK))
		dv->features_ok_reread = true;
	/* DRV-2.1.1-4: from here the driver knows; checked at each notification. */
	if (dv->status & DM_VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
		dm_virtio_checked(dv, "DRV-2.1.1-4");
		dv->needs_reset_seen = true;
	}
	return dv->status;
}

/* DRV-3.1.1-1: device setup (a queue made live, DRIVER_OK) only after the
 * driver re-read FEATURES_OK (modern interfaces; legacy has no such step). */
static void check_features_ok_reread(struct dm_virtio *dv, const char *what)
{
	if (dv->legacy || !(dv->driver_status & DM_VIRTIO_STATUS_FEATURES_OK))
		return;
	dm_virtio_checked(dv, "DRV-3.1.1-1");
	if (!dv->features_ok_reread)
		dm_virtio_violation_where(dv, "status", "DRV-3.1.1-1",
		                          "%s before the driver re-read FEATURES_OK", what);
}

/* Generic feature dependencies (DRV-2.2.1-2): VIRTIO 1.2 chapter 6 states
 * none between the reserved bits, so only the device type's features_ok
 * hook checks dependencies (blk has none either, 5.2.3). */

/* Validate the accepted features; called once per initialisation. */
static void check_features(struct dm_virtio *dv)
{
	uint64_t f = dv->guest_features;
	uint64_t extra = f & ~dv->host_features;

	if (dv->features_checked)
		return;
	dv->features_checked = true;

	dm_virtio_checked(dv, "DRV-2.2.1-1");
	if (extra)
		dm_virtio_violation(dv, "DRV-2.2.1-1",
		                    "driver accepted features 0x%llx that were not offered (offered 0x%llx)",
		                    (unsigned long long)extra, (unsigned long long)dv->host_features);

	if (!dv->legacy && (dv->host_features & DM_BIT(DM_VIRTIO_F_VERSION_1))) {
		dm_virtio_checked(dv, "DRV-6.1-1");
		if (!(f & DM_BIT(DM_VIRTIO_F_VERSION_1)))
			dm_virtio_violation(dv, "DRV-6.1-1",
			                    "VIRTIO_F_VERSION_1 offered but not accepted on a modern interface");
	}
	if (dv->ops && dv->ops->features_ok)
		dv->ops->features_ok(dv->dev, f);
}

/* Features the driver SHOULD accept whenever offered: DRV-6.1-3 and DRV-6.1-7
 * (both need VERSION_1, 6.1), and for a network device DRV-5.1.4.2-1 (MAC)
 * and DRV-5.1.4.2-6 (MTU).  Checked when the driver sets DRIVER_OK, i.e.
 * when it operates the device with what it negotiated; a probe that resets
 * before DRIVER_OK operates nothing. */
static void check_should_accept(struct dm_virtio *dv)
{
	static const struct {
		uint32_t device_id; /* 0: any device */
		unsigned bit;
		bool needs_version_1;
		const char *id, *name;
	} should[] = {
		{0, DM_VIRTIO_F_ACCESS_PLATFORM, true, "DRV-6.1-3", "VIRTIO_F_ACCESS_PLATFORM"},
		{0, DM_VIRTIO_F_ORDER_PLATFORM, true, "DRV-6.1-7", "VIRTIO_F_ORDER_PLATFORM"},
		{DM_VIRTIO_ID_NET, DM_VIRTIO_NET_F_MAC, false, "DRV-5.1.4.2-1", "VIRTIO_NET_F_MAC"},
		{DM_VIRTIO_ID_NET, DM_VIRTIO_NET_F_MTU, false, "DRV-5.1.4.2-6", "VIRTIO_NET_F_MTU"},
	};
	uint64_t f = dv->guest_features;

	for (unsigned i = 0; i < sizeof should / sizeof should[0]; i++) {
		if (should[i].device_id && (!dv->ops || dv->ops->device_id != should[i].device_id))
			continue;
		if (!(dv->host_features & DM_BIT(should[i].bit)))
			continue;
		if (should[i].needs_version_1 && !(f & DM_BIT(DM_VIRTIO_F_VERSION_1)))
			continue;
		dm_virtio_checked(dv, should[i].id);
		if (!(f & DM_BIT(should[i].bit)))
			dm_virtio_violation(dv, should[i].id, "%s offered but not accepted", should[i].name);
	}
}

void dm_virtio_set_status(struct dm_virtio *dv, uint8_t val)
{
	uint8_t old = dv->driver_status;
	uint8_t added, cleared;

	if (val == 0) {
		dm_virtio_reset(dv);
		irq_storm(dv);
		return;
	}
	/* DEVICE_NEEDS_RESET is the device's bit: ignore it in what the driver writes. */
	val &= (uint8_t)~DM_VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	added = (uint8_t)(val & ~old);
	cleared = (uint8_t)(old & ~val);

	dm_virtio_checked(dv, "DRV-2.1.1-2");
	if (cleared)
		dm_virtio_violation_where(dv, "status", "DRV-2.1.1-2",
		                          "status bits 0x%02x cleared without a reset (0x%02x -> 0x%02x)",
		                          cleared, old, val);

	dm_virtio_checked(dv, "DRV-2.1.1-3");
	if (dv->failed_seen && (added & STATUS_INIT_BITS))
		dm_virtio_violation_where(dv, "status", "DRV-2.1.1-3",
		                          "initialisation continued (0x%02x) after FAILED without a reset",
		                          added);

	/* Order of 3.1.1: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK. */
	dm_virtio_checked(dv, "DRV-3.1.1-1");
	if ((added & DM_VIRTIO_STATUS_DRIVER) && !(val & DM_VIRTIO_STATUS_ACKNOWLEDGE))
		dm_virtio_violation_where(dv, "status", "DRV-3.1.1-1", "DRIVER set before ACKNOWLEDGE");
	if ((added & DM_VIRTIO_STATUS_FEATURES_OK) && !(val & DM_VIRTIO_STATUS_DRIVER))
		dm_virtio_violation_where(dv, "status", "DRV-3.1.1-1", "FEATURES_OK set before DRIVER");
	if (added & DM_VIRTIO_STATUS_DRIVER_OK) {
		if (!(val & DM_VIRTIO_STATUS_DRIVER))
			dm_virtio_violation_where(dv, "status", "DRV-3.1.1-1", "DRIVER_OK set before DRIVER");
		else if (!dv->legacy && !(val & DM_VIRTIO_STATUS_FEATURES_OK))
			dm_virtio_violation_where(dv, "status", "DRV-3.1.1-1",
			                          "DRIVER_OK set before FEATURES_OK");
	}
	if ((added & DM_VIRTIO_STATUS_DRIVER_OK) && !(val & DM_VIRTIO_STATUS_FAILED))
		check_features_ok_reread(dv, "DRIVER_OK set");
	if (added & DM_VIRTIO_STATUS_FEATURES_OK) {
		dv->features_ok_reread = false;
		/* DRV-3.1.1-3: the negotiation window closes; each config write
		 * in it was a breach (dm_virtio_config_write). */
		dm_virtio_checked(dv, "DRV-3.1.1-3");
	}
	if (added & DM_VIRTIO_STATUS_FAILED)
		dv->failed_seen = true;
	if ((added & DM_VIRTIO_STATUS_DRIVER_OK) && !(val & DM_VIRTIO_STATUS_FAILED))
		check_should_accept(dv);

	dv->driver_status = val;
	dv->status = (uint8_t)(val | (dv->needs_reset ? DM_VIRTIO_STATUS_DEVICE_NEEDS_RESET : 0));

	if (added & DM_VIRTIO_STATUS_FEATURES_OK) {
		check_features(dv);
		/* DEV-2.2.2-3: a device that will not accept the features leaves
		 * FEATURES_OK unset; the fault makes it do so for any set. */
		if (dm_virtio_fault_hit(dv, DM_FAULT_FEATURES_OK_REFUSED, -1))
			dv->status &= (uint8_t)~DM_VIRTIO_STATUS_FEATURES_OK;
	}
	if ((added & DM_VIRTIO_STATUS_DRIVER_OK) && dv->legacy)
		check_features(dv); /* legacy: no FEATURES_OK step */
	irq_storm(dv);
}

void dm_virtio_set_guest_features(struct dm_virtio *dv, unsigned sel, uint32_t bits)
{
	uint64_t f = dv->guest_features;

	if (sel > 1) {
		dm_virtio_checked(dv, "DRV-2.2.1-1");
		if (bits)
			dm_virtio_violation(dv, "DRV-2.2.1-1",
			                    "feature word %u written as 0x%08x: no such features offered", sel,
			                    bits);
		return;
	}
	f &= ~(0xffffffffull << (32 * sel));
	f |= (uint64_t)bits << (32 * sel);

	dm_virtio_checked(dv, "DRV-3.1.1-4");
	if ((dv->driver_status & DM_VIRTIO_STATUS_FEATURES_OK) && f != dv->guest_features) {
		dm_virtio_violation(dv, "DRV-3.1.1-4",
		                    "features changed after FEATURES_OK (0x%llx -> 0x%llx)",
		                    (unsigned long long)dv->guest_features, (unsigned long long)f);
		return; /* the device keeps what it accepted */
	}
	dv->guest_features = f;
}

uint32_t dm_virtio_get_host_features(struct dm_virtio *dv, unsigned sel)
{
	if (sel > 1 || (dv->legacy && sel != 0))
		return 0;
	return (uint32_t)(dv->host_features >> (32 * sel));
}

static uint32_t config_len(struct dm_virtio *dv)
{
	return (dv->ops && dv->ops->config_len) ? dv->ops->config_len(dv->dev) : 0;
}

static bool config_range_ok(struct dm_virtio *dv, uint32_t off, unsigned width)
{
	uint32_t len = config_len(dv);
	return (width == 1 || width == 2 || width == 4) && off <= len && width <= len - off;
}

void dm_virtio_check_cfg_read(struct dm_virtio *dv, const struct dm_cfg_field *f, unsigned n,
                              uint32_t off, unsigned width)
{
	dm_virtio_checked(dv, "DRV-2.5.1-3");
	for (unsigned i = 0; i < n; i++)
		if (off < (uint32_t)f[i].off + f[i].len && f[i].off < off + width &&
		    !(dv->host_features & DM_BIT(f[i].feature)))
			dm_virtio_violation_where(dv, "config", "DRV-2.5.1-3",
			                          "config offset 0x%x read: its field at 0x%x needs feature %u, "
			                          "not offered",
			                          off, f[i].off, f[i].feature);
}

uint32_t dm_virtio_config_read(struct dm_virtio *dv, uint32_t off, unsigned width)
{
	if (!config_range_ok(dv, off, width) || !dv->ops->config_read)
		return 0;
	return dv->ops->config_read(dv->dev, off, width);
}

void dm_virtio_config_write(struct dm_virtio *dv, uint32_t off, unsigned width, uint32_t val)
{
	if (!dv->legacy) {
		dm_virtio_checked(dv, "DRV-3.1.1-3");
		if (!(dv->driver_status & DM_VIRTIO_STATUS_FEATURES_OK))
			dm_virtio_violation_where(dv, "config", "DRV-3.1.1-3",
			                          "config offset 0x%x written before FEATURES_OK", off);
	}
	if (!config_range_ok(dv, off, width) || !dv->ops->config_write)
		return;
	dv->ops->config_write(dv->dev, off, width, val);
}

uint32_t dm_virtio_config_generation(struct dm_virtio *dv)
{
	if (dm_virtio_fault_hit(dv, DM_FAULT_CONFIG_GEN_UNSTABLE, -1))
		dv->config_generation++;
	return dv->config_generation;
}

void dm_virtio_queue_enable(struct dm_virtio *dv, uint16_t q)
{
	if (q >= DM_MAX_QUEUES)
		return;
	if (dv->legacy)
		check_features(dv); /* legacy: first queue use ends negotiation */
	check_features_ok_reread(dv, "queue enabled");
	dm_vq_enable(&dv->vq[q]);
}

void dm_virtio_queue_disable(struct dm_virtio *dv, uint16_t q)
{
	if (q >= DM_MAX_QUEUES)
		return;
	dv->vq[q].ready = false;
}

static void queue_work_fn(void *arg)
{
	struct dm_vq *vq = arg;
	struct dm_virtio *dv = vq->dv;

	dv->work_pending[vq->index] = false;
	/* DEV-2.1.2-1, DEV-4.2.2.1-7: nothing before DRIVER_OK or while the
	 * queue is not ready; nothing after DEVICE_NEEDS_RESET. */
	if (!dm_virtio_running(dv) || !vq->ready || vq->broken)
		return;
	if (dv->legacy)
		check_features(dv);
	if (dv->ops && dv->ops->queue_work)
		dv->ops->queue_work(dv->dev, dv, vq->index);
}

void dm_virtio_notify(struct dm_virtio *dv, uint16_t q)
{
	dv->notifications++;
	dm_virtio_checked(dv, "DRV-3.1.1-7");
	if (!(dv->driver_status & DM_VIRTIO_STATUS_DRIVER_OK)) {
		dm_virtio_violation_where(dv, "notify", "DRV-3.1.1-7",
		                          "queue %u notified before DRIVER_OK (status 0x%02x)", q,
		                          dv->driver_status);
		return;
	}
	/* DRV-2.1.1-4: a driver that read DEVICE_NEEDS_RESET does not count
	 * on the device any more: no new buffers until it resets it. */
	if (dv->needs_reset_seen) {
		dm_virtio_checked(dv, "DRV-2.1.1-4");
		dm_virtio_violation_where(dv, "notify", "DRV-2.1.1-4",
		                          "queue %u notified after the driver read DEVICE_NEEDS_RESET, "
		                          "without a reset", q);
	}
	if (q >= dv->num_queues)
		return; /* DEV-2.7.10.2-5: spurious notifications are harmless */
	dv->vq[q].kicks++;
	if (!dm_virtio_running(dv) || !dv->vq[q].ready || dv->vq[q].broken)
		return;
	if (dv->work_pending[q])
		return;
	dv->work_pending[q] = true;
	if (dv->env && dv->env->schedule)
		dv->env->schedule(dv->env->ctx, queue_work_fn, &dv->vq[q], "queue");
	else
		queue_work_fn(&dv->vq[q]);
}

uint32_t dm_virtio_isr_read(struct dm_virtio *dv)
{
	irq_storm(dv);
	return dv->isr;
}

void dm_virtio_isr_ack(struct dm_virtio *dv, uint32_t bits)
{
	dv->isr &= ~bits;
	update_irq(dv);
}

void dm_virtio_raise(struct dm_virtio *dv, uint32_t isr_bits)
{
	/* DEV-2.4.1-2: no notifications after a reset until re-initialised. */
	if (dv->status == 0)
		return;
	dv->isr |= isr_bits;
	update_irq(dv);
}

void dm_virtio_set_needs_reset(struct dm_virtio *dv)
{
	dv->needs_reset = true;
	if (dv->status == 0)
		return;
	dv->status |= DM_VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	/* DEV-2.1.2-3: with DRIVER_OK set, a config change notification follows. */
	if (dv->status & DM_VIRTIO_STATUS_DRIVER_OK)
		dm_virtio_raise(dv, DM_VIRTIO_ISR_CONFIG);
}

void dm_virtio_config_changed(struct dm_virtio *dv)
{
	dv->config_generation++; /* DEV-4.2.2.1-6 */
	if (dv->status & DM_VIRTIO_STATUS_DRIVER_OK)
		dm_virtio_raise(dv, DM_VIRTIO_ISR_CONFIG);
}

int dm_ring_option(const char *opt, uint64_t *set, uint64_t *clear)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{"packed", DM_VIRTIO_F_RING_PACKED},
		{"indirect_desc", DM_VIRTIO_F_RING_INDIRECT_DESC},
		{"event_idx", DM_VIRTIO_F_RING_EVENT_IDX},
	};

	for (unsigned i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		size_t n = strlen(opts[i].name);
		if (strncmp(opt, opts[i].name, n) != 0 || opt[n] != '=')
			continue;
		if (!strcmp(opt + n + 1, "on")) {
			*set |= DM_BIT(opts[i].bit);
			*clear &= ~DM_BIT(opts[i].bit);
		} else if (!strcmp(opt + n + 1, "off")) {
			*clear |= DM_BIT(opts[i].bit);
			*set &= ~DM_BIT(opts[i].bit);
		} else {
			return -1;
		}
		return 1;
	}
	return 0;
}

bool dm_virtio_add_fault(struct dm_virtio *dv, const struct dm_fault *f)
{
	if (dv->nfaults >= DM_MAX_FAULTS || !f || f->kind <= DM_FAULT_NONE ||
	    f->kind >= DM_FAULT_KIND_COUNT)
		return false;
	dv->faults[dv->nfaults] = *f;
	dv->faults[dv->nfaults].seen = 0;
	dv->faults[dv->nfaults].fired = 0;
	dv->nfaults++;
	return true;
}

void dm_virtio_clear_faults(struct dm_virtio *dv)
{
	memset(dv->faults, 0, sizeof dv->faults);
	dv->nfaults = 0;
}

struct dm_fault *dm_virtio_fault_hit(struct dm_virtio *dv, enum dm_fault_kind k, int q)
{
	struct dm_fault *first = NULL;

	/* Every line of kind k counts the event on its own, whether or not an
	 * earlier line fires on it (nth=7 and nth=14 fire at 7 and 14); when
	 * several fire, each counts it as fired and the first one acts. */
	for (unsigned i = 0; i < dv->nfaults; i++) {
		struct dm_fault *f = &dv->faults[i];
		if (f->kind != k)
			continue;
		if (f->queue >= 0 && q >= 0 && f->queue != q)
			continue;
		f->seen++;
		/* nth is 1-based; 0 means the next event (same as 1). */
		if (f->seen >= f->nth && (f->count == 0 || f->fired < f->count)) {
			f->fired++;
			if (!first)
				first = f;
		}
	}
	return first;
}

/* ---- work a slow device does later (DM_FAULT_DELAY) ---- */

struct dm_deferred {
	struct dm_virtio *dv;
	struct dm_deferred *next;
	dm_deferred_fn *fire;
	uint64_t epoch;
	uint16_t q;
	struct dm_chain chain; /* the descriptors as the device read them */
};

static void deferred_run(void *arg)
{
	struct dm_deferred *d = arg;
	struct dm_virtio *dv = d->dv;

	for (struct dm_deferred **pp = &dv->deferred; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	/* A reset in between drops the request: nothing may be written
	 * (DEV-2.4.1-2). */
	if (d->epoch == dv->epoch && dm_virtio_running(dv))
		d->fire(dv, &dv->vq[d->q], &d->chain);
	free(d);
}

bool dm_virtio_defer(struct dm_virtio *dv, uint16_t q, const struct dm_chain *c, uint64_t ns, dm_deferred_fn *fire)
{
	struct dm_deferred *d;

	if (!dv->env || !dv->env->schedule_at || q >= DM_MAX_QUEUES)
		return false;
	d = malloc(sizeof *d);
	if (!d)
		return false;
	d->dv = dv;
	d->fire = fire;
	d->epoch = dv->epoch;
	d->q = q;
	d->chain = *c;
	d->next = dv->deferred;
	dv->deferred = d;
	dv->env->schedule_at(dv->env->ctx, deferred_run, d, ns);
	return true;
}

void dm_virtio_drop_deferred(struct dm_virtio *dv)
{
	while (dv->deferred) {
		struct dm_deferred *d = dv->deferred;
		dv->deferred = d->next;
		free(d);
	}
}
