// virtio-net with a large MTU (QEMU's host_mtu=9000, up to the 65535 the
// field holds): receive buffers sized from the MTU (mergeable 2048-byte
// buffers with MRG_RXBUF, whole-frame buffers of header + 14 + MTU
// without), frames up to the MTU both ways, and a device lying about
// frame length or num_buffers on frames that span several buffers.
// Over every transport; any unexpected model violation fails the test.
#include <cstring>
#include <string>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

struct Logs {
	std::string text;
	static void Take(void *ctx, enum vlab_log_level, const char *line)
	{
		static_cast<Logs *>(ctx)->text += std::string(line) + "\n";
	}
};

class NetMtu : public testing::TestWithParam<enum hx_transport> {
protected:
	NetMachine nm{GetParam()};
	void TearDown() override { EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m); }
	// A NIC offering mtu; without MRG_RXBUF when !mrg.
	Nic *Bring(uint16_t mtu, bool mrg, const struct vlab_net_cfg *cfg = nullptr)
	{
		struct dm_net_cfg def;
		dm_net_cfg_default(&def);
		nm.opts.mtu = mtu;
		if (!mrg) {
			nm.opts.features_set = true;
			nm.opts.features = def.features & ~VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF);
		}
		return nm.Bring(cfg);
	}
	// A frame of len bytes injected: nothing delivered (dropped).
	void InjectDropped(Nic *n, uint32_t len, uint32_t seed)
	{
		auto f = MakeFrame(len, seed, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), len), 0);
		int rc = 0;
		EXPECT_TRUE(Recv(n, &rc).empty()) << "seed " << seed << " delivered";
		EXPECT_EQ(rc, VLAB_ETIMEDOUT);
	}
	// After the lies nothing was delivered, and an honest frame of len
	// bytes is, on a device still in use.
	void HonestFrameStillComes(Nic *n, uint32_t len)
	{
		EXPECT_EQ(n->net.stats.rx_frames, 0u);
		auto f = MakeFrame(len, 99, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), len), 0);
		EXPECT_EQ(Recv(n), f);
		EXPECT_FALSE(n->bound.vdev->broken);
	}
	// Frames of these sizes go out and come back (loop backend) intact.
	void LoopBack(Nic *n, std::initializer_list<uint32_t> sizes)
	{
		uint32_t seed = 1;
		for (uint32_t len : sizes) {
			auto f = MakeFrame(len, seed++, n->net.mac);
			ASSERT_EQ(vlab_net_send(&n->net, f.data(), len), 0) << len;
			int rc = 0;
			auto got = Recv(n, &rc);
			EXPECT_EQ(rc, 0) << len << ": " << vlab_errname(rc);
			EXPECT_EQ(got.size(), f.size());
			EXPECT_TRUE(got == f) << "frame of " << len << " bytes changed on the way";
		}
	}
};

TEST_P(NetMtu, Mtu9000FramesUpToTheMtuBothWaysInMergedBuffers)
{
	Nic *n = Bring(9000, true);
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(n->net.mtu, 9000u);
	EXPECT_EQ(n->net.max_frame, 9014u);
	ASSERT_TRUE(n->net.mrg);
	// Merged buffers stay 2048 bytes whatever the MTU: a largest frame
	// takes 5 of them.
	EXPECT_EQ(n->net.rx_buf_len, 2048u);
	LoopBack(n, {60, 1514, 1515, 2036, 2037, 4096, 8999, 9013, 9014});
	EXPECT_EQ(n->net.stats.rx_frames, 9u);
	// One above the MTU is refused by the driver (DRV-5.1.4.2-8).
	auto big = MakeFrame(9015, 9, n->net.mac);
	EXPECT_EQ(vlab_net_send(&n->net, big.data(), 9015), VLAB_EINVAL);
	for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++)
		EXPECT_EQ(n->net.stats.rx_dropped[r], 0u) << vlab_net_drop_name((enum vlab_net_drop)r);
}

TEST_P(NetMtu, Mtu9000WithoutMergeableBuffersUsesWholeFrameBuffers)
{
	Nic *n = Bring(9000, false);
	ASSERT_NE(n, nullptr);
	ASSERT_FALSE(n->net.mrg);
	// DRV-5.1.4.2-7: each buffer holds header + 14 + MTU.
	EXPECT_GE(n->net.rx_buf_len, n->net.hdr_len + 9014u);
	LoopBack(n, {14, 1514, 1515, 9014});
}

TEST_P(NetMtu, Mtu65535IsTheLargestAndWorks)
{
	Nic *n = Bring(65535, true);
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(n->net.max_frame, 65549u);
	LoopBack(n, {65549, 100});
}

TEST_P(NetMtu, TooFewMergedBuffersForTheLargestFrameIsRefusedWithAReason)
{
	Logs logs;
	hx_set_log(nm.m, Logs::Take, &logs, VLAB_LOG_DEBUG);
	struct vlab_net_cfg cfg = {};
	cfg.rx_buffers = 4; // 4 x 2048 < 12 + 9014
	nm.opts.mtu = 9000;
	Nic *n = nm.Add();
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(nm.Init(n, &cfg), VLAB_EINVAL);
	EXPECT_NE(logs.text.find("4 receive buffers of 2048 bytes cannot hold a frame of 9014"), std::string::npos)
	        << logs.text;
	// With 5 they can.
	cfg.rx_buffers = 5;
	ASSERT_EQ(nm.Init(n, &cfg), 0);
	LoopBack(n, {9014, 9014, 64});
}

// The device offered mtu 1500, then delivers a 9014-byte frame over five
// merged buffers: dropped (long), counted, the buffers posted again, and
// the next frame is received.
TEST_P(NetMtu, MergedFrameLongerThanTheMtuIsDroppedAndCounted)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = Bring(1500, true);
	ASSERT_NE(n, nullptr);
	n->model()->cfg.mtu = 9000; // the lie: the device's own limit moves
	InjectDropped(n, 9014, 1);
	EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_LONG], 1u);
	HonestFrameStillComes(n, 1514);
}

// num_buffers lies on a frame that spans five buffers: 0, more than were
// posted, more than the device used: each one drop, nothing delivered
// (the frame's other four buffers are not read as frames: taken back as
// discarded), and an honest largest frame still comes through after.
TEST_P(NetMtu, NumBuffersLyingOnAMultiBufferFrameIsDroppedAndCounted)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = Bring(9000, true);
	ASSERT_NE(n, nullptr);
	uint64_t dropped = 0, discarded = 0;
	for (uint64_t bad : {0ull, 65ull, 6ull, 0xffffull}) {
		nm.AddFault(n, DM_FAULT_NET_NUM_BUFFERS, bad);
		InjectDropped(n, 9014, (uint32_t)bad);
		dm_virtio_clear_faults(n->dev->dv);
		dropped++;
		discarded += bad == 6 ? 0 : 4; // 6: all five taken, then one missing
		EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_NUM_BUFFERS], dropped) << bad;
		EXPECT_EQ(n->net.stats.rx_buffers_discarded, discarded) << bad;
	}
	for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++) {
		if (r != VLAB_NET_DROP_NUM_BUFFERS) {
			EXPECT_EQ(n->net.stats.rx_dropped[r], 0u) << vlab_net_drop_name((enum vlab_net_drop)r);
		}
	}
	HonestFrameStillComes(n, 9014);
}

INSTANTIATE_TEST_SUITE_P(All, NetMtu, testing::ValuesIn(vlabtest::AllTransports()), vlabtest::TransportName);

} // namespace
