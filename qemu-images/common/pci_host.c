/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge the device tree names (pci-host-ecam-generic), as the
 * driver's struct vlab_pci_host: configuration space through the ECAM
 * window, memory BARs from the 32-bit memory range, I/O BARs from the I/O
 * range, which these machines map into memory (riscv and arm virt: a PIO
 * window; port p is at the range's CPU address + p - its PCI address).
 *
 * The tree is hostile input too: a range whose numbers make no sense is
 * not used, nor one the CPU does not reach (above 4 GiB on a 32-bit CPU),
 * and a host without ECAM or without a memory window is none.
 */
#include "pci_host.h"

/* Ports below this are never handed out: QEMU does not map an I/O BAR at
 * port 0, and the low ports are the legacy ISA ones on other machines. */
#define BM_PCI_IO_FIRST 0x1000u

int bm_pci_host_from_fdt(const struct bm_fdt_info *f, const struct vlab_platform *plat, uint64_t cpu_max,
                         struct vlab_pci_host *h)
{
	vlab_memset(h, 0, sizeof *h);
	h->plat = plat;
	h->ram_base = f->mem_base; /* no BAR may cover it */
	h->ram_size = f->mem_size;
	/* x86 (pc, q35): configuration and I/O BARs through ports. */
	h->cfg_ports = f->pci_cfg_ports;
	/* A window the CPU does not reach (a 32-bit CPU and arm virt's high
	 * ECAM) would be truncated to another address: not used. */
	if (h->cfg_ports) {
		h->ecam_buses = 256;
	} else if (f->ecam_size < (1u << 20) || f->ecam_base + f->ecam_size < f->ecam_base ||
	           !bm_reaches(cpu_max, f->ecam_base, f->ecam_size)) {
		return VLAB_ENODEV;
	} else {
		h->ecam_base = f->ecam_base;
		const uint64_t buses = f->ecam_size >> 20;
		h->ecam_buses = buses > 256 ? 256 : (unsigned)buses;
	}

	for (unsigned i = 0; i < f->n_pci_ranges && i < BM_FDT_MAX_RANGES; i++) {
		const struct bm_fdt_range *r = &f->pci_range[i];
		if (r->size == 0 || r->cpu_addr + r->size < r->cpu_addr || !bm_reaches(cpu_max, r->cpu_addr, r->size))
			continue;
		if (r->space == 1 && h->io_size == 0) {
			/* I/O: ports are 32-bit; skip the low ones. */
			uint64_t lo = r->pci_addr, hi = r->pci_addr + r->size;
			if (hi < lo || hi > 0x100000000ull || (!h->cfg_ports && r->cpu_addr < r->pci_addr))
				continue;
			if (lo < BM_PCI_IO_FIRST)
				lo = BM_PCI_IO_FIRST;
			if (lo >= hi)
				continue;
			/* Port I/O on x86; elsewhere a window in memory. */
			h->pio_mmio = !h->cfg_ports;
			h->pio_mmio_base = h->pio_mmio ? r->cpu_addr - r->pci_addr : 0;
			h->io_base = (uint32_t)lo;
			h->io_size = (uint32_t)(hi - lo);
		} else if (r->space == 2 && h->mem_size == 0 && r->pci_addr == r->cpu_addr) {
			/* 32-bit memory, identity-mapped (what the driver assumes);
			 * 64-bit BARs fit here as well. */
			h->mem_base = r->cpu_addr;
			h->mem_size = r->size;
		}
	}
	return h->mem_size ? VLAB_OK : VLAB_ENODEV;
}
