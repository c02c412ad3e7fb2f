/* SPDX-License-Identifier: MIT */
/*
 * The `pci` command: U-Boot's short listing of the functions on a bus
 * (cmd/pci.c: "BusDevFun  VendorId   DeviceId   Device Class  Sub-Class"),
 * found by the driver's own enumeration (after vlab_pci_scan has numbered
 * the bridges) through the machine's ECAM window or the 0xCF8 ports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/pci_host.h"
#include "vlab/pci.h"
#include "vlab_cli.h"

/* U-Boot's pci_class_str(). */
static const char *class_str(uint8_t class)
{
	switch (class) {
	case 0x00: return "Build before PCI Rev2.0";
	case 0x01: return "Mass storage controller";
	case 0x02: return "Network controller";
	case 0x03: return "Display controller";
	case 0x04: return "Multimedia device";
	case 0x05: return "Memory controller";
	case 0x06: return "Bridge device";
	case 0x07: return "Simple comm. controller";
	case 0x08: return "Base system peripheral";
	case 0x09: return "Input device";
	case 0x0a: return "Docking station";
	case 0x0b: return "Processor";
	case 0x0c: return "Serial bus controller";
	case 0x0d: return "Wireless controller";
	case 0x0e: return "Intelligent I/O controller";
	case 0x0f: return "Satellite communication controller";
	case 0x10: return "Encryption/Decryption controller";
	case 0x11: return "Data acquisition and signal processing controller";
	case 0x12: return "Processing accelerators";
	case 0x13: return "Non-Essential Instrumentation";
	case 0x40: return "Co-processor";
	case 0xff: return "Does not fit any class";
	default: return "???";
	}
}

#define LIST_MAX 256

struct listing {
	struct vlab_pci_func f[LIST_MAX];
	unsigned n;
};

static int note_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct listing *l = ctx;

	if (l->n < LIST_MAX)
		l->f[l->n++] = *f;
	return 0;
}

static void show_fn(const struct vlab_pci_func *f)
{
	printf("%02x.%02x.%02x   0x%.4x     0x%.4x     %-23s 0x%.2x\n", f->bus, f->dev, f->fn,
	       f->vendor, f->device, class_str((uint8_t)(f->class_code >> 16)),
	       (unsigned)(uint8_t)(f->class_code >> 8));
}

/* U-Boot on qemu-x86 binds the device its device tree names first (the
 * node at 00:01.0, meant for the PIIX ISA bridge: on q35 the device that
 * sits there), then the rest in bus order; elsewhere bus order. */
static bool tree_first(const struct cli *c, const struct vlab_pci_func *f)
{
	return hx_pci_profile(c->m) != HX_PCI_PROFILE_VIRT && f->bus == 0 && f->dev == 1 && f->fn == 0;
}

int cmd_pci(struct cli *c, int argc, char **argv)
{
	static struct listing l;
	struct vlab_pci_host *h;
	uint64_t bus;
	int want = -1; /* -1: every bus */
	unsigned shown = 0;

	if (argc > 2)
		return CLI_USAGE;
	if (argc == 2 && strcmp(argv[1], "*") != 0) {
		if (!cli_parse_hex(argv[1], &bus))
			return CLI_USAGE;
		if (bus > 0xff) {
			printf("No such bus\n");
			return CLI_FAIL;
		}
		want = (int)bus;
	}
	h = hx_pci_firmware(c->m);
	if (!h) {
		printf("No PCI host on this machine\n");
		return CLI_FAIL;
	}
	/* As firmware: bridges numbered, their windows open (a failure is
	 * logged; what is reachable is still listed). */
	(void)vlab_pci_scan(h);
	l.n = 0;
	if (vlab_pci_enumerate(h, note_fn, &l) < 0)
		return CLI_FAIL;
	for (unsigned i = 0; i < l.n; i++)
		shown += want < 0 || l.f[i].bus == want;
	if (want > 0 && shown == 0) {
		printf("No such bus\n");
		return CLI_FAIL;
	}
	if (want >= 0)
		printf("Scanning PCI devices on bus %u\n", (unsigned)want);
	printf("BusDevFun  VendorId   DeviceId   Device Class       Sub-Class\n");
	printf("_____________________________________________________________\n");
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < l.n; i++)
			if ((want < 0 || l.f[i].bus == want) && tree_first(c, &l.f[i]) == (pass == 0))
				show_fn(&l.f[i]);
	return CLI_OK;
}
