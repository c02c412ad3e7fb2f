/* SPDX-License-Identifier: MIT */
#ifndef REPORT_SITES_H
#define REPORT_SITES_H

#include "devmodel/report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One site checking the literal "DRV-2.7.4.2-1", whichever report. */
void report_site_literal(struct dm_report *r);
/* One site checking the ID a buffer holds. */
void report_site_buffer(struct dm_report *r, const char *req_id);
/* What the compiler answered at those sites (1: numbered once there). */
int report_site_literal_is_constant(void);
int report_site_buffer_is_constant(const char *req_id);

#ifdef __cplusplus
}
#endif
#endif
