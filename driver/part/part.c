/* SPDX-License-Identifier: MIT */
/*
 * Partition table entry point: reads sector 0 and hands over to the MBR or
 * GPT parser; GUID text and type names.
 */
#include "part_priv.h"

#if VLAB_CFG_PART /* vlab/config.h */

#define PART_GPT_CHUNK 16384u

int vlab_part_io_read(struct part_io *io, uint64_t lba, uint32_t n, void *buf)
{
	int rc;

	if (n == 0 || lba >= io->total || n > io->total - lba)
		return VLAB_ERANGE;
	rc = io->read(io->ctx, lba, n, buf);
	if (rc > 0)
		return VLAB_EIO; /* not a vlab_err: treat as a failed read */
	return rc;
}

struct vlab_part *vlab_part_add_entry(struct vlab_part_table *t, unsigned number)
{
	struct vlab_part *p;

	if (t->count >= VLAB_PART_MAX) {
		t->truncated = true;
		return NULL;
	}
	p = &t->part[t->count++];
	vlab_memset(p, 0, sizeof *p);
	p->number = number;
	return p;
}

int vlab_part_scan(struct vlab_part_table *t, uint32_t sector_size, uint64_t total_sectors,
                   vlab_part_read_fn read, void *ctx, void *scratch, size_t scratch_len)
{
	struct part_io io;
	int rc;

	if (!t)
		return VLAB_EINVAL;
	vlab_memset(t, 0, sizeof *t);
	t->scheme = VLAB_PART_NONE;
	if (!read || !scratch)
		return VLAB_EINVAL;
	if (sector_size < 512 || sector_size > 65536 || (sector_size & (sector_size - 1)))
		return VLAB_EINVAL;
	t->sector_size = sector_size;
	if (scratch_len < 2 * (size_t)sector_size + PART_GPT_CHUNK)
		return VLAB_EINVAL;

	io.ss = sector_size;
	io.total = total_sectors;
	io.read = read;
	io.ctx = ctx;
	io.sec = scratch;
	io.chunk = (uint8_t *)scratch + sector_size;
	io.chunk_sectors = (uint32_t)((scratch_len - sector_size) / sector_size);
	if (io.chunk_sectors > 65536u)
		io.chunk_sectors = 65536u; /* one read call at most 2^16 sectors */

	if (total_sectors == 0)
		return 0;
	rc = vlab_part_io_read(&io, 0, 1, io.sec);
	if (rc)
		return rc;
	if (io.sec[510] != 0x55 || io.sec[511] != 0xAA)
		return 0; /* no partition table */
	if (vlab_part_mbr_is_protective(io.sec))
		return vlab_part_gpt_scan(t, &io);
	/* A FAT boot sector ends in 55 AA as well: "FAT" at 0x36 (FAT12/16)
	 * or 0x52 (FAT32) is a filesystem on the whole disk ("superfloppy"),
	 * no table, as U-Boot's DOS partition code decides. */
	if (vlab_memcmp(io.sec + 0x36, "FAT", 3) == 0 || vlab_memcmp(io.sec + 0x52, "FAT", 3) == 0)
		return 0;
	return vlab_part_mbr_scan(t, &io);
}

void vlab_guid_to_str(const uint8_t guid[16], char out[37])
{
	static const char hex[] = "0123456789ABCDEF";
	/* Byte order of the text: the first three fields are little-endian. */
	static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	unsigned o = 0;

	for (unsigned i = 0; i < 16; i++) {
		uint8_t v = guid[order[i]];
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[v >> 4];
		out[o++] = hex[v & 0xf];
	}
	out[o] = '\0';
}

struct gpt_type_name {
	const char *guid; /* upper case, as vlab_guid_to_str writes it */
	const char *name; /* as sfdisk --list-types -X gpt prints it */
};

static const struct gpt_type_name gpt_types[] = {
	{"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"},
	{"024DEE41-33E7-11D3-9D69-0008C781F39F", "MBR partition scheme"},
	{"21686148-6449-6E6F-744E-656564454649", "BIOS boot"},
	{"E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"},
	{"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"},
	{"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery environment"},
	{"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"},
	{"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"},
	{"3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux server data"},
	{"44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)"},
	{"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"},
	{"69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux root (ARM)"},
	{"B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM-64)"},
	{"72EC70A6-CF74-40E6-BD49-4BDA08E8F224", "Linux root (RISC-V-64)"},
	{"8DA63339-0007-60C0-C436-083AC8230908", "Linux reserved"},
	{"933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home"},
	{"A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"},
	{"E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"},
	{"4D21B016-B534-45C2-A9FB-5C16E091FD2D", "Linux variable data"},
	{"7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", "Linux temporary data"},
	{"8484680C-9521-48C6-9C11-B0720656F69E", "Linux /usr (x86-64)"},
	{"BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot"},
	{"CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS"},
	{"7FFEC5C9-2D00-49B7-8941-3EA10A5586B7", "Linux dm-crypt"},
	{"48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS/HFS+"},
};

struct mbr_type_name {
	uint8_t id;
	const char *name; /* as sfdisk --list-types -X dos prints it */
};

static const struct mbr_type_name mbr_types[] = {
	{0x01, "FAT12"},
	{0x04, "FAT16 <32M"},
	{0x05, "Extended"},
	{0x06, "FAT16"},
	{0x07, "HPFS/NTFS/exFAT"},
	{0x0b, "W95 FAT32"},
	{0x0c, "W95 FAT32 (LBA)"},
	{0x0e, "W95 FAT16 (LBA)"},
	{0x0f, "W95 Ext'd (LBA)"},
	{0x82, "Linux swap / Solaris"},
	{0x83, "Linux"},
	{0x85, "Linux extended"},
	{0x8e, "Linux LVM"},
	{0xda, "Non-FS data"},
	{0xee, "GPT"},
	{0xef, "EFI (FAT-12/16/32)"},
	{0xfd, "Linux raid autodetect"},
};

const char *vlab_part_type_name(const struct vlab_part_table *t, const struct vlab_part *p)
{
	if (!t || !p)
		return NULL;
	if (t->scheme == VLAB_PART_GPT) {
		char s[37];
		vlab_guid_to_str(p->type_guid, s);
		for (size_t i = 0; i < sizeof gpt_types / sizeof gpt_types[0]; i++)
			if (vlab_memcmp(s, gpt_types[i].guid, 36) == 0)
				return gpt_types[i].name;
		return NULL;
	}
	if (t->scheme == VLAB_PART_MBR) {
		for (size_t i = 0; i < sizeof mbr_types / sizeof mbr_types[0]; i++)
			if (mbr_types[i].id == p->mbr_type)
				return mbr_types[i].name;
	}
	return NULL;
}
#else
typedef int vlab_part_part_compiled_out; /* ISO C: no empty translation unit */
#endif
