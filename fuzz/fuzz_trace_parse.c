/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the trace parser (hx_trace_parse, docs/trace-format.md).  A
 * trace is input from outside; the input is the trace's text.
 *
 * Checked here, beyond the sanitizers (no crash, no leak, no read past the
 * input) and libFuzzer's limits (no unbounded allocation, no hang):
 *  - a rejected trace gives exactly one message "NAME:LINE: reason": the
 *    name as given, a decimal LINE of the input (1 to its line count; one
 *    past the last line only for what the end of the input lacks: "not a
 *    trace (empty)", "truncated: no ... line"), a non-empty reason;
 *  - an accepted trace has its command and bind headers, at most one event
 *    per input line, each event on a line of the input, its payload within
 *    HX_TRACE_MAX_PAYLOAD, times in order, and every event formats
 *    (hx_ev_format, as the divergence report does) as its op's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

#define NAME "fuzz.trace"

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_trace_parse: %s: %s\n", what, detail);
	abort();
}

/* Lines of the input: its newlines, and a last line without one. */
static size_t line_count(const uint8_t *data, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

static void check_error(const char *err, size_t nlines)
{
	size_t k = strlen(NAME);
	if (strncmp(err, NAME ":", k + 1) != 0)
		broken("the message does not start with the name", err);
	const char *d = err + k + 1, *p = d;
	unsigned long line = 0;
	while (*p >= '0' && *p <= '9' && p - d < 12)
		line = line * 10 + (unsigned long)(*p++ - '0');
	if (p == d || p[0] != ':' || p[1] != ' ' || !p[2])
		broken("the message is not NAME:LINE: reason", err);
	const char *why = p + 2;
	bool at_end = !strcmp(why, "not a trace (empty)") || !strncmp(why, "truncated: no '", 15);
	if (line == 0 || line > nlines + (at_end ? 1 : 0))
		broken("the line is not a line of the input", err);
}

static void check_trace(const struct hx_trace *t, size_t nlines)
{
	char buf[256];
	if (!hx_trace_header(t, "command") || !hx_trace_header(t, "bind"))
		broken("accepted", "a trace without its command or bind header");
	if (hx_trace_nevents(t) > nlines || t->end_line == 0 || t->end_line > nlines)
		broken("accepted", "more events than lines, or the end line outside the input");
	for (size_t i = 0; i < t->nev; i++) {
		const struct hx_ev *e = &t->ev[i];
		snprintf(buf, sizeof buf, "event %zu, line %u", i, e->line);
		if (e->op >= HX_EV_COUNT || e->line == 0 || e->line >= t->end_line)
			broken("an event outside the events", buf);
		if (i && (e->time < t->ev[i - 1].time || e->line <= t->ev[i - 1].line))
			broken("events out of order", buf);
		if (e->len > HX_TRACE_MAX_PAYLOAD || (e->len != 0) != (e->data != NULL))
			broken("a payload beyond reason", buf);
		char line[256];
		hx_ev_format(e, line, sizeof line);
		const char *name = hx_ev_name((enum hx_ev_op)e->op);
		if (strncmp(line, name, strlen(name)) != 0)
			broken("an event formats as another op", line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t nlines = line_count(data, size);
	err[0] = '\0';
	struct hx_trace *t = hx_trace_parse(NAME, (const char *)data, size, err, sizeof err);
	if (!t) {
		check_error(err, nlines);
		return 0;
	}
	check_trace(t, nlines);
	hx_trace_free(t);
	return 0;
}
