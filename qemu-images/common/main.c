/* SPDX-License-Identifier: MIT */
/*
 * The image's main: read the device tree, feed the virtio bus (vlab/bus.h)
 * with every virtio-mmio slot it names and every virtio function behind its
 * PCI host bridge, run the scenario of each device's driver, remove every
 * device (the handoff an OS loader does before it jumps) and exit with the
 * result.
 *
 * Console lines: "T: " lines are the transcript (compared with the
 * model's); everything else (banner, device-tree summary, driver log) is
 * for people.
 */
#include "bm.h"
#include "scenario.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/mmio.h"
#include "vlab/pci.h"

/* The largest device tree we read. */
#define BM_FDT_MAX_BYTES (1u << 20)
/* Virtio PCI functions driven in one run. */
#define BM_PCI_MAX_DEVS 8u

/* Devices on the bus in one run (mmio slots with a device, then PCI). */
#define BM_BUS_MAX 16u
/* Bytes of a driver's per-device state the image has room for; a driver
 * needing more (vlab_bus_priv_stride) gets VLAB_ENOMEM from its probe. */
#define BM_PRIV_PER_DEV (48u * 1024u) /* struct vlab_net with VLAB_NET_MAX_PAIRS 4: 43,904 bytes on x86_64 */

/* The bus and its storage (the bus keeps no state of its own); the record
 * bus holds the one device a trace records, probed afresh. */
static struct vlab_bus bus, rec_bus;
static struct vlab_bus_dev bus_devs[BM_BUS_MAX], rec_dev;
static _Alignas(64) uint8_t bus_priv[BM_BUS_MAX][BM_PRIV_PER_DEV];
static _Alignas(64) uint8_t rec_priv[BM_PRIV_PER_DEV];
static struct vlab_pci_host pci_host;

struct bm_run {
	struct sc_out out;
	unsigned found, failures;
};

static void transcript_line(void *ctx, const char *text)
{
	(void)ctx;
	bm_puts("T: ");
	bm_puts(text);
	bm_puts("\n");
}

static void print_fdt(const struct bm_fdt_info *f)
{
	bm_printf("fdt: %u nodes, memory 0x%llx+0x%llx, %u virtio-mmio slots (%u dropped), timebase %u Hz\n",
	          f->nodes, (unsigned long long)f->mem_base, (unsigned long long)f->mem_size, f->n_mmio,
	          f->mmio_dropped, (unsigned)f->timebase_hz);
	bm_printf("fdt: uart %s at 0x%llx, exit device 0x%llx, pci ecam 0x%llx+0x%llx (%u ranges)\n",
	          f->uart_kind == BM_UART_NS16550 ? "ns16550" : f->uart_kind == BM_UART_PL011 ? "pl011" : "none",
	          (unsigned long long)f->uart_base, (unsigned long long)f->exit_base,
	          (unsigned long long)f->ecam_base, (unsigned long long)f->ecam_size, f->n_pci_ranges);
}

static const struct bm_fdt_info *bm_info;
extern uint8_t __image_end[];

/*
 * bootargs "vlab.bench" (bench/qemu-bench.py, docs/performance.md): instead
 * of the scenario, read a disk whole into the RAM above the image three
 * times: "cold" (the driver's default, into RAM never touched: the host's
 * first touch of that guest memory is in it, as in U-Boot's first read),
 * then "warm" (the default again, into the same, now warm, RAM) and
 * "zeroed" (vlab_blk_cfg.zeroing: each read buffer zeroed before it is
 * posted, which this platform's default skips: VLAB_PLAT_DMA_ALL_MEMORY).
 * "B: begin" and "B: end" lines bracket each read; the image times them
 * with its clock.
 */
static unsigned bench_blk(const struct sc_dev *sd)
{
	const uint64_t ram_hi = bm_info->mem_base + bm_info->mem_size;
	const uint64_t buf = ((uint64_t)(uintptr_t)__image_end + (1u << 20)) & ~(uint64_t)((1u << 20) - 1);
	unsigned failures = 0;

	static const char *const mode[] = {"cold", "warm", "zeroed"};

	for (unsigned pass = 0; pass < 3; pass++) {
		struct vlab_blk_cfg cfg = {.zeroing = pass == 2};
		sd->bd->cfg = &cfg;
		int rc = vlab_bus_probe(sd->bd);
		struct vlab_blk *blk = sd->bd->priv;
		uint64_t bytes = rc ? 0 : blk->info.capacity * VIRTIO_BLK_SECTOR_SIZE;
		if (buf >= ram_hi)
			bytes = 0;
		else if (bytes > ram_hi - buf)
			bytes = (ram_hi - buf) & ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
		if (bytes > 0xffffffffull / 2)
			bytes = 0x80000000ull;
		const struct vlab_platform *p = sd->vdev->plat;
		bm_printf("B: begin %s %s\n", sd->transport, mode[pass]);
		uint64_t t0 = p->ops->now_ns(p->ctx);
		if (!rc)
			rc = vlab_blk_read(blk, 0, (void *)(uintptr_t)buf, (uint32_t)(bytes / VIRTIO_BLK_SECTOR_SIZE));
		uint64_t t1 = p->ops->now_ns(p->ctx);
		bm_printf("B: end %s %s %llu bytes %llu ns: %s\n", sd->transport, mode[pass],
		          (unsigned long long)bytes, (unsigned long long)(t1 - t0), rc ? vlab_strerror(rc) : "ok");
		failures += rc != 0;
		(void)vlab_bus_remove(sd->bd);
		sd->bd->cfg = NULL;
	}
	return failures;
}

static void run_scenario(struct bm_run *r, const struct sc_dev *sd)
{
	r->found++;
	if (bm_info && bm_info->bench)
		r->failures += sd->bd->drv == &vlab_blk_driver ? bench_blk(sd) : 0;
	else
		r->failures += sc_run(&r->out, sd);
}

/* ---- recording (bootargs "vlab.record"; docs/qemu.md "Record and replay") ----
 * A device found is probed again with the trace on, from the same state a
 * replay starts in (a fresh PCI host), so the trace holds the probe the
 * replay repeats (its "bind" line) and then the scenario. */

/* The device model's name for a transport (hx_transport_parse). */
static const char *model_transport(const char *t)
{
	if (t[0] == 'm' && t[5] == 'v') /* "mmio-v1", "mmio-v2" */
		return t[6] == '1' ? "mmio-legacy" : "mmio";
	return t;
}

/* Open trace r->found and write its header; false (and a failure counted)
 * when the host does not take it. */
static bool trace_begin(struct bm_run *r, const struct vlab_bus_dev *bd, const char *transport,
                        const char *bind)
{
	char producer[80], device[80], command[120];
	/* The scenario's name is its driver's without "virtio-" ("blk"). */
	const char *scenario = bd->drv ? bd->drv->name : "none";
	static const char prefix[] = "virtio-";
	unsigned k = 0;
	while (k < sizeof prefix - 1 && scenario[k] == prefix[k])
		k++;
	if (k == sizeof prefix - 1)
		scenario += k;
	vlab_snprintf(producer, sizeof producer, "producer qemu target=%s machine=%s", bm_target_name,
	              bm_info->machine ? bm_info->machine : "virt");
	vlab_snprintf(device, sizeof device, "device 0 %s transport=%s", scenario, model_transport(transport));
	vlab_snprintf(command, sizeof command, "command run --scenario %s --transport %s", scenario, transport);
	const char *const header[] = {producer, device, command, bind};
	if (bm_trace_begin(r->found, header, 4))
		return true;
	bm_printf("trace: cannot open vlab-%u.trace on the host (semihosting)\n", r->found);
	r->failures++;
	return false;
}

static void trace_end(struct bm_run *r)
{
	if (!bm_trace_end()) {
		bm_printf("trace: writing vlab-%u.trace failed\n", r->found - 1);
		r->failures++;
	}
}

/* An empty record bus (the trace holds one device, probed afresh); 0. */
static int rec_bus_init(const struct vlab_platform *plat)
{
	int rc = vlab_bus_init(&rec_bus, plat, vlab_default_drivers, vlab_default_ndrivers, &rec_dev, 1, rec_priv,
	                       sizeof rec_priv);
	rec_bus.flags = VLAB_MMIO_ALLOW_LEGACY;
	return rc;
}

static void probe_mmio(struct bm_run *r, const struct bm_fdt_info *fdt, const struct vlab_platform *plat)
{
	for (unsigned i = 0; i < fdt->n_mmio; i++) {
		if (fdt->mmio_size[i] < VIRTIO_MMIO_SIZE) {
			bm_printf("virtio-mmio at 0x%llx: window of 0x%llx bytes is too small, skipped\n",
			          (unsigned long long)fdt->mmio_base[i], (unsigned long long)fdt->mmio_size[i]);
			continue;
		}
		if (!bm_reaches(BM_CPU_ADDR_MAX, fdt->mmio_base[i], VIRTIO_MMIO_SIZE)) {
			bm_printf("virtio-mmio at 0x%llx: beyond what this CPU reaches, skipped\n",
			          (unsigned long long)fdt->mmio_base[i]);
			continue;
		}
		int rc = vlab_bus_add_mmio(&bus, fdt->mmio_base[i]);
		if (rc == VLAB_ENODEV)
			continue; /* an empty slot */
		if (rc) {
			bm_printf("virtio-mmio at 0x%llx: %s\n", (unsigned long long)fdt->mmio_base[i],
			          vlab_strerror(rc));
			r->failures++;
			continue;
		}
		struct vlab_bus_dev *bd = &bus.devs[bus.ndevs - 1];
		const struct vlab_mmio *m = &bd->t.mmio;
		bm_printf("virtio-mmio at 0x%llx: device %u, version %u, %s\n", (unsigned long long)fdt->mmio_base[i],
		          (unsigned)m->vdev.device_id, (unsigned)m->version, bd->drv ? bd->drv->name : "no driver");
		struct sc_dev sd = {.bd = bd, .vdev = bd->vdev, .transport = m->version == 1 ? "mmio-v1" : "mmio-v2"};
		if (!fdt->record) {
			run_scenario(r, &sd);
			continue;
		}
		char bind[80];
		vlab_snprintf(bind, sizeof bind, "bind mmio base=0x%llx flags=0x%x", (unsigned long long)fdt->mmio_base[i],
		              (unsigned)VLAB_MMIO_ALLOW_LEGACY);
		if (!trace_begin(r, bd, sd.transport, bind))
			continue;
		rc = rec_bus_init(plat) ? VLAB_EINVAL : vlab_bus_add_mmio(&rec_bus, fdt->mmio_base[i]);
		if (rc) {
			bm_printf("virtio-mmio at 0x%llx: probe again: %s\n", (unsigned long long)fdt->mmio_base[i],
			          vlab_strerror(rc));
			r->failures++;
		} else {
			sd.bd = &rec_bus.devs[0];
			sd.vdev = sd.bd->vdev;
			run_scenario(r, &sd);
		}
		trace_end(r);
	}
}

/* The virtio functions enumeration found, in bus order. */
struct pci_found {
	unsigned n;
	struct vlab_pci_func f[BM_PCI_MAX_DEVS];
};

static int collect_virtio(void *ctx, const struct vlab_pci_func *f)
{
	struct pci_found *pf = ctx;
	if (vlab_pci_virtio_type(f) == 0)
		return 0;
	if (pf->n >= BM_PCI_MAX_DEVS) {
		bm_printf("pci %02x:%02x.%x: more than %u virtio functions, skipped\n", f->bus, f->dev, f->fn,
		          BM_PCI_MAX_DEVS);
		return 0;
	}
	pf->f[pf->n++] = *f;
	return 0;
}

/* The transport as the matrix names it: a modern-only device (ID 0x1040 +
 * type) is "pci"; a transitional ID driven through its capabilities is
 * "pci-transitional"; through the I/O BAR, "pci-legacy". */
static const char *pci_transport_name(const struct vlab_pci *p)
{
	if (!p->transitional)
		return "pci";
	return p->modern ? "pci-transitional" : "pci-legacy";
}

/* The function w->f, as a replay looks for it (trace_replay.c): at the
 * same bus, device and function after the same bridge scan. */
struct pci_want {
	const struct vlab_pci_func *f;
	bool seen;
};

static int find_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct pci_want *w = ctx;
	w->seen = f->bus == w->f->bus && f->dev == w->f->dev && f->fn == w->f->fn;
	return w->seen;
}

/* Number the bridges and open their windows as firmware does, so the
 * functions behind them are found (pci_enum.c).  A bridge the scan could
 * not configure hides what is behind it: a failure, the rest still runs. */
static bool scan_bridges(struct bm_run *r)
{
	int rc = vlab_pci_scan(&pci_host);
	if (rc == VLAB_OK)
		return true;
	bm_printf("pci: bridges: %s\n", vlab_strerror(rc));
	r->failures++;
	return false;
}

/* Record function f from a fresh host (as a replay binds it: the bridges
 * scanned again, bind bridges=scan), and run it. */
static void record_pci(struct bm_run *r, const struct bm_fdt_info *fdt, const struct vlab_platform *plat,
                       const struct vlab_pci_func *f, const struct vlab_bus_dev *found)
{
	const struct vlab_pci *p = &found->t.pci;
	char bind[400];
	const char *transport = pci_transport_name(p);
	struct pci_want w = {f, false};
	if (bm_pci_host_from_fdt(fdt, plat, BM_CPU_ADDR_MAX, &pci_host) != VLAB_OK) {
		bm_printf("pci %02x:%02x.%x: not recorded (the host bridge is gone)\n", f->bus, f->dev, f->fn);
		r->failures++;
		return;
	}
	const struct vlab_pci_host *h = &pci_host;
	vlab_snprintf(bind, sizeof bind,
	              "bind pci bus=%u dev=%u fn=%u flags=0x%x cfg=%s ecam=0x%llx buses=%u mem=0x%llx+0x%llx "
	              "io=0x%x+0x%x pio=%s pio_base=0x%llx ram=0x%llx+0x%llx bridges=scan",
	              f->bus, f->dev, f->fn, (unsigned)VLAB_PCI_ALLOW_LEGACY, h->cfg_ports ? "ports" : "ecam",
	              (unsigned long long)h->ecam_base, h->ecam_buses, (unsigned long long)h->mem_base,
	              (unsigned long long)h->mem_size, (unsigned)h->io_base, (unsigned)h->io_size,
	              h->pio_mmio ? "mmio" : "ports", (unsigned long long)h->pio_mmio_base,
	              (unsigned long long)h->ram_base, (unsigned long long)h->ram_size);
	if (!trace_begin(r, found, transport, bind))
		return;
	int rc = scan_bridges(r) ? vlab_pci_enumerate(&pci_host, find_fn, &w) : VLAB_EPROTO;
	if (rc >= 0 && w.seen)
		rc = rec_bus_init(plat) ? VLAB_EINVAL : vlab_bus_add_pci_fn(&rec_bus, &pci_host, f->bus, f->dev, f->fn);
	if (rc < 0 || !w.seen) {
		bm_printf("pci %02x:%02x.%x: probe again: %s\n", f->bus, f->dev, f->fn,
		          rc < 0 ? vlab_strerror(rc) : "not found");
		r->failures++;
	} else {
		struct vlab_bus_dev *bd = &rec_bus.devs[0];
		const struct sc_dev sd = {.bd = bd, .vdev = bd->vdev, .pci = &bd->t.pci, .transport = transport};
		run_scenario(r, &sd);
	}
	trace_end(r);
}

static void probe_pci(struct bm_run *r, const struct bm_fdt_info *fdt, const struct vlab_platform *plat)
{
	static struct pci_found pf;
	if (fdt->ecam_size == 0 && !fdt->pci_cfg_ports)
		return;
	if (bm_pci_host_from_fdt(fdt, plat, BM_CPU_ADDR_MAX, &pci_host) != VLAB_OK) {
		bm_puts("pci: the host bridge in the tree has no usable ECAM or memory window (none beyond what this CPU reaches)\n");
		return;
	}
	bm_printf("pci: %s 0x%llx, %u buses, memory 0x%llx+0x%llx, ports 0x%x+0x%x at 0x%llx\n",
	          pci_host.cfg_ports ? "config ports, ecam" : "ecam", (unsigned long long)pci_host.ecam_base, pci_host.ecam_buses,
	          (unsigned long long)pci_host.mem_base, (unsigned long long)pci_host.mem_size,
	          (unsigned)pci_host.io_base, (unsigned)pci_host.io_size,
	          (unsigned long long)pci_host.pio_mmio_base);
	(void)scan_bridges(r);
	pf.n = 0;
	int rc = vlab_pci_enumerate(&pci_host, collect_virtio, &pf);
	if (rc) {
		bm_printf("pci: enumeration: %s\n", vlab_strerror(rc));
		r->failures++;
		return;
	}
	for (unsigned i = 0; i < pf.n; i++) {
		const struct vlab_pci_func *f = &pf.f[i];
		/* A transitional device is driven through its modern interface
		 * (no VLAB_PCI_FORCE_LEGACY); a legacy-only one is accepted. */
		rc = vlab_bus_add_pci_fn(&bus, &pci_host, f->bus, f->dev, f->fn);
		if (rc) {
			bm_printf("pci %02x:%02x.%x: %s\n", f->bus, f->dev, f->fn, vlab_strerror(rc));
			r->failures++;
			continue;
		}
		struct vlab_bus_dev *bd = &bus.devs[bus.ndevs - 1];
		const struct vlab_pci *p = &bd->t.pci;
		bm_printf("pci %02x:%02x.%x: %04x:%04x rev %u, device %u, %s interface, %s\n", f->bus, f->dev, f->fn,
		          f->vendor, f->device, f->revision, (unsigned)p->vdev.device_id,
		          p->modern ? "modern" : "legacy", bd->drv ? bd->drv->name : "no driver");
		if (fdt->record) {
			record_pci(r, fdt, plat, f, bd);
			continue;
		}
		const struct sc_dev sd = {.bd = bd, .vdev = bd->vdev, .pci = p, .transport = pci_transport_name(p)};
		run_scenario(r, &sd);
	}
}

int bm_main(uintptr_t fdt_addr)
{
	static struct bm_fdt_info fdt;

	bm_printf("vlab bare-metal image, target %s\n", bm_target_name);
	int rc = bm_fdt_parse((const void *)fdt_addr, BM_FDT_MAX_BYTES, &fdt);
	if (rc) {
		bm_printf("fdt at 0x%llx: %s\n", (unsigned long long)fdt_addr, bm_fdt_strerror(rc));
		return BM_EXIT_SETUP;
	}
	arch_console_from_fdt(&fdt);
	arch_exit_from_fdt(&fdt);
	print_fdt(&fdt);
	return bm_main_info(&fdt);
}

int bm_main_info(const struct bm_fdt_info *fdt)
{
	bm_info = fdt;
	if (fdt->record)
		bm_puts("vlab: recording a trace of each device (vlab-N.trace)\n");
	const struct vlab_platform *plat = bm_platform_init(fdt);

	static struct bm_run run = {.out = {.line = transcript_line}};
	if (vlab_bus_init(&bus, plat, vlab_default_drivers, vlab_default_ndrivers, bus_devs, BM_BUS_MAX, bus_priv,
	                  sizeof bus_priv) != VLAB_OK) {
		bm_puts("vlab: the virtio bus refuses the driver registry\n");
		return BM_EXIT_SETUP;
	}
	bus.flags = VLAB_MMIO_ALLOW_LEGACY | VLAB_PCI_ALLOW_LEGACY;
	if (vlab_bus_priv_stride(vlab_default_drivers, vlab_default_ndrivers) > BM_PRIV_PER_DEV)
		bm_printf("vlab: a driver needs more than %u bytes of state: raise BM_PRIV_PER_DEV\n", BM_PRIV_PER_DEV);
	probe_mmio(&run, fdt, plat);
	probe_pci(&run, fdt, plat);
	/* The handoff: every device reset and confirmed, no DMA in flight
	 * (vlab_bus_remove_all), as before an OS takes the machine. */
	int handoff = vlab_bus_remove_all(&bus);
	bm_printf("vlab: handoff: %u devices removed: %s\n", (unsigned)bus.ndevs,
	          handoff ? vlab_strerror(handoff) : "ok");
	if (handoff)
		run.failures++;
	const unsigned found = run.found, failures = run.failures;
	if (found == 0) {
		bm_puts("vlab: no virtio device found\n");
		return BM_EXIT_SETUP;
	}
	bm_printf("vlab: result %s (%u failures)\n", failures ? "FAIL" : "pass", failures);
	return failures ? BM_EXIT_FAIL : BM_EXIT_PASS;
}

_Noreturn void bm_trap(uint64_t cause, uint64_t pc, uint64_t addr)
{
	/* A trap while reporting one: the exit itself trapped (semihosting
	 * off on arm and aarch64, whose arch_exit uses it).  Power off rather
	 * than trap again forever. */
	static bool trapped;
	if (trapped)
		arch_poweroff(BM_EXIT_TRAP);
	trapped = true;
	bm_printf("vlab: trap: cause 0x%llx pc 0x%llx addr 0x%llx\n", (unsigned long long)cause,
	          (unsigned long long)pc, (unsigned long long)addr);
	arch_exit(BM_EXIT_TRAP);
}
