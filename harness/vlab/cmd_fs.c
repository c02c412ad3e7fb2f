/* SPDX-License-Identifier: MIT */
/*
 * Filesystems on virtio disks, as U-Boot's commands show them:
 *   ls virtio <dev>[:<part>] [dir]          fatls / ext4ls the same
 *   load virtio <dev>[:<part>] <addr> <file> [bytes [pos]]
 *                                           fatload / ext4load the same
 *   size virtio <dev>[:<part>] <file>       (silent: sets filesize)
 *   fstype virtio <dev>[:<part>]
 *   part list virtio <dev>,  part uuid virtio <dev>:<part>
 * The filesystem code is the driver's (driver/fs); the disk is read
 * through the bounce buffer, as the partition tables are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlab/fs.h"
#include "vlab/part.h"
#include "vlab_cli.h"


/* The partition `<dev>[:<part>]` names, as U-Boot chooses it: no part or
 * part 0 on a disk without a table is the whole disk; no part on a disk
 * with one is partition 1; "auto" is the first bootable partition, else
 * the first.  Prints U-Boot's message and returns false on error. */
struct fs_where {
	struct cli_disk *d;
	uint64_t start, count; /* logical blocks (cli_disk_bsize) */
	struct vlab_part_table *t; /* NULL: whole disk */
	const struct vlab_part *p;
};

static bool find_disk(struct cli *c, const char *iface, const char *devpart, struct cli_disk **out,
                      const char **part)
{
	char dev[24];
	size_t n = strcspn(devpart, ":");
	uint64_t num;

	*part = devpart[n] == ':' ? devpart + n + 1 : NULL;
	if (strcmp(iface, "virtio") != 0 || n == 0 || n >= sizeof dev) {
		printf("** Bad device specification %s %.*s **\n", iface, (int)n, devpart);
		return false;
	}
	memcpy(dev, devpart, n);
	dev[n] = '\0';
	cli_ensure_scanned(c);
	if (!cli_parse_hex(dev, &num) || num >= c->ndisks) {
		printf("** Bad device specification %s %s **\n", iface, dev);
		return false;
	}
	*out = &c->disk[num];
	if ((*out)->failed[0]) {
		printf("virtio %u: not usable: %s; 'virtio scan' tries again\n", (*out)->devnum,
		       (*out)->failed);
		return false;
	}
	return true;
}

static bool scan_table(struct cli *c, struct fs_where *w)
{
	struct cli_read_ctx r = {c, w->d};
	size_t scratch_len = 2 * (size_t)cli_disk_bsize(w->d) + 16384;
	void *scratch = malloc(scratch_len);
	int err;

	w->t = malloc(sizeof *w->t);
	if (!w->t || !scratch) {
		free(scratch);
		printf("** Out of memory **\n");
		return false;
	}
	err = vlab_part_scan(w->t, cli_disk_bsize(w->d), cli_disk_blocks(w->d), cli_disk_read, &r, scratch,
	                     scratch_len);
	if (err == VLAB_ENOGPT)
		err = 0; /* an empty GPT: no partition to find, as U-Boot has it */
	free(scratch);
	if (err) {
		printf("** Can't read partition table on virtio %u: %s **\n", w->d->devnum,
		       vlab_strerror(err));
		return false;
	}
	return true;
}

static const struct vlab_part *part_by_number(const struct vlab_part_table *t, uint64_t num)
{
	for (unsigned i = 0; i < t->count; i++)
		if (t->part[i].number == num)
			return &t->part[i];
	return NULL;
}

static bool where_arg(struct cli *c, const char *iface, const char *devpart, struct fs_where *w)
{
	const char *ps;
	uint64_t num = 1;
	bool unspecified, autopick;

	memset(w, 0, sizeof *w);
	if (!find_disk(c, iface, devpart, &w->d, &ps))
		return false;
	unspecified = !ps || !*ps;
	autopick = ps && !strcmp(ps, "auto");
	if (!unspecified && !autopick && !cli_parse_hex(ps, &num)) {
		printf("** Bad partition specification %s %s **\n", iface, devpart);
		return false;
	}
	if (!scan_table(c, w))
		return false;
	w->count = cli_disk_blocks(w->d);
	if (w->t->scheme == VLAB_PART_NONE || (!unspecified && !autopick && num == 0)) {
		if (w->count == 0) {
			printf("** Bad device size - %s %u **\n", iface, w->d->devnum);
			return false;
		}
		if (!unspecified && !autopick && num > 0) {
			printf("** No partition table - %s %u **\n", iface, w->d->devnum);
			return false;
		}
		return true; /* the whole disk */
	}
	if (autopick) {
		for (unsigned i = 0; i < w->t->count && !(w->p && w->p->bootable); i++)
			if (!w->p || w->t->part[i].bootable)
				w->p = &w->t->part[i];
		if (!w->p) {
			printf("** No valid partitions found **\n");
			return false;
		}
	} else {
		w->p = part_by_number(w->t, num);
		if (!w->p) {
			printf("** Invalid partition %" PRIu64 " **\n", num);
			return false;
		}
	}
	w->start = w->p->start_lba;
	w->count = w->p->nsectors;
	return true;
}

/* A mounted filesystem of the type wanted (VLAB_FS_NONE: any). */
struct fs_mount {
	struct fs_where w;
	struct cli_read_ctx r;
	struct vlab_fs fs;
};

static void fs_release(struct fs_mount *m)
{
	if (m)
		free(m->w.t);
	free(m);
}

static struct fs_mount *fs_open(struct cli *c, const char *iface, const char *devpart,
                                enum vlab_fs_type want)
{
	struct fs_mount *m = calloc(1, sizeof *m);
	int err;

	if (!m) {
		printf("** Out of memory **\n");
		return NULL;
	}
	if (!where_arg(c, iface, devpart, &m->w)) {
		printf("Couldn't find partition %s %s\n", iface, devpart);
		fs_release(m);
		return NULL;
	}
	m->r.c = c;
	m->r.d = m->w.d;
	err = vlab_fs_mount(&m->fs, cli_disk_bsize(m->w.d), m->w.start, m->w.count, cli_disk_read, &m->r);
	if (err == 0 && want != VLAB_FS_NONE && m->fs.type != want)
		err = VLAB_FS_EUNKNOWN;
	if (err == VLAB_FS_EUNKNOWN) {
		printf("** Unrecognized filesystem type **\n");
	} else if (err) {
		printf("** Can't mount %s %s: %s **\n", iface, devpart, vlab_fs_strerror(err));
	}
	if (err) {
		fs_release(m);
		return NULL;
	}
	return m;
}

/* fatls/fatload/fatsize want FAT, ext4* want ext, the others any. */
static enum vlab_fs_type wanted(const char *cmd)
{
	if (!strncmp(cmd, "fat", 3))
		return VLAB_FS_FAT;
	if (!strncmp(cmd, "ext4", 4))
		return VLAB_FS_EXT;
	return VLAB_FS_NONE;
}

/* ---- ls ---- */

struct ls_count {
	unsigned files, dirs;
	bool ext;
};

static int ls_entry(void *ctx, const struct vlab_fs_dirent *e)
{
	struct ls_count *n = ctx;

	if (n->ext) {
		/* U-Boot's ext4 listing: type, the inode's size, the name; no count. */
		const char *kind = e->st.type == VLAB_FS_DIR       ? "<DIR> "
		                   : e->st.type == VLAB_FS_SYMLINK ? "<SYM> "
		                                                   : "      ";
		printf("%s%10" PRIu64 " %s\n", kind, e->st.size, e->name);
		return 0;
	}
	if (e->st.type == VLAB_FS_DIR) {
		printf("            %s/\n", e->name);
		n->dirs++;
	} else if (e->st.type == VLAB_FS_SYMLINK) {
		printf("    <SYM>   %s\n", e->name);
		n->files++;
	} else {
		printf(" %8" PRIu64 "   %s\n", e->st.size, e->name);
		n->files++;
	}
	return 0;
}

int cmd_fs_ls(struct cli *c, int argc, char **argv)
{
	struct ls_count n = {0, 0, false};
	const char *dir = argc > 3 ? argv[3] : "/";
	struct fs_mount *m;
	int err;

	if (argc < 3 || argc > 4)
		return CLI_USAGE;
	m = fs_open(c, argv[1], argv[2], wanted(argv[0]));
	if (!m)
		return CLI_FAIL;
	n.ext = m->fs.type == VLAB_FS_EXT;
	err = vlab_fs_list(&m->fs, dir, ls_entry, &n);
	fs_release(m);
	if (err) {
		printf("** Can not open directory %s: %s **\n", dir, vlab_fs_strerror(err));
		return CLI_FAIL;
	}
	if (!n.ext)
		printf("\n%u file(s), %u dir(s)\n\n", n.files, n.dirs);
	return CLI_OK;
}

/* ---- load / size ---- */

static void file_error(const char *name, int err)
{
	if (err == VLAB_FS_ENOENT)
		printf("** File not found %s **\n", name);
	else
		printf("** Unable to read file %s: %s **\n", name, vlab_fs_strerror(err));
}

/* U-Boot's print_size: "1.5 MiB", "976.6 KiB", "0 Bytes". */
static void print_size(uint64_t size, const char *s)
{
	static const char names[] = {'E', 'P', 'T', 'G', 'M', 'K'};
	unsigned d = 60, i;
	uint64_t n, f, m = 0;

	for (i = 0; i < sizeof names; i++, d -= 10)
		if (size >> d)
			break;
	if (i == sizeof names) {
		printf("%u Bytes%s", (unsigned)size, s);
		return;
	}
	n = size >> d;
	f = size & ((1ull << d) - 1);
	if (f) {
		m = (10 * f + (1ull << (d - 1))) >> d;
		if (m >= 10) {
			m -= 10;
			n++;
			if (n == 1024 && i > 0) {
				n = 1;
				m = 0;
				i--;
			}
		}
	}
	printf("%" PRIu64, n);
	if (m)
		printf(".%" PRIu64, m);
	printf(" %ciB%s", names[i], s);
}

int cmd_fs_load(struct cli *c, int argc, char **argv)
{
	uint64_t addr, bytes = 0, pos = 0, len, got, t0, ms;
	struct vlab_fs_stat st;
	struct fs_mount *m;
	const char *name;
	void *dst;
	int err;

	if (argc >= 2 && !strcmp(argv[1], "hostfs") && !strcmp(argv[0], "load"))
		return cmd_load(c, argc, argv);
	if (argc < 5 || argc > 7)
		return CLI_USAGE;
	name = argv[4];
	if (!cli_parse_hex(argv[3], &addr) || (argc > 5 && !cli_parse_hex(argv[5], &bytes)) ||
	    (argc > 6 && !cli_parse_hex(argv[6], &pos)))
		return CLI_USAGE;
	m = fs_open(c, argv[1], argv[2], wanted(argv[0]));
	if (!m) {
		printf("Can't set block device\n");
		return CLI_FAIL;
	}
	err = vlab_fs_stat(&m->fs, name, &st);
	if (!err && st.type == VLAB_FS_DIR)
		err = VLAB_FS_EISDIR;
	if (!err && pos > st.size)
		err = VLAB_FS_ERANGE;
	if (err) {
		file_error(name, err);
		goto failed;
	}
	len = st.size - pos;
	if (bytes && bytes < len)
		len = bytes;
	dst = cli_guest_ptr(c, addr, len ? len : 1, true);
	if (!dst)
		goto failed;
	t0 = hx_now(c->m);
	err = vlab_fs_read(&m->fs, name, pos, dst, len, &got);
	ms = (hx_now(c->m) - t0) / 1000000u; /* the virtual clock: transcripts repeat */
	if (err) {
		file_error(name, err);
		goto failed;
	}
	fs_release(m);
	printf("%" PRIu64 " bytes read in %" PRIu64 " ms", got, ms);
	if (ms > 0) {
		printf(" (");
		print_size(got / ms * 1000, "/s");
		printf(")");
	}
	printf("\n");
	cli_env_set_filesize(got);
	return CLI_OK;
failed:
	fs_release(m);
	printf("Failed to load '%s'\n", name);
	return CLI_FAIL;
}

int cmd_fs_size(struct cli *c, int argc, char **argv)
{
	struct vlab_fs_stat st;
	struct fs_mount *m;
	int err;

	if (argc != 4)
		return CLI_USAGE;
	m = fs_open(c, argv[1], argv[2], wanted(argv[0]));
	if (!m)
		return CLI_FAIL;
	err = vlab_fs_stat(&m->fs, argv[3], &st);
	fs_release(m);
	if (err) {
		file_error(argv[3], err);
		return CLI_FAIL;
	}
	cli_env_set_filesize(st.size);
	return CLI_OK;
}

bool cli_fs_exists(struct cli *c, const char *iface, const char *devpart, const char *path)
{
	struct vlab_fs_stat st;
	struct fs_mount *m = fs_open(c, iface, devpart, VLAB_FS_NONE);
	bool found;

	if (!m)
		return false;
	found = vlab_fs_stat(&m->fs, path, &st) == 0;
	fs_release(m);
	return found;
}

/* fstype's and part uuid's answer: printed, or (as U-Boot) put silently
 * into the environment variable var. */
static int show_or_set(const char *var, const char *value)
{
	if (!var) {
		printf("%s\n", value);
		return CLI_OK;
	}
	return cli_env_set(var, value) ? CLI_FAIL : CLI_OK;
}

int cmd_fs_fstype(struct cli *c, int argc, char **argv)
{
	struct fs_mount *m;
	int rc;

	if (argc != 3 && argc != 4)
		return CLI_USAGE;
	m = fs_open(c, argv[1], argv[2], VLAB_FS_NONE);
	if (!m)
		return CLI_FAIL;
	rc = show_or_set(argc == 4 ? argv[3] : NULL, vlab_fs_type_name(&m->fs));
	fs_release(m);
	return rc;
}

/* ---- part ---- */

static int part_uuid(struct cli *c, int argc, char **argv)
{
	struct fs_where w;
	char uuid[37];
	int rc;

	if (argc != 4 && argc != 5)
		return CLI_USAGE;
	if (!where_arg(c, argv[2], argv[3], &w)) {
		free(w.t);
		return CLI_FAIL;
	}
	if (!w.p) {
		printf("** No partition table - %s %u **\n", argv[2], w.d->devnum);
		free(w.t);
		return CLI_FAIL;
	}
	if (w.t->scheme == VLAB_PART_GPT) {
		vlab_guid_to_str(w.p->uuid, uuid);
		for (char *p = uuid; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
	} else {
		snprintf(uuid, sizeof uuid, "%08" PRIx32 "-%02x", w.t->disk_signature, w.p->number & 0xffu);
	}
	rc = show_or_set(argc == 5 ? argv[4] : NULL, uuid);
	free(w.t);
	return rc;
}

int cmd_part(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "uuid"))
		return part_uuid(c, argc, argv);
	if (argc == 4 && !strcmp(argv[1], "list")) {
		struct cli_disk *d;
		const char *ps;

		if (!find_disk(c, argv[2], argv[3], &d, &ps))
			return CLI_FAIL;
		return cli_part_print(c, d, true) < 0 ? CLI_FAIL : CLI_OK;
	}
	return CLI_USAGE;
}
