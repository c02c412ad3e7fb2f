/* SPDX-License-Identifier: MIT */
/*
 * The filesystem walk both filesystem targets share (fuzz_fs.h).
 * Checked beyond the sanitizers (no crash, no read past the input) and
 * libFuzzer's limits (no hang): every disk read lies inside the partition,
 * every error is a vlab_err or vlab_fs_err, a read returns at most what
 * was asked and exactly what the file holds from pos on (when it fits).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fs.h"

#define WALK_DEPTH 3
#define WALK_ENTRIES 64 /* entries looked at per directory */
#define READ_MAX 65536
/* The partition is the input followed by zeros up to 64 MiB: a FAT16 or
 * FAT32 volume needs thousands of clusters, more than an input holds, and
 * its metadata fits in the input's first bytes. */
#define DISK_BYTES (64ull << 20)

struct disk {
	const uint8_t *data;
	size_t size;
	uint64_t blocks;
	uint32_t bs;
};

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_fs: %s\n", what);
	abort();
}

static int disk_read(void *ctx, uint64_t lba, uint32_t n, void *buf)
{
	const struct disk *d = ctx;

	uint64_t off = lba * d->bs, len = (uint64_t)n * d->bs, have = 0;

	if (n == 0 || lba >= d->blocks || n > d->blocks - lba)
		broken("a read outside the partition");
	if (off < d->size)
		have = d->size - off < len ? d->size - off : len;
	memcpy(buf, d->data + off, (size_t)have);
	memset((uint8_t *)buf + have, 0, (size_t)(len - have));
	return 0;
}

static void check_err(int rc)
{
	if (rc > 0 || rc < VLAB_FS_ERANGE || (rc < VLAB_ERR_LAST && rc > VLAB_FS_EUNKNOWN))
		broken("an error code that is none");
	if (!vlab_fs_strerror(rc))
		broken("no message");
}

static uint8_t readbuf[READ_MAX];

static void read_file(struct vlab_fs *fs, const char *path, const struct vlab_fs_stat *st)
{
	uint64_t got = READ_MAX + 1, want;
	int rc = vlab_fs_read(fs, path, 0, readbuf, READ_MAX, &got);

	check_err(rc);
	if (rc == 0) {
		want = st->size < READ_MAX ? st->size : READ_MAX;
		/* A symlink's stat is its target's: only compare plain names. */
		if (st->type == VLAB_FS_FILE && got != want)
			broken("a read returned another length than the file's");
		if (got > READ_MAX)
			broken("a read beyond the buffer");
	} else if (got != 0) {
		broken("a failed read reported bytes");
	}
	/* Part of it, from the middle. */
	if (st->size > 2) {
		rc = vlab_fs_read(fs, path, st->size / 2, readbuf, 1, &got);
		check_err(rc);
		if (rc == 0 && got != 1)
			broken("a one-byte read inside the file did not give one byte");
	}
}

struct walk {
	struct vlab_fs *fs;
	char path[VLAB_FS_PATH_MAX + 1];
	unsigned depth, seen;
	struct vlab_fs_dirent kids[8];
	unsigned nkids;
};

static int collect(void *ctx, const struct vlab_fs_dirent *e)
{
	struct walk *w = ctx;

	if (strnlen(e->name, sizeof e->name) >= sizeof e->name)
		broken("a name without its NUL");
	if (++w->seen > WALK_ENTRIES)
		return 1;
	if (w->nkids < sizeof w->kids / sizeof w->kids[0] && strcmp(e->name, ".") && strcmp(e->name, ".."))
		w->kids[w->nkids++] = *e;
	return 0;
}

/*
 * The directories walked and files read in one mount, each once: a tree
 * that holds itself (a FAT directory whose cluster is its parent's, an ext
 * entry naming an ancestor's inode) would otherwise be walked 8^depth
 * times over, the same reads each time (one input took 10 ms).  A node is
 * its number, type and size (two FAT files may share a first cluster and
 * differ in length).  At most WALK_NODES of them.
 */
#define WALK_NODES 64
static struct vlab_fs_stat visited[WALK_NODES];
static unsigned nvisited;

static bool first_visit(const struct vlab_fs_stat *st)
{
	for (unsigned i = 0; i < nvisited; i++) {
		if (visited[i].ino == st->ino && visited[i].type == st->type && visited[i].size == st->size)
			return false;
	}
	if (nvisited == WALK_NODES)
		return false;
	visited[nvisited++] = *st;
	return true;
}

/* One per depth, allocated once: an allocation per directory cost more
 * than the walk of a small one (ASan hands out fresh, zeroed pages). */
static struct walk *walks;

static void walk_dir(struct vlab_fs *fs, const char *dir, unsigned depth)
{
	struct walk *w;
	int rc;

	if (!walks && !(walks = calloc(WALK_DEPTH + 1, sizeof *walks)))
		broken("out of memory");
	w = &walks[depth];

	w->fs = fs;
	w->seen = 0;
	w->nkids = 0;
	rc = vlab_fs_list(fs, dir, collect, w);
	check_err(rc);
	for (unsigned i = 0; i < w->nkids; i++) {
		struct vlab_fs_stat st;

		if ((size_t)snprintf(w->path, sizeof w->path, "%s/%s", dir, w->kids[i].name) >= sizeof w->path)
			continue;
		rc = vlab_fs_stat(fs, w->path, &st);
		check_err(rc);
		if (rc || !first_visit(&st))
			continue;
		if (st.type == VLAB_FS_DIR && depth < WALK_DEPTH)
			walk_dir(fs, w->path, depth + 1);
		else if (st.type != VLAB_FS_DIR)
			read_file(fs, w->path, &st);
	}
}

static void run_one(const uint8_t *data, size_t size, uint32_t bs, enum vlab_fs_type want)
{
	static struct vlab_fs fs;
	struct disk d = {data, size, DISK_BYTES / bs, bs};
	struct vlab_fs_stat st;
	int rc;

	rc = vlab_fs_mount(&fs, bs, 0, d.blocks, disk_read, &d);
	check_err(rc);
	if (rc || fs.type != want)
		return;
	nvisited = 0;
	rc = vlab_fs_stat(&fs, "/", &st);
	check_err(rc);
	if (rc == 0)
		first_visit(&st);
	walk_dir(&fs, "/", 0);
	/* Paths the walk does not make: dot-dot at the root, a missing name,
	 * through a file. */
	check_err(vlab_fs_stat(&fs, "/../..//./x/../", &st));
	check_err(vlab_fs_stat(&fs, "/nonexistent/name", &st));
}

int fuzz_fs_run(const uint8_t *data, size_t size, enum vlab_fs_type want)
{
	run_one(data, size, 512, want);
	run_one(data, size, 4096, want);
	return 0;
}
