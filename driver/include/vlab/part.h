/* SPDX-License-Identifier: MIT */
/*
 * Partition tables (MBR with extended partitions, GPT), freestanding.
 * The disk is as hostile as the device: every field is bounds-checked.
 */
#ifndef VLAB_PART_H
#define VLAB_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlab/config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLAB_PART_MAX 128
/* GPT bounds the parser accepts (a hostile header is rejected beyond these). */
#define VLAB_GPT_MAX_ENTRIES 4096u
#define VLAB_GPT_MAX_ENTRY_SIZE 4096u
/* EBRs followed per extended partition at most. */
#define VLAB_PART_MAX_EBR 128u

enum vlab_part_scheme { VLAB_PART_NONE, VLAB_PART_MBR, VLAB_PART_GPT };

struct vlab_part {
	unsigned number;       /* 1-based, as Linux/sfdisk numbers it */
	uint64_t start_lba;    /* in sectors of the table's sector size */
	uint64_t nsectors;
	uint8_t mbr_type;      /* MBR system id */
	bool bootable;
	uint8_t type_guid[16]; /* GPT */
	uint8_t uuid[16];      /* GPT unique partition GUID */
	uint64_t attrs;        /* GPT attributes */
	char name[73];         /* GPT name, UTF-16LE converted to UTF-8 */
};

struct vlab_part_table {
	enum vlab_part_scheme scheme;
	uint32_t sector_size;
	uint32_t disk_signature; /* MBR */
	uint8_t disk_guid[16];   /* GPT */
	uint64_t first_usable, last_usable; /* GPT */
	bool backup_used;        /* GPT primary header bad, backup used */
	unsigned skipped;        /* entries dropped as invalid (outside the disk or usable range) */
	bool truncated;          /* an EBR chain ended early (loop, bad link) or > VLAB_PART_MAX */
	unsigned count;
	struct vlab_part part[VLAB_PART_MAX];
};

/* Read nsect sectors of sector_size bytes at lba into buf; 0 or negative. */
typedef int (*vlab_part_read_fn)(void *ctx, uint64_t lba, uint32_t nsect, void *buf);

/*
 * Parse the disk's partition table.  total_sectors bounds every LBA.
 * scratch: at least 2 * sector_size + 16384 bytes (GPT entry array chunk).
 * Returns 0 (scheme may be VLAB_PART_NONE), or a vlab_err for a read error
 * or a table that is malformed beyond use (VLAB_ECONFIG).
 */
int vlab_part_scan(struct vlab_part_table *t, uint32_t sector_size, uint64_t total_sectors,
                   vlab_part_read_fn read, void *ctx, void *scratch, size_t scratch_len);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with NUL), mixed-endian as GPT stores it. */
void vlab_guid_to_str(const uint8_t guid[16], char out[37]);
/* Readable name of a well-known GPT type GUID or MBR id ("Linux filesystem"), or NULL. */
const char *vlab_part_type_name(const struct vlab_part_table *t, const struct vlab_part *p);
/* CRC-32 (IEEE, as GPT uses). */
uint32_t vlab_crc32(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
