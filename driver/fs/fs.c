/* SPDX-License-Identifier: MIT */
/*
 * Filesystem entry points: mount (detect FAT, then ext), the bounded
 * partition reader with its block cache, and the path walker shared
 * by both filesystems (symbolic links followed at most VLAB_FS_SYMLINK_MAX
 * times per lookup).
 */
#include "fs_priv.h"

#if VLAB_CFG_FS /* vlab/config.h */

/* Slot k was used now (the clock's wrap forgets every block rather than
 * misorder them: the slot stays, the others empty). */
static void cache_touch(struct vlab_fs *fs, unsigned k)
{
	if (fs->cache_clock == UINT32_MAX) {
		vlab_memset(fs->cache_used, 0, sizeof fs->cache_used);
		fs->cache_clock = 0;
	}
	fs->cache_used[k] = ++fs->cache_clock;
	fs->cache_last = k;
}

/* The cached copy of partition block lba (lba < part_blocks), read into
 * the slot used least recently when no slot holds it; NULL and *rc when
 * the read fails. */
static const uint8_t *cache_block(struct vlab_fs *fs, uint64_t lba, int *rc)
{
	unsigned victim = 0;
	int r;

	for (unsigned k = 0; k < VLAB_FS_CACHE_BLOCKS; k++) {
		if (fs->cache_used[k] && fs->cache_lba[k] == lba) {
			cache_touch(fs, k);
			return fs->cache[k];
		}
		if (fs->cache_used[k] < fs->cache_used[victim])
			victim = k;
	}
	fs->cache_used[victim] = 0; /* a failed read leaves the slot empty */
	r = fs->read(fs->ctx, fs->part_start + lba, 1, fs->cache[victim]);
	if (r) {
		*rc = r > 0 ? VLAB_EIO : r;
		return NULL;
	}
	fs->cache_lba[victim] = lba;
	cache_touch(fs, victim);
	return fs->cache[victim];
}

int vlab_fs_read_bytes(struct vlab_fs *fs, uint64_t off, void *dst, size_t len)
{
	const uint32_t bs = fs->blk_size;
	const uint64_t total = fs->part_blocks * bs;
	uint8_t *out = dst;
	unsigned k = fs->cache_last;

	if (len == 0)
		return 0;
	/* Most reads are a few bytes of the block read last: no more to do
	 * (a cached block lies inside the partition, so the range does). */
	if (fs->cache_used[k] && off / bs == fs->cache_lba[k] && len <= bs - off % bs) {
		vlab_memcpy(out, fs->cache[k] + off % bs, len);
		return 0;
	}
	if (off >= total || len > total - off)
		return VLAB_FS_ECORRUPT;
	while (len) {
		uint64_t lba = off / bs;
		uint32_t in = (uint32_t)(off % bs);
		const uint8_t *blk;
		size_t n;
		int rc;

		if (in == 0 && len >= bs) {
			/* Whole blocks straight into the caller's buffer. */
			uint64_t nb = len / bs;

			if (nb > 65536u)
				nb = 65536u;
			rc = fs->read(fs->ctx, fs->part_start + lba, (uint32_t)nb, out);
			if (rc)
				return rc > 0 ? VLAB_EIO : rc;
			out += nb * bs;
			off += nb * bs;
			len -= (size_t)(nb * bs);
			continue;
		}
		blk = cache_block(fs, lba, &rc);
		if (!blk)
			return rc;
		n = bs - in < len ? bs - in : len;
		vlab_memcpy(out, blk + in, n);
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}

int vlab_fs_mount(struct vlab_fs *fs, uint32_t blk_size, uint64_t start, uint64_t nblocks,
                  vlab_part_read_fn read, void *ctx)
{
	int rc;

	if (!fs)
		return VLAB_EINVAL;
	vlab_memset(fs, 0, sizeof *fs);
	if (!read || blk_size < 512 || blk_size > VLAB_FS_MAX_BLOCK || (blk_size & (blk_size - 1)))
		return VLAB_EINVAL;
	if (nblocks == 0 || nblocks > (UINT64_MAX / blk_size) || start > UINT64_MAX - nblocks)
		return VLAB_EINVAL;
	fs->read = read;
	fs->ctx = ctx;
	fs->blk_size = blk_size;
	fs->part_start = start;
	fs->part_blocks = nblocks;
	rc = vlab_fat_mount(fs);
	if (rc == 0) {
		fs->type = VLAB_FS_FAT;
		return 0;
	}
	if (rc != VLAB_FS_EUNKNOWN)
		return rc;
	rc = vlab_ext_mount(fs);
	if (rc == 0)
		fs->type = VLAB_FS_EXT;
	return rc;
}

const char *vlab_fs_type_name(const struct vlab_fs *fs)
{
	if (fs && fs->type == VLAB_FS_FAT)
		return "fat";
	if (fs && fs->type == VLAB_FS_EXT)
		return "ext4";
	return "unknown";
}

void vlab_fs_forget(struct vlab_fs *fs)
{
	if (!fs)
		return;
	vlab_memset(fs->cache_used, 0, sizeof fs->cache_used);
	fs->cache_clock = 0;
	vlab_memset(fs->lookup, 0, sizeof fs->lookup);
	fs->lookup_clock = 0;
}

static int node_root(struct vlab_fs *fs, struct vlab_fs_node *n)
{
	if (fs->type == VLAB_FS_FAT) {
		vlab_fat_root(fs, n);
		return 0;
	}
	if (fs->type == VLAB_FS_EXT)
		return vlab_ext_root(fs, n);
	return VLAB_EINVAL;
}

static int node_iterate(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only,
                        fs_entry_fn fn, void *ctx)
{
	if (dir->type != VLAB_FS_DIR)
		return VLAB_FS_ENOTDIR;
	if (fs->type == VLAB_FS_FAT)
		return vlab_fat_iterate(fs, dir, only, fn, ctx);
	return vlab_ext_iterate(fs, dir, only, fn, ctx);
}

static int node_read(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t pos, void *buf, uint64_t len)
{
	if (fs->type == VLAB_FS_FAT)
		return vlab_fat_read(fs, n, pos, buf, len);
	return vlab_ext_read(fs, n, pos, buf, len);
}

/* ---- lookup ---- */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool vlab_fs_name_is(const struct fs_name *want, const char *name, size_t len)
{
	if (!want)
		return true;
	if (len != want->len)
		return false;
	if (!want->fold)
		return !vlab_memcmp(name, want->name, len);
	for (size_t i = 0; i < len; i++) {
		if (lower(name[i]) != lower(want->name[i]))
			return false;
	}
	return true;
}

/* The iteration of a lookup calls it for the entry of the name wanted only. */
static int find_cb(void *ctx, const char *name, size_t len, const struct vlab_fs_node *n)
{
	(void)name;
	(void)len;
	*(struct vlab_fs_node *)ctx = *n;
	return 1;
}

/* The target of symlink n into out (NUL-terminated). */
static int read_link(struct vlab_fs *fs, const struct vlab_fs_node *n, char *out)
{
	int rc;

	if (n->size == 0)
		return VLAB_FS_ECORRUPT;
	if (n->size > VLAB_FS_PATH_MAX)
		return VLAB_FS_ENAMETOOLONG;
	rc = node_read(fs, n, 0, out, n->size);
	if (rc)
		return rc;
	out[n->size] = '\0';
	if (vlab_strlen(out) != n->size)
		return VLAB_FS_ECORRUPT; /* a NUL inside the target */
	return 0;
}

/* ---- remembered lookups (vlab/fs.h, struct vlab_fs_lookup) ---- */

/* The longest remembered prefix of p[0..plen) that ends where a component
 * does; NULL when none is. */
static struct vlab_fs_lookup *lookup_find(struct vlab_fs *fs, const char *p, size_t plen)
{
	struct vlab_fs_lookup *best = NULL;

	for (unsigned k = 0; k < VLAB_FS_LOOKUP_SLOTS; k++) {
		struct vlab_fs_lookup *e = &fs->lookup[k];

		if (!e->used || e->len > plen || (best && e->len <= best->len))
			continue;
		if ((p[e->len] == '/' || p[e->len] == '\0') && !vlab_memcmp(e->path, p, e->len))
			best = e;
	}
	if (best)
		best->used = ++fs->lookup_clock;
	return best;
}

/* Remember that p[0..len) led to n (never a symbolic link), in place of the
 * entry used least recently. */
static void lookup_put(struct vlab_fs *fs, const char *p, size_t len, const struct vlab_fs_node *n)
{
	struct vlab_fs_lookup *victim = &fs->lookup[0];

	if (len == 0 || len > VLAB_FS_LOOKUP_PATH || n->type == VLAB_FS_SYMLINK)
		return;
	for (unsigned k = 0; k < VLAB_FS_LOOKUP_SLOTS; k++) {
		struct vlab_fs_lookup *e = &fs->lookup[k];

		if (e->used && e->len == len && !vlab_memcmp(e->path, p, len))
			return; /* known already (a lookup started after it) */
		if (e->used < victim->used)
			victim = e;
	}
	if (fs->lookup_clock == UINT32_MAX) {
		/* The clock wraps: forget everything rather than misorder. */
		vlab_memset(fs->lookup, 0, sizeof fs->lookup);
		fs->lookup_clock = 0;
		victim = &fs->lookup[0];
	}
	victim->node = *n;
	victim->len = (uint16_t)len;
	vlab_memcpy(victim->path, p, len);
	victim->used = ++fs->lookup_clock;
}

/*
 * Walk path from the root, or from the longest prefix of it a lookup
 * remembers, into *n.  follow: a symlink as the last component
 * is followed too.  The path is copied into fs->path[0]; a symlink's target
 * followed by the rest of the path replaces it.
 */
static int resolve(struct vlab_fs *fs, const char *path, bool follow, struct vlab_fs_node *n)
{
	char *p = fs->path[0];
	unsigned links = 0;
	size_t i = 0, plen;
	int rc;

	if (!path)
		return VLAB_EINVAL;
	plen = vlab_strlen(path);
	if (plen > VLAB_FS_PATH_MAX)
		return VLAB_FS_ENAMETOOLONG;
	vlab_memcpy(p, path, plen + 1);
	{
		const struct vlab_fs_lookup *known = lookup_find(fs, p, plen);

		if (known) {
			*n = known->node;
			i = known->len;
		} else {
			rc = node_root(fs, n);
			if (rc)
				return rc;
		}
	}
	/* Each turn consumes a component or replaces the path after a link,
	 * which happens at most VLAB_FS_SYMLINK_MAX times. */
	for (;;) {
		struct vlab_fs_node child;
		struct fs_name want;
		size_t start, len;

		while (p[i] == '/')
			i++;
		if (!p[i])
			return 0;
		start = i;
		while (p[i] && p[i] != '/')
			i++;
		len = i - start;
		if (n->type != VLAB_FS_DIR)
			return VLAB_FS_ENOTDIR;
		if (len == 1 && p[start] == '.')
			continue;
		if (len > VLAB_FS_NAME_MAX)
			return VLAB_FS_ENAMETOOLONG;
		if (len == 2 && p[start] == '.' && p[start + 1] == '.' && n->root)
			continue; /* the root's parent is the root (FAT's has no "..") */
		want.name = p + start;
		want.len = len;
		want.fold = fs->type == VLAB_FS_FAT;
		rc = node_iterate(fs, n, &want, find_cb, &child);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return VLAB_FS_ENOENT;
		if (child.type == VLAB_FS_SYMLINK) {
			size_t rest, tl;
			char *t = fs->path[1];

			while (p[i] == '/')
				i++;
			if (!p[i] && !follow) {
				*n = child;
				return 0;
			}
			if (++links > VLAB_FS_SYMLINK_MAX)
				return VLAB_FS_ELOOP;
			rc = read_link(fs, &child, t);
			if (rc)
				return rc;
			tl = vlab_strlen(t);
			rest = vlab_strlen(p + i);
			if (tl + 1 + rest > VLAB_FS_PATH_MAX)
				return VLAB_FS_ENAMETOOLONG;
			t[tl] = '/';
			vlab_memcpy(t + tl + 1, p + i, rest + 1);
			vlab_memcpy(p, t, tl + 1 + rest + 1);
			i = 0;
			if (p[0] == '/') {
				rc = node_root(fs, n);
				if (rc)
					return rc;
			}
			continue; /* relative: from the link's directory, n */
		}
		*n = child;
		if (links == 0)
			lookup_put(fs, p, i, n); /* p is still the path as given */
	}
}

static void to_stat(const struct vlab_fs_node *n, struct vlab_fs_stat *st)
{
	st->type = n->type;
	st->size = n->size;
	st->ino = n->ino;
	st->mode = n->mode;
	st->inline_data = (n->flags & 0x10000000u) != 0;
}

int vlab_fs_stat(struct vlab_fs *fs, const char *path, struct vlab_fs_stat *st)
{
	struct vlab_fs_node n;
	int rc;

	if (!fs || !st || fs->type == VLAB_FS_NONE)
		return VLAB_EINVAL;
	rc = resolve(fs, path, true, &n);
	if (rc)
		return rc;
	to_stat(&n, st);
	return 0;
}

struct list_ctx {
	vlab_fs_dir_fn fn;
	void *ctx;
	struct vlab_fs_dirent e;
};

static int list_cb(void *ctx, const char *name, size_t len, const struct vlab_fs_node *n)
{
	struct list_ctx *l = ctx;

	if (len >= sizeof l->e.name)
		len = sizeof l->e.name - 1;
	vlab_memcpy(l->e.name, name, len);
	l->e.name[len] = '\0';
	to_stat(n, &l->e.st);
	return l->fn(l->ctx, &l->e);
}

int vlab_fs_list(struct vlab_fs *fs, const char *path, vlab_fs_dir_fn fn, void *ctx)
{
	struct list_ctx l;
	struct vlab_fs_node n;
	int rc;

	if (!fs || !fn || fs->type == VLAB_FS_NONE)
		return VLAB_EINVAL;
	rc = resolve(fs, path, true, &n);
	if (rc)
		return rc;
	l.fn = fn;
	l.ctx = ctx;
	rc = node_iterate(fs, &n, NULL, list_cb, &l);
	return rc > 0 ? 0 : rc;
}

int vlab_fs_read(struct vlab_fs *fs, const char *path, uint64_t pos, void *buf, uint64_t len,
                 uint64_t *got)
{
	struct vlab_fs_node n;
	int rc;

	if (got)
		*got = 0;
	if (!fs || (!buf && len) || fs->type == VLAB_FS_NONE)
		return VLAB_EINVAL;
	rc = resolve(fs, path, true, &n);
	if (rc)
		return rc;
	if (n.type == VLAB_FS_DIR)
		return VLAB_FS_EISDIR;
	if (n.type != VLAB_FS_FILE)
		return VLAB_FS_EUNSUPP;
	if (pos > n.size)
		return VLAB_FS_ERANGE;
	if (len > n.size - pos)
		len = n.size - pos;
	rc = node_read(fs, &n, pos, buf, len);
	if (rc)
		return rc;
	if (got)
		*got = len;
	return 0;
}

void vlab_fs_uuid(const struct vlab_fs *fs, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned o = 0;

	out[0] = '\0';
	if (!fs)
		return;
	if (fs->type == VLAB_FS_FAT) {
		static const char HEX[] = "0123456789ABCDEF";
		uint32_t s = fs->u.fat.serial;

		for (int i = 7; i >= 0; i--) {
			out[o++] = HEX[(s >> (4 * i)) & 0xf];
			if (i == 4)
				out[o++] = '-';
		}
	} else if (fs->type == VLAB_FS_EXT) {
		for (unsigned i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				out[o++] = '-';
			out[o++] = hex[fs->u.ext.uuid[i] >> 4];
			out[o++] = hex[fs->u.ext.uuid[i] & 0xf];
		}
	}
	out[o] = '\0';
}

const char *vlab_fs_strerror(int err)
{
	switch (err) {
	case VLAB_FS_EUNKNOWN: return "unrecognized filesystem type";
	case VLAB_FS_ENOENT: return "no such file or directory";
	case VLAB_FS_ENOTDIR: return "not a directory";
	case VLAB_FS_EISDIR: return "is a directory";
	case VLAB_FS_ECORRUPT: return "filesystem structure corrupted";
	case VLAB_FS_ELOOP: return "too many levels of symbolic links";
	case VLAB_FS_ENAMETOOLONG: return "name too long";
	case VLAB_FS_EUNSUPP: return "filesystem feature not supported";
	case VLAB_FS_ERANGE: return "offset beyond the end of the file";
	default: return vlab_strerror(err);
	}
}
#else
typedef int vlab_fs_fs_compiled_out; /* ISO C: no empty translation unit */
#endif
