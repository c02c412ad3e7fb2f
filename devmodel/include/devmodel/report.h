/* SPDX-License-Identifier: MIT */
/*
 * Violation records: the driver broke a requirement of the spec.  Each names
 * the requirement ID from docs/spec/ (e.g. "DRV-2.7.4.2-1"), where it
 * happened (device, queue or register) and the virtual time.
 */
#ifndef DM_REPORT_H
#define DM_REPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DM_REPORT_KEEP 256 /* records kept; later ones only counted */

struct dm_violation {
	char req_id[32];
	char where[48];   /* "blk0 q0", "blk0 reg 0x070", ... */
	uint64_t time_ns;
	char detail[160];
};

struct dm_report {
	unsigned count;   /* total recorded (may exceed DM_REPORT_KEEP) */
	struct dm_violation v[DM_REPORT_KEEP];
	/* Requirement IDs the model checked at least once (for the
	 * conformance report): a small set, kept as a list. */
	unsigned nchecked;
	char checked[128][32];
};

void dm_report_init(struct dm_report *r);
void dm_report_add(struct dm_report *r, const char *req_id, const char *where, uint64_t time_ns,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Note that req_id was checked (whether it held or not). */
void dm_report_checked(struct dm_report *r, const char *req_id);
/* Human-readable listing, one violation a line. Returns bytes written. */
int dm_report_format(const struct dm_report *r, char *buf, unsigned size);

#ifdef __cplusplus
}
#endif
#endif
