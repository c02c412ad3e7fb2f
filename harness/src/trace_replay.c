/* SPDX-License-Identifier: MIT */
/*
 * The replayer (docs/trace-format.md): a platform that answers every read
 * from a trace and checks every other call against it.  It keeps its own
 * memory for the device addresses the trace allocates, so a CPU pointer the
 * driver passes maps back to a device address; what the device wrote in the
 * recorded run ("dw" lines) is written there, and what the device read
 * ("dr": what the driver published) is checked against it.
 *
 * The first divergence is reported; after it the device is gone (all-ones
 * registers, failed allocations, time that jumps), so the driver stops
 * through its own error paths and never runs on the trace's values out of
 * place.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx_internal.h"
#include "trace_internal.h"
#include "vlab/err.h"
#include "vlab/mmio.h"
#include "vlab/pci.h"

#define LOG_KEEP 6
#define LOG_LEN 200
#define TAIL_LEN 8192

struct rp_alloc {
	uint8_t *cpu;
	uint64_t dev;
	size_t size;
	/* A trace with pub lines: cpu as of the last register write, and the
	 * bytes the device wrote since (shm reads, unmaps: 1 each). */
	uint8_t *shadow, *devw;
	bool devw_any;
};

struct hx_replay {
	const struct hx_trace *t;
	size_t cur;
	bool diverged;
	uint64_t dead_now;
	struct vlab_platform plat;
	struct vlab_pci_host pci_host;
	struct rp_alloc *al;
	size_t nal, capal;
	/* hx_replay_attach: the machine whose platform we are, its own
	 * platform, and its guest RAM as one translation. */
	struct hx_machine *m;
	struct vlab_platform m_plat;
	struct rp_alloc ram;
	void (*log_fn)(void *ctx, enum vlab_log_level, const char *);
	void *log_ctx;
	char log[LOG_KEEP][LOG_LEN];
	unsigned nlog;
	char report[TAIL_LEN + 4096];
	bool has_pub; /* the trace has pub lines (a QEMU trace): published memory is diffed */
	struct timespec started; /* hx_replay_new, for VLAB_REPLAY_TIMING */
	/* Where the trace's driver read what the device wrote (shm reads,
	 * unmaps of device-writable buffers): sorted, merged [lo, hi). */
	struct rp_range {
		uint64_t lo, hi;
	} *devrd;
	size_t ndevrd;
	/* The inject mode (hx_replay_set_inject). */
	bool inject, has_dw;
	const struct hx_ev *edited;    /* the first read whose answer contradicts the device's writes */
	char edited_why[160];
	const struct hx_ev *last_read; /* the last read answered */
	const struct hx_ev *moved;     /* the first read answered at another address */
	uint64_t moved_to;
	char tail[TAIL_LEN];           /* log and transcript lines from the edited value on */
	size_t ntail;
	bool tail_marked;
};

/* A line for the inject report's tail, once an edited value was answered
 * or the run diverged. */
static void tail_add(struct hx_replay *r, const char *prefix, const char *line)
{
	if (!r->inject || (!r->edited && !r->diverged) || r->ntail >= sizeof r->tail - 1)
		return;
	if (r->diverged && !r->tail_marked) {
		r->tail_marked = true;
		tail_add(r, "", "-- the divergence: from here on the device is gone --");
	}
	int k = snprintf(r->tail + r->ntail, sizeof r->tail - r->ntail, "    %s%s\n", prefix, line);
	if (k > 0)
		r->ntail = r->ntail + (size_t)k < sizeof r->tail ? r->ntail + (size_t)k : sizeof r->tail - 1;
}

/* ---- memory ---- */

static struct rp_alloc *by_cpu(struct hx_replay *r, const volatile void *p, size_t len, uint64_t *dev)
{
	const uint8_t *c = (const uint8_t *)(uintptr_t)p;
	for (size_t i = 0; i < r->nal; i++) {
		struct rp_alloc *a = &r->al[i];
		if (c < a->cpu)
			continue;
		/* A point (len 0, e.g. a free) just past an allocation is not in
		 * it: it may be the start of the next one. */
		size_t off = (size_t)(c - a->cpu);
		if (len ? off <= a->size && len <= a->size - off : off < a->size || off == 0) {
			*dev = a->dev + (uint64_t)(c - a->cpu);
			return a;
		}
	}
	if (r->m && hx_arena_addr(&r->m->arena, c, len, dev))
		return &r->ram;
	*dev = HX_TRACE_NONE;
	return NULL;
}

/* Host memory for device range [dev, dev+len), NULL unless one allocation holds it all. */
static uint8_t *by_dev(struct hx_replay *r, uint64_t dev, size_t len)
{
	for (size_t i = 0; i < r->nal; i++) {
		struct rp_alloc *a = &r->al[i];
		if (dev >= a->dev && dev - a->dev <= a->size && len <= a->size - (dev - a->dev))
			return a->cpu + (dev - a->dev);
	}
	return r->m ? hx_ram_ptr(r->m, dev, len) : NULL;
}

/* ---- the report ---- */

static void diverge(struct hx_replay *r, const struct hx_ev *want, const char *call, const char *did_fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diverge(struct hx_replay *r, const struct hx_ev *want, const char *call, const char *did_fmt, ...)
{
	if (r->diverged)
		return;
	r->diverged = true;
	char exp[160] = "(the end of the trace)", did[160];
	if (want)
		hx_ev_format(want, exp, sizeof exp);
	va_list ap;
	va_start(ap, did_fmt);
	vsnprintf(did, sizeof did, did_fmt, ap);
	va_end(ap);
	unsigned line = want ? want->line : r->t->end_line;
	int k = snprintf(r->report, sizeof r->report,
	                 "replay: divergence at %s:%u (event %zu of %zu)\n"
	                 "  platform call: %s\n"
	                 "  the trace says: %s\n"
	                 "  the driver did: %s\n"
	                 "  the driver's last log lines:%s\n",
	                 r->t->name, line, r->cur + 1, r->t->nev, call, exp, did, r->nlog ? "" : " (none)");
	unsigned first = r->nlog > LOG_KEEP ? r->nlog - LOG_KEEP : 0;
	for (unsigned i = first; i < r->nlog && k > 0 && (size_t)k < sizeof r->report; i++)
		k += snprintf(r->report + k, sizeof r->report - (size_t)k, "    %s\n", r->log[i % LOG_KEEP]);
}

/* ---- walking the trace ---- */

static void pub_line(struct hx_replay *r, const struct hx_ev *e);
static struct rp_alloc *alloc_at(struct hx_replay *r, uint64_t dev, size_t *off);

/* The device's memory accesses at the cursor: apply its writes, check that
 * what it read is what the replayed driver published. */
static void device_lines(struct hx_replay *r)
{
	while (!r->diverged && r->cur < r->t->nev) {
		const struct hx_ev *e = &r->t->ev[r->cur];
		if (e->op == HX_EV_PUB) {
			pub_line(r, e);
			if (!r->diverged)
				r->cur++;
			continue;
		}
		if (e->op == HX_EV_NOPUB) { /* not diffed: its pub lines (a map's bytes) are checked byte for byte */
			size_t off;
			struct rp_alloc *a = alloc_at(r, e->a, &off);
			if (a) {
				free(a->shadow);
				free(a->devw);
				a->shadow = a->devw = NULL;
			}
			r->cur++;
			continue;
		}
		if (e->op != HX_EV_DR && e->op != HX_EV_DW)
			return;
		uint8_t *mem = by_dev(r, e->a, e->len);
		if (mem && e->op == HX_EV_DW) {
			memcpy(mem, e->data, e->len);
		} else if (mem && memcmp(mem, e->data, e->len) != 0) {
			size_t i = 0;
			while (mem[i] == e->data[i])
				i++;
			diverge(r, e, "(published memory, as the device read it)",
			        "published 0x%02x at 0x%" PRIx64 " (byte %zu of the read), the trace has 0x%02x", mem[i],
			        e->a + i, i, e->data[i]);
			return;
		}
		r->cur++;
	}
}

/* Does the trace show the device writing at dev (the driver reads it)? */
static bool device_writes(const struct hx_replay *r, uint64_t dev)
{
	size_t lo = 0, hi = r->ndevrd;
	if (!r->devrd)
		return true; /* out of memory at the start: lenient */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dev < r->devrd[mid].lo)
			hi = mid;
		else if (dev >= r->devrd[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The byte the device answers at address dev in the trace's first read of
 * it after event e (sh, shm), or -1: none, or the memory was published
 * again first (a pub line covering it: the recorded driver wrote there
 * again, or the device did before the recorder looked).  Bounded by the
 * trace's length. */
static int device_answers_next(const struct hx_replay *r, const struct hx_ev *e, uint64_t dev)
{
	const struct hx_trace *t = r->t;
	for (size_t i = (size_t)(e - t->ev) + 1; i < t->nev; i++) {
		const struct hx_ev *x = &t->ev[i];
		if (x->a == HX_TRACE_NONE || dev < x->a)
			continue;
		if (x->op == HX_EV_SH && dev - x->a < x->width)
			return (int)((x->b >> (8 * (dev - x->a))) & 0xff); /* little-endian, as shm() stores it */
		if (x->op == HX_EV_SHM && dev - x->a < x->len && x->data)
			return x->data[dev - x->a];
		if (x->op == HX_EV_PUB && dev - x->a < x->len)
			return -1;
	}
	return -1;
}

static int range_cmp(const void *a, const void *b)
{
	const struct rp_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The ranges where the trace's driver read what the device wrote. */
static void collect_device_reads(struct hx_replay *r)
{
	const struct hx_trace *t = r->t;
	size_t n = 0;
	r->devrd = malloc((t->nev ? t->nev : 1) * sizeof *r->devrd);
	if (!r->devrd)
		return; /* device_writes: lenient */
	for (size_t i = 0; i < t->nev; i++) {
		const struct hx_ev *e = &t->ev[i];
		uint64_t len = e->op == HX_EV_SH ? e->width : e->op == HX_EV_SHM ? e->len
		               : e->op == HX_EV_UNMAP && e->c != VLAB_DMA_TO_DEVICE ? e->b : 0;
		if (len && e->a != HX_TRACE_NONE && e->a + len > e->a)
			r->devrd[n++] = (struct rp_range){e->a, e->a + len};
	}
	qsort(r->devrd, n, sizeof *r->devrd, range_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && r->devrd[i].lo <= r->devrd[m - 1].hi) {
			if (r->devrd[i].hi > r->devrd[m - 1].hi)
				r->devrd[m - 1].hi = r->devrd[i].hi;
		} else {
			r->devrd[m++] = r->devrd[i];
		}
	}
	r->ndevrd = m;
}

/* The allocation holding device address dev, and its offset there. */
static struct rp_alloc *alloc_at(struct hx_replay *r, uint64_t dev, size_t *off)
{
	for (size_t i = 0; i < r->nal; i++)
		if (dev >= r->al[i].dev && dev - r->al[i].dev < r->al[i].size) {
			*off = (size_t)(dev - r->al[i].dev);
			return &r->al[i];
		}
	return NULL;
}

/*
 * A pub line (docs/trace-format.md, "Published memory in a QEMU trace"):
 * the recorded memory's bytes at a register write, where they changed
 * since the previous one.  Where our memory differs, the byte is the
 * device's (QEMU writes the used ring and received data at any time) and
 * is taken when the device wrote it since the last register write (devw),
 * or when the replayed driver left it alone and the trace shows the device
 * writing there, or when the device's next answer there (the trace's next
 * read of it) is the recorded byte: the device wrote over the driver's
 * change before the recorder looked (a packed-ring descriptor the device
 * used at once, its len set to 0 over the driver's, seen in CI on aarch64
 * pci net packed-ind); otherwise the replayed driver published something
 * else.
 * In an allocation without a shadow (nopub) every byte must match.  Bytes
 * outside our allocations (gaps the recorder merged) are skipped.
 */
static void pub_line(struct hx_replay *r, const struct hx_ev *e)
{
	size_t i = 0;
	while (i < e->len && !r->diverged) {
		size_t off;
		struct rp_alloc *a = alloc_at(r, e->a + i, &off);
		if (!a) {
			i++;
			continue;
		}
		size_t n = e->len - i < a->size - off ? e->len - i : a->size - off;
		uint8_t *mem = a->cpu + off, *sh = a->shadow ? a->shadow + off : NULL;
		const uint8_t *rec = e->data + i, *dw = a->devw ? a->devw + off : NULL;
		for (size_t j = memcmp(mem, rec, n) ? 0 : n; j < n; j++) {
			if (mem[j] == rec[j])
				continue;
			/* No shadow (nopub): a mapped buffer's bytes, all the driver's.
			 * A byte the device wrote since the last register write, or
			 * one the driver left alone where the trace shows the device
			 * writing (a read of it), is the device's. */
			const uint64_t at = e->a + i + j;
			const char *why = !sh || mem[j] != sh[j] ? "" : " (left as it was; the device never writes there)";
			if (!sh || (!dw[j] && (mem[j] != sh[j] || !device_writes(r, at)) &&
			            device_answers_next(r, e, at) != rec[j])) {
				diverge(r, e, "(published memory, at the register write after it)",
				        "published 0x%02x at 0x%" PRIx64 " (byte %zu of the line)%s, the trace has 0x%02x",
				        mem[j], at, i + j, why, rec[j]);
				return;
			}
			mem[j] = rec[j]; /* the device's write */
		}
		if (sh)
			memcpy(sh, rec, n);
		i += n;
	}
}

/* At a register write of a trace with pub lines: a byte the replayed driver
 * changed since the last register write that no pub line covered is one
 * the recorded driver left alone (a byte the device wrote since is not the
 * driver's change), unless the device writes there: QEMU completes requests
 * while the CPU runs, so it may have written the old value back over the
 * driver's change before the recorder compared (a status byte reset to
 * 0xff for its next request, seen as 0x00 again).  Then the shadow is the
 * memory. */
static bool pub_unrecorded(struct hx_replay *r, const struct hx_ev *want)
{
	for (size_t k = 0; k < r->nal; k++) {
		struct rp_alloc *a = &r->al[k];
		if (!a->shadow || !memcmp(a->cpu, a->shadow, a->size))
			continue;
		for (size_t i = 0; i < a->size; i++) {
			if (a->cpu[i] == a->shadow[i] || a->devw[i] || device_writes(r, a->dev + i))
				continue;
			diverge(r, want, "(published memory, at this register write)",
			        "published 0x%02x at 0x%" PRIx64
			        ", which the trace's driver left at 0x%02x (no pub line has it)",
			        a->cpu[i], a->dev + i, a->shadow[i]);
			return true;
		}
		memcpy(a->shadow, a->cpu, a->size);
		if (a->devw_any)
			memset(a->devw, 0, a->size);
		a->devw_any = false;
	}
	return false;
}

static const char *const call_names[HX_EV_COUNT] = {
	[HX_EV_R] = "mmio_read", [HX_EV_W] = "mmio_write", [HX_EV_PR] = "pio_read", [HX_EV_PW] = "pio_write",
	[HX_EV_ALLOC] = "dma_alloc", [HX_EV_FREE] = "dma_free", [HX_EV_MAP] = "dma_map", [HX_EV_SH] = "shm_read",
	[HX_EV_SHM] = "shm_read", [HX_EV_MB] = "mb", [HX_EV_RMB] = "rmb", [HX_EV_WMB] = "wmb",
	[HX_EV_NOW] = "now_ns", [HX_EV_DELAY] = "delay_ns", [HX_EV_RAND] = "random", [HX_EV_UNMAP] = "dma_unmap",
};

static bool same(const struct hx_ev *want, const struct hx_ev *did, bool inject)
{
	if (want->op != did->op || want->width != did->width)
		return false;
	switch ((enum hx_ev_op)did->op) {
	case HX_EV_R: case HX_EV_PR: case HX_EV_SH:
		return inject || want->a == did->a; /* inject: reads match by kind */
	case HX_EV_W: case HX_EV_PW: case HX_EV_ALLOC: case HX_EV_FREE:
		return want->a == did->a && want->b == did->b;
	case HX_EV_MAP: case HX_EV_UNMAP:
		return want->a == did->a && want->b == did->b && want->c == did->c;
	case HX_EV_SHM:
		return (inject || want->a == did->a) && want->len == did->len;
	case HX_EV_DELAY:
		return want->a == did->a;
	default:
		return true;
	}
}

static bool is_read(uint8_t op)
{
	return op == HX_EV_R || op == HX_EV_PR || op == HX_EV_SH || op == HX_EV_SHM || op == HX_EV_NOW ||
	       op == HX_EV_RAND;
}

/* The driver made call `did`: the trace's next event, or NULL (diverged). */
static const struct hx_ev *step(struct hx_replay *r, const struct hx_ev *did)
{
	char name[40];
	snprintf(name, sizeof name, "%s%s", call_names[did->op],
	         did->width && did->op != HX_EV_SHM ? (did->width == 1 ? "8" : did->width == 2 ? "16" : "32") : "");
	device_lines(r);
	if (r->diverged)
		return NULL;
	const struct hx_ev *want = r->cur < r->t->nev ? &r->t->ev[r->cur] : NULL;
	if (r->has_pub && (did->op == HX_EV_W || did->op == HX_EV_PW) && pub_unrecorded(r, want))
		return NULL;
	if (!want || !same(want, did, r->inject)) {
		char d[160];
		hx_ev_format(did, d, sizeof d);
		if (did->op == HX_EV_R || did->op == HX_EV_PR || did->op == HX_EV_SH) /* no value read yet */
			*strrchr(d, ' ') = '\0';
		diverge(r, want, name, "%s", d);
		return NULL;
	}
	r->cur++;
	if (is_read(did->op)) {
		r->last_read = want;
		if (want->a != did->a && !r->moved && did->op != HX_EV_NOW && did->op != HX_EV_RAND) {
			r->moved = want;
			r->moved_to = did->a;
		}
	}
	return want;
}

/* Calls that change device-visible state end with the device's answer. */
static void after_write(struct hx_replay *r)
{
	device_lines(r);
}

#define RP(r) struct hx_replay *r = ctx

static uint32_t reg_read(struct hx_replay *r, enum hx_ev_op op, unsigned w, uint64_t a)
{
	const uint32_t ones = w == 4 ? 0xffffffffu : (1u << (8 * w)) - 1;
	if (r->diverged)
		return ones;
	const struct hx_ev *e = step(r, &(struct hx_ev){.op = (uint8_t)op, .width = (uint8_t)w, .a = a});
	return e ? (uint32_t)e->b : ones;
}

static void reg_write(struct hx_replay *r, enum hx_ev_op op, unsigned w, uint64_t a, uint32_t v)
{
	if (r->diverged)
		return;
	if (step(r, &(struct hx_ev){.op = (uint8_t)op, .width = (uint8_t)w, .a = a, .b = v}))
		after_write(r);
}

static uint8_t p_read8(void *ctx, vlab_addr_t a) { return (uint8_t)reg_read(ctx, HX_EV_R, 1, a); }
static uint16_t p_read16(void *ctx, vlab_addr_t a) { return (uint16_t)reg_read(ctx, HX_EV_R, 2, a); }
static uint32_t p_read32(void *ctx, vlab_addr_t a) { return reg_read(ctx, HX_EV_R, 4, a); }
static void p_write8(void *ctx, vlab_addr_t a, uint8_t v) { reg_write(ctx, HX_EV_W, 1, a, v); }
static void p_write16(void *ctx, vlab_addr_t a, uint16_t v) { reg_write(ctx, HX_EV_W, 2, a, v); }
static void p_write32(void *ctx, vlab_addr_t a, uint32_t v) { reg_write(ctx, HX_EV_W, 4, a, v); }
static uint8_t p_pio_read8(void *ctx, uint32_t p) { return (uint8_t)reg_read(ctx, HX_EV_PR, 1, p); }
static uint16_t p_pio_read16(void *ctx, uint32_t p) { return (uint16_t)reg_read(ctx, HX_EV_PR, 2, p); }
static uint32_t p_pio_read32(void *ctx, uint32_t p) { return reg_read(ctx, HX_EV_PR, 4, p); }
static void p_pio_write8(void *ctx, uint32_t p, uint8_t v) { reg_write(ctx, HX_EV_PW, 1, p, v); }
static void p_pio_write16(void *ctx, uint32_t p, uint16_t v) { reg_write(ctx, HX_EV_PW, 2, p, v); }
static void p_pio_write32(void *ctx, uint32_t p, uint32_t v) { reg_write(ctx, HX_EV_PW, 4, p, v); }

/* Note that cpu holds device range [dev, dev+size); cpu on success. */
static uint8_t *add_mem(struct hx_replay *r, uint8_t *cpu, uint64_t dev, size_t size)
{
	if (r->nal == r->capal) {
		size_t cap = r->capal ? 2 * r->capal : 16;
		struct rp_alloc *n = realloc(r->al, cap * sizeof *n);
		if (!n)
			return NULL;
		r->al = n;
		r->capal = cap;
	}
	uint8_t *shadow = NULL, *devw = NULL;
	if (r->has_pub && (!(shadow = malloc(size)) || !(devw = calloc(1, size)))) {
		free(shadow);
		return NULL;
	}
	if (shadow)
		memcpy(shadow, cpu, size);
	r->al[r->nal++] = (struct rp_alloc){cpu, dev, size, shadow, devw, false};
	return cpu;
}

/* Zeroed memory of ours for device range [dev, dev+size). */
static uint8_t *new_mem(struct hx_replay *r, size_t size, size_t align, uint64_t dev)
{
	size_t al = align < sizeof(void *) ? sizeof(void *) : align;
	uint8_t *cpu = aligned_alloc(al, (size + al - 1) / al * al);
	if (!cpu)
		return NULL;
	memset(cpu, 0, size);
	if (!add_mem(r, cpu, dev, size)) {
		free(cpu);
		return NULL;
	}
	return cpu;
}

static void *p_dma_alloc(void *ctx, size_t size, size_t align, vlab_addr_t *dev)
{
	RP(r);
	if (r->diverged)
		return NULL;
	const struct hx_ev *e = step(r, &(struct hx_ev){.op = HX_EV_ALLOC, .a = size, .b = align});
	if (!e || e->c == HX_TRACE_NONE)
		return NULL;
	if (!r->m && (by_dev(r, e->c, 1) || by_dev(r, e->c + size - 1, 1))) {
		diverge(r, e, "dma_alloc", "an allocation over memory still allocated");
		return NULL;
	}
	uint8_t *cpu;
	if (r->m) {
		/* The machine's allocator, as in the recorded run: the same
		 * allocations in the same order land at the same addresses. */
		uint64_t d = HX_TRACE_NONE;
		cpu = hx_dma_alloc(r->m, size, align, &d);
		if (!cpu || d != e->c) {
			diverge(r, e, "dma_alloc", "the machine's allocator gave %s%" PRIx64, cpu ? "0x" : "none ", cpu ? d : 0);
			if (cpu)
				hx_dma_free(r->m, cpu, size);
			return NULL;
		}
		if (!add_mem(r, cpu, e->c, size)) {
			hx_dma_free(r->m, cpu, size);
			return NULL;
		}
	} else {
		cpu = new_mem(r, size, align, e->c);
	}
	if (cpu && dev)
		*dev = e->c;
	return cpu;
}

static void p_dma_free(void *ctx, void *cpu, size_t size)
{
	RP(r);
	uint64_t dev;
	struct rp_alloc *a = by_cpu(r, cpu, 0, &dev);
	if (a && (a->cpu != cpu || a == &r->ram))
		dev = HX_TRACE_NONE, a = NULL;
	if (!r->diverged)
		step(r, &(struct hx_ev){.op = HX_EV_FREE, .a = dev, .b = size});
	if (a) {
		if (r->m)
			hx_dma_free(r->m, a->cpu, a->size);
		else
			free(a->cpu);
		free(a->shadow);
		free(a->devw);
		*a = r->al[--r->nal];
	}
}

static int p_dma_map(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	RP(r);
	uint64_t d;
	by_cpu(r, cpu, len, &d);
	if (r->diverged || !step(r, &(struct hx_ev){.op = HX_EV_MAP, .a = d, .b = len, .c = (uint64_t)dir}) ||
	    d == HX_TRACE_NONE)
		return VLAB_EINVAL;
	if (dev)
		*dev = d;
	return VLAB_OK;
}

/* What the device wrote at dev (an unmap's or a shared-memory read's bytes):
 * into our memory, marked as the device's until the next register write. */
static void device_wrote(struct rp_alloc *a, uint64_t dev, const void *bytes, size_t len)
{
	memcpy(a->cpu + (dev - a->dev), bytes, len);
	if (a->devw) {
		memset(a->devw + (dev - a->dev), 1, len);
		a->devw_any = true;
	}
}

/* The buffer back to the CPU: what the device wrote there, from the trace. */
static void p_dma_unmap(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev)
{
	RP(r);
	uint64_t d;
	struct rp_alloc *a = by_cpu(r, cpu, len, &d);
	if (r->diverged)
		return;
	if (d != dev) {
		diverge(r, r->cur < r->t->nev ? &r->t->ev[r->cur] : NULL, "dma_unmap",
		        "unmap of 0x%" PRIx64 " that the pointer's device address 0x%" PRIx64 " contradicts", dev, d);
		return;
	}
	const struct hx_ev *e = step(r, &(struct hx_ev){.op = HX_EV_UNMAP, .a = d, .b = len, .c = (uint64_t)dir});
	if (e && a && e->len == len && len)
		device_wrote(a, d, e->data, len);
}

/* Inject mode: a shared-memory answer (ans, from the trace's line e) that
 * contradicts what the trace's dw lines had the device write there (mem)
 * is an edited value.  Only a trace with dw lines (the model's) can tell. */
static void note_edit(struct hx_replay *r, const struct hx_ev *e, const uint8_t *mem, const void *ans, size_t len)
{
	if (!r->inject || !r->has_dw || r->edited || r->diverged || !memcmp(mem, ans, len))
		return;
	char hex[2 * 16 + 4] = "";
	size_t n = len < 16 ? len : 16;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", mem[i]);
	if (len > n)
		strcat(hex, "...");
	if (len == 2 || len == 4) {
		uint32_t v = 0;
		memcpy(&v, mem, len);
		snprintf(hex, sizeof hex, "0x%" PRIx32, v);
	}
	r->edited = e;
	snprintf(r->edited_why, sizeof r->edited_why, "the device had written %s there", hex);
}

/* A read of device-writable memory: the trace's bytes, also kept in our
 * memory (they are what the device had written there). */
static bool shm(struct hx_replay *r, void *dst, const volatile void *src, size_t len, unsigned width)
{
	uint64_t d;
	struct rp_alloc *a = by_cpu(r, src, len, &d);
	const struct hx_ev *e = NULL;
	if (!r->diverged)
		e = step(r, &(struct hx_ev){.op = width ? HX_EV_SH : HX_EV_SHM, .width = (uint8_t)width, .a = d, .len = width ? 0 : len});
	if (!e) {
		memset(dst, 0xff, len);
		return false;
	}
	if (width == 2) {
		uint16_t v = (uint16_t)e->b;
		memcpy(dst, &v, 2);
	} else if (width == 4) {
		uint32_t v = (uint32_t)e->b;
		memcpy(dst, &v, 4);
	} else if (len) {
		memcpy(dst, e->data, len);
	}
	if (a)
		note_edit(r, e, a->cpu + (d - a->dev), dst, len);
	if (a)
		device_wrote(a, d, dst, len);
	return true;
}

static uint16_t p_shm_read16(void *ctx, const volatile void *p)
{
	uint16_t v;
	shm(ctx, &v, p, 2, 2);
	return v;
}

static uint32_t p_shm_read32(void *ctx, const volatile void *p)
{
	uint32_t v;
	shm(ctx, &v, p, 4, 4);
	return v;
}

static void p_shm_read(void *ctx, void *dst, const volatile void *src, size_t len)
{
	shm(ctx, dst, src, len, 0);
}

static void barrier(struct hx_replay *r, enum hx_ev_op op)
{
	if (!r->diverged)
		step(r, &(struct hx_ev){.op = (uint8_t)op});
}

static void p_mb(void *ctx) { barrier(ctx, HX_EV_MB); }
static void p_rmb(void *ctx) { barrier(ctx, HX_EV_RMB); }
static void p_wmb(void *ctx) { barrier(ctx, HX_EV_WMB); }

static uint64_t p_now(void *ctx)
{
	RP(r);
	const struct hx_ev *e = r->diverged ? NULL : step(r, &(struct hx_ev){.op = HX_EV_NOW});
	if (e) {
		r->dead_now = e->a;
		return e->a;
	}
	/* Gone: every read a second later, so bounded waits end. */
	r->dead_now += 1000000000ull;
	return r->dead_now;
}

static void p_delay(void *ctx, uint64_t ns)
{
	RP(r);
	if (!r->diverged && step(r, &(struct hx_ev){.op = HX_EV_DELAY, .a = ns}))
		after_write(r);
}

static uint64_t p_random(void *ctx)
{
	RP(r);
	const struct hx_ev *e = r->diverged ? NULL : step(r, &(struct hx_ev){.op = HX_EV_RAND});
	return e ? e->a : 0;
}

static void p_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	RP(r);
	snprintf(r->log[r->nlog % LOG_KEEP], LOG_LEN, "%s: %s", hx_log_level_name(level), msg ? msg : "");
	r->nlog++;
	tail_add(r, "log: ", r->log[(r->nlog - 1) % LOG_KEEP]);
	if (r->log_fn)
		r->log_fn(r->log_ctx, level, msg ? msg : "");
}

static const struct vlab_platform_ops replay_ops = {
	.mmio_read8 = p_read8,
	.mmio_read16 = p_read16,
	.mmio_read32 = p_read32,
	.mmio_write8 = p_write8,
	.mmio_write16 = p_write16,
	.mmio_write32 = p_write32,
	.pio_read8 = p_pio_read8,
	.pio_read16 = p_pio_read16,
	.pio_read32 = p_pio_read32,
	.pio_write8 = p_pio_write8,
	.pio_write16 = p_pio_write16,
	.pio_write32 = p_pio_write32,
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.dma_map = p_dma_map,
	.dma_unmap = p_dma_unmap,
	.shm_read16 = p_shm_read16,
	.shm_read32 = p_shm_read32,
	.shm_read = p_shm_read,
	.mb = p_mb,
	.rmb = p_rmb,
	.wmb = p_wmb,
	.now_ns = p_now,
	.delay_ns = p_delay,
	.log = p_log,
	.random = p_random,
};

struct hx_replay *hx_replay_new(const struct hx_trace *t,
                                void (*log_fn)(void *ctx, enum vlab_log_level, const char *), void *log_ctx)
{
	struct hx_replay *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->t = t;
	r->plat.ops = &replay_ops;
	r->plat.ctx = r;
	r->plat.flags = t->plat_flags; /* the recording platform's (trace_parse.c) */
	r->log_fn = log_fn;
	r->log_ctx = log_ctx;
	timespec_get(&r->started, TIME_UTC);
	for (size_t i = 0; i < t->nev && !r->has_pub; i++)
		r->has_pub = t->ev[i].op == HX_EV_PUB;
	if (r->has_pub)
		collect_device_reads(r);
	return r;
}

const struct vlab_platform *hx_replay_platform(struct hx_replay *r)
{
	return &r->plat;
}

/* "key=value" in a bind line, as a number; false when absent or bad. */
static bool bind_num(const char *line, const char *key, uint64_t *v, uint64_t *size)
{
	char pat[24];
	snprintf(pat, sizeof pat, " %s=", key);
	const char *s = strstr(line, pat);
	if (!s)
		return false;
	s += strlen(pat);
	char *end = NULL;
	unsigned long long x = strtoull(s, &end, 0);
	if (end == s)
		return false;
	*v = x;
	if (size) {
		if (*end != '+')
			return false;
		s = end + 1;
		x = strtoull(s, &end, 0);
		if (end == s)
			return false;
		*size = x;
	}
	return *end == ' ' || *end == '\0';
}

static bool bind_word(const char *line, const char *key, const char *word)
{
	char pat[40];
	snprintf(pat, sizeof pat, " %s=%s", key, word);
	const char *s = strstr(line, pat);
	return s && (s[strlen(pat)] == ' ' || s[strlen(pat)] == '\0');
}

struct find_fn {
	uint64_t bus, dev, fn;
	bool found;
};

static int find_fn(void *ctx, const struct vlab_pci_func *f)
{
	struct find_fn *w = ctx;
	w->found = f->bus == w->bus && f->dev == w->dev && f->fn == w->fn;
	return w->found;
}

int hx_replay_bind(struct hx_replay *r, struct hx_bound *b)
{
	const char *line = hx_trace_header(r->t, "bind");
	uint64_t base, flags, v, sz;
	memset(b, 0, sizeof *b);
	if (!line || !bind_num(line, "flags", &flags, NULL))
		return VLAB_EINVAL;
	if (!strncmp(line, "mmio ", 5) && bind_num(line, "base", &base, NULL)) {
		b->transport = HX_MMIO;
		int rc = vlab_mmio_probe(&b->mmio, &r->plat, base, (unsigned)flags);
		if (rc == 0)
			b->vdev = &b->mmio.vdev;
		return rc;
	}
	if (strncmp(line, "pci ", 4) != 0)
		return VLAB_EINVAL;
	struct vlab_pci_host *h = &r->pci_host;
	struct find_fn w = {0, 0, 0, false};
	memset(h, 0, sizeof *h);
	h->plat = &r->plat;
	h->cfg_ports = bind_word(line, "cfg", "ports");
	h->pio_mmio = bind_word(line, "pio", "mmio");
	if (!bind_num(line, "dev", &w.dev, NULL) || !bind_num(line, "fn", &w.fn, NULL) ||
	    !bind_num(line, "ecam", &h->ecam_base, NULL) || !bind_num(line, "buses", &v, NULL) ||
	    !bind_num(line, "mem", &h->mem_base, &h->mem_size) || !bind_num(line, "pio_base", &h->pio_mmio_base, NULL) ||
	    !bind_num(line, "ram", &h->ram_base, &h->ram_size))
		return VLAB_EINVAL;
	h->ecam_buses = (unsigned)(v > 256 ? 256 : v);
	/* bus=: a function behind a bridge (a QEMU image's trace); absent: bus 0. */
	if (strstr(line, " bus=") && (!bind_num(line, "bus", &w.bus, NULL) || w.bus >= (h->ecam_buses ? h->ecam_buses : 1u)))
		return VLAB_EINVAL;
	if (!bind_num(line, "io", &v, &sz))
		return VLAB_EINVAL;
	h->io_base = (uint32_t)v;
	h->io_size = (uint32_t)sz;
	b->transport = HX_PCI;
	/* Bridges first when the recorder configured them (hx_bind and the
	 * bare-metal images do), so bus= names the bus they numbered. */
	if (bind_word(line, "bridges", "scan"))
		(void)vlab_pci_scan(h);
	int rc = vlab_pci_enumerate(h, find_fn, &w);
	if (rc < 0)
		return rc;
	if (!w.found)
		return VLAB_ENODEV;
	rc = vlab_pci_probe(&b->pci, h, (uint8_t)w.bus, (uint8_t)w.dev, (uint8_t)w.fn, (unsigned)flags);
	if (rc == 0)
		b->vdev = &b->pci.vdev;
	return rc;
}

void hx_replay_attach(struct hx_replay *r, struct hx_machine *m)
{
	r->m = m;
	r->m_plat = m->plat;
	m->plat = r->plat;
	r->ram = (struct rp_alloc){.cpu = hx_ram_ptr(m, hx_ram_base(m), hx_ram_size(m)), .dev = hx_ram_base(m), .size = hx_ram_size(m)};
}

bool hx_replay_input(struct hx_replay *r, char *buf, size_t n)
{
	device_lines(r);
	if (r->diverged || r->cur >= r->t->nev || r->t->ev[r->cur].op != HX_EV_INPUT || !n)
		return false;
	const struct hx_ev *e = &r->t->ev[r->cur++];
	size_t k = e->len < n - 1 ? e->len : n - 1;
	if (k)
		memcpy(buf, e->data, k);
	buf[k] = '\0';
	tail_add(r, "input: ", buf);
	return true;
}

void *hx_replay_buffer(struct hx_replay *r, size_t size, size_t align, uint64_t dev)
{
	if (!size || dev == HX_TRACE_NONE || dev + size < dev || by_dev(r, dev, 1) || by_dev(r, dev + size - 1, 1))
		return NULL;
	return new_mem(r, size, align, dev);
}

void hx_replay_set_inject(struct hx_replay *r, bool on)
{
	r->inject = on;
	r->has_dw = false;
	for (size_t i = 0; i < r->t->nev && !r->has_dw; i++)
		r->has_dw = r->t->ev[i].op == HX_EV_DW;
}

void hx_replay_transcript(struct hx_replay *r, const char *line)
{
	tail_add(r, "T: ", line);
}

/* The inject mode's part of the report: the edited value, the divergence
 * (above it), and what the driver logged and the scenario said between. */
static void inject_report(struct hx_replay *r)
{
	size_t k = strlen(r->report);
	char ev[160];
#define ADD(...)                                                                                              \
	do {                                                                                                  \
		if (k < sizeof r->report)                                                                     \
			k += (size_t)snprintf(r->report + k, sizeof r->report - k, __VA_ARGS__);              \
	} while (0)
	ADD("replay --inject: %s\n", r->diverged ? "the driver's actions diverged (above)"
	                                          : "the driver's actions matched the trace to its end");
	if (r->edited) {
		hx_ev_format(r->edited, ev, sizeof ev);
		ADD("  the edited value the driver read: %s:%u: %s (%s)\n", r->t->name, r->edited->line, ev,
		    r->edited_why);
	} else {
		ADD("  the edited value the driver read: not found (only a shared-memory value that contradicts the "
		    "trace's dw lines can be told)\n");
	}
	if (r->last_read) {
		hx_ev_format(r->last_read, ev, sizeof ev);
		ADD("  the last value the driver read%s: %s:%u: %s\n", r->diverged ? " before it diverged" : "",
		    r->t->name, r->last_read->line, ev);
	}
	if (r->moved) {
		hx_ev_format(r->moved, ev, sizeof ev);
		ADD("  a read answered at another address first: %s:%u: %s, read at 0x%" PRIx64 "\n", r->t->name,
		    r->moved->line, ev, r->moved_to);
	}
	ADD("  what the driver logged and the scenario said from %s on:%s\n",
	    r->edited ? "the edited value" : "the divergence", r->ntail ? "" : " (nothing)");
	ADD("%s", r->tail);
#undef ADD
	if (k >= sizeof r->report)
		memcpy(r->report + sizeof r->report - 5, "...\n", 5);
}

bool hx_replay_finish(struct hx_replay *r)
{
	device_lines(r);
	if (!r->diverged && r->cur < r->t->nev)
		diverge(r, &r->t->ev[r->cur], "(none: the run ended)", "nothing more");
	if (r->inject)
		inject_report(r);
	if (getenv("VLAB_REPLAY_TIMING")) { /* scripts/bench-replay.sh: the run alone, parsing excluded */
		struct timespec now;
		timespec_get(&now, TIME_UTC);
		fprintf(stderr, "replay timing: %.0f us from hx_replay_new to hx_replay_finish\n",
		        (double)(now.tv_sec - r->started.tv_sec) * 1e6 + (double)(now.tv_nsec - r->started.tv_nsec) / 1e3);
	}
	return !r->diverged;
}

const char *hx_replay_report(const struct hx_replay *r)
{
	return r->report;
}

void hx_replay_free(struct hx_replay *r)
{
	if (!r)
		return;
	if (r->m)
		r->m->plat = r->m_plat; /* the allocations stay in its RAM, freed with it */
	for (size_t i = 0; i < r->nal; i++) {
		if (!r->m)
			free(r->al[i].cpu);
		free(r->al[i].shadow);
		free(r->al[i].devw);
	}
	free(r->al);
	free(r->devrd);
	free(r);
}
