// vlab_abi_ok (vlab/abi.h) from a caller built with the library's caps.
// abi_mismatch_test.cpp is the caller built with other caps.
#include <gtest/gtest.h>

#include "vlab/abi.h"
#include "vlab/err.h"

TEST(Abi, SameCapsPass)
{
	EXPECT_EQ(vlab_abi_ok(nullptr), VLAB_OK);
}

TEST(Abi, AnyDifferentWordFails)
{
	const struct vlab_abi here = VLAB_ABI_HERE;
	for (unsigned i = 0; i < VLAB_ABI_WORDS; i++) {
		struct vlab_abi other = here;
		other.v[i]++;
		EXPECT_EQ(vlab_abi_check(nullptr, &other), VLAB_EINVAL) << "word " << i;
	}
	EXPECT_EQ(vlab_abi_check(nullptr, nullptr), VLAB_EINVAL);
}
