// The images' PCI host from the device tree (common/pci_host.c), on the
// host: QEMU's riscv and arm virt bridges become the driver's host, and
// ranges that make no sense are not used.
#include <gtest/gtest.h>

#include <cstring>

#include "pci_host.h"

namespace {

struct bm_fdt_info Tree(uint64_t ecam, uint64_t ecam_size)
{
	struct bm_fdt_info f;
	memset(&f, 0, sizeof f);
	f.ecam_base = ecam;
	f.ecam_size = ecam_size;
	return f;
}

void Range(struct bm_fdt_info *f, uint32_t space, uint64_t pci, uint64_t cpu, uint64_t size)
{
	f->pci_range[f->n_pci_ranges++] = {space, pci, cpu, size};
}

const struct vlab_platform kPlat = {};

TEST(BmPciHost, RiscvVirt)
{
	struct bm_fdt_info f = Tree(0x30000000, 0x10000000);
	Range(&f, 1, 0, 0x3000000, 0x10000);
	Range(&f, 2, 0x40000000, 0x40000000, 0x40000000);
	Range(&f, 3, 0x400000000ull, 0x400000000ull, 0x400000000ull);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, &h), VLAB_OK);
	EXPECT_EQ(h.ecam_base, 0x30000000u);
	EXPECT_EQ(h.ecam_buses, 256u);
	EXPECT_EQ(h.mem_base, 0x40000000u);
	EXPECT_EQ(h.mem_size, 0x40000000u);
	EXPECT_TRUE(h.pio_mmio);
	EXPECT_EQ(h.pio_mmio_base, 0x3000000u);
	EXPECT_EQ(h.io_base, 0x1000u) << "port 0 and the low ports are not handed out";
	EXPECT_EQ(h.io_size, 0xf000u);
	EXPECT_FALSE(h.cfg_ports);
}

TEST(BmPciHost, ArmVirtHighEcam)
{
	struct bm_fdt_info f = Tree(0x4010000000ull, 0x10000000);
	Range(&f, 1, 0, 0x3eff0000, 0x10000);
	Range(&f, 2, 0x10000000, 0x10000000, 0x2eff0000);
	Range(&f, 3, 0x8000000000ull, 0x8000000000ull, 0x8000000000ull);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, &h), VLAB_OK);
	EXPECT_EQ(h.ecam_base, 0x4010000000ull);
	EXPECT_EQ(h.mem_base, 0x10000000u);
	EXPECT_EQ(h.pio_mmio_base, 0x3eff0000u);
}

TEST(BmPciHost, HostileRangesAreNotUsed)
{
	struct vlab_pci_host h;
	struct bm_fdt_info f = Tree(0x30000000, 0x1000); // less than one bus
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, &h), VLAB_ENODEV);
	f = Tree(~0ull - 0x1000, 0x10000000); // wraps
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, &h), VLAB_ENODEV);

	f = Tree(0x30000000, 0x100000);
	Range(&f, 2, 0x40000000, 0x80000000, 0x1000000); // not identity-mapped
	Range(&f, 2, 0x1000, 0xfffffffffffff000ull, 0x10000); // wraps
	Range(&f, 1, 0xfffff000, 0x3000000, 0x10000);         // ports beyond 32 bits
	Range(&f, 1, 0, 0x3000000, 0x800);                    // only low ports
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, &h), VLAB_ENODEV) << "no usable memory window";
	EXPECT_FALSE(h.pio_mmio);
	EXPECT_EQ(h.ecam_buses, 1u);
}

} // namespace
