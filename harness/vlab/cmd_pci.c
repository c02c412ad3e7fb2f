/* SPDX-License-Identifier: MIT */
/*
 * The `pci` command: U-Boot's short listing of the functions on a bus
 * (cmd/pci.c: "BusDevFun  VendorId   DeviceId   Device Class  Sub-Class"),
 * found by the driver's own enumeration through the machine's ECAM window.
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

struct listing {
	int bus;       /* -1: every bus */
	unsigned shown;
};

static int show_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct listing *l = ctx;

	if (l->bus >= 0 && f->bus != l->bus)
		return 0;
	printf("%02x.%02x.%02x   0x%.4x     0x%.4x     %-23s 0x%.2x\n", f->bus, f->dev, f->fn,
	       f->vendor, f->device, class_str((uint8_t)(f->class_code >> 16)),
	       (unsigned)(uint8_t)(f->class_code >> 8));
	l->shown++;
	return 0;
}

int cmd_pci(struct cli *c, int argc, char **argv)
{
	struct listing l = { -1, 0 };
	struct vlab_pci_host *h;
	uint64_t bus;

	if (argc > 2)
		return CLI_USAGE;
	if (argc == 2 && strcmp(argv[1], "*") != 0) {
		if (!cli_parse_hex(argv[1], &bus))
			return CLI_USAGE;
		if (bus > 0xff) {
			printf("No such bus\n");
			return CLI_FAIL;
		}
		l.bus = (int)bus;
	}
	h = hx_pci_firmware(c->m);
	if (!h) {
		printf("No PCI host on this machine\n");
		return CLI_FAIL;
	}
	if (l.bus > 0) {
		/* Only bus 0 exists (no bridges behind the host bridge). */
		printf("No such bus\n");
		return CLI_FAIL;
	}
	if (l.bus == 0)
		printf("Scanning PCI devices on bus 0\n");
	printf("BusDevFun  VendorId   DeviceId   Device Class       Sub-Class\n");
	printf("_____________________________________________________________\n");
	if (vlab_pci_enumerate(h, show_fn, &l) < 0)
		return CLI_FAIL;
	return CLI_OK;
}
