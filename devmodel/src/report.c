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

/* strncmp(stored, id, 31) == 0 inline: IDs are short, a call costs more. */
static bool same_id(const char *stored, const char *id)
{
	for (unsigned i = 0; i + 1 < sizeof ((struct dm_report *)0)->checked[0]; i++) {
		if (stored[i] != id[i])
			return false;
		if (!id[i])
			return true;
	}
	return true;
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

static unsigned seen_slot(const char *req_id)
{
	uint64_t p = (uint64_t)(uintptr_t)req_id * 0x9e3779b97f4a7c15ull;
	return (unsigned)((p >> 40) % SEEN_SLOTS);
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

/* Index of req_id in r->checked, added when new and there is room; -1
 * when absent and the table is full. */
static int id_index(struct dm_report *r, const char *req_id)
{
	/* The same address as last time, and (it may be a buffer) the same
	 * text: the same ID. */
	unsigned seen = seen_slot(req_id), slot;
	int i;

	if (r->seen_at[seen] == req_id && r->seen_index[seen] &&
	    same_id(r->checked[r->seen_index[seen] - 1], req_id))
		return r->seen_index[seen] - 1;
	slot = find_slot(r, req_id);
	i = r->index[slot] ? (int)r->index[slot] - 1 : -1;
	if (i < 0 && r->nchecked < DM_REPORT_IDS) {
		i = (int)r->nchecked++;
		copy_str(r->checked[i], sizeof r->checked[0], req_id);
		r->index[slot] = (uint16_t)(i + 1);
	}
	if (i >= 0) {
		r->seen_at[seen] = req_id;
		r->seen_index[seen] = (uint16_t)(i + 1);
	}
	return i;
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
