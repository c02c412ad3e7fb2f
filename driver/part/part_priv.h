/* SPDX-License-Identifier: MIT */
/* Private to driver/part: the bounded disk reader and little-endian helpers. */
#ifndef VLAB_PART_PRIV_H
#define VLAB_PART_PRIV_H

#include "vlab/part.h"
#include "vlab/virtio.h" /* vlab_err, vlab_mem* */

struct part_io {
	uint32_t ss;           /* sector size */
	uint64_t total;        /* sectors on the disk: every read stays below */
	vlab_part_read_fn read;
	void *ctx;
	uint8_t *sec;          /* one sector (MBR, EBR, GPT header) */
	uint8_t *chunk;        /* GPT entry array chunk, a whole number of sectors */
	uint32_t chunk_sectors;
};

/* Read n sectors at lba; VLAB_ERANGE if any lies beyond the disk. */
int vlab_part_io_read(struct part_io *io, uint64_t lba, uint32_t n, void *buf);
/* Append a partition; sets t->truncated instead when the table is full.
 * Returns the entry (zeroed but for number) or NULL. */
struct vlab_part *vlab_part_add_entry(struct vlab_part_table *t, unsigned number);

/* Sector 0 is in io->sec with a valid 0x55AA signature. */
bool vlab_part_mbr_is_protective(const uint8_t *sec);
int vlab_part_mbr_scan(struct vlab_part_table *t, struct part_io *io);
int vlab_part_gpt_scan(struct vlab_part_table *t, struct part_io *io);

static inline uint16_t part_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t part_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t part_le64(const uint8_t *p)
{
	return (uint64_t)part_le32(p) | ((uint64_t)part_le32(p + 4) << 32);
}

#endif
