/* SPDX-License-Identifier: MIT */
/*
 * The default disk: a GUID partition table (UEFI 2.10, chapter 5) written
 * into a RAM disk, so that a first `vlab -c 'virtio part 0'` shows
 * something real.
 *
 *   LBA 0               protective MBR (one 0xEE entry covering the disk)
 *   LBA 1               primary GPT header
 *   LBA 2..33           primary entry array (128 entries x 128 bytes)
 *   LBA 2048..18431     partition 1 "boot", EFI System (1 MiB..9 MiB)
 *   LBA 18432..last     partition 2 "rootfs", Linux filesystem; its first
 *                       sector holds VLAB_DEFAULT_GREETING
 *   last+1..N-2         backup entry array
 *   N-1                 backup GPT header
 *
 * GUIDs are fixed so the output is the same on every run.
 */
#include <string.h>

#include "vlab/part.h"
#include "vlab_cli.h"

#define SECTOR 512u
#define GPT_ENTRIES 128u
#define GPT_ENTRY_SIZE 128u
#define GPT_ARRAY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / SECTOR) /* 32 */
#define GPT_HEADER_SIZE 92u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A GUID as written "aabbccdd-eeff-gghh-iijj-kkllmmnnoopp" into the
 * on-disk form: the first three fields little-endian, the rest as bytes. */
static void guid_put(uint8_t out[16], uint32_t a, uint16_t b, uint16_t c, uint16_t d,
                     uint64_t e48)
{
	put32(out, a);
	put16(out + 4, b);
	put16(out + 6, c);
	out[8] = (uint8_t)(d >> 8);
	out[9] = (uint8_t)d;
	for (unsigned i = 0; i < 6; i++)
		out[10 + i] = (uint8_t)(e48 >> (8 * (5 - i)));
}

struct gpt_part {
	const char *name;
	uint64_t first, last;
	uint8_t type[16], uuid[16];
};

static void put_entry(uint8_t *e, const struct gpt_part *p)
{
	memcpy(e, p->type, 16);
	memcpy(e + 16, p->uuid, 16);
	put64(e + 32, p->first);
	put64(e + 40, p->last);
	put64(e + 48, 0); /* attributes */
	for (unsigned i = 0; p->name[i] && i < 36; i++)
		put16(e + 56 + 2 * i, (uint8_t)p->name[i]); /* ASCII names: UTF-16LE */
}

static void put_header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t first_usable,
                       uint64_t last_usable, const uint8_t disk_guid[16], uint64_t array_lba,
                       uint32_t array_crc)
{
	memset(h, 0, SECTOR);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000u);     /* revision 1.0 */
	put32(h + 12, GPT_HEADER_SIZE);
	put64(h + 24, my_lba);
	put64(h + 32, alt_lba);
	put64(h + 40, first_usable);
	put64(h + 48, last_usable);
	memcpy(h + 56, disk_guid, 16);
	put64(h + 72, array_lba);
	put32(h + 80, GPT_ENTRIES);
	put32(h + 84, GPT_ENTRY_SIZE);
	put32(h + 88, array_crc);
	/* The header CRC covers header_size bytes with its own field zero. */
	put32(h + 16, vlab_crc32(0, h, GPT_HEADER_SIZE));
}

int vlab_mkdisk_default(uint8_t *disk, uint64_t bytes)
{
	const uint64_t nsect = bytes / SECTOR;
	const uint64_t first_usable = 2 + GPT_ARRAY_SECTORS;         /* 34 */
	const uint64_t last_usable = nsect - 2 - GPT_ARRAY_SECTORS;  /* before backup array */
	const uint64_t p1_first = (1u << 20) / SECTOR;               /* 1 MiB */
	const uint64_t p2_first = (9u << 20) / SECTOR;               /* 9 MiB */
	uint8_t disk_guid[16];
	struct gpt_part part[2];
	uint8_t *mbr = disk, *array = disk + 2 * SECTOR;
	uint32_t array_crc;

	if (bytes % SECTOR != 0 || bytes < (10u << 20))
		return -1;

	memset(disk, 0, (size_t)(first_usable * SECTOR));
	memset(disk + (last_usable + 1) * SECTOR, 0, (size_t)((nsect - last_usable - 1) * SECTOR));

	/* Protective MBR: one partition of type 0xEE from LBA 1 to the end
	 * (capped at 2^32-1 sectors), CHS fields as the UEFI spec gives them. */
	{
		uint8_t *pe = mbr + 446;
		uint64_t n = nsect - 1;

		pe[0] = 0x00;                          /* not bootable */
		pe[1] = 0x00; pe[2] = 0x02; pe[3] = 0x00; /* CHS of LBA 1 */
		pe[4] = 0xEE;                          /* GPT protective */
		pe[5] = 0xFF; pe[6] = 0xFF; pe[7] = 0xFF;
		put32(pe + 8, 1);
		put32(pe + 12, n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n);
		mbr[510] = 0x55;
		mbr[511] = 0xAA;
	}

	guid_put(disk_guid, 0x5a3c1e00u, 0x7f1d, 0x4b8e, 0x9a21, 0x766c61620001ull);
	part[0] = (struct gpt_part){ .name = "boot", .first = p1_first, .last = p2_first - 1 };
	part[1] = (struct gpt_part){ .name = "rootfs", .first = p2_first, .last = last_usable };
	/* EFI System: C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
	guid_put(part[0].type, 0xC12A7328u, 0xF81F, 0x11D2, 0xBA4B, 0x00A0C93EC93Bull);
	/* Linux filesystem data: 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */
	guid_put(part[1].type, 0x0FC63DAFu, 0x8483, 0x4772, 0x8E79, 0x3D69D8477DE4ull);
	guid_put(part[0].uuid, 0x5a3c1e01u, 0x7f1d, 0x4b8e, 0x9a21, 0x766c61620101ull);
	guid_put(part[1].uuid, 0x5a3c1e02u, 0x7f1d, 0x4b8e, 0x9a21, 0x766c61620102ull);

	put_entry(array, &part[0]);
	put_entry(array + GPT_ENTRY_SIZE, &part[1]);
	array_crc = vlab_crc32(0, array, GPT_ENTRIES * GPT_ENTRY_SIZE);
	memcpy(disk + (last_usable + 1) * SECTOR, array, GPT_ENTRIES * GPT_ENTRY_SIZE);

	put_header(disk + SECTOR, 1, nsect - 1, first_usable, last_usable, disk_guid, 2, array_crc);
	put_header(disk + (nsect - 1) * SECTOR, nsect - 1, 1, first_usable, last_usable, disk_guid,
	           last_usable + 1, array_crc);

	memset(disk + p2_first * SECTOR, 0, SECTOR);
	memcpy(disk + p2_first * SECTOR, VLAB_DEFAULT_GREETING "\n",
	       sizeof(VLAB_DEFAULT_GREETING "\n") - 1);
	return 0;
}
