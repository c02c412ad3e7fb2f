/* SPDX-License-Identifier: MIT */
/*
 * vlab, the command line: shared state and the pieces each file provides.
 *
 *   main.c        options, machine set-up, the read-eval loop, exit status
 *   parse.c       numbers and sizes
 *   shell.c       the shell: lists, if, quoting, variables; setenv, printenv,
 *                 env, run, test
 *   shell_edit.c  the interactive line: libedit, history, tab completion
 *   commands.c    the command table, dispatch, help, echo, version, exit
 *   cmd_virtio.c  the U-Boot style `virtio` command and its extensions
 *   cmd_mem.c     md, mw, cmp, crc32 on guest memory
 *   cmd_host.c    load/save between guest memory and host files
 *   cmd_fs.c      ls/load/size/fstype on FAT and ext disks, part list/uuid
 *   mkdisk.c      the default disk: a GPT with two partitions
 *   record.c      --record FILE and replay FILE: the trace header
 */
#ifndef VLAB_CLI_H
#define VLAB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/machine.h"
#include "harness/net.h"
#include "vlab/net.h"
#include "harness/trace.h"
#include "harness/pci_host.h"
#include "harness/bind.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/mmio.h"
#include "vlab/pci.h"

#ifndef VLAB_CLI_VERSION
#define VLAB_CLI_VERSION "0.1.0"
#endif

/* QEMU riscv virt layout of the virtio-mmio slots (machine.h will carry
 * these; the fallbacks keep vlab building until it does). */
#ifndef HX_MMIO_SLOT_BASE
#define HX_MMIO_SLOT_BASE 0x10001000ull
#endif
#ifndef HX_MMIO_SLOT_SIZE
#define HX_MMIO_SLOT_SIZE 0x1000ull
#endif
#ifndef HX_MMIO_SLOTS
#define HX_MMIO_SLOTS 8u
#endif

/* Command results. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2, /* wrong arguments: the dispatcher prints the usage */
};

#define CLI_FAILED_MAX 96

/* One block device bound by `virtio scan`. */
struct cli_disk {
	unsigned devnum;      /* U-Boot's virtio block device number */
	unsigned slot;        /* mmio slot */
	struct hx_dev *hx;    /* the model's view (may be NULL) */
	struct vlab_bus_dev *bd; /* on the bus (cli_bus): bd->t.mmio or bd->t.pci */
	bool on_pci;          /* a PCI function (then slot is unused) */
	struct vlab_virtio_dev *vdev; /* bd->vdev */
	struct vlab_blk *blk; /* the driver's state, bd->priv */
	/* Why it is not usable after `virtio scan` failed to initialise it
	 * again; empty when it is. */
	char failed[CLI_FAILED_MAX];
};

struct cli {
	struct hx_machine *m;
	const struct vlab_platform *plat;
	bool scanned;
	unsigned ndisks;
	struct cli_disk disk[HX_MMIO_SLOTS];
	unsigned cur;         /* current device (virtio device N) */
	/* Guest RAM from dma_zone to its end is where the drivers' rings and
	 * buffers live (the rest is reserved at start-up, so the first-fit
	 * DMA allocator puts them there); commands refuse to write into it. */
	uint64_t dma_zone;
	void *user_area;      /* the reservation of [ram base, dma_zone) */
	size_t user_area_len;
	/* DMA bounce buffer for partition tables and GET_ID. */
	uint8_t *bounce;
	uint64_t bounce_dev;
	size_t bounce_len;
	/* md remembers where it stopped, as U-Boot's does. */
	uint64_t md_next;
	unsigned md_size;
	uint64_t md_count;
	bool quit;            /* exit/quit was run */
	bool mute_driver_log; /* probing slots that hold no device */
	/* --record FILE (record.c): the recorder, its file. */
	struct hx_trace_rec *rec;
	FILE *rec_file;
	const char *rec_path;
	/* vlab replay FILE: the replayer, whose platform the machine's is. */
	struct hx_replay *replay;
	/* The virtio bus (cli_bus.c): every device found, bound by the
	 * command that drives it; NULL until first needed. */
	struct hx_vbus *vbus;
};

/* --refuse: ring features the drivers decline (vlab_virtio_dev.refuse_features),
 * set on every device before its driver's init. */
extern uint64_t cli_refuse_features;
/* "packed,indirect,event-idx" (any of them) into feature bits; -1 on junk. */
int cli_parse_refuse(const char *s, uint64_t *out);

/* ---- parse.c ---- */
/* Hex number, 0x prefix optional (U-Boot style).  false on junk/overflow. */
bool cli_parse_hex(const char *s, uint64_t *out);
/* Decimal (or 0x-prefixed hex) number for options such as --seed. */
bool cli_parse_uint(const char *s, uint64_t *out);
/* Size with optional K, M, G, T suffix (powers of 1024), e.g. 64M. */
bool cli_parse_size(const char *s, uint64_t *out);

#define CLI_MAX_ARGS 32
#define CLI_MAX_LINE 4096
/* A whole text (a -c argument, an if ... fi block read over lines). */
#define CLI_MAX_SCRIPT (16 * CLI_MAX_LINE)
/* What run() returns to cli_split_run, bits: */
#define CLI_RUN_FAILED 1 /* the command failed */
#define CLI_RUN_STOP 2   /* end the session (exit): run nothing more */

/* ---- shell.c ---- */
/* The default of $loadaddr: the bottom of guest RAM. */
#define VLAB_LOADADDR 0x80000000ull
/*
 * Run a text as U-Boot's hush does: commands separated by ';' or newlines
 * (every one runs whatever the one before returned), '&&' and '||' (after
 * the last command run succeeded, failed), if/then/elif/else/fi; words
 * split at blanks, '...' literal, "..." with $variables expanded, a
 * backslash escaping outside quotes, '#' starting a word a comment;
 * $name, ${name} and $? expanded when the command runs, an unquoted value
 * split into words; leading name=value words set local variables.  The
 * whole text is parsed first: a malformed one (an unterminated quote or
 * if, '&&' or '||' without a command on each side, more than
 * CLI_MAX_ARGS words in a command) runs nothing: -1 after a message on
 * stderr.  Otherwise run(ctx, argc, argv) runs each command; returns
 * CLI_RUN_FAILED when a command failed, other than in an if's condition
 * (even one a '||' answered), CLI_RUN_STOP when a command returned
 * CLI_RUN_STOP or, with errexit, at the first such failure.
 */
int cli_split_run(const char *line, int (*run)(void *ctx, int argc, char **argv), void *ctx);
/* Would text parse if more lines came (an open if, an open quote)? */
bool cli_shell_incomplete(const char *text);
/* -e: cli_split_run stops at the first failure it counts. */
void cli_shell_set_errexit(bool on);
/* The environment: a value or NULL; set (value) or delete (NULL), 0 or
 * -1 after a message. */
const char *cli_env_get(const char *name);
int cli_env_set(const char *name, const char *value);
/* The hook a command that loads a file calls: $filesize, hex, as U-Boot. */
void cli_env_set_filesize(uint64_t bytes);
/* The environment's names (unsorted), at most max: how many. */
size_t cli_env_names(const char **names, size_t max);
int cmd_setenv(struct cli *c, int argc, char **argv);
int cmd_printenv(struct cli *c, int argc, char **argv);
int cmd_env(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_test(struct cli *c, int argc, char **argv);
int cmd_true(struct cli *c, int argc, char **argv); /* true and false */

/* ---- shell_edit.c ---- */
#define CLI_COMPLETE_MAX 128
/*
 * Tab completion of line[0..cursor): the candidates for the word the
 * cursor ends (a command name at a command's start, a subcommand after a
 * command that has some, a command after help, a variable name after run,
 * printenv, env print/set/delete), sorted, at most CLI_COMPLETE_MAX;
 * *start is where that word begins.  How many.
 */
size_t cli_complete(const char *line, size_t cursor, const char **out, size_t *start);
/* The interactive line: false when vlab was built without libedit (then
 * the caller reads stdin itself).  History in $VLAB_HISTORY, else
 * ~/.vlab_history ($VLAB_HISTORY empty: none). */
bool cli_edit_start(void);
/* A line (with its '\n'; valid until the next call) or NULL at the end. */
const char *cli_edit_read(const char *prompt);
void cli_edit_end(void);

/* ---- main.c ---- */
/* Guest RAM for the commands and the bounce buffer (after hx_machine_new,
 * before any driver runs): 0, or an exit status after a message. */
int cli_setup_memory(struct cli *c);
void cli_free_memory(struct cli *c);
/* cli_split_run's callback: one command on c (ctx). */
int cli_run_one(void *ctx, int argc, char **argv);

/* ---- cmd_conformance.c ---- */
/* `vlab conformance ...` (argv[0] is "conformance"): the exit status. */
int cmd_conformance_main(int argc, char **argv);

/* ---- commands.c ---- */
int cli_run_command(struct cli *c, int argc, char **argv);
/* The command names, in the table's order, at most max: how many. */
size_t cli_command_names(const char **names, size_t max);
/* A command's usage text (lines "\n" separated), NULL for no command. */
const char *cli_command_usage(const char *name);
/* Command implementations (argv[0] is the command name as typed). */
int cmd_virtio(struct cli *c, int argc, char **argv);
int cmd_pci(struct cli *c, int argc, char **argv);
/* ---- cmd_rng.c ---- */
int cmd_rng(struct cli *c, int argc, char **argv);
/* The handoff (cli_bus_handoff), then forget the rng devices. */
void cli_rng_shutdown(struct cli *c);
int cmd_md(struct cli *c, int argc, char **argv);
int cmd_mw(struct cli *c, int argc, char **argv);
int cmd_cmp(struct cli *c, int argc, char **argv);
int cmd_crc32(struct cli *c, int argc, char **argv);
int cmd_load(struct cli *c, int argc, char **argv);
int cmd_save(struct cli *c, int argc, char **argv);
int cmd_net(struct cli *c, int argc, char **argv);
/* cmd_fs.c: ls, load (virtio; hostfs goes to cmd_load), size, fstype,
 * fatls, ext4ls, fatload, ext4load, part. */
int cmd_fs_ls(struct cli *c, int argc, char **argv);
int cmd_fs_load(struct cli *c, int argc, char **argv);
int cmd_fs_size(struct cli *c, int argc, char **argv);
int cmd_fs_fstype(struct cli *c, int argc, char **argv);
/* test -e virtio <dev>[:<part>] <path>: the path names anything there. */
bool cli_fs_exists(struct cli *c, const char *iface, const char *devpart, const char *path);
int cmd_part(struct cli *c, int argc, char **argv);
/* cmd_net.c: --net SPEC (0, or an exit status after a message), the NICs
 * built after the disks, at exit the handoff (cli_bus_handoff) and the NICs
 * forgotten. */
int cli_net_parse(const char *spec, enum hx_transport def_transport);
int cli_net_build(struct cli *c);
void cli_net_shutdown(struct cli *c);
/* vlab conformance: a NIC from options (built by cli_net_build), the
 * driver of NIC i when it is up (else NULL), and forgetting every NIC
 * after cli_net_shutdown, for the next machine. */
int cli_net_add(const struct hx_net_opts *o);
struct vlab_net *cli_net_driver(unsigned i);
void cli_net_forget(void);
/* `virtio scan`'s turn for the NICs bound so far: cli_reprobe each one. */
int cli_net_rescan(struct cli *c);

/* vlab replay: a NIC on transport t whose model backend is the recorded
 * one's (kind "wire", "loop", "sink"; anything else: loop).  As
 * cli_net_parse. */
int cli_net_add_replay(enum hx_transport t, const char *kind);

/* ---- record.c: vlab --record FILE, vlab replay FILE ---- */
/* Start recording the machine c->m built from the command line argv into
 * path: the header (producer with guest RAM, a device and a bind line a
 * device, the command line without --record).  0, or an exit status after
 * a message. */
int cli_record_start(struct cli *c, const char *path, int argc, char **argv, const struct hx_machine_cfg *cfg);
/* The "end" line, the file closed; 0, or 1 after a message. */
int cli_record_stop(struct cli *c);
/* What a vlab trace's header says: guest RAM, and the -c commands
 * (*commands malloc'ed; NULL: the commands are the trace's input lines).
 * 0, or an exit status after "PATH:LINE: reason" (2: not a vlab trace). */
/* --machine's names, by enum hx_pci_profile. */
extern const char *const cli_machine_names[3];
int cli_replay_header(const struct hx_trace *t, const char *path, uint64_t *ram_base, uint64_t *ram_size,
                      enum hx_pci_profile *machine,
                      char **commands);
/* Device line i: 0 with its type, transport and (net) backend kind; 1
 * when there is none; 2 after "PATH:LINE: reason". */
int cli_replay_device(const struct hx_trace *t, const char *path, unsigned i, bool *net,
                      enum hx_transport *tr, char *kind, size_t kn);
/* The rebuilt machine's devices sit where the trace's bind lines say:
 * 0, or 2 after "PATH:LINE: reason". */
int cli_replay_check_binds(struct cli *c, const struct hx_trace *t, const char *path);

/* ---- cli_bus.c: the machine's virtio bus ---- */
/* The bus (made on first use over c->plat, every probe with the --refuse
 * features), or NULL when out of memory. */
struct vlab_bus *cli_bus(struct cli *c);
/* The entry at an mmio base or a PCI function, NULL when not listed. */
struct vlab_bus_dev *cli_bus_at_mmio(struct cli *c, uint64_t base);
struct vlab_bus_dev *cli_bus_at_pci(struct cli *c, uint8_t bus, uint8_t dev, uint8_t fn);
/* Machine device hx's entry, listed (its transport probed at its place,
 * as firmware that knows the board would) when it is not yet: NULL with
 * *err the transport's error. */
struct vlab_bus_dev *cli_bus_dev_of(struct cli *c, const struct hx_dev *hx, int *err);
/* The handoff at exit: every device removed (vlab_bus_remove_all), the
 * bus freed; the commands' tables forget their devices after it. */
void cli_bus_handoff(struct cli *c);
/* virtio list: every device on the bus with its driver, transport and
 * place (after a quiet scan when none ran). */
int cli_bus_list(struct cli *c);
/* commands.c: the command that drives a driver's devices ("net"), NULL
 * when none does. */
const char *cli_command_for(const struct vlab_driver *drv);

/* ---- cmd_virtio.c ---- */
/* What `virtio scan` does: re-initialise the bound devices (disks and NICs)
 * that broke (cli_reprobe), bind every block device not yet bound. */
int cli_virtio_scan(struct cli *c, bool quiet);
/*
 * A bound device's turn in `virtio scan`.  Healthy (not broken, no
 * DEVICE_NEEDS_RESET, failed[] empty): left alone, CLI_OK.  Otherwise the
 * driver instance is shut down (the shutdown resets the device first and,
 * when the reset does not complete, keeps its DMA memory reserved, never
 * freed nor reused) and initialised again; one line says what happened.
 * failed[] (CLI_FAILED_MAX bytes) says why the device is not usable after
 * a failure (CLI_FAIL), and is emptied on success.  name: "virtio 0",
 * "net 1".
 */
int cli_reprobe(const char *name, struct vlab_virtio_dev *v, char *failed,
                int (*shutdown)(void *drv), int (*init)(void *drv), void *drv);
/* The handoff (cli_bus_handoff), then the disks forgotten. */
void cli_virtio_shutdown(struct cli *c);
/* Bind the devices on first use (`virtio scan`, quietly, unless done). */
void cli_ensure_scanned(struct cli *c);
/* Reading disk d through the bounce buffer: a vlab_part_read_fn whose ctx
 * is a struct cli_read_ctx (in the disk's logical blocks, cli_disk_bsize). */
struct cli_read_ctx {
	struct cli *c;
	struct cli_disk *d;
};
int cli_disk_read(void *ctx, uint64_t lba, uint32_t nsect, void *buf);
/* The disk's logical block size (blk_size: U-Boot's blksz) and its size in
 * such blocks: the unit of `virtio read/write`, partition tables and
 * filesystems. */
static inline uint32_t cli_disk_bsize(const struct cli_disk *d)
{
	return d->blk->info.blk_size ? d->blk->info.blk_size : 512u;
}
static inline uint64_t cli_disk_blocks(const struct cli_disk *d)
{
	return d->blk->info.capacity / (cli_disk_bsize(d) / 512u);
}
/* `virtio part dev`'s table (U-Boot's part_print): 1 printed, 0 no table
 * (with "## Unknown partition table type 0" if print_unknown), -1 error. */
int cli_part_print(struct cli *c, struct cli_disk *d, bool print_unknown);
/* Name of a virtio-blk or reserved feature bit, NULL when it has none. */
const char *cli_blk_feature_name(unsigned bit);

/* ---- cmd_mem.c ---- */
/* Host pointer to guest RAM [addr, addr+len) or NULL after printing why.
 * write: the command will store there; refused inside the DMA zone. */
void *cli_guest_ptr(struct cli *c, uint64_t addr, uint64_t len, bool write);
/* Width suffix of md.b/.w/.l/.q (1, 2, 4, 8); def when none; 0 if bad. */
unsigned cli_width_suffix(const char *name, unsigned def);

/* ---- mkdisk.c ---- */
#define VLAB_DEFAULT_DISK_BYTES (32ull << 20)
#define VLAB_DEFAULT_GREETING "hello from virtio-lab"
/*
 * Lay out the default disk in disk[0..bytes): protective MBR, primary GPT
 * header and entry array, backup array and header, two partitions ("boot",
 * EFI System, 1 MiB..9 MiB; "rootfs", Linux filesystem, up to the last
 * usable LBA) and the greeting in the first sector of partition 2.
 * bytes must be a multiple of 512 and at least 10 MiB.  0 or -1.
 */
int vlab_mkdisk_default(uint8_t *disk, uint64_t bytes);

#endif
