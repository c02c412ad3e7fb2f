// BAR addresses a function already holds (issue 10 item 2): kept only when
// sound (aligned, not wrapping, inside the host window of their type, off
// the ECAM window, the PIO window and guest RAM, overlapping no BAR placed
// before), else moved to a free place in the window and read back; a BAR
// that will not move refuses the function.  Every register access the
// driver makes is recorded: none may land outside the windows.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "blk_fixture.h"
#include "devmodel/pci.h"
#include "harness/pci_host.h"
#include "vlab/pci.h"

using vlabtest::BlkMachine;

namespace {

// The machine's platform with every register access recorded, and config
// registers that can hold what the model would not (a misaligned BAR, one
// that does not move).
struct Recorder {
	const struct vlab_platform *inner = nullptr;
	std::vector<uint64_t> mmio;  // addresses
	std::vector<uint32_t> ports;
	struct Fake {
		uint32_t value;
		bool sticky;           // never takes another address
		bool active = true;
		bool sizing = false;
	};
	std::map<uint64_t, Fake> fake;
};

Recorder *rec; // the platform ops have the machine's ctx: one recorder at a time

uint32_t FakeRead(uint64_t a, uint32_t real)
{
	auto it = rec->fake.find(a);
	if (it == rec->fake.end() || !it->second.active || it->second.sizing)
		return real;
	return it->second.value;
}

void FakeWrite(uint64_t a, uint32_t v)
{
	auto it = rec->fake.find(a);
	if (it == rec->fake.end())
		return;
	it->second.sizing = v == 0xffffffffu;
	if (!it->second.sizing && v != it->second.value && !it->second.sticky)
		it->second.active = false;
}

const struct vlab_platform_ops *RecordingOps(const struct vlab_platform *inner)
{
	static struct vlab_platform_ops ops;
	ops = *inner->ops;
	ops.mmio_read8 = [](void *c, vlab_addr_t a) {
		rec->mmio.push_back(a);
		return rec->inner->ops->mmio_read8(c, a);
	};
	ops.mmio_read16 = [](void *c, vlab_addr_t a) {
		rec->mmio.push_back(a);
		return rec->inner->ops->mmio_read16(c, a);
	};
	ops.mmio_read32 = [](void *c, vlab_addr_t a) {
		rec->mmio.push_back(a);
		return FakeRead(a, rec->inner->ops->mmio_read32(c, a));
	};
	ops.mmio_write8 = [](void *c, vlab_addr_t a, uint8_t v) {
		rec->mmio.push_back(a);
		rec->inner->ops->mmio_write8(c, a, v);
	};
	ops.mmio_write16 = [](void *c, vlab_addr_t a, uint16_t v) {
		rec->mmio.push_back(a);
		rec->inner->ops->mmio_write16(c, a, v);
	};
	ops.mmio_write32 = [](void *c, vlab_addr_t a, uint32_t v) {
		rec->mmio.push_back(a);
		FakeWrite(a, v);
		rec->inner->ops->mmio_write32(c, a, v);
	};
	return &ops;
}

uint64_t EcamOf(unsigned dev, unsigned reg)
{
	return HX_PCI_ECAM_BASE + (uint64_t(dev) << 15) + reg;
}

class PciBar : public testing::Test {
protected:
	BlkMachine bm{HX_PCI};
	Recorder r;
	struct vlab_platform plat {};
	struct vlab_pci_host h {};
	std::vector<std::string> log;

	void SetUp() override
	{
		ASSERT_NE(bm.Add(), nullptr);
		r.inner = hx_platform(bm.m);
		rec = &r;
		plat = {RecordingOps(r.inner), r.inner->ctx, r.inner->flags};
		hx_pci_host_desc(bm.m, false, true, &h);
		h.plat = &plat;
		hx_set_log(bm.m, [](void *c, enum vlab_log_level, const char *m) {
			static_cast<std::vector<std::string> *>(c)->push_back(m);
		}, &log, VLAB_LOG_WARN);
	}
	void TearDown() override
	{
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
		EXPECT_EQ(hx_stray_accesses(bm.m), 0u);
		rec = nullptr;
	}
	uint8_t Dev(const struct hx_dev *d) const { return static_cast<uint8_t>(d->pci_dev); }
	// The device holds this address in BAR i (as firmware or the device
	// left it).
	static void Hold(struct hx_dev *d, unsigned i, uint64_t a) { d->vpci->fn.bar[i].addr = a; }
	std::string Log() const
	{
		std::string s;
		for (const auto &l : log)
			s += l + "\n";
		return s;
	}
	// Every register access in the ECAM window, the memory window or the
	// PIO window's I/O part.
	void ExpectAccessesInsideTheWindows() const
	{
		size_t outside = 0;
		uint64_t first = 0;
		for (uint64_t a : r.mmio) {
			bool ok = (a >= HX_PCI_ECAM_BASE && a < HX_PCI_ECAM_BASE + HX_PCI_ECAM_SIZE) ||
			          (a >= h.mem_base && a < h.mem_base + h.mem_size) ||
			          (a >= HX_PCI_PIO_BASE + h.io_base && a < HX_PCI_PIO_BASE + h.io_base + h.io_size);
			if (!ok && outside++ == 0)
				first = a;
		}
		EXPECT_EQ(outside, 0u) << "first at 0x" << std::hex << first;
		EXPECT_FALSE(r.mmio.empty());
	}
	// Probe, check where the BARs went, init and move data.
	void ProbeAndUse(struct hx_dev *d, struct vlab_pci &pci)
	{
		ASSERT_EQ(vlab_pci_probe(&pci, &h, 0, Dev(d), 0, 0), 0) << Log();
		for (unsigned i : {1u, 4u}) {
			SCOPED_TRACE(i);
			const struct vlab_pci_bar &b = pci.bar[i];
			EXPECT_GE(b.addr, h.mem_base);
			EXPECT_LE(b.addr + b.size, h.mem_base + h.mem_size);
			EXPECT_EQ(b.addr % b.size, 0u);
			EXPECT_EQ(dm_pci_bar_addr(&d->vpci->fn, i), b.addr) << "the function holds it";
		}
		struct vlab_blk blk;
		ASSERT_EQ(vlab_blk_init(&blk, &pci.vdev, 0), 0) << Log();
		uint8_t *buf = bm.Buf(512);
		std::memset(buf, 0x3c, 512);
		ASSERT_EQ(vlab_blk_write(&blk, 3, buf, 1), 0);
		EXPECT_EQ(dm_store_ram_bytes(d->blk->store)[3 * 512], 0x3c);
		vlab_blk_shutdown(&blk);
		ExpectAccessesInsideTheWindows();
	}
	void ExpectLogged(const char *what) const
	{
		EXPECT_NE(Log().find(what), std::string::npos) << Log();
	}
};

TEST_F(PciBar, SoundPreassignedBarsAreKept)
{
	const uint64_t b1 = HX_PCI_MEM_BASE + 0x100000, b4 = HX_PCI_MEM_BASE + 0x200000;
	Hold(bm.dev, 1, b1);
	Hold(bm.dev, 4, b4);
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	EXPECT_EQ(pci.bar[1].addr, b1);
	EXPECT_EQ(pci.bar[4].addr, b4);
	EXPECT_TRUE(log.empty()) << Log();
}

TEST_F(PciBar, BarOnGuestRamIsMovedIntoTheWindow)
{
	Hold(bm.dev, 4, hx_ram_base(bm.m));
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("BAR 4 (memory, 0x4000 bytes) at 0x80000000 covers guest RAM; reassigning");
}

TEST_F(PciBar, BarOnTheEcamWindowIsMovedIntoTheWindow)
{
	// On the function's own config space: its common configuration would
	// be written into its header.
	Hold(bm.dev, 4, EcamOf(Dev(bm.dev), 0));
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("covers the ECAM window; reassigning");
}

TEST_F(PciBar, BarStraddlingTheWindowEndIsMoved)
{
	h.mem_size -= 0x2000; // the window now ends inside the last 16 KiB
	Hold(bm.dev, 4, HX_PCI_MEM_BASE + HX_PCI_MEM_SIZE - 0x4000);
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("is outside the memory window; reassigning");
}

TEST_F(PciBar, MisalignedBarIsMoved)
{
	// BAR 1 (4 KiB) reads back 2 KiB past a boundary.
	r.fake[EcamOf(Dev(bm.dev), 0x14)] = {uint32_t(HX_PCI_MEM_BASE + 0x800), false};
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("BAR 1 (memory, 0x1000 bytes) at 0x40000800 is not aligned to its size; reassigning");
}

TEST_F(PciBar, BarOverlappingAnotherFunctionsBarIsMoved)
{
	struct vlab_pci first, second;
	struct hx_dev *one = bm.dev;
	ProbeAndUse(one, first);
	struct hx_dev *other = bm.Add();
	ASSERT_NE(other, nullptr);
	Hold(other, 4, first.bar[4].addr); // exactly on the first one's BAR 4
	Hold(other, 1, first.bar[1].addr);
	ProbeAndUse(other, second);
	ExpectLogged("overlaps BAR 4 of 00:01.0; reassigning");
	ExpectLogged("overlaps BAR 1 of 00:01.0; reassigning");
	EXPECT_NE(second.bar[4].addr, first.bar[4].addr);
	// Both disks still reached through their own BARs.
	uint8_t *disk1 = dm_store_ram_bytes(one->blk->store);
	uint8_t *disk2 = dm_store_ram_bytes(other->blk->store);
	std::memset(disk1, 0, 512);
	std::memset(disk2, 0, 512);
	struct vlab_blk blk;
	ASSERT_EQ(vlab_blk_init(&blk, &first.vdev, 0), 0);
	uint8_t *buf = bm.Buf(512);
	std::memset(buf, 0x77, 512);
	ASSERT_EQ(vlab_blk_write(&blk, 0, buf, 1), 0);
	vlab_blk_shutdown(&blk);
	EXPECT_EQ(disk1[0], 0x77);
	EXPECT_EQ(disk2[0], 0);
}

TEST_F(PciBar, SixtyFourBitBarAtTheTopOfTheAddressSpaceIsMoved)
{
	Hold(bm.dev, 4, 0xffffffffffffc000ull); // the high half: far above every window
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("at 0xffffffffffffc000 is outside the memory window; reassigning");
}

TEST_F(PciBar, SixtyFourBitBarThatWrapsIsMoved)
{
	// High half all-ones, low half 8 KiB below the top: 16 KiB wrap to 0.
	Hold(bm.dev, 4, 0xffffffff00000000ull);
	r.fake[EcamOf(Dev(bm.dev), 0x20)] = {0xffffe00cu, false};
	struct vlab_pci pci;
	ProbeAndUse(bm.dev, pci);
	ExpectLogged("at 0xffffffffffffe000 wraps around the address space; reassigning");
}

TEST_F(PciBar, BarThatWillNotMoveRefusesTheFunction)
{
	// The device keeps answering guest RAM, whatever is written.
	const uint64_t ram = hx_ram_base(bm.m);
	r.fake[EcamOf(Dev(bm.dev), 0x20)] = {uint32_t(ram) | 0xcu, true};
	struct vlab_pci pci;
	int rc = vlab_pci_probe(&pci, &h, 0, Dev(bm.dev), 0, 0);
	EXPECT_EQ(rc, VLAB_EPROTO) << vlab_errname(rc);
	ExpectLogged("covers guest RAM; reassigning");
	ExpectLogged("BAR 4 reads back 0x80000000 after");
	EXPECT_FALSE(bm.dev->vpci->fn.command & (DM_PCI_CMD_MEM | DM_PCI_CMD_IO)) << "decoding stays off";
	EXPECT_EQ(h.n_placed, 0u) << "nothing of it stays placed";
	ExpectAccessesInsideTheWindows();
	EXPECT_EQ(bm.dev->vpci->modern_accesses, 0u);
}

TEST_F(PciBar, ProbingTwiceKeepsThePlaces)
{
	struct vlab_pci a, b;
	ProbeAndUse(bm.dev, a);
	ProbeAndUse(bm.dev, b);
	EXPECT_EQ(a.bar[4].addr, b.bar[4].addr);
	EXPECT_EQ(a.bar[1].addr, b.bar[1].addr);
	EXPECT_TRUE(log.empty()) << Log();
}

// A transitional device over the x86 mechanism: an I/O BAR on the 0xCF8
// ports (configuration accesses would reach it) is moved too.
TEST(PciBarIo, IoBarOnTheConfigPortsIsMoved)
{
	BlkMachine bm(HX_PCI_TRANSITIONAL);
	ASSERT_NE(bm.Add(), nullptr);
	struct vlab_pci_host h;
	hx_pci_host_desc(bm.m, true, false, &h);
	const uint32_t size = bm.dev->vpci->legacy_size;
	bm.dev->vpci->fn.bar[0].addr = 0xcf8u & ~(size - 1);
	std::vector<std::string> log;
	hx_set_log(bm.m, [](void *c, enum vlab_log_level, const char *m) {
		static_cast<std::vector<std::string> *>(c)->push_back(m);
	}, &log, VLAB_LOG_WARN);
	struct vlab_pci pci;
	ASSERT_EQ(vlab_pci_probe(&pci, &h, 0, static_cast<uint8_t>(bm.dev->pci_dev), 0,
	                         VLAB_PCI_FORCE_LEGACY), 0);
	EXPECT_GE(pci.bar[0].addr, HX_PCI_IO_BASE);
	EXPECT_LE(pci.bar[0].addr + size, HX_PCI_IO_BASE + HX_PCI_IO_SIZE);
	ASSERT_EQ(log.size(), 1u);
	EXPECT_NE(log[0].find("covers the 0xCF8 configuration ports; reassigning"), std::string::npos) << log[0];
	struct vlab_blk blk;
	ASSERT_EQ(vlab_blk_init(&blk, &pci.vdev, 0), 0);
	uint8_t *buf = bm.Buf(512);
	ASSERT_EQ(vlab_blk_read(&blk, 0, buf, 1), 0);
	vlab_blk_shutdown(&blk);
	EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
}

} // namespace
