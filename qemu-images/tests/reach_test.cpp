// What a 32-bit CPU reaches (common/reach.c), on the host with the 32-bit
// limit: nothing above 4 GiB may be used, in particular by dma_map.
#include <gtest/gtest.h>

#include "reach.h"

namespace {

const uint64_t k32 = 0xffffffffull;
const uint64_t k64 = ~0ull;

TEST(BmReach, Limits)
{
	EXPECT_TRUE(bm_reaches(k32, 0xfffffffcull, 4));
	EXPECT_TRUE(bm_reaches(k32, 0xffffffffull, 0));
	EXPECT_FALSE(bm_reaches(k32, 0xfffffffdull, 4)) << "the last byte is above 4 GiB";
	EXPECT_FALSE(bm_reaches(k32, 0x100000000ull, 0));
	EXPECT_FALSE(bm_reaches(k32, 0x4010000000ull, 4)) << "arm virt's high ECAM";
	EXPECT_TRUE(bm_reaches(k64, 0x4010000000ull, 4));
	EXPECT_TRUE(bm_reaches(k64, ~0ull, 1));
	EXPECT_FALSE(bm_reaches(k64, ~0ull, 2)) << "wraps";
}

TEST(BmReach, DmaMapRefusesWhatA32BitCpuCannotReach)
{
	// A tree whose RAM goes past 4 GiB: only the part below is DMA memory.
	const uint64_t lo = 0x40000000ull, hi = 0x240000000ull;
	EXPECT_TRUE(bm_dma_mappable(lo, hi, k32, 0x40200000ull, 4096));
	EXPECT_TRUE(bm_dma_mappable(lo, hi, k32, 0xfffff000ull, 0x1000));
	EXPECT_FALSE(bm_dma_mappable(lo, hi, k32, 0xfffff000ull, 0x2000)) << "crosses 4 GiB";
	EXPECT_FALSE(bm_dma_mappable(lo, hi, k32, 0x100000000ull, 16)) << "above 4 GiB";
	EXPECT_TRUE(bm_dma_mappable(lo, hi, k64, 0xfffff000ull, 0x2000));
	EXPECT_FALSE(bm_dma_mappable(lo, hi, k64, 0x3ffff000ull, 16)) << "below RAM";
	EXPECT_FALSE(bm_dma_mappable(lo, hi, k64, 0x23ffff000ull, 0x2000)) << "beyond RAM";
}

} // namespace
