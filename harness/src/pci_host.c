/* SPDX-License-Identifier: MIT */
/*
 * PCI on the host machine (harness/pci_host.h): the PCI host model mapped
 * into the machine's address spaces as on QEMU's riscv virt machine (ECAM,
 * memory BAR window, memory-mapped port window) and as on x86 (0xCF8/0xCFC
 * and the I/O BAR window in port space), a host bridge at 00:00.0, and the
 * virtio functions of devices attached with a PCI transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/pci_host.h"
#include "hx_internal.h"

struct hx_pci {
	struct dm_pci_host host;
	struct dm_pci_fn bridge;  /* virt: the GPEX host bridge */
	struct dm_pci_pc pc;      /* pc, q35: the chipset's functions */
	enum hx_pci_profile profile;
	struct vlab_pci_host fw;  /* the machine's description, shared */
	uint64_t mem_base;        /* the profile's memory and port windows */
	uint32_t io_base;
	int next_dev, next_fn;    /* hx_pci_place_next; -1 when not set */
	struct dm_pci_host *next_bus; /* the bus it is on (NULL: bus 0) */
	struct dm_pci_bridge *bridge_fn[HX_PCI_MAX_BRIDGES]; /* hx_pci_add_bridge */
	unsigned nbridges;
	bool mapped;              /* every window mapped */
};

static uint32_t ecam_read(void *ctx, uint64_t off, unsigned width)
{
	return dm_pci_ecam_read(&((struct hx_pci *)ctx)->host, off, width);
}

static void ecam_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_ecam_write(&((struct hx_pci *)ctx)->host, off, width, val);
}

static uint32_t cf8_read(void *ctx, uint64_t off, unsigned width)
{
	return dm_pci_port_read(&((struct hx_pci *)ctx)->host, (uint32_t)off, width);
}

static void cf8_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_port_write(&((struct hx_pci *)ctx)->host, (uint32_t)off, width, val);
}

/* Port space through the memory-mapped window: port = offset. */
static uint32_t piowin_read(void *ctx, uint64_t off, unsigned width)
{
	return dm_pci_io_read(&((struct hx_pci *)ctx)->host, off, width);
}

static void piowin_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_io_write(&((struct hx_pci *)ctx)->host, off, width, val);
}

/* The I/O BAR window in real port space. */
static uint32_t ioports_read(void *ctx, uint64_t off, unsigned width)
{
	return dm_pci_io_read(&((struct hx_pci *)ctx)->host, ((struct hx_pci *)ctx)->io_base + off, width);
}

static void ioports_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_io_write(&((struct hx_pci *)ctx)->host, ((struct hx_pci *)ctx)->io_base + off, width, val);
}

static uint32_t mem_read(void *ctx, uint64_t off, unsigned width)
{
	return dm_pci_mem_read(&((struct hx_pci *)ctx)->host, ((struct hx_pci *)ctx)->mem_base + off, width);
}

static void mem_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	dm_pci_mem_write(&((struct hx_pci *)ctx)->host, ((struct hx_pci *)ctx)->mem_base + off, width, val);
}

static const struct hx_mmio_ops ecam_ops = {ecam_read, ecam_write};
static const struct hx_mmio_ops cf8_ops = {cf8_read, cf8_write};
static const struct hx_mmio_ops piowin_ops = {piowin_read, piowin_write};
static const struct hx_mmio_ops ioports_ops = {ioports_read, ioports_write};
static const struct hx_mmio_ops mem_ops = {mem_read, mem_write};

/* A profile's address map. */
struct pci_map {
	uint64_t ecam_base, ecam_size; /* size 0: no ECAM (pc) */
	uint64_t mem_base, mem_size;
	uint32_t io_base, io_size;
	uint64_t pio_base;             /* the memory-mapped port window; 0: none */
};

static const struct pci_map virt_map = {HX_PCI_ECAM_BASE, HX_PCI_ECAM_SIZE, HX_PCI_MEM_BASE, HX_PCI_MEM_SIZE,
                                        HX_PCI_IO_BASE, HX_PCI_IO_SIZE, HX_PCI_PIO_BASE};
static const struct pci_map pc_map = {0, 0, HX_PCI_PC_MEM_BASE, HX_PCI_PC_MEM_SIZE,
                                      HX_PCI_PC_IO_BASE, HX_PCI_PC_IO_SIZE, 0};
static const struct pci_map q35_map = {HX_PCI_PC_ECAM_BASE, HX_PCI_ECAM_SIZE, HX_PCI_PC_MEM_BASE, HX_PCI_PC_MEM_SIZE,
                                       HX_PCI_PC_IO_BASE, HX_PCI_PC_IO_SIZE, 0};

static const struct pci_map *map_of(enum hx_pci_profile profile)
{
	return profile == HX_PCI_PROFILE_PC ? &pc_map : profile == HX_PCI_PROFILE_Q35 ? &q35_map : &virt_map;
}

static void hx_pci_host_desc_of(struct hx_machine *m, const struct pci_map *map, bool cfg_ports, bool pio_mmio,
                                struct vlab_pci_host *h)
{
	memset(h, 0, sizeof *h);
	h->plat = hx_platform(m);
	h->cfg_ports = cfg_ports;
	h->ecam_base = map->ecam_base;
	/* The 0xCF8 ports reach 256 buses where there is no ECAM. */
	h->ecam_buses = map->ecam_size ? (unsigned)(map->ecam_size >> 20) : 256u;
	h->mem_base = map->mem_base;
	h->mem_size = map->mem_size;
	h->io_base = map->io_base;
	h->io_size = map->io_size;
	h->pio_mmio = pio_mmio && map->pio_base;
	h->pio_mmio_base = map->pio_base;
	h->ram_base = hx_ram_base(m);
	h->ram_size = hx_ram_size(m);
}

void hx_pci_host_desc(struct hx_machine *m, bool cfg_ports, bool pio_mmio, struct vlab_pci_host *h)
{
	hx_pci_host_desc_of(m, map_of(hx_pci_profile(m)), cfg_ports, pio_mmio, h);
}

/* The bus-0 functions of the profile. */
static int add_chipset(struct hx_pci *p)
{
	if (p->profile != HX_PCI_PROFILE_VIRT)
		return dm_pci_pc_init(&p->pc, p->profile == HX_PCI_PROFILE_Q35, &p->host);
	/* The host bridge, as QEMU's GPEX presents it. */
	dm_pci_fn_init(&p->bridge, HX_PCI_BRIDGE_VENDOR, HX_PCI_BRIDGE_DEVICE, 0x060000, 0);
	p->bridge.cfg[0x2c] = 0xf4; /* subsystem 1af4:1100, as QEMU */
	p->bridge.cfg[0x2d] = 0x1a;
	p->bridge.cfg[0x2e] = 0x00;
	p->bridge.cfg[0x2f] = 0x11;
	return dm_pci_host_add(&p->host, 0, 0, &p->bridge);
}

static struct hx_pci *pci_make(struct hx_machine *m, enum hx_pci_profile profile)
{
	if (m->pci)
		return m->pci->mapped ? m->pci : NULL;
	struct hx_pci *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	dm_pci_host_init(&p->host);
	p->profile = profile;
	p->next_dev = p->next_fn = -1;
	/* virt: ECAM and the memory-mapped port window; pc, q35: the 0xCF8
	 * ports and port I/O, as firmware on x86 reaches them, and q35's
	 * ECAM too.  Each profile's windows (map_of). */
	const struct pci_map *map = map_of(profile);
	bool x86 = profile != HX_PCI_PROFILE_VIRT;
	/* Guest RAM (the arena, not a mapped region) must not cover a window. */
	const uint64_t ram = hx_ram_base(m), ram_end = ram + hx_ram_size(m);
	if ((map->ecam_size && ram < map->ecam_base + map->ecam_size && map->ecam_base < ram_end) ||
	    (ram < map->mem_base + map->mem_size && map->mem_base < ram_end)) {
		free(p);
		return NULL;
	}
	hx_pci_host_desc_of(m, map, x86, !x86, &p->fw);
	p->mem_base = map->mem_base;
	p->io_base = map->io_base;
	if (add_chipset(p) != 0 ||
	    (map->ecam_size && hx_map_mmio(m, map->ecam_base, map->ecam_size, &ecam_ops, p) != 0) ||
	    (map->pio_base && hx_map_mmio(m, map->pio_base, HX_PCI_PIO_SIZE, &piowin_ops, p) != 0) ||
	    hx_map_mmio(m, map->mem_base, map->mem_size, &mem_ops, p) != 0 ||
	    hx_map_pio(m, HX_PCI_CF8, 8, &cf8_ops, p) != 0 ||
	    hx_map_pio(m, map->io_base, map->io_size, &ioports_ops, p) != 0) {
		/* Regions mapped before the failure keep pointing here: keep the
		 * host (unused) rather than leave them dangling. */
		m->pci = p;
		return NULL;
	}
	p->mapped = true;
	m->pci = p;
	return p;
}

static struct hx_pci *pci_of(struct hx_machine *m)
{
	return pci_make(m, HX_PCI_PROFILE_VIRT);
}

int hx_pci_set_profile(struct hx_machine *m, enum hx_pci_profile profile)
{
	if (m->pci)
		return m->pci->profile == profile && m->pci->mapped ? 0 : -1;
	return pci_make(m, profile) ? 0 : -1;
}

enum hx_pci_profile hx_pci_profile(struct hx_machine *m)
{
	return m->pci ? m->pci->profile : HX_PCI_PROFILE_VIRT;
}

struct dm_pci_host *hx_pci_host(struct hx_machine *m)
{
	struct hx_pci *p = pci_of(m);
	return p && p->mapped ? &p->host : NULL;
}

struct vlab_pci_host *hx_pci_firmware(struct hx_machine *m)
{
	struct hx_pci *p = pci_of(m);
	return p && p->mapped ? &p->fw : NULL;
}

/* The bus a bridge's secondary side is (NULL: bus 0). */
static struct dm_pci_host *bus_of_bridge(struct hx_pci *p, struct dm_pci_bridge *br)
{
	return br ? &br->bus : &p->host;
}

static bool known_bridge(const struct hx_pci *p, const struct dm_pci_bridge *br)
{
	for (unsigned i = 0; i < p->nbridges; i++)
		if (p->bridge_fn[i] == br)
			return true;
	return br == NULL;
}

int hx_pci_place_next_on(struct hx_machine *m, struct dm_pci_bridge *br, unsigned dev, unsigned fn)
{
	struct hx_pci *p = pci_of(m);
	if (!p || dev >= DM_PCI_DEVS || fn >= DM_PCI_FNS || !known_bridge(p, br))
		return -1;
	p->next_dev = (int)dev;
	p->next_fn = (int)fn;
	p->next_bus = br ? &br->bus : NULL;
	return 0;
}

int hx_pci_place_next(struct hx_machine *m, unsigned dev, unsigned fn)
{
	return hx_pci_place_next_on(m, NULL, dev, fn);
}

struct dm_pci_bridge *hx_pci_add_bridge(struct hx_machine *m, struct dm_pci_bridge *parent,
                                        unsigned dev, uint16_t device)
{
	struct hx_pci *p = pci_of(m);
	if (!p || !known_bridge(p, parent) || p->nbridges >= HX_PCI_MAX_BRIDGES)
		return NULL;
	if (dev == HX_PCI_ANY_SLOT)
		for (dev = 1; dev < DM_PCI_DEVS && bus_of_bridge(p, parent)->fn[dev][0]; dev++)
			;
	if (dev >= DM_PCI_DEVS)
		return NULL;
	struct dm_pci_bridge *br = calloc(1, sizeof *br);
	if (!br)
		return NULL;
	dm_pci_bridge_init(br, device);
	if (dm_pci_host_add(bus_of_bridge(p, parent), dev, 0, &br->fn) != 0) {
		free(br);
		return NULL;
	}
	p->bridge_fn[p->nbridges++] = br;
	return br;
}

int hx_pci_bus_of(struct hx_machine *m, const struct hx_dev *d)
{
	struct hx_pci *p = m->pci;
	if (!p || !d->vpci)
		return -1;
	if (p->host.fn[d->pci_dev][d->pci_fn] == &d->vpci->fn)
		return 0;
	for (unsigned i = 0; i < p->nbridges; i++)
		if (p->bridge_fn[i]->bus.fn[d->pci_dev][d->pci_fn] == &d->vpci->fn) {
			unsigned sec = dm_pci_bridge_secondary(p->bridge_fn[i]);
			return sec == 0 ? -1 : (int)sec; /* 0: not numbered */
		}
	return -1;
}

static void pci_err(struct hx_machine *m, const char **err, const char *msg)
{
	snprintf(m->err, sizeof m->err, "%s", msg);
	if (err)
		*err = m->err;
}

int hx_pci_attach(struct hx_machine *m, struct hx_dev *d, enum hx_transport t, const char **err)
{
	struct hx_pci *p = pci_of(m);
	if (!p) {
		pci_err(m, err, "PCI host: cannot map its windows");
		return -1;
	}
	unsigned dev = 0, fn = 0;
	struct dm_pci_host *bus = &p->host;
	if (p->next_dev >= 0) {
		dev = (unsigned)p->next_dev;
		fn = (unsigned)p->next_fn;
		bus = p->next_bus ? p->next_bus : &p->host;
		p->next_dev = p->next_fn = -1;
		p->next_bus = NULL;
		if (bus->fn[dev][fn]) {
			pci_err(m, err, "PCI: that device and function are taken");
			return -1;
		}
	} else {
		for (dev = 1; dev < DM_PCI_DEVS && p->host.fn[dev][0]; dev++)
			;
		if (dev == DM_PCI_DEVS) {
			pci_err(m, err, "PCI: no free device number on bus 0");
			return -1;
		}
	}
	struct dm_vpci *vp = calloc(1, sizeof *vp);
	if (!vp) {
		pci_err(m, err, "out of memory");
		return -1;
	}
	struct dm_vpci_cfg cfg = {0};
	cfg.profile = t == HX_PCI_LEGACY ? DM_VPCI_LEGACY
	              : t == HX_PCI_TRANSITIONAL ? DM_VPCI_TRANSITIONAL : DM_VPCI_MODERN;
	/* INTA of slot dev, swizzled as QEMU's virt machines do. */
	d->dv->irq_line = HX_PCI_IRQ_BASE + (dev + fn) % 4;
	dm_vpci_init(vp, &cfg, d->dv);
	if (dm_pci_host_add(bus, dev, fn, &vp->fn) != 0) {
		dm_vpci_fini(vp);
		free(vp);
		pci_err(m, err, "PCI: cannot add the function");
		return -1;
	}
	d->vpci = vp;
	d->pci_dev = dev;
	d->pci_fn = fn;
	d->base = 0;
	d->slot = 0;
	d->irq_line = d->dv->irq_line;
	return 0;
}

void hx_pci_dev_free(struct hx_machine *m, struct hx_dev *d)
{
	if (!d->vpci)
		return;
	if (m->pci) {
		dm_pci_host_remove(&m->pci->host, &d->vpci->fn);
		for (unsigned i = 0; i < m->pci->nbridges; i++)
			dm_pci_host_remove(&m->pci->bridge_fn[i]->bus, &d->vpci->fn);
	}
	dm_vpci_fini(d->vpci);
	free(d->vpci);
	d->vpci = NULL;
}

void hx_pci_free(struct hx_machine *m)
{
	if (m->pci)
		for (unsigned i = 0; i < m->pci->nbridges; i++)
			free(m->pci->bridge_fn[i]);
	free(m->pci);
	m->pci = NULL;
}
