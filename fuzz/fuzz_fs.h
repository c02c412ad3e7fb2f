/* SPDX-License-Identifier: MIT */
/* Shared by fuzz_fat and fuzz_ext4: the input is a partition's bytes. */
#ifndef FUZZ_FS_H
#define FUZZ_FS_H

#include <stddef.h>
#include <stdint.h>

#include "vlab/fs.h"

/* Mount data (zero-extended to 64 MiB) as a partition, with 512- then
 * 4096-byte blocks, and walk it: list every directory to a bounded depth,
 * stat the first entries of each, read each file and walk each directory
 * once (a tree that holds itself is not walked again and again), follow a
 * few paths.  Aborts on a broken
 * promise of the API (a read outside the partition, a length beyond the
 * buffer or the file, an error code that is not one).  want: the type
 * the target is about; an input that mounts as another is not walked. */
int fuzz_fs_run(const uint8_t *data, size_t size, enum vlab_fs_type want);

#endif
