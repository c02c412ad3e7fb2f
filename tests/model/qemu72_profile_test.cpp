// The QEMU 7.2 profiles as the cross-check (qemu-images/run-matrix.sh)
// found QEMU: what differs per transport, and the PCI function's layout.
// Each expectation is a line QEMU's transcript showed.
#include <gtest/gtest.h>

#include "blk_fixture.h"
#include "devmodel/pci.h"
#include "net_fixture.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;
using vlabtest::NetMachine;

namespace {

uint16_t QueueMax(struct vlab_virtio_dev *d, uint16_t q)
{
	uint16_t max = 0;
	EXPECT_EQ(vlab_virtio_begin(d), 0);
	EXPECT_EQ(vlab_virtio_negotiate(d, VLAB_BIT(VIRTIO_F_VERSION_1), 0, nullptr, 0), 0);
	EXPECT_EQ(d->ops->queue_max(d, q, &max), 0);
	EXPECT_EQ(vlab_virtio_reset(d), 0);
	return max;
}

TEST(Qemu72Profile, BlkOnPciShowsTheQueueSizeAndLegacyPciOffersBadFeature)
{
	struct dm_blk_cfg c;
	hx_blk_cfg_qemu72(&c, HX_MMIO);
	EXPECT_EQ(c.queue_num_max, 1024u);
	hx_blk_cfg_qemu72(&c, HX_PCI);
	EXPECT_EQ(c.queue_num_max, 256u);
	EXPECT_FALSE(c.features & VLAB_BIT(30));
	hx_blk_cfg_qemu72(&c, HX_PCI_LEGACY);
	EXPECT_TRUE(c.features & VLAB_BIT(30));
	hx_blk_cfg_qemu72(&c, HX_MMIO_LEGACY);
	EXPECT_FALSE(c.features & VLAB_BIT(30)) << "virtio-mmio v1 does not offer it";
}

TEST(Qemu72Profile, NetFeaturesPerInterface)
{
	const struct {
		enum hx_transport t;
		uint64_t features;
		uint16_t queue_num_max;
	} seen[] = {
		{HX_MMIO, 0x0000010130bf8024ull, 1024},        {HX_PCI, 0x0000010130bf8024ull, 256},
		{HX_PCI_TRANSITIONAL, 0x0000010130bf8024ull, 256}, {HX_MMIO_LEGACY, 0x0000000039bf8064ull, 1024},
		{HX_PCI_LEGACY, 0x0000000079bf8064ull, 256},
	};
	for (const auto &s : seen) {
		struct dm_net_cfg c;
		hx_net_cfg_qemu72(&c, s.t);
		EXPECT_EQ(c.features, s.features) << hx_transport_name(s.t);
		EXPECT_EQ(c.queue_num_max, s.queue_num_max) << hx_transport_name(s.t);
		EXPECT_EQ(c.ctrl_queue_size, 64u);
	}
}

TEST(Qemu72Profile, NetControlQueueStartsAt64OnPci)
{
	NetMachine nm(HX_PCI);
	nm.opts.qemu_profile = true;
	vlabtest::Nic *nic = nm.Add();
	ASSERT_EQ(hx_bind(nm.m, nic->dev, &nic->bound, 0), 0);
	struct vlab_virtio_dev *d = nic->bound.vdev;
	EXPECT_EQ(QueueMax(d, VIRTIO_NET_Q_RX), 256u);
	EXPECT_EQ(QueueMax(d, VIRTIO_NET_Q_TX), 256u);
	EXPECT_EQ(QueueMax(d, VIRTIO_NET_Q_CTRL), 64u);
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

TEST(Qemu72Profile, PciCapabilitiesNameWholeRegions)
{
	BlkMachine bm{HX_PCI_TRANSITIONAL};
	bm.opts.qemu_profile = true;
	bm.Bring();
	const struct vlab_pci &p = bm.bound.pci;
	EXPECT_EQ(p.common.len, DM_VPCI_REGION_SIZE);
	EXPECT_EQ(p.isr.len, DM_VPCI_REGION_SIZE);
	EXPECT_EQ(p.device.len, DM_VPCI_REGION_SIZE);
	EXPECT_EQ(p.notify.len, DM_VPCI_REGION_SIZE);
	EXPECT_EQ(p.bar[0].size, 0x80u) << "legacy header with MSI-X + 57 config bytes, rounded up";
	EXPECT_EQ(p.bar[4].size, (uint64_t)DM_VPCI_MODERN_BAR_SIZE);
	EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
}

// QEMU 7.2 offers RING_RESET on PCI; the model implements queue_reset.
TEST(Qemu72Profile, PciQueueResetOnlyWhenNegotiatedAndBackToDefaults)
{
	BlkMachine bm{HX_PCI};
	bm.opts.qemu_profile = true;
	bm.Bring();
	ASSERT_TRUE(bm.bound.vdev->device_features & VLAB_BIT(VIRTIO_F_RING_RESET));
	const struct vlab_platform *p = hx_platform(bm.m);
	const uint64_t common = bm.bound.pci.bar[4].addr + DM_VPCI_COMMON_OFF;
	const uint64_t q_reset = 0x3a; // queue_reset (4.1.4.3)
	vlab_plat_write16(p, common + VIRTIO_PCI_COMMON_Q_SELECT, 0);
	EXPECT_EQ(vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_ENABLE), 1u);
	// The driver does not negotiate RING_RESET: the field is not there.
	ASSERT_FALSE(bm.bound.vdev->features & VLAB_BIT(VIRTIO_F_RING_RESET));
	vlab_plat_write16(p, common + q_reset, 1);
	EXPECT_EQ(vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_ENABLE), 1u) << "ignored without RING_RESET";
	// As if it had been negotiated (the model's side only: no driver here
	// implements queue reset).
	bm.dev->dv->guest_features |= VLAB_BIT(VIRTIO_F_RING_RESET);
	const uint16_t start_size = vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_SIZE);
	vlab_plat_write16(p, common + VIRTIO_PCI_COMMON_Q_SIZE, 16); // a driver's change
	vlab_plat_write16(p, common + q_reset, 1);
	EXPECT_EQ(vlab_plat_read16(p, common + q_reset), 0u) << "DEV-4.1.4.3.1-13";
	EXPECT_EQ(vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_ENABLE), 0u) << "DEV-4.1.4.3.1-13";
	EXPECT_EQ(vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_SIZE), start_size) << "DEV-2.6.1.1.1-2";
	EXPECT_EQ(vlab_plat_read16(p, common + VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_PCI_NO_VECTOR) << "DEV-2.6.1.1.1-2";
	EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
}

} // namespace
