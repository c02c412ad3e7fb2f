// virtio-net: link status and its config interrupt, the control queue's
// receive modes and MAC filter, MAC and MTU from the config, and the
// driver's defence against a device lying about lengths and num_buffers.
// Over every transport; any unexpected model violation fails the test.
#include <cstring>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

const uint8_t kOther[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t kMcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

class NetControl : public testing::TestWithParam<vlabtest::Ring> {
protected:
	NetMachine nm{GetParam()};
	bool expect_violations = false;
	void TearDown() override
	{
		if (!expect_violations) {
			EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
		}
	}
	// Inject a frame to dst; true when the driver received it intact.
	bool Passes(Nic *n, const uint8_t *dst, uint32_t seed)
	{
		auto f = MakeFrame(64, seed, dst);
		dm_net_inject(n->model(), f.data(), (uint32_t)f.size());
		int rc = 0;
		auto got = Recv(n, &rc);
		if (rc == 0) {
			EXPECT_EQ(got, f);
		}
		return rc == 0;
	}
};

TEST_P(NetControl, LinkDownAndUpWithConfigInterrupt)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_TRUE(n->net.link_up);
	const uint64_t raises = hx_irq_raises(nm.m, n->dev->irq_line);

	dm_net_set_link(n->model(), false);
	EXPECT_GT(hx_irq_raises(nm.m, n->dev->irq_line), raises) << "config-change interrupt";
	EXPECT_TRUE(vlab_net_interrupt(&n->net) & VIRTIO_ISR_CONFIG);
	EXPECT_FALSE(n->net.link_up);
	EXPECT_EQ(n->net.stats.link_changes, 1u);
	// Nothing gets through a link that is down, in either direction.
	EXPECT_FALSE(Passes(n, n->net.mac, 1));
	EXPECT_EQ(n->model()->dropped[DM_NET_DROP_LINK_DOWN], 1u);
	auto f = MakeFrame(60, 2, kOther);
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), 60), 0);
	EXPECT_EQ(dm_net_queue_count(n->model()), 0u);
	EXPECT_EQ(n->model()->dropped[DM_NET_DROP_LINK_DOWN], 2u);

	dm_net_set_link(n->model(), true);
	EXPECT_TRUE(vlab_net_interrupt(&n->net) & VIRTIO_ISR_CONFIG);
	EXPECT_TRUE(n->net.link_up);
	EXPECT_EQ(n->net.stats.link_changes, 2u);
	EXPECT_EQ(n->net.stats.config_interrupts, 2u);
	EXPECT_TRUE(Passes(n, n->net.mac, 3));
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), 60), 0);
	EXPECT_EQ(dm_net_queue_count(n->model()), 1u);
}

TEST_P(NetControl, WithoutStatusTheLinkIsAssumedUp)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features & ~VLAB_BIT(VIRTIO_NET_F_STATUS);
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_TRUE(n->net.link_up); // DRV-5.1.4.2-4
}

// GUEST_ANNOUNCE (issue 17 item 4) is refused: the driver has no network
// layer to announce a new location with (DRV-5.1.6.5.4.1-1), so it never
// negotiates the feature, and so never owes ANNOUNCE_ACK.  A device that
// sets VIRTIO_NET_S_ANNOUNCE anyway, with a config interrupt, changes
// nothing: the link is read from bit 0 alone (DRV-5.1.4.2-5), no control
// command goes out, frames still pass.
TEST_P(NetControl, GuestAnnounceIsRefusedAndAnAnnounceBitIsIgnored)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features | VLAB_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE);
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_TRUE(n->bound.vdev->device_features & VLAB_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE));
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_GUEST_ANNOUNCE));
	const uint64_t cmds = n->model()->ctrl_cmds;
	dm_net_announce(n->model()); // the lie: not negotiated
	EXPECT_TRUE(vlab_net_interrupt(&n->net) & VIRTIO_ISR_CONFIG);
	EXPECT_TRUE(n->net.link_up);
	EXPECT_EQ(n->net.stats.link_changes, 0u);
	EXPECT_EQ(n->model()->ctrl_cmds, cmds) << "no ANNOUNCE_ACK for a feature not negotiated";
	EXPECT_TRUE(Passes(n, n->net.mac, 7));
}

// MQ offered (QEMU's mq=on; issue 17 item 3) without MTU: the config space
// reaches through max_virtqueue_pairs (10 bytes, as QEMU's), which reads 1
// (one queue pair: the driver negotiates MQ, uses receiveq1/transmitq1 and
// the control queue at 2, and sends no VQ_PAIRS_SET; net_mq_test.cpp).
TEST_P(NetControl, MqOfferedWithoutMtuHasMaxVirtqueuePairsInTheConfig)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = (def.features | VLAB_BIT(VIRTIO_NET_F_MQ)) & ~VLAB_BIT(VIRTIO_NET_F_MTU);
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_TRUE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_MQ));
	EXPECT_EQ(n->net.max_pairs_offered, 1u);
	EXPECT_EQ(n->net.pairs, 1u);
	uint16_t pairs = 0;
	ASSERT_EQ(vlab_virtio_config_read(n->bound.vdev, VIRTIO_NET_CFG_MAX_VQ_PAIRS, &pairs, 2), 0);
	EXPECT_EQ(pairs, 1u);
	EXPECT_TRUE(Passes(n, n->net.mac, 8));
}

// DRV-5.1.4.2-1, DRV-5.1.4.2-6 (SHOULD): a driver that refuses an offered
// MAC or MTU is recorded by the model (the driver's own choice never does
// this; the test-only refuse mask makes it).
TEST_P(NetControl, RefusingAnOfferedMacOrMtuIsRecorded)
{
	expect_violations = true;
	nm.opts.mtu = 1500;
	struct vlab_net_cfg cfg = {};
	cfg.refuse = VLAB_BIT(VIRTIO_NET_F_MAC) | VLAB_BIT(VIRTIO_NET_F_MTU);
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	const struct dm_report *r = hx_report(nm.m);
	bool mac = false, mtu = false;
	for (unsigned i = 0; i < r->count && i < DM_REPORT_KEEP; i++) {
		mac = mac || std::strcmp(r->v[i].req_id, "DRV-5.1.4.2-1") == 0;
		mtu = mtu || std::strcmp(r->v[i].req_id, "DRV-5.1.4.2-6") == 0;
	}
	EXPECT_TRUE(mac) << vlabtest::ViolationText(nm.m);
	EXPECT_TRUE(mtu) << vlabtest::ViolationText(nm.m);
}

TEST_P(NetControl, ReceiveModesChangeWhatIsReceived)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	// The model starts promiscuous (as QEMU does).
	EXPECT_TRUE(Passes(n, kOther, 1));
	ASSERT_EQ(vlab_net_set_promisc(&n->net, false), 0);
	EXPECT_TRUE(Passes(n, n->net.mac, 2));
	EXPECT_TRUE(Passes(n, kBcast, 3));
	EXPECT_FALSE(Passes(n, kOther, 4));
	EXPECT_FALSE(Passes(n, kMcast, 5));
	EXPECT_EQ(n->model()->dropped[DM_NET_DROP_FILTER], 2u);

	ASSERT_EQ(vlab_net_set_allmulti(&n->net, true), 0);
	EXPECT_TRUE(Passes(n, kMcast, 6));
	EXPECT_FALSE(Passes(n, kOther, 7));
	ASSERT_EQ(vlab_net_set_allmulti(&n->net, false), 0);
	EXPECT_FALSE(Passes(n, kMcast, 8));

	// The MAC filter table: one unicast and one multicast address.
	ASSERT_EQ(vlab_net_set_mac_table(&n->net, &kOther, 1, &kMcast, 1), 0);
	EXPECT_TRUE(Passes(n, kOther, 9));
	EXPECT_TRUE(Passes(n, kMcast, 10));
	const uint8_t other2[6] = {0x02, 0, 0, 0, 0, 0x42};
	EXPECT_FALSE(Passes(n, other2, 11));
	ASSERT_EQ(vlab_net_set_mac_table(&n->net, nullptr, 0, nullptr, 0), 0);
	EXPECT_FALSE(Passes(n, kOther, 12));

	ASSERT_EQ(vlab_net_set_promisc(&n->net, true), 0);
	EXPECT_TRUE(Passes(n, other2, 13));
	EXPECT_EQ(n->net.stats.ctrl_commands, 6u);
	EXPECT_EQ(n->net.stats.ctrl_errors, 0u);
}

TEST_P(NetControl, MacAddrSetChangesTheStationAddress)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_EQ(vlab_net_set_promisc(&n->net, false), 0);
	ASSERT_EQ(vlab_net_set_mac(&n->net, kOther), 0);
	EXPECT_EQ(std::memcmp(n->net.mac, kOther, 6), 0);
	EXPECT_EQ(std::memcmp(n->model()->mac, kOther, 6), 0);
	EXPECT_TRUE(Passes(n, kOther, 1));
	EXPECT_EQ(vlab_net_set_mac(&n->net, kMcast), VLAB_EINVAL) << "a multicast station address";
}

TEST_P(NetControl, WithoutControlQueueModesAreNotSupported)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features & ~(VLAB_BIT(VIRTIO_NET_F_CTRL_VQ) | VLAB_BIT(VIRTIO_NET_F_CTRL_RX) |
	                                    VLAB_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR));
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_FALSE(n->net.has_ctrl);
	EXPECT_EQ(vlab_net_set_promisc(&n->net, false), VLAB_ENOTSUP);
	EXPECT_EQ(vlab_net_set_mac_table(&n->net, &kOther, 1, nullptr, 0), VLAB_ENOTSUP);
}

TEST_P(NetControl, CtrlRxWithoutCtrlVqIsNotNegotiated)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features & ~VLAB_BIT(VIRTIO_NET_F_CTRL_VQ);
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_FALSE(vlab_virtio_has(n->bound.vdev, VIRTIO_NET_F_CTRL_RX)); // DRV-2.2.1-2
	EXPECT_EQ(vlab_net_set_promisc(&n->net, true), VLAB_ENOTSUP);
}

TEST_P(NetControl, NoMacOfferedGivesALocallyAdministeredDeterministicAddress)
{
	nm.opts.no_mac = true;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_FALSE(n->net.mac_from_device);
	EXPECT_EQ(n->net.mac[0] & 0x03, 0x02) << "unicast, locally administered (DRV-5.1.4.2-3)";
	// Same seed, same address.
	NetMachine again(GetParam());
	again.opts.no_mac = true;
	Nic *n2 = again.Bring();
	ASSERT_NE(n2, nullptr);
	EXPECT_EQ(std::memcmp(n->net.mac, n2->net.mac, 6), 0);
	// Without a random source: a fixed address from the device's name.
	struct vlab_platform_ops ops = *hx_platform(nm.m)->ops;
	ops.random = nullptr;
	struct vlab_platform plat = {&ops, hx_platform(nm.m)->ctx, hx_platform(nm.m)->flags};
	Nic *n3 = nm.Add();
	ASSERT_NE(n3, nullptr);
	ASSERT_EQ(hx_bind(nm.m, n3->dev, &n3->bound, VLAB_MMIO_ALLOW_LEGACY), 0);
	n3->bound.vdev->plat = &plat;
	ASSERT_EQ(vlab_net_init(&n3->net, n3->bound.vdev, nullptr), 0);
	EXPECT_EQ(n3->net.mac[0] & 0x03, 0x02);
	vlab_net_shutdown(&n3->net);
}

TEST_P(NetControl, OfferedMtuBoundsFrames)
{
	nm.opts.mtu = 9000;
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(n->net.mtu, 9000u);
	std::vector<uint8_t> big(9015, 0x5a);
	EXPECT_EQ(vlab_net_send(&n->net, big.data(), 9015), VLAB_EINVAL);
	auto f = MakeFrame(9014, 1, n->net.mac);
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), 9014), 0);
	EXPECT_EQ(dm_net_queue_count(n->model()), 1u);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 9014), 0);
	EXPECT_EQ(Recv(n), f);
	// DEV-5.1.4.1-5: the device drops what is above mtu + 14.
	auto g = MakeFrame(9015, 2, n->net.mac);
	EXPECT_EQ(dm_net_inject(n->model(), g.data(), 9015), -1);
}

TEST_P(NetControl, MtuBelow68IsRefused)
{
	nm.opts.mtu = 67;
	Nic *n = nm.Add();
	ASSERT_NE(n, nullptr);
	EXPECT_EQ(nm.Init(n), VLAB_ECONFIG);
	EXPECT_TRUE(dm_virtio_get_status(n->dev->dv) & VIRTIO_STATUS_FAILED);
}

// ---- a device that lies ----

TEST_P(NetControl, ShortUsedLengthIsDroppedAndCounted)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	for (uint64_t bad : {0ull, 5ull, 12ull, 25ull}) {
		nm.AddFault(n, DM_FAULT_NET_RX_LEN, bad);
		auto f = MakeFrame(100, (uint32_t)bad, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), 100), 0);
		int rc = 0;
		EXPECT_TRUE(Recv(n, &rc).empty()) << "used.len " << bad << " delivered";
		EXPECT_EQ(rc, VLAB_ETIMEDOUT);
		dm_virtio_clear_faults(n->dev->dv);
	}
	EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_SHORT], 4u);
	EXPECT_EQ(n->net.stats.rx_frames, 0u);
	// The buffers came back: the next frame is fine.
	auto f = MakeFrame(200, 9, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 200), 0);
	EXPECT_EQ(Recv(n), f);
}

TEST_P(NetControl, UsedLengthAbovePostedBreaksTheDevice)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	nm.AddFault(n, DM_FAULT_USED_LEN, 1);
	auto f = MakeFrame(100, 1, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 100), 0);
	int rc = 0;
	EXPECT_TRUE(Recv(n, &rc).empty());
	EXPECT_EQ(rc, VLAB_EPROTO);
	EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_PROTO], 1u);
	EXPECT_TRUE(n->bound.vdev->broken);
	EXPECT_EQ(vlab_net_send(&n->net, f.data(), 100), VLAB_EBROKEN);
}

class NetNumBuffers : public NetControl {};

TEST_P(NetNumBuffers, InvalidNumBuffersIsDroppedAndCounted)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring(); // MRG_RXBUF offered by default
	ASSERT_NE(n, nullptr);
	ASSERT_TRUE(n->net.mrg);
	// 0; more than were ever posted; more than the used ring holds.
	for (uint64_t bad : {0ull, 5000ull, 3ull}) {
		nm.AddFault(n, DM_FAULT_NET_NUM_BUFFERS, bad);
		auto f = MakeFrame(100, (uint32_t)bad, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), 100), 0);
		int rc = 0;
		EXPECT_TRUE(Recv(n, &rc).empty()) << "num_buffers " << bad << " delivered";
		EXPECT_EQ(rc, VLAB_ETIMEDOUT);
		dm_virtio_clear_faults(n->dev->dv);
	}
	EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_NUM_BUFFERS], 3u);
	EXPECT_EQ(n->net.stats.rx_frames, 0u);
	auto f = MakeFrame(1514, 1, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 1514), 0);
	EXPECT_EQ(Recv(n), f);
	EXPECT_FALSE(n->bound.vdev->broken);
}

TEST_P(NetNumBuffers, WithoutMergeableBuffersNumBuffersIsIgnored)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features & ~VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF);
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	nm.AddFault(n, DM_FAULT_NET_NUM_BUFFERS, 0);
	auto f = MakeFrame(100, 1, n->net.mac);
	ASSERT_EQ(dm_net_inject(n->model(), f.data(), 100), 0);
	EXPECT_EQ(Recv(n), f);
}

INSTANTIATE_TEST_SUITE_P(All, NetControl, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);
INSTANTIATE_TEST_SUITE_P(All, NetNumBuffers, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
