/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one zeroed host block standing at a guest-physical base, and a
 * first-fit allocator for DMA memory inside it.  The free list lives in host
 * memory outside the arena, so nothing a device writes to guest RAM can
 * corrupt the allocator.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hx_internal.h"

#define HX_ARENA_GRAIN 16u    /* sizes are rounded up to this */

static uint64_t round_size(size_t size)
{
	uint64_t s = size ? (uint64_t)size : 1;
	return (s + HX_ARENA_GRAIN - 1) & ~(uint64_t)(HX_ARENA_GRAIN - 1);
}

/*
 * The block is mapped, not allocated: anonymous pages are zero and cost
 * nothing until touched, and ASan, which poisons and unpoisons the shadow of
 * every heap block it hands out and takes back (8 MiB of stores for 64 MiB
 * of RAM, on every machine a test makes), leaves a mapping alone.  A page
 * that cannot be reached on either side keeps what the allocator's redzones
 * gave: a host access just outside guest RAM faults at once.
 */
static size_t host_page(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096u;
}

int hx_arena_init(struct hx_arena *a, uint64_t base, uint64_t size)
{
	memset(a, 0, sizeof *a);
	size_t page = host_page();
	if (size == 0 || size > SIZE_MAX - 3 * (uint64_t)page || base + size - 1 < base)
		return -1;
	size_t body = ((size_t)size + page - 1) & ~(page - 1);
	size_t len = body + 2 * page;
	void *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect((uint8_t *)m + page, body, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, len);
		return -1;
	}
	a->raw = m;
	a->raw_len = len;
	a->host = (uint8_t *)m + page;
	a->base = base;
	a->size = size;
	a->cap = 16;
	a->free = malloc(a->cap * sizeof *a->free);
	if (!a->free) {
		munmap(a->raw, a->raw_len);
		a->raw = NULL;
		return -1;
	}
	a->free[0].off = 0;
	a->free[0].len = size;
	a->nfree = 1;
	a->stats.size = size;
	return 0;
}

void hx_arena_fini(struct hx_arena *a)
{
	free(a->maps);
	free(a->free);
	if (a->raw)
		munmap(a->raw, a->raw_len);
	memset(a, 0, sizeof *a);
}

static bool reserve(struct hx_arena *a, size_t n)
{
	if (n <= a->cap)
		return true;
	size_t cap = a->cap * 2;
	while (cap < n)
		cap *= 2;
	struct hx_range *f = realloc(a->free, cap * sizeof *f);
	if (!f)
		return false;
	a->free = f;
	a->cap = cap;
	return true;
}

static void remove_at(struct hx_arena *a, size_t i)
{
	memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof *a->free);
	a->nfree--;
}

static void insert_at(struct hx_arena *a, size_t i, uint64_t off, uint64_t len)
{
	memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof *a->free);
	a->free[i].off = off;
	a->free[i].len = len;
	a->nfree++;
}

/* An allocation reads as zeroes.  A large one is zeroed by giving its whole
 * pages back to the kernel (private anonymous memory reads as zeroes again,
 * and a page costs nothing until it is touched): a vlab command line
 * reserves most of guest RAM for its user at start, and a memset of it
 * faulted in every page (728,669 page faults, half the time of a `vlab
 * conformance` run).  The ends, and small allocations, are cleared. */
#define ZERO_BY_PAGES_MIN (64u * 1024u)
static void zero_range(uint8_t *p, size_t len)
{
	if (len < ZERO_BY_PAGES_MIN) {
		memset(p, 0, len);
		return;
	}
	const uintptr_t page = (uintptr_t)host_page();
	const uintptr_t start = (uintptr_t)p, end = start + len;
	const uintptr_t lo = (start + page - 1) & ~(page - 1), hi = end & ~(page - 1);

	if (hi <= lo || madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0) {
		memset(p, 0, len);
		return;
	}
	memset(p, 0, lo - start);
	memset((void *)hi, 0, end - hi);
}

void *hx_arena_alloc(struct hx_arena *a, size_t size, size_t align, uint64_t *dev)
{
	if (align == 0)
		align = 1;
	if ((align & (align - 1)) != 0 || size > a->size) {
		a->stats.failed_allocs++;
		return NULL;
	}
	uint64_t need = round_size(size);
	uint64_t mask = (uint64_t)align - 1;
	for (size_t i = 0; i < a->nfree; i++) {
		struct hx_range *r = &a->free[i];
		/* The device address is what must be aligned. */
		uint64_t pad = (0 - (a->base + r->off)) & mask;
		if (pad > r->len || need > r->len - pad)
			continue;
		uint64_t suffix = r->len - pad - need;
		uint64_t off = r->off + pad;
		if (pad && suffix) {
			if (!reserve(a, a->nfree + 1)) {
				a->stats.failed_allocs++;
				return NULL;
			}
			r = &a->free[i];
			r->len = pad;
			insert_at(a, i + 1, off + need, suffix);
		} else if (pad) {
			r->len = pad;
		} else if (suffix) {
			r->off = off + need;
			r->len = suffix;
		} else {
			remove_at(a, i);
		}
		a->stats.allocs++;
		a->stats.used += need;
		if (a->stats.used > a->stats.peak_used)
			a->stats.peak_used = a->stats.used;
		void *p = a->host + off;
		zero_range(p, (size_t)need);
		if (dev)
			*dev = a->base + off;
		return p;
	}
	a->stats.failed_allocs++;
	return NULL;
}

bool hx_arena_free(struct hx_arena *a, void *cpu, size_t size)
{
	if (!cpu)
		return true;
	uint64_t need = round_size(size);
	uint64_t addr;
	if (!hx_arena_addr(a, cpu, 1, &addr) || need > a->size - (addr - a->base)) {
		a->stats.bad_frees++;
		return false;
	}
	uint64_t off = addr - a->base;
	/* First free range after off. */
	size_t lo = 0, hi = a->nfree;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->free[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t i = lo;
	struct hx_range *prev = i > 0 ? &a->free[i - 1] : NULL;
	struct hx_range *next = i < a->nfree ? &a->free[i] : NULL;
	/* Overlapping free memory: a double free or a wrong size. */
	if ((prev && prev->off + prev->len > off) || (next && off + need > next->off)) {
		a->stats.bad_frees++;
		return false;
	}
	bool join_prev = prev && prev->off + prev->len == off;
	bool join_next = next && off + need == next->off;
	if (join_prev && join_next) {
		prev->len += need + next->len;
		remove_at(a, i);
	} else if (join_prev) {
		prev->len += need;
	} else if (join_next) {
		next->off = off;
		next->len += need;
	} else {
		if (!reserve(a, a->nfree + 1)) {
			/* Out of host memory: the block is lost, not corrupted. */
			a->stats.bad_frees++;
			return false;
		}
		insert_at(a, i, off, need);
	}
	a->stats.frees++;
	a->stats.used -= need <= a->stats.used ? need : a->stats.used;
	return true;
}

bool hx_arena_addr(const struct hx_arena *a, const void *cpu, size_t len, uint64_t *addr)
{
	/* Compare as integers: relational operators on pointers into different
	 * objects are undefined. */
	uintptr_t p = (uintptr_t)cpu, h = (uintptr_t)a->host;
	if (!a->host || p < h)
		return false;
	uint64_t off = (uint64_t)(p - h);
	if (off > a->size || (uint64_t)len > a->size - off)
		return false;
	if (addr)
		*addr = a->base + off;
	return true;
}

bool hx_arena_map(struct hx_arena *a, uint64_t addr, uint64_t len, int dir)
{
	if (a->nmaps == a->capmaps) {
		size_t cap = a->capmaps ? 2 * a->capmaps : 16;
		struct hx_mapping *m = realloc(a->maps, cap * sizeof *m);
		if (!m)
			return false;
		a->maps = m;
		a->capmaps = cap;
	}
	a->maps[a->nmaps].addr = addr;
	a->maps[a->nmaps].len = len;
	a->maps[a->nmaps].dir = dir;
	a->nmaps++;
	a->stats.maps++;
	a->stats.mapped = a->nmaps;
	return true;
}

bool hx_arena_unmap(struct hx_arena *a, uint64_t addr, uint64_t len, int dir)
{
	for (size_t i = a->nmaps; i-- > 0;) {
		struct hx_mapping *m = &a->maps[i];
		if (m->addr == addr && m->len == len && m->dir == dir) {
			*m = a->maps[--a->nmaps];
			a->stats.unmaps++;
			a->stats.mapped = a->nmaps;
			return true;
		}
	}
	a->stats.bad_unmaps++;
	return false;
}

void hx_arena_get_stats(struct hx_machine *m, struct hx_arena_stats *st)
{
	const struct hx_arena *a = &m->arena;
	*st = a->stats;
	st->free_ranges = a->nfree;
	st->largest_free = 0;
	for (size_t i = 0; i < a->nfree; i++)
		if (a->free[i].len > st->largest_free)
			st->largest_free = a->free[i].len;
}
