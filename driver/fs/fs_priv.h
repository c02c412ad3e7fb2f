/* SPDX-License-Identifier: MIT */
/* Private to driver/fs: the node each filesystem hands the path walker,
 * the bounded partition reader, little-endian helpers. */
#ifndef VLAB_FS_PRIV_H
#define VLAB_FS_PRIV_H

#include "vlab/fs.h"
#include "vlab/virtio.h" /* vlab_mem*, vlab_strlen */
#include "../part/part_priv.h" /* part_le16/32/64 */

/* A file or directory as the walker sees it: vlab/fs.h. */

/* Called for each directory entry; non-zero stops the walk and is returned. */
typedef int (*fs_entry_fn)(void *ctx, const char *name, size_t len, const struct vlab_fs_node *n);

/* The one name a lookup wants: an iteration given one calls fn for the
 * entries of that name only, and learns nothing more of the others (an
 * ext directory's other inodes are not read). */
struct fs_name {
	const char *name;
	size_t len;
	bool fold; /* FAT: names compare without (ASCII) case */
};

/* Whether name[0..len) is the name wanted (want NULL: any is). */
bool vlab_fs_name_is(const struct fs_name *want, const char *name, size_t len);

/* Read len bytes at byte offset off of the partition; VLAB_FS_ECORRUPT when
 * any of them lies outside it. */
int vlab_fs_read_bytes(struct vlab_fs *fs, uint64_t off, void *dst, size_t len);

int vlab_fat_mount(struct vlab_fs *fs);
void vlab_fat_root(struct vlab_fs *fs, struct vlab_fs_node *n);
int vlab_fat_iterate(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only, fs_entry_fn fn,
                     void *ctx);
int vlab_fat_read(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t pos, void *buf, uint64_t len);

int vlab_ext_mount(struct vlab_fs *fs);
int vlab_ext_root(struct vlab_fs *fs, struct vlab_fs_node *n);
int vlab_ext_iterate(struct vlab_fs *fs, const struct vlab_fs_node *dir, const struct fs_name *only, fs_entry_fn fn,
                     void *ctx);
int vlab_ext_read(struct vlab_fs *fs, const struct vlab_fs_node *n, uint64_t pos, void *buf, uint64_t len);

/* Little-endian reads: the partition code's. */
#define fs_le16 part_le16
#define fs_le32 part_le32
#define fs_le64 part_le64

#endif
