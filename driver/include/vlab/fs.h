/* SPDX-License-Identifier: MIT */
/*
 * Read-only filesystems on a block device: FAT12/16/32 (long file names)
 * and ext2/3/4 (extents, 64-bit, flex_bg, htree directories read as plain
 * ones, symlinks).  Freestanding, no allocation: struct vlab_fs is the
 * caller's and holds every buffer the code needs.
 *
 * Every on-disk value is hostile: each walk (cluster chain, directory,
 * extent tree, indirect blocks, symlink chain) is bounded, every block
 * number is checked against the filesystem and the partition before it is
 * read, and a corrupted image gives an error code, never a hang or a read
 * outside the partition.
 */
#ifndef VLAB_FS_H
#define VLAB_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlab/err.h"
#include "vlab/part.h" /* vlab_part_read_fn */

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the filesystem layer (below every enum vlab_err); the block
 * layer's own codes pass through unchanged. */
enum vlab_fs_err {
	VLAB_FS_EUNKNOWN = -32,  /* no filesystem recognised on the partition */
	VLAB_FS_ENOENT = -33,    /* no such file or directory */
	VLAB_FS_ENOTDIR = -34,   /* a path component is not a directory */
	VLAB_FS_EISDIR = -35,    /* a directory where a file was wanted */
	VLAB_FS_ECORRUPT = -36,  /* an on-disk structure is invalid */
	VLAB_FS_ELOOP = -37,     /* too many symbolic links, or a cycle */
	VLAB_FS_ENAMETOOLONG = -38,
	VLAB_FS_EUNSUPP = -39,   /* a feature this reader does not handle */
	VLAB_FS_ERANGE = -40,    /* offset beyond the end of the file */
};

enum vlab_fs_type { VLAB_FS_NONE, VLAB_FS_FAT, VLAB_FS_EXT };
enum vlab_fs_ftype { VLAB_FS_FILE, VLAB_FS_DIR, VLAB_FS_SYMLINK, VLAB_FS_OTHER };

#define VLAB_FS_NAME_MAX 255      /* bytes of a name, UTF-8, without NUL */
#define VLAB_FS_PATH_MAX 1024     /* bytes of a path (and a symlink target) */
#define VLAB_FS_SYMLINK_MAX 8     /* symbolic links followed in one lookup */
#define VLAB_FS_MAX_BLOCK 4096u   /* largest logical block size of a disk */

struct vlab_fs_stat {
	enum vlab_fs_ftype type;
	uint64_t size;
	uint32_t ino;   /* ext inode number; FAT: first cluster */
	uint16_t mode;  /* ext i_mode; FAT: 0 */
	bool inline_data; /* ext4 inline data (only the first 60 bytes are read) */
};

struct vlab_fs_dirent {
	char name[VLAB_FS_NAME_MAX * 3 / 2 + 4]; /* UTF-8 (a FAT LFN may be 3 bytes a character) */
	struct vlab_fs_stat st;
};

/* Called for each entry of a directory ("." and ".." included when the
 * filesystem stores them); non-zero stops the walk and is returned. */
typedef int (*vlab_fs_dir_fn)(void *ctx, const struct vlab_fs_dirent *e);

struct vlab_fs_fat {
	uint8_t bits;            /* 12, 16, 32 */
	uint32_t sec_size;       /* bytes per FAT sector */
	uint32_t clus_size;      /* bytes per cluster */
	uint64_t fat_off;        /* byte offset of the first FAT */
	uint32_t fat_bytes;      /* bytes of one FAT */
	uint64_t root_off;       /* FAT12/16 fixed root directory */
	uint32_t root_entries;
	uint32_t root_clus;      /* FAT32 */
	uint64_t data_off;       /* byte offset of cluster 2 */
	uint32_t nclus;          /* data clusters: valid numbers are 2..nclus+1 */
	uint32_t serial;
	char label[12];
};

struct vlab_fs_ext {
	uint32_t block_size;
	uint64_t blocks;         /* blocks_count */
	uint32_t inodes;
	uint32_t inodes_per_group;
	uint32_t blocks_per_group;
	uint32_t first_data_block;
	uint32_t ngroups;
	uint16_t inode_size;
	uint16_t desc_size;
	uint32_t incompat, ro_compat, compat;
	uint8_t uuid[16];
	char label[17];
};

/* A file or directory as the path walker sees it (internal to driver/fs). */
struct vlab_fs_node {
	enum vlab_fs_ftype type;
	uint64_t size;
	uint32_t ino;        /* ext inode; FAT first cluster (0: FAT12/16 root) */
	uint16_t mode;
	uint32_t flags;      /* ext i_flags */
	bool root;           /* the root directory */
	uint8_t iblock[60];  /* ext i_block */
};

/*
 * The walker's memory of recent lookups (internal to driver/fs): a path
 * as it was given, up to a component's end, and the node it led to
 * without a symbolic link.  A lookup starts from the longest remembered
 * prefix of its path instead of the root, so reading a file in pieces, or
 * a listing followed by a stat of each name, walks each directory once.
 * The filesystem is read-only; the memory is cleared by a mount and by
 * vlab_fs_forget() (a disk that changes under a mounted filesystem is
 * otherwise seen as it was first read).
 */
#define VLAB_FS_LOOKUP_SLOTS 4
#define VLAB_FS_LOOKUP_PATH 255   /* longer prefixes are not remembered */
struct vlab_fs_lookup {
	struct vlab_fs_node node;
	uint32_t used;            /* 0: empty; else when last used */
	uint16_t len;
	char path[VLAB_FS_LOOKUP_PATH];
};

/*
 * Partition blocks kept by a mount (each VLAB_FS_MAX_BLOCK bytes), the one
 * used least recently giving way: enough for the blocks one lookup step
 * touches at once (an ext directory block, its group descriptors, an
 * inode table block; a FAT directory sector and a FAT sector), so that
 * none of them is read again for each entry.
 */
#ifndef VLAB_FS_CACHE_BLOCKS
#define VLAB_FS_CACHE_BLOCKS 4
#endif

struct vlab_fs {
	enum vlab_fs_type type;
	/* The partition: in blocks of blk_size bytes on the disk. */
	vlab_part_read_fn read;
	void *ctx;
	uint32_t blk_size;
	uint64_t part_start, part_blocks;
	/* The block cache for reads that are not whole aligned blocks
	 * (VLAB_FS_CACHE_BLOCKS). */
	uint8_t cache[VLAB_FS_CACHE_BLOCKS][VLAB_FS_MAX_BLOCK];
	uint64_t cache_lba[VLAB_FS_CACHE_BLOCKS];
	uint32_t cache_used[VLAB_FS_CACHE_BLOCKS]; /* 0: empty; else when last used */
	uint32_t cache_clock;
	unsigned cache_last;                        /* the slot used last */
	union {
		struct vlab_fs_fat fat;
		struct vlab_fs_ext ext;
	} u;
	/* Symlink resolution (ext): the path being walked and a target. */
	char path[2][VLAB_FS_PATH_MAX + 1];
	struct vlab_fs_lookup lookup[VLAB_FS_LOOKUP_SLOTS];
	uint32_t lookup_clock;
};

/*
 * Mount the filesystem on blocks [start, start + nblocks) of a disk whose
 * logical block size is blk_size (512..4096, a power of two); read() reads
 * disk blocks of that size.  Detects FAT then ext.  0, VLAB_FS_EUNKNOWN, or
 * another error.
 */
int vlab_fs_mount(struct vlab_fs *fs, uint32_t blk_size, uint64_t start, uint64_t nblocks,
                  vlab_part_read_fn read, void *ctx);
/* "fat" or "ext4" (U-Boot's names), or "unknown". */
const char *vlab_fs_type_name(const struct vlab_fs *fs);
/*
 * Forget what the mount remembers of the disk (the lookups of struct
 * vlab_fs_lookup and the block cache): for a disk written while its
 * filesystem stays mounted.
 */
void vlab_fs_forget(struct vlab_fs *fs);
/* Stat a path (absolute, '/'-separated; a trailing symlink is followed). */
int vlab_fs_stat(struct vlab_fs *fs, const char *path, struct vlab_fs_stat *st);
/* Call fn for each entry of the directory at path. */
int vlab_fs_list(struct vlab_fs *fs, const char *path, vlab_fs_dir_fn fn, void *ctx);
/*
 * Read up to len bytes of the file at path from byte pos into buf;
 * *got is the number read (len, or less at the end of the file).
 * pos beyond the end: VLAB_FS_ERANGE.
 */
int vlab_fs_read(struct vlab_fs *fs, const char *path, uint64_t pos, void *buf, uint64_t len,
                 uint64_t *got);
/* Volume UUID as U-Boot prints it (FAT "XXXX-XXXX", ext "xxxxxxxx-..."). */
void vlab_fs_uuid(const struct vlab_fs *fs, char out[37]);
/* A readable message for an fs or block-layer error. Never NULL. */
const char *vlab_fs_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
