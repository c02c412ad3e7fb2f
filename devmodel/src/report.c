/* SPDX-License-Identifier: MIT */
/* Violation records of the driver's side of the spec. */
#include "devmodel/report.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dm_report_init(struct dm_report *r)
{
	memset(r, 0, sizeof *r);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	snprintf(dst, size, "%s", src);
}

#define INDEX_SLOTS (sizeof ((struct dm_report *)0)->index / sizeof ((struct dm_report *)0)->index[0])

/* The ID as stored (at most sizeof checked[0] - 1 bytes) is id.  The C
 * library's strncmp compares a word or a vector at a time without reading
 * past either string's end: about a fifth of the instructions of a byte
 * loop for IDs of 10 to 20 characters (issue 15, docs/performance.md). */
static bool same_id(const char *stored, const char *id)
{
	return strncmp(stored, id, sizeof ((struct dm_report *)0)->checked[0] - 1) == 0;
}

/* FNV-1a over the ID as stored (at most sizeof checked[0] - 1 bytes). */
static unsigned id_hash(const char *id)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i + 1 < sizeof ((struct dm_report *)0)->checked[0] && id[i]; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	return (unsigned)(h % INDEX_SLOTS);
}

/* The slot of req_id in r->index: the one holding it, or the free one where
 * it would go (the table has twice as many slots as IDs, so one is free). */
static unsigned find_slot(const struct dm_report *r, const char *req_id)
{
	unsigned s = id_hash(req_id);
	for (unsigned n = 0; n < INDEX_SLOTS; n++, s = (s + 1) % INDEX_SLOTS) {
		unsigned i = r->index[s];
		if (i == 0 || same_id(r->checked[i - 1], req_id))
			return s;
	}
	return 0; /* unreachable: fewer IDs than slots */
}

/* Index of req_id in r->checked, -1 when absent. */
static int find_id(const struct dm_report *r, const char *req_id)
{
	unsigned i = r->index[find_slot(r, req_id)];
	return i ? (int)i - 1 : -1;
}

#define SEEN_SLOTS (sizeof ((struct dm_report *)0)->seen_at / sizeof ((struct dm_report *)0)->seen_at[0])

/* The address's offset in its 4 KiB page, in 4-byte steps: literals lie a
 * few bytes to a few KiB apart, and the offset does not move with address
 * space randomisation, so which IDs share a slot is the same from run to
 * run of a binary (and under valgrind). */
static unsigned seen_slot(const char *req_id)
{
	return (unsigned)(((uintptr_t)req_id >> 2) % SEEN_SLOTS);
}


void dm_report_add(struct dm_report *r, const char *req_id, const char *where, uint64_t time_ns,
                   const char *fmt, ...)
{
	char detail[sizeof r->v[0].detail];
	va_list ap;

	if (!r)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);

	if (r->count < DM_REPORT_KEEP) {
		struct dm_violation *v = &r->v[r->count];
		copy_str(v->req_id, sizeof v->req_id, req_id);
		copy_str(v->where, sizeof v->where, where);
		v->time_ns = time_ns;
		copy_str(v->detail, sizeof v->detail, detail);
	}
	if (r->count < UINT32_MAX)
		r->count++;
	/* A violation is also a check of that requirement. */
	dm_report_checked(r, req_id);
	{
		int i = req_id ? find_id(r, req_id) : -1;
		if (i >= 0 && r->violated_count[i] < UINT32_MAX)
			r->violated_count[i]++;
	}

	if (getenv("VLAB_VIOLATIONS_VERBOSE"))
		fprintf(stderr, "violation %s at %s t=%llu ns: %s\n", req_id ? req_id : "?",
		        where ? where : "?", (unsigned long long)time_ns, detail);
}

/* The index + 1 held in way s of the address cache when it holds req_id,
 * else 0: the same address as last time and (it may be a buffer) the
 * same text. */
static inline unsigned seen_hit(const struct dm_report *r, unsigned s, const char *req_id)
{
	unsigned k = r->seen_index[s];
	return r->seen_at[s] == req_id && k && same_id(r->checked[k - 1], req_id) ? k : 0;
}

/* id_index past the address cache: the hash index, adding the ID when new
 * and there is room; the cache learns it (the newest in the first way, the
 * one it displaces in the second). */
static __attribute__((noinline)) int id_index_slow(struct dm_report *r, const char *req_id, unsigned seen)
{
	unsigned slot = find_slot(r, req_id);
	int i = r->index[slot] ? (int)r->index[slot] - 1 : -1;

	if (i < 0 && r->nchecked < DM_REPORT_IDS) {
		i = (int)r->nchecked++;
		copy_str(r->checked[i], sizeof r->checked[0], req_id);
		r->index[slot] = (uint16_t)(i + 1);
	}
	if (i >= 0) {
		r->seen_at[seen ^ 1] = r->seen_at[seen];
		r->seen_index[seen ^ 1] = r->seen_index[seen];
		r->seen_at[seen] = req_id;
		r->seen_index[seen] = (uint16_t)(i + 1);
	}
	return i;
}

/* Index of req_id in r->checked, added when new and there is room; -1
 * when absent and the table is full.  In front of the hash index, an
 * address cache of two ways (slots seen and seen ^ 1), so that two IDs of
 * one request whose addresses hash alike do not evict each other on every
 * check. */
static inline int id_index(struct dm_report *r, const char *req_id)
{
	unsigned seen = seen_slot(req_id), k;

	if ((k = seen_hit(r, seen, req_id)) != 0 || (k = seen_hit(r, seen ^ 1, req_id)) != 0)
		return (int)k - 1;
	return id_index_slow(r, req_id, seen);
}

void dm_report_checked(struct dm_report *r, const char *req_id)
{
	int i;

	if (!r || !req_id)
		return;
	i = id_index(r, req_id);
	if (i < 0) {
		if (r->ids_dropped < UINT32_MAX)
			r->ids_dropped++;
		return;
	}
	if (r->checked_count[i] < UINT32_MAX)
		r->checked_count[i]++;
}

uint32_t dm_report_check_count(const struct dm_report *r, const char *req_id)
{
	int i = r && req_id ? find_id(r, req_id) : -1;
	return i < 0 ? 0 : r->checked_count[i];
}

uint32_t dm_report_violation_count(const struct dm_report *r, const char *req_id)
{
	int i = r && req_id ? find_id(r, req_id) : -1;
	return i < 0 ? 0 : r->violated_count[i];
}

const struct dm_violation *dm_report_first(const struct dm_report *r, const char *req_id)
{
	unsigned kept;

	if (!r || !req_id)
		return NULL;
	kept = r->count < DM_REPORT_KEEP ? r->count : DM_REPORT_KEEP;
	for (unsigned i = 0; i < kept; i++)
		if (strncmp(r->v[i].req_id, req_id, sizeof r->v[i].req_id) == 0)
			return &r->v[i];
	return NULL;
}

int dm_report_format(const struct dm_report *r, char *buf, unsigned size)
{
	size_t used = 0;
	unsigned kept;

	if (!buf || size == 0)
		return 0;
	buf[0] = '\0';
	if (!r)
		return 0;
	kept = r->count < DM_REPORT_KEEP ? r->count : DM_REPORT_KEEP;
	for (unsigned i = 0; i < kept && used + 1 < size; i++) {
		const struct dm_violation *v = &r->v[i];
		int n = snprintf(buf + used, size - used, "%s %s t=%lluns: %s\n", v->req_id, v->where,
		                 (unsigned long long)v->time_ns, v->detail);
		if (n < 0)
			break;
		used += (size_t)n < size - used ? (size_t)n : size - used - 1;
	}
	if (r->count > kept && used + 1 < size) {
		int n = snprintf(buf + used, size - used, "(%u more not kept)\n", r->count - kept);
		if (n > 0)
			used += (size_t)n < size - used ? (size_t)n : size - used - 1;
	}
	return (int)used;
}
