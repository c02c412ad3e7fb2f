// Every used-ring validation of the split virtqueue, each with a device that
// misbehaves that way (a model fault), over every transport.  A protocol
// breach must end in a clean error, the device broken (sticky: later calls
// fail fast) until a reset, and never in wrong data reported as good.
#include <cstring>

#include "blk_fixture.h"

using vlabtest::BlkMachine;

namespace {

constexpr uint64_t kNotAHead = ~0ull;

struct Breach {
	const char *name;
	enum dm_fault_kind kind;
	uint64_t value;
};
void PrintTo(const Breach &b, std::ostream *os) { *os << b.name; }

class RingValidation : public testing::TestWithParam<std::tuple<vlabtest::Ring, Breach>> {
protected:
	BlkMachine bm{std::get<0>(GetParam())};
	void SetUp() override { bm.Bring(); }
	void TearDown() override
	{
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	}
};

TEST_P(RingValidation, BreachMarksDeviceBrokenUntilReset)
{
	const Breach &b = std::get<1>(GetParam());
	uint8_t *buf = bm.Buf(4096);
	std::memset(bm.Disk(), 0x11, 4096);
	// One good request first, so the breach happens on a queue in use.
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);

	std::memset(buf, 0, 4096);
	uint64_t value = b.value;
	if (b.kind == DM_FAULT_USED_ID && value == kNotAHead) {
		// The next chain's head is the free-list head; the entry after it is
		// inside that chain (or free), never an outstanding head.
		value = (bm.blk.vq.free_head + 1u) % bm.blk.vq.size;
	}
	bm.AddFault(b.kind, value);
	int rc = vlab_blk_read(&bm.blk, 0, buf, 8);
	if (std::get<0>(GetParam()).kind.packed &&
	    (b.kind == DM_FAULT_USED_ID_DUP || b.kind == DM_FAULT_USED_IDX_JUMP)) {
		// Packed: this request's own used descriptor is right; the second
		// completion (written where the next one belongs) or the skipped
		// slots show at the next request (docs/fault-plans.md).
		EXPECT_EQ(rc, 0) << b.name << ": " << vlab_errname(rc);
		EXPECT_EQ(buf[0], 0x11);
		rc = vlab_blk_read(&bm.blk, 0, buf, 8);
	}
	EXPECT_TRUE(rc == VLAB_EPROTO || rc == VLAB_ETIMEDOUT) << b.name << ": " << vlab_errname(rc);
	EXPECT_TRUE(bm.vdev()->broken) << b.name;

	// Sticky: every later call fails fast, without touching the device.
	uint64_t notes = bm.dev->dv->notifications;
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EBROKEN);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 0, buf, 1), VLAB_EBROKEN);
	EXPECT_EQ(vlab_blk_flush(&bm.blk), VLAB_EBROKEN);
	EXPECT_EQ(bm.dev->dv->notifications, notes);

	// A reset and a fresh initialisation bring the device back.
	vlab_blk_shutdown(&bm.blk);
	bm.inited = false;
	ASSERT_EQ(bm.Init(), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);
	EXPECT_EQ(buf[0], 0x11);
	EXPECT_EQ(buf[4095], 0x11);
}

const Breach kBreaches[] = {
	{"used_id_out_of_range", DM_FAULT_USED_ID, 0xffff},
	{"used_id_huge", DM_FAULT_USED_ID, 0x80008001ull}, // packed: 0x8001 (16 bits)
	{"used_id_not_a_head", DM_FAULT_USED_ID, kNotAHead},
	{"used_id_completed_twice", DM_FAULT_USED_ID_DUP, 0},
	{"used_len_above_posted", DM_FAULT_USED_LEN, 1},
	{"used_len_far_above", DM_FAULT_USED_LEN, 0x7fffffff},
	{"used_idx_jumps", DM_FAULT_USED_IDX_JUMP, 300},
	{"used_idx_jumps_by_size", DM_FAULT_USED_IDX_JUMP, 0xffff},
	{"status_byte_invalid", DM_FAULT_BLK_STATUS, 7},
	{"status_byte_ff", DM_FAULT_BLK_STATUS, 0xff},
	{"completion_never_comes", DM_FAULT_STALL, 0},
};

INSTANTIATE_TEST_SUITE_P(Faults, RingValidation,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::ValuesIn(kBreaches)),
                         vlabtest::CaseName<Breach>);

// Errors the spec allows: a clean error, the device stays usable.
class AllowedErrors : public testing::TestWithParam<vlabtest::Ring> {
protected:
	BlkMachine bm{GetParam()};
	void SetUp() override { bm.Bring(); }
	void TearDown() override
	{
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	}
};

TEST_P(AllowedErrors, IoErrorIsReportedAndTheDeviceStaysUsable)
{
	uint8_t *buf = bm.Buf(512);
	std::memset(buf, 0x77, 512);
	bm.AddFault(DM_FAULT_BLK_IOERR);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 3, buf, 1), VLAB_EIO);
	EXPECT_FALSE(bm.vdev()->broken);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 3, buf, 1), 0);
	EXPECT_EQ(bm.Disk()[3 * 512], 0x77);
}

TEST_P(AllowedErrors, UnsupportedIsReported)
{
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_BLK_UNSUPP);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_ENOTSUP);
	EXPECT_FALSE(bm.vdev()->broken);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(AllowedErrors, DelayedCompletionStillCompletes)
{
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_DELAY, 200 * 1000 * 1000ull); // 200 ms, under the 1 s bound
	uint64_t t0 = hx_now(bm.m);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
	EXPECT_GE(hx_now(bm.m) - t0, 200 * 1000 * 1000ull);
}

TEST_P(AllowedErrors, IoErrorInOnePartFailsTheWholeSplitRequest)
{
	// With 4 KiB per request, a 16 KiB write is four requests; the second fails.
	BlkMachine small(GetParam());
	dm_blk_cfg_default(&small.opts.cfg);
	small.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX);
	small.opts.cfg.size_max = 4096;
	small.opts.cfg.seg_max = 1;
	small.opts.cfg_set = true;
	small.Bring();
	uint8_t *buf = small.Buf(16384);
	small.AddFault(DM_FAULT_BLK_IOERR, 0, 2, 1);
	EXPECT_EQ(vlab_blk_write(&small.blk, 0, buf, 32), VLAB_EIO);
	EXPECT_FALSE(small.vdev()->broken);
	EXPECT_EQ(hx_report(small.m)->count, 0u) << vlabtest::ViolationText(small.m);
}

INSTANTIATE_TEST_SUITE_P(Transports, AllowedErrors, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
