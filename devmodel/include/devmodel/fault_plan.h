/* SPDX-License-Identifier: MIT */
/*
 * Fault plans: which faults the model commits, as data.  The same plan is a
 * text file (docs/fault-plans.md) or a struct filled in C; either way it is
 * loaded into a device's fault table with dm_fault_plan_apply().
 *
 *   # one fault a line; '#' starts a comment
 *   fault blk_ioerr nth=3
 *   fault used_len value=1 queue=0 device=1
 *   fault delay value=200000000 count=0
 */
#ifndef DM_FAULT_PLAN_H
#define DM_FAULT_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "devmodel/fault.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dm_virtio;

#define DM_FAULT_PLAN_MAX 64      /* entries in one plan */
#define DM_FAULT_PLAN_LINE_MAX 512 /* bytes in one line, newline included */
#define DM_FAULT_PLAN_ERR_MAX 1024/* a buffer this big holds any error message */

struct dm_fault_plan_entry {
	struct dm_fault fault;   /* kind, queue (-1 any), nth, count, value */
	int device;              /* machine device index it applies to; -1: every device */
	unsigned line;           /* line in the source text (0 when built in C) */
};

struct dm_fault_plan {
	struct dm_fault_plan_entry e[DM_FAULT_PLAN_MAX];
	unsigned n;
};

void dm_fault_plan_init(struct dm_fault_plan *p);
/* Append one entry (C plans).  false when the plan is full or the kind is
 * not a fault. */
bool dm_fault_plan_add(struct dm_fault_plan *p, const struct dm_fault *f, int device);
/*
 * Parse plan text (NUL-terminated) and append its entries.  name is used in
 * messages ("name:line: message").  Returns 0, or -1 with the first error
 * in err (always NUL-terminated when errlen > 0); p is then unchanged.
 */
int dm_fault_plan_parse(struct dm_fault_plan *p, const char *text, const char *name, char *err,
                        size_t errlen);
/* Read and parse a file; "path: cannot read: ..." when it cannot be read. */
int dm_fault_plan_load_file(struct dm_fault_plan *p, const char *path, char *err, size_t errlen);
/*
 * Add to dv the entries for device index (those with device -1 or index).
 * Returns the number added, or -1 with err set when dv's fault table is
 * full (entries before the one that did not fit stay added).
 */
int dm_fault_plan_apply(const struct dm_fault_plan *p, struct dm_virtio *dv, unsigned index,
                        char *err, size_t errlen);
/* One entry as a plan line (without newline), e.g. "fault used_len value=1". */
int dm_fault_plan_format_entry(const struct dm_fault_plan_entry *e, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
