/* SPDX-License-Identifier: MIT */
/* Transcript output for scenarios. */
#include "scenario.h"

void sc_line(struct sc_out *o, const char *text)
{
	if (o && o->line)
		o->line(o->ctx, text);
}

void sc_fail_line(struct sc_out *o, const char *text)
{
	char line[SC_LINE_MAX + 8];
	vlab_snprintf(line, sizeof line, "FAIL: %s", text);
	sc_line(o, line);
	if (o)
		o->failures++;
}
