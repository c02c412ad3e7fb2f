/* SPDX-License-Identifier: MIT */
/*
 * ext2, ext3 and ext4, read-only: block maps (direct and indirect blocks)
 * and extent trees, 64-bit block numbers, flex_bg (inode tables anywhere:
 * only the group descriptors say where), htree directories read as plain
 * ones (their index blocks look like empty entries), fast and slow
 * symlinks, inline data in i_block (files up to 60 bytes, directories
 * whose entries fit in it).
 * An extent tree's depth must fall by one at each level (at most 5), so a
 * node that points back up the tree is refused instead of looping.
 */
#include "fs_priv.h"

#if VLAB_CFG_FS /* vlab/config.h */

#define EXT_MAGIC 0xEF53u
#define EXT_ROOT_INO 2u
#define EXT_EXTENT_MAGIC 0xF30Au
#define EXT_EXTENT_MAX_DEPTH 5u
#define EXT_FL_EXTENTS 0x00080000u
#define EXT_FL_INLINE 0x10000000u
#define EXT_INCOMPAT_64BIT 0x0080u
/* compression, journal device, meta_bg, dirdata, encryption */
#define EXT_INCOMPAT_REFUSED (0x0001u | 0x0008u | 0x0010u | 0x1000u | 0x10000u)
#define EXT_RUN_MAX 1024u /* blocks merged into one read */

int vlab_ext_mount(struct vlab_fs *fs)
{
	struct vlab_fs_ext *x = &fs->u.ext;
	uint8_t sb[0x160];
	uint32_t log;
	uint64_t groups;
	int rc;

	rc = vlab_fs_read_bytes(fs, 1024, sb, sizeof sb);
	if (rc)
		return rc == VLAB_FS_ECORRUPT ? VLAB_FS_EUNKNOWN : rc;
	if (fs_le16(sb + 0x38) != EXT_MAGIC)
		return VLAB_FS_EUNKNOWN;
	log = fs_le32(sb + 0x18);
	if (log > 6)
		return VLAB_FS_ECORRUPT;
	x->block_size = 1024u << log;
	x->inodes = fs_le32(sb + 0x00);
	x->first_data_block = fs_le32(sb + 0x14);
	x->blocks_per_group = fs_le32(sb + 0x20);
	x->inodes_per_group = fs_le32(sb + 0x28);
	x->compat = fs_le32(sb + 0x5C);
	x->incompat = fs_le32(sb + 0x60);
	x->ro_compat = fs_le32(sb + 0x64);
	vlab_memcpy(x->uuid, sb + 0x68, 16);
	vlab_memcpy(x->label, sb + 0x78, 16);
	x->label[16] = '\0';
	x->blocks = fs_le32(sb + 0x04);
	if (x->incompat & EXT_INCOMPAT_64BIT)
		x->blocks |= (uint64_t)fs_le32(sb + 0x150) << 32;
	if (fs_le32(sb + 0x4C) == 0) {
		x->inode_size = 128;
	} else {
		x->inode_size = fs_le16(sb + 0x58);
		if (x->inode_size < 128 || x->inode_size > x->block_size ||
		    (x->inode_size & (x->inode_size - 1)))
			return VLAB_FS_ECORRUPT;
	}
	x->desc_size = 32;
	if (x->incompat & EXT_INCOMPAT_64BIT) {
		x->desc_size = fs_le16(sb + 0xFE);
		if (x->desc_size < 32 || x->desc_size > 1024 || (x->desc_size & (x->desc_size - 1)))
			return VLAB_FS_ECORRUPT;
	}
	if (x->incompat & EXT_INCOMPAT_REFUSED)
		return VLAB_FS_EUNSUPP;
	if (x->blocks == 0 || x->first_data_block >= x->blocks || x->blocks_per_group == 0 ||
	    x->inodes_per_group == 0 || x->blocks_per_group > x->block_size * 8 ||
	    x->inodes_per_group > x->block_size * 8 || x->inodes < EXT_ROOT_INO)
		return VLAB_FS_ECORRUPT;
	/* A filesystem larger than its partition is not one we read: every
	 * bound below (directory sizes, block numbers) rests on this. */
	if (x->blocks > fs->part_blocks * fs->blk_size / x->block_size)
		return VLAB_FS_ECORRUPT;
	groups = (x->blocks - x->first_data_block + x->blocks_per_group - 1) / x->blocks_per_group;
	if (groups == 0 || groups > UINT32_MAX || (uint64_t)x->inodes > groups * x->inodes_per_group)
		return VLAB_FS_ECORRUPT;
	x->ngroups = (uint32_t)groups;
	return 0;
}

static enum vlab_fs_ftype mode_type(uint16_t mode)
{
	switch (mode & 0xF000u) {
	case 0x4000u: return VLAB_FS_DIR;
	case 0x8000u: return VLAB_FS_FILE;
	case 0xA000u: return VLAB_FS_SYMLINK;
	default: return VLAB_FS_OTHER;
	}
}

static int ext_inode(struct vlab_fs *fs, uint32_t ino, struct vlab_fs_node *n)
{
	const struct vlab_fs_ext *x = &fs->u.ext;
	uint8_t d[64] = {0}, in[0x70];
	uint32_t g, idx;
	uint64_t table, off;
	int rc;

	if (ino == 0 || ino > x->inodes)
		return VLAB_FS_ECORRUPT;
	g = (ino - 1) / x->inodes_per_group;
	idx = (ino - 1) % x->inodes_per_group;
	if (g >= x->ngroups)
		return VLAB_FS_ECORRUPT;
	off = ((uint64_t)x->first_data_block + 1) * x->block_size + (uint64_t)g * x->desc_size;
	rc = vlab_fs_read_bytes(fs, off, d, x->desc_size < sizeof d ? x->desc_size : sizeof d);
	if (rc)
		return rc;
	table = fs_le32(d + 0x08);
	if ((x->incompat & EXT_INCOMPAT_64BIT) && x->desc_size >= 64)
		table |= (uint64_t)fs_le32(d + 0x28) << 32;
	if (table == 0 || table >= x->blocks)
		return VLAB_FS_ECORRUPT;
	rc = vlab_fs_read_bytes(fs, table * x->block_size + (uint64_t)idx * x->inode_size, in, sizeof in);
	if (rc)
		return rc;
	vlab_memset(n, 0, sizeof *n);
	n->ino = ino;
	n->mode = fs_le16(in + 0x00);
	n->type = mode_type(n->mode);
	n->size = fs_le32(in + 0x04) | ((uint64_t)fs_le32(in + 0x6C) << 32);
	n->flags = fs_le32(in + 0x20);
	n->root = ino == EXT_ROOT_INO;
	vlab_memcpy(n->iblock, in + 0x28, sizeof n->iblock);
	return 0;
}

int vlab_ext_root(struct vlab_fs *fs, struct vlab_fs_node *n)
{
	int rc = ext_inode(fs, EXT_ROOT_INO, n);

	if (rc == 0 && n->type != VLAB_FS_DIR)
		return VLAB_FS_ECORRUPT;
	return rc;
}

/* ---- block mapping ---- */

struct ext_map {
	uint64_t pblk;  /* 0: a hole (or unwritten extent): zeros */
	uint64_t run;   /* blocks from lblk on that continue it */
};

/* A node of an extent tree: 12-byte entry i (i == -1: the header). */
static int ext_node_entry(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t blk, int i, uint8_t e[12])
{
	uint64_t at = 12 + 12 * (int64_t)i;

	if (blk == 0) {
		vlab_memcpy(e, n->iblock + at, 12);
		return 0;
	}
	return vlab_fs_read_bytes(fs, blk * fs->u.ext.block_size + at, e, 12);
}

static int ext_map_extents(struct vlab_fs *fs, const struct vlab_fs_node *n, uint32_t lblk, struct ext_map *m)
{
	const struct vlab_fs_ext *x = &fs->u.ext;
	uint64_t blk = 0; /* 0: the root in i_block */
	unsigned want_depth = 0;

	for (unsigned level = 0; level <= EXT_EXTENT_MAX_DEPTH; level++) {
		uint8_t h[12], e[12];
		unsigned entries, max, depth, cap;
		int lo, hi, rc;

		rc = ext_node_entry(fs, n, blk, -1, h);
		if (rc)
			return rc;
		entries = fs_le16(h + 2);
		max = fs_le16(h + 4);
		depth = fs_le16(h + 6);
		cap = blk == 0 ? 4 : (x->block_size - 12) / 12;
		if (fs_le16(h) != EXT_EXTENT_MAGIC || entries > max || max > cap ||
		    depth > EXT_EXTENT_MAX_DEPTH || (level > 0 && depth != want_depth))
			return VLAB_FS_ECORRUPT;
		if (entries == 0) {
			m->pblk = 0;
			m->run = 1;
			return 0;
		}
		/* The last entry whose first block is <= lblk (binary search:
		 * terminates whatever order a hostile node has). */
		lo = -1;
		hi = (int)entries - 1;
		while (lo < hi) {
			int mid = lo + (hi - lo + 1) / 2;

			rc = ext_node_entry(fs, n, blk, mid, e);
			if (rc)
				return rc;
			if (fs_le32(e) <= lblk)
				lo = mid;
			else
				hi = mid - 1;
		}
		if (depth > 0) {
			uint64_t child;

			if (lo < 0)
				return VLAB_FS_ECORRUPT; /* an index must cover from its first block */
			rc = ext_node_entry(fs, n, blk, lo, e);
			if (rc)
				return rc;
			child = fs_le32(e + 4) | ((uint64_t)fs_le16(e + 8) << 32);
			if (child == 0 || child >= x->blocks)
				return VLAB_FS_ECORRUPT;
			blk = child;
			want_depth = depth - 1;
			continue;
		}
		if (lo >= 0) {
			uint32_t first, len;
			uint64_t start;
			bool unwritten;

			rc = ext_node_entry(fs, n, blk, lo, e);
			if (rc)
				return rc;
			first = fs_le32(e);
			len = fs_le16(e + 4);
			unwritten = len > 32768u;
			if (unwritten)
				len -= 32768u;
			start = ((uint64_t)fs_le16(e + 6) << 32) | fs_le32(e + 8);
			if ((uint64_t)lblk < (uint64_t)first + len) {
				if (start == 0 || start >= x->blocks || len > x->blocks - start)
					return VLAB_FS_ECORRUPT;
				m->pblk = unwritten ? 0 : start + (lblk - first);
				m->run = (uint64_t)first + len - lblk;
				return 0;
			}
		}
		/* A hole up to the next extent (or the end of the file). */
		m->pblk = 0;
		m->run = UINT32_MAX;
		if (lo + 1 < (int)entries) {
			rc = ext_node_entry(fs, n, blk, lo + 1, e);
			if (rc)
				return rc;
			if (fs_le32(e) > lblk)
				m->run = fs_le32(e) - lblk;
			else
				m->run = 1;
		}
		return 0;
	}
	return VLAB_FS_ECORRUPT;
}

/* Block maps: 12 direct blocks, then single, double, triple indirect. */
static int ext_map_indirect(struct vlab_fs *fs, const struct vlab_fs_node *n, uint32_t lblk, struct ext_map *m)
{
	const struct vlab_fs_ext *x = &fs->u.ext;
	const uint64_t per = x->block_size / 4;
	uint64_t l = lblk, span = 1, ptr;
	unsigned level, slot;

	m->run = 1;
	if (l < 12) {
		ptr = fs_le32(n->iblock + 4 * l);
		level = 0;
	} else {
		l -= 12;
		for (level = 1; level <= 3; level++) {
			span *= per;
			if (l < span)
				break;
			l -= span;
		}
		if (level > 3)
			return VLAB_FS_ECORRUPT;
		slot = 11 + level;
		ptr = fs_le32(n->iblock + 4 * slot);
		/* Down the levels: a fixed number of reads, no loop to fear. */
		for (unsigned d = level; d > 0; d--) {
			uint8_t b[4];
			int rc;

			span /= per;
			if (ptr == 0)
				break;
			if (ptr >= x->blocks)
				return VLAB_FS_ECORRUPT;
			rc = vlab_fs_read_bytes(fs, ptr * x->block_size + 4 * (l / span), b, 4);
			if (rc)
				return rc;
			l %= span;
			ptr = fs_le32(b);
		}
	}
	if (ptr >= x->blocks)
		return VLAB_FS_ECORRUPT;
	m->pblk = ptr;
	return 0;
}

static int ext_map(struct vlab_fs *fs, const struct vlab_fs_node *n, uint32_t lblk, struct ext_map *m)
{
	if (n->flags & EXT_FL_EXTENTS)
		return ext_map_extents(fs, n, lblk, m);
	return ext_map_indirect(fs, n, lblk, m);
}

static bool fast_symlink(const struct vlab_fs_node *n)
{
	return n->type == VLAB_FS_SYMLINK && !(n->flags & EXT_FL_EXTENTS) && n->size < sizeof n->iblock;
}

int vlab_ext_read(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t pos, void *buf, uint64_t len)
{
	const uint32_t bs = fs->u.ext.block_size;
	uint8_t *out = buf;

	if (len == 0)
		return 0;
	if (fast_symlink(n) || (n->flags & EXT_FL_INLINE)) {
		/* In i_block itself (inline data beyond 60 bytes is in an
		 * extended attribute, which this reader does not follow). */
		if (pos + len > sizeof n->iblock)
			return VLAB_FS_EUNSUPP;
		vlab_memcpy(out, n->iblock + pos, (size_t)len);
		return 0;
	}
	while (len) {
		uint64_t lblk = pos / bs, nblk, bytes;
		uint32_t in = (uint32_t)(pos % bs);
		struct ext_map m;
		int rc;

		if (lblk > UINT32_MAX)
			return VLAB_FS_ECORRUPT;
		rc = ext_map(fs, n, (uint32_t)lblk, &m);
		if (rc)
			return rc;
		/* Extend a block-map run while the next block follows on disk. */
		while (m.pblk && m.run < EXT_RUN_MAX && (uint64_t)m.run * bs - in < len &&
		       !(n->flags & EXT_FL_EXTENTS) && lblk + m.run <= UINT32_MAX) {
			struct ext_map nx;

			rc = ext_map(fs, n, (uint32_t)(lblk + m.run), &nx);
			if (rc)
				return rc;
			if (nx.pblk != m.pblk + m.run)
				break;
			m.run++;
		}
		nblk = m.run < EXT_RUN_MAX ? m.run : EXT_RUN_MAX;
		bytes = nblk * bs - in;
		if (bytes > len)
			bytes = len;
		if (m.pblk)
			rc = vlab_fs_read_bytes(fs, m.pblk * bs + in, out, (size_t)bytes);
		else
			vlab_memset(out, 0, (size_t)bytes);
		if (rc)
			return rc;
		out += bytes;
		pos += bytes;
		len -= bytes;
	}
	return 0;
}

/* ---- directories ---- */

/* Bytes of a directory block: on disk at byte `at` of the partition, or
 * (at == 0) in the inode's i_block after the inline parent number. */
static int dir_bytes(struct vlab_fs *fs, const struct vlab_fs_node *dir, uint64_t at, uint32_t off, void *dst,
                     size_t len)
{
	if (at)
		return vlab_fs_read_bytes(fs, at + off, dst, len);
	vlab_memcpy(dst, dir->iblock + 4 + off, len); /* off + len <= 56: checked by the caller */
	return 0;
}

/* The entries of one block of size bs (at: as dir_bytes). */
static int dir_block(struct vlab_fs *fs, const struct vlab_fs_node *dir, uint64_t at, uint32_t bs,
                     const struct fs_name *only, fs_entry_fn fn, void *ctx)
{
	/* Every entry moves off forward by at least 8 bytes. */
	for (uint32_t off = 0; off + 8 <= bs;) {
		uint8_t h[8];
		char name[VLAB_FS_NAME_MAX + 1];
		struct vlab_fs_node child;
		uint32_t ino;
		uint16_t rec;
		uint8_t nlen;
		int rc = dir_bytes(fs, dir, at, off, h, sizeof h);

		if (rc)
			return rc;
		ino = fs_le32(h);
		rec = fs_le16(h + 4);
		nlen = h[6];
		if (rec < 8 || rec % 4 || rec > bs - off || (uint32_t)nlen + 8 > rec)
			return VLAB_FS_ECORRUPT;
		if (ino != 0 && nlen != 0) {
			rc = dir_bytes(fs, dir, at, off + 8, name, nlen);
			if (rc)
				return rc;
			if (vlab_fs_name_is(only, name, nlen)) {
				rc = ext_inode(fs, ino, &child);
				if (rc)
					return rc;
				rc = fn(ctx, name, nlen, &child);
				if (rc)
					return rc;
			}
		}
		off += rec;
	}
	return 0;
}

/* An inline directory: the parent's number, then entries in the rest of
 * i_block ("." and ".." are not stored: made here, as Linux does). The
 * entries beyond i_block, in an extended attribute, are not read. */
static int dir_inline(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only, fs_entry_fn fn,
                      void *ctx)
{
	struct vlab_fs_node n;
	int rc;

	if (vlab_fs_name_is(only, ".", 1)) {
		rc = fn(ctx, ".", 1, dir);
		if (rc)
			return rc;
	}
	if (vlab_fs_name_is(only, "..", 2)) {
		rc = ext_inode(fs, fs_le32(dir->iblock), &n);
		if (rc)
			return rc;
		rc = fn(ctx, "..", 2, &n);
		if (rc)
			return rc;
	}
	return dir_block(fs, dir, 0, sizeof dir->iblock - 4, only, fn, ctx);
}

int vlab_ext_iterate(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only, fs_entry_fn fn,
                     void *ctx)
{
	const struct vlab_fs_ext *x = &fs->u.ext;
	const uint32_t bs = x->block_size;
	uint64_t nblocks = dir->size / bs;

	if (dir->flags & EXT_FL_INLINE)
		return dir_inline(fs, dir, only, fn, ctx);
	if (dir->size % bs || nblocks > x->blocks || nblocks > UINT32_MAX)
		return VLAB_FS_ECORRUPT;
	for (uint64_t b = 0; b < nblocks; b++) {
		struct ext_map m;
		int rc = ext_map(fs, dir, (uint32_t)b, &m);

		if (rc)
			return rc;
		if (m.pblk == 0)
			continue; /* a hole: no entries */
		rc = dir_block(fs, dir, m.pblk * bs, bs, only, fn, ctx);
		if (rc)
			return rc;
	}
	return 0;
}
#else
typedef int vlab_fs_ext_compiled_out; /* ISO C: no empty translation unit */
#endif
