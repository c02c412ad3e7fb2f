// PCI as the driver finds it: enumeration (multi-function devices too),
// BAR sizing and assignment from the platform's windows, the command
// register honoured by the model, both configuration mechanisms, port I/O
// and the memory-mapped port window, the notify address, transitional
// devices driven through their modern interface unless legacy is asked for.
#include <cstring>
#include <string>
#include <vector>

#include "blk_fixture.h"
#include "devmodel/pci.h"
#include "harness/pci_host.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;

namespace {

struct Found {
	std::vector<struct vlab_pci_func> v;
};

int collect(void *ctx, const struct vlab_pci_func *f)
{
	static_cast<Found *>(ctx)->v.push_back(*f);
	return 0;
}

std::string Bdf(const struct vlab_pci_func &f)
{
	char b[16];
	snprintf(b, sizeof b, "%02x:%02x.%x", f.bus, f.dev, f.fn);
	return b;
}

class PciBus : public testing::Test {
protected:
	BlkMachine bm{HX_PCI};
	bool expect_violations = false;
	void TearDown() override
	{
		if (!expect_violations) {
			EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
		}
	}
	struct vlab_pci_host *fw() { return hx_pci_firmware(bm.m); }
};

TEST_F(PciBus, BarsAreAssignedFromTheWindowAndDecodingEnabled)
{
	bm.Bring();
	const struct vlab_pci &p = bm.bound.pci;
	const struct dm_pci_fn &f = bm.dev->vpci->fn;
	ASSERT_TRUE(p.modern);
	for (unsigned i : {1u, 4u}) {
		SCOPED_TRACE(i);
		ASSERT_NE(p.bar[i].size, 0u);
		EXPECT_GE(p.bar[i].addr, HX_PCI_MEM_BASE);
		EXPECT_LE(p.bar[i].addr + p.bar[i].size, HX_PCI_MEM_BASE + HX_PCI_MEM_SIZE);
		EXPECT_EQ(p.bar[i].addr % p.bar[i].size, 0u) << "naturally aligned";
		EXPECT_EQ(dm_pci_bar_addr(&f, i), p.bar[i].addr) << "programmed into the function";
	}
	EXPECT_EQ(p.bar[4].size, DM_VPCI_MODERN_BAR_SIZE);
	EXPECT_TRUE(p.bar[4].mem64);
	EXPECT_EQ(p.bar[0].size, 0u) << "modern only: no I/O BAR";
	EXPECT_EQ(p.bar[2].size, 0u);
	// The two memory BARs do not overlap.
	EXPECT_TRUE(p.bar[1].addr + p.bar[1].size <= p.bar[4].addr ||
	            p.bar[4].addr + p.bar[4].size <= p.bar[1].addr);
	EXPECT_EQ(f.command & (DM_PCI_CMD_MEM | DM_PCI_CMD_MASTER), DM_PCI_CMD_MEM | DM_PCI_CMD_MASTER);
	EXPECT_FALSE(f.command & DM_PCI_CMD_IO) << "no I/O BAR, no I/O decoding";
}

TEST_F(PciBus, BarSizingReadsBackTheMask)
{
	bm.opts.transport = HX_PCI_TRANSITIONAL;
	ASSERT_NE(bm.Add(), nullptr);
	struct vlab_pci_host *h = fw();
	ASSERT_NE(h, nullptr);
	const uint8_t dev = static_cast<uint8_t>(bm.dev->pci_dev);
	struct Want {
		uint16_t reg;
		uint32_t mask;
	} want[] = {
		{0x10, ~(bm.dev->vpci->legacy_size - 1) | 0x1u}, // I/O
		{0x14, ~(0x1000u - 1)},                          // MSI-X table, 32-bit memory
		{0x18, 0},                                       // not implemented
		{0x20, ~(DM_VPCI_MODERN_BAR_SIZE - 1) | 0xcu},   // 64-bit prefetchable
		{0x24, 0xffffffffu},                             // its upper half
	};
	for (const auto &w : want) {
		SCOPED_TRACE(w.reg);
		uint32_t orig = vlab_pci_cfg_read(h, 0, dev, 0, w.reg, 4);
		vlab_pci_cfg_write(h, 0, dev, 0, w.reg, 4, 0xffffffffu);
		EXPECT_EQ(vlab_pci_cfg_read(h, 0, dev, 0, w.reg, 4), w.mask);
		vlab_pci_cfg_write(h, 0, dev, 0, w.reg, 4, orig);
		EXPECT_EQ(vlab_pci_cfg_read(h, 0, dev, 0, w.reg, 4), orig);
	}
}

TEST_F(PciBus, IdentityPerProfile)
{
	struct Case {
		enum hx_transport t;
		uint16_t device, subsys;
		uint8_t revision;
	} cases[] = {
		{HX_PCI_LEGACY, 0x1001, 2, 0},
		{HX_PCI_TRANSITIONAL, 0x1001, 2, 0},
		{HX_PCI, 0x1042, 0x1100, 1},
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(hx_transport_name(c.t));
		BlkMachine one(c.t);
		ASSERT_NE(one.Add(), nullptr);
		Found found;
		ASSERT_EQ(vlab_pci_enumerate(hx_pci_firmware(one.m), collect, &found), 0);
		ASSERT_EQ(found.v.size(), 2u);
		EXPECT_EQ(found.v[0].vendor, HX_PCI_BRIDGE_VENDOR);
		EXPECT_EQ(found.v[0].class_code, 0x060000u);
		const auto &f = found.v[1];
		EXPECT_EQ(Bdf(f), "00:01.0");
		EXPECT_EQ(f.vendor, 0x1af4);
		EXPECT_EQ(f.device, c.device);
		EXPECT_EQ(f.subsys_vendor, 0x1af4);
		EXPECT_EQ(f.subsys_id, c.subsys);
		EXPECT_EQ(f.revision, c.revision);
		EXPECT_EQ(f.class_code, 0x010000u);
		EXPECT_EQ(vlab_pci_virtio_type(&f), VIRTIO_ID_BLOCK);
	}
}

TEST_F(PciBus, MultiFunctionDevicesAreEnumerated)
{
	// 00:01.0 (default), then 00:03.0, 00:03.1 and 00:03.5.
	std::vector<struct hx_dev *> devs;
	ASSERT_NE(bm.Add(), nullptr);
	devs.push_back(bm.dev);
	const unsigned fns[] = {0, 1, 5};
	for (unsigned fn : fns) {
		ASSERT_EQ(hx_pci_place_next(bm.m, 3, fn), 0);
		const char *err = nullptr;
		struct hx_dev *d = hx_add_blk(bm.m, &bm.opts, &err);
		ASSERT_NE(d, nullptr) << (err ? err : "?");
		devs.push_back(d);
	}
	Found found;
	ASSERT_EQ(vlab_pci_enumerate(fw(), collect, &found), 0);
	std::vector<std::string> bdfs;
	for (const auto &f : found.v)
		bdfs.push_back(Bdf(f));
	EXPECT_EQ(bdfs, (std::vector<std::string>{"00:00.0", "00:01.0", "00:03.0", "00:03.1", "00:03.5"}));
	EXPECT_TRUE(vlab_pci_cfg_read(fw(), 0, 3, 0, VLAB_PCI_HEADER_TYPE, 1) & 0x80u);
	EXPECT_FALSE(vlab_pci_cfg_read(fw(), 0, 1, 0, VLAB_PCI_HEADER_TYPE, 1) & 0x80u);

	// Each function is its own disk.
	for (size_t i = 0; i < devs.size(); i++) {
		SCOPED_TRACE(i);
		struct hx_bound b;
		struct vlab_blk blk;
		ASSERT_EQ(hx_bind(bm.m, devs[i], &b, VLAB_PCI_ALLOW_LEGACY), 0);
		ASSERT_EQ(vlab_blk_init(&blk, b.vdev, 0), 0);
		uint8_t *buf = bm.Buf(512);
		std::memset(buf, static_cast<int>(0x10 + i), 512);
		ASSERT_EQ(vlab_blk_write(&blk, 7, buf, 1), 0);
		EXPECT_EQ(dm_store_ram_bytes(devs[i]->blk->store)[7 * 512], 0x10 + i);
		vlab_blk_shutdown(&blk);
	}
}

TEST_F(PciBus, EcamAndConfigPortsAgree)
{
	ASSERT_NE(bm.Add(), nullptr);
	struct vlab_pci_host ports;
	hx_pci_host_desc(bm.m, true, false, &ports);
	for (uint8_t dev = 0; dev < 4; dev++)
		for (uint16_t off : {0x00, 0x08, 0x2c, 0x34}) {
			SCOPED_TRACE(std::to_string(dev) + "/" + std::to_string(off));
			EXPECT_EQ(vlab_pci_cfg_read(&ports, 0, dev, 0, off, 4),
			          vlab_pci_cfg_read(fw(), 0, dev, 0, off, 4));
		}
	EXPECT_EQ(vlab_pci_cfg_read(&ports, 0, 1, 0, 2, 2), 0x1042u);
	EXPECT_EQ(vlab_pci_cfg_read(&ports, 0, 9, 0, 0, 4), 0xffffffffu) << "absent function";
}

TEST_F(PciBus, MemoryDecodingOffMeansNoAnswer)
{
	bm.Bring();
	struct vlab_pci_host *h = fw();
	const uint8_t dev = static_cast<uint8_t>(bm.dev->pci_dev);
	const uint64_t status = bm.bound.pci.bar[4].addr + DM_VPCI_COMMON_OFF + 0x14;
	const struct vlab_platform *p = hx_platform(bm.m);
	EXPECT_EQ(vlab_plat_read8(p, status), dm_virtio_get_status(bm.dev->dv));
	uint16_t cmd = static_cast<uint16_t>(vlab_pci_cfg_read(h, 0, dev, 0, VLAB_PCI_COMMAND, 2));
	vlab_pci_cfg_write(h, 0, dev, 0, VLAB_PCI_COMMAND, 2, cmd & ~VLAB_PCI_CMD_MEM);
	uint64_t before = bm.dev->vpci->fn.blocked_mem;
	EXPECT_EQ(vlab_plat_read8(p, status), 0xff);
	vlab_plat_write8(p, status, 0); // would reset the device: not decoded
	EXPECT_EQ(bm.dev->vpci->fn.blocked_mem, before + 2);
	EXPECT_NE(dm_virtio_get_status(bm.dev->dv), 0);
	vlab_pci_cfg_write(h, 0, dev, 0, VLAB_PCI_COMMAND, 2, cmd);
	EXPECT_EQ(vlab_plat_read8(p, status), dm_virtio_get_status(bm.dev->dv));
}

TEST_F(PciBus, BusMasteringOffMeansNoDma)
{
	bm.Bring();
	struct vlab_pci_host *h = fw();
	const uint8_t dev = static_cast<uint8_t>(bm.dev->pci_dev);
	uint8_t *buf = bm.Buf(512);
	std::memset(buf, 0xee, 512);
	std::memset(bm.Disk(), 0x11, 512);
	uint16_t cmd = static_cast<uint16_t>(vlab_pci_cfg_read(h, 0, dev, 0, VLAB_PCI_COMMAND, 2));
	vlab_pci_cfg_write(h, 0, dev, 0, VLAB_PCI_COMMAND, 2, cmd & ~VLAB_PCI_CMD_MASTER);
	hx_set_log(bm.m, nullptr, nullptr, VLAB_LOG_ERROR);
	int rc = vlab_blk_write(&bm.blk, 0, buf, 1);
	EXPECT_NE(rc, 0) << "a request the device could not fetch does not succeed";
	EXPECT_EQ(bm.Disk()[0], 0x11) << "nothing reached the disk";
	EXPECT_GT(bm.dev->vpci->dma_blocked, 0u);
	EXPECT_EQ(bm.dev->blk->writes, 0u);
	expect_violations = true;
	EXPECT_NE(vlabtest::ViolationText(bm.m).find("MODEL-PCI-BUS-MASTER"), std::string::npos)
		<< vlabtest::ViolationText(bm.m);
}

TEST_F(PciBus, NotifyGoesToTheQueueNotifyAddress)
{
	bm.Bring();
	const struct vlab_pci &p = bm.bound.pci;
	EXPECT_EQ(p.notify_mult, DM_VPCI_NOTIFY_MULT);
	EXPECT_EQ(p.notify.off, DM_VPCI_NOTIFY_OFF);
	EXPECT_EQ(p.notify_at[0], DM_VPCI_NOTIFY_OFF + 0u * DM_VPCI_NOTIFY_MULT);
	uint8_t *buf = bm.Buf(512);
	uint64_t before = bm.dev->vpci->notifies;
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
	EXPECT_GT(bm.dev->vpci->notifies, before);
	EXPECT_EQ(bm.dev->vpci->last_notify_off, 0u) << "queue 0: notify_off 0 x multiplier";
}

TEST_F(PciBus, TransitionalIsDrivenThroughTheModernInterface)
{
	bm.opts.transport = HX_PCI_TRANSITIONAL;
	bm.Bring();
	EXPECT_TRUE(bm.bound.pci.modern);
	EXPECT_TRUE(bm.bound.pci.transitional);
	EXPECT_FALSE(bm.vdev()->legacy);
	EXPECT_GT(bm.dev->vpci->modern_accesses, 0u);
	EXPECT_EQ(bm.dev->vpci->legacy_accesses, 0u);
}

// Legacy asked for: the I/O BAR, through real port I/O and the 0xCF8
// mechanism (as on x86) or through the memory-mapped port window.
class PciLegacyPath : public testing::TestWithParam<bool> {};

TEST_P(PciLegacyPath, TransitionalDrivenThroughTheLegacyInterfaceWhenAsked)
{
	const bool x86 = GetParam();
	BlkMachine one(HX_PCI_TRANSITIONAL);
	ASSERT_NE(one.Add(), nullptr);
	struct vlab_pci_host h;
	hx_pci_host_desc(one.m, x86, !x86, &h);
	struct vlab_pci pci;
	ASSERT_EQ(vlab_pci_probe(&pci, &h, 0, static_cast<uint8_t>(one.dev->pci_dev), 0,
	                         VLAB_PCI_FORCE_LEGACY),
	          0);
	EXPECT_FALSE(pci.modern);
	EXPECT_TRUE(pci.vdev.legacy);
	EXPECT_TRUE(pci.bar[0].io);
	EXPECT_GE(pci.bar[0].addr, HX_PCI_IO_BASE);
	EXPECT_TRUE(one.dev->vpci->fn.command & DM_PCI_CMD_IO);
	struct vlab_blk blk;
	ASSERT_EQ(vlab_blk_init(&blk, &pci.vdev, 0), 0);
	uint8_t *buf = one.Buf(4096);
	for (int i = 0; i < 4096; i++)
		buf[i] = static_cast<uint8_t>(i * 3);
	ASSERT_EQ(vlab_blk_write(&blk, 9, buf, 8), 0);
	EXPECT_EQ(std::memcmp(one.Disk() + 9 * 512, buf, 4096), 0);
	EXPECT_GT(one.dev->vpci->legacy_accesses, 0u);
	EXPECT_EQ(one.dev->vpci->modern_accesses, 0u);
	EXPECT_EQ(hx_stray_accesses(one.m), 0u);
	vlab_blk_shutdown(&blk);
	EXPECT_EQ(hx_report(one.m)->count, 0u) << vlabtest::ViolationText(one.m);
}

INSTANTIATE_TEST_SUITE_P(Pci, PciLegacyPath, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool> &i) {
	                         return std::string(i.param ? "port_io" : "pio_window");
                         });

// The model's checks of the PCI-specific driver requirements.
TEST_F(PciBus, ModelRecordsPciSpecificViolations)
{
	bm.Bring();
	const struct vlab_platform *p = hx_platform(bm.m);
	const uint64_t common = bm.bound.pci.bar[4].addr + DM_VPCI_COMMON_OFF;
	expect_violations = true;
	vlab_plat_write16(p, common + VIRTIO_PCI_COMMON_Q_SELECT, 0);
	vlab_plat_write16(p, common + VIRTIO_PCI_COMMON_Q_ENABLE, 0);     // DRV-4.1.4.3.2-6
	vlab_plat_write32(p, common + VIRTIO_PCI_COMMON_MSIX, 0);         // 32-bit write of a 16-bit field
	vlab_plat_write16(p, common + VIRTIO_PCI_COMMON_Q_NOFF, 1);       // read-only
	std::string v = vlabtest::ViolationText(bm.m);
	EXPECT_NE(v.find("DRV-4.1.4.3.2-6"), std::string::npos) << v;
	EXPECT_NE(v.find("DRV-4.1.3.1-1"), std::string::npos) << v;
	EXPECT_NE(v.find("DRV-4.1.4.3.2-1"), std::string::npos) << v;
}

} // namespace

// The PC profiles' address map (issue 13): the windows U-Boot's qemu-x86
// device tree gives (memory 0xC0000000-0xDFFFFFFF, its 32-bit and
// prefetchable windows together; ports 0x2000-0xFFFF), ECAM where QEMU's
// q35 has it (0xB0000000, 256 buses) and none on pc; BARs land there.
class PciPcMap : public testing::TestWithParam<enum hx_pci_profile> {};

TEST_P(PciPcMap, WindowsAreThePcOnesAndBarsLandInThem)
{
	const bool q35 = GetParam() == HX_PCI_PROFILE_Q35;
	BlkMachine one(HX_PCI_TRANSITIONAL);
	ASSERT_EQ(hx_pci_set_profile(one.m, GetParam()), 0);
	ASSERT_NE(one.Add(), nullptr);
	const struct vlab_pci_host *h = hx_pci_firmware(one.m);
	ASSERT_NE(h, nullptr);
	EXPECT_TRUE(h->cfg_ports);
	EXPECT_FALSE(h->pio_mmio);
	EXPECT_EQ(h->ecam_base, q35 ? 0xB0000000ull : 0ull);
	EXPECT_EQ(h->ecam_buses, 256u);
	EXPECT_EQ(h->mem_base, 0xC0000000ull);
	EXPECT_EQ(h->mem_size, 0x20000000ull);
	EXPECT_EQ(h->io_base, 0x2000u);
	EXPECT_EQ(h->io_size, 0xE000u);
	ASSERT_EQ(one.Probe(VLAB_PCI_FORCE_LEGACY), 0);
	const struct vlab_pci &p = one.bound.pci;
	EXPECT_TRUE(p.bar[0].io);
	EXPECT_GE(p.bar[0].addr, 0x2000u);
	EXPECT_LE(p.bar[0].addr + p.bar[0].size, 0x10000u);
	for (unsigned i : {1u, 4u}) {
		SCOPED_TRACE(i);
		ASSERT_NE(p.bar[i].size, 0u);
		EXPECT_GE(p.bar[i].addr, 0xC0000000ull);
		EXPECT_LE(p.bar[i].addr + p.bar[i].size, 0xE0000000ull);
	}
	// q35's ECAM answers as the ports do.
	const uint32_t id = vlab_pci_cfg_read(h, 0, static_cast<uint8_t>(one.dev->pci_dev), 0, 0, 4);
	EXPECT_EQ(id, 0x10011af4u);
	if (q35) {
		EXPECT_EQ(vlab_plat_read32(hx_platform(one.m), 0xB0000000ull + (uint64_t(one.dev->pci_dev) << 15)), id);
	}
	struct vlab_blk blk;
	ASSERT_EQ(vlab_blk_init(&blk, one.vdev(), 0), 0);
	uint8_t *buf = one.Buf(512);
	ASSERT_EQ(vlab_blk_read(&blk, 0, buf, 1), 0);
	vlab_blk_shutdown(&blk);
}

INSTANTIATE_TEST_SUITE_P(Profiles, PciPcMap, testing::Values(HX_PCI_PROFILE_PC, HX_PCI_PROFILE_Q35),
                         [](const testing::TestParamInfo<enum hx_pci_profile> &i) {
	                         return std::string(i.param == HX_PCI_PROFILE_Q35 ? "q35" : "pc");
                         });
