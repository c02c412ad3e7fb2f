/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the ext2/3/4: block maps, extent trees, directories, symlinks (driver/fs/ext.c).
 * The input is a partition's bytes (the disk is as hostile as the device);
 * seeds are small images made by the real mkfs (corpus/fuzz_ext4/).  What
 * is checked: fuzz_fs.c.
 */
#include "fuzz_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_fs_run(data, size, VLAB_FS_EXT);
}
