// A caller built with another queue-size cap than the library (the
// deliberate mismatch of docs/porting.md): vlab_abi_ok refuses it, before
// any struct of the wrong size reaches the library.
#define VLAB_VQ_SIZE_MAX 128
#include <gtest/gtest.h>

#include "vlab/abi.h"
#include "vlab/err.h"

TEST(AbiMismatch, OtherQueueCapIsRefused)
{
	EXPECT_EQ(vlab_abi_ok(nullptr), VLAB_EINVAL);
}
