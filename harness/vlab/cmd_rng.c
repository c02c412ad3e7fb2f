/* SPDX-License-Identifier: MIT */
/*
 * The `rng` command, U-Boot's (cmd/rng.c): `rng [dev] [n]` prints n (hex,
 * default 0x40) bytes from random number generator dev (hex, default 0)
 * as a hex dump with offsets, 16 bytes a line and their characters
 * (U-Boot's print_hex_dump_bytes with DUMP_PREFIX_OFFSET).  The devices are
 * the machine's virtio-rng devices (--rng), numbered in the order given,
 * each bound on first use (vlab/rng.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/bind.h"
#include "vlab/rng.h"
#include "vlab_cli.h"

#define RNG_MAX 8
/* Bytes one command prints at most (U-Boot's bound is its malloc). */
#define RNG_N_MAX 0x10000u

struct cli_rng {
	struct hx_dev *hx;
	struct vlab_bus_dev *bd; /* on the bus (cli_bus), once found */
	struct vlab_rng *rng;    /* the driver's state, bd->priv */
	bool up;
	bool failed;
};

static struct {
	unsigned n;
	struct cli_rng dev[RNG_MAX];
} g;

/* The machine's rng devices (those the bus gives the rng driver), in the
 * order they were added. */
static void rng_list(struct cli *c)
{
	if (g.n)
		return;
	struct vlab_bus *b = cli_bus(c);
	for (unsigned i = 0; b && i < hx_ndevs(c->m) && g.n < RNG_MAX; i++) {
		struct hx_dev *d = hx_dev_at(c->m, i);
		if (d && vlab_bus_driver_for(b, d->device_id) == &vlab_rng_driver)
			g.dev[g.n++].hx = d;
	}
}

static struct cli_rng *rng_up(struct cli *c, uint64_t i)
{
	rng_list(c);
	if (i >= g.n || g.dev[i].failed)
		return NULL;
	struct cli_rng *r = &g.dev[i];
	if (r->up)
		return r;
	int rc;
	r->bd = cli_bus_dev_of(c, r->hx, &rc);
	if (r->bd)
		rc = r->bd->bound ? 0 : vlab_bus_probe(r->bd);
	if (rc) {
		fprintf(stderr, "rng %" PRIu64 ": virtio-rng init failed: %s\n", i, vlab_strerror(rc));
		r->failed = true;
		return NULL;
	}
	r->rng = r->bd->priv;
	r->up = true;
	return r;
}

void cli_rng_shutdown(struct cli *c)
{
	cli_bus_handoff(c); /* every device removed, the rng devices with them */
	memset(&g, 0, sizeof g);
}

/* One line of U-Boot's hex dump: offset, up to 16 bytes in hex, the
 * characters from column 49 of the part after the offset. */
static void dump_line(size_t off, const uint8_t *p, size_t n)
{
	char line[16 * 3 + 2 + 16 + 1];
	size_t lx = 0;
	for (size_t j = 0; j < n; j++)
		lx += (size_t)snprintf(line + lx, sizeof line - lx, j ? " %02x" : "%02x", p[j]);
	while (lx < 16 * 2 + 16 + 1)
		line[lx++] = ' ';
	for (size_t j = 0; j < n; j++)
		line[lx++] = (p[j] >= 0x20 && p[j] < 0x7f) ? (char)p[j] : '.';
	line[lx] = '\0';
	printf("%08zx: %s\n", off, line);
}

int cmd_rng(struct cli *c, int argc, char **argv)
{
	uint64_t dev = 0, n = 0x40;

	if (argc > 3)
		return CLI_USAGE;
	if (argc > 1 && !cli_parse_hex(argv[1], &dev)) {
		printf("rng: bad device number '%s'\n", argv[1]);
		return CLI_FAIL;
	}
	if (argc > 2 && (!cli_parse_hex(argv[2], &n) || n > RNG_N_MAX)) {
		printf("rng: bad byte count '%s' (hex, at most 0x%x)\n", argv[2], RNG_N_MAX);
		return CLI_FAIL;
	}
	struct cli_rng *r = rng_up(c, dev);
	if (!r) {
		printf("No RNG device\n");
		return CLI_FAIL;
	}
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		printf("Out of memory\n");
		return CLI_FAIL;
	}
	/* U-Boot's dm_rng_read gives all n bytes or fails: read until then. */
	size_t have = 0;
	int rc = 0;
	while (have < n && rc == 0) {
		size_t got = 0;
		rc = vlab_rng_read(r->rng, buf + have, n - have, &got);
		have += got;
	}
	if (rc) {
		printf("Reading RNG failed\n");
		fprintf(stderr, "rng %" PRIu64 ": %s after %zu of %" PRIu64 " bytes\n", dev, vlab_strerror(rc), have, n);
		free(buf);
		return CLI_FAIL;
	}
	for (size_t off = 0; off < n; off += 16)
		dump_line(off, buf + off, n - off < 16 ? n - off : 16);
	free(buf);
	return CLI_OK;
}
