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
static uint32_t id_fnv(const char *id)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i + 1 < sizeof ((struct dm_report *)0)->checked[0] && id[i]; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	return h;
}

static unsigned id_hash(const char *id)
{
	return (unsigned)(id_fnv(id) % INDEX_SLOTS);
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

/*
 * The process's numbers of ID texts (dm_req_intern): append-only, so a
 * number once given keeps its text.  Lookups read without the lock (a
 * slot is published with a release store after its text is written);
 * numbering a new text takes it.
 */
#define NUM_SLOTS (DM_REQ_IDS * 2)
static struct {
	char text[DM_REQ_IDS][sizeof ((struct dm_report *)0)->checked[0]];
	unsigned slot[NUM_SLOTS]; /* number, 0 when free */
	unsigned count;           /* numbers given: 1 .. count */
	bool lock;
} numbered;

/* The number of id, 0 when it has none; *free_slot: where it would go
 * (NUM_SLOTS when no slot is free). */
static unsigned number_of(const char *id, unsigned *free_slot)
{
	unsigned s = (unsigned)(id_fnv(id) % NUM_SLOTS);

	for (unsigned n = 0; n < NUM_SLOTS; n++, s = (s + 1) % NUM_SLOTS) {
		unsigned num = __atomic_load_n(&numbered.slot[s], __ATOMIC_ACQUIRE);
		if (num == 0) {
			*free_slot = s;
			return 0;
		}
		if (same_id(numbered.text[num], id))
			return num;
	}
	*free_slot = NUM_SLOTS;
	return 0;
}

unsigned dm_req_intern(const char *req_id)
{
	unsigned num, s;

	if (!req_id)
		return 0;
	if ((num = number_of(req_id, &s)) != 0)
		return num;
	while (__atomic_test_and_set(&numbered.lock, __ATOMIC_ACQUIRE))
		;
	num = number_of(req_id, &s); /* another thread may have numbered it */
	if (num == 0 && s < NUM_SLOTS && numbered.count + 1 < DM_REQ_IDS) {
		num = ++numbered.count;
		copy_str(numbered.text[num], sizeof numbered.text[num], req_id);
		__atomic_store_n(&numbered.slot[s], num, __ATOMIC_RELEASE);
	}
	__atomic_clear(&numbered.lock, __ATOMIC_RELEASE);
	return num;
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
	unsigned slot = find_slot(r, req_id);
	int i = r->index[slot] ? (int)r->index[slot] - 1 : -1;

	if (i < 0 && r->nchecked < DM_REPORT_IDS) {
		i = (int)r->nchecked++;
		copy_str(r->checked[i], sizeof r->checked[0], req_id);
		r->index[slot] = (uint16_t)(i + 1);
	}
	return i;
}

/* The first check of an ID by this report, or of an ID without a number:
 * found (or added) by its text, and its number learnt. */
void dm_report_checked_slow(struct dm_report *r, unsigned num, const char *req_id)
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
	if (num && num < DM_REQ_IDS)
		r->by_num[num] = (uint16_t)(i + 1);
	if (r->checked_count[i] < UINT32_MAX)
		r->checked_count[i]++;
}

void dm_report_checked(struct dm_report *r, const char *req_id)
{
	if (!r || !req_id)
		return;
	dm_report_checked_num(r, dm_req_intern(req_id), req_id);
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
