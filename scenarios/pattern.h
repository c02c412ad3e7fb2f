/* SPDX-License-Identifier: MIT */
/*
 * The disk the cross-check uses, shared by the scenario (which checks and
 * writes it), the host tool (which creates and later verifies it) and the
 * runner (which adds the partition table with sfdisk).
 *
 * Every byte of the fresh disk is sc_pattern_byte(SC_SEED_PRISTINE, lba,
 * offset); sfdisk then writes a GPT (sectors 0-33 and the last 33) with two
 * partitions, "vlab-data" (read only by the scenario) and "vlab-scratch"
 * (written at the offsets below with SC_SEED_WRITE).
 */
#ifndef VLAB_SCENARIO_PATTERN_H
#define VLAB_SCENARIO_PATTERN_H

#include <stdint.h>

#define SC_SEED_PRISTINE 0x5eed0001u
#define SC_SEED_WRITE 0x5eed0002u

/* Disk layout the runner creates (sectors of 512 bytes). */
#define SC_DISK_SECTORS 32768u     /* 16 MiB */
#define SC_PART_DATA_START 2048u
#define SC_PART_DATA_SECTORS 8192u
#define SC_PART_SCRATCH_START 10240u
#define SC_PART_SCRATCH_SECTORS 16384u
#define SC_PART_DATA_NAME "vlab-data"
#define SC_PART_SCRATCH_NAME "vlab-scratch"

/* Writes inside vlab-scratch: offset from its start and length, in sectors. */
struct sc_extent {
	uint32_t off, count;
};
#define SC_WRITES_INIT {{0, 128}, {200, 1}, {301, 7}, {1000, 64}}
#define SC_NWRITES 4u
/* Sectors at the start of vlab-data whose pristine pattern is checked. */
#define SC_PRISTINE_SECTORS 64u

static inline uint8_t sc_pattern_byte(uint32_t seed, uint64_t lba, uint32_t off)
{
	uint32_t x = seed ^ (uint32_t)(lba * 0x9e3779b1u) ^ (uint32_t)(lba >> 32) ^ (off * 0x85ebca77u);
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	x *= 0x297a2d39u;
	x ^= x >> 15;
	return (uint8_t)x;
}

#endif
