/* SPDX-License-Identifier: MIT */
/*
 * Fault plans: a line-oriented text format (docs/fault-plans.md) parsed into
 * struct dm_fault_plan, and loaded into a device's fault table.
 *
 * Grammar, one entry a line:
 *   line   := [ 'fault' WS kind { WS key '=' number } ] [ WS ] [ '#' comment ]
 *   key    := 'queue' | 'nth' | 'count' | 'value' | 'device'
 *   number := decimal digits | '0x' hex digits      (unsigned, 64 bits)
 */
#include "devmodel/fault_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/virtio.h"

#define PLAN_FILE_MAX (1u << 20) /* a plan file larger than 1 MiB is a mistake */

void dm_fault_plan_init(struct dm_fault_plan *p)
{
	memset(p, 0, sizeof *p);
}

bool dm_fault_plan_add(struct dm_fault_plan *p, const struct dm_fault *f, int device)
{
	if (!p || !f || p->n >= DM_FAULT_PLAN_MAX || f->kind <= DM_FAULT_NONE ||
	    f->kind >= DM_FAULT_KIND_COUNT)
		return false;
	memset(&p->e[p->n], 0, sizeof p->e[p->n]);
	p->e[p->n].fault = *f;
	p->e[p->n].fault.seen = 0;
	p->e[p->n].fault.fired = 0;
	p->e[p->n].device = device < 0 ? -1 : device;
	p->n++;
	return true;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Decimal, or hex with 0x; the whole token, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return true;
}

static void list_kinds(char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = DM_FAULT_NONE + 1; k < DM_FAULT_KIND_COUNT && used < size; k++) {
		int n = snprintf(buf + used, size - used, "%s%s", k == DM_FAULT_NONE + 1 ? "" : ", ",
		                 dm_fault_name((enum dm_fault_kind)k));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Split line (modified in place) into at most max words; returns the count,
 * or -1 when there are more. */
static int split_words(char *line, char **w, int max)
{
	int n = 0;
	char *s = line;

	for (;;) {
		while (is_space(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == max)
			return -1;
		w[n++] = s;
		while (*s && !is_space(*s) && *s != '#')
			s++;
		if (*s == '#') {
			*s = '\0';
			return n;
		}
		if (*s)
			*s++ = '\0';
	}
}

/* One line into e; 1 when it held an entry, 0 when blank, -1 on error. */
static int parse_line(char *line, const char *name, unsigned lineno, struct dm_fault_plan_entry *e,
                      char *err, size_t errlen)
{
	static const char *const keys[] = {"queue", "nth", "count", "value", "device"};
	char *w[8];
	bool seen[5] = {false, false, false, false, false};
	int n = split_words(line, w, 8);

	if (n == 0)
		return 0;
	if (n < 0) {
		set_err(err, errlen, "%s:%u: too many words (fault KIND and at most queue=, nth=, count=, value=, device=)",
		        name, lineno);
		return -1;
	}
	if (strcmp(w[0], "fault") != 0) {
		set_err(err, errlen, "%s:%u: unknown directive '%s' (a line is 'fault KIND [key=N]...')",
		        name, lineno, w[0]);
		return -1;
	}
	if (n < 2) {
		set_err(err, errlen, "%s:%u: 'fault' needs a kind", name, lineno);
		return -1;
	}
	memset(e, 0, sizeof *e);
	e->fault.kind = dm_fault_parse_kind(w[1]);
	if (e->fault.kind == DM_FAULT_NONE) {
		char kinds[DM_FAULT_PLAN_ERR_MAX];
		list_kinds(kinds, sizeof kinds);
		set_err(err, errlen, "%s:%u: unknown fault kind '%s' (known: %s)", name, lineno, w[1], kinds);
		return -1;
	}
	e->fault.queue = -1;
	e->fault.count = 1; /* a fault fires once unless the plan says otherwise */
	e->device = -1;
	e->line = lineno;

	for (int i = 2; i < n; i++) {
		char *eq = strchr(w[i], '=');
		unsigned k;
		uint64_t v;

		if (!eq || eq == w[i]) {
			set_err(err, errlen, "%s:%u: '%s' is not key=value", name, lineno, w[i]);
			return -1;
		}
		*eq = '\0';
		for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (!strcmp(w[i], keys[k]))
				break;
		if (k == sizeof keys / sizeof keys[0]) {
			set_err(err, errlen, "%s:%u: unknown key '%s' (queue, nth, count, value, device)", name,
			        lineno, w[i]);
			return -1;
		}
		if (seen[k]) {
			set_err(err, errlen, "%s:%u: '%s' given twice", name, lineno, w[i]);
			return -1;
		}
		seen[k] = true;
		if (!parse_u64(eq + 1, &v)) {
			set_err(err, errlen, "%s:%u: %s: '%s' is not a number (decimal or 0x hex, below 2^64)",
			        name, lineno, w[i], eq + 1);
			return -1;
		}
		switch (k) {
		case 0:
			if (v >= DM_MAX_QUEUES) {
				set_err(err, errlen, "%s:%u: queue=%llu: a device has queues 0..%d", name, lineno,
				        (unsigned long long)v, DM_MAX_QUEUES - 1);
				return -1;
			}
			e->fault.queue = (int)v;
			break;
		case 1:
			e->fault.nth = v;
			break;
		case 2:
			e->fault.count = v;
			break;
		case 3:
			e->fault.value = v;
			break;
		default:
			if (v >= 1024) {
				set_err(err, errlen, "%s:%u: device=%llu: not a device index", name, lineno,
				        (unsigned long long)v);
				return -1;
			}
			e->device = (int)v;
			break;
		}
	}
	return 1;
}

int dm_fault_plan_parse(struct dm_fault_plan *p, const char *text, const char *name, char *err,
                        size_t errlen)
{
	char line[DM_FAULT_PLAN_LINE_MAX];
	struct dm_fault_plan_entry e;
	unsigned lineno = 0, n0;
	const char *s = text;

	if (err && errlen)
		err[0] = '\0';
	if (!p || !text) {
		set_err(err, errlen, "%s: no plan", name ? name : "plan");
		return -1;
	}
	if (!name)
		name = "plan";
	n0 = p->n;
	while (*s) {
		const char *end = strchr(s, '\n');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		int rc;

		lineno++;
		if (len >= sizeof line) {
			set_err(err, errlen, "%s:%u: line longer than %u bytes", name, lineno,
			        DM_FAULT_PLAN_LINE_MAX - 1);
			goto fail;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		s = end ? end + 1 : s + len;
		rc = parse_line(line, name, lineno, &e, err, errlen);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			continue;
		if (p->n >= DM_FAULT_PLAN_MAX) {
			set_err(err, errlen, "%s:%u: more than %u faults in one plan", name, lineno,
			        DM_FAULT_PLAN_MAX);
			goto fail;
		}
		p->e[p->n++] = e;
	}
	return 0;
fail:
	p->n = n0;
	return -1;
}

int dm_fault_plan_load_file(struct dm_fault_plan *p, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t n;
	int rc;

	f = fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(PLAN_FILE_MAX + 1);
	if (!text) {
		fclose(f);
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, PLAN_FILE_MAX + 1, f);
	if (ferror(f)) {
		set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	} else if (n > PLAN_FILE_MAX) {
		set_err(err, errlen, "%s: larger than %u bytes: not a fault plan", path, PLAN_FILE_MAX);
		rc = -1;
	} else if (memchr(text, '\0', n)) {
		set_err(err, errlen, "%s: holds a NUL byte: not a text file", path);
		rc = -1;
	} else {
		text[n] = '\0';
		rc = dm_fault_plan_parse(p, text, path, err, errlen);
	}
	free(text);
	fclose(f);
	return rc;
}

int dm_fault_plan_apply(const struct dm_fault_plan *p, struct dm_virtio *dv, unsigned index,
                        char *err, size_t errlen)
{
	int added = 0;

	for (unsigned i = 0; i < p->n; i++) {
		const struct dm_fault_plan_entry *e = &p->e[i];
		if (e->device >= 0 && (unsigned)e->device != index)
			continue;
		if (!dm_virtio_add_fault(dv, &e->fault)) {
			set_err(err, errlen, "device %u (%s): more than %d faults (plan line %u, %s)", index,
			        dv->name, DM_MAX_FAULTS, e->line, dm_fault_name(e->fault.kind));
			return -1;
		}
		added++;
	}
	return added;
}

int dm_fault_plan_format_entry(const struct dm_fault_plan_entry *e, char *buf, size_t size)
{
	int n = snprintf(buf, size, "fault %s", dm_fault_name(e->fault.kind));
	size_t used = n > 0 ? (size_t)n : 0;

#define APPEND(...)                                                                           \
	do {                                                                                      \
		int k_ = snprintf(buf + (used < size ? used : size), used < size ? size - used : 0,   \
		                  __VA_ARGS__);                                                       \
		if (k_ > 0)                                                                           \
			used += (size_t)k_;                                                               \
	} while (0)
	if (e->fault.queue >= 0)
		APPEND(" queue=%d", e->fault.queue);
	if (e->fault.nth)
		APPEND(" nth=%llu", (unsigned long long)e->fault.nth);
	if (e->fault.count != 1)
		APPEND(" count=%llu", (unsigned long long)e->fault.count);
	if (e->fault.value)
		APPEND(" value=%llu", (unsigned long long)e->fault.value);
	if (e->device >= 0)
		APPEND(" device=%d", e->device);
#undef APPEND
	return (int)used;
}
