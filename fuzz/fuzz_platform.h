/* SPDX-License-Identifier: MIT */
/*
 * The platform contract answered from fuzz input, for the libFuzzer targets.
 *
 * Input is read from both ends (structure-aware): control decisions (which
 * operation, whether the device lies this time) from the front, the values
 * of the lies (register contents, ring entries, status bytes) from the back,
 * so that a mutation in one stream leaves the other meaningful.  An empty
 * input is an honest device: the small virtio-mmio blk device below answers
 * every register and processes the ring, and every lie is a control byte
 * away.  In racy mode every read of device-writable memory returns a fresh
 * value from the input, as a device changing memory between two reads would.
 *
 * DMA memory is a host arena of FZ_ARENA bytes at device address FZ_DMA_BASE;
 * buffers outside it are refused by dma_map, as the host harness does.
 */
#ifndef VLAB_FUZZ_PLATFORM_H
#define VLAB_FUZZ_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FZ_ARENA (512u * 1024u)
#define FZ_DMA_BASE 0x40000000ull
#define FZ_MMIO_BASE 0x10001000ull
#define FZ_DISK_SECTORS 64u
/* Bound for every wait of the driver in the targets (vdev.timeout_ns): a
 * device that never answers costs ~200 polls, not a million. */
#define FZ_TIMEOUT_NS 200000u
#define FZ_CONFIG_BYTES 64u

struct fz {
	struct vlab_platform plat;
	struct vlab_platform_ops ops;
	/* The input: control from the front (head), payload from the back (tail). */
	const uint8_t *data;
	size_t size, head, tail;
	bool racy;            /* every shm read draws a fresh value */
	uint8_t lie_shift;    /* a control byte below (256 >> lie_shift) means "lie" */

	uint8_t *arena;
	size_t arena_used;
	uint64_t now;
	uint64_t delays;      /* delay_ns calls (a hang shows as a huge count) */

	/* The honest virtio-mmio (version 2) blk device. */
	uint32_t version, device_id;
	uint64_t features;
	uint32_t dfsel, status, qsel, qnum, qready, isr;
	uint32_t qmax;
	uint64_t qdesc, qavail, qused;
	uint8_t config[FZ_CONFIG_BYTES];
	uint32_t generation;
	uint16_t last_avail, used_idx;
	uint8_t *disk;        /* FZ_DISK_SECTORS sectors, zeroed by fz_init when blk_engine */
	bool blk_engine;      /* interpret chains as blk requests */
	uint64_t completions;
};

void fz_init(struct fz *f, const uint8_t *data, size_t size);
void fz_fini(struct fz *f);

/* Control stream (front); 0 once exhausted. */
uint8_t fz_ctl8(struct fz *f);
uint16_t fz_ctl16(struct fz *f);
/* Payload stream (back), n bytes little-endian; 0 once exhausted. */
uint64_t fz_pay(struct fz *f, unsigned n);
/* Does the device lie this time?  One control byte. */
bool fz_lie(struct fz *f);
bool fz_exhausted(const struct fz *f);

/* DMA memory from the arena (zeroed), NULL when full. */
void *fz_alloc(struct fz *f, size_t n, size_t align, vlab_addr_t *dev);

/* Process what the driver made available on the ring at l (the device's
 * side): complete every new chain, honestly unless the control stream says
 * otherwise (never complete, wrong id, wrong length, bad status, twice). */
void fz_device_work(struct fz *f, const struct vlab_vq_layout *l);

#ifdef __cplusplus
}
#endif
#endif
