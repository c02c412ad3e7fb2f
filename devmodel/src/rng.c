/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng device (5.4): one requestq whose chains the device fills with
 * bytes of a seeded splitmix64 stream, and the checks of the driver's
 * requests (5.4.6.1).
 */
#include "devmodel/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/spec.h"

#define RNG_CHUNK 4096u
/* A short answer without a value is this many bytes short: what a known
 * device did (issue 16). */
#define RNG_SHORT_DEFAULT 8u
#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull

void dm_rng_cfg_default(struct dm_rng_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->features = DM_BIT(DM_VIRTIO_F_VERSION_1);
	c->seed = DM_RNG_DEFAULT_SEED;
	c->queue_num_max = 256;
}

/* splitmix64's output for state s (Steele, Lea, Flood 2014). */
static uint64_t splitmix64(uint64_t s)
{
	uint64_t z = s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void dm_rng_stream(uint64_t seed, uint64_t pos, void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		const uint64_t k = pos + i;
		const uint64_t word = splitmix64(seed + (k / 8 + 1) * SPLITMIX_GAMMA);
		p[i] = (uint8_t)(word >> (8 * (k % 8)));
	}
}

/* Bytes of the stream into the chain's writable part, from its start;
 * returns the bytes written (fewer only when guest memory refused some). */
static uint32_t fill(struct dm_rng *r, struct dm_vq *vq, const struct dm_chain *c, uint32_t want)
{
	uint8_t buf[RNG_CHUNK];
	uint32_t done = 0;

	while (done < want) {
		const uint32_t n = want - done < RNG_CHUNK ? want - done : RNG_CHUNK;
		dm_rng_stream(r->cfg.seed, r->stream_pos, buf, n);
		const uint32_t put = dm_chain_write(vq, c, done, buf, n);
		r->stream_pos += put;
		done += put;
		if (put < n)
			break;
	}
	return done;
}

/* Answer one request; returns the used length to report. */
static uint32_t answer(struct dm_rng *r, struct dm_vq *vq, const struct dm_chain *c)
{
	struct dm_virtio *dv = &r->dv;
	const uint32_t posted = c->writable_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->writable_len;
	struct dm_fault *f;
	uint32_t want = posted, written, len;

	/* DRV-5.4.6.1-1: the driver puts no driver-readable buffer in the queue.
	 * The writable part is still served. */
	dm_virtio_checked(dv, "DRV-5.4.6.1-1");
	if (c->readable_len) {
		r->readable++;
		dm_virtio_violation_where(dv, "q0", "DRV-5.4.6.1-1",
		                          "request %u has %llu driver-readable bytes", c->head,
		                          (unsigned long long)c->readable_len);
	}
	if (posted == 0)
		return 0; /* nothing the device could write into */

	/* Both kinds count every request that has room for a byte. */
	const bool empty = dm_virtio_fault_hit(dv, DM_FAULT_RNG_EMPTY, vq->index) != NULL;
	uint32_t by = r->cfg.short_by;
	if ((f = dm_virtio_fault_hit(dv, DM_FAULT_RNG_SHORT, vq->index)))
		by = f->value ? (uint32_t)(f->value > UINT32_MAX ? UINT32_MAX : f->value) : RNG_SHORT_DEFAULT;
	/* Forbidden (DEV-5.4.6.2-1): used length 0, nothing written. */
	if (empty || posted <= r->cfg.empty_upto) {
		r->empties++;
		return 0;
	}
	/* DEV-5.4.6.2-2: the device may use less than the whole buffer, but
	 * DEV-5.4.6.2-1: at least one byte. */
	if (r->cfg.max_bytes && want > r->cfg.max_bytes)
		want = r->cfg.max_bytes;
	if (by) {
		const uint32_t most = posted > by ? posted - by : 1;
		if (want > most)
			want = most;
	}
	written = fill(r, vq, c, want);
	r->bytes_given += written;
	if (written < posted)
		r->shorts++;
	len = written;
	/* Forbidden (DEV-2.7.8.2-2): a used length above the bytes written. */
	if (r->cfg.overlong_by) {
		len = written > UINT32_MAX - r->cfg.overlong_by ? UINT32_MAX : written + r->cfg.overlong_by;
		r->overlongs++;
	}
	return len;
}

/* DM_FAULT_DELAY (dm_virtio_defer): a slow entropy source (a rate-limited
 * one, as QEMU's max-bytes / period) answers the request later.  As on a
 * disk the delay counts requests as they arrive, and the late answer comes
 * without stall seeing it (docs/fault-plans.md). */
static void delayed_fire(struct dm_virtio *dv, struct dm_vq *vq, const struct dm_chain *c)
{
	dm_vq_push(vq, c->head, answer(dv->dev, vq, c));
}

static void rng_queue_work(void *dev, struct dm_virtio *dv, uint16_t q)
{
	struct dm_rng *r = dev;
	struct dm_vq *vq = &dv->vq[q];

	for (;;) {
		if (!dm_virtio_running(dv))
			return;
		if (dm_vq_pop(vq, r->chain) <= 0)
			return;
		r->requests++;
		if (dm_virtio_fault_hit(dv, DM_FAULT_NEEDS_RESET, q)) {
			/* The request stays unanswered (DRV-2.1.1-4). */
			dm_virtio_set_needs_reset(dv);
			return;
		}
		struct dm_fault *delay = dm_virtio_fault_hit(dv, DM_FAULT_DELAY, q);
		if (delay && dm_virtio_defer(dv, q, r->chain, delay->value, delayed_fire))
			continue;
		const uint32_t len = answer(r, vq, r->chain);
		if (dm_virtio_fault_hit(dv, DM_FAULT_STALL, q))
			continue; /* filled, never completed */
		dm_vq_push(vq, r->chain->head, len);
	}
}

static uint32_t rng_config_len(void *dev)
{
	(void)dev;
	return 0; /* 5.4.4: no device configuration */
}

static const struct dm_device_ops rng_ops = {
	.type_name = "rng",
	.device_id = DM_VIRTIO_ID_RNG,
	.config_len = rng_config_len,
	.queue_work = rng_queue_work,
};

struct dm_rng *dm_rng_new(const struct dm_rng_cfg *cfg, struct dm_env *env, const char *name)
{
	struct dm_rng *r;

	if (!cfg)
		return NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->chain = malloc(sizeof *r->chain);
	if (!r->chain) {
		free(r);
		return NULL;
	}
	r->cfg = *cfg;
	/* 5.4.2: one queue, requestq. */
	dm_virtio_init(&r->dv, &rng_ops, r, env, name, cfg->features, 1,
	               cfg->queue_num_max ? cfg->queue_num_max : 256);
	return r;
}

void dm_rng_free(struct dm_rng *r)
{
	if (!r)
		return;
	dm_virtio_drop_deferred(&r->dv);
	free(r->chain);
	free(r);
}
