// SPDX-License-Identifier: MIT
// The driver's own vlab_memset and vlab_memcpy loops, which bare-metal
// images use (driver/core/libc.c compiled with VLAB_LIBC_LOOPS; the host
// library uses the C library's): every length to 80 bytes and around the
// four-word loop's steps, 1514 and 4 KiB + 3, at every offset of each end
// within 64 bytes, set or copy exactly the bytes asked and nothing around.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

extern "C" {
#include "vlab/virtio.h"
}

namespace {

std::vector<size_t> lengths()
{
	std::vector<size_t> lens;
	for (size_t n = 0; n <= 80; n++)
		lens.push_back(n);
	for (size_t n : {95, 96, 97, 255, 256, 257, 1000, 1514, 4096 + 3})
		lens.push_back(n);
	return lens;
}

TEST(LibcLoops, MemsetSetsExactlyTheBytesAsked)
{
	std::vector<unsigned char> dst(4096 + 256), want;
	size_t base = 64 - reinterpret_cast<uintptr_t>(dst.data()) % 64;
	for (size_t n : lengths())
		for (size_t da = 0; da < 64; da++)
			for (int c : {0, 0x5a, 0x1ff}) {
				std::fill(dst.begin(), dst.end(), 0xa5);
				want = dst;
				std::fill(want.begin() + base + da, want.begin() + base + da + n, static_cast<unsigned char>(c));
				vlab_memset(&dst[base + da], c, n);
				ASSERT_EQ(dst, want) << "n=" << n << " da=" << da << " c=" << c;
			}
}

TEST(LibcLoops, MemcpyCopiesExactlyTheBytesAsked)
{
	std::vector<unsigned char> src(4096 + 256), dst(4096 + 256), want;
	for (size_t i = 0; i < src.size(); i++)
		src[i] = static_cast<unsigned char>(i * 7 + 3);
	for (size_t n : lengths())
		for (size_t da = 0; da < 16; da++)
			for (size_t sa = 0; sa < 16; sa++) {
				std::fill(dst.begin(), dst.end(), 0xa5);
				want = dst;
				std::copy(src.begin() + 64 + sa, src.begin() + 64 + sa + n, want.begin() + 64 + da);
				vlab_memcpy(&dst[64 + da], &src[64 + sa], n);
				ASSERT_EQ(dst, want) << "n=" << n << " da=" << da << " sa=" << sa;
			}
}

} // namespace
