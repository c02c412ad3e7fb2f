// virtio-net multi-queue (issue 17; spec 5.1.5, 5.1.6.5.6, VIRTIO_NET_F_MQ):
// the driver negotiates MQ, reads max_virtqueue_pairs once, sets up as many
// pairs as it may (each queue checked as pair 1's are) and the control
// queue at 2 * max_virtqueue_pairs, enables them with VQ_PAIRS_SET after
// DRIVER_OK, spreads frames over the transmit queues by a flow hash and
// polls every receive queue.  The model steers received frames round robin
// over the enabled receive queues.  A device that lies about
// max_virtqueue_pairs, NAKs VQ_PAIRS_SET or receives on a queue it was not
// given costs pairs (or a frame), never the NIC (attack surface N15-N17).
// Over every transport and ring kind; TearDown: no model violation.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "net_fixture.h"

using vlabtest::Has;
using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

class NetMq : public testing::TestWithParam<vlabtest::Ring> {
protected:
	NetMachine nm{GetParam()};
	std::vector<std::string> log;
	void TearDown() override { EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m); }

	// A NIC offering MQ with max_virtqueue_pairs pairs (the model's
	// defaults otherwise), added but not initialised.
	Nic *AddPairs(uint16_t pairs, enum hx_net_backend be = HX_NET_LOOP)
	{
		struct dm_net_cfg def;
		dm_net_cfg_default(&def);
		nm.opts.features_set = true;
		nm.opts.features = def.features | VLAB_BIT(VIRTIO_NET_F_MQ);
		nm.opts.max_pairs = pairs;
		nm.opts.backend = be;
		vlabtest::Capture(nm.m, &log, VLAB_LOG_INFO);
		return nm.Add();
	}
	Nic *BringPairs(uint16_t pairs, enum hx_net_backend be = HX_NET_LOOP, const struct vlab_net_cfg *cfg = nullptr)
	{
		Nic *n = AddPairs(pairs, be);
		if (!n)
			return nullptr;
		int rc = nm.Init(n, cfg);
		EXPECT_EQ(rc, 0) << vlab_errname(rc);
		return rc == 0 ? n : nullptr;
	}
	bool Logged(const std::string &what) const { return Has(log, what); }
	static struct vlab_vq *Rx(Nic *n, unsigned p) { return p ? &n->net.mrxq[p - 1] : &n->net.rxq; }
	static struct vlab_vq *Tx(Nic *n, unsigned p) { return p ? &n->net.mtxq[p - 1] : &n->net.txq; }
	// Frames go out and come back (loop backend) intact.
	static void LoopBack(Nic *n, unsigned frames)
	{
		for (unsigned i = 0; i < frames; i++) {
			uint8_t src[6] = {0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
			auto f = MakeFrame(60 + i, i + 1, n->net.mac, src);
			ASSERT_EQ(vlab_net_send(&n->net, f.data(), (uint32_t)f.size()), 0) << i;
			int rc = 0;
			auto got = Recv(n, &rc);
			ASSERT_EQ(rc, 0) << i << ": " << vlab_errname(rc);
			EXPECT_EQ(got, f) << i;
		}
	}
};

TEST_P(NetMq, NegotiatedAndEveryPairEnabled)
{
	Nic *n = BringPairs(4);
	ASSERT_NE(n, nullptr);
	EXPECT_TRUE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_MQ));
	EXPECT_EQ(n->net.max_pairs_offered, 4u);
	EXPECT_EQ(n->net.pairs_set_up, 4u);
	EXPECT_EQ(n->net.pairs, 4u);
	EXPECT_EQ(n->model()->pairs, 4u) << "VQ_PAIRS_SET 4 carried out";
	EXPECT_EQ(n->net.stats.ctrl_commands, 1u);
	EXPECT_TRUE(n->model()->dv.vq[8].ready) << "the control queue is 2 * max_virtqueue_pairs (5.1.2)";
	for (unsigned p = 0; p < 4; p++) {
		ASSERT_TRUE(vlab_vq_live(Rx(n, p))) << p;
		ASSERT_TRUE(vlab_vq_live(Tx(n, p))) << p;
		vlabtest::ExpectRingKind(*Rx(n, p), GetParam().kind);
		vlabtest::ExpectRingKind(*Tx(n, p), GetParam().kind);
		EXPECT_GT(vlab_vq_in_flight(Rx(n, p)), 0u) << "receive queue " << p << " filled (DRV-5.1.6.3.1-4)";
	}
	EXPECT_EQ(n->net.nrx, 4u * n->net.rx_per_q);
	EXPECT_TRUE(Logged("4 queue pair(s) in use"));
	LoopBack(n, 8);
}

// QEMU's mq=on over a one-queue netdev: MQ with max_virtqueue_pairs 1.  No
// command: one pair is what the device uses after a reset.
TEST_P(NetMq, OnePairOfferedNeedsNoCommand)
{
	Nic *n = BringPairs(1);
	ASSERT_NE(n, nullptr);
	EXPECT_TRUE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_MQ));
	EXPECT_EQ(n->net.pairs, 1u);
	EXPECT_EQ(n->net.stats.ctrl_commands, 0u);
	EXPECT_TRUE(n->model()->dv.vq[2].ready);
	LoopBack(n, 3);
}

// Frames of many flows go out on every transmit queue and all reach the
// wire; one flow keeps to one queue, in order.
TEST_P(NetMq, FramesSentOnEveryPairReachTheWire)
{
	Nic *n = BringPairs(4, HX_NET_QUEUE);
	ASSERT_NE(n, nullptr);
	std::vector<std::vector<uint8_t>> sent;
	for (unsigned i = 0; i < 32; i++) {
		uint8_t src[6] = {0x02, 0, 0, 0, 1, (uint8_t)i};
		sent.push_back(MakeFrame(80, i, n->net.mac, src));
		ASSERT_EQ(vlab_net_send(&n->net, sent.back().data(), 80), 0) << i;
		ASSERT_EQ(vlab_net_tx_reclaim(&n->net), 0);
	}
	for (unsigned p = 0; p < 4; p++) {
		EXPECT_GT(n->model()->txq_frames[p], 0u) << "transmitq" << p + 1 << " unused";
		EXPECT_EQ(n->model()->txq_frames[p], n->net.stats.tx_frames_pair[p]) << p;
	}
	ASSERT_EQ(dm_net_queue_count(n->model()), 32u);
	std::vector<std::vector<uint8_t>> wire;
	for (unsigned i = 0; i < 32; i++) {
		std::vector<uint8_t> f(128);
		long len = dm_net_queue_pop(n->model(), f.data(), (uint32_t)f.size());
		ASSERT_EQ(len, 80);
		f.resize(80);
		wire.push_back(f);
	}
	std::sort(sent.begin(), sent.end());
	std::sort(wire.begin(), wire.end());
	EXPECT_EQ(wire, sent);

	uint64_t before[4];
	for (unsigned p = 0; p < 4; p++)
		before[p] = n->model()->txq_frames[p];
	for (unsigned i = 0; i < 6; i++) {
		auto f = MakeFrame(70, 100 + i, n->net.mac); // one flow: same addresses and type
		ASSERT_EQ(vlab_net_send(&n->net, f.data(), 70), 0);
		ASSERT_EQ(vlab_net_tx_reclaim(&n->net), 0);
	}
	unsigned queues = 0;
	for (unsigned p = 0; p < 4; p++)
		queues += n->model()->txq_frames[p] != before[p];
	EXPECT_EQ(queues, 1u) << "one flow, one queue";
}

// The model steers received frames round robin over the enabled queues:
// every receive queue delivers, and the driver takes them all.
TEST_P(NetMq, FramesReceivedOnEveryQueueComeBack)
{
	Nic *n = BringPairs(4, HX_NET_QUEUE);
	ASSERT_NE(n, nullptr);
	std::vector<std::vector<uint8_t>> in, out;
	for (unsigned i = 0; i < 12; i++) {
		in.push_back(MakeFrame(64 + i, i, n->net.mac));
		ASSERT_EQ(dm_net_inject(n->model(), in.back().data(), (uint32_t)in.back().size()), 0);
	}
	for (unsigned p = 0; p < 4; p++)
		EXPECT_EQ(n->model()->rxq_frames[p], 3u) << "receiveq" << p + 1;
	for (unsigned i = 0; i < 12; i++) {
		int rc = 0;
		out.push_back(Recv(n, &rc));
		ASSERT_EQ(rc, 0) << i;
	}
	for (unsigned p = 0; p < 4; p++)
		EXPECT_EQ(n->net.stats.rx_frames_pair[p], 3u) << p;
	std::sort(in.begin(), in.end());
	std::sort(out.begin(), out.end());
	EXPECT_EQ(out, in);
	int rc = 0;
	EXPECT_TRUE(Recv(n, &rc).empty());
	EXPECT_EQ(rc, VLAB_ETIMEDOUT);
}

// The caller's max_pairs and the driver's VLAB_NET_MAX_PAIRS are kept.
TEST_P(NetMq, TheCallersLimitAndTheDriversCapAreKept)
{
	struct vlab_net_cfg cfg {};
	cfg.max_pairs = 2;
	Nic *a = BringPairs(4, HX_NET_LOOP, &cfg);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(a->net.pairs, 2u);
	EXPECT_EQ(a->model()->pairs, 2u);
	EXPECT_FALSE(vlab_vq_allocated(Rx(a, 2))) << "no queue set up beyond the pairs used";
	LoopBack(a, 4);

	Nic *b = BringPairs(DM_NET_MAX_PAIRS);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(b->net.max_pairs_offered, (unsigned)DM_NET_MAX_PAIRS);
	EXPECT_EQ(b->net.pairs, (unsigned)VLAB_NET_MAX_PAIRS);
	EXPECT_EQ(b->model()->pairs, (unsigned)VLAB_NET_MAX_PAIRS);
	LoopBack(b, 4);
}

// VQ_PAIRS_SET answered VIRTIO_NET_ERR: one pair, and it still works; a
// device that then receives on a queue it was not given (DEV-5.1.6.5.6.2-2)
// costs that frame only.
TEST_P(NetMq, PairsSetRefusedLeavesOnePairThatWorks)
{
	Nic *n = AddPairs(4);
	ASSERT_NE(n, nullptr);
	nm.AddFault(n, DM_FAULT_NET_CTRL_ACK, VIRTIO_NET_ERR);
	ASSERT_EQ(nm.Init(n), 0);
	EXPECT_EQ(n->net.pairs, 1u);
	EXPECT_EQ(n->net.pairs_set_up, 4u);
	EXPECT_EQ(n->model()->pairs, 1u);
	EXPECT_EQ(n->net.stats.ctrl_errors, 1u);
	EXPECT_TRUE(Logged("VQ_PAIRS_SET 4 refused: using one pair"));
	LoopBack(n, 6);
	EXPECT_EQ(n->model()->txq_frames[0], 6u) << "transmitq1 only (DRV-5.1.6.5.6.1-3)";

	nm.AddFault(n, DM_FAULT_NET_RX_QUEUE, 0);
	auto f = MakeFrame(64, 7, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 64), 0);
	EXPECT_EQ(n->model()->rxq_frames[1], 1u) << "the lie: receiveq2";
	int rc = 0;
	EXPECT_TRUE(Recv(n, &rc).empty());
	EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_QUEUE], 1u);
	EXPECT_FALSE(n->bound.vdev->broken);
	LoopBack(n, 2);
}

// VQ_PAIRS_SET never answered: the command times out, the device is
// stopped (reset) so it cannot carry it out later, and negotiated again
// without MQ: one pair, the control queue at 2, the NIC in use, with every
// other feature it had (MAC, MTU, CTRL_VQ: the reset must not make the
// second negotiation refuse them).
TEST_P(NetMq, PairsSetNotAnsweredCostsMqNotTheNic)
{
	Nic *n = AddPairs(4);
	ASSERT_NE(n, nullptr);
	nm.ApplyPlan(n, "fault stall queue=8 count=1\n");
	const uint64_t resets = n->model()->dv.resets;
	ASSERT_EQ(nm.Init(n), 0);
	EXPECT_GE(n->model()->dv.resets, resets + 2) << "stopped, then negotiated again";
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_MQ));
	EXPECT_EQ(n->net.pairs, 1u);
	EXPECT_TRUE(Logged("VQ_PAIRS_SET 4 failed (VLAB_ETIMEDOUT)"));
	EXPECT_TRUE(Logged("negotiating again without MQ"));
	EXPECT_FALSE(n->net.stopped);
	EXPECT_TRUE(n->net.mac_from_device) << "MAC negotiated again";
	ASSERT_EQ(vlab_net_set_promisc(&n->net, true), 0) << "the control queue at 2 works";
	LoopBack(n, 4);
}

// A queue pair the transport refuses (a legacy PCI ring fixed above
// VLAB_VQ_SIZE_MAX) costs the pairs from there on; a smaller one (modern
// PCI) costs buffers only.  virtio-mmio has one QueueNumMax for all.
TEST_P(NetMq, AQueueTheTransportRefusesCostsPairs)
{
	Nic *n = AddPairs(4);
	ASSERT_NE(n, nullptr);
	const bool pci = hx_transport_is_pci(GetParam().t);
	const bool legacy = GetParam().t == HX_PCI_LEGACY;
	n->model()->dv.queue_size[4] = legacy ? 2 * VLAB_VQ_SIZE_MAX : 64;
	ASSERT_EQ(nm.Init(n), 0) << "a queue that does not fit costs pairs, not the NIC";
	EXPECT_EQ(n->net.pairs, legacy ? 2u : 4u);
	if (legacy) {
		EXPECT_TRUE(Logged("queue pair 3 not usable")) << GetParam().t;
	}
	(void)pci;
	LoopBack(n, 6);
}

// 5.1.2: without MQ negotiated there is one pair and the control queue is
// queue 2; QEMU moves its queues so when the features are set (the QEMU
// row riscv64 pci net split tap mq=on queues=4 showed it after the
// driver's reset: queue 2 of size 64, no queue 3).  The model did not:
// queue 2 stayed receiveq2 (256) and queue 3 transmitq2.  Legacy
// interfaces end negotiation at the first queue use in the model, so
// their layout moves then, not here.
TEST_P(NetMq, WithoutMqTheControlQueueIsQueue2AndTheOtherPairsAreGone)
{
	const enum hx_transport t = GetParam().t;
	if (t == HX_MMIO_LEGACY || t == HX_PCI_LEGACY)
		GTEST_SKIP() << "legacy: no FEATURES_OK, the layout moves at the first queue use";
	Nic *n = AddPairs(4);
	ASSERT_NE(n, nullptr);
	n->model()->cfg.ctrl_queue_size = 64; // as QEMU's (the profile's)
	ASSERT_EQ(nm.Init(n), 0);
	EXPECT_EQ(n->net.pairs, 4u);
	ASSERT_EQ(vlab_net_shutdown(&n->net), 0);
	n->inited = false;
	struct vlab_virtio_dev *d = n->net.vdev;
	ASSERT_EQ(vlab_virtio_begin(d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(d, VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_NET_F_CTRL_VQ), 0, NULL, 0), 0);
	uint16_t max = 1;
	ASSERT_EQ(d->ops->queue_max(d, 3, &max), 0);
	EXPECT_EQ(max, 0u) << "queue 3 is no queue with one pair";
	ASSERT_EQ(d->ops->queue_max(d, 2, &max), 0);
	if (hx_transport_is_pci(t))
		EXPECT_EQ(max, 64u) << "the control queue's own size, as QEMU's";
	else
		EXPECT_NE(max, 0u);
	ASSERT_EQ(vlab_virtio_reset(d), 0);
	// After the reset every pair is there again, and MQ works.
	ASSERT_EQ(nm.Init(n), 0);
	EXPECT_EQ(n->net.pairs, 4u);
	LoopBack(n, 6);
}

// Shutdown: every buffer of every queue stays the device's until the
// reset; after it nothing is in flight and every queue is released.
TEST_P(NetMq, ShutdownReleasesEveryQueueAfterTheReset)
{
	Nic *n = BringPairs(4, HX_NET_QUEUE);
	ASSERT_NE(n, nullptr);
	nm.AddFault(n, DM_FAULT_STALL, 0, 0, 0);
	for (unsigned i = 0; i < 8; i++) { // at most tx_per_q (8) on one queue
		uint8_t src[6] = {0x02, 0, 0, 0, 2, (uint8_t)i};
		auto f = MakeFrame(60, i, n->net.mac, src);
		ASSERT_EQ(vlab_net_send(&n->net, f.data(), 60), 0) << i;
	}
	unsigned busy_queues = 0;
	for (unsigned p = 0; p < 4; p++)
		busy_queues += vlab_vq_in_flight(Tx(n, p)) > 0;
	EXPECT_GT(busy_queues, 1u);
	const uint64_t resets = n->model()->dv.resets;
	ASSERT_EQ(vlab_net_shutdown(&n->net), 0);
	n->inited = false;
	EXPECT_EQ(n->model()->dv.resets, resets + 1);
	EXPECT_EQ(n->net.stats.tx_dropped_at_shutdown, 8u);
	for (unsigned p = 0; p < VLAB_NET_MAX_PAIRS; p++) {
		EXPECT_FALSE(vlab_vq_allocated(Rx(n, p))) << p;
		EXPECT_FALSE(vlab_vq_allocated(Tx(n, p))) << p;
	}
	EXPECT_EQ(n->net.rx_mem, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Transports, NetMq, testing::ValuesIn(vlabtest::RingDiagonal()), vlabtest::RingName);

// max_virtqueue_pairs that lies: negotiated again without MQ, one pair.
struct Lie {
	const char *name;
	uint16_t served, claimed;
	const char *logged;
};

const Lie kLies[] = {
	{"zero", 4, 0, "max_virtqueue_pairs (not 1..0x8000) 0: negotiating again without MQ"},
	{"above_0x8000", 4, 0xffff, "max_virtqueue_pairs (not 1..0x8000) 65535: negotiating again without MQ"},
	{"no_control_queue_there", 2, 5, "no usable control queue at 2 * max_virtqueue_pairs, queue 10"},
};

class NetMqLiesCase : public testing::WithParamInterface<std::tuple<vlabtest::Ring, Lie>>,
                      public testing::Test {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	std::vector<std::string> log;
	void TearDown() override { EXPECT_EQ(vlabtest::ViolationText(nm.m), ""); }
};

TEST_P(NetMqLiesCase, CostsPairsNotTheNic)
{
	const Lie &c = std::get<1>(GetParam());
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features | VLAB_BIT(VIRTIO_NET_F_MQ);
	nm.opts.max_pairs = c.served;
	vlabtest::Capture(nm.m, &log, VLAB_LOG_INFO);
	Nic *n = nm.Add();
	ASSERT_NE(n, nullptr);
	n->model()->cfg.max_pairs_lies = true;
	n->model()->cfg.max_pairs_claimed = c.claimed;
	ASSERT_EQ(nm.Init(n), 0);
	EXPECT_TRUE(Has(log, c.logged)) << c.name;
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_MQ));
	EXPECT_EQ(n->net.pairs, 1u);
	EXPECT_EQ(n->net.max_pairs_offered, 0u);
	EXPECT_TRUE(n->model()->dv.vq[2].ready) << "the control queue at 2 without MQ";
	ASSERT_EQ(vlab_net_set_promisc(&n->net, false), 0) << "the control queue works";
	auto f = MakeFrame(64, 1, n->net.mac);
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), 64), 0);
	EXPECT_EQ(Recv(n), f);
}

INSTANTIATE_TEST_SUITE_P(Transports, NetMqLiesCase,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()), testing::ValuesIn(kLies)),
                         vlabtest::CaseName<Lie>);

} // namespace
