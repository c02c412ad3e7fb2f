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
#define DM_REPORT_IDS 256  /* distinct requirement IDs counted (234 driver statements) */

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
	 * conformance report, vlab conformance), in the order first checked,
	 * each with the number of times it was checked (held or not) and
	 * broken.  IDs beyond DM_REPORT_IDS are counted in ids_dropped. */
	unsigned nchecked;
	char checked[DM_REPORT_IDS][32];
	uint32_t checked_count[DM_REPORT_IDS];
	uint32_t violated_count[DM_REPORT_IDS];
	unsigned ids_dropped;
	/* Index of checked[] by a hash of the ID (open addressing): slot
	 * holds index + 1, 0 when free.  A check costs a hash and one string
	 * comparison, not a comparison with every ID seen (issue 15). */
	uint16_t index[DM_REPORT_IDS * 2];
	/* In front of it, the last ID strings seen at a few addresses (callers
	 * pass literals), two ways per hash of the address: a hit costs one
	 * strncmp to confirm. */
	const char *seen_at[1024];
	uint16_t seen_index[1024];
};

void dm_report_init(struct dm_report *r);
void dm_report_add(struct dm_report *r, const char *req_id, const char *where, uint64_t time_ns,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Note that req_id was checked (whether it held or not). */
void dm_report_checked(struct dm_report *r, const char *req_id);
/* Times req_id was checked (0: never), and times it was broken. */
uint32_t dm_report_check_count(const struct dm_report *r, const char *req_id);
uint32_t dm_report_violation_count(const struct dm_report *r, const char *req_id);
/* The first kept violation of req_id, NULL when none was kept. */
const struct dm_violation *dm_report_first(const struct dm_report *r, const char *req_id);
/* Human-readable listing, one violation a line. Returns bytes written. */
int dm_report_format(const struct dm_report *r, char *buf, unsigned size);

#ifdef __cplusplus
}
#endif
#endif
