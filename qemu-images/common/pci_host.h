/* SPDX-License-Identifier: MIT */
/* The device tree's PCI host bridge as the driver's host (pci_host.c). */
#ifndef BM_PCI_HOST_H
#define BM_PCI_HOST_H

#include "fdt.h"
#include "reach.h"
#include "vlab/pci.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The PCI host bridge of the tree (ECAM, memory and PIO windows) as the
 * driver's host; VLAB_ENODEV when the tree has none usable.  cpu_max is
 * the highest address the CPU reaches (BM_CPU_ADDR_MAX): a window beyond
 * it is not used. */
int bm_pci_host_from_fdt(const struct bm_fdt_info *f, const struct vlab_platform *plat, uint64_t cpu_max,
                         struct vlab_pci_host *h);

#ifdef __cplusplus
}
#endif
#endif
