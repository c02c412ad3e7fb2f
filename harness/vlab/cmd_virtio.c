/* SPDX-License-Identifier: MIT */
/*
 * The `virtio` command: U-Boot's sub-commands (scan, info, device, part,
 * read, write) with U-Boot's output (cmd/virtio.c, cmd/blk_common.c,
 * disk/part.c, disk/part_efi.c, disk/part_dos.c), and vlab's extensions
 * (flush, id, features, violations).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/report.h"
#include "harness/pci_host.h"
#include "vlab/bus.h"
#include "vlab/err.h"
#include "vlab/part.h"
#include "vlab/rng.h"
#include "vlab_cli.h"


/* ---- scan ---- */

static struct hx_dev *hx_dev_in_slot(struct cli *c, uint64_t base)
{
	for (unsigned i = 0; i < hx_ndevs(c->m); i++) {
		struct hx_dev *d = hx_dev_at(c->m, i);

		if (d && d->base == base)
			return d;
	}
	return NULL;
}

/* ---- PCI: the virtio functions enumeration finds, in bus order ---- */

struct pci_scan {
	struct cli *c;
	bool quiet;
	int rc;
};

static struct hx_dev *hx_dev_at_pci(struct cli *c, uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < hx_ndevs(c->m); i++) {
		struct hx_dev *d = hx_dev_at(c->m, i);

		if (d && d->vpci && d->pci_dev == dev && d->pci_fn == fn && hx_pci_bus_of(c->m, d) == bus)
			return d;
	}
	return NULL;
}

/* What scan says of a device that is not a disk: the command that drives
 * it, else its driver, else none (the bus matched it, vlab/bus.h). */
static const char *not_a_disk(const struct vlab_bus_dev *bd)
{
	static char msg[128];
	const char *kind = vlab_virtio_id_name(bd->vdev->device_id);
	const char *cmd = cli_command_for(bd->drv);

	if (cmd)
		snprintf(msg, sizeof msg, "%s device, driven by the '%s' command (%s)", kind ? kind : "virtio", cmd,
		         bd->drv->name);
	else
		snprintf(msg, sizeof msg, "device type %u (%s): %s%s, skipped", (unsigned)bd->vdev->device_id,
		         kind ? kind : "unknown", bd->drv ? bd->drv->name : "no driver",
		         bd->drv ? " has no vlab command" : "");
	return msg;
}

static bool is_disk(const struct cli *c, const struct vlab_bus_dev *bd)
{
	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disk[i].bd == bd)
			return true;
	return false;
}

/* Scan's turn for a device on the bus: a disk already, or not one (a line
 * unless quiet), or a disk to bind (U-Boot binds blk devices at scan).
 * where: "slot 0 at 0x10001000", "pci 00:01.0". */
static int scan_bind(struct cli *c, struct vlab_bus_dev *bd, struct hx_dev *hx, unsigned slot, const char *where,
                     bool quiet)
{
	struct cli_disk *d;
	int err;

	if (is_disk(c, bd))
		return CLI_OK;
	if (bd->drv != &vlab_blk_driver) {
		if (!quiet)
			printf("virtio: %s: %s\n", where, not_a_disk(bd));
		return CLI_OK;
	}
	if (c->ndisks >= sizeof(c->disk) / sizeof(c->disk[0])) {
		printf("virtio: %s: no room for another device, skipped\n", where);
		return CLI_OK;
	}
	err = vlab_bus_probe(bd);
	if (err) {
		printf("virtio: %s: virtio-blk init failed: %s\n", where, vlab_strerror(err));
		return CLI_FAIL;
	}
	d = &c->disk[c->ndisks];
	memset(d, 0, sizeof(*d));
	d->bd = bd;
	d->vdev = bd->vdev;
	d->blk = bd->priv;
	d->on_pci = bd->transport == VLAB_BUS_PCI;
	d->slot = slot;
	d->hx = hx;
	d->devnum = c->ndisks++;
	return CLI_OK;
}

static int scan_pci_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct pci_scan *s = ctx;
	struct cli *c = s->c;
	char where[32];
	int err;

	if (vlab_pci_virtio_type(f) == 0)
		return 0;
	snprintf(where, sizeof where, "pci %02x:%02x.%x", f->bus, f->dev, f->fn);
	struct vlab_bus_dev *bd = cli_bus_at_pci(c, f->bus, f->dev, f->fn);
	if (!bd) {
		struct vlab_bus *b = cli_bus(c);
		err = b ? vlab_bus_add_pci_fn(b, hx_pci_firmware(c->m), f->bus, f->dev, f->fn) : VLAB_ENOMEM;
		if (err) {
			printf("virtio: %s: probe failed: %s\n", where, vlab_strerror(err));
			s->rc = CLI_FAIL;
			return 0;
		}
		bd = &b->devs[b->ndevs - 1];
	}
	if (scan_bind(c, bd, hx_dev_at_pci(c, f->bus, f->dev, f->fn), 0, where, s->quiet) != CLI_OK)
		s->rc = CLI_FAIL;
	return 0;
}

static int scan_pci(struct cli *c, bool quiet)
{
	struct pci_scan s = { c, quiet, CLI_OK };
	struct vlab_pci_host *h = hx_pci_firmware(c->m);

	if (!h)
		return CLI_OK; /* no PCI on this machine */
	(void)vlab_pci_scan(h); /* bridges; a failure is logged */
	if (vlab_pci_enumerate(h, scan_pci_fn, &s) < 0)
		return CLI_FAIL;
	return s.rc;
}

int cli_reprobe(const char *name, struct vlab_virtio_dev *v, char *failed,
                int (*shutdown)(void *drv), int (*init)(void *drv), void *drv)
{
	char why[CLI_FAILED_MAX + 32];
	int err;

	if (failed[0])
		snprintf(why, sizeof why, "was not usable (%s)", failed);
	else if (v->broken)
		snprintf(why, sizeof why, "was broken (%s)", v->broken_why ? v->broken_why : "no reason given");
	else if (vlab_virtio_check(v) != 0)
		snprintf(why, sizeof why, "needs a reset");
	else
		return CLI_OK;
	/* The bus's remove: VLAB_EWEDGED when the driver's reset did not
	 * complete (it then keeps the device's memory, whatever follows). */
	if (shutdown(drv) != 0 || v->broken) {
		/* The reset did not complete: the device may still write
		 * wherever it was told to, so nothing is freed or reused. */
		snprintf(failed, CLI_FAILED_MAX, "it does not finish a reset");
		printf("%s: %s: %s: its memory stays reserved (never reused); 'virtio scan' tries again\n",
		       name, why, failed);
		return CLI_FAIL;
	}
	err = init(drv);
	if (err) {
		snprintf(failed, CLI_FAILED_MAX, "initialising it again failed: %s", vlab_strerror(err));
		printf("%s: %s: %s\n", name, why, failed);
		return CLI_FAIL;
	}
	failed[0] = '\0';
	printf("%s: %s: reset and initialised again\n", name, why);
	return CLI_OK;
}

static int disk_stop(void *drv)
{
	return vlab_bus_remove(((struct cli_disk *)drv)->bd);
}

static int disk_start(void *drv)
{
	return vlab_bus_probe(((struct cli_disk *)drv)->bd);
}

int cli_virtio_scan(struct cli *c, bool quiet)
{
	int rc = CLI_OK;

	/* Bound disks first: a broken one is brought back, in its place. */
	for (unsigned i = 0; i < c->ndisks; i++) {
		struct cli_disk *d = &c->disk[i];
		char name[16];

		snprintf(name, sizeof name, "virtio %u", d->devnum);
		if (cli_reprobe(name, d->vdev, d->failed, disk_stop, disk_start, d) != CLI_OK)
			rc = CLI_FAIL;
	}

	for (unsigned slot = 0; slot < HX_MMIO_SLOTS; slot++) {
		uint64_t base = HX_MMIO_SLOT_BASE + HX_MMIO_SLOT_SIZE * slot;
		struct hx_dev *hx = hx_dev_in_slot(c, base);
		struct vlab_bus_dev *bd = cli_bus_at_mmio(c, base);
		struct vlab_bus *b = cli_bus(c);
		char where[48];
		int err;

		if (!b)
			return CLI_FAIL;
		snprintf(where, sizeof where, "slot %u at 0x%08" PRIx64, slot, base);
		if (!bd) {
			/* A slot with nothing behind it is not an error (QEMU
			 * has eight, most of them empty): probe it quietly. */
			c->mute_driver_log = (hx == NULL);
			err = vlab_bus_add_mmio(b, base);
			c->mute_driver_log = false;
			if (err == VLAB_ENODEV && (!hx || hx->device_id == 0))
				continue;
			if (err) {
				if (hx) {
					printf("virtio: %s: probe failed: %s\n", where, vlab_strerror(err));
					rc = CLI_FAIL;
				}
				continue;
			}
			bd = &b->devs[b->ndevs - 1];
		}
		if (scan_bind(c, bd, hx, slot, where, quiet) != CLI_OK)
			rc = CLI_FAIL;
	}
	if (scan_pci(c, quiet) != CLI_OK)
		rc = CLI_FAIL;
	if (cli_net_rescan(c) != CLI_OK)
		rc = CLI_FAIL;
	c->scanned = true;
	return rc;
}

/* The disks forget their devices; cli_bus_handoff removed them. */
void cli_virtio_shutdown(struct cli *c)
{
	cli_bus_handoff(c);
	c->ndisks = 0;
	c->scanned = false;
}

/* Commands other than scan bind the devices on first use, so that
 * `virtio info` works without a `virtio scan` first. */
void cli_ensure_scanned(struct cli *c)
{
	if (!c->scanned)
		(void)cli_virtio_scan(c, true);
}

static struct cli_disk *disk_by_num(struct cli *c, uint64_t n)
{
	return n < c->ndisks ? &c->disk[n] : NULL;
}

/* false (after saying so) for a disk `virtio scan` could not bring back. */
static bool disk_usable(const struct cli_disk *d)
{
	if (!d->failed[0])
		return true;
	printf("virtio %u: not usable: %s; 'virtio scan' tries again\n", d->devnum, d->failed);
	return false;
}

/* [dev] argument: the given one, or the current device. */
static struct cli_disk *disk_arg(struct cli *c, int argc, char **argv, int idx)
{
	uint64_t n = c->cur;

	if (argc > idx && !cli_parse_hex(argv[idx], &n)) {
		printf("** Bad device specification virtio %s **\n", argv[idx]);
		return NULL;
	}
	if (!disk_by_num(c, n)) {
		printf("\nvirtio device %" PRIu64 " not available\n", n);
		return NULL;
	}
	if (!disk_usable(&c->disk[n]))
		return NULL;
	return &c->disk[n];
}

/* ---- info / device ---- */

static void vendor_string(const struct cli_disk *d, char out[9])
{
	uint32_t v = d->vdev->vendor_id;

	/* virtio-mmio vendors are four characters ("QEMU" is 0x554d4551);
	 * PCI subsystem vendors are 16-bit numbers (U-Boot's virtio_blk.c). */
	if (v >> 16) {
		unsigned n = 0;

		for (unsigned i = 0; i < 4; i++) {
			char ch = (char)(v >> (8 * i));

			if (!ch)
				break;
			out[n++] = (ch >= 0x20 && ch < 0x7f) ? ch : '.';
		}
		out[n] = '\0';
	} else {
		snprintf(out, 9, "%04x", (unsigned)v);
	}
}

/* U-Boot's dev_print() for a virtio block device. */
static void dev_print(const struct cli_disk *d)
{
	const struct vlab_blk_info *in = &d->blk->info;
	char vendor[9];

	vendor_string(d, vendor);
	printf("%s VirtIO Block Device\n", vendor);
	printf("            Type: Hard Disk\n");
	if (in->capacity > 0) {
		/* Tenths of MB (and of GB) truncated, without overflow. */
		uint64_t mb = in->capacity / 2048 * 10 + (in->capacity % 2048) * 10 / 2048;
		uint64_t gb = mb / 1024;

		printf("            Capacity: %" PRIu64 ".%" PRIu64 " MB = %" PRIu64 ".%" PRIu64
		       " GB (%" PRIu64 " x %u)\n",
		       mb / 10, mb % 10, gb / 10, gb % 10, cli_disk_blocks(d), cli_disk_bsize(d));
	} else {
		printf("            Capacity: not available\n");
	}
	if (in->read_only)
		printf("            Read only\n");
	if (d->failed[0])
		printf("            not usable: %s\n", d->failed);
}

static int virtio_info(struct cli *c)
{
	if (c->ndisks == 0) {
		printf("\nno virtio devices available\n");
		return CLI_OK;
	}
	for (unsigned i = 0; i < c->ndisks; i++) {
		printf("Device %u: ", i);
		dev_print(&c->disk[i]);
	}
	return CLI_OK;
}

static int virtio_device(struct cli *c, int argc, char **argv)
{
	uint64_t n;

	if (argc == 2) {
		if (!disk_by_num(c, c->cur)) {
			printf("\nno virtio devices available\n");
			return CLI_FAIL;
		}
		/* U-Boot prints "IDE device" here (a leftover); vlab says virtio. */
		printf("\nvirtio device %u: ", c->cur);
		dev_print(&c->disk[c->cur]);
		return CLI_OK;
	}
	if (!cli_parse_hex(argv[2], &n)) {
		printf("** Bad device specification virtio %s **\n", argv[2]);
		return CLI_FAIL;
	}
	printf("\nDevice %" PRIu64 ": ", n);
	if (!disk_by_num(c, n)) {
		printf("unknown device\n");
		return CLI_FAIL;
	}
	dev_print(&c->disk[n]);
	c->cur = (unsigned)n;
	printf("... is now current device\n");
	return CLI_OK;
}

/* ---- part ---- */

/* A device that could not be stopped (VLAB_EWEDGED) may still write the
 * bounce buffer: leave it to the device for good and take a fresh one. */
static void retire_bounce(struct cli *c)
{
	uint64_t dev = 0;
	uint8_t *fresh = hx_dma_alloc(c->m, c->bounce_len, 4096, &dev);

	printf("** the device may still write the bounce buffer at 0x%" PRIx64 ": it is never used again **\n",
	       c->bounce_dev);
	if (fresh) {
		c->bounce = fresh;
		c->bounce_dev = dev;
	} else {
		c->bounce_len = 0; /* no partition reads from now on */
	}
}

/* Partition-table (and filesystem) reads go through the DMA bounce buffer. */
int cli_disk_read(void *ctx, uint64_t lba, uint32_t nsect, void *buf)
{
	struct cli_read_ctx *r = ctx;
	const uint32_t bs = cli_disk_bsize(r->d);
	const uint32_t chunk = (uint32_t)(r->c->bounce_len / bs);
	uint8_t *out = buf;

	if (chunk == 0)
		return VLAB_ENOMEM;
	while (nsect) {
		uint32_t n = nsect < chunk ? nsect : chunk;
		int err = vlab_blk_read_blocks(r->d->blk, lba, r->c->bounce, n);

		if (err == VLAB_EWEDGED)
			retire_bounce(r->c);
		if (err)
			return err;
		memcpy(out, r->c->bounce, (size_t)n * bs);
		out += (size_t)n * bs;
		lba += n;
		nsect -= n;
	}
	return 0;
}

static bool is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/* U-Boot prints GUIDs in lower case (uuid_bin_to_str, UUID_STR_FORMAT_GUID). */
static void guid_lower(const uint8_t guid[16], char out[37])
{
	vlab_guid_to_str(guid, out);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
}

static void print_efi(const struct vlab_part_table *t)
{
	if (t->backup_used) {
		printf("part_print_efi: *** ERROR: Invalid GPT ***\n");
		printf("part_print_efi: ***        Using Backup GPT ***\n");
	}
	printf("Part\tStart LBA\tEnd LBA\t\tName\n");
	printf("\tAttributes\n");
	printf("\tType GUID\n");
	printf("\tPartition GUID\n");
	for (unsigned i = 0; i < t->count; i++) {
		const struct vlab_part *p = &t->part[i];
		const char *type = vlab_part_type_name(t, p);
		char name[sizeof(p->name)], guid[37];
		size_t n;

		/* Control characters shown as '.', as U-Boot does. */
		for (n = 0; p->name[n] && n < sizeof(name) - 1; n++)
			name[n] = ((unsigned char)p->name[n] < 0x20 || p->name[n] == 0x7f) ? '.'
			                                                                    : p->name[n];
		name[n] = '\0';
		printf("%3u\t0x%08" PRIx64 "\t0x%08" PRIx64 "\t\"%s\"\n", p->number, p->start_lba,
		       p->start_lba + p->nsectors - 1, name);
		printf("\tattrs:\t0x%016" PRIx64 "\n", p->attrs);
		guid_lower(p->type_guid, guid);
		printf("\ttype:\t%s\n", guid);
		if (type)
			printf("\ttype:\t%s\n", type);
		guid_lower(p->uuid, guid);
		printf("\tguid:\t%s\n", guid);
	}
}

static void print_dos(const struct vlab_part_table *t)
{
	printf("Part\tStart Sector\tNum Sectors\tUUID\t\tType\n");
	for (unsigned i = 0; i < t->count; i++) {
		const struct vlab_part *p = &t->part[i];
		bool boot = p->bootable || p->mbr_type == 0xef;

		printf("%3u\t%-10" PRIu64 "\t%-10" PRIu64 "\t%08" PRIx32 "-%02x\t%02x%s%s\n",
		       p->number, p->start_lba, p->nsectors, t->disk_signature, p->number,
		       p->mbr_type, is_extended(p->mbr_type) ? " Extd" : "", boot ? " Boot" : "");
	}
}

/* Scan and print one device's table. 1 when printed, 0 when the disk has
 * no table, CLI_FAIL-ish negative on error. */
int cli_part_print(struct cli *c, struct cli_disk *d, bool print_unknown)
{
	struct cli_read_ctx r = { c, d };
	struct vlab_part_table *t = malloc(sizeof(*t));
	size_t scratch_len = 2 * (size_t)cli_disk_bsize(d) + 16384;
	void *scratch = malloc(scratch_len);
	bool no_gpt;
	int err, ret = 1;

	if (!t || !scratch) {
		printf("** Out of memory **\n");
		free(t);
		free(scratch);
		return -1;
	}
	err = vlab_part_scan(t, cli_disk_bsize(d), cli_disk_blocks(d), cli_disk_read, &r, scratch, scratch_len);
	no_gpt = err == VLAB_ENOGPT;
	if (no_gpt)
		err = 0;
	if (err) {
		printf("** Can't read partition table on virtio %u: %s **\n", d->devnum,
		       vlab_strerror(err));
		ret = -1;
	} else if (t->scheme == VLAB_PART_NONE) {
		if (print_unknown)
			printf("## Unknown partition table type 0\n");
		ret = 0;
	} else {
		printf("\nPartition Map for VirtIO device %u  --   Partition Type: %s\n\n", d->devnum,
		       t->scheme == VLAB_PART_GPT ? "EFI" : "DOS");
		if (no_gpt)
			; /* a protective MBR, no GPT header: U-Boot lists an empty EFI map */
		else if (t->scheme == VLAB_PART_GPT)
			print_efi(t);
		else
			print_dos(t);
	}
	free(t);
	free(scratch);
	return ret;
}

static int virtio_part(struct cli *c, int argc, char **argv)
{
	if (argc == 3) {
		struct cli_disk *d = disk_arg(c, argc, argv, 2);

		if (!d)
			return CLI_FAIL;
		return cli_part_print(c, d, true) < 0 ? CLI_FAIL : CLI_OK;
	}
	{
		unsigned shown = 0;
		int rc = CLI_OK;

		for (unsigned i = 0; i < c->ndisks; i++) {
			int r;

			if (shown)
				putchar('\n');
			if (!disk_usable(&c->disk[i])) {
				rc = CLI_FAIL;
				continue;
			}
			r = cli_part_print(c, &c->disk[i], false);
			if (r < 0)
				rc = CLI_FAIL;
			else
				shown += (unsigned)r;
		}
		if (!shown && rc == CLI_OK)
			printf("\nno virtio partition table available\n");
		return rc;
	}
}

/* ---- read / write ---- */

static int virtio_rw(struct cli *c, int argc, char **argv, bool write)
{
	uint64_t addr, blk, cnt;
	struct cli_disk *d;
	uint32_t bs;
	void *buf;
	int err;

	if (argc != 5)
		return CLI_USAGE;
	if (!cli_parse_hex(argv[2], &addr) || !cli_parse_hex(argv[3], &blk) ||
	    !cli_parse_hex(argv[4], &cnt)) {
		printf("** virtio %s: addr, blk# and cnt are hex numbers **\n", argv[1]);
		return CLI_FAIL;
	}
	d = disk_by_num(c, c->cur);
	if (!d) {
		printf("** no virtio device %u; try 'virtio scan' **\n", c->cur);
		return CLI_FAIL;
	}
	/* In the disk's logical blocks, as U-Boot's blk_dread (blksz). */
	bs = cli_disk_bsize(d);
	if (cnt > UINT32_MAX / bs) {
		printf("** virtio %s: count 0x%" PRIx64 " too large **\n", argv[1], cnt);
		return CLI_FAIL;
	}
	buf = cli_guest_ptr(c, addr, cnt * bs, !write);
	if (!buf)
		return CLI_FAIL;
	printf("\nvirtio %s: device %u block # %" PRIu64 ", count %" PRIu64 " ... ", argv[1],
	       c->cur, blk, cnt);
	if (d->failed[0]) {
		printf("0 blocks %s: ERROR (not usable: %s; 'virtio scan' tries again)\n",
		       write ? "written" : "read", d->failed);
		return CLI_FAIL;
	}
	if (cnt == 0)
		err = 0;
	else if (write)
		err = vlab_blk_write_blocks(d->blk, blk, buf, (uint32_t)cnt);
	else
		err = vlab_blk_read_blocks(d->blk, blk, buf, (uint32_t)cnt);
	if (err) {
		printf("0 blocks %s: ERROR (%s)\n", write ? "written" : "read", vlab_strerror(err));
		if (err == VLAB_EWEDGED)
			printf("** the device may still %s 0x%" PRIx64 "..0x%" PRIx64 ": do not rely on that memory **\n",
			       write ? "read" : "write", addr, addr + cnt * bs - 1);
		return CLI_FAIL;
	}
	printf("%" PRIu64 " blocks %s: OK\n", cnt, write ? "written" : "read");
	return CLI_OK;
}

/*
 * virtio erase blk# cnt: DISCARD; virtio zero blk# cnt [unmap]:
 * WRITE_ZEROES.  In logical blocks of the current device, hex, as read and
 * write; the line is that of U-Boot's `mmc erase` (U-Boot 2023.01's
 * `virtio` command has no erase) in blk_common's wording.
 */
static int virtio_erase(struct cli *c, int argc, char **argv, bool zero)
{
	uint64_t blk, cnt;
	struct cli_disk *d;
	bool unmap = false;
	uint32_t spb;
	int err;

	if (zero && argc == 5 && !strcmp(argv[4], "unmap")) {
		unmap = true;
		argc--;
	}
	if (argc != 4)
		return CLI_USAGE;
	if (!cli_parse_hex(argv[2], &blk) || !cli_parse_hex(argv[3], &cnt)) {
		printf("** virtio %s: blk# and cnt are hex numbers **\n", argv[1]);
		return CLI_FAIL;
	}
	d = disk_by_num(c, c->cur);
	if (!d) {
		printf("** no virtio device %u; try 'virtio scan' **\n", c->cur);
		return CLI_FAIL;
	}
	spb = cli_disk_bsize(d) / 512u;
	if (blk > UINT64_MAX / spb || cnt > UINT64_MAX / spb) {
		printf("** virtio %s: block or count too large **\n", argv[1]);
		return CLI_FAIL;
	}
	printf("\nvirtio %s: device %u block # %" PRIu64 ", count %" PRIu64 " ... ", argv[1], c->cur, blk, cnt);
	if (d->failed[0]) {
		printf("0 blocks %s: ERROR (not usable: %s; 'virtio scan' tries again)\n", zero ? "zeroed" : "erased",
		       d->failed);
		return CLI_FAIL;
	}
	if (cnt == 0)
		err = 0;
	else if (zero)
		err = vlab_blk_write_zeroes(d->blk, blk * spb, cnt * spb, unmap);
	else
		err = vlab_blk_discard(d->blk, blk * spb, cnt * spb);
	if (err) {
		printf("0 blocks %s: ERROR (%s%s)\n", zero ? "zeroed" : "erased", vlab_strerror(err),
		       err == VLAB_ENOTSUP ? zero ? ": no WRITE_ZEROES feature" : ": no DISCARD feature" : "");
		return CLI_FAIL;
	}
	printf("%" PRIu64 " blocks %s: OK\n", cnt, zero ? "zeroed" : "erased");
	return CLI_OK;
}

/* ---- extensions ---- */

static int virtio_flush(struct cli *c, int argc, char **argv)
{
	struct cli_disk *d = disk_arg(c, argc, argv, 2);
	int err;

	if (!d)
		return CLI_FAIL;
	err = vlab_blk_flush(d->blk);
	if (err) {
		printf("virtio %u: flush failed: %s\n", d->devnum, vlab_strerror(err));
		return CLI_FAIL;
	}
	printf("virtio %u: flushed%s\n", d->devnum,
	       d->blk->info.flush ? "" : " (no FLUSH feature: nothing to do)");
	return CLI_OK;
}

/* virtio cache [dev] [writeback|writethrough]: show or set the write cache
 * (CONFIG_WCE); vlab's own, U-Boot has no such command. */
static int virtio_cache(struct cli *c, int argc, char **argv)
{
	struct cli_disk *d;
	int err, want = -1;

	if (argc >= 3 && (!strcmp(argv[argc - 1], "writeback") || !strcmp(argv[argc - 1], "writethrough"))) {
		want = argv[argc - 1][5] == 'b';
		argc--;
	}
	d = disk_arg(c, argc, argv, 2);
	if (!d)
		return CLI_FAIL;
	if (want >= 0) {
		err = vlab_blk_set_writeback(d->blk, want == 1);
		if (err) {
			printf("virtio %u: cache not set to %s: %s%s\n", d->devnum, want ? "writeback" : "writethrough",
			       vlab_strerror(err), err == VLAB_ENOTSUP ? " (no CONFIG_WCE feature)" : "");
			return CLI_FAIL;
		}
	}
	printf("virtio %u: %s cache (%s)\n", d->devnum, d->blk->info.writeback ? "writeback" : "writethrough",
	       d->blk->info.config_wce ? "settable: CONFIG_WCE"
	                              : d->blk->info.flush ? "FLUSH without CONFIG_WCE" : "no FLUSH: writethrough");
	return CLI_OK;
}

static int virtio_id(struct cli *c, int argc, char **argv)
{
	struct cli_disk *d = disk_arg(c, argc, argv, 2);
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int err;

	if (!d)
		return CLI_FAIL;
	/* The answer lands in DMA memory: use the bounce buffer. */
	err = vlab_blk_get_id(d->blk, (char *)c->bounce);
	if (err) {
		printf("virtio %u: GET_ID failed: %s\n", d->devnum, vlab_strerror(err));
		return CLI_FAIL;
	}
	memcpy(id, c->bounce, sizeof(id));
	id[VIRTIO_BLK_ID_BYTES] = '\0';
	printf("virtio %u: id \"%s\"\n", d->devnum, id);
	return CLI_OK;
}

struct feature_name {
	uint8_t bit;
	const char *name;
};

/* The reserved (transport) bits; blk's own are vlab_blk_feature_name's. */
static const struct feature_name feature_names[] = {
	{ VIRTIO_F_NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY" },
	{ VIRTIO_F_ANY_LAYOUT, "ANY_LAYOUT" },
	{ VIRTIO_F_RING_INDIRECT_DESC, "RING_INDIRECT_DESC" },
	{ VIRTIO_F_RING_EVENT_IDX, "RING_EVENT_IDX" },
	{ VIRTIO_F_VERSION_1, "VERSION_1" },
	{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
	{ VIRTIO_F_RING_PACKED, "RING_PACKED" },
	{ VIRTIO_F_IN_ORDER, "IN_ORDER" },
	{ VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM" },
	{ VIRTIO_F_SR_IOV, "SR_IOV" },
	{ VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA" },
	{ VIRTIO_F_NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA" },
	{ VIRTIO_F_RING_RESET, "RING_RESET" },
};

const char *cli_blk_feature_name(unsigned bit)
{
	if (vlab_blk_feature_name(bit))
		return vlab_blk_feature_name(bit);
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (feature_names[i].bit == bit)
			return feature_names[i].name;
	return NULL;
}

static int virtio_features(struct cli *c, int argc, char **argv)
{
	struct cli_disk *d = disk_arg(c, argc, argv, 2);
	const struct vlab_virtio_dev *v;

	if (!d)
		return CLI_FAIL;
	v = d->vdev;
	if (d->on_pci)
		printf("virtio %u: pci %02x:%02x.%x (%04x:%04x), %s interface\n", d->devnum,
		       d->bd->t.pci.id.bus, d->bd->t.pci.id.dev, d->bd->t.pci.id.fn, d->bd->t.pci.id.vendor,
		       d->bd->t.pci.id.device,
		       v->legacy ? "legacy" : "modern");
	else
		printf("virtio %u: mmio slot %u at 0x%08" PRIx64 ", %s interface (version %u)\n",
		       d->devnum, d->slot, (uint64_t)d->bd->t.mmio.base, v->legacy ? "legacy" : "modern",
		       (unsigned)d->bd->t.mmio.version);
	printf("  offered:    0x%016" PRIx64 "\n", v->device_features);
	printf("  negotiated: 0x%016" PRIx64 "\n", v->features);
	for (unsigned bit = 0; bit < 64; bit++) {
		bool off = (v->device_features >> bit) & 1u, neg = (v->features >> bit) & 1u;
		const char *name = cli_blk_feature_name(bit);
		char unknown[16];

		if (!off && !neg)
			continue;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit %u", bit);
			name = unknown;
		}
		printf("  %2u  %-20s %s\n", bit, name,
		       neg ? (off ? "offered, negotiated" : "negotiated, NOT offered")
		           : "offered");
	}
	return CLI_OK;
}

static int virtio_violations(struct cli *c, int argc)
{
	const struct dm_report *r = hx_report(c->m);

	if (argc != 2)
		return CLI_USAGE;
	if (r->count == 0) {
		printf("no violations (%u requirement%s checked so far)\n", r->nchecked,
		       r->nchecked == 1 ? "" : "s");
		return CLI_OK;
	}
	{
		char buf[16384];

		dm_report_format(r, buf, sizeof(buf));
		printf("%u violation%s of the spec by the driver:\n%s", r->count,
		       r->count == 1 ? "" : "s", buf);
		if (buf[0] && buf[strlen(buf) - 1] != '\n')
			putchar('\n');
	}
	return CLI_FAIL;
}

int cmd_virtio(struct cli *c, int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		return CLI_USAGE;
	sub = argv[1];
	if (!strcmp(sub, "scan")) {
		if (argc != 2)
			return CLI_USAGE;
		return cli_virtio_scan(c, false);
	}
	if (!strcmp(sub, "violations"))
		return virtio_violations(c, argc);
	if (!strcmp(sub, "list"))
		return argc == 2 ? cli_bus_list(c) : CLI_USAGE;

	cli_ensure_scanned(c);
	/* U-Boot matches info, device and part by prefix ("inf", "dev", "part"). */
	if (!strncmp(sub, "inf", 3) && argc == 2)
		return virtio_info(c);
	if (!strncmp(sub, "dev", 3) && argc <= 3)
		return virtio_device(c, argc, argv);
	if (!strncmp(sub, "part", 4) && argc <= 3)
		return virtio_part(c, argc, argv);
	if (!strcmp(sub, "read"))
		return virtio_rw(c, argc, argv, false);
	if (!strcmp(sub, "write"))
		return virtio_rw(c, argc, argv, true);
	if (!strcmp(sub, "erase"))
		return virtio_erase(c, argc, argv, false);
	if (!strcmp(sub, "zero"))
		return virtio_erase(c, argc, argv, true);
	if (!strcmp(sub, "flush") && argc <= 3)
		return virtio_flush(c, argc, argv);
	if (!strcmp(sub, "cache") && argc <= 4)
		return virtio_cache(c, argc, argv);
	if (!strcmp(sub, "id") && argc <= 3)
		return virtio_id(c, argc, argv);
	if (!strcmp(sub, "features") && argc <= 3)
		return virtio_features(c, argc, argv);
	return CLI_USAGE;
}
