/* SPDX-License-Identifier: MIT */
/* Backing stores for the block model: a RAM disk and a raw image file. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, and what _POSIX_C_SOURCE 200809L gives */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/blk.h"

struct ram_store {
	struct dm_store s;
	uint8_t *bytes;
	size_t mapped; /* the mapping's length */
};

struct file_store {
	struct dm_store s;
	int fd;
};

static bool in_range(const struct dm_store *s, uint64_t off, uint32_t len)
{
	return off <= s->size && len <= s->size - off;
}

static int ram_read(struct dm_store *s, uint64_t off, void *buf, uint32_t len)
{
	struct ram_store *r = (struct ram_store *)s;
	if (!in_range(s, off, len))
		return -1;
	memcpy(buf, r->bytes + off, len);
	return 0;
}

static int ram_write(struct dm_store *s, uint64_t off, const void *buf, uint32_t len)
{
	struct ram_store *r = (struct ram_store *)s;
	if (s->read_only || !in_range(s, off, len))
		return -1;
	memcpy(r->bytes + off, buf, len);
	return 0;
}

static uint8_t *ram_span(struct dm_store *s, uint64_t off, uint32_t len, bool write)
{
	struct ram_store *r = (struct ram_store *)s;
	if ((write && s->read_only) || !in_range(s, off, len))
		return NULL;
	return r->bytes + off;
}

static int ram_flush(struct dm_store *s)
{
	s->flushes++;
	return 0;
}

static void ram_close(struct dm_store *s)
{
	struct ram_store *r = (struct ram_store *)s;
	munmap(r->bytes, r->mapped);
	free(r);
}

struct dm_store *dm_store_ram(uint64_t size)
{
	struct ram_store *r;

	if (size == 0 || size > SIZE_MAX)
		return NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	/* Mapped, not calloc'd: zero pages cost nothing until written.  A
	 * calloc'd block of this size comes from the heap, and is cleared a
	 * byte at a time, once glibc has raised its mmap threshold (after the
	 * first such block is freed), and ASan poisons its shadow on every
	 * allocation and free: most of a test's time that makes many disks. */
	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096u;
	if (size > SIZE_MAX - pg) {
		free(r);
		return NULL;
	}
	r->mapped = ((size_t)size + pg - 1) & ~(pg - 1);
	void *m = mmap(NULL, r->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		free(r);
		return NULL;
	}
	r->bytes = m;
	r->s.size = size;
	r->s.read = ram_read;
	r->s.write = ram_write;
	r->s.span = ram_span;
	r->s.flush = ram_flush;
	r->s.close = ram_close;
	return &r->s;
}

uint8_t *dm_store_ram_bytes(struct dm_store *s)
{
	if (!s || s->close != ram_close)
		return NULL;
	return ((struct ram_store *)s)->bytes;
}

static int file_read(struct dm_store *s, uint64_t off, void *buf, uint32_t len)
{
	struct file_store *f = (struct file_store *)s;
	uint8_t *p = buf;

	if (!in_range(s, off, len))
		return -1;
	while (len) {
		ssize_t n = pread(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

static int file_write(struct dm_store *s, uint64_t off, const void *buf, uint32_t len)
{
	struct file_store *f = (struct file_store *)s;
	const uint8_t *p = buf;

	if (s->read_only || !in_range(s, off, len))
		return -1;
	while (len) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

static int file_flush(struct dm_store *s)
{
	struct file_store *f = (struct file_store *)s;
	s->flushes++;
	if (s->read_only)
		return 0;
	return fsync(f->fd) == 0 ? 0 : -1;
}

static void file_close(struct dm_store *s)
{
	struct file_store *f = (struct file_store *)s;
	close(f->fd);
	free(f);
}

struct dm_store *dm_store_file(const char *path, bool read_only, const char **err)
{
	static _Thread_local char msg[512];
	struct file_store *f;
	struct stat st;
	int fd;

	if (err)
		*err = NULL;
	fd = open(path, read_only ? O_RDONLY : O_RDWR);
	if (fd < 0) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(msg, sizeof msg, "%s: not a regular file", path);
		close(fd);
		goto fail;
	}
	if (st.st_size <= 0 || st.st_size % 512) {
		if (st.st_size <= 0)
			snprintf(msg, sizeof msg, "%s: size 0: the image is empty (need a multiple of 512 bytes)", path);
		else
			snprintf(msg, sizeof msg, "%s: size %lld is not a multiple of 512 bytes", path,
			         (long long)st.st_size);
		close(fd);
		goto fail;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(msg, sizeof msg, "%s: out of memory", path);
		close(fd);
		goto fail;
	}
	f->fd = fd;
	f->s.size = (uint64_t)st.st_size;
	f->s.read = file_read;
	f->s.write = file_write;
	f->s.flush = file_flush;
	f->s.close = file_close;
	f->s.read_only = read_only;
	return &f->s;
fail:
	if (err)
		*err = msg;
	return NULL;
}
