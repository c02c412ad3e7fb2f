// How much one virtio request carries (vlab_blk_cfg.max_request_bytes,
// VLAB_BLK_DEFAULT_REQ_BYTES; docs/performance.md "Request size"): a device
// that sets no size_max gets parts of the default, a caller's cap holds, the
// device's seg_max x size_max lowers either, and a cap below a block is the
// caller's error; a request of many parts on a slow device is waited for
// part by part.
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
	// Read n bytes from sector 0 in one call: the virtio requests it took
	// (and in *kicks the notifications), the data checked against the disk.
	uint64_t ReadCounting(size_t n, uint64_t *kicks = nullptr)
	{
		const uint64_t kicks_before = bm.dev->dv->vq[0].kicks;
		uint8_t *disk = bm.Disk();
		for (size_t i = 0; i < n; i++)
			disk[i] = static_cast<uint8_t>(i * 31 + (i >> 16));
		uint8_t *buf = bm.Buf(n);
		const uint64_t before = bm.dev->blk->reads;
		EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, static_cast<uint32_t>(n / 512)), 0);
		EXPECT_EQ(std::memcmp(buf, disk, n), 0);
		if (kicks)
			*kicks = bm.dev->dv->vq[0].kicks - kicks_before;
		return bm.dev->blk->reads - before;
	}
};

TEST_P(BlkRequestSize, WithoutSizeMaxPartsAreTheDefault)
{
	ASSERT_EQ(Init(0), 0);
	EXPECT_EQ(bm.blk.max_req_bytes, VLAB_BLK_DEFAULT_REQ_BYTES);
	uint64_t kicks = 0;
	EXPECT_EQ(ReadCounting(20u << 20, &kicks), 3u) << "20 MiB in parts of 8 MiB";
	// Early notification (docs/performance.md): each part of 1 MiB or more
	// is notified as soon as it is posted, not the three at the end.
	EXPECT_EQ(kicks, 3u);
}

TEST_P(BlkRequestSize, TheCallersCapHolds)
{
	ASSERT_EQ(Init(64u * 1024u + 100u), 0);
	EXPECT_EQ(bm.blk.max_req_bytes, 64u * 1024u) << "whole blocks";
	uint64_t kicks = 0;
	EXPECT_EQ(ReadCounting(1u << 20, &kicks), 16u);
	// Parts under 1 MiB go with one notification for all the slots filled.
	EXPECT_EQ(kicks, 1u);
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

// A request in several parts on a slow device (each part takes 40 % of the
// timeout, one part in flight at a time): the wait's bound runs from the
// last part the device completed, so the whole read (1.6 timeouts) comes
// back whole; a part that never completes still ends it, one timeout after
// the last completion.  (The bound was the whole request's: the read below
// timed out, a device that moved at 0.4 timeouts a part given up on.)
TEST_P(BlkRequestSize, ASlowDeviceThatMovesIsWaitedForPartByPart)
{
	bm.opts.ram_bytes = 1u << 20;
	bm.opts.queue_size = 4; // one request slot: the parts go one after another (pci)
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	struct vlab_blk_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.max_request_bytes = 4096;
	cfg.queue_cap = 4; // where the driver picks the size (mmio)
	ASSERT_EQ(vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg), 0);
	bm.inited = true;
	ASSERT_EQ(bm.blk.nslots, 1u);
	constexpr uint64_t kTimeout = 10u * 1000u * 1000u; // 10 ms
	bm.vdev()->timeout_ns = kTimeout;
	for (size_t i = 0; i < 4 * 4096; i++)
		bm.Disk()[i] = static_cast<uint8_t>(i * 7 + 3);
	uint8_t *buf = bm.Buf(4 * 4096);
	// Slow parts: the four of the first read, the first two of the second.
	bm.AddFault(DM_FAULT_DELAY, kTimeout * 4 / 10, 0, 6);
	uint64_t t0 = hx_now(bm.m);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 32), 0);
	EXPECT_GE(hx_now(bm.m) - t0, kTimeout * 16 / 10) << "four parts, one after another";
	EXPECT_EQ(std::memcmp(buf, bm.Disk(), 4 * 4096), 0);
	// The second read's third part never completes (a stall counts the
	// completions a delay leaves alone, docs/fault-plans.md): the wait ends
	// one timeout after the second part's completion, the device stopped.
	bm.AddFault(DM_FAULT_STALL, 0, 1, 1);
	t0 = hx_now(bm.m);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 32), VLAB_ETIMEDOUT);
	const uint64_t took = hx_now(bm.m) - t0;
	EXPECT_GE(took, kTimeout + 2 * (kTimeout * 4 / 10)) << "the bound ran from the second part";
	EXPECT_LT(took, 2 * kTimeout + 2 * (kTimeout * 4 / 10)) << "one bound after the last progress";
	EXPECT_TRUE(bm.vdev()->broken);
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
