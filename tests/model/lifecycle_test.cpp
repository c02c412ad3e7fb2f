// Device lifecycle and feature negotiation, driver against the model, over
// every MMIO version.  Any model violation fails the test (TearDown).
#include <cstring>

#include "blk_fixture.h"
#include "chain_recorder.h"

using vlabtest::BlkMachine;

namespace {

class Lifecycle : public testing::TestWithParam<vlabtest::Ring> {
protected:
	BlkMachine bm{GetParam()};
	bool expect_violations = false;
	bool legacy() const { return hx_transport_legacy_only(GetParam()); }
	void TearDown() override
	{
		if (!expect_violations) {
			EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
		}
	}
};

TEST_P(Lifecycle, ProbeReadsIdentity)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	EXPECT_EQ(bm.vdev()->device_id, VIRTIO_ID_BLOCK);
	// virtio-mmio's VendorID is QEMU's "QEMU"; over PCI the virtio vendor is
	// the subsystem vendor (0x1af4).
	bool pci = GetParam() >= HX_PCI_LEGACY && GetParam() <= HX_PCI;
	EXPECT_EQ(bm.vdev()->vendor_id, pci ? 0x1af4u : 0x554d4551u);
	EXPECT_EQ(bm.vdev()->legacy, legacy());
	if (bm.bound.vdev == &bm.bound.mmio.vdev) {
		EXPECT_EQ(bm.bound.mmio.version, legacy() ? 1u : 2u);
	}
}

TEST_P(Lifecycle, InitReachesDriverOkWithStatusBitsInOrder)
{
	bm.Bring();
	uint8_t want = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK;
	if (!legacy())
		want |= VIRTIO_STATUS_FEATURES_OK;
	EXPECT_EQ(dm_virtio_get_status(bm.dev->dv), want);
	EXPECT_EQ(bm.vdev()->ops->get_status(bm.vdev()), want);
}

TEST_P(Lifecycle, NegotiatesOnlyOfferedAndImplementedFeatures)
{
	bm.Bring();
	const uint64_t offered = bm.dev->dv->host_features;
	const uint64_t got = bm.vdev()->features;
	EXPECT_EQ(got & ~offered, 0u) << "accepted a feature not offered (DRV-2.2.1-1)";
	EXPECT_EQ(bm.dev->dv->guest_features, got);
	if (legacy()) {
		EXPECT_FALSE(got & VLAB_BIT(VIRTIO_F_VERSION_1));
		EXPECT_EQ(got >> 32, 0u);
	} else {
		EXPECT_TRUE(got & VLAB_BIT(VIRTIO_F_VERSION_1)) << "DRV-6.1-1";
	}
	// The ring features are taken exactly when offered (the ring kind).
	const vlabtest::RingKind &k = GetParam().kind;
	EXPECT_EQ((got & VLAB_BIT(VIRTIO_F_RING_PACKED)) != 0, k.packed);
	EXPECT_EQ((got & VLAB_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0, k.event_idx);
	EXPECT_EQ((got & VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC)) != 0, k.indirect);
}

TEST_P(Lifecycle, QemuProfileNegotiatesAndReads)
{
	bm.opts.qemu_profile = true;
	bm.Bring();
	EXPECT_EQ(bm.blk.info.capacity, bm.opts.ram_bytes / 512);
	EXPECT_TRUE(bm.blk.info.flush);
	EXPECT_EQ(bm.vdev()->features & ~bm.dev->dv->host_features, 0u);
}

TEST_P(Lifecycle, ConfigValuesReachTheDriver)
{
	bm.opts.ram_bytes = 8 << 20;
	dm_blk_cfg_default(&bm.opts.cfg);
	bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX) | VLAB_BIT(VIRTIO_BLK_F_GEOMETRY);
	bm.opts.cfg.size_max = 8192;
	bm.opts.cfg.seg_max = 5;
	bm.opts.cfg.blk_size = 4096;
	bm.opts.cfg.cylinders = 16;
	bm.opts.cfg.heads = 16;
	bm.opts.cfg.sectors = 63;
	bm.opts.cfg_set = true;
	bm.Bring();
	EXPECT_EQ(bm.blk.info.capacity, (8u << 20) / 512);
	EXPECT_EQ(bm.blk.info.size_max, 8192u);
	EXPECT_EQ(bm.blk.info.seg_max, 5u);
	EXPECT_EQ(bm.blk.info.blk_size, 4096u);
	EXPECT_EQ(bm.blk.info.cylinders, 16u);
	EXPECT_EQ(bm.blk.info.heads, 16u);
	EXPECT_EQ(bm.blk.info.sectors, 63u);
	EXPECT_FALSE(bm.blk.info.read_only);
}

TEST_P(Lifecycle, LegacyDeviceRefusedUnlessAllowed)
{
	ASSERT_NE(bm.Add(), nullptr);
	int rc = bm.Probe(0);
	if (legacy()) {
		EXPECT_EQ(rc, VLAB_ENOTSUP) << vlab_errname(rc);
	} else {
		EXPECT_EQ(rc, 0);
	}
}

TEST_P(Lifecycle, EmptySlotIsNoDevice)
{
	ASSERT_NE(bm.Add(), nullptr);
	struct vlab_mmio other;
	// The last slot is empty, as QEMU's unused slots are (DeviceID 0).
	EXPECT_EQ(vlab_mmio_probe(&other, hx_platform(bm.m),
	                          HX_MMIO_SLOT_BASE + (HX_MMIO_SLOTS - 1) * HX_MMIO_SLOT_SIZE,
	                          VLAB_MMIO_ALLOW_LEGACY),
	          VLAB_ENODEV);
	// Nothing mapped at all: magic reads all-ones.
	EXPECT_EQ(vlab_mmio_probe(&other, hx_platform(bm.m), 0x20000000ull, VLAB_MMIO_ALLOW_LEGACY),
	          VLAB_ENODEV);
}

TEST_P(Lifecycle, ResetThatNeverCompletesTimesOutInVirtualTime)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	bm.AddFault(DM_FAULT_RESET_STUCK, 0, 0, 0);
	uint64_t t0 = hx_now(bm.m);
	int rc = bm.Init();
	EXPECT_EQ(rc, VLAB_ETIMEDOUT) << vlab_errname(rc);
	EXPECT_GE(hx_now(bm.m) - t0, VLAB_DEFAULT_TIMEOUT_NS);
	expect_violations = true;
}

TEST_P(Lifecycle, FeaturesOkRefusedFailsCleanly)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	bm.AddFault(DM_FAULT_FEATURES_OK_REFUSED, 0, 0, 0);
	int rc = bm.Init();
	if (legacy()) { // no FEATURES_OK to refuse: the driver never sets it
		EXPECT_EQ(rc, 0) << vlab_errname(rc);
		EXPECT_EQ(dm_virtio_get_status(bm.dev->dv) & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED), 0);
		return;
	}
	EXPECT_EQ(rc, VLAB_ENOTSUP) << vlab_errname(rc);
	EXPECT_TRUE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_FAILED) << "DRV-3.1.1-5";
	EXPECT_FALSE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_DRIVER_OK) << "DRV-3.1.1-6";
}

TEST_P(Lifecycle, ModernDeviceWithoutVersion1IsRefused)
{
	dm_blk_cfg_default(&bm.opts.cfg);
	bm.opts.cfg.features &= ~VLAB_BIT(VIRTIO_F_VERSION_1);
	bm.opts.cfg_set = true;
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	int rc = bm.Init();
	if (legacy()) { // a legacy interface never offers VERSION_1: nothing wrong
		EXPECT_EQ(rc, 0) << vlab_errname(rc);
		EXPECT_FALSE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_FAILED);
		return;
	}
	EXPECT_EQ(rc, VLAB_ENOTSUP) << vlab_errname(rc);
	EXPECT_TRUE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_FAILED) << "DRV-2.2.1-4";
}

TEST_P(Lifecycle, UnstableConfigGenerationIsBounded)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	bm.AddFault(DM_FAULT_CONFIG_GEN_UNSTABLE, 0, 0, 0);
	int rc = bm.Init();
	// Legacy interfaces (MMIO version 1, legacy PCI) have no generation:
	// the driver does not read one (TearDown: no access the model refuses).
	EXPECT_EQ(rc, legacy() ? 0 : VLAB_EPROTO) << vlab_errname(rc);
}

TEST_P(Lifecycle, BadConfigValuesAreRejected)
{
	struct Case {
		const char *what;
		uint64_t feature;
		uint32_t blk_size, seg_max, size_max;
	} cases[] = {
		{"blk_size not a power of two", VIRTIO_BLK_F_BLK_SIZE, 1000, 126, 0},
		{"blk_size below 512", VIRTIO_BLK_F_BLK_SIZE, 256, 126, 0},
		{"seg_max 0", VIRTIO_BLK_F_SEG_MAX, 512, 0, 0},
		{"size_max 0", VIRTIO_BLK_F_SIZE_MAX, 512, 126, 0},
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		BlkMachine one(GetParam());
		dm_blk_cfg_default(&one.opts.cfg);
		one.opts.cfg.features |= VLAB_BIT(c.feature);
		one.opts.cfg.blk_size = c.blk_size;
		one.opts.cfg.seg_max = c.seg_max;
		one.opts.cfg.size_max = c.size_max;
		one.opts.cfg_set = true;
		ASSERT_NE(one.Add(), nullptr);
		ASSERT_EQ(one.Probe(), 0);
		int rc = one.Init();
		EXPECT_EQ(rc, VLAB_ECONFIG) << vlab_errname(rc);
		EXPECT_TRUE(dm_virtio_get_status(one.dev->dv) & VIRTIO_STATUS_FAILED);
		EXPECT_EQ(hx_report(one.m)->count, 0u) << vlabtest::ViolationText(one.m);
	}
}

TEST_P(Lifecycle, NeedsResetIsReportedAndRecoveredByReinit)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_NEEDS_RESET);
	int rc = vlab_blk_read(&bm.blk, 0, buf, 1);
	EXPECT_TRUE(rc == VLAB_ENEEDSRESET || rc == VLAB_ETIMEDOUT) << vlab_errname(rc);
	rc = vlab_blk_read(&bm.blk, 0, buf, 1);
	EXPECT_TRUE(rc == VLAB_ENEEDSRESET || rc == VLAB_EBROKEN) << vlab_errname(rc);
	// A fresh initialisation (reset first) brings it back.
	vlab_blk_shutdown(&bm.blk);
	bm.inited = false;
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(Lifecycle, ReadOnlyDiskRefusesWritesAndKeepsData)
{
	bm.opts.read_only = true;
	bm.Bring();
	EXPECT_TRUE(bm.blk.info.read_only) << "DRV-5.2.6.1-2";
	uint8_t *disk = bm.Disk();
	std::memset(disk, 0x5a, 4096);
	uint8_t *buf = bm.Buf(4096);
	std::memset(buf, 0xa5, 4096);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 0, buf, 8), VLAB_EROFS);
	for (int i = 0; i < 4096; i++)
		ASSERT_EQ(disk[i], 0x5a);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);
	EXPECT_EQ(buf[0], 0x5a);
	EXPECT_EQ(bm.dev->blk->writes, 0u);
}

TEST_P(Lifecycle, GetIdReturnsTheSerial)
{
	dm_blk_cfg_default(&bm.opts.cfg);
	std::strcpy(bm.opts.cfg.serial, "VLAB-SERIAL-0001");
	bm.opts.cfg_set = true;
	bm.Bring();
	char id[21];
	ASSERT_EQ(vlab_blk_get_id(&bm.blk, id), 0);
	EXPECT_STREQ(id, "VLAB-SERIAL-0001");
	// Exactly 20 characters, no NUL: legal, and returned whole.
	std::strcpy(bm.dev->blk->cfg.serial, "ABCDEFGHIJKLMNOPQRST");
	ASSERT_EQ(vlab_blk_get_id(&bm.blk, id), 0);
	EXPECT_STREQ(id, "ABCDEFGHIJKLMNOPQRST");
}

TEST_P(Lifecycle, GetIdGarbageIsRejected)
{
	bm.Bring();
	bm.AddFault(DM_FAULT_GET_ID_UNTERMINATED);
	char id[21];
	EXPECT_EQ(vlab_blk_get_id(&bm.blk, id), VLAB_EPROTO);
}

TEST_P(Lifecycle, CapacityBoundsAreEnforcedByTheDriver)
{
	bm.opts.ram_bytes = 1 << 20;
	bm.Bring();
	uint8_t *buf = bm.Buf(1024);
	uint64_t last = bm.blk.info.capacity - 1;
	EXPECT_EQ(vlab_blk_read(&bm.blk, last, buf, 1), 0);
	EXPECT_EQ(vlab_blk_read(&bm.blk, last, buf, 2), VLAB_ERANGE) << "DRV-5.2.6.1-1";
	EXPECT_EQ(vlab_blk_read(&bm.blk, ~0ull - 1, buf, 2), VLAB_ERANGE);
	EXPECT_EQ(vlab_blk_write(&bm.blk, bm.blk.info.capacity, buf, 1), VLAB_ERANGE);
}

TEST_P(Lifecycle, BufferOutsideDmaMemoryIsRefused)
{
	bm.Bring();
	static uint8_t host_only[512];
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, host_only, 1), VLAB_EINVAL);
}

TEST_P(Lifecycle, SegMaxAndSizeMaxSplitLargeRequests)
{
	bm.opts.ram_bytes = 4 << 20;
	dm_blk_cfg_default(&bm.opts.cfg);
	bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX);
	bm.opts.cfg.size_max = 4096;
	bm.opts.cfg.seg_max = 2;
	bm.opts.cfg_set = true;
	bm.Bring();
	vlabtest::ChainRecorder rec(bm.m, bm.dev->dv);
	const uint32_t bytes = 64 * 1024;
	uint8_t *out = bm.Buf(bytes), *in = bm.Buf(bytes);
	for (uint32_t i = 0; i < bytes; i++)
		out[i] = static_cast<uint8_t>(i * 7 + 3);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 16, out, bytes / 512), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 16, in, bytes / 512), 0);
	EXPECT_EQ(std::memcmp(in, out, bytes), 0);
	EXPECT_EQ(std::memcmp(bm.Disk() + 16 * 512, out, bytes), 0);
	// 64 KiB each way, in chains of at most 2 segments of 4 KiB: every
	// chain keeps the limits, and 8 full chains carry each request.
	vlabtest::BlkLimits l = vlabtest::CheckBlkLimits(rec.Chains(0), 2, 4096);
	EXPECT_EQ(l.bad, 0u) << "the first: " << l.first_bad;
	EXPECT_EQ(l.full, 16u);
	EXPECT_EQ(rec.Chains(0).size(), 16u);
	// Header, two segments, status: four descriptors, through an indirect
	// table whenever the ring has them (the recorder reads the table).
	EXPECT_EQ(rec.Indirect(0), GetParam().kind.indirect ? 16u : 0u);
	EXPECT_EQ(rec.Indirect(0), bm.blk.vq.indirect);
}

TEST_P(Lifecycle, FlushReachesTheStore)
{
	bm.Bring();
	uint64_t before = bm.dev->blk->flushes;
	EXPECT_EQ(vlab_blk_flush(&bm.blk), 0);
	EXPECT_EQ(bm.dev->blk->flushes, before + 1);
}

TEST_P(Lifecycle, QueueCapLimitsTheQueueSize)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	int rc = bm.Init(12);
	if (GetParam() == HX_PCI_LEGACY) { // the device fixes the size: a smaller ring cannot be
		EXPECT_EQ(rc, VLAB_ERANGE) << vlab_errname(rc);
		EXPECT_FALSE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_DRIVER_OK);
		return;
	}
	ASSERT_EQ(rc, 0) << vlab_errname(rc);
	EXPECT_EQ(bm.blk.vq.size, 8u) << "a power of two not above the cap";
	uint8_t *buf = bm.Buf(512);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, Lifecycle, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
