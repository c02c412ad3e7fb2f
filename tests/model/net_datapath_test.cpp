// virtio-net data path, driver against the model, over every transport and
// with and without MRG_RXBUF: every frame size arrives byte-identical, the
// receive queue runs dry and refills, a full transmit queue says busy and
// loses nothing.  Any model violation fails the test (TearDown).
#include <cstring>
#include <tuple>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

enum Mode { WHOLE, MRG, MRG_SMALL };

const char *ModeName(Mode m)
{
	return m == WHOLE ? "whole" : m == MRG ? "mrg" : "mrg_small";
}
void PrintTo(Mode m, std::ostream *os) { *os << ModeName(m); }

using Param = std::tuple<vlabtest::Ring, Mode>;

class NetDatapath : public testing::TestWithParam<Param> {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	bool expect_violations = false;
	Mode mode() const { return std::get<1>(GetParam()); }
	bool legacy() const { return hx_transport_legacy_only(std::get<0>(GetParam())); }

	// Offer (or not) MRG_RXBUF; with MRG_SMALL, 256-byte receive buffers
	// so that frames span up to seven of them.
	struct vlab_net_cfg cfg {};
	void SetUp() override
	{
		struct dm_net_cfg def;
		dm_net_cfg_default(&def);
		nm.opts.features_set = true;
		nm.opts.features = def.features;
		if (mode() == WHOLE)
			nm.opts.features &= ~VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF);
		if (mode() == MRG_SMALL)
			cfg.rx_buf_len = 256;
	}
	void TearDown() override
	{
		if (!expect_violations) {
			EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
		}
	}
	uint32_t MaxFrame(Nic *n) const { return n->net.max_frame; }
};

TEST_P(NetDatapath, InitReadsConfigAndPicksTheHeaderLayout)
{
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(n->net.mrg, mode() != WHOLE);
	// 12 bytes with VERSION_1 or MRG_RXBUF, 10 for legacy without it.
	EXPECT_EQ(n->net.hdr_len, (!legacy() || mode() != WHOLE) ? 12u : 10u);
	const uint8_t want[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	EXPECT_EQ(std::memcmp(n->net.mac, want, 6), 0);
	EXPECT_TRUE(n->net.mac_from_device);
	EXPECT_TRUE(n->net.link_up);
	EXPECT_EQ(n->net.mtu, 1500u);
	EXPECT_TRUE(n->net.has_ctrl);
	// No checksum offload negotiated: the driver could not honour it.
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_CSUM));
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_GUEST_CSUM));
}

TEST_P(NetDatapath, EveryFrameSizeLoopsBackByteIdentical)
{
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	for (uint32_t len = 14; len <= MaxFrame(n); len++) {
		auto f = MakeFrame(len, len, n->net.mac);
		ASSERT_EQ(vlab_net_send(&n->net, f.data(), len), 0) << "len " << len;
		int rc = 0;
		auto got = Recv(n, &rc);
		ASSERT_EQ(rc, 0) << "len " << len << ": " << vlab_errname(rc);
		ASSERT_EQ(got, f) << "len " << len;
	}
	const uint32_t count = MaxFrame(n) - 14 + 1;
	EXPECT_EQ(n->net.stats.tx_frames, count);
	EXPECT_EQ(n->net.stats.rx_frames, count);
	EXPECT_EQ(n->model()->rx_frames, count);
	for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++)
		EXPECT_EQ(n->net.stats.rx_dropped[r], 0u) << vlab_net_drop_name((enum vlab_net_drop)r);
}

TEST_P(NetDatapath, FrameQueueInjectAndCollectEverySize)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	std::vector<uint8_t> buf(70000);
	for (uint32_t len = 14; len <= MaxFrame(n); len++) {
		auto f = MakeFrame(len, 7 * len, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), len), 0) << len;
		ASSERT_EQ(Recv(n), f) << "received, len " << len;
		auto t = MakeFrame(len, 3 * len, n->net.mac);
		ASSERT_EQ(vlab_net_send(&n->net, t.data(), len), 0);
		long got = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size());
		ASSERT_EQ(got, (long)len);
		ASSERT_EQ(std::memcmp(buf.data(), t.data(), len), 0) << "transmitted, len " << len;
	}
	ASSERT_EQ(vlab_net_tx_reclaim(&n->net), 0);
	EXPECT_EQ(vlab_net_tx_pending(&n->net), 0u) << "completed buffers reclaimed";
	EXPECT_EQ(n->net.stats.tx_completed, n->net.stats.tx_frames);
}

TEST_P(NetDatapath, ReceiveQueueRunsDryAndRefills)
{
	nm.opts.backend = HX_NET_QUEUE;
	nm.opts.backlog_set = true;
	nm.opts.rx_backlog = 1000;
	cfg.rx_buffers = 8; // few buffers: every burst exhausts them
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	std::vector<std::vector<uint8_t>> sent;
	uint32_t len = 14;
	for (int burst = 0; burst < 20; burst++) {
		for (int i = 0; i < 40; i++) {
			auto f = MakeFrame(len, (uint32_t)sent.size(), n->net.mac);
			ASSERT_EQ(dm_net_inject(n->model(), f.data(), len), 0);
			sent.push_back(f);
			len = 14 + (len * 37 + 11) % (MaxFrame(n) - 13);
		}
		EXPECT_GT(dm_net_backlog(n->model()), 0u) << "the ring ran dry";
		for (int i = 0; i < 40; i++) {
			auto got = Recv(n);
			ASSERT_EQ(got, sent[sent.size() - 40 + (size_t)i]) << "burst " << burst << " frame " << i;
		}
		EXPECT_EQ(dm_net_backlog(n->model()), 0u);
	}
	EXPECT_EQ(n->model()->dropped[DM_NET_DROP_NO_BUFFER], 0u);
}

TEST_P(NetDatapath, ExhaustedReceiveRingDropsAndCountsWithoutOverrun)
{
	nm.opts.backend = HX_NET_QUEUE;
	nm.opts.backlog_set = true;
	nm.opts.rx_backlog = 0; // a device with no buffer memory of its own
	cfg.rx_buffers = 8;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	const uint32_t len = MaxFrame(n);
	std::vector<std::vector<uint8_t>> sent;
	unsigned ok = 0, dropped = 0;
	for (int i = 0; i < 64; i++) {
		auto f = MakeFrame(len, (uint32_t)i, n->net.mac);
		if (dm_net_inject(n->model(), f.data(), len) == 0) {
			sent.push_back(f);
			ok++;
		} else {
			dropped++;
		}
	}
	EXPECT_GT(dropped, 0u);
	EXPECT_EQ(n->model()->dropped[DM_NET_DROP_NO_BUFFER], dropped);
	for (unsigned i = 0; i < ok; i++)
		ASSERT_EQ(Recv(n), sent[i]) << i;
	int rc = 0;
	EXPECT_TRUE(Recv(n, &rc).empty());
	EXPECT_EQ(rc, VLAB_ETIMEDOUT);
	// Refilled: traffic flows again.
	auto f = MakeFrame(100, 1, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 100), 0);
	EXPECT_EQ(Recv(n), f);
}

// Nothing of an earlier frame is left in a buffer the device may write
// (attack surface G5): every receive buffer is zeroed before it is posted
// again, so a device that claims bytes it never wrote hands back zeros,
// not the previous frame.
TEST_P(NetDatapath, ReceiveBuffersAreZeroedBeforeTheyArePostedAgain)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	for (uint32_t i = 0; i < 2u * n->net.nrx; i++) {
		auto f = MakeFrame(MaxFrame(n), 500 + i, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), (uint32_t)f.size()), 0);
		ASSERT_EQ(Recv(n), f) << i;
	}
	unsigned posted = 0;
	for (unsigned b = 0; b < n->net.nrx; b++) {
		if (!((n->net.rx_posted[b / 32] >> (b % 32)) & 1u))
			continue;
		posted++;
		const uint8_t *p = n->net.rx_mem + (size_t)b * n->net.rx_buf_len;
		for (uint32_t k = 0; k < n->net.rx_buf_len; k++)
			ASSERT_EQ(p[k], 0) << "buffer " << b << " byte " << k << " left from an old frame";
	}
	EXPECT_EQ(posted, n->net.nrx) << "every buffer is back with the device";
}

std::string DatapathName(const testing::TestParamInfo<Param> &info)
{
	return vlabtest::Ident(std::get<0>(info.param)) + "_" + ModeName(std::get<1>(info.param));
}

// Every ring kind on every transport (docs/virtqueue.md): the diagonal in
// each receive buffer layout, the other rings with whole-frame buffers.
INSTANTIATE_TEST_SUITE_P(All, NetDatapath,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::Values(WHOLE, MRG, MRG_SMALL)),
                         DatapathName);
INSTANTIATE_TEST_SUITE_P(Rings, NetDatapath,
                         testing::Combine(testing::ValuesIn(vlabtest::RingsBeside(vlabtest::RingDiagonal())),
                                          testing::Values(WHOLE)),
                         DatapathName);

// A full transmit queue reports busy; nothing is lost.
class NetTxBusy : public testing::TestWithParam<vlabtest::Ring> {};

TEST_P(NetTxBusy, FullQueueIsBusyAndNothingIsLost)
{
	struct hx_machine_cfg mc;
	hx_machine_cfg_default(&mc);
	mc.policy = HX_SCHED_DEFERRED; // the device works later, not at the kick
	mc.seed = 7;
	NetMachine nm(GetParam(), &mc);
	nm.opts.backend = HX_NET_QUEUE;
	struct vlab_net_cfg cfg {};
	cfg.tx_slots = 4;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	hx_run_pending(nm.m);
	std::vector<std::vector<uint8_t>> sent;
	unsigned busy = 0;
	for (uint32_t i = 0; i < 200; i++) {
		auto f = MakeFrame(60 + i, i, n->net.mac);
		int rc = vlab_net_send(&n->net, f.data(), (uint32_t)f.size());
		if (rc == VLAB_EBUSY) {
			busy++;
			hx_run_pending(nm.m); // let the device catch up, then retry
			rc = vlab_net_send(&n->net, f.data(), (uint32_t)f.size());
		}
		ASSERT_EQ(rc, 0) << i;
		sent.push_back(f);
	}
	hx_run_pending(nm.m);
	EXPECT_GT(busy, 0u);
	EXPECT_EQ(n->net.stats.tx_busy, busy);
	std::vector<uint8_t> buf(2000);
	for (size_t i = 0; i < sent.size(); i++) {
		long got = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size());
		ASSERT_EQ(got, (long)sent[i].size()) << i;
		ASSERT_EQ(std::memcmp(buf.data(), sent[i].data(), sent[i].size()), 0) << i;
	}
	EXPECT_EQ(dm_net_queue_count(n->model()), 0u);
	ASSERT_EQ(vlab_net_tx_reclaim(&n->net), 0);
	EXPECT_EQ(vlab_net_tx_pending(&n->net), 0u);
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

TEST_P(NetTxBusy, SendRejectsFramesOutsideEthernetBounds)
{
	NetMachine nm(GetParam());
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	std::vector<uint8_t> f(2000, 0xab);
	EXPECT_EQ(vlab_net_send(&n->net, f.data(), 13), VLAB_EINVAL);
	EXPECT_EQ(vlab_net_send(&n->net, f.data(), 1515), VLAB_EINVAL);
	EXPECT_EQ(vlab_net_send(&n->net, f.data(), 1514), 0);
	EXPECT_EQ(n->net.stats.tx_frames, 1u);
}

INSTANTIATE_TEST_SUITE_P(All, NetTxBusy, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
