/* SPDX-License-Identifier: MIT */
/* Violation records of the driver's side of the spec. */
#include "devmodel/report.h"

#include <stdarg.h>
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

	if (getenv("VLAB_VIOLATIONS_VERBOSE"))
		fprintf(stderr, "violation %s at %s t=%llu ns: %s\n", req_id ? req_id : "?",
		        where ? where : "?", (unsigned long long)time_ns, detail);
}

void dm_report_checked(struct dm_report *r, const char *req_id)
{
	const unsigned cap = sizeof r->checked / sizeof r->checked[0];

	if (!r || !req_id)
		return;
	for (unsigned i = 0; i < r->nchecked && i < cap; i++)
		if (strncmp(r->checked[i], req_id, sizeof r->checked[i]) == 0)
			return;
	if (r->nchecked < cap) {
		copy_str(r->checked[r->nchecked], sizeof r->checked[0], req_id);
		r->nchecked++;
	}
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
