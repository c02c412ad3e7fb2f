/* SPDX-License-Identifier: MIT */
/*
 * The functions QEMU 7.2 puts on bus 0 of its x86 machines (devmodel/pci.h:
 * dm_pci_pc_init): identity, class and revision as `lspci -nn` shows them
 * in a guest (revisions from QEMU's sources; U-Boot's listing does not show
 * them), subsystem 1af4:1100 as QEMU sets it.  Nothing behind them:
 * the model has no ISA, IDE, ACPI, SATA or SMBus devices.
 */
#include "devmodel/pci.h"

struct pc_fn {
	uint8_t dev, fn;
	uint16_t device;
	uint32_t class_code;
	uint8_t revision;
};

static const struct pc_fn i440fx[DM_PCI_PC_FNS] = {
	{0x00, 0, 0x1237, 0x060000, 0x02}, /* i440FX host bridge */
	{0x01, 0, 0x7000, 0x060100, 0x00}, /* PIIX3 ISA bridge */
	{0x01, 1, 0x7010, 0x010180, 0x00}, /* PIIX3 IDE */
	{0x01, 3, 0x7113, 0x068000, 0x03}, /* PIIX4 ACPI */
};

static const struct pc_fn q35[DM_PCI_PC_FNS] = {
	{0x00, 0, 0x29c0, 0x060000, 0x00}, /* Q35 (MCH) host bridge */
	{0x1f, 0, 0x2918, 0x060100, 0x02}, /* ICH9 LPC */
	{0x1f, 2, 0x2922, 0x010601, 0x02}, /* ICH9 SATA (AHCI) */
	{0x1f, 3, 0x2930, 0x0c0500, 0x02}, /* ICH9 SMBus */
};

int dm_pci_pc_init(struct dm_pci_pc *pc, bool is_q35, struct dm_pci_host *h)
{
	const struct pc_fn *t = is_q35 ? q35 : i440fx;
	for (unsigned i = 0; i < DM_PCI_PC_FNS; i++) {
		struct dm_pci_fn *f = &pc->fn[i];
		dm_pci_fn_init(f, 0x8086, t[i].device, t[i].class_code, t[i].revision);
		f->cfg[0x2c] = 0xf4; /* subsystem 1af4:1100 */
		f->cfg[0x2d] = 0x1a;
		f->cfg[0x2f] = 0x11;
		if (dm_pci_host_add(h, t[i].dev, t[i].fn, f) != 0)
			return -1;
	}
	return 0;
}
