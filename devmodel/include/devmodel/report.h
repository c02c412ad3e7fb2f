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
#define DM_REQ_IDS 4096    /* distinct ID texts numbered in a process (dm_req_intern) */

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
	 * holds index + 1, 0 when free.  Finding an ID by its text costs a
	 * hash and one string comparison (issue 15). */
	uint16_t index[DM_REPORT_IDS * 2];
	/* checked[] index + 1 of each interned ID by its number
	 * (dm_req_intern), 0 while this report has not counted it: a check
	 * by number costs a load and an increment (issue 15). */
	uint16_t by_num[DM_REQ_IDS];
};

void dm_report_init(struct dm_report *r);
void dm_report_add(struct dm_report *r, const char *req_id, const char *where, uint64_t time_ns,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Note that req_id was checked (whether it held or not). */
void dm_report_checked(struct dm_report *r, const char *req_id);

/*
 * Requirement IDs by number (issue 15).  dm_req_intern numbers an ID's
 * text as a report keeps it (its first 31 characters) in a table of the
 * process: the same text always gets the same number, whichever report or
 * call site asks; 0 for NULL and once DM_REQ_IDS - 1 texts are numbered
 * (a report then finds the ID by its text).  Safe from several threads.
 * The number only finds the report's entry faster: the report's counts are
 * exactly those of dm_report_checked(r, req_id).
 */
unsigned dm_req_intern(const char *req_id);
/* dm_report_checked(r, req_id) where num is dm_req_intern(req_id). */
void dm_report_checked_slow(struct dm_report *r, unsigned num, const char *req_id);
static inline void dm_report_checked_num(struct dm_report *r, unsigned num, const char *req_id)
{
	unsigned k;

	if (r && num && num < DM_REQ_IDS && (k = r->by_num[num]) != 0 && r->checked_count[k - 1] < UINT32_MAX) {
		r->checked_count[k - 1]++;
		return;
	}
	dm_report_checked_slow(r, num, req_id);
}

/*
 * dm_req_intern(req_id) at a check site: a string literal is numbered once
 * per call site, its number kept in a static there; anything else (a
 * buffer, a table's field) is numbered by its text at every call, so that
 * it counts as the ID it holds at that moment.  gcc and clang decide
 * __builtin_constant_p of a pointer when they parse it: 1 only for a
 * string literal, never for a function's parameter even once inlined, so
 * a static never serves two IDs.  req_id is evaluated twice by the
 * callers' macros: no side effects.
 */
#define DM_REQ_NUM(req_id)                                                                        \
	(__builtin_constant_p(req_id) ? __extension__({                                               \
		static unsigned dm_req_num_at_site_;                                                  \
		unsigned dm_req_n_ = __atomic_load_n(&dm_req_num_at_site_, __ATOMIC_RELAXED);          \
		if (__builtin_expect(dm_req_n_ == 0, 0)) {                                            \
			dm_req_n_ = dm_req_intern(req_id);                                            \
			__atomic_store_n(&dm_req_num_at_site_, dm_req_n_, __ATOMIC_RELAXED);          \
		}                                                                                     \
		dm_req_n_;                                                                            \
	})                                                                                            \
	                              : dm_req_intern(req_id))
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
