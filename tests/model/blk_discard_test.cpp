// virtio-blk DISCARD and WRITE_ZEROES (issue 17; spec 5.2.6): the driver
// sends one 16-byte segment per request, split at the device's limits and
// discard alignment, refuses cleanly what was not negotiated, and treats
// every limit the device gives as hostile (a limit it cannot use costs the
// feature, not the disk).  The model checks DRV-5.2.6.1-6/8/10/13 on every
// request (TearDown: no violation) and zeroes what it is asked to.
#include <cstring>
#include <string>
#include <vector>

#include "blk_fixture.h"

namespace {

void Capture(struct hx_machine *m, std::vector<std::string> *log)
{
	vlabtest::Capture(m, log, VLAB_LOG_WARN);
}

using vlabtest::Has;

bool AllZero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

class BlkDiscard : public vlabtest::BlkTransportTest {
protected:
	std::vector<std::string> log;
	// QEMU 7.2's profile (DISCARD and WRITE_ZEROES offered), its limits
	// changed by edit before the device is added.
	template <typename F> void BringWith(F edit)
	{
		bm.opts.qemu_profile = true;
		hx_blk_opts_cfg(&bm.opts, &bm.opts.cfg);
		edit(bm.opts.cfg);
		bm.opts.cfg_set = true;
		Capture(bm.m, &log);
		bm.Bring();
	}
	void BringQemu()
	{
		BringWith([](struct dm_blk_cfg &) {});
	}
	// The disk from sector 0 on, n sectors, filled with a pattern.
	void Fill(uint64_t nsectors)
	{
		for (size_t i = 0; i < nsectors * 512; i++)
			bm.Disk()[i] = static_cast<uint8_t>(i * 7 + 3);
	}
	const struct dm_blk *Dev() const { return bm.dev->blk; }
};

TEST_P(BlkDiscard, NegotiatedWithQemusLimits)
{
	BringQemu();
	EXPECT_TRUE(bm.blk.info.discard);
	EXPECT_TRUE(bm.blk.info.write_zeroes);
	EXPECT_TRUE(vlab_virtio_has(bm.vdev(), VIRTIO_BLK_F_DISCARD));
	EXPECT_TRUE(vlab_virtio_has(bm.vdev(), VIRTIO_BLK_F_WRITE_ZEROES));
	EXPECT_EQ(bm.blk.info.max_discard_sectors, 0x3fffffu);
	EXPECT_EQ(bm.blk.info.max_discard_seg, 1u);
	EXPECT_EQ(bm.blk.info.discard_sector_alignment, 1u);
	EXPECT_EQ(bm.blk.info.max_write_zeroes_sectors, 0x3fffffu);
	EXPECT_EQ(bm.blk.info.max_write_zeroes_seg, 1u);
	EXPECT_TRUE(bm.blk.info.write_zeroes_may_unmap);
}

TEST_P(BlkDiscard, WriteZeroesZeroesOnlyTheRange)
{
	BringQemu();
	Fill(64);
	ASSERT_EQ(vlab_blk_write_zeroes(&bm.blk, 8, 16, false), 0);
	EXPECT_TRUE(AllZero(bm.Disk() + 8 * 512, 16 * 512));
	EXPECT_EQ(bm.Disk()[8 * 512 - 1], static_cast<uint8_t>((8 * 512 - 1) * 7 + 3));
	EXPECT_EQ(bm.Disk()[24 * 512], static_cast<uint8_t>(24 * 512 * 7 + 3));
	EXPECT_EQ(Dev()->write_zeroes, 1u);
	EXPECT_EQ(Dev()->zeroes_unmap, 0u) << "UNMAP only when asked";
	// And the driver reads the zeroes back.
	uint8_t *buf = bm.Buf(16 * 512);
	std::memset(buf, 0xaa, 16 * 512);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 8, buf, 16), 0);
	EXPECT_TRUE(AllZero(buf, 16 * 512));
}

TEST_P(BlkDiscard, UnmapOnlyWhenTheDeviceMayUnmap)
{
	BringQemu();
	ASSERT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, true), 0);
	EXPECT_EQ(Dev()->zeroes_unmap, 1u);
	bm.dev->blk->cfg.write_zeroes_may_unmap = 0; // read once at init: the driver still says 1
	Reinit();
	EXPECT_FALSE(bm.blk.info.write_zeroes_may_unmap);
	Fill(8);
	ASSERT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, true), 0);
	EXPECT_EQ(Dev()->zeroes_unmap, 1u) << "no UNMAP flag when write_zeroes_may_unmap is 0";
	EXPECT_TRUE(AllZero(bm.Disk(), 8 * 512)) << "zeroed all the same (DEV-5.2.6.2-7)";
}

TEST_P(BlkDiscard, DiscardReachesTheDevice)
{
	BringQemu();
	Fill(32);
	ASSERT_EQ(vlab_blk_discard(&bm.blk, 4, 20), 0);
	EXPECT_EQ(Dev()->discards, 1u);
	EXPECT_TRUE(AllZero(bm.Disk() + 4 * 512, 20 * 512)) << "the model deallocates (QEMU discard=unmap)";
}

// DRV-5.2.6.1-14: a device may keep discarded data (QEMU's discard=ignore);
// the driver assumes nothing and reads back what the device has.
TEST_P(BlkDiscard, DiscardedBlocksReadBackAsTheDeviceKeptThem)
{
	BringWith([](struct dm_blk_cfg &c) { c.discard_keeps_data = true; });
	Fill(16);
	ASSERT_EQ(vlab_blk_discard(&bm.blk, 0, 16), 0);
	uint8_t *buf = bm.Buf(16 * 512);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 16), 0);
	EXPECT_EQ(std::memcmp(buf, bm.Disk(), 16 * 512), 0);
	EXPECT_FALSE(AllZero(buf, 16 * 512));
}

// A range larger than max_*_sectors goes in several requests of one segment
// each; a DISCARD part that does not end the range ends on a multiple of
// discard_sector_alignment, so only the first part starts unaligned.
TEST_P(BlkDiscard, RangeIsSplitAtTheDeviceLimitsAndAlignment)
{
	BringWith([](struct dm_blk_cfg &c) {
		c.max_discard_sectors = 16;
		c.discard_sector_alignment = 8;
		c.max_write_zeroes_sectors = 10;
	});
	Fill(200);
	// [3,16) [16,32) ... [96,103): 7 parts.
	ASSERT_EQ(vlab_blk_discard(&bm.blk, 3, 100), 0);
	EXPECT_EQ(Dev()->discards, 7u);
	EXPECT_EQ(Dev()->discard_unaligned, 1u);
	EXPECT_TRUE(AllZero(bm.Disk() + 3 * 512, 100 * 512));
	EXPECT_NE(bm.Disk()[103 * 512], 0u);
	// 35 sectors in parts of at most 10.
	ASSERT_EQ(vlab_blk_write_zeroes(&bm.blk, 120, 35, false), 0);
	EXPECT_EQ(Dev()->write_zeroes, 4u);
	EXPECT_TRUE(AllZero(bm.Disk() + 120 * 512, 35 * 512));
	EXPECT_EQ(Dev()->errors, 0u) << "no part above the device's limits";
}

TEST_P(BlkDiscard, LogicalBlocksOf4kAreWholeInEveryPart)
{
	bm.opts.ram_bytes = 4 << 20;
	const char *why = nullptr;
	ASSERT_EQ(hx_blk_prop(&bm.opts, "logical_block_size=4096", &why), 1);
	BringWith([](struct dm_blk_cfg &c) {
		c.max_discard_sectors = 12; // not whole 4K blocks: parts of 8
		c.max_write_zeroes_sectors = 20;
	});
	EXPECT_EQ(bm.blk.info.discard_sector_alignment, 8u);
	Fill(64);
	ASSERT_EQ(vlab_blk_discard(&bm.blk, 8, 32), 0);
	EXPECT_EQ(Dev()->discards, 4u);
	ASSERT_EQ(vlab_blk_write_zeroes(&bm.blk, 40, 24, false), 0);
	EXPECT_EQ(Dev()->write_zeroes, 2u); // 16 + 8
	EXPECT_TRUE(AllZero(bm.Disk() + 8 * 512, 56 * 512));
	EXPECT_EQ(Dev()->errors, 0u);
	// Part of a block: refused before the device.
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 4, 8), VLAB_EINVAL);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 8, 4, false), VLAB_EINVAL);
	EXPECT_EQ(Dev()->discards, 4u);
}

TEST_P(BlkDiscard, BadRangesAreRefusedBeforeTheDevice)
{
	BringQemu();
	const uint64_t cap = bm.blk.info.capacity;
	EXPECT_EQ(vlab_blk_discard(&bm.blk, cap - 8, 16), VLAB_ERANGE);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, cap, 1, false), VLAB_ERANGE);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, UINT64_MAX - 1, 4, false), VLAB_ERANGE);
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 0), VLAB_EINVAL);
	EXPECT_EQ(Dev()->discards + Dev()->write_zeroes, 0u);
	// The last sectors are fine.
	EXPECT_EQ(vlab_blk_discard(&bm.blk, cap - 8, 8), 0);
}

TEST_P(BlkDiscard, NotOfferedIsRefusedCleanly)
{
	Capture(bm.m, &log);
	bm.Bring(); // the default device: neither feature
	EXPECT_FALSE(bm.blk.info.discard);
	EXPECT_FALSE(bm.blk.info.write_zeroes);
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 8), VLAB_ENOTSUP);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, false), VLAB_ENOTSUP);
	struct vlab_blk_req r {};
	r.op = VLAB_BLK_DISCARD;
	r.len = 4096;
	EXPECT_EQ(vlab_blk_submit(&bm.blk, &r), VLAB_ENOTSUP);
	EXPECT_TRUE(r.done);
	uint8_t *buf = bm.Buf(512);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(BlkDiscard, QemuPropertiesTurnThemOnAndOff)
{
	const char *why = nullptr;
	ASSERT_EQ(hx_blk_prop(&bm.opts, "discard=on", &why), 1);
	ASSERT_EQ(hx_blk_prop(&bm.opts, "write-zeroes=off", &why), 1);
	ASSERT_EQ(hx_blk_prop(&bm.opts, "max-discard-sectors=32", &why), 1);
	EXPECT_EQ(hx_blk_prop(&bm.opts, "max-write-zeroes-sectors=0", &why), -1);
	EXPECT_EQ(hx_blk_prop(&bm.opts, "discard=unmap", &why), -1);
	bm.Bring();
	EXPECT_TRUE(bm.blk.info.discard);
	EXPECT_FALSE(bm.blk.info.write_zeroes);
	EXPECT_EQ(bm.blk.info.max_discard_sectors, 32u);
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 64), 0);
	EXPECT_EQ(Dev()->discards, 2u);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, false), VLAB_ENOTSUP);
}

TEST_P(BlkDiscard, ReadOnlyDiskRefusesBoth)
{
	bm.opts.read_only = true;
	BringQemu();
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 8), VLAB_EROFS);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, true), VLAB_EROFS);
	EXPECT_EQ(Dev()->discards + Dev()->write_zeroes + Dev()->errors, 0u);
}

// Status errors the device may give: the call fails with the first error,
// nothing is claimed about the parts (DRV-5.2.6.1-15), the disk stays usable.
TEST_P(BlkDiscard, StatusErrorsFailTheWholeRange)
{
	BringWith([](struct dm_blk_cfg &c) { c.max_discard_sectors = 8; });
	bm.AddFault(DM_FAULT_BLK_IOERR, 0, 2, 1); // the second part
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 32), VLAB_EIO);
	EXPECT_EQ(vlab_virtio_check(bm.vdev()), 0);
	bm.AddFault(DM_FAULT_BLK_UNSUPP, 0, 0, 1);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, false), VLAB_ENOTSUP);
	EXPECT_EQ(vlab_blk_write_zeroes(&bm.blk, 0, 8, false), 0);
	// A status byte that is none of the three: the device broke.
	bm.AddFault(DM_FAULT_BLK_STATUS, 7, 0, 1);
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 8), VLAB_EPROTO);
	EXPECT_EQ(vlab_blk_discard(&bm.blk, 0, 8), VLAB_EBROKEN);
}

INSTANTIATE_TEST_SUITE_P(Transports, BlkDiscard, testing::ValuesIn(vlabtest::RingDiagonal()), vlabtest::RingName);

// A device that lies about its limits: a limit the driver cannot use costs
// the feature (a warning naming it, the call VLAB_ENOTSUP), never the disk;
// a huge one is taken (the driver's own parts stay within 32 bits); an
// alignment that is not whole logical blocks is ignored.
struct BadLimits {
	const char *name;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t may_unmap;
	bool discard_ok, write_zeroes_ok;
	const char *warning;
};

class BlkDiscardLimits : public testing::TestWithParam<std::tuple<vlabtest::Ring, BadLimits>> {};

TEST_P(BlkDiscardLimits, UnusableLimitsCostTheFeatureNotTheDisk)
{
	const BadLimits c = std::get<1>(GetParam());
	vlabtest::BlkMachine one(std::get<0>(GetParam()));
	std::vector<std::string> log;
	Capture(one.m, &log);
	one.opts.qemu_profile = true;
	hx_blk_opts_cfg(&one.opts, &one.opts.cfg);
	one.opts.cfg.max_discard_sectors = c.max_discard_sectors;
	one.opts.cfg.max_discard_seg = c.max_discard_seg;
	one.opts.cfg.discard_sector_alignment = c.discard_sector_alignment;
	one.opts.cfg.max_write_zeroes_sectors = c.max_write_zeroes_sectors;
	one.opts.cfg.max_write_zeroes_seg = c.max_write_zeroes_seg;
	one.opts.cfg.write_zeroes_may_unmap = c.may_unmap;
	one.opts.cfg_set = true;
	one.Bring();
	EXPECT_EQ(one.blk.info.discard, c.discard_ok);
	EXPECT_EQ(one.blk.info.write_zeroes, c.write_zeroes_ok);
	if (c.warning[0]) {
		EXPECT_TRUE(Has(log, c.warning)) << c.warning;
	}
	EXPECT_EQ(vlab_blk_discard(&one.blk, 0, 64), c.discard_ok ? 0 : VLAB_ENOTSUP);
	EXPECT_EQ(vlab_blk_write_zeroes(&one.blk, 0, 64, true), c.write_zeroes_ok ? 0 : VLAB_ENOTSUP);
	if (c.write_zeroes_ok) {
		EXPECT_EQ(one.dev->blk->zeroes_unmap, c.may_unmap == 1 ? 1u : 0u);
	}
	uint8_t *buf = one.Buf(512);
	EXPECT_EQ(vlab_blk_read(&one.blk, 0, buf, 1), 0);
	EXPECT_EQ(hx_report(one.m)->count, 0u) << vlabtest::ViolationText(one.m);
	EXPECT_EQ(one.dev->blk->errors, 0u);
}

const BadLimits kBadLimits[] = {
	{"discard_seg_0", 0x3fffff, 0, 1, 0x3fffff, 1, 1, false, true, "DISCARD not used: max_seg is 0"},
	{"discard_sectors_0", 0, 1, 1, 0x3fffff, 1, 1, false, true, "DISCARD not used: max_sectors below"},
	{"write_zeroes_seg_0", 0x3fffff, 1, 1, 0x3fffff, 0, 1, true, false, "WRITE_ZEROES not used: max_seg is 0"},
	{"write_zeroes_sectors_0", 0x3fffff, 1, 1, 0, 1, 1, true, false, "WRITE_ZEROES not used: max_sectors"},
	{"all_huge", 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 1, true, true, ""},
	{"alignment_0", 0x3fffff, 1, 0, 0x3fffff, 1, 1, true, true, "discard_sector_alignment 0 ignored"},
	{"may_unmap_7", 0x3fffff, 1, 1, 0x3fffff, 1, 7, true, true, ""},
};

INSTANTIATE_TEST_SUITE_P(Transports, BlkDiscardLimits,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()), testing::ValuesIn(kBadLimits)),
                         vlabtest::CaseName<BadLimits>);

} // namespace
