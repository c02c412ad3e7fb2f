/* SPDX-License-Identifier: MIT */
/*
 * Transport-independent virtio device: reset, status, feature negotiation,
 * configuration space, the broken state.  Everything read from the device
 * comes through the transport ops (which use the vlab_plat_* wrappers) and
 * is validated here.
 */
#include "vlab/virtio.h"
#include "vlab/wait.h"

#define VLAB_RESET_STEP_NS 1000u        /* 1 us, */
#define VLAB_RESET_STEP_MAX_NS 1000000u /* doubling up to 1 ms */

/* The ring features the virtqueue code implements (driver/core/virtqueue*.c):
 * accepted whenever offered, unless the caller refuses them
 * (vlab_virtio_dev.refuse_features) or they are compiled out (vlab/config.h:
 * then never accepted, DRV-2.2.1-1 holds as for any unknown bit). */
#define RING_FEATURES                                                                      \
	((VLAB_CFG_INDIRECT ? VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0) |                      \
	 (VLAB_CFG_EVENT_IDX ? VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |                         \
	 (VLAB_CFG_PACKED ? VLAB_BIT(VIRTIO_F_RING_PACKED) : 0))

/* Reserved feature bits the core itself implements.  Everything else in the
 * reserved ranges (24..49) is refused: IN_ORDER, NOTIFICATION_DATA,
 * NOTIF_CONFIG_DATA, RING_RESET, SR_IOV are not implemented yet. */
#define CORE_FEATURES                                                                      \
	(VLAB_BIT(VIRTIO_F_NOTIFY_ON_EMPTY) | VLAB_BIT(VIRTIO_F_ANY_LAYOUT) |                   \
	 VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) |                    \
	 VLAB_BIT(VIRTIO_F_ORDER_PLATFORM) | RING_FEATURES)

/* Device-type-specific feature bits: 0..23 and 50..63 (2.2). */
#define DEVICE_FEATURES_MASK (((1ull << 24) - 1) | (~0ull << 50))

/*
 * Generic dependencies (DRV-2.2.1-2): the feature bits above 31 exist only
 * on a modern (VERSION_1) interface.
 */
static const struct vlab_feature_dep generic_deps[] = {
	{VIRTIO_F_ACCESS_PLATFORM, VLAB_BIT(VIRTIO_F_VERSION_1)},
	{VIRTIO_F_ORDER_PLATFORM, VLAB_BIT(VIRTIO_F_VERSION_1)},
	{VIRTIO_F_RING_PACKED, VLAB_BIT(VIRTIO_F_VERSION_1)},
};

uint64_t vlab_virtio_timeout(const struct vlab_virtio_dev *d)
{
	return d->timeout_ns != 0 ? d->timeout_ns : VLAB_DEFAULT_TIMEOUT_NS;
}

static void set_broken(struct vlab_virtio_dev *d, const char *why)
{
	if (d->broken)
		return;
	d->broken = true;
	d->broken_why = why;
	vlab_log(d->plat, VLAB_LOG_ERROR, "%s: device broken: %s", d->name ? d->name : "virtio",
	         why ? why : "?");
}

int (vlab_virtio_mark_broken)(struct vlab_virtio_dev *d, const char *why)
{
	set_broken(d, why);
	return VLAB_EPROTO;
}

/* Status bits accumulate: the driver never clears one it set
 * (DRV-2.1.1-1, DRV-2.1.1-2). */
static void add_status(struct vlab_virtio_dev *d, uint8_t bits)
{
#if defined(VLAB_MUTANT_CLEAR_STATUS) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_CLEAR_STATUS is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	d->status = (uint8_t)(bits == VIRTIO_STATUS_DRIVER_OK ? bits : d->status | bits); /* DRIVER_OK alone */
#else
	d->status = (uint8_t)(d->status | bits);
#endif
	d->ops->set_status(d, d->status);
}

int vlab_virtio_reset(struct vlab_virtio_dev *d)
{
	if (d == NULL || d->ops == NULL || d->plat == NULL)
		return VLAB_EINVAL;

	d->ops->set_status(d, 0);
	d->status = 0;
	d->features = 0;

	/* DRV-2.4.2-1: the reset is finished only when status reads back 0.
	 * Poll in steps growing from 1 us to 1 ms, bounded in platform time
	 * and in iterations (a clock that does not advance). */
	struct vlab_wait w;
	vlab_wait_start_growing(&w, d->plat, vlab_virtio_timeout(d), VLAB_RESET_STEP_NS,
	                        VLAB_RESET_STEP_MAX_NS);
	while (d->ops->get_status(d) != 0) {
		if (!vlab_wait_step(&w)) {
			set_broken(d, "reset did not complete");
			return VLAB_ETIMEDOUT;
		}
	}

	d->broken = false;
	d->broken_why = NULL;
	return VLAB_OK;
}

int vlab_virtio_stop(struct vlab_virtio_dev *d, const char *why)
{
	bool was_broken;
	const char *first;
	int rc;

	if (d == NULL || d->ops == NULL || d->plat == NULL)
		return VLAB_EINVAL;
	was_broken = d->broken;
	first = d->broken_why;
	rc = vlab_virtio_reset(d);
	/* Broken again (or still) whatever the reset did, for the first
	 * reason given: only a new initialisation makes the device usable. */
	d->broken = true;
	d->broken_why = (was_broken && first) ? first : (why ? why : "stopped by the driver");
	if (!was_broken)
		vlab_log(d->plat, VLAB_LOG_ERROR, "%s: device broken: %s", d->name ? d->name : "virtio",
		         d->broken_why);
	if (rc == 0)
		return VLAB_OK;
	vlab_log(d->plat, VLAB_LOG_ERROR, "%s: device did not stop (%s): its buffers stay with the driver",
	         d->name ? d->name : "virtio", vlab_errname(rc));
	return VLAB_EWEDGED;
}

int vlab_virtio_begin(struct vlab_virtio_dev *d)
{
	int rc = vlab_virtio_reset(d);
	if (rc != 0)
		return rc;
	/* DRV-3.1.1-1: reset, ACKNOWLEDGE, DRIVER, ... */
#if defined(VLAB_MUTANT_SKIP_ACKNOWLEDGE) /* TEST-ONLY: tests/conformance-report/mutant_test.sh */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_SKIP_ACKNOWLEDGE is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
#else
	add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
#endif
	add_status(d, VIRTIO_STATUS_DRIVER);
#if defined(VLAB_MUTANT_DRIVER_OK_EARLY) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_DRIVER_OK_EARLY is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	add_status(d, VIRTIO_STATUS_DRIVER_OK); /* before the features */
#endif
	return VLAB_OK;
}

void vlab_virtio_fail(struct vlab_virtio_dev *d)
{
	/* DRV-3.1.1-5; the next attempt starts with a reset (DRV-2.1.1-3). */
	add_status(d, VIRTIO_STATUS_FAILED);
}

static uint64_t drop_missing_deps(uint64_t acc, const struct vlab_feature_dep *deps, size_t ndeps)
{
	for (size_t i = 0; i < ndeps; i++) {
		if (deps[i].bit >= 64)
			continue;
		uint64_t bit = VLAB_BIT(deps[i].bit);
		if ((acc & bit) && (acc & deps[i].needs) != deps[i].needs)
			acc &= ~bit;
	}
	return acc;
}

static int negotiate_fail(struct vlab_virtio_dev *d, const char *why)
{
	vlab_log(d->plat, VLAB_LOG_ERROR, "%s: feature negotiation failed: %s",
	         d->name ? d->name : "virtio", why);
	d->features = 0;
	/* DRV-2.2.1-4, DRV-3.1.1-5/6: set FAILED and stop. */
	vlab_virtio_fail(d);
	return VLAB_ENOTSUP;
}

int vlab_virtio_negotiate(struct vlab_virtio_dev *d, uint64_t supported, uint64_t required,
                          const struct vlab_feature_dep *deps, size_t ndeps)
{
	if (d == NULL || (deps == NULL && ndeps != 0))
		return VLAB_EINVAL;
	if (d->broken)
		return VLAB_EBROKEN;

	/* Read the offer once; every decision below uses this copy. */
	uint64_t offered = d->ops->get_features(d);
	if (d->legacy)
		offered &= 0xffffffffull; /* a legacy interface has 32 bits */
	d->device_features = offered;

	uint64_t want = supported;
	/* DRV-6.1-3, DRV-6.1-7: every DMA address the driver hands out comes
	 * from the platform (dma_alloc/dma_map), so ACCESS_PLATFORM and
	 * ORDER_PLATFORM (platform barriers) are accepted whenever offered. */
	want |= VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) | VLAB_BIT(VIRTIO_F_ORDER_PLATFORM);
	/* The ring kinds and ring features of the virtqueue code, unless
	 * refused (so that every combination can be tested). */
	want |= RING_FEATURES & ~d->refuse_features;
	if (!d->legacy) {
		/* DRV-6.1-1: accept VERSION_1 whenever offered; DRV-6.1-2 and
		 * DRV-2.2.1-4: a modern interface without it is refused. */
		if (!(offered & VLAB_BIT(VIRTIO_F_VERSION_1)))
			return negotiate_fail(d, "VERSION_1 not offered");
#if defined(VLAB_MUTANT_NO_VERSION_1) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_VERSION_1 is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		want &= ~VLAB_BIT(VIRTIO_F_VERSION_1); /* VERSION_1 not accepted */
#else
		want |= VLAB_BIT(VIRTIO_F_VERSION_1);
#endif
	} else {
		want &= ~VLAB_BIT(VIRTIO_F_VERSION_1);
	}

	/* DRV-2.2.1-1: never accept a bit the device did not offer. */
#if defined(VLAB_MUTANT_ACCEPT_UNOFFERED) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_ACCEPT_UNOFFERED is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	uint64_t acc = want & (CORE_FEATURES | DEVICE_FEATURES_MASK); /* the offer not consulted */
#else
	uint64_t acc = offered & want & (CORE_FEATURES | DEVICE_FEATURES_MASK);
#endif
	if (d->legacy)
		acc &= 0xffffffffull;

	/* DRV-2.2.1-2: drop features whose dependencies are missing, until
	 * nothing changes (each round drops at least one bit, so at most 64). */
#if defined(VLAB_MUTANT_IGNORE_DEPS) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_IGNORE_DEPS is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	acc = drop_missing_deps(acc, generic_deps, 0); /* the dependencies not consulted */
#else
	for (unsigned round = 0; round < 65; round++) {
		uint64_t next = drop_missing_deps(acc, generic_deps,
		                                  sizeof(generic_deps) / sizeof(generic_deps[0]));
		next = drop_missing_deps(next, deps, ndeps);
		if (next == acc)
			break;
		acc = next;
	}
#endif

	uint64_t need = required & ~VLAB_BIT(VIRTIO_F_VERSION_1);
	if ((acc & need) != need) {
		vlab_log(d->plat, VLAB_LOG_ERROR, "%s: required features missing: 0x%llx",
		         d->name ? d->name : "virtio", (unsigned long long)(need & ~acc));
		return negotiate_fail(d, "required features missing");
	}

#if defined(VLAB_MUTANT_CONFIG_BEFORE_FEATURES_OK) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_CONFIG_BEFORE_FEATURES_OK is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	{
		uint32_t v = 0; /* config byte 0 written back while negotiating */
		if (!d->legacy && d->ops->config_read(d, 0, 1, &v) == 0)
			d->ops->config_write(d, 0, 1, v);
	}
#endif
	d->ops->set_features(d, acc);
	if (!d->legacy) {
		/* DRV-3.1.1-1: set FEATURES_OK, then re-read it: a device that
		 * does not keep it set refused this feature subset. */
		add_status(d, VIRTIO_STATUS_FEATURES_OK);
#if defined(VLAB_MUTANT_NO_FEATURES_OK_REREAD) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_NO_FEATURES_OK_REREAD is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		uint8_t st = d->status; /* what was written, not re-read */
#else
		uint8_t st = d->ops->get_status(d);
#endif
		if (!(st & VIRTIO_STATUS_FEATURES_OK))
			return negotiate_fail(d, "device did not accept FEATURES_OK");
#if defined(VLAB_MUTANT_FEATURES_AFTER_OK) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_FEATURES_AFTER_OK is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
		d->ops->set_features(d, acc | (offered & ~acc) | VLAB_BIT(VIRTIO_F_VERSION_1)); /* more bits after FEATURES_OK */
#endif
	}
	d->features = acc;
	return VLAB_OK;
}

int vlab_virtio_driver_ok(struct vlab_virtio_dev *d)
{
	if (d == NULL)
		return VLAB_EINVAL;
	if (d->broken)
		return VLAB_EBROKEN;
	/* DRV-3.1.1-1: last step of initialisation. */
	add_status(d, VIRTIO_STATUS_DRIVER_OK);
	return VLAB_OK;
}

int vlab_virtio_check(struct vlab_virtio_dev *d)
{
	if (d->broken)
		return VLAB_EBROKEN;
	uint8_t st = d->ops->get_status(d);
#if defined(VLAB_MUTANT_IGNORE_NEEDS_RESET) /* TEST-ONLY: tests/conformance-report/CMakeLists.txt */
#ifndef VLAB_MUTANT_BUILD
#error "VLAB_MUTANT_IGNORE_NEEDS_RESET is for the test-only mutant build (tests/conformance-report/CMakeLists.txt)"
#endif
	st &= (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET; /* DEVICE_NEEDS_RESET ignored */
#endif
	if (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return VLAB_ENEEDSRESET;
	return VLAB_OK;
}

/* ---- Configuration space ---- */

static void store_native(void *buf, size_t len, uint64_t v)
{
	switch (len) {
	case 1: {
		uint8_t x = (uint8_t)v;
		vlab_memcpy(buf, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		vlab_memcpy(buf, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		vlab_memcpy(buf, &x, 4);
		break;
	}
	default: {
		vlab_memcpy(buf, &v, 8);
		break;
	}
	}
}

static uint64_t load_native(const void *buf, size_t len)
{
	switch (len) {
	case 1: {
		uint8_t x;
		vlab_memcpy(&x, buf, 1);
		return x;
	}
	case 2: {
		uint16_t x;
		vlab_memcpy(&x, buf, 2);
		return x;
	}
	case 4: {
		uint32_t x;
		vlab_memcpy(&x, buf, 4);
		return x;
	}
	default: {
		uint64_t x;
		vlab_memcpy(&x, buf, 8);
		return x;
	}
	}
}

static bool is_scalar(size_t len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

/*
 * One pass over [off, off+len).  Access widths per DRV-4.2.2.2-5: 1/2/4
 * bytes for fields of that size (aligned), 8-byte fields as two aligned
 * 4-byte accesses (not atomic, DRV-2.5.1-1), anything else byte by byte.
 * The transport returns each access as a number (the little-endian wire
 * value); scalars are assembled from those numbers and stored in CPU order,
 * byte strings are stored byte by byte in wire order.
 */
static int config_read_once(struct vlab_virtio_dev *d, uint32_t off, uint8_t *buf, size_t len)
{
	uint32_t v;
	int rc;

	if (is_scalar(len) && len != 8 && off % len == 0) {
		rc = d->ops->config_read(d, off, (unsigned)len, &v);
		if (rc != 0)
			return rc;
		store_native(buf, len, v);
		return 0;
	}
	if (len == 8 && off % 4 == 0) {
		uint32_t lo, hi;
		rc = d->ops->config_read(d, off, 4, &lo);
		if (rc == 0)
			rc = d->ops->config_read(d, off + 4, 4, &hi);
		if (rc != 0)
			return rc;
		store_native(buf, 8, (uint64_t)lo | ((uint64_t)hi << 32));
		return 0;
	}
	/* Byte by byte. */
	uint64_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		rc = d->ops->config_read(d, off + (uint32_t)i, 1, &v);
		if (rc != 0)
			return rc;
		buf[i] = (uint8_t)v;
		if (i < 8)
			acc |= (uint64_t)(uint8_t)v << (8 * i);
	}
	if (is_scalar(len)) /* an unaligned scalar: still a value in CPU order */
		store_native(buf, len, acc);
	return 0;
}

static int config_range_ok(uint32_t off, const void *buf, size_t len)
{
	if (buf == NULL && len != 0)
		return VLAB_EINVAL;
	if (len > 0xffffffffull - off)
		return VLAB_ERANGE;
	return 0;
}

int vlab_virtio_config_read(struct vlab_virtio_dev *d, uint32_t off, void *buf, size_t len)
{
	int rc = config_range_ok(off, buf, len);
	if (rc != 0)
		return rc;
	if (d->broken)
		return VLAB_EBROKEN;

	/* DRV-2.5.1-1, DRV-2.5.1-2: repeat until the generation is the same
	 * before and after, bounded. */
	for (unsigned tries = 0; tries < VLAB_CONFIG_RETRIES; tries++) {
		uint32_t before = d->ops->config_generation(d);
		rc = config_read_once(d, off, buf, len);
		if (rc != 0)
			return rc;
		uint32_t after = d->ops->config_generation(d);
		if (before == after)
			return VLAB_OK;
	}
	return vlab_virtio_mark_broken(d, "config generation never stable");
}

int vlab_virtio_config_write(struct vlab_virtio_dev *d, uint32_t off, const void *buf, size_t len)
{
	int rc = config_range_ok(off, buf, len);
	if (rc != 0)
		return rc;
	if (d->broken)
		return VLAB_EBROKEN;
	/* DRV-3.1.1-3: no device-specific config writes before FEATURES_OK
	 * (a legacy interface has no FEATURES_OK step). */
	if (!d->legacy && !(d->status & VIRTIO_STATUS_FEATURES_OK))
		return VLAB_EINVAL;

	const uint8_t *b = buf;
	if (is_scalar(len) && len != 8 && off % len == 0)
		return d->ops->config_write(d, off, (unsigned)len, (uint32_t)load_native(b, len));
	if (len == 8 && off % 4 == 0) {
		uint64_t v = load_native(b, 8);
		rc = d->ops->config_write(d, off, 4, (uint32_t)v);
		if (rc == 0)
			rc = d->ops->config_write(d, off + 4, 4, (uint32_t)(v >> 32));
		return rc;
	}
	uint64_t v = is_scalar(len) ? load_native(b, len) : 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t byte = is_scalar(len) ? (uint8_t)(v >> (8 * i)) : b[i];
		rc = d->ops->config_write(d, off + (uint32_t)i, 1, byte);
		if (rc != 0)
			return rc;
	}
	return VLAB_OK;
}

uint32_t vlab_virtio_interrupt(struct vlab_virtio_dev *d)
{
	/* Interrupts before DRIVER_OK, or after a reset, are not ours. */
	if (d == NULL || !(d->status & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	return d->ops->interrupt_ack(d) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

#if VLAB_CFG_LOG
const char *vlab_feature_name_in(const struct vlab_feature_name *t, size_t n, unsigned bit)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].bit == bit)
			return t[i].name;
	return NULL;
}
#endif
