/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng device model (5.4, entropy source, device ID 4): one requestq;
 * every available chain of device-writable buffers is filled with bytes of
 * a seeded, deterministic stream (splitmix64, see dm_rng_stream) and
 * returned with used length = bytes written.  No feature bits, no config
 * space (5.4.3, 5.4.4).
 *
 * Misbehaviour, for hardening the driver, comes from the cfg knobs below
 * (every request) or from fault-plan entries rng_short / rng_empty (chosen
 * requests; docs/fault-plans.md); an overlong used length is the generic
 * used_len fault or the overlong_by knob.
 */
#ifndef DM_RNG_H
#define DM_RNG_H

#include <stddef.h>

#include "devmodel/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_RNG_DEFAULT_SEED 0x76697274696f726eull /* "virtiorn" */

struct dm_rng_cfg {
	uint64_t features;      /* offered: VIRTIO_F_* bits (5.4.3 defines none of its own) */
	uint64_t seed;          /* the byte stream's seed */
	uint32_t max_bytes;     /* most bytes one request gets (DEV-5.4.6.2-2); 0: no limit */
	uint16_t queue_num_max;
	/* Fault knobs, applied to every request (0: off). */
	uint32_t short_by;      /* allowed: fill this many bytes fewer than posted, but at
	                           least one (a known device answered 8 short) */
	uint32_t empty_upto;    /* forbidden (DEV-5.4.6.2-1): a request of at most this many
	                           bytes is answered with used length 0, nothing written */
	uint32_t overlong_by;   /* forbidden (DEV-2.7.8.2-2): all posted bytes written, used
	                           length claims this many more */
};

/* Defaults: VERSION_1, DM_RNG_DEFAULT_SEED, no limit, queue size 256,
 * no faults. */
void dm_rng_cfg_default(struct dm_rng_cfg *c);

struct dm_rng {
	struct dm_virtio dv;
	struct dm_rng_cfg cfg;
	/* Offset of the next byte in the stream: bytes given so far.  A reset
	 * does not rewind it (an entropy source does not repeat itself). */
	uint64_t stream_pos;
	/* Statistics. */
	uint64_t requests;      /* chains taken from the requestq */
	uint64_t bytes_given;   /* bytes written into guest memory */
	uint64_t shorts;        /* requests answered with fewer bytes than posted */
	uint64_t empties;       /* requests answered with used length 0 */
	uint64_t overlongs;     /* used lengths above what was written (knob only) */
	uint64_t readable;      /* chains with driver-readable buffers (DRV-5.4.6.1-1) */
	struct dm_chain *chain; /* scratch for the request being processed */
};

struct dm_rng *dm_rng_new(const struct dm_rng_cfg *cfg, struct dm_env *env, const char *name);
void dm_rng_free(struct dm_rng *r);

/* len bytes of seed's stream from offset pos: what the device wrote for
 * the request that started there (tests compare against it).  Byte k of
 * the stream is byte k % 8 (little-endian) of splitmix64's output number
 * k / 8, whose state is seed + (k / 8 + 1) * 0x9e3779b97f4a7c15. */
void dm_rng_stream(uint64_t seed, uint64_t pos, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
