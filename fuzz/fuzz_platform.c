/* SPDX-License-Identifier: MIT */
/*
 * The platform contract answered from fuzz input; see fuzz_platform.h.
 *
 * The device side aborts on anything the driver must never do (a ring entry
 * naming no descriptor, a chain that loops, a buffer outside DMA memory, a
 * readable descriptor after a writable one): those are driver bugs, and an
 * abort is how libFuzzer reports them.  Anything the device does is fair.
 */
#include "fuzz_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlab/blk.h"
#include "vlab/mmio.h"
#include "vlab/virtqueue.h"

#define FZ_ABORT(...)                                                   \
	do {                                                                \
		fprintf(stderr, "fuzz: driver bug: " __VA_ARGS__);             \
		fputc('\n', stderr);                                            \
		abort();                                                        \
	} while (0)

static struct fz *of(void *ctx)
{
	return (struct fz *)ctx;
}

/* ---- Input streams ---- */

bool fz_exhausted(const struct fz *f)
{
	return f->head >= f->tail;
}

uint8_t fz_ctl8(struct fz *f)
{
	if (f->head >= f->tail)
		return 0;
	return f->data[f->head++];
}

uint16_t fz_ctl16(struct fz *f)
{
	uint16_t lo = fz_ctl8(f);
	return (uint16_t)(lo | (uint16_t)fz_ctl8(f) << 8);
}

uint64_t fz_pay(struct fz *f, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n && i < 8; i++) {
		if (f->tail <= f->head)
			break;
		v |= (uint64_t)f->data[--f->tail] << (8 * i);
	}
	return v;
}

bool fz_lie(struct fz *f)
{
	if (f->lie_shift >= 8)
		return false;
	return fz_ctl8(f) >= (uint8_t)(0xff - (0xffu >> f->lie_shift));
}

/* ---- DMA memory ---- */

void *fz_alloc(struct fz *f, size_t n, size_t align, vlab_addr_t *dev)
{
	size_t off;

	if (align == 0 || (align & (align - 1)) != 0)
		return NULL;
	off = (f->arena_used + align - 1) & ~(align - 1);
	if (off > FZ_ARENA || n > FZ_ARENA - off)
		return NULL;
	f->arena_used = off + n;
	memset(f->arena + off, 0, n);
	*dev = FZ_DMA_BASE + off;
	return f->arena + off;
}

/* Host pointer of device range [addr, addr+len) in the arena, or NULL. */
static uint8_t *dma_ptr(struct fz *f, uint64_t addr, uint64_t len)
{
	if (addr < FZ_DMA_BASE)
		return NULL;
	addr -= FZ_DMA_BASE;
	if (addr > f->arena_used || len > f->arena_used - addr)
		return NULL;
	return f->arena + addr;
}

static bool in_arena(struct fz *f, const volatile void *p, size_t n)
{
	const uint8_t *b = (const uint8_t *)(uintptr_t)p;
	return b >= f->arena && (size_t)(b - f->arena) <= FZ_ARENA && n <= FZ_ARENA - (size_t)(b - f->arena);
}

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v) { st16(p, (uint16_t)v); st16(p + 2, (uint16_t)(v >> 16)); }

/* ---- The honest blk device, and its lies ---- */

struct seg {
	uint8_t *p;
	uint32_t len;
	bool w;
};

#define FZ_CHAIN_MAX 256

/* Carry out one blk request; returns the used length. */
static uint32_t blk_request(struct fz *f, struct seg *s, unsigned n)
{
	uint8_t hdr[16];
	uint32_t got = 0, wtotal = 0, rdata = 0, written = 0;
	uint8_t status = VIRTIO_BLK_S_OK;
	unsigned i;

	for (i = 0; i < n; i++)
		if (s[i].w)
			wtotal += s[i].len;
	if (wtotal == 0)
		return 0;
	/* The header: the first 16 readable bytes. */
	for (i = 0; i < n && got < 16 && !s[i].w; i++) {
		uint32_t k = s[i].len < 16 - got ? s[i].len : 16 - got;
		memcpy(hdr + got, s[i].p, k);
		got += k;
	}
	if (got < 16) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		uint32_t type = ld32(hdr);
		uint64_t sector = ld64(hdr + 8);
		uint64_t pos = sector * 512u;
		uint32_t data_len = wtotal - 1;
		for (i = 0; i < n; i++)
			if (!s[i].w)
				rdata += s[i].len;
		rdata -= 16;
		if (type == VIRTIO_BLK_T_IN) {
			if (sector > FZ_DISK_SECTORS || data_len > (FZ_DISK_SECTORS - sector) * 512u) {
				status = VIRTIO_BLK_S_IOERR;
			} else {
				for (i = 0; i < n && written < data_len; i++) {
					if (!s[i].w)
						continue;
					uint32_t k = s[i].len < data_len - written ? s[i].len : data_len - written;
					memcpy(s[i].p, f->disk + pos + written, k);
					written += k;
				}
			}
		} else if (type == VIRTIO_BLK_T_OUT) {
			if (sector > FZ_DISK_SECTORS || rdata > (FZ_DISK_SECTORS - sector) * 512u) {
				status = VIRTIO_BLK_S_IOERR;
			} else {
				uint32_t skip = 16, done = 0;
				for (i = 0; i < n; i++) {
					if (s[i].w)
						continue;
					uint32_t from = skip < s[i].len ? skip : s[i].len;
					skip -= from;
					memcpy(f->disk + pos + done, s[i].p + from, s[i].len - from);
					done += s[i].len - from;
				}
			}
		} else if (type == VIRTIO_BLK_T_GET_ID) {
			static const char id[] = "fuzz-blk";
			for (i = 0; i < n && written < data_len; i++) {
				if (!s[i].w)
					continue;
				uint32_t k = s[i].len < data_len - written ? s[i].len : data_len - written;
				for (uint32_t j = 0; j < k; j++)
					s[i].p[j] = written + j < sizeof id ? (uint8_t)id[written + j] : 0;
				written += k;
			}
		} else if (type != VIRTIO_BLK_T_FLUSH) {
			status = VIRTIO_BLK_S_UNSUPP;
		}
	}
	/* The status byte: the last writable byte. */
	for (i = n; i-- > 0;)
		if (s[i].w && s[i].len) {
			s[i].p[s[i].len - 1] = status;
			break;
		}
	return written + 1;
}

void fz_device_work(struct fz *f, const struct vlab_vq_layout *l)
{
	uint32_t size = l->size;
	uint8_t *desc, *avail, *used;
	uint16_t aidx;

	if (size == 0 || size > 32768)
		FZ_ABORT("queue size %u", size);
	desc = dma_ptr(f, l->desc, 16ull * size);
	avail = dma_ptr(f, l->avail, 6ull + 2ull * size);
	used = dma_ptr(f, l->used, 6ull + 8ull * size);
	if (!desc || !avail || !used)
		FZ_ABORT("ring outside DMA memory");
	aidx = ld16(avail + 2);
	if ((uint16_t)(aidx - f->last_avail) > size)
		FZ_ABORT("avail.idx moved by %u on a ring of %u", (uint16_t)(aidx - f->last_avail), size);

	while (f->last_avail != aidx) {
		struct seg s[FZ_CHAIN_MAX];
		unsigned n = 0;
		uint32_t wlen = 0, len, id;
		uint16_t head = ld16(avail + 4 + 2 * (f->last_avail % size)), i = head;
		bool seen_w = false;
		uint8_t c;

		f->last_avail++;
		if (head >= size)
			FZ_ABORT("avail entry names descriptor %u of %u", head, size);
		for (;;) {
			const uint8_t *d = desc + 16u * i;
			uint16_t flags = ld16(d + 12);
			uint32_t dl = ld32(d + 8);
			if (n == FZ_CHAIN_MAX || n == size)
				FZ_ABORT("chain from %u loops", head);
			s[n].p = dma_ptr(f, ld64(d), dl);
			if (!s[n].p && dl)
				FZ_ABORT("buffer 0x%llx+%u outside DMA memory", (unsigned long long)ld64(d), dl);
			s[n].len = dl;
			s[n].w = (flags & VIRTQ_DESC_F_WRITE) != 0;
			if (!s[n].w && seen_w)
				FZ_ABORT("readable descriptor after a writable one");
			seen_w |= s[n].w;
			if (s[n].w)
				wlen += dl;
			n++;
			if (!(flags & VIRTQ_DESC_F_NEXT))
				break;
			i = ld16(d + 14);
			if (i >= size)
				FZ_ABORT("next %u of %u", i, size);
		}
		len = f->blk_engine ? blk_request(f, s, n) : wlen;
		id = head;
		/* The lies: control byte values near 0xff (0 is honest). */
		c = fz_ctl8(f);
		if (c == 0xff)
			continue; /* never completes */
		if (c == 0xfe)
			id = (uint32_t)fz_pay(f, 4);
		if (c == 0xfd)
			len = (uint32_t)fz_pay(f, 4);
		if (c == 0xfc && n && s[n - 1].w && s[n - 1].len)
			s[n - 1].p[s[n - 1].len - 1] = (uint8_t)fz_pay(f, 1);
		for (int k = 0; k < (c == 0xfb ? 2 : 1); k++) {
			uint8_t *e = used + 4 + 8u * (f->used_idx % size);
			st32(e, id);
			st32(e + 4, len);
			f->used_idx++;
		}
		if (c == 0xfa)
			f->used_idx = (uint16_t)(f->used_idx + fz_pay(f, 2));
		st16(used + 2, f->used_idx);
		f->completions++;
	}
	f->isr |= VIRTIO_ISR_QUEUE;
}

/* ---- virtio-mmio registers ---- */

static void dev_reset(struct fz *f)
{
	f->status = 0;
	f->qready = 0;
	f->qnum = 0;
	f->isr = 0;
	f->last_avail = 0;
	f->used_idx = 0;
	f->qdesc = f->qavail = f->qused = 0;
}

static uint32_t honest_read(struct fz *f, uint64_t off, unsigned width)
{
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		uint32_t v = 0;
		for (unsigned i = 0; i < width; i++)
			if (c + i < FZ_CONFIG_BYTES)
				v |= (uint32_t)f->config[c + i] << (8 * i);
		return v;
	}
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return f->version;
	case VIRTIO_MMIO_DEVICE_ID: return f->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551u;
	case VIRTIO_MMIO_DEVICE_FEATURES: return (uint32_t)(f->features >> (f->dfsel ? 32 : 0));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return f->qsel == 0 ? f->qmax : 0;
	case VIRTIO_MMIO_QUEUE_READY: return f->qsel == 0 ? f->qready : 0;
	case VIRTIO_MMIO_QUEUE_PFN: return 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return f->isr;
	case VIRTIO_MMIO_STATUS: return f->status;
	case VIRTIO_MMIO_CONFIG_GENERATION: return f->generation;
	default: return 0;
	}
}

static uint32_t reg_read(void *ctx, vlab_addr_t addr, unsigned width)
{
	struct fz *f = of(ctx);
	uint64_t off = addr - FZ_MMIO_BASE;

	if (addr < FZ_MMIO_BASE || off >= VIRTIO_MMIO_SIZE)
		return (uint32_t)fz_pay(f, width); /* nothing should be read there */
	if (fz_lie(f))
		return (uint32_t)fz_pay(f, width);
	return honest_read(f, off, width);
}

static void reg_write(void *ctx, vlab_addr_t addr, unsigned width, uint32_t v)
{
	struct fz *f = of(ctx);
	uint64_t off = addr - FZ_MMIO_BASE;
	(void)width;

	if (addr < FZ_MMIO_BASE || off >= VIRTIO_MMIO_SIZE)
		return;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: f->dfsel = v; break;
	case VIRTIO_MMIO_QUEUE_SEL: f->qsel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM: f->qnum = v; break;
	case VIRTIO_MMIO_QUEUE_READY: f->qready = v & 1; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: f->qdesc = (f->qdesc & ~0xffffffffull) | v; break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: f->qdesc = (f->qdesc & 0xffffffffull) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: f->qavail = (f->qavail & ~0xffffffffull) | v; break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: f->qavail = (f->qavail & 0xffffffffull) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: f->qused = (f->qused & ~0xffffffffull) | v; break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: f->qused = (f->qused & 0xffffffffull) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_INTERRUPT_ACK: f->isr &= ~v; break;
	case VIRTIO_MMIO_STATUS:
		if (v == 0)
			dev_reset(f);
		else
			f->status = v & 0xff;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v == 0 && f->qready && (f->status & VIRTIO_STATUS_DRIVER_OK)) {
			struct vlab_vq_layout l = {(uint16_t)f->qnum, f->qdesc, f->qavail, f->qused};
			/* Against what the device reported, which may have been a lie:
			 * only the spec's limit holds for sure. */
			if (f->qnum == 0 || f->qnum > 32768)
				FZ_ABORT("notify on a queue of size %u", f->qnum);
			fz_device_work(f, &l);
		}
		break;
	default:
		break;
	}
}

static uint8_t rd8(void *c, vlab_addr_t a) { return (uint8_t)reg_read(c, a, 1); }
static uint16_t rd16(void *c, vlab_addr_t a) { return (uint16_t)reg_read(c, a, 2); }
static uint32_t rd32(void *c, vlab_addr_t a) { return reg_read(c, a, 4); }
static uint64_t rd64(void *c, vlab_addr_t a) { return (uint64_t)reg_read(c, a, 4) | (uint64_t)reg_read(c, a + 4, 4) << 32; }
static void wr8(void *c, vlab_addr_t a, uint8_t v) { reg_write(c, a, 1, v); }
static void wr16(void *c, vlab_addr_t a, uint16_t v) { reg_write(c, a, 2, v); }
static void wr32(void *c, vlab_addr_t a, uint32_t v) { reg_write(c, a, 4, v); }
static void wr64(void *c, vlab_addr_t a, uint64_t v) { reg_write(c, a, 4, (uint32_t)v); reg_write(c, a + 4, 4, (uint32_t)(v >> 32)); }

/* ---- Device-writable memory: honest, a lie, or (racy) fresh every time ---- */

static void shm_read(void *ctx, void *dst, const volatile void *src, size_t n)
{
	struct fz *f = of(ctx);
	volatile uint8_t *s = (volatile uint8_t *)(uintptr_t)src;

	if (!in_arena(f, src, n))
		FZ_ABORT("shm read of %zu bytes outside DMA memory", n);
	if (f->racy || fz_lie(f))
		for (size_t i = 0; i < n; i++)
			s[i] = (uint8_t)fz_pay(f, 1); /* the device writes it now */
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = s[i];
}

static uint16_t shm16(void *ctx, const volatile void *p)
{
	uint16_t v;
	shm_read(ctx, &v, p, 2);
	return v;
}

static uint32_t shm32(void *ctx, const volatile void *p)
{
	uint32_t v;
	shm_read(ctx, &v, p, 4);
	return v;
}

static void *dma_alloc(void *ctx, size_t size, size_t align, vlab_addr_t *dev)
{
	return fz_alloc(of(ctx), size, align, dev);
}

static void dma_free(void *ctx, void *cpu, size_t size)
{
	(void)ctx;
	(void)cpu;
	(void)size; /* a bump allocator: freed with the input */
}

static int dma_map(void *ctx, const void *cpu, size_t len, vlab_addr_t *dev)
{
	struct fz *f = of(ctx);
	if (!in_arena(f, cpu, len))
		return VLAB_EINVAL;
	*dev = FZ_DMA_BASE + (uint64_t)((const uint8_t *)cpu - f->arena);
	return 0;
}

static void barrier(void *ctx) { (void)ctx; }
static uint64_t now_ns(void *ctx) { return of(ctx)->now; }
static void delay_ns(void *ctx, uint64_t ns)
{
	struct fz *f = of(ctx);
	f->now += ns ? ns : 1;
	if (++f->delays > 100000000ull)
		FZ_ABORT("more than 1e8 delays: an unbounded wait");
}

void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	static uint8_t *arena, *disk;

	if (!arena) {
		arena = malloc(FZ_ARENA);
		disk = malloc(FZ_DISK_SECTORS * 512);
		if (!arena || !disk)
			abort();
	}
	memset(f, 0, sizeof *f);
	f->disk = disk;
	memset(disk, 0, FZ_DISK_SECTORS * 512);
	f->data = data;
	f->size = size;
	f->head = 0;
	f->tail = size;
	f->lie_shift = 8; /* honest until the target says otherwise */
	f->arena = arena;
	f->ops.mmio_read8 = rd8;
	f->ops.mmio_read16 = rd16;
	f->ops.mmio_read32 = rd32;
	f->ops.mmio_read64 = rd64;
	f->ops.mmio_write8 = wr8;
	f->ops.mmio_write16 = wr16;
	f->ops.mmio_write32 = wr32;
	f->ops.mmio_write64 = wr64;
	f->ops.dma_alloc = dma_alloc;
	f->ops.dma_free = dma_free;
	f->ops.dma_map = dma_map;
	f->ops.shm_read16 = shm16;
	f->ops.shm_read32 = shm32;
	f->ops.shm_read = shm_read;
	f->ops.mb = barrier;
	f->ops.rmb = barrier;
	f->ops.wmb = barrier;
	f->ops.now_ns = now_ns;
	f->ops.delay_ns = delay_ns;
	f->plat.ops = &f->ops;
	f->plat.ctx = f;

	/* The honest device: virtio-mmio 2, blk, VERSION_1 | SEG_MAX | BLK_SIZE | FLUSH. */
	f->version = 2;
	f->device_id = VIRTIO_ID_BLOCK;
	f->features = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_BLK_F_SEG_MAX) |
	              VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE) | VLAB_BIT(VIRTIO_BLK_F_FLUSH);
	f->qmax = 64;
	st32(f->config + VIRTIO_BLK_CFG_CAPACITY, FZ_DISK_SECTORS);
	st32(f->config + VIRTIO_BLK_CFG_SEG_MAX, 8);
	st32(f->config + VIRTIO_BLK_CFG_BLK_SIZE, 512);
	f->blk_engine = true;
}

void fz_fini(struct fz *f)
{
	(void)f;
}
