/* SPDX-License-Identifier: MIT */
/* Guest memory commands in U-Boot's formats: md, mw, cmp, crc32. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vlab/part.h"
#include "vlab_cli.h"

#define MD_DEFAULT_COUNT 0x40u
#define MD_LINE_BYTES 16u

void *cli_guest_ptr(struct cli *c, uint64_t addr, uint64_t len, bool write)
{
	uint64_t base = hx_ram_base(c->m), size = hx_ram_size(c->m);
	void *p = NULL;

	if (len == 0)
		len = 1; /* an empty range must still start inside RAM */
	if (addr >= base && len <= size && addr - base <= size - len)
		p = hx_ram_ptr(c->m, addr, len);
	if (!p)
		printf("** 0x%08" PRIx64 " + 0x%" PRIx64 " bytes"
		       " is outside guest RAM (0x%08" PRIx64 "..0x%08" PRIx64 ") **\n",
		       addr, len, base, base + size - 1);
	else if (write && c->dma_zone && addr + len > c->dma_zone) {
		printf("** 0x%08" PRIx64 " + 0x%" PRIx64 " bytes reaches into 0x%08" PRIx64
		       "..0x%08" PRIx64 ", where the drivers keep their virtqueues; "
		       "use addresses below 0x%08" PRIx64 " **\n",
		       addr, len, c->dma_zone, base + size - 1, c->dma_zone);
		p = NULL;
	}
	return p;
}

unsigned cli_width_suffix(const char *name, unsigned def)
{
	const char *dot = strchr(name, '.');

	if (!dot)
		return def;
	if (dot[1] == '\0' || dot[2] != '\0')
		return 0;
	switch (dot[1]) {
	case 'b': return 1;
	case 'w': return 2;
	case 'l': return 4;
	case 'q': return 8;
	default: return 0;
	}
}

static uint64_t load_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool arg_hex(const char *what, const char *s, uint64_t *v)
{
	if (cli_parse_hex(s, v))
		return true;
	printf("** Bad %s '%s': expected a hex number **\n", what, s);
	return false;
}

/* md: address, values of the given width, then the bytes as text. */
int cmd_md(struct cli *c, int argc, char **argv)
{
	/* As in U-Boot, width and count default to those of the last md. */
	unsigned width = cli_width_suffix(argv[0], c->md_size ? c->md_size : 4);
	uint64_t addr = c->md_next, count = c->md_count ? c->md_count : MD_DEFAULT_COUNT;
	const unsigned per_line = MD_LINE_BYTES / width;
	const uint8_t *p;

	if (argc > 3)
		return CLI_USAGE;
	if (argc == 1 && !c->md_size) {
		printf("** md: give an address the first time **\n");
		return CLI_USAGE;
	}
	if (argc >= 2 && !arg_hex("address", argv[1], &addr))
		return CLI_FAIL;
	if (argc == 3 && !arg_hex("count", argv[2], &count))
		return CLI_FAIL;
	if (count > (1ull << 32) || (addr % width) != 0) {
		printf("** md: address must be aligned to %u and count at most 0x100000000 **\n",
		       width);
		return CLI_FAIL;
	}
	p = cli_guest_ptr(c, addr, count * width, false);
	if (!p)
		return CLI_FAIL;

	for (uint64_t done = 0; done < count;) {
		unsigned n = count - done < per_line ? (unsigned)(count - done) : per_line;
		char text[MD_LINE_BYTES + 1];

		printf("%08" PRIx64 ":", addr + done * width);
		for (unsigned i = 0; i < n; i++)
			printf(" %0*" PRIx64, (int)width * 2, load_le(p + (done + i) * width, width));
		for (unsigned i = n; i < per_line; i++)
			printf("%*s", (int)width * 2 + 1, "");
		for (unsigned i = 0; i < n * width; i++) {
			uint8_t b = p[done * width + i];

			text[i] = (b >= 0x20 && b < 0x7f) ? (char)b : '.';
		}
		text[n * width] = '\0';
		printf("  %s\n", text); /* two spaces, as U-Boot's print_buffer */
		done += n;
	}
	c->md_next = addr + count * width;
	c->md_size = width;
	c->md_count = count;
	return CLI_OK;
}

int cmd_mw(struct cli *c, int argc, char **argv)
{
	unsigned width = cli_width_suffix(argv[0], 4);
	uint64_t addr, value, count = 1;
	uint8_t *p;

	if (argc < 3 || argc > 4)
		return CLI_USAGE;
	if (!arg_hex("address", argv[1], &addr) || !arg_hex("value", argv[2], &value))
		return CLI_FAIL;
	if (argc == 4 && !arg_hex("count", argv[3], &count))
		return CLI_FAIL;
	if (width < 8 && value >> (8 * width)) {
		printf("** mw: value 0x%" PRIx64 " does not fit in %u byte(s) **\n", value, width);
		return CLI_FAIL;
	}
	if (count > (1ull << 32)) {
		printf("** mw: count too large **\n");
		return CLI_FAIL;
	}
	p = cli_guest_ptr(c, addr, count * width, true);
	if (!p)
		return CLI_FAIL;
	for (uint64_t i = 0; i < count; i++)
		store_le(p + i * width, width, value);
	return CLI_OK;
}

int cmd_cmp(struct cli *c, int argc, char **argv)
{
	static const char *const type_name[] = { "", "byte", "halfword", "", "word",
		                                  "", "", "", "double word" };
	unsigned width = cli_width_suffix(argv[0], 4);
	const char *type = type_name[width];
	uint64_t a1, a2, count, ngood;
	const uint8_t *p1, *p2;

	if (argc != 4)
		return CLI_USAGE;
	if (!arg_hex("address", argv[1], &a1) || !arg_hex("address", argv[2], &a2) ||
	    !arg_hex("count", argv[3], &count))
		return CLI_FAIL;
	if (count > (1ull << 32)) {
		printf("** cmp: count too large **\n");
		return CLI_FAIL;
	}
	p1 = cli_guest_ptr(c, a1, count * width, false);
	p2 = p1 ? cli_guest_ptr(c, a2, count * width, false) : NULL;
	if (!p1 || !p2)
		return CLI_FAIL;
	for (ngood = 0; ngood < count; ngood++) {
		uint64_t w1 = load_le(p1 + ngood * width, width);
		uint64_t w2 = load_le(p2 + ngood * width, width);

		if (w1 != w2) {
			uint64_t off = ngood * width;

			printf("%s at 0x%08" PRIx64 " (%#0*" PRIx64 ") != %s at 0x%08" PRIx64
			       " (%#0*" PRIx64 ")\n",
			       type, a1 + off, (int)width, w1, type, a2 + off, (int)width, w2);
			printf("Total of %" PRIu64 " %s(s) were the same\n", ngood, type);
			return CLI_FAIL;
		}
	}
	printf("Total of %" PRIu64 " %s(s) were the same\n", ngood, type);
	return CLI_OK;
}

int cmd_crc32(struct cli *c, int argc, char **argv)
{
	uint64_t addr, len;
	const uint8_t *p;
	uint32_t crc;

	if (argc != 3)
		return CLI_USAGE;
	if (!arg_hex("address", argv[1], &addr) || !arg_hex("count", argv[2], &len))
		return CLI_FAIL;
	if (len == 0) {
		printf("** crc32: count must not be 0 **\n");
		return CLI_FAIL;
	}
	p = cli_guest_ptr(c, addr, len, false);
	if (!p)
		return CLI_FAIL;
	crc = vlab_crc32(0, p, (size_t)len);
	printf("crc32 for %08" PRIx64 " ... %08" PRIx64 " ==> %08" PRIx32 "\n", addr,
	       addr + len - 1, crc);
	return CLI_OK;
}
