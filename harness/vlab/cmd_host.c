/* SPDX-License-Identifier: MIT */
/*
 * Host files <-> guest memory, as U-Boot's sandbox does it:
 *   load hostfs - addr file [bytes [pos]]
 *   save hostfs - addr file bytes
 * A save writes a temporary file next to the target and renames it over
 * the target only when every byte is on disk, so a failed save never
 * leaves a half-written file behind.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vlab_cli.h"

static bool check_iface(int argc, char **argv)
{
	if (argc < 3)
		return false;
	if (strcmp(argv[1], "hostfs") != 0 || strcmp(argv[2], "-") != 0) {
		printf("** %s: only 'hostfs -' is supported, not '%s %s' **\n", argv[0], argv[1],
		       argv[2]);
		return false;
	}
	return true;
}

static bool arg_hex(const char *what, const char *s, uint64_t *v)
{
	if (cli_parse_hex(s, v))
		return true;
	printf("** Bad %s '%s': expected a hex number **\n", what, s);
	return false;
}

int cmd_load(struct cli *c, int argc, char **argv)
{
	uint64_t addr, bytes = 0, pos = 0, size, len;
	const char *path;
	struct stat st;
	FILE *f;
	uint8_t *dst;
	size_t got;

	if (argc < 5 || argc > 7)
		return CLI_USAGE;
	if (!check_iface(argc, argv))
		return CLI_FAIL;
	path = argv[4];
	if (!arg_hex("address", argv[3], &addr) ||
	    (argc > 5 && !arg_hex("byte count", argv[5], &bytes)) ||
	    (argc > 6 && !arg_hex("position", argv[6], &pos)))
		return CLI_FAIL;

	f = fopen(path, "rb");
	if (!f) {
		printf("** Unable to read file %s: %s **\n", path, strerror(errno));
		return CLI_FAIL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		printf("** Unable to read file %s: not a regular file **\n", path);
		fclose(f);
		return CLI_FAIL;
	}
	size = (uint64_t)st.st_size;
	if (pos > size) {
		printf("** %s: position 0x%" PRIx64 " is beyond the file's end (0x%" PRIx64
		       " bytes) **\n",
		       path, pos, size);
		fclose(f);
		return CLI_FAIL;
	}
	len = size - pos;
	if (bytes && bytes < len)
		len = bytes;
	dst = cli_guest_ptr(c, addr, len, true);
	if (!dst) {
		fclose(f);
		return CLI_FAIL;
	}
	if (pos && fseeko(f, (off_t)pos, SEEK_SET) != 0) {
		printf("** Unable to read file %s: %s **\n", path, strerror(errno));
		fclose(f);
		return CLI_FAIL;
	}
	got = fread(dst, 1, (size_t)len, f);
	if (got != len) {
		printf("** Unable to read file %s: %s **\n", path,
		       ferror(f) ? strerror(errno) : "file shrank while reading");
		fclose(f);
		return CLI_FAIL;
	}
	fclose(f);
	printf("%" PRIu64 " bytes read\n", len);
	cli_env_set_filesize(len);
	return CLI_OK;
}

int cmd_save(struct cli *c, int argc, char **argv)
{
	uint64_t addr, bytes;
	const char *path;
	const uint8_t *src;
	char *tmp;
	size_t n;
	int fd;
	FILE *f;
	bool ok;

	if (argc != 6)
		return CLI_USAGE;
	if (!check_iface(argc, argv))
		return CLI_FAIL;
	path = argv[4];
	if (!arg_hex("address", argv[3], &addr) || !arg_hex("byte count", argv[5], &bytes))
		return CLI_FAIL;
	src = cli_guest_ptr(c, addr, bytes, false);
	if (!src)
		return CLI_FAIL;

	n = strlen(path) + sizeof(".vlab-XXXXXX");
	tmp = malloc(n);
	if (!tmp) {
		printf("** Out of memory **\n");
		return CLI_FAIL;
	}
	snprintf(tmp, n, "%s.vlab-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		printf("** Unable to write file %s: %s **\n", path, strerror(errno));
		free(tmp);
		return CLI_FAIL;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		printf("** Unable to write file %s: %s **\n", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return CLI_FAIL;
	}
	ok = fwrite(src, 1, (size_t)bytes, f) == bytes;
	ok = (fflush(f) == 0) && ok;
	ok = (fsync(fileno(f)) == 0) && ok;
	/* mkstemp creates 0600; give the file the usual umask-based mode. */
	{
		mode_t mask = umask(0);

		umask(mask);
		ok = (fchmod(fileno(f), 0666 & ~mask) == 0) && ok;
	}
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		printf("** Unable to write file %s: %s **\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return CLI_FAIL;
	}
	free(tmp);
	printf("%" PRIu64 " bytes written\n", bytes);
	return CLI_OK;
}
