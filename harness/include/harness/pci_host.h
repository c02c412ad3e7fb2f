/* SPDX-License-Identifier: MIT */
/*
 * PCI on the host machine, laid out as QEMU's riscv virt machine: an ECAM
 * window at 0x30000000 (256 MiB, 256 buses), a memory BAR window at
 * 0x40000000..0x80000000, the port space memory-mapped at 0x03000000
 * (64 KiB), and, as on x86, the same ports through port I/O with the
 * 0xCF8/0xCFC configuration mechanism.  Bus 0 holds a host bridge at
 * 00:00.0 (QEMU's GPEX: 1b36:0008) and the virtio functions from 00:01.0.
 *
 * The host is created and mapped when the first PCI device is attached
 * (or hx_pci_host() is called), so machines without PCI keep those
 * address ranges empty.
 */
#ifndef HX_PCI_HOST_H
#define HX_PCI_HOST_H

#include "devmodel/pci.h"
#include "harness/machine.h"
#include "vlab/pci.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HX_PCI_ECAM_BASE 0x30000000ull
#define HX_PCI_ECAM_SIZE 0x10000000ull
#define HX_PCI_MEM_BASE 0x40000000ull
#define HX_PCI_MEM_SIZE 0x40000000ull
#define HX_PCI_PIO_BASE 0x03000000ull /* port p at HX_PCI_PIO_BASE + p */
#define HX_PCI_PIO_SIZE 0x10000u
#define HX_PCI_IO_BASE 0xc000u        /* I/O BAR window (ports) */
#define HX_PCI_IO_SIZE 0x4000u
/* pc and q35 (issue 13): memory BARs in 0xC0000000-0xDFFFFFFF (U-Boot's
 * qemu-x86 windows, its 32-bit and prefetchable ones together, inside
 * QEMU's 32-bit hole below the IOAPIC), I/O BARs in ports 0x2000-0xFFFF
 * (U-Boot's), ECAM at 0xB0000000 on q35 (QEMU's MCFG, 256 buses), none on
 * pc.  Guest RAM (0x80000000 on) must stay below them: up to 768 MiB on
 * q35, 1 GiB on pc. */
#define HX_PCI_PC_ECAM_BASE 0xb0000000ull
#define HX_PCI_PC_MEM_BASE 0xc0000000ull
#define HX_PCI_PC_MEM_SIZE 0x20000000ull
#define HX_PCI_PC_IO_BASE 0x2000u
#define HX_PCI_PC_IO_SIZE 0xe000u
#define HX_PCI_CF8 0xcf8u
#define HX_PCI_IRQ_BASE 32u           /* INTA..INTD of slot s: 32 + (s % 4) */
#define HX_PCI_BRIDGE_VENDOR 0x1b36u
#define HX_PCI_BRIDGE_DEVICE 0x0008u

/* Which machine's bus 0 the host is: QEMU's riscv/arm virt (the GPEX host
 * bridge, ECAM and the memory-mapped port window in the firmware's
 * description), pc (i440FX and PIIX: 00:00.0, 00:01.0/1/3) or q35 (Q35
 * and ICH9: 00:00.0, 00:1f.0/2/3), both described with the 0xCF8 ports
 * and port I/O and with the PC windows above (HX_PCI_PC_*). */
enum hx_pci_profile {
	HX_PCI_PROFILE_VIRT = 0,
	HX_PCI_PROFILE_PC,
	HX_PCI_PROFILE_Q35,
};
/* Choose the profile: before any PCI use (else -1 unless it is the one
 * already in place); it creates and maps the host. */
int hx_pci_set_profile(struct hx_machine *m, enum hx_pci_profile profile);
enum hx_pci_profile hx_pci_profile(struct hx_machine *m);

/* The machine's PCI host model (created and mapped on first use); NULL on
 * failure (address ranges already taken, out of memory). */
struct dm_pci_host *hx_pci_host(struct hx_machine *m);

/*
 * What a platform tells the driver: the windows above (the profile's:
 * virt's, or pc's and q35's).  cfg_ports: the
 * 0xCF8/0xCFC mechanism instead of ECAM; pio_mmio: I/O BARs through the
 * memory-mapped port window instead of port I/O.  The allocation cursors
 * start at 0: every caller that assigns BARs must share one description
 * (hx_pci_firmware gives the machine's).
 */
void hx_pci_host_desc(struct hx_machine *m, bool cfg_ports, bool pio_mmio, struct vlab_pci_host *h);
/* The machine's own description (ECAM, memory-mapped ports), shared by
 * hx_bind and vlab so that BARs are assigned once. */
struct vlab_pci_host *hx_pci_firmware(struct hx_machine *m);

/* Place the next PCI device attached at 00:dev.fn (once); -1 when out of
 * range.  Without it devices take 00:01.0, 00:02.0, ... */
int hx_pci_place_next(struct hx_machine *m, unsigned dev, unsigned fn);

/* PCI-to-PCI bridges (devmodel's dm_pci_bridge, owned by the machine): add
 * one at dev.0 of bus 0 (parent NULL) or of a bridge's secondary bus;
 * device is DM_PCI_BRIDGE_PCI or DM_PCI_BRIDGE_ROOT_PORT.  Its bus numbers
 * and windows are left for the driver to program, as firmware would.
 * NULL when the slot is taken or there are HX_PCI_MAX_BRIDGES already.
 * dev HX_PCI_ANY_SLOT: the first free one from 1. */
#define HX_PCI_MAX_BRIDGES 24
#define HX_PCI_ANY_SLOT 0xffffffffu
struct dm_pci_bridge *hx_pci_add_bridge(struct hx_machine *m, struct dm_pci_bridge *parent,
                                        unsigned dev, uint16_t device);
/* As hx_pci_place_next, on the secondary bus of br (NULL: bus 0). */
int hx_pci_place_next_on(struct hx_machine *m, struct dm_pci_bridge *br, unsigned dev, unsigned fn);
/* The bus number d's function is on now (a bridge's secondary bus number
 * as programmed); -1 when d is not on PCI or behind a bridge that has no
 * secondary bus number yet. */
int hx_pci_bus_of(struct hx_machine *m, const struct hx_dev *d);

/* For devices.c: put d (dv set) on a PCI transport; free its front end. */
int hx_pci_attach(struct hx_machine *m, struct hx_dev *d, enum hx_transport t, const char **err);
void hx_pci_dev_free(struct hx_machine *m, struct hx_dev *d);
void hx_pci_free(struct hx_machine *m);

#ifdef __cplusplus
}
#endif
#endif
