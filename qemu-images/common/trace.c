/* SPDX-License-Identifier: MIT */
/*
 * The image's trace writer (docs/trace-format.md, docs/qemu.md "Record and
 * replay"): the platform (platform.c) hands it one event per platform
 * call; it keeps them in a buffer and writes the buffer to a file on the
 * host through semihosting (SYS_OPEN / SYS_WRITE / SYS_CLOSE), a trap per
 * 64 KiB instead of a UART access per byte.
 *
 * Recording is asked for with the kernel command line "vlab.record"
 * (QEMU -append), so an image run without semihosting never traps on it.
 */
#include "bm.h"
#include "vlab/blk.h"
#include "vlab/net.h"

#ifndef VLAB_DRIVER_VERSION
#define VLAB_DRIVER_VERSION "unknown"
#endif

#define SH_SYS_OPEN 0x01u
#define SH_SYS_CLOSE 0x02u
#define SH_SYS_WRITE 0x05u
#define SH_MODE_W 4u /* "w" */
#define TRACE_BUF_BYTES (64u * 1024u)

bool bm_tracing;

static struct {
	long handle;
	uint64_t count, time;
	size_t used;
	bool err;
	char buf[TRACE_BUF_BYTES];
} tr;

static void flush(void)
{
	if (tr.used && !tr.err) {
		uintptr_t block[3] = {(uintptr_t)tr.handle, (uintptr_t)tr.buf, tr.used};
		/* SYS_WRITE answers the number of bytes it did not write. */
		if (arch_semihost(SH_SYS_WRITE, block) != 0)
			tr.err = true;
	}
	tr.used = 0;
}

static void put(const char *s, size_t n)
{
	while (n) {
		if (tr.used == TRACE_BUF_BYTES)
			flush();
		size_t k = TRACE_BUF_BYTES - tr.used;
		if (k > n)
			k = n;
		vlab_memcpy(tr.buf + tr.used, s, k);
		tr.used += k;
		s += k;
		n -= k;
	}
}

static void puts_(const char *s)
{
	put(s, vlab_strlen(s));
}

bool bm_trace_begin(unsigned index, const char *const *header, unsigned n)
{
	char name[32], line[200];
	vlab_snprintf(name, sizeof name, "vlab-%u.trace", index);
	uintptr_t block[3] = {(uintptr_t)name, SH_MODE_W, vlab_strlen(name)};
	tr.handle = arch_semihost(SH_SYS_OPEN, block);
	tr.count = tr.time = 0;
	tr.used = 0;
	tr.err = false;
	if (tr.handle < 0)
		return false;
	bm_platform_trace_start();
	bm_tracing = true;
	puts_("vlab-trace 1\n");
	for (unsigned i = 0; i < n; i++) {
		puts_(header[i]);
		puts_("\n");
	}
	vlab_snprintf(line, sizeof line,
	              "driver version=%s blk_max_inflight=%u blk_max_segs=%u net_rx_bufs=%u net_tx_slots=%u dma=%s\n"
	              "events\n",
	              VLAB_DRIVER_VERSION, (unsigned)VLAB_BLK_MAX_INFLIGHT, (unsigned)VLAB_BLK_MAX_SEGS,
	              (unsigned)VLAB_NET_RX_BUFS, (unsigned)VLAB_NET_TX_SLOTS,
	              bm_platform_flags() & VLAB_PLAT_DMA_ALL_MEMORY ? "all" : "mapped");
	puts_(line);
	return true;
}

void bm_trace_now(uint64_t ns)
{
	if (ns > tr.time) /* the trace's times never go back */
		tr.time = ns;
}

static void start(void)
{
	char t[24];
	tr.count++;
	vlab_snprintf(t, sizeof t, "%llu ", (unsigned long long)tr.time);
	puts_(t);
}

void bm_trace_event(const char *text)
{
	start();
	puts_(text);
	puts_("\n");
}

void bm_trace_bytes(const char *head, const void *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = buf;
	char pair[2];
	start();
	puts_(head);
	if (!len)
		puts_("-");
	for (size_t i = 0; i < len; i++) {
		pair[0] = hex[b[i] >> 4];
		pair[1] = hex[b[i] & 15];
		put(pair, 2);
	}
	puts_("\n");
}

/* Unchanged bytes between two changed ones up to this many stay in one
 * pub line (fewer, longer lines); a line carries at most PUB_MAX bytes. */
#define PUB_GAP 16u
#define PUB_MAX (64u * 1024u)

static void pub(const uint8_t *shadow, size_t from, size_t to, uint64_t dev)
{
	char head[48];
	while (from < to) {
		size_t n = to - from < PUB_MAX ? to - from : PUB_MAX;
		vlab_snprintf(head, sizeof head, "pub 0x%llx %llu ", (unsigned long long)(dev + from),
		              (unsigned long long)n);
		bm_trace_bytes(head, shadow + from, n);
		from += n;
	}
}

/* Word by word: each word of mem is read once (the device may be writing
 * it), compared, and kept in the shadow, which the pub line is made from. */
void bm_trace_publish(const uint8_t *mem, uint8_t *shadow, size_t len, uint64_t dev)
{
	const volatile uint64_t *m = (const volatile uint64_t *)mem;
	uint64_t *sh = (uint64_t *)shadow;
	size_t from = 0, to = 0;
	bool open = false;
	for (size_t w = 0; w < len / 8; w++) {
		const uint64_t v = m[w], x = v ^ sh[w];
		if (!x)
			continue;
		sh[w] = v;
		unsigned lo = 0, hi = 8;
		while (!((x >> (8 * lo)) & 0xff))
			lo++;
		while (!((x >> (8 * (hi - 1))) & 0xff))
			hi--;
		const size_t b0 = 8 * w + lo, b1 = 8 * w + hi;
		if (open && b0 - to <= PUB_GAP) {
			to = b1;
			continue;
		}
		if (open)
			pub(shadow, from, to, dev);
		from = b0;
		to = b1;
		open = true;
	}
	if (open)
		pub(shadow, from, to, dev);
}

void bm_trace_comment(const char *level, const char *msg)
{
	puts_("# ");
	puts_(level);
	puts_(": ");
	for (const char *c = msg ? msg : ""; *c; c++)
		put(*c == '\n' || *c == '\r' ? " " : c, 1);
	puts_("\n");
}

bool bm_trace_end(void)
{
	char line[40];
	if (!bm_tracing)
		return true;
	bm_tracing = false;
	vlab_snprintf(line, sizeof line, "end %llu\n", (unsigned long long)tr.count);
	puts_(line);
	flush();
	uintptr_t block[1] = {(uintptr_t)tr.handle};
	if (arch_semihost(SH_SYS_CLOSE, block) != 0)
		tr.err = true;
	return !tr.err;
}
