// The bare-metal images' device-tree reader, on the host: what it finds in
// a tree shaped like QEMU's, and that hostile trees (truncated, corrupted,
// too deep, lying offsets) give an error or a partial result, never an
// out-of-bounds read (run under ASan) or a hang.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fdt.h"

namespace {

// Builds a flattened device tree (version 17).
class FdtBuilder {
public:
	FdtBuilder &Begin(const std::string &name)
	{
		Tok(1);
		Str(name);
		return *this;
	}
	FdtBuilder &End()
	{
		Tok(2);
		return *this;
	}
	FdtBuilder &Prop(const std::string &name, const std::vector<uint8_t> &val)
	{
		Tok(3);
		Tok(static_cast<uint32_t>(val.size()));
		Tok(NameOff(name));
		st_.insert(st_.end(), val.begin(), val.end());
		Pad();
		return *this;
	}
	FdtBuilder &PropStr(const std::string &name, const std::vector<std::string> &list)
	{
		std::vector<uint8_t> v;
		for (auto &s : list) {
			v.insert(v.end(), s.begin(), s.end());
			v.push_back(0);
		}
		return Prop(name, v);
	}
	FdtBuilder &PropCells(const std::string &name, const std::vector<uint32_t> &cells)
	{
		std::vector<uint8_t> v;
		for (uint32_t c : cells)
			for (int i = 3; i >= 0; i--)
				v.push_back(static_cast<uint8_t>(c >> (8 * i)));
		return Prop(name, v);
	}
	std::vector<uint8_t> Blob()
	{
		std::vector<uint8_t> s = st_;
		for (int i = 3; i >= 0; i--)
			s.push_back(static_cast<uint8_t>(9u >> (8 * i)));
		const uint32_t off_struct = 40 + 16, off_strings = off_struct + static_cast<uint32_t>(s.size());
		const uint32_t total = off_strings + static_cast<uint32_t>(strs_.size());
		std::vector<uint8_t> b;
		auto put = [&b](uint32_t v) {
			for (int i = 3; i >= 0; i--)
				b.push_back(static_cast<uint8_t>(v >> (8 * i)));
		};
		put(BM_FDT_MAGIC);
		put(total);
		put(off_struct);
		put(off_strings);
		put(40);  // off_mem_rsvmap
		put(17);  // version
		put(16);  // last compatible version
		put(0);   // boot cpu
		put(static_cast<uint32_t>(strs_.size()));
		put(static_cast<uint32_t>(s.size()));
		b.resize(off_struct, 0); // empty reservation map (16 zero bytes)
		b.insert(b.end(), s.begin(), s.end());
		b.insert(b.end(), strs_.begin(), strs_.end());
		return b;
	}

private:
	void Tok(uint32_t v)
	{
		for (int i = 3; i >= 0; i--)
			st_.push_back(static_cast<uint8_t>(v >> (8 * i)));
	}
	void Str(const std::string &s)
	{
		st_.insert(st_.end(), s.begin(), s.end());
		st_.push_back(0);
		Pad();
	}
	void Pad()
	{
		while (st_.size() % 4)
			st_.push_back(0);
	}
	uint32_t NameOff(const std::string &n)
	{
		uint32_t off = static_cast<uint32_t>(strs_.size());
		strs_.insert(strs_.end(), n.begin(), n.end());
		strs_.push_back(0);
		return off;
	}
	std::vector<uint8_t> st_, strs_;
};

// A tree shaped like QEMU's riscv virt (the parts the images read).
std::vector<uint8_t> QemuLikeTree()
{
	FdtBuilder b;
	b.Begin("").PropCells("#address-cells", {2}).PropCells("#size-cells", {2});
	b.Begin("cpus").PropCells("#address-cells", {1}).PropCells("#size-cells", {0})
	        .PropCells("timebase-frequency", {10000000});
	b.Begin("cpu@0").PropStr("device_type", {"cpu"}).PropCells("reg", {0}).End();
	b.End();
	b.Begin("memory@80000000").PropStr("device_type", {"memory"}).PropCells("reg", {0, 0x80000000u, 0, 0x8000000u}).End();
	b.Begin("soc").PropCells("#address-cells", {2}).PropCells("#size-cells", {2});
	b.Begin("test@100000").PropStr("compatible", {"sifive,test1", "sifive,test0", "syscon"})
	        .PropCells("reg", {0, 0x100000, 0, 0x1000}).End();
	b.Begin("virtio_mmio@10008000").PropStr("compatible", {"virtio,mmio"})
	        .PropCells("reg", {0, 0x10008000u, 0, 0x1000}).End();
	b.Begin("virtio_mmio@10001000").PropStr("compatible", {"virtio,mmio"})
	        .PropCells("reg", {0, 0x10001000u, 0, 0x1000}).End();
	b.Begin("uart@10000000").PropStr("compatible", {"ns16550a"}).PropCells("reg", {0, 0x10000000u, 0, 0x100}).End();
	b.Begin("clint@2000000").PropStr("compatible", {"sifive,clint0", "riscv,clint0"})
	        .PropCells("reg", {0, 0x2000000u, 0, 0x10000u}).End();
	b.Begin("pci@30000000").PropStr("compatible", {"pci-host-ecam-generic"})
	        .PropCells("#address-cells", {3}).PropCells("#size-cells", {2})
	        .PropCells("reg", {0, 0x30000000u, 0, 0x10000000u})
	        .PropCells("ranges", {0x01000000u, 0, 0, 0, 0x3000000u, 0, 0x10000u,
	                              0x02000000u, 0, 0x40000000u, 0, 0x40000000u, 0, 0x40000000u})
	        .End();
	b.End(); // soc
	b.End(); // root
	return b.Blob();
}

TEST(Fdt, ReadsWhatQemuPasses)
{
	auto blob = QemuLikeTree();
	struct bm_fdt_info info;
	ASSERT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), 0);
	EXPECT_EQ(info.mem_base, 0x80000000u);
	EXPECT_EQ(info.mem_size, 0x8000000u);
	ASSERT_EQ(info.n_mmio, 2u);
	EXPECT_EQ(info.mmio_base[0], 0x10001000u); // sorted by address
	EXPECT_EQ(info.mmio_base[1], 0x10008000u);
	EXPECT_EQ(info.mmio_size[0], 0x1000u);
	EXPECT_EQ(info.timebase_hz, 10000000u);
	EXPECT_EQ(info.uart_kind, BM_UART_NS16550);
	EXPECT_EQ(info.uart_base, 0x10000000u);
	EXPECT_EQ(info.exit_base, 0x100000u);
	EXPECT_EQ(info.ecam_base, 0x30000000u);
	EXPECT_EQ(info.ecam_size, 0x10000000u);
	ASSERT_EQ(info.n_pci_ranges, 2u);
	EXPECT_EQ(info.pci_range[0].space, 1u);
	EXPECT_EQ(info.pci_range[0].cpu_addr, 0x3000000u);
	EXPECT_EQ(info.pci_range[1].space, 2u);
	EXPECT_EQ(info.pci_range[1].pci_addr, 0x40000000u);
	EXPECT_EQ(info.pci_range[1].size, 0x40000000u);
	EXPECT_FALSE(info.record); // no /chosen bootargs
	EXPECT_EQ(info.clint_base, 0x2000000u);
	EXPECT_EQ(info.gic_dist, 0u); // none on riscv
	EXPECT_EQ(info.timer_virt_irq, 0u);
}

// What arm and aarch64 sleep with (QEMU's arm virt, -M virt,dumpdtb): the
// GICv2's two frames from its reg, the virtual timer's PPI (the third of
// the timer's interrupts) as an interrupt ID.
std::vector<uint8_t> ArmLikeTree(const std::string &gic, const std::vector<uint32_t> &gic_reg,
                                 const std::vector<uint32_t> &timer_irqs)
{
	FdtBuilder b;
	b.Begin("").PropCells("#address-cells", {2}).PropCells("#size-cells", {2});
	b.Begin("intc@8000000").PropStr("compatible", {gic}).PropCells("reg", gic_reg).End();
	b.Begin("timer").PropStr("compatible", {"arm,armv8-timer", "arm,armv7-timer"})
	        .PropCells("interrupts", timer_irqs).End();
	b.End();
	return b.Blob();
}

const std::vector<uint32_t> kGicReg = {0, 0x8000000u, 0, 0x10000u, 0, 0x8010000u, 0, 0x10000u};
const std::vector<uint32_t> kTimerIrqs = {1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104};

TEST(Fdt, FindsTheGicAndTheVirtualTimer)
{
	auto blob = ArmLikeTree("arm,cortex-a15-gic", kGicReg, kTimerIrqs);
	struct bm_fdt_info info;
	ASSERT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), 0);
	EXPECT_EQ(info.gic_dist, 0x8000000u);
	EXPECT_EQ(info.gic_cpu, 0x8010000u);
	EXPECT_EQ(info.timer_virt_irq, 27u);
	EXPECT_EQ(info.clint_base, 0u);
}

// Nothing to sleep with: a GICv3 (another programming model), a GIC whose
// reg has one frame, a timer with two interrupts or an SPI where the
// virtual timer's PPI should be.
TEST(Fdt, NoSleepFromAnUnusableGicOrTimer)
{
	struct bm_fdt_info info;
	auto v3 = ArmLikeTree("arm,gic-v3", kGicReg, kTimerIrqs);
	ASSERT_EQ(bm_fdt_parse(v3.data(), v3.size(), &info), 0);
	EXPECT_EQ(info.gic_dist, 0u);
	auto one = ArmLikeTree("arm,gic-400", {0, 0x8000000u, 0, 0x10000u}, kTimerIrqs);
	ASSERT_EQ(bm_fdt_parse(one.data(), one.size(), &info), 0);
	EXPECT_EQ(info.gic_dist, 0u);
	EXPECT_EQ(info.gic_cpu, 0u);
	auto two = ArmLikeTree("arm,gic-400", kGicReg, {1, 13, 0x104, 1, 14, 0x104});
	ASSERT_EQ(bm_fdt_parse(two.data(), two.size(), &info), 0);
	EXPECT_EQ(info.gic_dist, 0x8000000u);
	EXPECT_EQ(info.timer_virt_irq, 0u);
	auto spi = ArmLikeTree("arm,gic-400", kGicReg, {1, 13, 0x104, 1, 14, 0x104, 0, 11, 0x104});
	ASSERT_EQ(bm_fdt_parse(spi.data(), spi.size(), &info), 0);
	EXPECT_EQ(info.timer_virt_irq, 0u);
}

// The kernel command line (QEMU -append) asks for a trace with exactly
// "vlab.record"; anything else does not.
bool RecordWith(const std::vector<uint8_t> &bootargs)
{
	FdtBuilder b;
	b.Begin("").PropCells("#address-cells", {2}).PropCells("#size-cells", {2});
	b.Begin("chosen").Prop("bootargs", bootargs).End();
	b.End();
	auto blob = b.Blob();
	struct bm_fdt_info info;
	EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), 0);
	return info.record;
}

TEST(Fdt, BootargsAskForATrace)
{
	EXPECT_TRUE(RecordWith({'v', 'l', 'a', 'b', '.', 'r', 'e', 'c', 'o', 'r', 'd', 0}));
	EXPECT_FALSE(RecordWith({'v', 'l', 'a', 'b', 0}));
	EXPECT_FALSE(RecordWith({'v', 'l', 'a', 'b', '.', 'r', 'e', 'c', 'o', 'r', 'd', 'x', 0}));
	EXPECT_FALSE(RecordWith({}));
}

TEST(Fdt, RejectsNoTree)
{
	struct bm_fdt_info info;
	uint8_t zeros[64] = {};
	EXPECT_EQ(bm_fdt_parse(zeros, sizeof zeros, &info), BM_FDT_EMAGIC);
	EXPECT_EQ(bm_fdt_parse(nullptr, 64, &info), BM_FDT_EMAGIC);
	auto blob = QemuLikeTree();
	EXPECT_EQ(bm_fdt_parse(blob.data(), 39, &info), BM_FDT_EMAGIC);
}

TEST(Fdt, EveryTruncationIsAnError)
{
	auto blob = QemuLikeTree();
	for (size_t len = 40; len < blob.size(); len++) {
		// The blob says it is longer than what may be read.
		std::vector<uint8_t> cut(blob.begin(), blob.begin() + static_cast<long>(len));
		struct bm_fdt_info info;
		EXPECT_EQ(bm_fdt_parse(cut.data(), cut.size(), &info), BM_FDT_ETRUNC) << len;
	}
}

TEST(Fdt, CorruptedTreesNeverReadOutside)
{
	auto good = QemuLikeTree();
	uint32_t rng = 12345;
	int errors = 0;
	for (int iter = 0; iter < 20000; iter++) {
		auto blob = good;
		for (int k = 0; k < 1 + iter % 4; k++) {
			rng = rng * 1103515245u + 12345u;
			size_t pos = (rng >> 8) % blob.size();
			rng = rng * 1103515245u + 12345u;
			blob[pos] = static_cast<uint8_t>(rng >> 16);
		}
		// An exact-size heap copy: ASan sees any read past the end.
		std::vector<uint8_t> copy(blob);
		struct bm_fdt_info info;
		int rc = bm_fdt_parse(copy.data(), copy.size(), &info);
		EXPECT_LE(info.n_mmio, static_cast<unsigned>(BM_FDT_MAX_MMIO));
		EXPECT_LE(info.n_pci_ranges, static_cast<unsigned>(BM_FDT_MAX_RANGES));
		errors += rc != 0;
	}
	EXPECT_GT(errors, 0); // the corruption did reach the parser
}

TEST(Fdt, DeepNestingIsBounded)
{
	FdtBuilder b;
	for (int i = 0; i < 40; i++)
		b.Begin("n");
	for (int i = 0; i < 40; i++)
		b.End();
	auto blob = b.Blob();
	struct bm_fdt_info info;
	EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), BM_FDT_EDEPTH);
}

TEST(Fdt, MalformedStructure)
{
	struct bm_fdt_info info;
	{
		FdtBuilder b; // END_NODE with no node open
		b.Begin("").End().End();
		auto blob = b.Blob();
		EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), BM_FDT_EBADTAG);
	}
	{
		FdtBuilder b; // FDT_END with a node still open
		b.Begin("");
		auto blob = b.Blob();
		EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), BM_FDT_EBADTAG);
	}
	{
		auto blob = QemuLikeTree(); // a property length far beyond the block
		// First PROP token after the root's name: at off_struct + 8.
		const size_t p = 56 + 8;
		ASSERT_EQ(blob[p + 3], 3u);
		blob[p + 4] = 0x7f;
		EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), BM_FDT_ETRUNC);
	}
	{
		auto blob = QemuLikeTree(); // a name offset outside the strings block
		const size_t p = 56 + 8;
		blob[p + 8] = 0x7f;
		EXPECT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), BM_FDT_EBADTAG);
	}
	{
		FdtBuilder b; // a reg too short for its cells is ignored
		b.Begin("").PropCells("#address-cells", {2}).PropCells("#size-cells", {2});
		b.Begin("virtio_mmio@1").PropStr("compatible", {"virtio,mmio"}).PropCells("reg", {0, 1}).End();
		b.End();
		auto bad = b.Blob();
		EXPECT_EQ(bm_fdt_parse(bad.data(), bad.size(), &info), 0);
		EXPECT_EQ(info.n_mmio, 0u);
		EXPECT_EQ(info.mmio_dropped, 1u);
	}
}

TEST(Fdt, TooManySlotsAreCountedNotStored)
{
	FdtBuilder b;
	b.Begin("").PropCells("#address-cells", {1}).PropCells("#size-cells", {1});
	for (uint32_t i = 0; i < 40; i++)
		b.Begin("virtio_mmio").PropStr("compatible", {"virtio,mmio"}).PropCells("reg", {0xa000000u + 0x200 * (40 - i), 0x200}).End();
	b.End();
	auto blob = b.Blob();
	struct bm_fdt_info info;
	ASSERT_EQ(bm_fdt_parse(blob.data(), blob.size(), &info), 0);
	EXPECT_EQ(info.n_mmio, BM_FDT_MAX_MMIO);
	EXPECT_EQ(info.mmio_dropped, 40u - BM_FDT_MAX_MMIO);
	for (unsigned i = 1; i < info.n_mmio; i++)
		EXPECT_LT(info.mmio_base[i - 1], info.mmio_base[i]);
}

} // namespace
