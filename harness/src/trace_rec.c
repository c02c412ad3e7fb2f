/* SPDX-License-Identifier: MIT */
/*
 * The trace recorder: a platform that wraps a machine's own, writes one
 * line per call (docs/trace-format.md) and passes the call on.  It also
 * wraps the machine's device-model environment, so that what the device
 * reads from guest memory (what the driver published: descriptors, avail
 * ring, request headers, transmitted frames) and what it writes there are
 * events too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"
#include "harness/pci_host.h"
#include "trace_internal.h"
#include "vlab/blk.h"
#include "vlab/net.h"

#ifndef VLAB_DRIVER_VERSION
#define VLAB_DRIVER_VERSION "unknown"
#endif

struct rec_alloc {
	const uint8_t *cpu;
	uint64_t dev;
	size_t size;
};

struct hx_trace_rec {
	struct hx_machine *m;       /* NULL: a bare platform (hx_trace_record_platform) */
	struct vlab_platform *plat; /* the bare platform, and its clock */
	uint64_t (*now)(void *ctx);
	void *now_ctx;
	FILE *f;
	struct vlab_platform inner; /* the machine's platform before us */
	struct dm_env env;          /* the machine's environment before us */
	struct rec_alloc *al;
	size_t nal, capal;
	uint64_t count;
	long start;      /* the file's offset before the header; -1: not seekable */
	bool err;
	const char *why; /* the first reason the trace cannot be replayed, when not a write error */
};

_Static_assert(HX_TRACE_MAX_PAYLOAD == 128u << 20 && HX_TRACE_MAX_FILE == 512u << 20, "the messages below name them");

/* The trace will not be replayable: keep the first reason. */
static void unreplayable(struct hx_trace_rec *r, const char *why)
{
	r->err = true;
	if (!r->why)
		r->why = why;
}

/* ---- output ---- */

static void line_start(struct hx_trace_rec *r)
{
	r->count++;
	if (fprintf(r->f, "%" PRIu64 " ", r->m ? hx_now(r->m) : r->now(r->now_ctx)) < 0)
		r->err = true;
}

static void emit(struct hx_trace_rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct hx_trace_rec *r, const char *fmt, ...)
{
	va_list ap;
	line_start(r);
	va_start(ap, fmt);
	if (vfprintf(r->f, fmt, ap) < 0)
		r->err = true;
	va_end(ap);
	if (fputc('\n', r->f) == EOF)
		r->err = true;
}

/* "OP 0xDEV LEN[ tail] HEX" */
static void emit_bytes(struct hx_trace_rec *r, const char *op, uint64_t dev, const char *tail, const void *buf,
                       size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = buf;
	if (len > HX_TRACE_MAX_PAYLOAD) {
		/* Replay would refuse the line: say so, and spare the file. */
		unreplayable(r, "an event with more than 128 MiB of bytes (a DMA mapping that large): more than a trace line carries");
		len = 0;
	}
	line_start(r);
	if (fprintf(r->f, "%s 0x%" PRIx64 " %zu %s%s", op, dev, len, tail, *tail ? " " : "") < 0)
		r->err = true;
	if (!len && fputc('-', r->f) == EOF)
		r->err = true;
	for (size_t i = 0; i < len; i++) {
		if (fputc(hex[b[i] >> 4], r->f) == EOF || fputc(hex[b[i] & 15], r->f) == EOF) {
			r->err = true;
			break;
		}
	}
	if (fputc('\n', r->f) == EOF)
		r->err = true;
}

/* ---- CPU pointer -> device address, by the allocations seen ---- */

static bool dev_of(const struct hx_trace_rec *r, const volatile void *p, size_t len, uint64_t *dev)
{
	const uint8_t *c = (const uint8_t *)(uintptr_t)p;
	for (size_t i = 0; i < r->nal; i++) {
		const struct rec_alloc *a = &r->al[i];
		if (c >= a->cpu && (size_t)(c - a->cpu) <= a->size && len <= a->size - (size_t)(c - a->cpu)) {
			*dev = a->dev + (uint64_t)(c - a->cpu);
			return true;
		}
	}
	return false;
}

/* ---- registers ---- */

#define REC(r) struct hx_trace_rec *r = ctx

static uint32_t rec_read(struct hx_trace_rec *r, const char *op, unsigned w, uint64_t a, uint32_t v)
{
	emit(r, "%s%u 0x%" PRIx64 " 0x%" PRIx32, op, w, a, v);
	return v;
}

static uint8_t r_read8(void *ctx, vlab_addr_t a) { REC(r); return (uint8_t)rec_read(r, "r", 1, a, r->inner.ops->mmio_read8(r->inner.ctx, a)); }
static uint16_t r_read16(void *ctx, vlab_addr_t a) { REC(r); return (uint16_t)rec_read(r, "r", 2, a, r->inner.ops->mmio_read16(r->inner.ctx, a)); }
static uint32_t r_read32(void *ctx, vlab_addr_t a) { REC(r); return rec_read(r, "r", 4, a, r->inner.ops->mmio_read32(r->inner.ctx, a)); }
static void r_write8(void *ctx, vlab_addr_t a, uint8_t v) { REC(r); emit(r, "w1 0x%" PRIx64 " 0x%x", a, v); r->inner.ops->mmio_write8(r->inner.ctx, a, v); }
static void r_write16(void *ctx, vlab_addr_t a, uint16_t v) { REC(r); emit(r, "w2 0x%" PRIx64 " 0x%x", a, v); r->inner.ops->mmio_write16(r->inner.ctx, a, v); }
static void r_write32(void *ctx, vlab_addr_t a, uint32_t v) { REC(r); emit(r, "w4 0x%" PRIx64 " 0x%" PRIx32, a, v); r->inner.ops->mmio_write32(r->inner.ctx, a, v); }

/* Port I/O: the inner platform may have none (all-ones, as vlab/pci.h's wrappers). */
static uint32_t pio_in(struct hx_trace_rec *r, unsigned w, uint32_t port)
{
	const struct vlab_platform_ops *o = r->inner.ops;
	uint32_t v;
	if (w == 1)
		v = o->pio_read8 ? o->pio_read8(r->inner.ctx, port) : 0xffu;
	else if (w == 2)
		v = o->pio_read16 ? o->pio_read16(r->inner.ctx, port) : 0xffffu;
	else
		v = o->pio_read32 ? o->pio_read32(r->inner.ctx, port) : 0xffffffffu;
	return rec_read(r, "pr", w, port, v);
}

static void pio_out(struct hx_trace_rec *r, unsigned w, uint32_t port, uint32_t v)
{
	const struct vlab_platform_ops *o = r->inner.ops;
	emit(r, "pw%u 0x%" PRIx32 " 0x%" PRIx32, w, port, v);
	if (w == 1 && o->pio_write8)
		o->pio_write8(r->inner.ctx, port, (uint8_t)v);
	else if (w == 2 && o->pio_write16)
		o->pio_write16(r->inner.ctx, port, (uint16_t)v);
	else if (w == 4 && o->pio_write32)
		o->pio_write32(r->inner.ctx, port, v);
}

static uint8_t r_pio_read8(void *ctx, uint32_t p) { return (uint8_t)pio_in(ctx, 1, p); }
static uint16_t r_pio_read16(void *ctx, uint32_t p) { return (uint16_t)pio_in(ctx, 2, p); }
static uint32_t r_pio_read32(void *ctx, uint32_t p) { return pio_in(ctx, 4, p); }
static void r_pio_write8(void *ctx, uint32_t p, uint8_t v) { pio_out(ctx, 1, p, v); }
static void r_pio_write16(void *ctx, uint32_t p, uint16_t v) { pio_out(ctx, 2, p, v); }
static void r_pio_write32(void *ctx, uint32_t p, uint32_t v) { pio_out(ctx, 4, p, v); }

/* ---- DMA memory ---- */

static void *r_dma_alloc(void *ctx, size_t size, size_t align, vlab_addr_t *dev)
{
	REC(r);
	vlab_addr_t d = 0;
	void *cpu = r->inner.ops->dma_alloc(r->inner.ctx, size, align, &d);
	if (cpu && r->nal == r->capal) {
		size_t cap = r->capal ? 2 * r->capal : 16;
		struct rec_alloc *n = realloc(r->al, cap * sizeof *n);
		if (!n) {
			r->inner.ops->dma_free(r->inner.ctx, cpu, size);
			cpu = NULL;
		} else {
			r->al = n;
			r->capal = cap;
		}
	}
	if (!cpu) {
		emit(r, "alloc %zu %zu none", size, align);
		return NULL;
	}
	r->al[r->nal++] = (struct rec_alloc){cpu, d, size};
	emit(r, "alloc %zu %zu 0x%" PRIx64, size, align, d);
	if (dev)
		*dev = d;
	return cpu;
}

static void r_dma_free(void *ctx, void *cpu, size_t size)
{
	REC(r);
	uint64_t d = HX_TRACE_NONE;
	for (size_t i = 0; i < r->nal; i++) {
		if (r->al[i].cpu == cpu) {
			d = r->al[i].dev;
			r->al[i] = r->al[--r->nal];
			break;
		}
	}
	if (d == HX_TRACE_NONE)
		emit(r, "free none %zu", size);
	else
		emit(r, "free 0x%" PRIx64 " %zu", d, size);
	r->inner.ops->dma_free(r->inner.ctx, cpu, size);
}

static const char *dir_name(enum vlab_dma_dir dir)
{
	return dir == VLAB_DMA_TO_DEVICE ? "to" : dir == VLAB_DMA_FROM_DEVICE ? "from" : "both";
}

static int r_dma_map(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	REC(r);
	vlab_addr_t d = 0;
	int rc = r->inner.ops->dma_map(r->inner.ctx, cpu, len, dir, &d);
	if (rc) {
		emit(r, "map none %zu %s", len, dir_name(dir));
		return rc;
	}
	emit(r, "map 0x%" PRIx64 " %zu %s", d, len, dir_name(dir));
	if (dev)
		*dev = d;
	return rc;
}

/* The buffer is the CPU's again: what the device wrote there is in the
 * trace (TO_DEVICE buffers: the device wrote nothing). */
static void r_dma_unmap(void *ctx, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t dev)
{
	REC(r);
	if (r->inner.ops->dma_unmap)
		r->inner.ops->dma_unmap(r->inner.ctx, cpu, len, dir, dev);
	if (dir == VLAB_DMA_TO_DEVICE)
		emit(r, "unmap 0x%" PRIx64 " %zu to -", dev, len);
	else
		emit_bytes(r, "unmap", dev, dir_name(dir), cpu, len);
}

/* ---- device-writable memory ---- */

static uint64_t shm_dev(struct hx_trace_rec *r, const volatile void *p, size_t len)
{
	uint64_t d = HX_TRACE_NONE;
	if (!dev_of(r, p, len, &d))
		unreplayable(r, "the driver read shared memory that no allocation covers: the trace cannot say where");
	return d;
}

static uint16_t r_shm_read16(void *ctx, const volatile void *p)
{
	REC(r);
	uint16_t v = r->inner.ops->shm_read16(r->inner.ctx, p);
	emit(r, "sh2 0x%" PRIx64 " 0x%x", shm_dev(r, p, 2), v);
	return v;
}

static uint32_t r_shm_read32(void *ctx, const volatile void *p)
{
	REC(r);
	uint32_t v = r->inner.ops->shm_read32(r->inner.ctx, p);
	emit(r, "sh4 0x%" PRIx64 " 0x%" PRIx32, shm_dev(r, p, 4), v);
	return v;
}

static void r_shm_read(void *ctx, void *dst, const volatile void *src, size_t len)
{
	REC(r);
	r->inner.ops->shm_read(r->inner.ctx, dst, src, len);
	emit_bytes(r, "shm", shm_dev(r, src, len), "", dst, len);
}

/* ---- barriers, time, randomness, log ---- */

static void r_mb(void *ctx) { REC(r); emit(r, "mb"); r->inner.ops->mb(r->inner.ctx); }
static void r_rmb(void *ctx) { REC(r); emit(r, "rmb"); r->inner.ops->rmb(r->inner.ctx); }
static void r_wmb(void *ctx) { REC(r); emit(r, "wmb"); r->inner.ops->wmb(r->inner.ctx); }

static uint64_t r_now(void *ctx)
{
	REC(r);
	uint64_t v = r->inner.ops->now_ns(r->inner.ctx);
	emit(r, "now %" PRIu64, v);
	return v;
}

static void r_delay(void *ctx, uint64_t ns)
{
	REC(r);
	emit(r, "delay %" PRIu64, ns);
	r->inner.ops->delay_ns(r->inner.ctx, ns);
}

static uint64_t r_random(void *ctx)
{
	REC(r);
	uint64_t v = r->inner.ops->random ? r->inner.ops->random(r->inner.ctx) : 0;
	emit(r, "rand 0x%" PRIx64, v);
	return v;
}

static void r_log(void *ctx, enum vlab_log_level level, const char *msg)
{
	REC(r);
	/* A comment: one line, whatever the message holds. */
	if (fprintf(r->f, "# %s: ", hx_log_level_name(level)) < 0)
		r->err = true;
	for (const char *c = msg ? msg : ""; *c; c++)
		if (fputc(*c == '\n' || *c == '\r' ? ' ' : *c, r->f) == EOF)
			r->err = true;
	if (fputc('\n', r->f) == EOF)
		r->err = true;
	if (r->inner.ops->log)
		r->inner.ops->log(r->inner.ctx, level, msg);
}

static const struct vlab_platform_ops rec_ops = {
	.mmio_read8 = r_read8,
	.mmio_read16 = r_read16,
	.mmio_read32 = r_read32,
	.mmio_write8 = r_write8,
	.mmio_write16 = r_write16,
	.mmio_write32 = r_write32,
	.pio_read8 = r_pio_read8,
	.pio_read16 = r_pio_read16,
	.pio_read32 = r_pio_read32,
	.pio_write8 = r_pio_write8,
	.pio_write16 = r_pio_write16,
	.pio_write32 = r_pio_write32,
	.dma_alloc = r_dma_alloc,
	.dma_free = r_dma_free,
	.dma_map = r_dma_map,
	.dma_unmap = r_dma_unmap,
	.shm_read16 = r_shm_read16,
	.shm_read32 = r_shm_read32,
	.shm_read = r_shm_read,
	.mb = r_mb,
	.rmb = r_rmb,
	.wmb = r_wmb,
	.now_ns = r_now,
	.delay_ns = r_delay,
	.log = r_log,
	.random = r_random,
};

/* ---- the device model's side: guest memory as the device touches it ---- */

static bool e_mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	REC(r);
	bool ok = r->env.mem_read(r->env.ctx, addr, buf, len);
	if (ok && len)
		emit_bytes(r, "dr", addr, "", buf, len);
	return ok;
}

static bool e_mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	REC(r);
	bool ok = r->env.mem_write(r->env.ctx, addr, buf, len);
	if (ok && len)
		emit_bytes(r, "dw", addr, "", buf, len);
	return ok;
}

static uint64_t e_now(void *ctx)
{
	REC(r);
	return r->env.now_ns(r->env.ctx);
}

static void e_schedule(void *ctx, void (*fn)(void *arg), void *arg, const char *kind)
{
	REC(r);
	r->env.schedule(r->env.ctx, fn, arg, kind);
}

static void e_schedule_at(void *ctx, void (*fn)(void *arg), void *arg, uint64_t delay_ns)
{
	REC(r);
	r->env.schedule_at(r->env.ctx, fn, arg, delay_ns);
}

static void e_irq(void *ctx, unsigned line, bool level)
{
	REC(r);
	r->env.irq(r->env.ctx, line, level);
}

/* ---- start and stop ---- */

/* A recorder that wrote the header; NULL on a write error or no memory. */
static struct hx_trace_rec *rec_new(FILE *f, const char *const *header, size_t n, uint32_t plat_flags)
{
	struct hx_trace_rec *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->f = f;
	r->start = ftell(f);
	if (fprintf(f, "vlab-trace %d\n", HX_TRACE_VERSION) < 0)
		r->err = true;
	for (size_t i = 0; i < n; i++)
		if (fprintf(f, "%s\n", header[i]) < 0)
			r->err = true;
	if (fprintf(f,
	            "driver version=%s blk_max_inflight=%u blk_max_segs=%u net_rx_bufs=%u net_tx_slots=%u dma=%s\n"
	            "events\n",
	            VLAB_DRIVER_VERSION, (unsigned)VLAB_BLK_MAX_INFLIGHT, (unsigned)VLAB_BLK_MAX_SEGS,
	            (unsigned)VLAB_NET_RX_BUFS, (unsigned)VLAB_NET_TX_SLOTS,
	            plat_flags & VLAB_PLAT_DMA_ALL_MEMORY ? "all" : "mapped") < 0)
		r->err = true;
	if (r->err) {
		free(r);
		return NULL;
	}
	return r;
}

struct hx_trace_rec *hx_trace_record_start(struct hx_machine *m, FILE *f, const char *const *header, size_t n)
{
	struct hx_trace_rec *r = rec_new(f, header, n, m->plat.flags);
	if (!r)
		return NULL;
	r->m = m;
	r->inner = m->plat;
	m->plat.ops = &rec_ops;
	m->plat.ctx = r;
	r->env = m->env;
	m->env.ctx = r;
	m->env.mem_read = e_mem_read;
	m->env.mem_write = e_mem_write;
	m->env.now_ns = e_now;
	m->env.schedule = e_schedule;
	m->env.schedule_at = e_schedule_at;
	m->env.irq = e_irq;
	return r;
}

struct hx_trace_rec *hx_trace_record_platform(struct vlab_platform *p, uint64_t (*now)(void *ctx), void *now_ctx,
                                              FILE *f, const char *const *header, size_t n)
{
	struct hx_trace_rec *r = rec_new(f, header, n, p->flags);
	if (!r)
		return NULL;
	r->plat = p;
	r->now = now;
	r->now_ctx = now_ctx;
	r->inner = *p;
	p->ops = &rec_ops;
	p->ctx = r;
	return r;
}

int hx_trace_record_stop(struct hx_trace_rec *r, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!r)
		return -1;
	if (r->m) {
		r->m->plat = r->inner;
		r->m->env = r->env;
	} else {
		*r->plat = r->inner;
	}
	int write_errno = 0;
	if (fprintf(r->f, "end %" PRIu64 "\n", r->count) < 0 || fflush(r->f) != 0 || ferror(r->f)) {
		write_errno = errno;
		r->err = true;
	}
	/* What replay would refuse to load (a pipe cannot be measured: its
	 * reader finds out). */
	long end = r->start >= 0 ? ftell(r->f) : -1;
	if (end >= 0 && (uint64_t)(end - r->start) > HX_TRACE_MAX_FILE)
		unreplayable(r, "the trace is larger than 512 MiB, the most replay reads");
	if (r->err && why && whylen)
		snprintf(why, whylen, "%s", r->why ? r->why : write_errno ? strerror(write_errno) : "write failed");
	int rc = r->err ? -1 : 0;
	free(r->al);
	free(r);
	return rc;
}

void hx_trace_record_input(struct hx_trace_rec *r, const char *line)
{
	line_start(r);
	if (fputs("input ", r->f) == EOF)
		r->err = true;
	for (const unsigned char *c = (const unsigned char *)line; *c; c++) {
		int k = *c == '\\' ? fputs("\\\\", r->f)
		        : *c < 0x20 || *c >= 0x7f ? fprintf(r->f, "\\x%02x", *c)
		                                  : fputc(*c, r->f);
		if (k < 0)
			r->err = true;
	}
	if (fputc('\n', r->f) == EOF)
		r->err = true;
}

void hx_trace_producer_line(const struct hx_machine_cfg *c, char *buf, size_t n)
{
	static const char *const pol[] = {"immediate", "deferred", "batched"};
	snprintf(buf, n, "producer model seed=%" PRIu64 " policy=%s max_delay_ns=%" PRIu64, c->seed,
	         (unsigned)c->policy < 3 ? pol[c->policy] : "?", c->max_delay_ns);
}

int hx_trace_bind_line(struct hx_machine *m, const struct hx_dev *d, unsigned flags, char *buf, size_t n)
{
	if (!hx_transport_is_pci(d->transport)) {
		snprintf(buf, n, "bind mmio base=0x%" PRIx64 " flags=0x%x", d->base, flags);
		return 0;
	}
	const struct vlab_pci_host *h = hx_pci_firmware(m);
	if (!h || h->n_placed || h->mem_used || h->io_used)
		return -1; /* BARs placed before the run: the trace could not say where */
	snprintf(buf, n,
	         "bind pci dev=%u fn=%u flags=0x%x cfg=%s ecam=0x%" PRIx64 " buses=%u mem=0x%" PRIx64 "+0x%" PRIx64
	         " io=0x%" PRIx32 "+0x%" PRIx32 " pio=%s pio_base=0x%" PRIx64 " ram=0x%" PRIx64 "+0x%" PRIx64
	         " bridges=scan", /* hx_bind runs vlab_pci_scan first */
	         d->pci_dev, d->pci_fn, flags, h->cfg_ports ? "ports" : "ecam", h->ecam_base, h->ecam_buses,
	         h->mem_base, h->mem_size, h->io_base, h->io_size, h->pio_mmio ? "mmio" : "ports",
	         h->pio_mmio_base, h->ram_base, h->ram_size);
	return 0;
}
