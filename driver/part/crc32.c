/* SPDX-License-Identifier: MIT */
/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as GPT uses it. */
#include "vlab/part.h"

#if VLAB_CFG_PART /* vlab/config.h */

/* CRC of each 4-bit value: a 64-byte table, two lookups per byte. */
static const uint32_t crc32_nibble[16] = {
	0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
	0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
	0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

/* crc: 0 to start, or the result of a previous call to continue. */
uint32_t vlab_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc32_nibble[crc & 0xfu];
		crc = (crc >> 4) ^ crc32_nibble[crc & 0xfu];
	}
	return ~crc;
}
#else
typedef int vlab_part_crc32_compiled_out; /* ISO C: no empty translation unit */
#endif
