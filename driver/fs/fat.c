/* SPDX-License-Identifier: MIT */
/*
 * FAT12, FAT16 and FAT32, read-only, with long file names (VFAT).
 * The type follows from the cluster count, as the FAT specification says.
 * Every cluster chain walk is bounded by the number of clusters of the
 * volume, so a cyclic chain ends in VLAB_FS_ECORRUPT, never a hang.
 */
#include "fs_priv.h"

#if VLAB_CFG_FS /* vlab/config.h */

#define FAT_DIRENT 32u
#define FAT_ATTR_DIR 0x10u
#define FAT_ATTR_VOLUME 0x08u
#define FAT_ATTR_LFN 0x0Fu
#define FAT_MAX_DIR_ENTRIES 65536u /* the specification's bound */
#define FAT_LFN_MAX 20u            /* LFN slots: 20 * 13 = 260 characters */
#define FAT_DIR_END 0x4000         /* dir_entry: the end-of-directory mark */

int vlab_fat_mount(struct vlab_fs *fs)
{
	struct vlab_fs_fat *f = &fs->u.fat;
	uint8_t b[512];
	uint32_t bps, spc, rsvd, nfats, root_ent, tot, fatsz, root_sec, meta;
	uint64_t data_sec;
	int rc;

	rc = vlab_fs_read_bytes(fs, 0, b, sizeof b);
	if (rc)
		return rc == VLAB_FS_ECORRUPT ? VLAB_FS_EUNKNOWN : rc;
	if (b[510] != 0x55 || b[511] != 0xAA || (b[0] != 0xEB && b[0] != 0xE9))
		return VLAB_FS_EUNKNOWN;
	bps = fs_le16(b + 0x0B);
	spc = b[0x0D];
	rsvd = fs_le16(b + 0x0E);
	nfats = b[0x10];
	root_ent = fs_le16(b + 0x11);
	tot = fs_le16(b + 0x13);
	if (tot == 0)
		tot = fs_le32(b + 0x20);
	fatsz = fs_le16(b + 0x16);
	if (fatsz == 0)
		fatsz = fs_le32(b + 0x24);
	if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || spc == 0 || (spc & (spc - 1)) ||
	    rsvd == 0 || nfats == 0 || fatsz == 0 || tot == 0)
		return VLAB_FS_EUNKNOWN;
	if (fatsz > (1u << 24) || (uint64_t)spc * bps > (1u << 20))
		return VLAB_FS_ECORRUPT;
	root_sec = (root_ent * FAT_DIRENT + bps - 1) / bps;
	meta = rsvd + nfats * fatsz + root_sec; /* < 2^16 + 255 * 2^24 + 2^11: fits */
	if ((uint64_t)meta >= tot)
		return VLAB_FS_ECORRUPT;
	/* A volume larger than its partition is not one we read: the chain
	 * walks are bounded by the cluster count, which rests on this. */
	if ((uint64_t)tot * bps > fs->part_blocks * fs->blk_size)
		return VLAB_FS_ECORRUPT;
	data_sec = tot - meta;
	f->sec_size = bps;
	f->clus_size = spc * bps;
	f->nclus = (uint32_t)(data_sec / spc);
	f->fat_off = (uint64_t)rsvd * bps;
	f->fat_bytes = fatsz * bps;
	f->root_off = (uint64_t)(rsvd + nfats * fatsz) * bps;
	f->root_entries = root_ent;
	f->data_off = (uint64_t)meta * bps;
	if (f->nclus < 4085u) {
		f->bits = 12;
	} else if (f->nclus < 65525u) {
		f->bits = 16;
	} else {
		f->bits = 32;
		f->root_clus = fs_le32(b + 0x2C) & 0x0FFFFFFFu;
		if (root_ent != 0 || f->root_clus < 2 || f->root_clus > f->nclus + 1)
			return VLAB_FS_ECORRUPT;
	}
	if (f->bits != 32 && root_ent == 0)
		return VLAB_FS_ECORRUPT;
	/* The FAT must hold an entry for every cluster. */
	if (((uint64_t)f->nclus + 2) * f->bits > (uint64_t)f->fat_bytes * 8)
		return VLAB_FS_ECORRUPT;
	{
		const uint8_t *ext = b + (f->bits == 32 ? 0x40 : 0x24);

		f->serial = ext[2] == 0x29 ? fs_le32(ext + 3) : 0;
		vlab_memcpy(f->label, ext + 7, 11);
		f->label[11] = '\0';
	}
	return 0;
}

void vlab_fat_root(struct vlab_fs *fs, struct vlab_fs_node *n)
{
	vlab_memset(n, 0, sizeof *n);
	n->type = VLAB_FS_DIR;
	n->root = true;
	n->ino = fs->u.fat.bits == 32 ? fs->u.fat.root_clus : 0;
}

static bool clus_ok(const struct vlab_fs_fat *f, uint32_t c)
{
	return c >= 2 && c <= f->nclus + 1;
}

/* The FAT entry of cluster c (valid) into *next: 0 and a valid cluster,
 * 1 at the end of the chain, or VLAB_FS_ECORRUPT (free, bad, reserved). */
static int fat_next(struct vlab_fs *fs, uint32_t c, uint32_t *next)
{
	const struct vlab_fs_fat *f = &fs->u.fat;
	uint8_t b[4] = {0};
	uint32_t v, eoc;
	int rc;

	if (f->bits == 12) {
		rc = vlab_fs_read_bytes(fs, f->fat_off + c + c / 2, b, 2);
		v = fs_le16(b);
		v = (c & 1) ? v >> 4 : v & 0xFFF;
		eoc = 0xFF8;
	} else if (f->bits == 16) {
		rc = vlab_fs_read_bytes(fs, f->fat_off + (uint64_t)c * 2, b, 2);
		v = fs_le16(b);
		eoc = 0xFFF8;
	} else {
		rc = vlab_fs_read_bytes(fs, f->fat_off + (uint64_t)c * 4, b, 4);
		v = fs_le32(b) & 0x0FFFFFFFu;
		eoc = 0x0FFFFFF8u;
	}
	if (rc)
		return rc;
	if (v >= eoc)
		return 1;
	if (!clus_ok(f, v))
		return VLAB_FS_ECORRUPT;
	*next = v;
	return 0;
}

static uint64_t clus_off(const struct vlab_fs_fat *f, uint32_t c)
{
	return f->data_off + (uint64_t)(c - 2) * f->clus_size;
}

/*
 * A file's chain has exactly as many clusters as its size needs: c is its
 * cluster number `at` (0-based); walk on to the last one and require the
 * end-of-chain mark there.  A chain that loops never ends and so fails
 * here, even when the part of the file read looked fine.
 */
static int fat_check_length(struct vlab_fs *fs, const struct vlab_fs_node *n, uint32_t c, uint64_t at)
{
	const struct vlab_fs_fat *f = &fs->u.fat;
	uint64_t last = (n->size + f->clus_size - 1) / f->clus_size - 1;
	int rc;

	if (last >= f->nclus)
		return VLAB_FS_ECORRUPT;
	for (; at < last; at++) {
		rc = fat_next(fs, c, &c);
		if (rc)
			return rc > 0 ? VLAB_FS_ECORRUPT : rc;
	}
	rc = fat_next(fs, c, &c);
	return rc == 1 ? 0 : rc == 0 ? VLAB_FS_ECORRUPT : rc;
}

int vlab_fat_read(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t pos, void *buf, uint64_t len)
{
	const struct vlab_fs_fat *f = &fs->u.fat;
	uint8_t *out = buf;
	uint32_t c = n->ino, steps = 0;
	uint64_t skip = pos / f->clus_size;
	uint32_t in = (uint32_t)(pos % f->clus_size);
	int rc;

	if (len == 0)
		return 0;
	if (!clus_ok(f, c))
		return VLAB_FS_ECORRUPT;
	/* A chain never has more links than the volume has clusters. */
	if (skip >= f->nclus)
		return VLAB_FS_ECORRUPT;
	for (; skip; skip--) {
		rc = fat_next(fs, c, &c);
		if (rc)
			return rc > 0 ? VLAB_FS_ECORRUPT : rc;
		steps++;
	}
	while (len) {
		/* A run of consecutive clusters is read at once. */
		uint32_t first = c, run = 1;
		uint64_t bytes, want;

		for (;;) {
			uint32_t nx;

			if ((uint64_t)run * f->clus_size - in >= len)
				break;
			if (++steps > f->nclus)
				return VLAB_FS_ECORRUPT; /* a cycle */
			rc = fat_next(fs, c, &nx);
			if (rc)
				return rc > 0 ? VLAB_FS_ECORRUPT : rc; /* chain shorter than the file */
			c = nx;
			if (nx != first + run)
				break;
			run++;
		}
		bytes = (uint64_t)run * f->clus_size - in;
		want = bytes < len ? bytes : len;
		rc = vlab_fs_read_bytes(fs, clus_off(f, first) + in, out, (size_t)want);
		if (rc)
			return rc;
		out += want;
		len -= want;
		in = 0;
		/* c is the next run's first cluster when the loop broke on a gap. */
	}
	return fat_check_length(fs, n, c, steps);
}

/* ---- directories ---- */

struct lfn {
	uint16_t u[FAT_LFN_MAX * 13 + 1];
	unsigned next;  /* the sequence number expected next; 0: none */
	uint8_t sum;
	bool valid;
};

static uint8_t short_sum(const uint8_t *e)
{
	uint8_t s = 0;

	for (unsigned i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + e[i]);
	return s;
}

static void lfn_slot(struct lfn *l, const uint8_t *e)
{
	static const uint8_t at[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
	unsigned ord = e[0] & 0x1F;

	if (e[0] & 0x40) {
		if (ord == 0 || ord > FAT_LFN_MAX) {
			l->next = 0;
			return;
		}
		vlab_memset(l->u, 0xFF, sizeof l->u); /* every unit 0xFFFF: the padding */
		l->u[ord * 13] = 0;
		l->sum = e[13];
		l->next = ord;
	} else if (l->next == 0 || ord != l->next || e[13] != l->sum) {
		l->next = 0;
		return;
	}
	for (unsigned i = 0; i < 13; i++)
		l->u[(ord - 1) * 13 + i] = fs_le16(e + at[i]);
	l->next = ord - 1; /* 0 after slot 1: complete */
	l->valid = ord == 1;
}

/* UTF-16 to UTF-8; an unpaired surrogate becomes '?'.  Returns the length. */
static size_t lfn_utf8(const struct lfn *l, char *out, size_t cap)
{
	size_t o = 0;

	for (unsigned i = 0; i < FAT_LFN_MAX * 13 && l->u[i] && l->u[i] != 0xFFFF; i++) {
		uint32_t cp = l->u[i];

		if (cp >= 0xD800 && cp < 0xDC00 && l->u[i + 1] >= 0xDC00 && l->u[i + 1] < 0xE000) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (l->u[i + 1] - 0xDC00);
			i++;
		} else if (cp >= 0xD800 && cp < 0xE000) {
			cp = '?';
		}
		if (o + 4 >= cap)
			break;
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	return o;
}

/* 8.3 name, trailing blanks dropped, lower case where the NT flags say. */
static size_t short_name(const uint8_t *e, char *out)
{
	size_t o = 0;
	int base = 8;

	while (base > 0 && e[base - 1] == ' ')
		base--;
	for (int i = 0; i < base; i++) {
		uint8_t ch = (i == 0 && e[0] == 0x05) ? 0xE5 : e[i];

		if (ch >= 0x80 || ch < 0x20)
			ch = '?';
		if ((e[12] & 0x08) && ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		out[o++] = (char)ch;
	}
	if (e[8] != ' ') {
		out[o++] = '.';
		for (int i = 8; i < 11 && e[i] != ' '; i++) {
			uint8_t ch = e[i] >= 0x80 || e[i] < 0x20 ? '?' : e[i];

			if ((e[12] & 0x10) && ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			out[o++] = (char)ch;
		}
	}
	return o;
}

/* One 32-byte entry: 0 go on, FAT_DIR_END, or what fn returned. */
static int dir_entry(struct vlab_fs *fs, const uint8_t *e, struct lfn *l, const struct fs_name *only, fs_entry_fn fn,
                     void *ctx)
{
	struct vlab_fs_node n;
	char name[FAT_LFN_MAX * 13 * 3 + 1];
	size_t len;
	uint32_t c;

	if (e[0] == 0)
		return FAT_DIR_END;
	if (e[0] == 0xE5) {
		l->next = 0;
		l->valid = false;
		return 0;
	}
	if ((e[11] & 0x3F) == FAT_ATTR_LFN) {
		l->valid = false;
		lfn_slot(l, e);
		return 0;
	}
	if (e[11] & FAT_ATTR_VOLUME) {
		l->next = 0;
		l->valid = false;
		return 0;
	}
	if (l->valid && l->sum == short_sum(e))
		len = lfn_utf8(l, name, sizeof name);
	else
		len = short_name(e, name);
	l->valid = false;
	l->next = 0;
	if (len == 0 || !vlab_fs_name_is(only, name, len))
		return 0;
	vlab_memset(&n, 0, sizeof n);
	c = fs_le16(e + 0x1A);
	if (fs->u.fat.bits == 32)
		c |= (uint32_t)fs_le16(e + 0x14) << 16;
	n.ino = c;
	if (e[11] & FAT_ATTR_DIR) {
		n.type = VLAB_FS_DIR;
		/* ".." of a directory in the root: 0 (or, FAT32, the root's). */
		if (c == 0 || (fs->u.fat.bits == 32 && c == fs->u.fat.root_clus))
			vlab_fat_root(fs, &n);
	} else {
		n.type = VLAB_FS_FILE;
		n.size = fs_le32(e + 0x1C);
	}
	return fn(ctx, name, len, &n);
}

int vlab_fat_iterate(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only, fs_entry_fn fn,
                     void *ctx)
{
	const struct vlab_fs_fat *f = &fs->u.fat;
	struct lfn l;
	uint8_t e[FAT_DIRENT];
	uint32_t c = dir->ino, steps = 0, entries = 0;
	int rc;

	l.next = 0;
	l.valid = false;
	if (f->bits != 32 && dir->ino == 0) {
		for (uint32_t i = 0; i < f->root_entries; i++) {
			rc = vlab_fs_read_bytes(fs, f->root_off + (uint64_t)i * FAT_DIRENT, e, sizeof e);
			if (rc)
				return rc;
			rc = dir_entry(fs, e, &l, only, fn, ctx);
			if (rc)
				return rc == FAT_DIR_END ? 0 : rc;
		}
		return 0;
	}
	if (!clus_ok(f, c))
		return VLAB_FS_ECORRUPT;
	for (;;) {
		for (uint32_t off = 0; off < f->clus_size; off += FAT_DIRENT) {
			if (++entries > FAT_MAX_DIR_ENTRIES)
				return VLAB_FS_ECORRUPT;
			rc = vlab_fs_read_bytes(fs, clus_off(f, c) + off, e, sizeof e);
			if (rc)
				return rc;
			rc = dir_entry(fs, e, &l, only, fn, ctx);
			if (rc)
				return rc == FAT_DIR_END ? 0 : rc;
		}
		if (++steps > f->nclus)
			return VLAB_FS_ECORRUPT;
		rc = fat_next(fs, c, &c);
		if (rc)
			return rc > 0 ? 0 : rc;
	}
}
#else
typedef int vlab_fs_fat_compiled_out; /* ISO C: no empty translation unit */
#endif
