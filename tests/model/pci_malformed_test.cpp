// Malformed virtio-pci functions: each ends in a clean error from probe or
// init, never a crash or a hang; the harmless oddities (unknown cfg_type, a
// capability naming a reserved BAR, refused MSI-X vectors) are ignored or
// worked around.  Any model violation fails a test that does not expect it.
#include <cstring>

#include "blk_fixture.h"
#include "devmodel/pci.h"
#include "harness/pci_host.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;

namespace {

class PciMalformed : public testing::TestWithParam<enum hx_transport> {
protected:
	BlkMachine bm{GetParam()};
	void TearDown() override
	{
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	}
	void AddWith(unsigned quirks)
	{
		ASSERT_NE(bm.Add(), nullptr);
		ASSERT_NE(bm.dev->vpci, nullptr);
		dm_vpci_set_quirks(bm.dev->vpci, quirks);
		hx_set_log(bm.m, nullptr, nullptr, VLAB_LOG_ERROR); // errors are expected here
	}
	void ReadWorks()
	{
		uint8_t *buf = bm.Buf(4096);
		std::memset(bm.Disk(), 0x6b, 4096);
		ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);
		EXPECT_EQ(buf[0], 0x6b);
		EXPECT_EQ(buf[4095], 0x6b);
	}
};

TEST_P(PciMalformed, CapabilityListThatLoopsIsAnError)
{
	AddWith(DM_VPCI_Q_CAP_LOOP);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(PciMalformed, CapabilityOutsideConfigSpaceIsAnError)
{
	AddWith(DM_VPCI_Q_CAP_OUTSIDE);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(PciMalformed, StructureBeyondItsBarIsAnError)
{
	AddWith(DM_VPCI_Q_STRUCT_BEYOND_BAR);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(PciMalformed, MissingCommonConfigIsAnError)
{
	AddWith(DM_VPCI_Q_NO_COMMON);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(PciMalformed, StructureInABarOfSizeZeroIsAnError)
{
	AddWith(DM_VPCI_Q_BAR_SIZE_ZERO);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(PciMalformed, NotifyMultiplierThatOverflowsIsCaughtAtQueueSetup)
{
	// 2^31 x queue_notify_off 2 wraps to 0 in 32 bits: in 64 bits it is
	// far beyond the 4 KiB notify structure.
	AddWith(DM_VPCI_Q_NOTIFY_OVERFLOW);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.notify_mult, 0x80000000u);
	int rc = bm.Init();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
	EXPECT_TRUE(bm.vdev()->broken);
	EXPECT_EQ(bm.dev->vpci->notifies, 0u) << "nothing written to a wrapped address";
	EXPECT_FALSE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_DRIVER_OK);
}

TEST_P(PciMalformed, UnknownCfgTypeIsIgnored)
{
	AddWith(DM_VPCI_Q_UNKNOWN_CFG_TYPE);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_NE(bm.bound.pci.common.cap, 0x40) << "the cfg_type 0x42 capability was skipped";
	ASSERT_EQ(bm.Init(), 0);
	ReadWorks();
}

TEST_P(PciMalformed, ReservedBarIsIgnored)
{
	AddWith(DM_VPCI_Q_RESERVED_BAR);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.bound.pci.common.bar, DM_VPCI_MODERN_BAR) << "DRV-4.1.4.1-4";
	EXPECT_NE(bm.bound.pci.common.cap, 0x40);
	ASSERT_EQ(bm.Init(), 0);
	ReadWorks();
}

TEST_P(PciMalformed, MsixVectorNotAcceptedFallsBackWithoutVectors)
{
	AddWith(DM_VPCI_Q_MSIX_REFUSE);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_TRUE(bm.bound.pci.msix_ok);
	ASSERT_EQ(bm.Init(), 0);
	// DRV-4.1.5.1.2.2-5: the read-back NO_VECTOR was seen; -6: go on without.
	EXPECT_FALSE(bm.bound.pci.msix_ok);
	EXPECT_EQ(bm.dev->vpci->qvector[0], DM_VPCI_NO_VECTOR);
	ReadWorks();
}

TEST_P(PciMalformed, VectorsAreAssignedWhenAccepted)
{
	AddWith(0);
	ASSERT_EQ(bm.Probe(), 0);
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_TRUE(bm.bound.pci.msix_ok);
	EXPECT_EQ(bm.dev->vpci->config_vector, 0u);
	EXPECT_EQ(bm.dev->vpci->qvector[0], 1u);
}

// Every combination of the quirks: a clean result each time, and only the
// harmless ones may let initialisation succeed.
TEST_P(PciMalformed, EveryCombinationEndsCleanly)
{
	const unsigned fatal = DM_VPCI_Q_CAP_LOOP | DM_VPCI_Q_CAP_OUTSIDE | DM_VPCI_Q_STRUCT_BEYOND_BAR |
	                       DM_VPCI_Q_NOTIFY_OVERFLOW | DM_VPCI_Q_NO_COMMON | DM_VPCI_Q_BAR_SIZE_ZERO;
	struct hx_machine_cfg mc;
	hx_machine_cfg_default(&mc);
	mc.ram_size = 4u << 20;
	for (unsigned q = 0; q < (1u << 9); q++) {
		SCOPED_TRACE(q);
		BlkMachine one(GetParam(), &mc);
		one.opts.ram_bytes = 64 * 1024;
		ASSERT_NE(one.Add(), nullptr);
		dm_vpci_set_quirks(one.dev->vpci, q);
		hx_set_log(one.m, nullptr, nullptr, VLAB_LOG_ERROR);
		int rc = one.Probe();
		if (rc == 0)
			rc = one.Init();
		if (q & fatal) {
			EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
		} else {
			EXPECT_EQ(rc, 0) << vlab_errname(rc);
		}
		EXPECT_EQ(hx_report(one.m)->count, 0u) << vlabtest::ViolationText(one.m);
	}
}

// Move the virtio capability of cfg_type type to (bar, off, len), as a
// device could describe it.
void PatchCap(struct dm_vpci *vp, uint8_t type, uint8_t bar, uint32_t off, uint32_t len)
{
	for (unsigned i = 0; i < vp->ncaps; i++) {
		if (vp->caps[i].type != type)
			continue;
		uint8_t *c = &vp->fn.cfg[vp->caps[i].pos];
		c[4] = bar;
		std::memcpy(c + 8, &off, 4);
		std::memcpy(c + 12, &len, 4);
		return;
	}
	ADD_FAILURE() << "no capability of cfg_type " << unsigned(type);
}

// Item 6 of issue 10: a structure on top of another means a write to one
// lands in the other.  Every structure must stand alone.
TEST_P(PciMalformed, DeviceConfigOnTopOfTheCommonConfigIsRefused)
{
	AddWith(0);
	PatchCap(bm.dev->vpci, VIRTIO_PCI_CAP_DEVICE_CFG, DM_VPCI_MODERN_BAR, DM_VPCI_COMMON_OFF + 0x10,
	         0x100);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
	EXPECT_EQ(bm.dev->vpci->modern_accesses, 0u) << "refused before touching the structures";
}

TEST_P(PciMalformed, NotifyOnTopOfTheIsrIsRefused)
{
	AddWith(0);
	PatchCap(bm.dev->vpci, VIRTIO_PCI_CAP_NOTIFY_CFG, DM_VPCI_MODERN_BAR, DM_VPCI_ISR_OFF - 2, 4);
	int rc = bm.Probe();
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
}

INSTANTIATE_TEST_SUITE_P(Pci, PciMalformed, testing::Values(HX_PCI, HX_PCI_TRANSITIONAL),
                         vlabtest::TransportName);

// A transitional device whose modern device-config structure lies on the
// legacy register block at the start of its I/O BAR (the PCI probe fuzzer's
// finding): a config write would land on QueuePFN / QueueNotify.
TEST(PciOverlap, DeviceConfigOnTheLegacyRegisterBlockIsRefused)
{
	for (uint32_t off : {0x08u, 0x10u, 0x14u}) {
		SCOPED_TRACE(off);
		BlkMachine bm(HX_PCI_TRANSITIONAL);
		ASSERT_NE(bm.Add(), nullptr);
		hx_set_log(bm.m, nullptr, nullptr, VLAB_LOG_ERROR);
		// The header is 0x18 bytes with MSI-X (the model has it): 0x14
		// still overlaps the MSI-X vector fields.
		ASSERT_NE(bm.dev->vpci->msix_pos, 0);
		PatchCap(bm.dev->vpci, VIRTIO_PCI_CAP_DEVICE_CFG, DM_VPCI_LEGACY_BAR, off, 4);
		int rc = bm.Probe();
		EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
		EXPECT_EQ(bm.dev->vpci->legacy_accesses, 0u);
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	}
}

TEST(PciOverlap, DeviceConfigAfterTheLegacyHeaderIsAccepted)
{
	// Odd but not overlapping: the legacy device-config area, past the
	// 0x18-byte header.
	BlkMachine bm(HX_PCI_TRANSITIONAL);
	ASSERT_NE(bm.Add(), nullptr);
	PatchCap(bm.dev->vpci, VIRTIO_PCI_CAP_DEVICE_CFG, DM_VPCI_LEGACY_BAR, 0x18, 0x20);
	EXPECT_EQ(bm.Probe(), 0);
}

} // namespace
