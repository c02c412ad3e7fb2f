/* SPDX-License-Identifier: MIT */
/*
 * vlab: the virtio-lab command line.  Options build a machine (guest RAM,
 * block devices in virtio-mmio slots); commands then run from -c, from a
 * script on stdin, or at an interactive "=> " prompt, as in U-Boot.
 *
 * Exit status: 0 success; 1 a command failed (with -c or a script) or a
 * device could not be created; 2 bad usage; 3 the device model recorded
 * violations of the spec by the driver (printed before exiting).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devmodel/fault_plan.h"
#include "devmodel/report.h"
#include "devmodel/virtio.h"
#include "harness/pci_host.h"
#include "vlab_cli.h"

enum { EXIT_CMD_FAILED = 1, EXIT_USAGE = 2, EXIT_VIOLATIONS = 3 };

#define MAX_BLK HX_MMIO_SLOTS
#define MAX_RNG HX_MMIO_SLOTS
#define BOUNCE_BYTES (64u * 1024u)
#define DMA_ZONE_BYTES (1u << 20)

struct blk_arg {
	struct hx_blk_opts o;
	const char *spec;   /* as typed, for messages */
	uint16_t bridge;    /* bridge=: behind a new bridge of this device ID; 0 none */
};

struct options {
	struct hx_machine_cfg cfg;
	struct blk_arg blk[MAX_BLK];
	unsigned nblk;
	struct hx_rng_opts rng[MAX_RNG]; /* --rng, in order */
	unsigned nrng;
	enum hx_transport transport;
	const char *commands; /* -c */
	bool errexit;         /* -e */
	const char *faults;   /* --faults FILE */
	const char *record;   /* --record FILE */
	enum hx_pci_profile machine; /* --machine */
	bool machine_given;
};

static const char *prog = "vlab";

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [options] [-c 'cmd; cmd; ...']\n"
	        "       %s replay [--inject] TRACE\n"
	        "\n"
	        "Drives virtio block devices of a software machine with the virtio-lab\n"
	        "drivers, through U-Boot's 'virtio' command and a few memory commands.\n"
	        "Without -c, commands come from stdin: a script when it is not a terminal,\n"
	        "else an interactive shell with the prompt '=> ' (line editing, history in\n"
	        "$VLAB_HISTORY or ~/.vlab_history, tab completion).\n"
	        "\n"
	        "Options:\n"
	        "  --blk IMAGE[,transport=T][,ro][,qemu][,bridge=pci-bridge|root-port]\n"
	        "                     a block device backed by a raw image file (repeatable)\n"
	        "  --blk-ram SIZE[,transport=...][,ro][,qemu]\n"
	        "                     a zeroed RAM disk of SIZE bytes (K, M, G suffixes)\n"
	        "  --net [transport=T,][mac=M|mac=none,][mtu=N,][backend=loop|wire|pcap=FILE]\n"
	        "                     a virtio-net device (repeatable; wire NICs pair up in order)\n"
	        "  --rng [transport=T][,seed=N][,max=N]\n"
	        "                     a virtio-rng device (repeatable): its bytes are a seeded\n"
	        "                     stream; max= caps the bytes one request gets\n"
	        "  --blk, --blk-ram, --net and --rng also take ring options (QEMU's names):\n"
	        "                     packed=on|off, indirect_desc=on|off, event_idx=on|off\n"
	        "  --blk and --blk-ram take QEMU's virtio-blk properties too:\n"
	        "                     logical_block_size=N, physical_block_size=N, queue-size=N,\n"
	        "                     config-wce=on|off, write-cache=on|off, num-queues=N\n"
	        "  --transport T      default transport of later --blk/--blk-ram (mmio); T is\n"
	        "                     mmio, mmio-legacy, pci, pci-transitional or pci-legacy\n"
	        "  --ram SIZE         guest RAM size (default 64M), at 0x80000000\n"
	        "  --machine M        PCI bus 0 as on QEMU's machine M: virt (default), pc\n"
	        "                     (i440FX) or q35; pc and q35 use the 0xCF8 ports\n"
	        "  --seed N           scheduler seed (default 0)\n"
	        "  --faults FILE      the devices misbehave as the fault plan FILE says\n"
	        "                     (docs/fault-plans.md)\n"
	        "  --sched POLICY     when the device works: immediate, deferred, batched\n"
	        "  --record FILE      write the run's trace to FILE (docs/trace-format.md)\n"
	        "  --refuse LIST      the drivers decline these ring features even when\n"
	        "                     offered: packed, indirect, event-idx (comma-separated)\n"
	        "  -c CMDS            run CMDS and exit: every command of 'a; b' runs, 'a && b'\n"
	        "                     runs b after a success of a, 'a || b' after a failure\n"
	        "                     (U-Boot's hush: variables, if, test, run; docs/vlab.md)\n"
	        "  -e                 with -c or a script: stop at the first command that fails\n"
	        "  --complete TEXT    print the shell's tab completions of TEXT and exit\n"
	        "  -h, --help         this text\n"
	        "  --version          print the version\n"
	        "\n"
	        "Without --blk/--blk-ram the machine has one 32 MiB RAM disk with a GPT\n"
	        "(partitions \"boot\" and \"rootfs\").  Try:\n"
	        "  %s -c 'virtio scan; virtio info; virtio part 0'\n"
	        "Type 'help' at the prompt for the commands; see docs/vlab.md.\n"
	        "\n"
	        "Exit status: 0 ok, 1 a command (any of them) or a device failed, 2 bad usage,\n"
	        "3 the driver broke the virtio spec (violations are printed).\n"
	        "\n"
	        "'replay TRACE' runs the devices and commands a --record trace names against\n"
	        "the trace instead of the device model (the same stdout; the verdict on\n"
	        "stderr); --inject for an edited trace.  Exit status: 0 the run matched the\n"
	        "trace to its end, 1 a divergence (reported), 2 a bad trace (FILE:LINE: reason).\n",
	        prog, prog, prog);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

/* IMAGE-or-SIZE[,key[=value]]... into a blk_arg. */
static int parse_blk(struct options *opt, const char *spec, bool ram)
{
	struct blk_arg *b;
	char *copy, *save = NULL, *tok;
	const char *why = NULL;
	int rc = 0;

	if (opt->nblk == MAX_BLK) {
		fprintf(stderr, "%s: at most %u block devices (one per virtio-mmio slot)\n", prog,
		        MAX_BLK);
		return EXIT_USAGE;
	}
	b = &opt->blk[opt->nblk];
	hx_blk_opts_default(&b->o);
	b->o.transport = opt->transport;
	b->spec = spec;
	copy = strdup(spec);
	if (!copy) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_CMD_FAILED;
	}
	tok = strtok_r(copy, ",", &save);
	if (!tok || !*tok) {
		free(copy);
		return bad_usage(ram ? "--blk-ram needs a SIZE" : "--blk needs an IMAGE file", "");
	}
	if (ram) {
		uint64_t size;

		if (!cli_parse_size(tok, &size) || size == 0 || size % 512 != 0) {
			rc = bad_usage("--blk-ram: '%s' is not a size that is a non-zero multiple "
			               "of 512 bytes (e.g. 64M)",
			               tok);
			goto out;
		}
		b->o.image = NULL;
		b->o.ram_bytes = size;
	} else {
		b->o.image = spec; /* the image name is the leading part of spec */
	}
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (!strcmp(tok, "ro")) {
			b->o.read_only = true;
		} else if (!strcmp(tok, "qemu")) {
			b->o.qemu_profile = true;
		} else if (!strcmp(tok, "bridge=pci-bridge") || !strcmp(tok, "bridge=root-port")) {
			b->bridge = tok[7] == 'p' ? DM_PCI_BRIDGE_PCI : DM_PCI_BRIDGE_ROOT_PORT;
		} else if ((rc = dm_ring_option(tok, &b->o.features_on, &b->o.features_off)) != 0) {
			if (rc < 0) {
				rc = bad_usage("'%s': a ring option takes on or off", tok);
				goto out;
			}
			rc = 0;
		} else if ((rc = hx_blk_prop(&b->o, tok, &why)) != 0) {
			if (rc < 0) {
				fprintf(stderr, "%s: '%s': %s\n", prog, tok, why);
				rc = EXIT_USAGE;
				goto out;
			}
			rc = 0;
		} else if (!strncmp(tok, "bridge=", 7)) {
			rc = bad_usage("unknown bridge '%s' (pci-bridge, root-port)", tok + 7);
			goto out;
		} else if (!strncmp(tok, "transport=", 10)) {
			int t = hx_transport_parse(tok + 10);

			if (t < 0) {
				rc = bad_usage("unknown transport '%s' (mmio, mmio-legacy, pci, pci-transitional, pci-legacy)", tok + 10);
				goto out;
			}
			b->o.transport = (enum hx_transport)t;
		} else {
			rc = bad_usage("unknown device option '%s' (transport=, ro, qemu, bridge=, packed=, "
			               "indirect_desc=, event_idx=, " HX_BLK_PROP_NAMES ")",
			               tok);
			goto out;
		}
	}
	if (b->bridge && !hx_transport_is_pci(b->o.transport)) {
		rc = bad_usage("bridge= needs a PCI transport (transport=pci...), not '%s'",
		               hx_transport_name(b->o.transport));
		goto out;
	}
	if (!ram) {
		/* Keep only the file name: cut spec at its first comma. */
		size_t n = strcspn(spec, ",");
		char *name = strndup(spec, n);

		if (!name) {
			fprintf(stderr, "%s: out of memory\n", prog);
			rc = EXIT_CMD_FAILED;
			goto out;
		}
		b->o.image = name; /* lives until exit */
	}
	opt->nblk++;
out:
	free(copy);
	return rc;
}

/* Option value: "--opt value" or "--opt=value". */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (!strncmp(a, name, n) && a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static bool opt_is(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

/* [transport=T][,seed=N][,max=N][,ring option]... into the next --rng;
 * spec NULL: the defaults. */
static int parse_rng(struct options *opt, const char *spec)
{
	struct hx_rng_opts *r;
	char *copy, *save = NULL, *tok;
	uint64_t v;
	int rc = 0;

	if (opt->nrng == MAX_RNG) {
		fprintf(stderr, "%s: at most %u --rng devices\n", prog, MAX_RNG);
		return EXIT_USAGE;
	}
	r = &opt->rng[opt->nrng];
	hx_rng_opts_default(r);
	r->transport = opt->transport;
	copy = strdup(spec ? spec : "");
	if (!copy) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_CMD_FAILED;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "transport=", 10)) {
			int t = hx_transport_parse(tok + 10);

			if (t < 0) {
				rc = bad_usage("--rng: unknown transport '%s' (mmio, mmio-legacy, pci, "
				               "pci-transitional, pci-legacy)",
				               tok + 10);
				break;
			}
			r->transport = (enum hx_transport)t;
		} else if (!strncmp(tok, "seed=", 5)) {
			if (!cli_parse_uint(tok + 5, &v)) {
				rc = bad_usage("--rng: seed '%s' is not a number", tok + 5);
				break;
			}
			r->cfg.seed = v;
		} else if (!strncmp(tok, "max=", 4)) {
			if (!cli_parse_uint(tok + 4, &v) || v > UINT32_MAX) {
				rc = bad_usage("--rng: max '%s' is not a number of bytes below 2^32 (0: no limit)",
				               tok + 4);
				break;
			}
			r->cfg.max_bytes = (uint32_t)v;
		} else if ((rc = dm_ring_option(tok, &r->features_on, &r->features_off)) != 0) {
			if (rc < 0) {
				rc = bad_usage("--rng: '%s': a ring option takes on or off", tok);
				break;
			}
			rc = 0;
		} else {
			rc = bad_usage("--rng: unknown option '%s' (transport=, seed=, max=, packed=, "
			               "indirect_desc=, event_idx=)",
			               tok);
			break;
		}
	}
	free(copy);
	if (rc == 0)
		opt->nrng++;
	return rc;
}

/* Returns -1 to go on, else an exit status. */
static int parse_options(struct options *opt, int argc, char **argv)
{
	hx_machine_cfg_default(&opt->cfg);
	opt->transport = HX_MMIO;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int rc;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("vlab %s (virtio-lab)\n", VLAB_CLI_VERSION);
			return 0;
		}
		if (!strcmp(a, "-c")) {
			if (i + 1 >= argc)
				return bad_usage("option '%s' needs an argument", a);
			if (opt->commands)
				return bad_usage("%s given twice; join the commands with ';'", a);
			opt->commands = argv[++i];
			continue;
		}
		if (!strcmp(a, "-e")) {
			opt->errexit = true;
			continue;
		}
		if (opt_is(a, "--blk") || opt_is(a, "--blk-ram")) {
			bool ram = opt_is(a, "--blk-ram");

			v = opt_value(argc, argv, &i, ram ? "--blk-ram" : "--blk");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			rc = parse_blk(opt, v, ram);
			if (rc)
				return rc;
			continue;
		}
		if (opt_is(a, "--net")) {
			v = opt_value(argc, argv, &i, "--net");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			rc = cli_net_parse(v, opt->transport);
			if (rc)
				return rc;
			continue;
		}
		if (opt_is(a, "--rng")) {
			/* The value is optional: --rng, --rng=SPEC, or --rng SPEC
			 * when SPEC is not an option. */
			v = NULL;
			if (a[5] == '=')
				v = a + 6;
			else if (i + 1 < argc && argv[i + 1][0] != '-')
				v = argv[++i];
			rc = parse_rng(opt, v);
			if (rc)
				return rc;
			continue;
		}
		if (opt_is(a, "--transport")) {
			int t;

			v = opt_value(argc, argv, &i, "--transport");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			t = hx_transport_parse(v);
			if (t < 0)
				return bad_usage("unknown transport '%s' (mmio, mmio-legacy, pci, pci-transitional, pci-legacy)", v);
			opt->transport = (enum hx_transport)t;
			continue;
		}
		if (opt_is(a, "--ram")) {
			uint64_t size;

			v = opt_value(argc, argv, &i, "--ram");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (!cli_parse_size(v, &size) || size < (1u << 20) || size > (4ull << 30) ||
			    size % 4096 != 0)
				return bad_usage("--ram: '%s' is not a size from 1M to 4G, a multiple "
				                 "of 4K",
				                 v);
			opt->cfg.ram_size = size;
			continue;
		}
		if (opt_is(a, "--faults")) {
			v = opt_value(argc, argv, &i, "--faults");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (opt->faults)
				return bad_usage("%s given twice; put all faults in one plan", "--faults");
			opt->faults = v;
			continue;
		}
		if (opt_is(a, "--record")) {
			v = opt_value(argc, argv, &i, "--record");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (opt->record)
				return bad_usage("%s given twice", "--record");
			opt->record = v;
			continue;
		}
		if (opt_is(a, "--seed")) {
			uint64_t seed;

			v = opt_value(argc, argv, &i, "--seed");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (!cli_parse_uint(v, &seed))
				return bad_usage("--seed: '%s' is not a number", v);
			opt->cfg.seed = seed;
			continue;
		}
		if (opt_is(a, "--machine")) {
			const char *const *names = cli_machine_names;
			unsigned k;

			v = opt_value(argc, argv, &i, "--machine");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (opt->machine_given)
				return bad_usage("%s given twice", "--machine");
			for (k = 0; k < 3 && strcmp(v, names[k]) != 0; k++)
				;
			if (k == 3)
				return bad_usage("--machine: unknown machine '%s' (virt, pc, q35)", v);
			opt->machine = (enum hx_pci_profile)k;
			opt->machine_given = true;
			continue;
		}
		if (opt_is(a, "--refuse")) {
			v = opt_value(argc, argv, &i, "--refuse");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (cli_parse_refuse(v, &cli_refuse_features) != 0)
				return bad_usage("--refuse: unknown feature in '%s' (packed, indirect, event-idx)", v);
			continue;
		}
		if (opt_is(a, "--sched")) {
			v = opt_value(argc, argv, &i, "--sched");
			if (!v)
				return bad_usage("option '%s' needs an argument", a);
			if (!strcmp(v, "immediate"))
				opt->cfg.policy = HX_SCHED_IMMEDIATE;
			else if (!strcmp(v, "deferred"))
				opt->cfg.policy = HX_SCHED_DEFERRED;
			else if (!strcmp(v, "batched"))
				opt->cfg.policy = HX_SCHED_BATCHED;
			else
				return bad_usage("--sched: unknown policy '%s' (immediate, deferred, "
				                 "batched)",
				                 v);
			continue;
		}
		if (a[0] == '-')
			return bad_usage("unknown option '%s'", a);
		return bad_usage("unexpected argument '%s' (commands go after -c)", a);
	}
	for (unsigned k = 0; opt->record && k < opt->nblk; k++)
		if (opt->blk[k].bridge)
			return bad_usage("--record: '%s' sits behind a bridge, which a trace cannot hold yet "
			                 "(its bind line names a function of bus 0)",
			                 opt->blk[k].spec);
	return -1;
}

static void driver_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	struct cli *c = ctx;

	if (c->mute_driver_log)
		return;
	fflush(stdout);
	fprintf(stderr, "driver %s: %s\n", (unsigned)level < 4 ? names[level] : "log", msg);
}

/* Add the devices; the default disk when none was asked for. */
static int build_machine(struct cli *c, const struct options *opt)
{
	const char *err = NULL;

	if (opt->nblk == 0) {
		struct hx_blk_opts o;
		struct hx_dev *d;
		uint8_t *bytes;

		hx_blk_opts_default(&o);
		o.transport = opt->transport;
		o.ram_bytes = VLAB_DEFAULT_DISK_BYTES;
		d = hx_add_blk(c->m, &o, &err);
		if (!d) {
			fprintf(stderr, "%s: default disk: %s\n", prog, err ? err : "failed");
			return EXIT_CMD_FAILED;
		}
		bytes = d->blk ? dm_store_ram_bytes(d->blk->store) : NULL;
		if (!bytes || vlab_mkdisk_default(bytes, VLAB_DEFAULT_DISK_BYTES) != 0) {
			fprintf(stderr, "%s: default disk: cannot write its partition table\n", prog);
			return EXIT_CMD_FAILED;
		}
		return 0;
	}
	for (unsigned i = 0; i < opt->nblk; i++) {
		const struct blk_arg *b = &opt->blk[i];

		err = NULL;
		if (b->bridge) {
			/* As QEMU's -device pcie-root-port,id=rp -device ...,bus=rp:
			 * the bridge at the next free slot of bus 0, the disk at 00.0
			 * behind it. */
			struct dm_pci_bridge *br = hx_pci_add_bridge(c->m, NULL, HX_PCI_ANY_SLOT, b->bridge);

			if (!br || hx_pci_place_next_on(c->m, br, 0, 0) != 0) {
				fprintf(stderr, "%s: %s %s: cannot add its bridge\n", prog,
				        b->o.image ? "--blk" : "--blk-ram", b->spec);
				return EXIT_CMD_FAILED;
			}
		}
		if (!hx_add_blk(c->m, &b->o, &err)) {
			fprintf(stderr, "%s: %s %s: %s\n", prog, b->o.image ? "--blk" : "--blk-ram",
			        b->spec, err ? err : "cannot create the device");
			return EXIT_CMD_FAILED;
		}
	}
	return 0;
}

/* The --rng devices, after the disks and NICs. */
static int build_rngs(struct cli *c, const struct options *opt)
{
	for (unsigned i = 0; i < opt->nrng; i++) {
		const char *err = NULL;

		if (!hx_add_rng(c->m, &opt->rng[i], &err)) {
			fprintf(stderr, "%s: --rng: %s\n", prog, err ? err : "cannot create the device");
			return EXIT_CMD_FAILED;
		}
	}
	return 0;
}

/* The fault plan: parsed, checked against the machine, then every device
 * gets its entries (after the devices exist, before any driver runs). */
static int load_faults(struct cli *c, const char *path)
{
	static struct dm_fault_plan plan;
	char err[DM_FAULT_PLAN_ERR_MAX];
	unsigned ndevs = hx_ndevs(c->m);

	dm_fault_plan_init(&plan);
	if (dm_fault_plan_load_file(&plan, path, err, sizeof err) != 0) {
		fprintf(stderr, "%s: --faults: %s\n", prog, err);
		return EXIT_USAGE;
	}
	for (unsigned i = 0; i < plan.n; i++)
		if (plan.e[i].device >= 0 && (unsigned)plan.e[i].device >= ndevs) {
			fprintf(stderr, "%s: --faults: %s:%u: device=%d, but the machine has %u device%s\n",
			        prog, path, plan.e[i].line, plan.e[i].device, ndevs, ndevs == 1 ? "" : "s");
			return EXIT_USAGE;
		}
	for (unsigned d = 0; d < ndevs; d++)
		if (dm_fault_plan_apply(&plan, hx_dev_at(c->m, d)->dv, d, err, sizeof err) < 0) {
			fprintf(stderr, "%s: --faults: %s: %s\n", prog, path, err);
			return EXIT_USAGE;
		}
	return 0;
}

/*
 * The DMA allocator is first-fit from the bottom of guest RAM, where users
 * of U-Boot habitually load things (0x80000000).  Reserve everything but
 * the top DMA zone before any driver allocates, so that rings and request
 * headers land in the zone, and commands can refuse to write there.
 */
static int reserve_user_ram(struct cli *c)
{
	uint64_t size = hx_ram_size(c->m);
	uint64_t zone = size >= (8u << 20) ? DMA_ZONE_BYTES : size / 4;
	uint64_t dev;

	c->user_area_len = (size_t)(size - zone);
	c->user_area = hx_dma_alloc(c->m, c->user_area_len, 4096, &dev);
	if (!c->user_area || dev != hx_ram_base(c->m))
		return -1;
	c->dma_zone = dev + c->user_area_len;
	return 0;
}

int cli_setup_memory(struct cli *c)
{
	if (reserve_user_ram(c) != 0) {
		fprintf(stderr, "%s: cannot reserve guest RAM for commands\n", prog);
		return EXIT_CMD_FAILED;
	}
	c->bounce_len = BOUNCE_BYTES;
	c->bounce = hx_dma_alloc(c->m, c->bounce_len, 4096, &c->bounce_dev);
	if (!c->bounce) {
		fprintf(stderr, "%s: cannot allocate a DMA buffer in guest RAM\n", prog);
		return EXIT_CMD_FAILED;
	}
	return 0;
}

void cli_free_memory(struct cli *c)
{
	hx_dma_free(c->m, c->bounce, c->bounce_len);
	hx_dma_free(c->m, c->user_area, c->user_area_len);
}

int cli_run_one(void *ctx, int argc, char **argv)
{
	struct cli *c = ctx;
	int rc = cli_run_command(c, argc, argv);

	fflush(stdout);
	return (rc != CLI_OK ? CLI_RUN_FAILED : 0) | (c->quit ? CLI_RUN_STOP : 0);
}

/* Run a text (every command of it, as U-Boot does); *failed is set when
 * one failed or the text is malformed.  false when the session should end
 * (exit, or -e after a failure). */
static bool run_line(struct cli *c, const char *line, bool *failed)
{
	int rc = cli_split_run(line, cli_run_one, c);

	if (rc < 0 || (rc & CLI_RUN_FAILED))
		*failed = true;
	return rc < 0 || !(rc & CLI_RUN_STOP);
}

/*
 * Lines of a script or of the prompt gather in text while an if or a
 * quote is open (then the prompt is U-Boot's "> "), and run once the text
 * is complete.  As run_line.
 */
struct pending {
	char text[CLI_MAX_SCRIPT];
	size_t len;
};

static bool feed_line(struct cli *c, struct pending *p, const char *line, bool *failed)
{
	size_t n = strcspn(line, "\n");

	if (p->len + n + 2 > sizeof p->text) {
		printf("** command text too long (limit %d bytes), ignored **\n", CLI_MAX_SCRIPT - 2);
		p->len = 0;
		*failed = true;
		return true;
	}
	memcpy(p->text + p->len, line, n);
	p->len += n;
	p->text[p->len++] = '\n';
	p->text[p->len] = '\0';
	if (cli_shell_incomplete(p->text))
		return true;
	p->len = 0;
	return run_line(c, p->text, failed);
}

static int report_violations(struct cli *c)
{
	const struct dm_report *r = hx_report(c->m);
	char *buf;

	if (r->count == 0)
		return 0;
	fflush(stdout);
	buf = malloc(65536);
	fprintf(stderr, "vlab: the device model recorded %u violation%s of the virtio spec by the "
	                "driver:\n",
	        r->count, r->count == 1 ? "" : "s");
	if (buf) {
		dm_report_format(r, buf, 65536);
		fputs(buf, stderr);
		if (buf[0] && buf[strlen(buf) - 1] != '\n')
			fputc('\n', stderr);
		free(buf);
	}
	return EXIT_VIOLATIONS;
}

/* One line from stdin into line (CLI_MAX_LINE bytes): false at the end.
 * Through libedit when edit is set. */
static bool read_line(char *line, bool interactive, bool edit, bool more, bool *failed)
{
	const char *prompt = more ? "> " : "=> ";
	int ch;

	if (edit) {
		const char *got = cli_edit_read(prompt);

		if (!got)
			return false;
		snprintf(line, CLI_MAX_LINE, "%s", got);
		return true;
	}
	for (;;) {
		if (interactive) {
			fputs(prompt, stdout);
			fflush(stdout);
		}
		if (!fgets(line, CLI_MAX_LINE, stdin))
			return false;
		if (strchr(line, '\n') || feof(stdin))
			return true;
		while ((ch = getchar()) != EOF && ch != '\n')
			;
		printf("** line too long (limit %d bytes), ignored **\n", CLI_MAX_LINE - 2);
		*failed = true;
	}
}

/* The commands: -c, the trace's (replay), or stdin line by line (a
 * recording keeps each line as an input event).  *failed as run_line. */
static void run_session(struct cli *c, const char *commands, bool errexit, bool *failed)
{
	bool interactive = !c->replay && !commands && isatty(STDIN_FILENO);
	bool edit = interactive && cli_edit_start();
	static struct pending p;
	char line[CLI_MAX_LINE];
	bool go_on = true;

	/* At the prompt a failure ends nothing. */
	cli_shell_set_errexit(errexit && !interactive);
	p.len = 0;
	if (commands) {
		run_line(c, commands, failed);
		return;
	}
	while (c->replay && go_on) {
		if (!hx_replay_input(c->replay, line, sizeof line))
			break;
		go_on = feed_line(c, &p, line, failed);
	}
	while (!c->replay && go_on) {
		if (!read_line(line, interactive, edit, p.len > 0, failed)) {
			if (interactive)
				putchar('\n');
			break;
		}
		if (c->rec) {
			line[strcspn(line, "\n")] = '\0';
			hx_trace_record_input(c->rec, line);
		}
		go_on = feed_line(c, &p, line, failed);
	}
	if (go_on && p.len) /* an if or a quote left open: its message */
		run_line(c, p.text, failed);
	if (edit)
		cli_edit_end();
	if (interactive)
		*failed = false; /* at the prompt a failed command is not fatal */
}

/* A replay's driver log: what the machine's log would let through. */
static void replay_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	if (level <= VLAB_LOG_WARN)
		driver_log(ctx, level, msg);
}

/*
 * The machine of opt, the commands, the shutdown.  argc/argv: the command
 * line, for --record's header.  t: a trace (file path) to replay instead
 * of running the device model (then the devices are those opt names,
 * rebuilt from the trace's header, and commands the trace's).
 */
static int run_machine(struct options *opt, int argc, char **argv, const struct hx_trace *t, const char *path,
                       bool inject)
{
	static struct cli cli;
	struct cli *c = &cli;
	bool failed = false;
	int rc;

	c->m = hx_machine_new(&opt->cfg);
	if (!c->m) {
		fprintf(stderr, "%s: cannot create the machine (guest RAM %" PRIu64 " bytes)\n", prog,
		        opt->cfg.ram_size);
		return EXIT_CMD_FAILED;
	}
	c->plat = hx_platform(c->m);
	hx_set_log(c->m, driver_log, c, VLAB_LOG_WARN);
	if (reserve_user_ram(c) != 0) {
		fprintf(stderr, "%s: cannot reserve guest RAM for commands\n", prog);
		hx_machine_free(c->m);
		return EXIT_CMD_FAILED;
	}
	if (opt->machine != HX_PCI_PROFILE_VIRT && hx_pci_set_profile(c->m, opt->machine) != 0) {
		fprintf(stderr, "%s: --machine: cannot create the PCI host (guest RAM must end below its windows: "
		                "0xB0000000 on q35, 0xC0000000 on pc)\n", prog);
		hx_machine_free(c->m);
		return EXIT_CMD_FAILED;
	}
	rc = build_machine(c, opt);
	if (rc == 0)
		rc = cli_net_build(c);
	if (rc == 0)
		rc = build_rngs(c, opt);
	if (rc == 0 && opt->faults)
		rc = load_faults(c, opt->faults);
	if (rc == 0 && t)
		rc = cli_replay_check_binds(c, t, path);
	if (rc) {
		hx_machine_free(c->m);
		return rc;
	}
	c->bounce_len = BOUNCE_BYTES;
	c->bounce = hx_dma_alloc(c->m, c->bounce_len, 4096, &c->bounce_dev);
	if (!c->bounce) {
		fprintf(stderr, "%s: cannot allocate a DMA buffer in guest RAM\n", prog);
		hx_machine_free(c->m);
		return EXIT_CMD_FAILED;
	}
	if (t) {
		c->replay = hx_replay_new(t, replay_log, c);
		if (!c->replay) {
			fprintf(stderr, "%s: out of memory\n", prog);
			hx_machine_free(c->m);
			return EXIT_CMD_FAILED;
		}
		hx_replay_set_inject(c->replay, inject);
		hx_replay_attach(c->replay, c->m);
	} else if (opt->record) {
		rc = cli_record_start(c, opt->record, argc, argv, &opt->cfg);
		if (rc) {
			hx_machine_free(c->m);
			return rc;
		}
	}

	run_session(c, opt->commands, opt->errexit, &failed);
	fflush(stdout);

	cli_virtio_shutdown(c);
	cli_net_shutdown(c);
	cli_rng_shutdown(c);
	if (cli_record_stop(c) != 0)
		failed = true;
	if (c->replay) {
		bool ok = hx_replay_finish(c->replay);

		fflush(stdout);
		if (ok)
			fprintf(stderr, "vlab replay: %zu events, the run matched the trace to its end\n",
			        hx_trace_nevents(t));
		if (!ok || inject)
			fputs(hx_replay_report(c->replay), stderr);
		hx_replay_free(c->replay);
		c->replay = NULL;
		rc = ok ? 0 : EXIT_CMD_FAILED;
	} else {
		rc = report_violations(c);
	}
	cli_free_memory(c);
	hx_machine_free(c->m);
	if (rc || t)
		return rc;
	return failed ? EXIT_CMD_FAILED : 0;
}

/*
 * vlab replay [--inject] FILE: the machine the header names (guest RAM
 * from the producer line, one device a device line, RAM disks whatever the
 * recorded run's images were: what the device gave comes from the trace),
 * its bind lines checked, the commands of -c or the trace's input lines.
 */
static int replay_main(int argc, char **argv)
{
	static struct options opt;
	const char *path = NULL;
	char err[512], *commands = NULL;
	bool inject = false;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--inject") && !inject)
			inject = true;
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			return bad_usage("replay: unexpected argument '%s' (replay [--inject] TRACE)", argv[i]);
	}
	if (!path)
		return bad_usage("replay needs a TRACE file (%s)", "replay [--inject] TRACE");
	struct hx_trace *t = hx_trace_load(path, err, sizeof err);
	if (!t) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	hx_machine_cfg_default(&opt.cfg);
	rc = cli_replay_header(t, path, &opt.cfg.ram_base, &opt.cfg.ram_size, &opt.machine, &commands);
	for (unsigned i = 0; rc == 0; i++) {
		bool net = false;
		enum hx_transport tr = HX_MMIO;
		char kind[24];

		rc = cli_replay_device(t, path, i, &net, &tr, kind, sizeof kind);
		if (rc == 0 && net) {
			rc = cli_net_add_replay(tr, kind);
		} else if (rc == 0 && opt.nblk == MAX_BLK) {
			fprintf(stderr, "%s: more than %u block devices\n", path, MAX_BLK);
			rc = EXIT_USAGE;
		} else if (rc == 0) {
			struct blk_arg *b = &opt.blk[opt.nblk++];

			/* A small RAM disk: the recorded device's answers are in the trace. */
			hx_blk_opts_default(&b->o);
			b->o.transport = tr;
			b->o.ram_bytes = 64 * 1024;
			b->spec = "(replay)";
		}
	}
	if (rc == 1)
		rc = 0; /* no more device lines */
	if (rc == 0) {
		opt.commands = commands;
		rc = run_machine(&opt, argc, argv, t, path, inject);
	}
	free(commands);
	hx_trace_free(t);
	return rc;
}

int main(int argc, char **argv)
{
	static struct options opt;
	int rc;

	if (argc > 0 && argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	else if (argc > 0 && argv[0])
		prog = argv[0];

	if (argc > 1 && !strcmp(argv[1], "replay"))
		return replay_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--complete")) {
		const char *cands[CLI_COMPLETE_MAX];
		size_t start, n;

		if (argc != 3)
			return bad_usage("%s needs one TEXT (the line before the cursor)", argv[1]);
		n = cli_complete(argv[2], strlen(argv[2]), cands, &start);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", cands[i]);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "conformance"))
		return cmd_conformance_main(argc - 1, argv + 1);
	rc = parse_options(&opt, argc, argv);
	if (rc >= 0)
		return rc;
	return run_machine(&opt, argc, argv, NULL, NULL, false);
}
