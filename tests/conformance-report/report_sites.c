/* SPDX-License-Identifier: MIT */
/* Check sites written as the model writes them (C, DM_REQ_NUM), for
 * report_counts_test.cpp: a literal ID is numbered once at its site, an ID
 * in a buffer by its text at every call. */
#include "report_sites.h"

void report_site_literal(struct dm_report *r)
{
	dm_report_checked_num(r, DM_REQ_NUM("DRV-2.7.4.2-1"), "DRV-2.7.4.2-1");
}

void report_site_buffer(struct dm_report *r, const char *req_id)
{
	dm_report_checked_num(r, DM_REQ_NUM(req_id), req_id);
}

int report_site_literal_is_constant(void)
{
	return __builtin_constant_p("DRV-2.7.4.2-1");
}

int report_site_buffer_is_constant(const char *req_id)
{
	return __builtin_constant_p(req_id);
}
