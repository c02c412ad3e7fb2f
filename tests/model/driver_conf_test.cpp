// Driver requirements of the conformance table (docs/spec/conformance-driver.tsv)
// that need a device doing something the spec allows and the other tests
// never make it do: a fault or a device option makes the situation happen,
// and the case asserts what the driver does.  The case names are the
// table's evidence.  Any model violation fails a case.
#include <cstring>
#include <vector>

#include "blk_fixture.h"

extern "C" {
#include "devmodel/spec.h"
}

#include "devmodel/fault.h"
#include "devmodel/pci.h"
#include "harness/pci_host.h"
#include "net_fixture.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;
using vlabtest::ExpectReadWriteWorks;
using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

void ExpectNoViolation(struct hx_machine *m)
{
	EXPECT_EQ(hx_report(m)->count, 0u) << vlabtest::ViolationText(m);
}

// ---- On every transport ----

// A 1 MiB disk: machines are made fast (these run under ASan in CI too).
constexpr uint64_t kDisk = 1 << 20;

class DriverConf : public testing::TestWithParam<enum hx_transport> {
protected:
	BlkMachine bm{GetParam()};
	void SetUp() override { bm.opts.ram_bytes = kDisk; }
	void TearDown() override { ExpectNoViolation(bm.m); }
	bool Modern() const { return GetParam() != HX_MMIO_LEGACY && GetParam() != HX_PCI_LEGACY; }
	// The device offers bit on top of its features: whether the driver
	// accepted it (and the device works either way).
	bool AcceptedWhenOffered(unsigned bit)
	{
		bm.opts.features_on = 1ull << bit;
		bm.Bring();
		EXPECT_TRUE(bm.vdev()->device_features & (1ull << bit)) << "offered";
		ExpectReadWriteWorks(bm);
		return vlab_virtio_has(bm.vdev(), bit);
	}
};

// DRV-2.7.10.1-2: without EVENT_IDX (and on the split ring) the driver
// disregards avail_event.  The device writes 0x8000 there after each used
// entry: a driver that took it for EVENT_IDX's threshold would not notify
// (vring_need_event(0x8000, new, old) is false for small indices), and the
// requests would wait for ever; this one notifies each.
TEST_P(DriverConf, AvailEventIsDisregardedWithoutEventIdx)
{
	bm.opts.features_off = DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX) | DM_BIT(DM_VIRTIO_F_RING_PACKED);
	bm.Bring();
	ASSERT_FALSE(vlab_virtio_has(bm.vdev(), VIRTIO_F_RING_EVENT_IDX));
	bm.AddFault(DM_FAULT_AVAIL_EVENT, 0x8000, 0, 0);
	uint8_t *buf = bm.Buf(512);
	const uint64_t kicks = bm.dev->dv->vq[0].kicks;
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(vlab_blk_read(&bm.blk, (uint64_t)i, buf, 1), 0) << i;
	EXPECT_EQ(bm.dev->dv->vq[0].kicks - kicks, 8u) << "one notification per request";
	EXPECT_GE(bm.dev->dv->faults[0].fired, 8u) << "avail_event was written each time";
}

// DRV-2.5.1-1: capacity (64 bits) is read as two 32-bit halves, and the
// device changes it between them (generation bumped).  The driver takes the
// new value, not the torn one (low half old, high half new).  Modern
// interfaces only: a legacy interface has no generation to tell.
TEST_P(DriverConf, TornCapacityReadIsReadAgain)
{
	if (!Modern())
		GTEST_SKIP() << "no config generation on a legacy interface";
	// 2048 sectors (kDisk): 0x800.
	const uint64_t grown = 0x100000000ull; // high half 1, low half 0
	ASSERT_NE(bm.Add(), nullptr);
	bm.AddFault(DM_FAULT_CAPACITY_TEAR, grown);
	ASSERT_EQ(bm.Probe(), 0);
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_EQ(bm.dev->dv->faults[0].fired, 1u) << "the tear happened";
	EXPECT_EQ(bm.blk.info.capacity, grown) << "torn would be 0x100000800";
}

// DRV-4.1.5.4.2-1 (and 4.2.3.4 on virtio-mmio): one interrupt that says
// both "configuration changed" and "used buffers": the driver reads the
// status once and handles both: the new capacity and the completion.
TEST_P(DriverConf, ConfigChangeAndUsedBufferInOneInterrupt)
{
	bm.Bring();
	bm.AddFault(DM_FAULT_CAPACITY_CHANGE, 1024);
	vlab_blk_req r{};
	r.op = VLAB_BLK_READ;
	r.sector = 0;
	r.buf = bm.Buf(512);
	r.len = 512;
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	ASSERT_EQ(dm_virtio_isr_read(bm.dev->dv), DM_VIRTIO_ISR_QUEUE | DM_VIRTIO_ISR_CONFIG)
	    << "the device raised both before the driver looked";
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), 1) << "one used entry consumed";
	EXPECT_EQ(bm.blk.info.capacity, 1024u) << "and the configuration read again";
	EXPECT_TRUE(r.done);
	vlab_blk_req *done = nullptr;
	ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0);
	EXPECT_EQ(done, &r);
	EXPECT_EQ(r.result, 0);
	EXPECT_EQ(dm_virtio_isr_read(bm.dev->dv), 0u) << "acknowledged";
}

// DRV-6.1-6 (SHOULD): RING_PACKED is accepted whenever a modern device
// offers it (and the packed ring is then what runs).
TEST_P(DriverConf, RingPackedIsAcceptedWhenOffered)
{
	if (!Modern())
		GTEST_SKIP() << "RING_PACKED needs VERSION_1";
	EXPECT_TRUE(AcceptedWhenOffered(VIRTIO_F_RING_PACKED));
	EXPECT_TRUE(bm.dev->dv->vq[0].packed);
}

// DRV-6.1-13 (SHOULD), not followed: offered VIRTIO_F_NOTIF_CONFIG_DATA,
// the driver does not accept it (it notifies with plain queue indices);
// the table says so, and this shows it.
TEST_P(DriverConf, NotifConfigDataIsNotAccepted)
{
	if (!Modern())
		GTEST_SKIP() << "a reserved bit above 31 needs VERSION_1";
	EXPECT_FALSE(AcceptedWhenOffered(VIRTIO_F_NOTIF_CONFIG_DATA));
}

INSTANTIATE_TEST_SUITE_P(All, DriverConf, testing::ValuesIn(vlabtest::AllTransports()),
                         vlabtest::TransportName);

// ---- virtio-pci: capabilities, identity, MSI-X ----

class DriverConfPci : public testing::TestWithParam<enum hx_transport> {
protected:
	BlkMachine bm{GetParam()};
	void SetUp() override { bm.opts.ram_bytes = kDisk; }
	void TearDown() override { ExpectNoViolation(bm.m); }
	void AddWith(unsigned quirks)
	{
		ASSERT_NE(bm.Add(), nullptr);
		ASSERT_NE(bm.dev->vpci, nullptr);
		dm_vpci_set_quirks(bm.dev->vpci, quirks);
	}
};

// The same on every PCI transport, the legacy-only one included.
class DriverConfPciAll : public DriverConfPci {};

// DRV-4.1.2.2-3: matching does not depend on the Revision ID.
TEST_P(DriverConfPciAll, RevisionIdIsIgnoredByMatching)
{
	AddWith(DM_VPCI_Q_REVISION);
	ASSERT_EQ(bm.dev->vpci->fn.cfg[0x08], 0xa5);
	ASSERT_EQ(bm.Probe(), 0);
	ASSERT_EQ(bm.Init(), 0);
	ExpectReadWriteWorks(bm);
}

// DRV-4.1.4.1-3, DRV-4.1.4.1-6: every virtio capability 8 bytes longer
// than 4.1.4 defines: accepted, and the fields at their places
// (notify_off_multiplier at 16 of the notify capability).
TEST_P(DriverConfPci, LongerCapabilitiesAreAccepted)
{
	AddWith(DM_VPCI_Q_LONG_CAPS);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.notify_mult, DM_VPCI_NOTIFY_MULT);
	EXPECT_EQ(bm.bound.pci.common.off, DM_VPCI_COMMON_OFF);
	ASSERT_EQ(bm.Init(), 0);
	ExpectReadWriteWorks(bm);
}

// DRV-4.1.4.1-2 (SHOULD): a second capability of each type follows the
// first, naming a place where nothing answers: the driver uses the first.
TEST_P(DriverConfPci, FirstCapabilityOfEachTypeIsUsed)
{
	AddWith(DM_VPCI_Q_SECOND_CAPS);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.common.off, DM_VPCI_COMMON_OFF);
	EXPECT_EQ(bm.bound.pci.isr.off, DM_VPCI_ISR_OFF);
	EXPECT_EQ(bm.bound.pci.device.off, DM_VPCI_DEVICE_OFF);
	EXPECT_EQ(bm.bound.pci.notify.off, DM_VPCI_NOTIFY_OFF);
	EXPECT_EQ(bm.bound.pci.notify_mult, DM_VPCI_NOTIFY_MULT);
	ASSERT_EQ(bm.Init(), 0);
	ExpectReadWriteWorks(bm);
}

// DRV-2.5.1-4: no upper bound on the device configuration structure: the
// model's is a whole 4 KiB region, far more than the 60 bytes of blk's
// fields, and the driver takes it.
TEST_P(DriverConfPci, DeviceConfigLargerThanItsFieldsIsAccepted)
{
	AddWith(0);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.device.len, DM_VPCI_REGION_SIZE);
	EXPECT_GT(bm.bound.pci.device.len, bm.dev->dv->ops->config_len(bm.dev->dv->dev));
	ASSERT_EQ(bm.Init(), 0);
	ExpectReadWriteWorks(bm);
}

// DRV-2.5.1-5 (SHOULD): the driver checks only that the structure holds
// the fields it uses.  8 bytes (capacity alone) are enough when no
// feature that adds a field is offered; with BLK_SIZE offered (its field
// at 20) the structure is too short, and initialisation fails cleanly.
TEST_P(DriverConfPci, DeviceConfigIsCheckedOnlyForTheFieldsUsed)
{
	dm_blk_cfg_default(&bm.opts.cfg);
	bm.opts.cfg.features = DM_BIT(DM_VIRTIO_F_VERSION_1);
	bm.opts.cfg_set = true;
	AddWith(DM_VPCI_Q_SHORT_DEVICE_CFG);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.device.len, 8u);
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_EQ(bm.blk.info.capacity, 2048u);
	ExpectReadWriteWorks(bm);

	BlkMachine other(GetParam());
	other.opts.ram_bytes = kDisk;
	dm_blk_cfg_default(&other.opts.cfg);
	other.opts.cfg.features = DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_BLK_F_BLK_SIZE);
	other.opts.cfg_set = true;
	ASSERT_NE(other.Add(), nullptr);
	dm_vpci_set_quirks(other.dev->vpci, DM_VPCI_Q_SHORT_DEVICE_CFG);
	hx_set_log(other.m, nullptr, nullptr, VLAB_LOG_ERROR); // the error is expected
	ASSERT_EQ(other.Probe(), 0);
	EXPECT_NE(other.Init(), 0) << "blk_size lies beyond the structure";
	EXPECT_FALSE(dm_virtio_get_status(other.dev->dv) & VIRTIO_STATUS_DRIVER_OK);
	ExpectNoViolation(other.m);
}

// DRV-4.1.5.1.2.2-1: whatever the MSI-X table size (from 1 vector to the
// model's 64; blk wants 2, one for its queue and one for configuration
// changes), the driver works.
TEST_P(DriverConfPciAll, AnyMsixTableSizeWorks)
{
	for (uint16_t v : {1, 2, 3, 64}) {
		BlkMachine m(GetParam());
		m.opts.ram_bytes = kDisk;
		ASSERT_NE(m.Add(), nullptr);
		m.dev->vpci->cfg.msix_vectors = v;
		dm_vpci_set_quirks(m.dev->vpci, 0);
		ASSERT_EQ(m.Probe(), 0) << v;
		EXPECT_EQ(m.bound.pci.msix_vectors, v);
		ASSERT_EQ(m.Init(), 0) << v;
		ExpectReadWriteWorks(m);
		ExpectNoViolation(m.m);
	}
}

// The virtio capabilities exist on a modern interface only.
INSTANTIATE_TEST_SUITE_P(Pci, DriverConfPci, testing::Values(HX_PCI_TRANSITIONAL, HX_PCI), vlabtest::TransportName);
INSTANTIATE_TEST_SUITE_P(Pci, DriverConfPciAll, testing::Values(HX_PCI_LEGACY, HX_PCI_TRANSITIONAL, HX_PCI),
                         vlabtest::TransportName);

// ---- virtio-net ----

class DriverConfNet : public testing::TestWithParam<enum hx_transport> {
protected:
	NetMachine nm{GetParam()};
	void TearDown() override { ExpectNoViolation(nm.m); }
};

// DRV-5.1.6.4.2-1, -2, -4: each received header has flags bits 5.1.6 does
// not define (0xf8), and hdr_len, csum_start, csum_offset 0xffff (flags
// without NEEDS_CSUM, so the checksum fields mean nothing): every frame is
// delivered, intact, and nothing is dropped.
TEST_P(DriverConfNet, GarbageInReceivedHeaderIsIgnored)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	nm.AddFault(n, DM_FAULT_NET_RX_HDR, 0, 0, 0);
	for (uint32_t i = 0; i < 8; i++) {
		auto f = MakeFrame(60 + 97 * i, i, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), (uint32_t)f.size()), 0);
		EXPECT_EQ(Recv(n), f) << i;
	}
	EXPECT_EQ(n->model()->dv.faults[0].fired, 8u);
	for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++)
		EXPECT_EQ(n->net.stats.rx_dropped[r], 0u) << vlab_net_drop_name((enum vlab_net_drop)r);
}

// DRV-4.2.3.4.1-2 (SHOULD; and 4.1.5 on PCI): one used buffer notification
// for two queues: a frame sent to self (loop backend) completes on the
// transmit queue and arrives on the receive queue, one interrupt status
// for both.  After that one interrupt both queues are serviced: the frame
// is there without waiting and the transmit buffer is reclaimed.
TEST_P(DriverConfNet, OneInterruptServesEveryQueue)
{
	nm.opts.backend = HX_NET_LOOP;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	auto f = MakeFrame(200, 9, n->net.mac);
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), (uint32_t)f.size()), 0);
	ASSERT_GT(n->model()->dv.vq[DM_VIRTIO_NET_Q_TX].pushed, 0u);
	ASSERT_GT(n->model()->dv.vq[DM_VIRTIO_NET_Q_RX].pushed, 0u);
	EXPECT_EQ(vlab_net_interrupt(&n->net), (uint32_t)VIRTIO_ISR_QUEUE);
	EXPECT_EQ(dm_virtio_isr_read(&n->model()->dv), 0u) << "acknowledged";
	std::vector<uint8_t> buf(n->net.max_frame);
	uint32_t len = 0;
	ASSERT_EQ(vlab_net_recv(&n->net, buf.data(), (uint32_t)buf.size(), &len), 0);
	buf.resize(len);
	EXPECT_EQ(buf, f);
	ASSERT_EQ(vlab_net_tx_reclaim(&n->net), 0);
	EXPECT_EQ(vlab_net_tx_pending(&n->net), 0u);
}

// DRV-5.1.4.2-9 (SHOULD), not followed: offered VIRTIO_NET_F_STANDBY (62),
// the driver does not accept it (it has no failover); the table says so,
// and this shows it.
TEST_P(DriverConfNet, StandbyIsNotAccepted)
{
	nm.opts.features_on = 1ull << 62;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	if (!n->bound.vdev->legacy) {
		ASSERT_TRUE(n->bound.vdev->device_features & (1ull << 62));
	}
	EXPECT_FALSE(n->bound.vdev->features & (1ull << 62));
}

INSTANTIATE_TEST_SUITE_P(All, DriverConfNet, testing::ValuesIn(vlabtest::AllTransports()),
                         vlabtest::TransportName);

} // namespace
