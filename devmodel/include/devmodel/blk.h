/* SPDX-License-Identifier: MIT */
/* virtio-blk device model (5.2) with RAM and raw-file backends. */
#ifndef DM_BLK_H
#define DM_BLK_H

#include <stdio.h>

#include "devmodel/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the bytes live. */
struct dm_store {
	uint64_t size;                     /* bytes */
	int (*read)(struct dm_store *s, uint64_t off, void *buf, uint32_t len);   /* 0 or -1 */
	int (*write)(struct dm_store *s, uint64_t off, const void *buf, uint32_t len);
	int (*flush)(struct dm_store *s);
	void (*close)(struct dm_store *s);
	/* statistics */
	uint64_t flushes;
	/* Added: the store refuses writes (file opened O_RDONLY). */
	bool read_only;
	/* Optional (NULL: use read/write): the store's own bytes at
	 * [off, off+len) when it holds them in memory, after the same bounds
	 * check (and, for a write, the read_only check) as read/write; NULL
	 * when refused.  The block model copies guest memory straight to or
	 * from them. */
	uint8_t *(*span)(struct dm_store *s, uint64_t off, uint32_t len, bool write);
};
/* RAM disk of size bytes (zeroed). NULL on allocation failure. */
struct dm_store *dm_store_ram(uint64_t size);
/* Raw image file; size from the file.  NULL with *err set to a message. */
struct dm_store *dm_store_file(const char *path, bool read_only, const char **err);
/* RAM disk's bytes (NULL for other stores); for tests and vlab. */
uint8_t *dm_store_ram_bytes(struct dm_store *s);

struct dm_blk_cfg {
	uint64_t features;      /* offered, VIRTIO_F_* and VIRTIO_BLK_F_* bits */
	uint32_t blk_size;      /* when BLK_SIZE offered */
	uint32_t size_max;      /* when SIZE_MAX offered */
	uint32_t seg_max;       /* when SEG_MAX offered */
	uint16_t cylinders;     /* GEOMETRY */
	uint8_t heads, sectors;
	uint8_t physical_block_exp, alignment_offset; /* TOPOLOGY */
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;      /* CONFIG_WCE */
	uint16_t num_queues;    /* MQ */
	char serial[21];        /* GET_ID answer (up to 20 bytes) */
	uint16_t queue_num_max;
	/* Added: DISCARD / WRITE_ZEROES limits (5.2.4), offered only. */
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	/* Added: DISCARD keeps the data (QEMU's discard=ignore; the spec lets a
	 * device deallocate or not: DEV-5.2.6.2-5).  Default: the sectors are
	 * zeroed, as QEMU's discard=unmap on a raw file punches a hole. */
	bool discard_keeps_data;
	/* Added: a misbehaving device that ignores writes to writeback. */
	bool writeback_fixed;
	/* Added: a device that lies about num_queues (MQ): the field reads
	 * num_queues_claimed while the transport serves num_queues queues
	 * (attack surface C11). */
	bool num_queues_lies;
	uint16_t num_queues_claimed;
	/* Added: GEOMETRY offered with cylinders == 0 derives C/H/S from the
	 * capacity as QEMU does (16 heads, 63 sectors, 2..16383 cylinders). */
};

/* Defaults: VERSION_1 | SEG_MAX | BLK_SIZE | FLUSH, 512-byte blocks. */
void dm_blk_cfg_default(struct dm_blk_cfg *c);
/* What QEMU 7.2's virtio-blk offers (docs/qemu-profile.md says which and why).
 * legacy: the profile as seen through a legacy interface. */
void dm_blk_cfg_qemu72(struct dm_blk_cfg *c, bool legacy);

struct dm_blk {
	struct dm_virtio dv;
	struct dm_blk_cfg cfg;
	struct dm_store *store;
	bool read_only;
	/* statistics */
	uint64_t reads, writes, flushes, get_ids, errors, unsupported;
	/* DISCARD / WRITE_ZEROES segments carried out, the WRITE_ZEROES ones
	 * with UNMAP, and DISCARD segments that did not start on a multiple of
	 * discard_sector_alignment (the driver's split: only a range's first). */
	uint64_t discards, write_zeroes, zeroes_unmap, discard_unaligned;
	/* Added. */
	uint8_t writeback;             /* current writeback config field */
	struct dm_chain *chain;        /* scratch for the request being processed */
	uint8_t *bounce;               /* data of a store without span, allocated once */
};

/* store is owned by the device afterwards. */
struct dm_blk *dm_blk_new(const struct dm_blk_cfg *cfg, struct dm_store *store, struct dm_env *env,
                          const char *name);
void dm_blk_free(struct dm_blk *b);

#ifdef __cplusplus
}
#endif
#endif
