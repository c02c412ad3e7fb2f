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
const uint64_t k64 = ~0ull;        // a 64-bit CPU reaches everything
const uint64_t k32 = 0xffffffffull; // arm, riscv32

TEST(BmPciHost, RiscvVirt)
{
	struct bm_fdt_info f = Tree(0x30000000, 0x10000000);
	Range(&f, 1, 0, 0x3000000, 0x10000);
	Range(&f, 2, 0x40000000, 0x40000000, 0x40000000);
	Range(&f, 3, 0x400000000ull, 0x400000000ull, 0x400000000ull);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_OK);
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

// x86 pc (x86/arch.c): no tree and no ECAM; configuration through ports
// 0xCF8/0xCFC and I/O BARs through port I/O, the ports' CPU address unused.
TEST(BmPciHost, X86PcConfigPorts)
{
	struct bm_fdt_info f = Tree(0, 0);
	f.pci_cfg_ports = true;
	f.mem_size = 0x8000000;
	Range(&f, 1, 0x1000, 0x1000, 0xf000);
	Range(&f, 2, 0xe0000000, 0xe0000000, 0x1ec00000);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_OK);
	EXPECT_TRUE(h.cfg_ports);
	EXPECT_EQ(h.ecam_buses, 256u);
	EXPECT_FALSE(h.pio_mmio) << "ports are reached by in/out, not through memory";
	EXPECT_EQ(h.pio_mmio_base, 0u);
	EXPECT_EQ(h.io_base, 0x1000u);
	EXPECT_EQ(h.io_size, 0xf000u);
	EXPECT_EQ(h.mem_base, 0xe0000000u);
	EXPECT_EQ(h.mem_size, 0x1ec00000u);
	EXPECT_EQ(h.ram_size, 0x8000000u);
	// The same tree without the flag has no ECAM: no host.
	f.pci_cfg_ports = false;
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_ENODEV);
}

TEST(BmPciHost, ArmVirtHighEcam)
{
	struct bm_fdt_info f = Tree(0x4010000000ull, 0x10000000);
	Range(&f, 1, 0, 0x3eff0000, 0x10000);
	Range(&f, 2, 0x10000000, 0x10000000, 0x2eff0000);
	Range(&f, 3, 0x8000000000ull, 0x8000000000ull, 0x8000000000ull);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_OK);
	EXPECT_EQ(h.ecam_base, 0x4010000000ull);
	EXPECT_EQ(h.mem_base, 0x10000000u);
	EXPECT_EQ(h.pio_mmio_base, 0x3eff0000u);
}

TEST(BmPciHost, HostileRangesAreNotUsed)
{
	struct vlab_pci_host h;
	struct bm_fdt_info f = Tree(0x30000000, 0x1000); // less than one bus
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_ENODEV);
	f = Tree(~0ull - 0x1000, 0x10000000); // wraps
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_ENODEV);

	f = Tree(0x30000000, 0x100000);
	Range(&f, 2, 0x40000000, 0x80000000, 0x1000000); // not identity-mapped
	Range(&f, 2, 0x1000, 0xfffffffffffff000ull, 0x10000); // wraps
	Range(&f, 1, 0xfffff000, 0x3000000, 0x10000);         // ports beyond 32 bits
	Range(&f, 1, 0, 0x3000000, 0x800);                    // only low ports
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_ENODEV) << "no usable memory window";
	EXPECT_FALSE(h.pio_mmio);
	EXPECT_EQ(h.ecam_buses, 1u);
}

// A 32-bit CPU with the MMU off (arm, riscv32) reaches the first 4 GiB only:
// a window above it, cast to a pointer, would silently be another address.
TEST(BmPciHost, ArmVirtHighEcamIsNotUsedBy32BitCpu)
{
	struct bm_fdt_info f = Tree(0x4010000000ull, 0x10000000);
	Range(&f, 1, 0, 0x3eff0000, 0x10000);
	Range(&f, 2, 0x10000000, 0x10000000, 0x2eff0000);
	struct vlab_pci_host h;
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_ENODEV)
		<< "ECAM at 0x4010000000 would be truncated to 0x10000000, the memory window";
}

TEST(BmPciHost, ArmVirtHighmemOff32Bit)
{
	// qemu-system-arm -M virt,highmem=off: the low ECAM (16 buses), no
	// 64-bit window.
	struct bm_fdt_info f = Tree(0x3f000000, 0x1000000);
	Range(&f, 1, 0, 0x3eff0000, 0x10000);
	Range(&f, 2, 0x10000000, 0x10000000, 0x2eff0000);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_OK);
	EXPECT_EQ(h.ecam_base, 0x3f000000u);
	EXPECT_EQ(h.ecam_buses, 16u);
	EXPECT_EQ(h.mem_base, 0x10000000u);
	EXPECT_EQ(h.mem_size, 0x2eff0000u);
	EXPECT_TRUE(h.pio_mmio);
	EXPECT_EQ(h.pio_mmio_base, 0x3eff0000u);
}

TEST(BmPciHost, Riscv32Virt)
{
	// qemu-system-riscv32 -M virt: the 64-bit window is at 0x300000000,
	// beyond the CPU; the driver puts 64-bit BARs in the 32-bit window.
	struct bm_fdt_info f = Tree(0x30000000, 0x10000000);
	Range(&f, 1, 0, 0x3000000, 0x10000);
	Range(&f, 2, 0x40000000, 0x40000000, 0x40000000);
	Range(&f, 3, 0x300000000ull, 0x300000000ull, 0x100000000ull);
	struct vlab_pci_host h;
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_OK);
	EXPECT_EQ(h.ecam_buses, 256u);
	EXPECT_EQ(h.mem_base, 0x40000000u);
	EXPECT_EQ(h.mem_size, 0x40000000u);
}

TEST(BmPciHost, WindowsBeyond4GiBAreNotUsedBy32BitCpu)
{
	struct vlab_pci_host h;
	struct bm_fdt_info f = Tree(0xff000000, 0x2000000); // ECAM ends above 4 GiB
	Range(&f, 2, 0x40000000, 0x40000000, 0x1000000);
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_ENODEV);
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k64, &h), VLAB_OK) << "a 64-bit CPU reaches it";

	f = Tree(0x30000000, 0x100000);
	Range(&f, 2, 0xf0000000, 0xf0000000, 0x20000000); // memory crosses 4 GiB
	Range(&f, 1, 0, 0x100000000ull, 0x10000);         // PIO window above 4 GiB
	EXPECT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_ENODEV) << "no reachable memory window";
	EXPECT_FALSE(h.pio_mmio);
	Range(&f, 2, 0x40000000, 0x40000000, 0x1000000);
	ASSERT_EQ(bm_pci_host_from_fdt(&f, &kPlat, k32, &h), VLAB_OK);
	EXPECT_EQ(h.mem_base, 0x40000000u) << "the reachable window, not the first one";
	EXPECT_FALSE(h.pio_mmio);
}

} // namespace
