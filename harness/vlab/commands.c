/* SPDX-License-Identifier: MIT */
/* The command table: lookup, usage text, help, and the small commands. */
#include <stdio.h>
#include <string.h>

#include "vlab/rng.h"
#include "vlab_cli.h"

static int cmd_help(struct cli *c, int argc, char **argv);
static int cmd_echo(struct cli *c, int argc, char **argv);
static int cmd_version(struct cli *c, int argc, char **argv);
static int cmd_exit(struct cli *c, int argc, char **argv);

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	bool width_suffix;   /* accepts .b/.w/.l/.q */
	const char *summary;
	const char *usage;   /* lines after the name; "\n" separated */
};

/* The command that drives a driver's devices (`virtio scan` names it). */
static const struct {
	const struct vlab_driver *drv;
	const char *command;
} driver_commands[] = {
	{ &vlab_blk_driver, "virtio" },
	{ &vlab_net_driver, "net" },
	{ &vlab_rng_driver, "rng" },
};

const char *cli_command_for(const struct vlab_driver *drv)
{
	for (size_t i = 0; drv && i < sizeof driver_commands / sizeof driver_commands[0]; i++)
		if (driver_commands[i].drv == drv)
			return driver_commands[i].command;
	return NULL;
}

static const struct command commands[] = {
	{ "virtio", cmd_virtio, false, "virtio block devices sub-system",
	  "virtio scan - initialize virtio bus\n"
	  "virtio info - show all available virtio block devices\n"
	  "virtio device [dev] - show or set current virtio block device\n"
	  "virtio part [dev] - print partition table of one or all virtio block devices\n"
	  "virtio read addr blk# cnt - read `cnt' blocks starting at block\n"
	  "     `blk#' to memory address `addr'\n"
	  "virtio write addr blk# cnt - write `cnt' blocks starting at block\n"
	  "     `blk#' from memory address `addr'\n"
	  "vlab extensions:\n"
	  "virtio erase blk# cnt - discard `cnt' blocks starting at block `blk#'\n"
	  "     (DISCARD; what they read back afterwards is up to the device)\n"
	  "virtio zero blk# cnt [unmap] - zero `cnt' blocks starting at block\n"
	  "     `blk#' (WRITE_ZEROES; unmap: the device may deallocate them)\n"
	  "virtio flush [dev] - ask the device to make written data durable\n"
	  "virtio cache [dev] [writeback|writethrough] - show or set the write cache\n"
	  "virtio id [dev] - show the device's ID string (GET_ID)\n"
	  "virtio features [dev] - show offered and negotiated feature bits\n"
	  "virtio violations - list what the driver did against the spec\n"
	  "virtio list - every virtio device: its driver, transport and place\n"
	  "Numbers are hex (0x optional); blocks are the disk's logical blocks\n"
	  "(512 bytes unless it offers another blk_size)." },
	{ "md", cmd_md, true, "memory display",
	  "md [.b, .w, .l, .q] address [# of objects]\n"
	  "     (objects and address in hex; without arguments, continue)" },
	{ "mw", cmd_mw, true, "memory write (fill)",
	  "mw [.b, .w, .l, .q] address value [count]" },
	{ "cmp", cmd_cmp, true, "memory compare",
	  "cmp [.b, .w, .l, .q] addr1 addr2 count" },
	{ "crc32", cmd_crc32, false, "checksum calculation",
	  "crc32 address count - compute CRC32 checksum of count bytes" },
	{ "load", cmd_fs_load, false, "load binary file from a filesystem",
	  "load <interface> <dev[:part]> <addr> <filename> [bytes [pos]]\n"
	  "    - Load binary file 'filename' from partition 'part' on device\n"
	  "       type 'interface' instance 'dev' to address 'addr' in memory.\n"
	  "      'bytes' (hex) limits the length, 0 or absent means the whole file;\n"
	  "      'pos' (hex) is the offset in the file to start at.\n"
	  "      interface: virtio (FAT or ext2/3/4), or hostfs with dev '-'\n"
	  "      (a file of the host)" },
	{ "ls", cmd_fs_ls, false, "list files in a directory (default /)",
	  "ls <interface> <dev[:part]> [directory]\n"
	  "    - List files in directory 'directory' of partition 'part' on\n"
	  "      device type 'interface' instance 'dev'." },
	{ "size", cmd_fs_size, false, "determine a file's size",
	  "size <interface> <dev[:part]> <filename>\n"
	  "    - Find file 'filename' from 'dev' on 'interface' and determine its size;\n"
	  "      prints nothing, as U-Boot (which sets filesize)" },
	{ "fstype", cmd_fs_fstype, false, "Look up a filesystem type",
	  "fstype <interface> <dev>:<part> - print filesystem type\n"
	  "fstype <interface> <dev>:<part> <varname> - set environment variable to filesystem type" },
	{ "fatls", cmd_fs_ls, false, "list files in a directory (default /)",
	  "fatls <interface> <dev[:part]> [directory]\n"
	  "    - list files from 'dev' on 'interface' in 'directory' (FAT only)" },
	{ "fatload", cmd_fs_load, false, "load binary file from a dos filesystem",
	  "fatload <interface> <dev[:part]> <addr> <filename> [bytes [pos]]\n"
	  "    - Load binary file 'filename' from 'dev' on 'interface'\n"
	  "      to address 'addr' from dos filesystem (FAT only)" },
	{ "fatsize", cmd_fs_size, false, "determine a file's size",
	  "fatsize <interface> <dev[:part]> <filename> (FAT only)" },
	{ "ext4ls", cmd_fs_ls, false, "list files in a directory (default /)",
	  "ext4ls <interface> <dev[:part]> [directory] (ext2/3/4 only)" },
	{ "ext4load", cmd_fs_load, false, "load binary file from a Ext4 filesystem",
	  "ext4load <interface> <dev[:part]> <addr> <filename> [bytes [pos]]\n"
	  "    - load binary file 'filename' from 'dev' on 'interface'\n"
	  "      to address 'addr' from ext4 filesystem (ext2/3/4)" },
	{ "ext4size", cmd_fs_size, false, "determine a file's size",
	  "ext4size <interface> <dev[:part]> <filename> (ext2/3/4 only)" },
	{ "part", cmd_part, false, "disk partition related commands",
	  "part uuid <interface> <dev>:<part>\n"
	  "    - print partition UUID\n"
	  "part uuid <interface> <dev>:<part> <varname>\n"
	  "    - set environment variable to partition UUID\n"
	  "part list <interface> <dev>\n"
	  "    - print a device partition map" },
	{ "net", cmd_net, false, "virtio-net devices (vlab)",
	  "net info [dev] - MAC, link, MTU and statistics of dev (default: every\n"
	  "     network device)\n"
	  "net send dev dst len [count] - send frames of len bytes to dst\n"
	  "     (a MAC address, bcast or self)\n"
	  "net recv [dev] - print the frames waiting at dev (default 0)\n"
	  "net capture dev FILE|off - write dev's traffic to a pcap file\n"
	  "net ping [from to [count]] - ARP, then ICMP echo from one NIC to\n"
	  "     another (default 0 -> 1, 3 times); NIC n is 192.168.76.(n+1)\n"
	  "Numbers are hex (0x optional), as everywhere in vlab." },
	{ "rng", cmd_rng, false, "print bytes from the hardware random number generator",
	  "rng [dev] [n]\n"
	  "  - print n random bytes read from dev\n"
	  "    (hex; default device 0 and 0x40 bytes; the devices of --rng)" },
	{ "pci", cmd_pci, false, "list PCI devices",
	  "pci [bus|*] - short list of the PCI devices on bus 'bus' (all buses by default)" },
	{ "save", cmd_save, false, "save file to a filesystem",
	  "save hostfs - addr filename bytes\n"
	  "    - save 'bytes' (hex) of guest memory at 'addr' to host file 'filename'" },
	{ "help", cmd_help, false, "print command description/usage",
	  "help [command ...]\n"
	  "    - without arguments, list the commands; with, show their usage\n"
	  "<command> --help (or -h) shows the usage of one command" },
	{ "setenv", cmd_setenv, false, "set environment variables",
	  "setenv [-f] name value ...\n"
	  "    - set environment variable 'name' to 'value ...'\n"
	  "setenv [-f] name\n"
	  "    - delete environment variable 'name'" },
	{ "printenv", cmd_printenv, false, "print environment variables",
	  "printenv [-a]\n"
	  "    - print [all] values of all environment variables\n"
	  "printenv name ...\n"
	  "    - print value of environment variable 'name'" },
	{ "env", cmd_env, false, "environment handling commands",
	  "env delete [-f] var [...] - [forcibly] delete variable(s)\n"
	  "env exists name - tests for existence of variable\n"
	  "env print [-a | name ...] - print environment\n"
	  "env run var [...] - run commands in an environment variable\n"
	  "env set [-f] name [arg ...]" },
	{ "run", cmd_run, false, "run commands in an environment variable",
	  "run var [...]\n"
	  "    - run the commands in the environment variable(s) 'var'" },
	{ "test", cmd_test, false, "minimal test like /bin/sh",
	  "test [args..]\n"
	  "    - operators: ! -a -o -z -n -e = != < > -eq -ne -lt -le -gt -ge\n"
	  "      (-e hostfs - FILE: FILE exists on the host)" },
	{ "[", cmd_test, false, "alias for 'test'", "[ <test expression> ]" },
	{ "true", cmd_true, false, "do nothing, successfully", "true" },
	{ "false", cmd_true, false, "do nothing, unsuccessfully", "false" },
	{ "echo", cmd_echo, false, "echo args to console",
	  "echo [args..]\n    - echo args to console" },
	{ "version", cmd_version, false, "print the vlab and compiler versions",
	  "version" },
	{ "exit", cmd_exit, false, "exit vlab", "exit" },
	{ "quit", cmd_exit, false, "exit vlab", "quit" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find(const char *typed)
{
	size_t n = strcspn(typed, ".");

	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *cmd = &commands[i];

		if (strlen(cmd->name) != n || strncmp(cmd->name, typed, n) != 0)
			continue;
		if (typed[n] == '.' && !cmd->width_suffix)
			return NULL;
		return cmd;
	}
	return NULL;
}

size_t cli_command_names(const char **names, size_t max)
{
	size_t n = 0;

	for (; n < NCOMMANDS && n < max; n++)
		names[n] = commands[n].name;
	return n;
}

const char *cli_command_usage(const char *name)
{
	const struct command *cmd = find(name);

	return cmd ? cmd->usage : NULL;
}

static void print_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "%s - %s\n\nUsage:\n%s\n", cmd->name, cmd->summary, cmd->usage);
}

static bool takes_data(const struct command *cmd)
{
	return cmd->fn == cmd_test || cmd->fn == cmd_setenv || cmd->fn == cmd_env ||
	       cmd->fn == cmd_run || cmd->fn == cmd_true;
}

int cli_run_command(struct cli *c, int argc, char **argv)
{
	const struct command *cmd = find(argv[0]);
	int rc;

	if (!cmd || (cmd->width_suffix && cli_width_suffix(argv[0], 4) == 0)) {
		printf("Unknown command '%s' - try 'help'\n", argv[0]);
		return CLI_FAIL;
	}
	/* The shell's commands take any word as data: test "$x" = -h. */
	for (int i = 1; i < argc && !takes_data(cmd); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_usage(stdout, cmd);
			return CLI_OK;
		}
	}
	rc = cmd->fn(c, argc, argv);
	if (rc == CLI_USAGE) {
		print_usage(stdout, cmd);
		return CLI_FAIL;
	}
	return rc;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
	int rc = CLI_OK;

	(void)c;
	if (argc == 1) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			printf("%-10s- %s\n", commands[i].name, commands[i].summary);
		printf("\nNumbers are hex, as in U-Boot; '<command> --help' shows its usage.\n");
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		const struct command *cmd = find(argv[i]);

		if (!cmd) {
			printf("Unknown command '%s' - try 'help' without arguments for list of all"
			       " known commands\n\n",
			       argv[i]);
			rc = CLI_FAIL;
			continue;
		}
		print_usage(stdout, cmd);
	}
	return rc;
}

static int cmd_echo(struct cli *c, int argc, char **argv)
{
	(void)c;
	for (int i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	putchar('\n');
	return CLI_OK;
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	printf("vlab %s (virtio-lab)\n", VLAB_CLI_VERSION);
#if defined(__clang__)
	printf("clang %d.%d.%d\n", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
	printf("gcc %d.%d.%d\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
	return CLI_OK;
}

static int cmd_exit(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	c->quit = true;
	return CLI_OK;
}
