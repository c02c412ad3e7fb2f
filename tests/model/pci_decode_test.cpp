// BAR decoding of the model's PCI host (devmodel/src/pci_host.c): the
// functions are tried in (device, function) order, a device without
// function 0 answers nothing, the command register is honoured, and
// adding or removing a function changes what answers.
#include <gtest/gtest.h>

#include "devmodel/pci.h"

namespace {

struct Fn {
	struct dm_pci_fn f {};
	unsigned id = 0;
	static uint32_t Read(void *ctx, unsigned bar, uint64_t off, unsigned)
	{
		return static_cast<Fn *>(ctx)->id << 16 | bar << 8 | static_cast<uint32_t>(off);
	}
	static void Write(void *, unsigned, uint64_t, unsigned, uint32_t) {}
	static const struct dm_pci_fn_ops ops;

	Fn(unsigned i, uint64_t addr)
	{
		id = i;
		dm_pci_fn_init(&f, 0x1af4, 0x1000, 0x020000, 0);
		f.ops = &ops;
		f.ctx = this;
		f.bar[1].kind = DM_PCI_BAR_MEM32;
		f.bar[1].size = 0x100;
		f.bar[1].addr = addr;
		f.command = DM_PCI_CMD_MEM;
	}
};
const struct dm_pci_fn_ops Fn::ops = {Fn::Read, Fn::Write, nullptr, nullptr};

TEST(PciDecode, FunctionsAnswerInOrderOnlyWithFunctionZeroAndMemoryDecodingOn)
{
	struct dm_pci_host h;
	dm_pci_host_init(&h);
	Fn a(1, 0x1000), b(2, 0x1000), c(3, 0x2000), d(4, 0x3000);
	ASSERT_EQ(dm_pci_host_add(&h, 3, 0, &b.f), 0);
	ASSERT_EQ(dm_pci_host_add(&h, 2, 0, &a.f), 0); // same window, an earlier slot: it answers
	ASSERT_EQ(dm_pci_host_add(&h, 4, 1, &c.f), 0); // no function 0 in device 4: invisible
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), 1u << 16 | 1u << 8 | 0x10u);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x2010, 4), 0xffffffffu);
	uint64_t unclaimed = h.unclaimed;
	ASSERT_EQ(dm_pci_host_add(&h, 4, 0, &d.f), 0); // now device 4 exists, c with it
	EXPECT_EQ(dm_pci_mem_read(&h, 0x2010, 4), 3u << 16 | 1u << 8 | 0x10u);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x3004, 4), 4u << 16 | 1u << 8 | 0x04u);
	EXPECT_EQ(h.unclaimed, unclaimed);
	a.f.command = 0; // a stops decoding: b, behind it, answers; a counts the miss
	dm_pci_changed(); // set directly: the host must be told (devmodel/pci.h)
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1020, 4), 2u << 16 | 1u << 8 | 0x20u);
	EXPECT_EQ(a.f.blocked_mem, 1u);
	dm_pci_host_remove(&h, &b.f);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1020, 4), 0xffffffffu);
	dm_pci_host_remove(&h, &d.f); // device 4 loses function 0: c goes quiet
	EXPECT_EQ(dm_pci_mem_read(&h, 0x2010, 4), 0xffffffffu);
}

// The host remembers the last accesses it decoded (issue 15); every change
// that decoding depends on, made through the configuration space or the
// host, is seen at the very next access to the same address.
TEST(PciDecode, ARememberedAccessFollowsEveryChange)
{
	struct dm_pci_host h;
	dm_pci_host_init(&h);
	Fn a(1, 0x1000), b(2, 0x1000);
	ASSERT_EQ(dm_pci_host_add(&h, 3, 0, &b.f), 0);
	ASSERT_EQ(dm_pci_host_add(&h, 2, 0, &a.f), 0);
	const uint32_t from_a = 1u << 16 | 1u << 8 | 0x10u, from_b = 2u << 16 | 1u << 8 | 0x10u;
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), from_a);
	// Memory decoding off through the command register: b answers, a
	// counts the access it did not answer, each time.
	dm_pci_fn_cfg_write(&a.f, 0x04, 2, 0);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), from_b);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), from_b);
	EXPECT_EQ(a.f.blocked_mem, 2u);
	dm_pci_fn_cfg_write(&a.f, 0x04, 2, DM_PCI_CMD_MEM);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), from_a);
	// a's BAR moved away (BAR 1 written): b answers at the old address,
	// a at the new one.
	dm_pci_fn_cfg_write(&a.f, 0x14, 4, 0x5000);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), from_b);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x5010, 4), 1u << 16 | 1u << 8 | 0x10u);
	// Another width at the same address is decoded on its own: past the
	// BAR's end nobody answers.
	EXPECT_EQ(dm_pci_mem_read(&h, 0x10fc, 4), 2u << 16 | 1u << 8 | 0xfcu);
	EXPECT_EQ(dm_pci_mem_read(&h, 0x10fe, 2), (1u << 8 | 0xfeu)); // b, 16 bits of its answer
	EXPECT_EQ(dm_pci_mem_read(&h, 0x10fe, 4), 0xffffffffu);
	// b removed: nobody answers there any more.
	dm_pci_host_remove(&h, &b.f);
	const uint64_t unclaimed = h.unclaimed;
	EXPECT_EQ(dm_pci_mem_read(&h, 0x1010, 4), 0xffffffffu);
	EXPECT_EQ(h.unclaimed, unclaimed + 1);
}

} // namespace
