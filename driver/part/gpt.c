/* SPDX-License-Identifier: MIT */
/*
 * GPT (UEFI 2.x, chapter 5).  Reached through a protective MBR.
 *
 * A header is used only when all of these hold: signature, revision 1.x,
 * header size 92..sector size, header CRC32 (computed with its own field as
 * zero), my_lba is where it was read, first_usable <= last_usable inside
 * the disk, entry size a multiple of 128 (<= VLAB_GPT_MAX_ENTRY_SIZE),
 * at most VLAB_GPT_MAX_ENTRIES entries, the entry array inside the disk and
 * not over the header, and the entry array CRC32.  The primary at LBA 1 is
 * tried first; then the backup at the last LBA (and, when the primary
 * header itself was sound, the alternate_lba it names).
 *
 * The entry array is read in chunks through the scratch buffer and parsed
 * while its CRC is computed; if the CRC does not match, what was parsed is
 * thrown away.  Entries are numbered index + 1 as Linux and sfdisk do;
 * unused entries (zero type GUID) are skipped; entries whose range is
 * inverted or outside the usable range are dropped (t->skipped).
 */
#include "part_priv.h"

#if VLAB_CFG_PART /* vlab/config.h */

#define GPT_HDR_MIN 92u
#define GPT_ENTRY_MIN 128u
#define GPT_NAME_UNITS 36u

struct gpt_hdr {
	uint64_t my_lba, alt_lba, first, last, entries_lba;
	uint32_t num, esize, entries_crc;
	uint8_t disk_guid[16];
};

static bool guid_is_zero(const uint8_t *g)
{
	for (unsigned i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

static size_t utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/*
 * UTF-16LE name (up to the first NUL) to UTF-8, NUL-terminated in out[outlen].
 * Surrogate pairs are decoded; a lone surrogate or a control character
 * becomes '?' (the name is disk data and may end up on a terminal).
 * A character that does not fit whole ends the string.
 */
static void gpt_name_to_utf8(const uint8_t *src, char *out, size_t outlen)
{
	size_t o = 0;

	for (unsigned i = 0; i < GPT_NAME_UNITS; i++) {
		uint32_t c = part_le16(src + 2 * i);
		char tmp[4];
		size_t n;

		if (c == 0)
			break;
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < GPT_NAME_UNITS) {
			uint32_t lo = part_le16(src + 2 * (i + 1));
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			} else {
				c = '?';
			}
		} else if (c >= 0xD800 && c <= 0xDFFF) {
			c = '?';
		}
		if (c < 0x20 || (c >= 0x7F && c < 0xA0))
			c = '?';
		n = utf8_put(tmp, c);
		if (o + n >= outlen)
			break;
		vlab_memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

static int gpt_read_header(struct part_io *io, uint64_t lba, struct gpt_hdr *h, bool *hdr_sound)
{
	static const uint8_t zero4[4] = {0, 0, 0, 0};
	const uint8_t *s = io->sec;
	uint32_t hsize, crc;
	uint64_t array_bytes, array_sectors;
	int rc;

	*hdr_sound = false;
	rc = vlab_part_io_read(io, lba, 1, io->sec);
	if (rc)
		return rc;
	if (vlab_memcmp(s, "EFI PART", 8) != 0)
		return VLAB_EBADTABLE;
	if ((part_le32(s + 8) >> 16) != 1) /* revision 1.x */
		return VLAB_EBADTABLE;
	hsize = part_le32(s + 12);
	if (hsize < GPT_HDR_MIN || hsize > io->ss)
		return VLAB_EBADTABLE;
	crc = vlab_crc32(0, s, 16);
	crc = vlab_crc32(crc, zero4, 4); /* the CRC field counts as zero */
	crc = vlab_crc32(crc, s + 20, hsize - 20);
	if (crc != part_le32(s + 16))
		return VLAB_EBADTABLE;

	h->my_lba = part_le64(s + 24);
	h->alt_lba = part_le64(s + 32);
	h->first = part_le64(s + 40);
	h->last = part_le64(s + 48);
	vlab_memcpy(h->disk_guid, s + 56, 16);
	h->entries_lba = part_le64(s + 72);
	h->num = part_le32(s + 80);
	h->esize = part_le32(s + 84);
	h->entries_crc = part_le32(s + 88);
	if (h->my_lba != lba)
		return VLAB_EBADTABLE;
	*hdr_sound = true; /* its alternate_lba may be worth a try */

	/* LBA 0 and 1 hold the MBR and the primary header. */
	if (h->first < 2 || h->first > h->last || h->last >= io->total)
		return VLAB_EBADTABLE;
	if (h->esize < GPT_ENTRY_MIN || h->esize % GPT_ENTRY_MIN || h->esize > VLAB_GPT_MAX_ENTRY_SIZE)
		return VLAB_EBADTABLE;
	if (h->num > VLAB_GPT_MAX_ENTRIES)
		return VLAB_EBADTABLE;
	array_bytes = (uint64_t)h->num * h->esize;
	array_sectors = (array_bytes + io->ss - 1) / io->ss;
	if (h->entries_lba < 2 || h->entries_lba >= io->total ||
	    array_sectors > io->total - h->entries_lba)
		return VLAB_EBADTABLE;
	if (lba >= h->entries_lba && lba - h->entries_lba < array_sectors)
		return VLAB_EBADTABLE; /* the array would cover its own header */
	return 0;
}

static void gpt_entry(struct vlab_part_table *t, const struct gpt_hdr *h, const uint8_t *e, uint32_t index)
{
	uint64_t first, last;
	struct vlab_part *p;

	if (guid_is_zero(e))
		return; /* unused entry */
	first = part_le64(e + 32);
	last = part_le64(e + 40);
	if (first > last || first < h->first || last > h->last) {
		t->skipped++;
		return;
	}
	p = vlab_part_add_entry(t, index + 1);
	if (!p)
		return;
	p->start_lba = first;
	p->nsectors = last - first + 1;
	vlab_memcpy(p->type_guid, e, 16);
	vlab_memcpy(p->uuid, e + 16, 16);
	p->attrs = part_le64(e + 48);
	gpt_name_to_utf8(e + 56, p->name, sizeof p->name);
}

static void gpt_forget(struct vlab_part_table *t)
{
	t->count = 0;
	t->skipped = 0;
	t->truncated = false;
}

/* Read, CRC-check and parse the entry array that h describes. */
static int gpt_read_entries(struct vlab_part_table *t, struct part_io *io, const struct gpt_hdr *h)
{
	uint8_t ent[GPT_ENTRY_MIN];
	uint64_t left = (uint64_t)h->num * h->esize;
	uint64_t lba = h->entries_lba;
	uint32_t crc = 0, epos = 0, index = 0;

	gpt_forget(t);
	while (left) {
		uint64_t want = (left + io->ss - 1) / io->ss;
		uint32_t n = want < io->chunk_sectors ? (uint32_t)want : io->chunk_sectors;
		size_t avail = (size_t)n * io->ss, pos = 0;
		int rc = vlab_part_io_read(io, lba, n, io->chunk);

		if (rc) {
			gpt_forget(t);
			return rc;
		}
		if (avail > left)
			avail = (size_t)left;
		crc = vlab_crc32(crc, io->chunk, avail);
		/* Entries may straddle chunks: collect the 128 bytes we parse. */
		while (pos < avail) {
			size_t take;
			if (epos < GPT_ENTRY_MIN) {
				take = GPT_ENTRY_MIN - epos;
				if (take > avail - pos)
					take = avail - pos;
				vlab_memcpy(ent + epos, io->chunk + pos, take);
			} else {
				take = h->esize - epos;
				if (take > avail - pos)
					take = avail - pos;
			}
			epos += (uint32_t)take;
			pos += take;
			if (epos == h->esize) {
				gpt_entry(t, h, ent, index++);
				epos = 0;
			}
		}
		left -= avail;
		lba += n;
	}
	if (crc != h->entries_crc) {
		gpt_forget(t);
		return VLAB_EBADTABLE;
	}
	return 0;
}

/* 0: t filled from the header at lba; VLAB_EBADTABLE: not usable; else a read error. */
static int gpt_try(struct vlab_part_table *t, struct part_io *io, uint64_t lba, struct gpt_hdr *h,
                   bool *hdr_sound)
{
	int rc = gpt_read_header(io, lba, h, hdr_sound);
	if (rc)
		return rc;
	rc = gpt_read_entries(t, io, h);
	if (rc)
		return rc;
	t->scheme = VLAB_PART_GPT;
	vlab_memcpy(t->disk_guid, h->disk_guid, 16);
	t->first_usable = h->first;
	t->last_usable = h->last;
	return 0;
}

int vlab_part_gpt_scan(struct vlab_part_table *t, struct part_io *io)
{
	struct gpt_hdr h, hb;
	bool sound = false, unused;
	uint64_t last_lba;
	int rc;

	if (io->total < 3) {
		t->scheme = VLAB_PART_GPT;
		return VLAB_ENOGPT;
	}
	last_lba = io->total - 1;
	rc = gpt_try(t, io, 1, &h, &sound);
	if (rc != VLAB_EBADTABLE)
		return rc; /* 0, or a read error */

	rc = gpt_try(t, io, last_lba, &hb, &unused);
	if (rc == VLAB_EBADTABLE && sound && h.alt_lba != last_lba && h.alt_lba > 1 && h.alt_lba < io->total)
		rc = gpt_try(t, io, h.alt_lba, &hb, &unused);
	if (rc == 0)
		t->backup_used = true;
	if (rc == VLAB_EBADTABLE) {
		/* Neither header usable: an empty GPT, as U-Boot shows it. */
		gpt_forget(t);
		t->scheme = VLAB_PART_GPT;
		return VLAB_ENOGPT;
	}
	return rc;
}
#else
typedef int vlab_part_gpt_compiled_out; /* ISO C: no empty translation unit */
#endif
