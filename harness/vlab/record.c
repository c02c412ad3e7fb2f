/* SPDX-License-Identifier: MIT */
/*
 * vlab --record FILE and vlab replay FILE (docs/vlab.md "Record and
 * replay", docs/trace-format.md "vlab traces"): the trace header of a vlab
 * machine (several devices: one device and one bind line each), the
 * command line in it, and reading both back for a replay.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/net.h"
#include "harness/net.h"
#include "vlab_cli.h"

#define HDR_MAX 4096

/* Can s stand in a trace line?  Printable ASCII only. */
static bool trace_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* w, as a shell word: bare when it holds nothing a shell reads, else in
 * single quotes ('\'' for a quote). */
static void quote_word(char *buf, size_t n, size_t *k, const char *w)
{
	bool bare = *w != '\0';
	for (const char *s = w; *s && bare; s++)
		bare = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=,:+-@%", *s) != NULL;
	if (*k < n)
		*k += (size_t)snprintf(buf + *k, n - *k, " %s", bare ? w : "'");
	if (bare)
		return;
	for (const char *s = w; *s && *k < n; s++)
		*k += (size_t)snprintf(buf + *k, n - *k, *s == '\'' ? "'\\''" : "%c", *s);
	if (*k < n)
		*k += (size_t)snprintf(buf + *k, n - *k, "'");
}

/* The words of a command line quote_word wrote, into argv (pointers into
 * the copy *store, which the caller frees).  The number of words, or -1. */
static int split_words(const char *line, char **store, char **argv, int max)
{
	char *d = malloc(strlen(line) + 1);
	int argc = 0;
	*store = d;
	if (!d)
		return -1;
	for (const char *s = line; *s;) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (argc == max)
			return -1;
		argv[argc++] = d;
		while (*s && *s != ' ') {
			if (*s == '\\' && s[1]) {
				*d++ = s[1];
				s += 2;
			} else if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');
				if (!e)
					return -1;
				memcpy(d, s + 1, (size_t)(e - s - 1));
				d += e - s - 1;
				s = e + 1;
			} else {
				*d++ = *s++;
			}
		}
		*d++ = '\0';
	}
	return argc;
}

static char *dup_line(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, fmt, a, b);
	return s;
}

int cli_record_start(struct cli *c, const char *path, int argc, char **argv, const struct hx_machine_cfg *cfg)
{
	unsigned n = hx_ndevs(c->m), nh = 0;
	char **h = calloc(2u * n + 2u, sizeof *h);
	char line[HDR_MAX], cmd[HDR_MAX];
	size_t k = 0;
	int rc = 2;

	if (!h)
		return 1;
	/* The producer: the model, and guest RAM (replay builds the same). */
	hx_trace_producer_line(cfg, line, sizeof line);
	snprintf(line + strlen(line), sizeof line - strlen(line), " ram=0x%" PRIx64 "+0x%" PRIx64,
	         hx_ram_base(c->m), hx_ram_size(c->m));
	if (hx_pci_profile(c->m) != HX_PCI_PROFILE_VIRT)
		snprintf(line + strlen(line), sizeof line - strlen(line), " machine=%s",
		         cli_machine_names[hx_pci_profile(c->m)]);
	h[nh++] = dup_line("%s%s", line, "");
	for (unsigned i = 0; i < n; i++) {
		const struct hx_dev *d = hx_dev_at(c->m, i);
		if (!d->blk && !d->net) {
			fprintf(stderr, "vlab: --record: device %u is neither blk nor net\n", i);
			goto out;
		}
		snprintf(line, sizeof line, "device %u %s transport=%s%s%s", i, d->blk ? "blk" : "net",
		         hx_transport_name(d->transport), d->net ? " backend=" : "",
		         d->net ? (d->net->backend ? d->net->backend->kind : "none") : "");
		h[nh++] = dup_line("%s%s", line, "");
	}
	/* The command line as typed, without --record FILE. */
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--record")) {
			i++;
			continue;
		}
		if (!strncmp(argv[i], "--record=", 9))
			continue;
		if (!trace_text(argv[i])) {
			fprintf(stderr, "vlab: --record: the argument '%s' holds a byte a trace line cannot hold "
			                "(a tab, a newline, non-ASCII)\n", argv[i]);
			goto out;
		}
		quote_word(cmd, sizeof cmd, &k, i ? argv[i] : "vlab");
	}
	if (k >= sizeof cmd) {
		fprintf(stderr, "vlab: --record: the command line is too long for a trace (%zu bytes at most)\n",
		        sizeof cmd - 1);
		goto out;
	}
	h[nh++] = dup_line("command%s%s", cmd, "");
	for (unsigned i = 0; i < n; i++) {
		if (hx_trace_bind_line(c->m, hx_dev_at(c->m, i), VLAB_MMIO_ALLOW_LEGACY, line, sizeof line)) {
			fprintf(stderr, "vlab: --record: device %u cannot be described in a trace\n", i);
			goto out;
		}
		h[nh++] = dup_line("%s%s", line, "");
	}
	for (unsigned i = 0; i < nh; i++)
		if (!h[i]) {
			rc = 1;
			goto out;
		}
	c->rec_file = fopen(path, "w");
	if (!c->rec_file) {
		fprintf(stderr, "vlab: --record %s: %s\n", path, strerror(errno));
		goto out;
	}
	c->rec = hx_trace_record_start(c->m, c->rec_file, (const char *const *)h, nh);
	if (!c->rec) {
		fprintf(stderr, "vlab: --record %s: write failed\n", path);
		fclose(c->rec_file);
		c->rec_file = NULL;
		goto out;
	}
	c->rec_path = path;
	rc = 0;
out:
	for (unsigned i = 0; i < nh; i++)
		free(h[i]);
	free(h);
	return rc;
}

int cli_record_stop(struct cli *c)
{
	char why[160];
	int rrc;

	if (!c->rec)
		return 0;
	rrc = hx_trace_record_stop(c->rec, why, sizeof why);
	c->rec = NULL;
	if (fclose(c->rec_file) != 0 && rrc == 0) {
		rrc = -1;
		snprintf(why, sizeof why, "%s", strerror(errno));
	}
	if (rrc != 0) {
		fprintf(stderr, "vlab: --record %s: %s\n", c->rec_path, why[0] ? why : "write failed");
		return 1;
	}
	return 0;
}

/* ---- replay: what the header says ---- */

const char *const cli_machine_names[3] = {"virt", "pc", "q35"};

int cli_replay_header(const struct hx_trace *t, const char *path, uint64_t *ram_base, uint64_t *ram_size,
                      enum hx_pci_profile *machine, char **commands)
{
	const char *prod = hx_trace_header(t, "producer"), *cmd = hx_trace_header(t, "command"), *ram;
	char *store = NULL, *argv[256];
	unsigned line = 1;
	int argc;

	*commands = NULL;
	(void)hx_trace_header_nth(t, "command", 0, &line);
	if (!strncmp(cmd, "run ", 4)) {
		fprintf(stderr, "%s:%u: a vlab-scenario trace (command %.40s): replay it with "
		                "'vlab-scenario replay %s'\n", path, line, cmd, path);
		return 2;
	}
	if (strncmp(cmd, "vlab ", 5) != 0 && strcmp(cmd, "vlab") != 0) {
		fprintf(stderr, "%s:%u: not a vlab trace (the command is not 'vlab ...')\n", path, line);
		return 2;
	}
	(void)hx_trace_header_nth(t, "producer", 0, &line);
	if (!prod || strncmp(prod, "model ", 6) != 0 || !(ram = strstr(prod, " ram=")) ||
	    sscanf(ram, " ram=0x%" SCNx64 "+0x%" SCNx64, ram_base, ram_size) != 2) {
		fprintf(stderr, "%s:%u: the producer line is not 'model ... ram=BASE+SIZE' (vlab's)\n", path, line);
		return 2;
	}
	*machine = HX_PCI_PROFILE_VIRT;
	const char *mach = strstr(prod, " machine=");
	if (mach) {
		unsigned k;
		size_t len = strcspn(mach + 9, " ");
		for (k = 1; k < 3 && (strlen(cli_machine_names[k]) != len || strncmp(mach + 9, cli_machine_names[k], len)); k++)
			;
		if (k == 3) {
			fprintf(stderr, "%s:%u: the producer line names an unknown machine '%.*s' (pc, q35)\n", path, line,
			        (int)len, mach + 9);
			return 2;
		}
		*machine = (enum hx_pci_profile)k;
	}
	(void)hx_trace_header_nth(t, "command", 0, &line);
	argc = split_words(cmd, &store, argv, 256);
	if (argc < 0) {
		free(store);
		fprintf(stderr, "%s:%u: the command line has an unterminated quote or too many words\n", path, line);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") != 0)
			continue;
		if (i + 1 >= argc) {
			free(store);
			fprintf(stderr, "%s:%u: -c without commands in the command line\n", path, line);
			return 2;
		}
		*commands = strdup(argv[i + 1]);
		free(store);
		return *commands ? 0 : 1;
	}
	free(store);
	return 0;
}

int cli_replay_device(const struct hx_trace *t, const char *path, unsigned i, bool *net,
                      enum hx_transport *tr, char *kind, size_t kn)
{
	unsigned line, idx;
	const char *d = hx_trace_header_nth(t, "device", i, &line);
	char type[8], trs[24], be[24] = "";
	int tt, k;

	if (!d)
		return 1;
	k = sscanf(d, "%u %7s transport=%23s backend=%23s", &idx, type, trs, be);
	tt = k >= 3 ? hx_transport_parse(trs) : -1;
	*net = !strcmp(type, "net");
	if (k < 3 || idx != i || tt < 0 || (!*net && strcmp(type, "blk") != 0) || (*net != (k == 4))) {
		fprintf(stderr, "%s:%u: a device line is 'device %u blk|net transport=T' (net: backend=KIND)\n",
		        path, line, i);
		return 2;
	}
	*tr = (enum hx_transport)tt;
	snprintf(kind, kn, "%s", be);
	return 0;
}

int cli_replay_check_binds(struct cli *c, const struct hx_trace *t, const char *path)
{
	unsigned n = hx_ndevs(c->m), line = 1;
	char mine[HDR_MAX];

	for (unsigned i = 0; i <= n; i++) {
		const char *b = hx_trace_header_nth(t, "bind", i, &line);
		if (i == n && !b)
			return 0;
		if (i == n || !b) {
			fprintf(stderr, "%s:%u: the header has %u device line%s but %s bind lines (one a device)\n",
			        path, i == n ? line : 1, n, n == 1 ? "" : "s", i == n ? "more" : "fewer");
			return 2;
		}
		if (hx_trace_bind_line(c->m, hx_dev_at(c->m, i), VLAB_MMIO_ALLOW_LEGACY, mine, sizeof mine) ||
		    strcmp(mine + 5, b) != 0) {
			fprintf(stderr, "%s:%u: device %u cannot be rebuilt where the trace has it: the trace says "
			                "'bind %s', vlab builds '%s'\n", path, line, i, b, mine);
			return 2;
		}
	}
	return 0;
}
