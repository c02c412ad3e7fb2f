// A caller built with a VLAB_CFG_* option the library was not built with
// (docs/porting.md "Compile-time configuration"): vlab_abi_ok refuses it, on
// the configuration word, even where no struct size differs.
#define VLAB_CFG_PACKED 0
#include <gtest/gtest.h>

#include "vlab/abi.h"
#include "vlab/err.h"

TEST(AbiMismatch, OtherConfigurationIsRefused)
{
	EXPECT_EQ(vlab_abi_ok(nullptr), VLAB_EINVAL);
}

TEST(AbiMismatch, ConfigurationWordNamesTheOption)
{
	const struct vlab_abi here = VLAB_ABI_HERE;
	// This caller's word lacks exactly VLAB_CFG_PACKED (bit 5); the rest of
	// its view is the library's.
	struct vlab_abi lib = here;
	lib.v[VLAB_ABI_WORDS - 1] |= 1u << 5;
	EXPECT_EQ(vlab_abi_check(nullptr, &lib), VLAB_OK);
	EXPECT_EQ(vlab_abi_check(nullptr, &here), VLAB_EINVAL);
}
