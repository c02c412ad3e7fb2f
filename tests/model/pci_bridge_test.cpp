// PCI behind PCI-to-PCI bridges: vlab_pci_scan numbers the bridges depth
// first, sets up the functions behind them and opens the bridges' windows
// over their BARs, as firmware does; a disk behind one or two bridges is
// then found, probed and read and written through the model's bridge.
// Firmware's numbers are kept when sound; hostile bridge configurations
// (numbers that do not stick, more bridges than the bound, no bus number
// left, numbers beyond the ECAM window) give a clean error or are redone.
#include <cstring>
#include <string>
#include <vector>

#include "blk_fixture.h"
#include "devmodel/pci.h"
#include "harness/pci_host.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;

namespace {

int collect(void *ctx, const struct vlab_pci_func *f)
{
	char b[16];
	snprintf(b, sizeof b, "%02x:%02x.%x", f->bus, f->dev, f->fn);
	static_cast<std::vector<std::string> *>(ctx)->push_back(b);
	return 0;
}

uint32_t Cfg(struct dm_pci_bridge *br, uint32_t off, unsigned width)
{
	return dm_pci_fn_cfg_read(&br->fn, off, width);
}

class PciBridge : public testing::TestWithParam<enum hx_transport> {
public:
	BlkMachine bm{GetParam()};
	std::vector<std::string> logs;
	void SetUp() override
	{
		hx_set_log(bm.m, [](void *ctx, enum vlab_log_level, const char *msg) {
			static_cast<std::vector<std::string> *>(ctx)->push_back(msg);
		}, &logs, VLAB_LOG_INFO);
	}
	void TearDown() override
	{
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	}
	struct dm_pci_bridge *Bridge(struct dm_pci_bridge *parent, unsigned dev,
	                             uint16_t id = DM_PCI_BRIDGE_PCI)
	{
		struct dm_pci_bridge *br = hx_pci_add_bridge(bm.m, parent, dev, id);
		EXPECT_NE(br, nullptr);
		return br;
	}
	// A disk at 00.0 of br's secondary bus.
	void DiskBehind(struct dm_pci_bridge *br)
	{
		ASSERT_EQ(hx_pci_place_next_on(bm.m, br, 0, 0), 0);
		ASSERT_NE(bm.Add(), nullptr);
	}
	// The disk reads back what was written through every bridge.
	void ReadWrite()
	{
		ASSERT_EQ(bm.Init(), 0);
		uint8_t *buf = bm.Buf(512);
		std::memset(buf, 0x5a, 512);
		ASSERT_EQ(vlab_blk_write(&bm.blk, 3, buf, 1), 0);
		EXPECT_EQ(bm.Disk()[3 * 512 + 17], 0x5a);
		std::memset(buf, 0, 512);
		ASSERT_EQ(vlab_blk_read(&bm.blk, 3, buf, 1), 0);
		EXPECT_EQ(buf[511], 0x5a);
	}
	std::string Logs() const
	{
		std::string s;
		for (const auto &l : logs)
			s += l + "\n";
		return s;
	}
	bool Logged(const char *what) const { return Logs().find(what) != std::string::npos; }
};

// Every BAR of the disk lies in the bridge's window of its kind.
void ExpectInWindows(const struct vlab_pci &p, struct dm_pci_bridge *br)
{
	uint64_t mbase = (uint64_t)(Cfg(br, VLAB_PCI_MEM_BASE, 2) & 0xfff0u) << 16;
	uint64_t mlimit = (uint64_t)(Cfg(br, VLAB_PCI_MEM_BASE + 2, 2) & 0xfff0u) << 16 | 0xfffff;
	uint64_t ibase = (uint64_t)(Cfg(br, VLAB_PCI_IO_BASE, 1) & 0xf0u) << 8;
	uint64_t ilimit = (uint64_t)(Cfg(br, VLAB_PCI_IO_BASE + 1, 1) & 0xf0u) << 8 | 0xfff;
	for (unsigned i = 0; i < VLAB_PCI_NBARS; i++) {
		if (p.bar[i].size == 0)
			continue;
		SCOPED_TRACE(i);
		uint64_t lo = p.bar[i].io ? ibase : mbase, hi = p.bar[i].io ? ilimit : mlimit;
		EXPECT_GE(p.bar[i].addr, lo);
		EXPECT_LE(p.bar[i].addr + p.bar[i].size - 1, hi);
	}
}

TEST_P(PciBridge, DiskBehindOneBridgeIsFoundAndWorks)
{
	struct dm_pci_bridge *br = Bridge(nullptr, 3);
	DiskBehind(br);
	ASSERT_EQ(bm.Probe(VLAB_PCI_ALLOW_LEGACY), 0) << Logs();
	EXPECT_EQ(bm.bound.pci.id.bus, 1);
	EXPECT_EQ(bm.bound.pci.id.dev, 0);
	EXPECT_EQ(Cfg(br, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu, 0x010100u) << "primary 0, secondary 1, subordinate 1";
	uint16_t cmd = (uint16_t)Cfg(br, VLAB_PCI_COMMAND, 2);
	EXPECT_TRUE(cmd & VLAB_PCI_CMD_MASTER);
	bool legacy = GetParam() == HX_PCI_LEGACY;
	EXPECT_EQ((cmd & VLAB_PCI_CMD_IO) != 0, legacy) << "I/O forwarding only for an I/O BAR behind";
	if (!legacy) {
		EXPECT_TRUE(cmd & VLAB_PCI_CMD_MEM);
	}
	ExpectInWindows(bm.bound.pci, br);
	// The prefetchable window is closed (base above limit).
	EXPECT_GT(Cfg(br, VLAB_PCI_PREF_BASE, 2) & 0xfff0u, Cfg(br, VLAB_PCI_PREF_BASE + 2, 2) & 0xfff0u);
	ReadWrite();
}

TEST_P(PciBridge, DiskBehindTwoBridgesIsFoundAndWorks)
{
	struct dm_pci_bridge *rp = Bridge(nullptr, 2, DM_PCI_BRIDGE_ROOT_PORT);
	struct dm_pci_bridge *br = Bridge(rp, 0);
	DiskBehind(br);
	ASSERT_EQ(bm.Probe(VLAB_PCI_ALLOW_LEGACY), 0) << Logs();
	EXPECT_EQ(bm.bound.pci.id.bus, 2);
	EXPECT_EQ(Cfg(rp, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu, 0x020100u);
	EXPECT_EQ(Cfg(br, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu, 0x020201u);
	ExpectInWindows(bm.bound.pci, br);
	ExpectInWindows(bm.bound.pci, rp);
	ReadWrite();
	// Enumeration walks depth first: the bus behind a bridge right after it.
	std::vector<std::string> seen;
	ASSERT_EQ(vlab_pci_enumerate(hx_pci_firmware(bm.m), collect, &seen), 0);
	EXPECT_EQ(seen, (std::vector<std::string>{"00:00.0", "00:02.0", "01:00.0", "02:00.0"}));
}

// A bridge firmware numbered `fw` (primary | secondary << 8 | subordinate
// << 16): the disk behind it works and the bridge ends numbered `want`.
void ProbeAfterFirmware(PciBridge &t, uint32_t fw, uint32_t want, bool renumbered)
{
	struct dm_pci_bridge *br = t.Bridge(nullptr, 3);
	t.DiskBehind(br);
	dm_pci_fn_cfg_write(&br->fn, VLAB_PCI_PRIMARY_BUS, 4, fw);
	ASSERT_EQ(t.bm.Probe(VLAB_PCI_ALLOW_LEGACY), 0) << t.Logs();
	EXPECT_EQ(Cfg(br, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu, want);
	EXPECT_EQ(t.Logged("bus numbers unsound, renumbered"), renumbered) << t.Logs();
	t.ReadWrite();
}

TEST_P(PciBridge, SoundFirmwareNumbersAreKept)
{
	// 0/1/4: buses 2..4 kept for hot plug.
	ProbeAfterFirmware(*this, 0x00040100u, 0x040100u, false);
}

TEST_P(PciBridge, UnsoundFirmwareNumbersAreRedone)
{
	// Subordinate below secondary, and a secondary that is not the next bus.
	ProbeAfterFirmware(*this, 0x00030700u, 0x010100u, true);
}

TEST_P(PciBridge, NumbersBeyondTheEcamWindowAreRedone)
{
	struct dm_pci_bridge *br = Bridge(nullptr, 3);
	DiskBehind(br);
	dm_pci_fn_cfg_write(&br->fn, VLAB_PCI_PRIMARY_BUS, 4, 0x00404000u);
	struct vlab_pci_host h;
	hx_pci_host_desc(bm.m, false, true, &h);
	h.ecam_buses = 4;
	ASSERT_EQ(vlab_pci_scan(&h), 0) << Logs();
	EXPECT_EQ(Cfg(br, VLAB_PCI_PRIMARY_BUS, 4) & 0xffffffu, 0x010100u);
	std::vector<std::string> seen;
	ASSERT_EQ(vlab_pci_enumerate(&h, collect, &seen), 0);
	EXPECT_EQ(seen.back(), "01:00.0");
}

TEST_P(PciBridge, BusNumbersThatDoNotStickAreACleanError)
{
	struct dm_pci_bridge *br = Bridge(nullptr, 3);
	DiskBehind(br);
	br->bus_ro = true; // secondary stays 0: bus 0 again behind it, a loop
	EXPECT_EQ(bm.Probe(VLAB_PCI_ALLOW_LEGACY), VLAB_EPROTO);
	EXPECT_TRUE(Logged("does not take its bus numbers")) << Logs();
	std::vector<std::string> seen;
	ASSERT_EQ(vlab_pci_enumerate(hx_pci_firmware(bm.m), collect, &seen), 0);
	EXPECT_EQ(seen, (std::vector<std::string>{"00:00.0", "00:03.0"})) << "nothing behind, no loop";
}

TEST_P(PciBridge, NoBusNumberLeftIsACleanError)
{
	struct dm_pci_bridge *br = Bridge(nullptr, 3);
	DiskBehind(br);
	struct vlab_pci_host h;
	hx_pci_host_desc(bm.m, false, true, &h);
	h.ecam_buses = 1;
	EXPECT_EQ(vlab_pci_scan(&h), VLAB_ENOMEM);
	EXPECT_TRUE(Logged("no bus number left")) << Logs();
	EXPECT_FALSE(Cfg(br, VLAB_PCI_COMMAND, 2) & (VLAB_PCI_CMD_IO | VLAB_PCI_CMD_MEM)) << "no forwarding";
}

TEST_P(PciBridge, MoreBridgesThanTheBoundAreACleanError)
{
	struct dm_pci_bridge *br = nullptr;
	for (unsigned i = 0; i <= VLAB_PCI_MAX_BRIDGES; i++)
		br = Bridge(br, 1);
	DiskBehind(br);
	EXPECT_EQ(bm.Probe(VLAB_PCI_ALLOW_LEGACY), VLAB_EPROTO);
	EXPECT_TRUE(Logged("more bridges than the bound")) << Logs();
	std::vector<std::string> seen;
	ASSERT_EQ(vlab_pci_enumerate(hx_pci_firmware(bm.m), collect, &seen), 0);
	EXPECT_LE(seen.size(), 2u + VLAB_PCI_MAX_BRIDGES);
}

TEST_P(PciBridge, ScanningAgainKeepsEverything)
{
	struct dm_pci_bridge *br = Bridge(nullptr, 3);
	DiskBehind(br);
	ASSERT_EQ(bm.Probe(VLAB_PCI_ALLOW_LEGACY), 0) << Logs();
	uint32_t nums = Cfg(br, VLAB_PCI_PRIMARY_BUS, 4), mem = Cfg(br, VLAB_PCI_MEM_BASE, 4);
	ASSERT_EQ(vlab_pci_scan(hx_pci_firmware(bm.m)), 0) << Logs();
	EXPECT_EQ(Cfg(br, VLAB_PCI_PRIMARY_BUS, 4), nums);
	EXPECT_EQ(Cfg(br, VLAB_PCI_MEM_BASE, 4), mem);
	ReadWrite();
}

INSTANTIATE_TEST_SUITE_P(Transports, PciBridge, testing::Values(HX_PCI, HX_PCI_LEGACY),
                         vlabtest::TransportName);

} // namespace
