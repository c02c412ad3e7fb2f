// How much one virtio request carries (vlab_blk_cfg.max_request_bytes,
// VLAB_BLK_DEFAULT_REQ_BYTES; docs/performance.md "Request size"): a device
// that sets no size_max gets parts of the default, a caller's cap holds, the
// device's seg_max x size_max lowers either, and a cap below a block is the
// caller's error.
#include <cstring>
#include <vector>

#include "blk_fixture.h"

namespace {

using vlabtest::BlkMachine;

class BlkRequestSize : public vlabtest::BlkTransportTest {
protected:
	// A 24 MiB disk; the driver initialised with the cap (0: the default).
	int Init(uint32_t cap, uint32_t size_max = 0, uint32_t seg_max = 0)
	{
		bm.opts.ram_bytes = 24u << 20;
		if (size_max) {
			hx_blk_opts_cfg(&bm.opts, &bm.opts.cfg);
			bm.opts.cfg_set = true;
			bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX) | VLAB_BIT(VIRTIO_BLK_F_SEG_MAX);
			bm.opts.cfg.size_max = size_max;
			bm.opts.cfg.seg_max = seg_max;
		}
		if (!bm.Add() || bm.Probe() != 0)
			return VLAB_ENODEV;
		struct vlab_blk_cfg cfg;
		std::memset(&cfg, 0, sizeof cfg);
		cfg.max_request_bytes = cap;
		const int rc = vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg);
		bm.inited = rc == 0;
		return rc;
	}
	// Read n bytes from sector 0 in one call: the virtio requests it took,
	// the data checked against the disk.
	uint64_t ReadCounting(size_t n)
	{
		uint8_t *disk = bm.Disk();
		for (size_t i = 0; i < n; i++)
			disk[i] = static_cast<uint8_t>(i * 31 + (i >> 16));
		uint8_t *buf = bm.Buf(n);
		const uint64_t before = bm.dev->blk->reads;
		EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, static_cast<uint32_t>(n / 512)), 0);
		EXPECT_EQ(std::memcmp(buf, disk, n), 0);
		return bm.dev->blk->reads - before;
	}
};

TEST_P(BlkRequestSize, WithoutSizeMaxPartsAreTheDefault)
{
	ASSERT_EQ(Init(0), 0);
	EXPECT_EQ(bm.blk.max_req_bytes, VLAB_BLK_DEFAULT_REQ_BYTES);
	EXPECT_EQ(ReadCounting(20u << 20), 3u) << "20 MiB in parts of 8 MiB";
}

TEST_P(BlkRequestSize, TheCallersCapHolds)
{
	ASSERT_EQ(Init(64u * 1024u + 100u), 0);
	EXPECT_EQ(bm.blk.max_req_bytes, 64u * 1024u) << "whole blocks";
	EXPECT_EQ(ReadCounting(1u << 20), 16u);
}

TEST_P(BlkRequestSize, TheDevicesLimitsLowerTheCap)
{
	ASSERT_EQ(Init(1u << 20, 4096, 4), 0);
	EXPECT_EQ(bm.blk.max_req_bytes, 16384u);
	EXPECT_EQ(ReadCounting(64u * 1024u), 4u);
}

TEST_P(BlkRequestSize, ACapBelowASectorIsTheCallersError)
{
	EXPECT_EQ(Init(511), VLAB_EINVAL);
}

INSTANTIATE_TEST_SUITE_P(Transports, BlkRequestSize, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

// A cap below the disk's logical block (4096 here): refused at init.
TEST(BlkRequestSizeBlocks, ACapBelowTheLogicalBlockIsRefused)
{
	BlkMachine bm(HX_MMIO);
	bm.opts.qemu_profile = true;
	const char *why = nullptr;
	ASSERT_EQ(hx_blk_prop(&bm.opts, "logical_block_size=4096", &why), 1);
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	struct vlab_blk_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.max_request_bytes = 2048;
	EXPECT_EQ(vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg), VLAB_EINVAL);
}

} // namespace
