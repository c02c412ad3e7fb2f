/* SPDX-License-Identifier: MIT */
/*
 * vlab conformance: the spec conformance report (docs/conformance-report.md).
 *
 * A matrix of cells, transport x device (blk, net) x feature set (what
 * QEMU 7.2 offers, a minimal offer, everything the model can offer, and
 * that offer with each optional feature withheld in turn).  Each cell runs
 * vlab's own commands against a fresh machine with one model device: init,
 * I/O, a configuration change, errors the spec allows (an I/O error, a
 * device that needs a reset), re-initialisation, shutdown.  The model's
 * report of the run (checks and breaches per requirement ID) is then
 * judged against the table (harness/conformance.h) and written out.
 *
 * Exit status: 0 no FAIL, 1 a FAIL, 2 bad options, table or list.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/conformance.h"
#include "vlab_cli.h"

enum { EXIT_FAILED = 1, EXIT_BAD = 2 };

#define CELL_RAM (16ull << 20)
#define CELL_DISK (1ull << 20)
#ifndef VLAB_SOURCE_DIR
#define VLAB_SOURCE_DIR "."
#endif
#define DEFAULT_TABLE VLAB_SOURCE_DIR "/docs/spec/conformance-driver.tsv"
#define DEFAULT_SPEC VLAB_SOURCE_DIR "/docs/spec/virtio-1.2-driver-requirements.tsv"
#define DEFAULT_DEV_TABLE VLAB_SOURCE_DIR "/docs/spec/conformance-device.tsv"
#define DEFAULT_DEV_SPEC VLAB_SOURCE_DIR "/docs/spec/virtio-1.2-device-requirements.tsv"

struct conf_opts {
	const char *md, *html, *junit, *json, *cells, *table, *spec, *results, *dev_table, *dev_spec, *mutants;
	bool list, verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: vlab conformance [--md FILE] [--html FILE] [--junit FILE] [--json FILE]\n"
	        "                        [--cells SPEC] [--table FILE] [--spec FILE] [--results FILE]\n"
	        "                        [--device-table FILE] [--device-spec FILE]\n"
	        "                        [--mutants FILE] [--list-cells] [--verbose]\n"
	        "\n"
	        "Runs the drivers against the device model over a matrix of cells (transport x\n"
	        "device x feature set) and gives a verdict for every requirement in every cell:\n"
	        "PASS, FAIL, TESTED, N/A, NOT REACHED, NOT CHECKED (docs/conformance-report.md).\n"
	        "\n"
	        "  --md/--html/--junit/--json FILE  write the report in that form ('-': stdout)\n"
	        "  --cells SPEC     only the cells whose name matches one of the comma-separated\n"
	        "                   patterns (shell wildcards), e.g. 'mmio/blk/*,pci/*/qemu'\n"
	        "  --table FILE     how each requirement is checked (default: the source tree's\n"
	        "                   docs/spec/conformance-driver.tsv)\n"
	        "  --spec FILE      the requirement list (default: the source tree's\n"
	        "                   docs/spec/virtio-1.2-driver-requirements.tsv)\n"
	        "  --results FILE   CTest results as JUnit XML (ctest --output-junit) for the\n"
	        "                   requirements a test checks (both sides)\n"
	        "  --device-table FILE, --device-spec FILE  the device side's table and list\n"
	        "                   (default: the source tree's docs/spec/conformance-device.tsv\n"
	        "                   and virtio-1.2-device-requirements.tsv)\n"
	        "  --mutants FILE   the driver mutants' results (NAME|ID|killed or\n"
	        "                   NAME|ID|survived|why a line): the mutation score\n"
	        "  --list-cells     print the cells' names and offers, run nothing\n"
	        "  --verbose        show the workload's output and the driver's log\n"
	        "\n"
	        "Exit status: 0 no FAIL, 1 a FAIL, 2 bad options, table or list.\n");
}

/* ---- the cells ---- */

static void bit_name(bool net, unsigned bit, char *out, size_t n)
{
	/* Device bits by the driver's tables (vlab_net_feature_name,
	 * vlab_blk_feature_name: the scenarios print the same names); a net
	 * bit under 24 it does not name is no blk or transport bit. */
	const char *name = net ? vlab_net_feature_name(bit) : NULL;

	if (!name && !(net && bit < 24)) {
		if (bit == 30)
			name = "BAD_FEATURE";
		else
			name = cli_blk_feature_name(bit);
	}
	if (name)
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "bit%u", bit);
}

/* What the model offers in the named sets on transport t. */
static uint64_t offer_qemu(bool net, enum hx_transport t)
{
	if (net) {
		struct dm_net_cfg c;
		hx_net_cfg_qemu72(&c, t);
		return c.features;
	}
	struct dm_blk_cfg c;
	hx_blk_cfg_qemu72(&c, t);
	return c.features;
}

static uint64_t version_bit(enum hx_transport t)
{
	return hx_transport_legacy_only(t) ? 0 : VLAB_BIT(VIRTIO_F_VERSION_1);
}

/* Everything: QEMU's offer, the model's default one and the platform bits. */
static uint64_t offer_full(bool net, enum hx_transport t)
{
	uint64_t def;

	if (net) {
		struct dm_net_cfg c;
		dm_net_cfg_default(&c);
		def = c.features;
	} else {
		struct dm_blk_cfg c;
		dm_blk_cfg_default(&c);
		def = c.features;
	}
	/* And the platform bits on a modern interface (DRV-6.1-3, DRV-6.1-7):
	 * QEMU offers them only with an IOMMU, the model whenever asked; and
	 * the packed ring (2.8, QEMU's packed=on), which needs VERSION_1. */
	if (version_bit(t))
		def |= VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) | VLAB_BIT(VIRTIO_F_ORDER_PLATFORM) |
		       VLAB_BIT(VIRTIO_F_RING_PACKED);
	return ((offer_qemu(net, t) | def) & ~VLAB_BIT(VIRTIO_F_VERSION_1)) | version_bit(t);
}

static void add_cell(struct cf_run *run, enum hx_transport t, bool net, const char *fset, uint64_t features)
{
	struct cf_cell *k = &run->cell[run->ncell++];

	memset(k, 0, sizeof *k);
	snprintf(k->transport, sizeof k->transport, "%s", hx_transport_name(t));
	snprintf(k->device, sizeof k->device, "%s", net ? "net" : "blk");
	snprintf(k->fset, sizeof k->fset, "%s", fset);
	snprintf(k->name, sizeof k->name, "%s/%s/%s", k->transport, k->device, fset);
	k->features = features;
}

/* Every cell (run->cell sized by the caller: 0 cells to count them). */
static unsigned make_cells(struct cf_run *run, bool fill)
{
	unsigned n = 0;

	for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
		for (int dev = 0; dev < 2; dev++) {
			const bool net = dev == 1;
			const enum hx_transport tr = (enum hx_transport)t;
			const uint64_t full = offer_full(net, tr);
			n += 3;
			if (fill) {
				add_cell(run, tr, net, "qemu", offer_qemu(net, tr));
				add_cell(run, tr, net, "minimal", version_bit(tr));
				add_cell(run, tr, net, "full", full);
			}
			/* A read-only disk: QEMU's offer with RO (readonly=on). */
			n += !net;
			if (fill && !net)
				add_cell(run, tr, net, "ro", offer_qemu(net, tr) | VLAB_BIT(VIRTIO_BLK_F_RO));
			for (unsigned bit = 0; bit < 64; bit++) {
				char name[32], fset[40];
				if (!((full >> bit) & 1u) || bit == VIRTIO_F_VERSION_1)
					continue;
				n++;
				if (!fill)
					continue;
				bit_name(net, bit, name, sizeof name);
				snprintf(fset, sizeof fset, "-%s", name);
				add_cell(run, tr, net, fset, full & ~VLAB_BIT(bit));
			}
		}
	return n;
}

/* Keep only the cells SPEC selects; false when SPEC selects none. */
static bool select_cells(struct cf_run *run, const char *spec)
{
	unsigned keep = 0;
	char *copy;

	if (!spec)
		return run->ncell > 0;
	copy = strdup(spec);
	if (!copy)
		return false;
	for (unsigned c = 0; c < run->ncell; c++) {
		bool hit = false;
		char *save = NULL, *tmp = strdup(copy);
		for (char *p = tmp ? strtok_r(tmp, ",", &save) : NULL; p && !hit; p = strtok_r(NULL, ",", &save))
			hit = fnmatch(p, run->cell[c].name, 0) == 0;
		free(tmp);
		if (hit)
			run->cell[keep++] = run->cell[c];
	}
	free(copy);
	run->ncell = keep;
	return keep > 0;
}

/* ---- one cell's run: vlab's commands on a fresh machine ---- */

static void quiet_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void verbose_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "driver %s: %s\n", hx_log_level_name(level), msg);
}

struct cell_run {
	struct cli *c;
	struct cf_cell *cell;
	bool verbose;
};

/* Run a vlab command line.  must: a failure is a workload failure the
 * report shows (the first only).  Returns whether every command passed. */
static bool step(struct cell_run *r, const char *line, bool must)
{
	int rc;

	if (r->verbose)
		printf("=> %s\n", line);
	rc = cli_split_run(line, cli_run_one, r->c);
	fflush(stdout);
	if (rc >= 0 && !(rc & CLI_RUN_FAILED))
		return true;
	if (must && !r->cell->workload[0])
		snprintf(r->cell->workload, sizeof r->cell->workload, "'%s' failed", line);
	return false;
}

static void note(struct cell_run *r, const char *what)
{
	if (!r->cell->workload[0])
		snprintf(r->cell->workload, sizeof r->cell->workload, "%s", what);
}

static void add_fault(struct hx_dev *d, enum dm_fault_kind k)
{
	const struct dm_fault f = {.kind = k, .queue = -1, .count = 1};
	(void)dm_virtio_add_fault(d->dv, &f);
}

static void blk_workload(struct cell_run *r, struct hx_dev *d)
{
	const bool flush = (r->cell->features >> VIRTIO_BLK_F_FLUSH) & 1u;

	const bool ro = (r->cell->features >> VIRTIO_BLK_F_RO) & 1u;

	/* Init, I/O (write, read back, compare, flush, GET_ID); a read-only
	 * device refuses the write, and the data read is then the disk's. */
	if (!step(r, "virtio scan", true))
		return;
	step(r, "virtio info", true);
	if (ro && step(r, "virtio write 80000000 0 10", false))
		note(r, "a read-only device took a write");
	step(r, ro ? "virtio read 80000000 0 10 && virtio read 80100000 0 10 && cmp.b 80000000 80100000 2000"
	           : "virtio write 80000000 0 10 && virtio read 80100000 0 10 && cmp.b 80000000 80100000 2000",
	     true);
	step(r, "virtio flush", flush);
	/* DISCARD and WRITE_ZEROES, each when offered on a writable disk:
	 * they must then succeed, and the zeroed blocks read back as zeroes. */
	if (!ro && ((r->cell->features >> VIRTIO_BLK_F_DISCARD) & 1u))
		step(r, "virtio erase 10 8", true);
	if (!ro && ((r->cell->features >> VIRTIO_BLK_F_WRITE_ZEROES) & 1u))
		step(r, "virtio zero 10 8 unmap && virtio read 80100000 10 8 && mw.b 80300000 0 1000 && "
		        "cmp.b 80100000 80300000 1000",
		     true);
	step(r, "virtio id", false);
	/* A configuration change (config generation, config interrupt). */
	dm_virtio_config_changed(d->dv);
	step(r, "virtio info", true);
	/* An I/O error the spec allows (VIRTIO_BLK_S_IOERR): the command
	 * fails, the device stays usable. */
	add_fault(d, DM_FAULT_BLK_IOERR);
	if (step(r, "virtio read 80200000 0 1", false))
		note(r, "an I/O error status was not reported");
	dm_virtio_clear_faults(d->dv);
	step(r, "virtio read 80200000 0 1", true);
	/* A device that needs a reset; `virtio scan` resets and
	 * re-initialises it, then I/O works again. */
	dm_virtio_set_needs_reset(d->dv);
	step(r, "virtio read 80200000 0 1", false);
	step(r, "virtio scan", true);
	step(r, "virtio read 80100000 0 10 && cmp.b 80000000 80100000 2000", true);
}

static void net_workload(struct cell_run *r, struct hx_dev *d)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xc0, 0xff, 0xee};
	struct vlab_net *n;

	/* Init, I/O (the loop backend brings frames sent to self back). */
	if (!step(r, "net info 0", true))
		return;
	step(r, "net send 0 self 3c 4 && net recv 0", true);
	/* Control commands, each when the driver negotiated its feature:
	 * they must then succeed. */
	n = cli_net_driver(0);
	if (n && n->has_ctrl && vlab_virtio_has(n->vdev, VIRTIO_NET_F_CTRL_RX) &&
	    (vlab_net_set_promisc(n, true) != 0 || vlab_net_set_promisc(n, false) != 0 ||
	     vlab_net_set_mac_table(n, &mac, 1, NULL, 0) != 0))
		note(r, "a control command (receive mode, MAC table) failed");
	/* MAC_ADDR_SET is a VIRTIO_NET_CTRL_MAC command: with CTRL_MAC_ADDR
	 * but not CTRL_RX the driver must refuse it (DRV-5.1.6.5.2.2-1; if it
	 * sends it, the model records the breach). */
	if (n && n->has_ctrl && vlab_virtio_has(n->vdev, VIRTIO_NET_F_CTRL_MAC_ADDR) && vlab_net_set_mac(n, mac) != 0 &&
	    vlab_virtio_has(n->vdev, VIRTIO_NET_F_CTRL_RX))
		note(r, "a control command (MAC address) failed");
	/* A configuration change: the link goes down and up again. */
	dm_net_set_link(d->net, false);
	step(r, "net info 0", true);
	dm_net_set_link(d->net, true);
	step(r, "net info 0", true);
	/* A device that needs a reset; `virtio scan` re-initialises it. */
	dm_virtio_set_needs_reset(d->dv);
	step(r, "net send 0 self 3c 1", false);
	step(r, "virtio scan", false);
	step(r, "net send 0 self 3c 2 && net recv 0", true);
}

/* Runs cell k and judges it; 0, or -1 when the machine could not be made. */
static int run_cell(struct cf_run *run, unsigned k, bool verbose)
{
	static struct cli cli;
	struct cf_cell *cell = &run->cell[k];
	const bool net = !strcmp(cell->device, "net");
	const enum hx_transport t = (enum hx_transport)hx_transport_parse(cell->transport);
	struct hx_machine_cfg mc;
	struct cell_run r = {.c = &cli, .cell = cell, .verbose = verbose};
	const char *err = NULL;
	struct hx_dev *d = NULL;
	int saved = -1;

	memset(&cli, 0, sizeof cli);
	hx_machine_cfg_default(&mc);
	mc.ram_size = CELL_RAM;
	cli.m = hx_machine_new(&mc);
	if (!cli.m)
		return -1;
	cli.plat = hx_platform(cli.m);
	hx_set_log(cli.m, verbose ? verbose_log : quiet_log, NULL, verbose ? VLAB_LOG_DEBUG : VLAB_LOG_ERROR);
	if (!verbose) {
		/* The commands print as they do at the prompt: not here. */
		fflush(stdout);
		saved = dup(STDOUT_FILENO);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	if (cli_setup_memory(&cli) == 0) {
		if (net) {
			struct hx_net_opts o;
			hx_net_opts_default(&o);
			o.transport = t;
			o.qemu_profile = true;
			o.features_set = true;
			o.features = cell->features;
			o.mtu = 1500;
			o.backend = HX_NET_LOOP;
			if (cli_net_add(&o) == 0 && cli_net_build(&cli) == 0)
				d = hx_dev_at(cli.m, 0);
		} else {
			struct hx_blk_opts o;
			hx_blk_opts_default(&o);
			o.transport = t;
			o.ram_bytes = CELL_DISK;
			hx_blk_cfg_qemu72(&o.cfg, t);
			o.cfg.features = cell->features;
			o.cfg_set = true;
			d = hx_add_blk(cli.m, &o, &err);
		}
		if (d && net)
			net_workload(&r, d);
		else if (d)
			blk_workload(&r, d);
		else
			note(&r, "the device could not be created");
		cli_virtio_shutdown(&cli);
		cli_net_shutdown(&cli);
		cli_free_memory(&cli);
	} else {
		note(&r, "guest RAM for the commands could not be set up");
	}
	cli_net_forget();
	if (saved >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	cf_judge_cell(run, k, hx_report(cli.m));
	hx_machine_free(cli.m);
	return 0;
}

/* ---- options and output ---- */

static int write_out(const struct cf_run *run, const char *path, int (*fn)(const struct cf_run *, FILE *))
{
	FILE *f;
	int rc;

	if (!path)
		return 0;
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "vlab conformance: cannot write %s\n", path);
		return -1;
	}
	rc = fn(run, f);
	if (f != stdout && fclose(f) != 0)
		rc = -1;
	if (rc)
		fprintf(stderr, "vlab conformance: writing %s failed\n", path);
	return rc;
}

/* The device side's line and its FAIL lines; adds its FAILs to counts. */
static void print_device(const struct cf_run *dev, unsigned counts[CF_NVERDICTS])
{
	unsigned k[CF_NVERDICTS];

	cf_count(dev, k);
	printf("device: %u requirements:", dev->nreq);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		printf("%s %s %u", v ? "," : "", cf_verdict_name((enum cf_verdict)v), k[v]);
	printf("\n");
	for (unsigned r = 0; r < dev->nreq; r++)
		if (dev->res[r].v == CF_FAIL)
			printf("FAIL %s device: %s\n", dev->req[r].id, dev->res[r].detail);
	counts[CF_FAIL] += k[CF_FAIL];
}

static int parse(struct conf_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t off;
	} valued[] = {
		{"--md", offsetof(struct conf_opts, md)},         {"--html", offsetof(struct conf_opts, html)},
		{"--junit", offsetof(struct conf_opts, junit)},   {"--json", offsetof(struct conf_opts, json)},
		{"--cells", offsetof(struct conf_opts, cells)},   {"--table", offsetof(struct conf_opts, table)},
		{"--spec", offsetof(struct conf_opts, spec)},     {"--results", offsetof(struct conf_opts, results)},
		{"--device-table", offsetof(struct conf_opts, dev_table)},
		{"--device-spec", offsetof(struct conf_opts, dev_spec)},
		{"--mutants", offsetof(struct conf_opts, mutants)},
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--list-cells")) {
			o->list = true;
			continue;
		}
		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		for (k = 0; k < sizeof valued / sizeof valued[0]; k++) {
			size_t n = strlen(valued[k].name);
			const char **slot = (const char **)((char *)o + valued[k].off);
			const char *v;
			if (strncmp(a, valued[k].name, n) || (a[n] && a[n] != '='))
				continue;
			v = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !*v) {
				fprintf(stderr, "vlab conformance: option '%s' needs a value\n", valued[k].name);
				return EXIT_BAD;
			}
			if (*slot) {
				fprintf(stderr, "vlab conformance: option '%s' given twice\n", valued[k].name);
				return EXIT_BAD;
			}
			*slot = v;
			break;
		}
		if (k == sizeof valued / sizeof valued[0]) {
			fprintf(stderr, "vlab conformance: unknown option '%s'\nTry 'vlab conformance --help'.\n", a);
			return EXIT_BAD;
		}
	}
	return -1;
}

int cmd_conformance_main(int argc, char **argv)
{
	struct conf_opts o = {0};
	struct cf_run run = {0};
	char err[512];
	unsigned counts[CF_NVERDICTS];
	int rc = parse(&o, argc, argv);

	if (rc >= 0)
		return rc;
	if (!o.table)
		o.table = DEFAULT_TABLE;
	if (!o.spec)
		o.spec = DEFAULT_SPEC;
	if (cf_load_spec(&run, o.spec, err, sizeof err) || cf_load_table(&run, o.table, err, sizeof err) ||
	    cf_load_device(&run, o.dev_spec ? o.dev_spec : DEFAULT_DEV_SPEC,
	                   o.dev_table ? o.dev_table : DEFAULT_DEV_TABLE, err, sizeof err) ||
	    (o.results && cf_load_junit(&run, o.results, err, sizeof err)) ||
	    (o.mutants && cf_load_mutants(&run, o.mutants, err, sizeof err))) {
		fprintf(stderr, "vlab conformance: %s\n", err);
		cf_free(&run);
		return EXIT_BAD;
	}
	if (cf_alloc_cells(&run, make_cells(&run, false)) != 0) {
		fprintf(stderr, "vlab conformance: out of memory\n");
		cf_free(&run);
		return EXIT_FAILED;
	}
	make_cells(&run, true);
	if (!select_cells(&run, o.cells)) {
		fprintf(stderr, "vlab conformance: --cells '%s' selects no cell (see --list-cells)\n",
		        o.cells ? o.cells : "");
		cf_free(&run);
		return EXIT_BAD;
	}
	if (o.list) {
		for (unsigned c = 0; c < run.ncell; c++)
			printf("%s 0x%llx\n", run.cell[c].name, (unsigned long long)run.cell[c].features);
		cf_free(&run);
		return 0;
	}
	for (unsigned c = 0; c < run.ncell; c++)
		if (run_cell(&run, c, o.verbose) != 0) {
			fprintf(stderr, "vlab conformance: %s: cannot create the machine\n", run.cell[c].name);
			cf_free(&run);
			return EXIT_FAILED;
		}
	cf_judge_device(&run);
	rc = write_out(&run, o.md, cf_write_md) | write_out(&run, o.html, cf_write_html) |
	     write_out(&run, o.junit, cf_write_junit) | write_out(&run, o.json, cf_write_json);
	cf_count(&run, counts);
	printf("conformance: %u requirements x %u cells:", run.nreq, run.ncell);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		printf("%s %s %u", v ? "," : "", cf_verdict_name((enum cf_verdict)v), counts[v]);
	printf("\n");
	print_device(run.dev, counts);
	for (unsigned r = 0, shown = 0; r < run.nreq; r++)
		for (unsigned c = 0; c < run.ncell; c++) {
			const struct cf_result *x = &run.res[(size_t)r * run.capcell + c];
			if (x->v == CF_FAIL && shown++ < 20)
				printf("FAIL %s %s: %s\n", run.req[r].id, run.cell[c].name, x->detail);
		}
	for (unsigned c = 0; c < run.ncell; c++)
		if (run.cell[c].workload[0])
			printf("workload %s: %s\n", run.cell[c].name, run.cell[c].workload);
	if (run.nunknown)
		printf("the model checked %u ID(s) the requirement list does not have (first: %s)\n", run.nunknown,
		       run.unknown[0]);
	for (unsigned i = 0; i < run.nunknown; i++)
		if (run.unknown_broken_n[i])
			printf("FAIL %s: broken %u times (an ID of the model's own)\n", run.unknown[i],
			       run.unknown_broken_n[i]);
	if (run.mutants_given)
		printf("mutants: %u of %u killed\n", cf_mutants_killed(&run), run.nmutants);
	fflush(stdout);
	if (run.unknown_broken)
		printf("FAIL: the driver broke %u check(s) of IDs the requirement list does not have\n",
		       run.unknown_broken);
	fflush(stdout);
	rc = rc || counts[CF_FAIL] || run.unknown_broken ? EXIT_FAILED : 0;
	cf_free(&run);
	return rc;
}
