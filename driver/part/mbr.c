/* SPDX-License-Identifier: MIT */
/*
 * MBR (DOS) partition tables with extended partitions.
 *
 * Numbering as Linux and sfdisk do: primaries 1-4 by slot (empty slots
 * keep their number unused), logicals from 5 in EBR-chain order.
 *
 * The EBR chain is hostile input.  Each EBR must lie inside its extended
 * partition, each logical inside the extended partition, and no EBR is
 * visited twice; at most VLAB_PART_MAX_EBR EBRs are followed.  A chain that
 * breaks one of these rules ends there: the partitions found so far are
 * kept, t->truncated is set and the scan still succeeds (a bootloader is
 * better served by the valid part of a damaged table than by nothing).
 */
#include "part_priv.h"

#if VLAB_CFG_PART /* vlab/config.h */

#define MBR_TABLE_OFF 446u
#define MBR_SIG_OFF 510u
#define MBR_DISK_SIG_OFF 440u

struct mbr_entry {
	uint8_t boot;
	uint8_t type;
	uint32_t start; /* LBA (relative for EBR entries) */
	uint32_t size;
};

static void mbr_entry(const uint8_t *sec, unsigned i, struct mbr_entry *e)
{
	const uint8_t *p = sec + MBR_TABLE_OFF + 16u * i;
	e->boot = p[0];
	e->type = p[4];
	e->start = part_le32(p + 8);
	e->size = part_le32(p + 12);
}

static bool mbr_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static bool has_signature(const uint8_t *sec)
{
	return sec[MBR_SIG_OFF] == 0x55 && sec[MBR_SIG_OFF + 1] == 0xAA;
}

bool vlab_part_mbr_is_protective(const uint8_t *sec)
{
	for (unsigned i = 0; i < 4; i++) {
		struct mbr_entry e;
		mbr_entry(sec, i, &e);
		if (e.type == 0xee)
			return true;
	}
	return false;
}

/* [start, start+size) is non-empty and lies inside [lo, hi). */
static bool range_inside(uint64_t start, uint64_t size, uint64_t lo, uint64_t hi)
{
	return size != 0 && start >= lo && start < hi && size <= hi - start;
}

static void mbr_record(struct vlab_part_table *t, unsigned number, const struct mbr_entry *e,
                       uint64_t abs_start)
{
	struct vlab_part *p = vlab_part_add_entry(t, number);
	if (!p)
		return;
	p->start_lba = abs_start;
	p->nsectors = e->size;
	p->mbr_type = e->type;
	p->bootable = e->boot == 0x80;
}

static int mbr_walk_ebr(struct vlab_part_table *t, struct part_io *io, uint64_t ext_start,
                        uint64_t ext_size, unsigned *next_number)
{
	uint64_t ext_end = ext_start + ext_size; /* <= total, checked by the caller */
	uint64_t visited[VLAB_PART_MAX_EBR];
	unsigned nvisited = 0;
	uint64_t cur = ext_start;

	for (;;) {
		/* Initialised only because gcc -O2 cannot see that the
		 * have_* flags guard every use. */
		struct mbr_entry e, data = {0}, link = {0};
		bool have_data = false, have_link = false;
		int rc;

		if (nvisited >= VLAB_PART_MAX_EBR) {
			t->truncated = true;
			return 0;
		}
		for (unsigned i = 0; i < nvisited; i++) {
			if (visited[i] == cur) { /* a loop in the chain */
				t->truncated = true;
				return 0;
			}
		}
		visited[nvisited++] = cur;

		rc = vlab_part_io_read(io, cur, 1, io->sec);
		if (rc)
			return rc;
		if (!has_signature(io->sec)) {
			/* An empty extended partition has no valid first EBR;
			 * a link to a non-EBR is damage. */
			if (nvisited > 1)
				t->truncated = true;
			return 0;
		}
		/* As libfdisk: the first data entry and the first link entry. */
		for (unsigned i = 0; i < 4; i++) {
			mbr_entry(io->sec, i, &e);
			if (e.type == 0 || e.size == 0)
				continue;
			if (mbr_is_extended(e.type)) {
				if (!have_link) {
					link = e;
					have_link = true;
				}
			} else if (!have_data) {
				data = e;
				have_data = true;
			}
		}
		if (have_data) {
			unsigned number = (*next_number)++;
			/* The logical starts after its EBR and ends inside the
			 * extended partition (hence inside the disk). */
			if (data.start != 0 && data.start < ext_end - cur &&
			    data.size <= ext_end - cur - data.start)
				mbr_record(t, number, &data, cur + data.start);
			else
				t->skipped++;
		}
		if (!have_link)
			return 0; /* end of the chain */
		/* Links are relative to the extended partition's start. */
		if (link.start == 0 || link.start >= ext_size) {
			t->truncated = true;
			return 0;
		}
		cur = ext_start + link.start;
	}
}

int vlab_part_mbr_scan(struct vlab_part_table *t, struct part_io *io)
{
	struct mbr_entry pri[4];
	unsigned next_logical = 5;

	for (unsigned i = 0; i < 4; i++) {
		mbr_entry(io->sec, i, &pri[i]);
		/* A boot flag other than 0x00/0x80 means this sector is not a
		 * partition table (a FAT boot sector also ends in 55 AA). */
		if (pri[i].boot != 0x00 && pri[i].boot != 0x80)
			return 0;
	}
	t->scheme = VLAB_PART_MBR;
	t->disk_signature = part_le32(io->sec + MBR_DISK_SIG_OFF);

	for (unsigned i = 0; i < 4; i++) {
		if (pri[i].type == 0 || pri[i].size == 0)
			continue; /* empty slot: its number stays unused */
		if (!range_inside(pri[i].start, pri[i].size, 1, io->total)) {
			t->skipped++;
			continue;
		}
		mbr_record(t, i + 1, &pri[i], pri[i].start);
	}
	for (unsigned i = 0; i < 4; i++) {
		int rc;
		if (!mbr_is_extended(pri[i].type) || !range_inside(pri[i].start, pri[i].size, 1, io->total))
			continue;
		rc = mbr_walk_ebr(t, io, pri[i].start, pri[i].size, &next_logical);
		if (rc)
			return rc;
	}
	return 0;
}
#else
typedef int vlab_part_mbr_compiled_out; /* ISO C: no empty translation unit */
#endif
