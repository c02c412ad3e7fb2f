/* SPDX-License-Identifier: MIT */
/*
 * The spec conformance report: the requirement list, the table of how each
 * requirement is checked, CTest results, and the verdict per requirement
 * per cell (docs/conformance-report.md).  The writers are in
 * conformance_out.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/conformance.h"

#define CF_LINE_MAX 4096
#define CF_MAX_COLS 16

static const char *const verdict_names[CF_NVERDICTS] = {
	"PASS", "FAIL", "TESTED", "N/A", "NOT REACHED", "NOT CHECKED",
};

const char *cf_verdict_name(enum cf_verdict v)
{
	return (unsigned)v < CF_NVERDICTS ? verdict_names[v] : "?";
}

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* src into dst, cut to size - 1 bytes. */
static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Split line (modified) at tabs into at most CF_MAX_COLS columns; strips
 * the line end.  Returns the number of columns. */
static unsigned split_tabs(char *line, char *col[CF_MAX_COLS])
{
	unsigned n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line;; ) {
		char *tab = strchr(p, '\t');
		if (n < CF_MAX_COLS)
			col[n] = p;
		n++;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static int col_index(char *const *col, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n && i < CF_MAX_COLS; i++)
		if (!strcmp(col[i], name))
			return (int)i;
	return -1;
}

static struct cf_req *find_req(const struct cf_run *run, const char *id)
{
	for (unsigned i = 0; i < run->nreq; i++)
		if (!strcmp(run->req[i].id, id))
			return &run->req[i];
	return NULL;
}

int cf_load_spec(struct cf_run *run, const char *path, char *err, size_t errlen)
{
	char line[CF_LINE_MAX], *col[CF_MAX_COLS];
	int ci_id = -1, ci_sec = -1, ci_chap = -1, ci_lvl = -1, ci_sum = -1;
	unsigned lineno = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		errf(err, errlen, "%s: cannot open the requirement list", path);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned n;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			errf(err, errlen, "%s:%u: line too long", path, lineno);
			goto bad;
		}
		n = split_tabs(line, col);
		if (lineno == 1) {
			ci_id = col_index(col, n, "req_id");
			ci_sec = col_index(col, n, "section_v1.2");
			ci_chap = col_index(col, n, "chapter");
			ci_lvl = col_index(col, n, "level");
			ci_sum = col_index(col, n, "summary");
			if (ci_id < 0 || ci_sec < 0 || ci_chap < 0 || ci_lvl < 0 || ci_sum < 0) {
				errf(err, errlen, "%s:1: not a requirement list (columns req_id, section_v1.2, "
				     "chapter, level, summary)", path);
				goto bad;
			}
			continue;
		}
		if (!line[0])
			continue;
		if (n > CF_MAX_COLS || (unsigned)ci_sum >= n || (unsigned)ci_id >= n || (unsigned)ci_sec >= n ||
		    (unsigned)ci_chap >= n || (unsigned)ci_lvl >= n) {
			errf(err, errlen, "%s:%u: %u columns, not what the header says", path, lineno, n);
			goto bad;
		}
		if (find_req(run, col[ci_id])) {
			errf(err, errlen, "%s:%u: %s given twice", path, lineno, col[ci_id]);
			goto bad;
		}
		if (run->nreq == cap) {
			unsigned ncap = cap ? cap * 2 : 256;
			struct cf_req *nr = realloc(run->req, ncap * sizeof *nr);
			if (!nr) {
				errf(err, errlen, "out of memory");
				goto bad;
			}
			run->req = nr;
			cap = ncap;
		}
		struct cf_req *r = &run->req[run->nreq++];
		memset(r, 0, sizeof *r);
		copy_field(r->id, sizeof r->id, col[ci_id]);
		copy_field(r->section, sizeof r->section, col[ci_sec]);
		copy_field(r->chapter, sizeof r->chapter, col[ci_chap]);
		copy_field(r->level, sizeof r->level, col[ci_lvl]);
		copy_field(r->summary, sizeof r->summary, col[ci_sum]);
	}
	fclose(f);
	if (run->nreq == 0) {
		errf(err, errlen, "%s: no requirements", path);
		return -1;
	}
	return 0;
bad:
	fclose(f);
	return -1;
}

static const struct {
	const char *name;
	enum cf_how how;
} hows[] = {
	{"model", CF_HOW_MODEL}, {"test", CF_HOW_TEST}, {"na", CF_HOW_NA}, {"unchecked", CF_HOW_UNCHECKED},
};

int cf_load_table(struct cf_run *run, const char *path, char *err, size_t errlen)
{
	char line[CF_LINE_MAX], *col[CF_MAX_COLS];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	run->table_path = path;
	if (!f) {
		errf(err, errlen, "%s: cannot open the conformance table (--table FILE names another)", path);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned n;
		struct cf_req *r;
		enum cf_how how = CF_HOW_NONE;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			errf(err, errlen, "%s:%u: line too long", path, lineno);
			goto bad;
		}
		n = split_tabs(line, col);
		if (!col[0][0] || col[0][0] == '#')
			continue;
		if (lineno == 1 && !strcmp(col[0], "req_id"))
			continue;
		if (n != 3) {
			errf(err, errlen, "%s:%u: %u column%s; a row is req_id<TAB>how<TAB>evidence", path, lineno, n,
			     n == 1 ? "" : "s");
			goto bad;
		}
		r = find_req(run, col[0]);
		if (!r) {
			errf(err, errlen, "%s:%u: '%s' is not a requirement of the list", path, lineno, col[0]);
			goto bad;
		}
		if (r->how != CF_HOW_NONE) {
			errf(err, errlen, "%s:%u: %s has a row already", path, lineno, col[0]);
			goto bad;
		}
		for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++)
			if (!strcmp(col[1], hows[i].name))
				how = hows[i].how;
		if (how == CF_HOW_NONE) {
			errf(err, errlen, "%s:%u: how '%s' is none of model, test, na, unchecked", path, lineno, col[1]);
			goto bad;
		}
		if (!col[2][0]) {
			errf(err, errlen, "%s:%u: %s: the evidence is empty", path, lineno, col[0]);
			goto bad;
		}
		r->how = how;
		copy_field(r->evidence, sizeof r->evidence, col[2]);
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

/* The value of attribute name="..." in the tag starting at tag (up to '>'),
 * into out; false when absent. */
static bool xml_attr(const char *tag, const char *name, char *out, size_t size)
{
	const char *end = strchr(tag, '>');
	size_t nl = strlen(name);

	for (const char *p = tag; (p = strstr(p, name)) && (!end || p < end); p += nl) {
		if (p[-1] != ' ' || p[nl] != '=' || p[nl + 1] != '"')
			continue;
		const char *v = p + nl + 2, *q = strchr(v, '"');
		size_t k = 0;
		if (!q)
			return false;
		for (; v < q && k + 1 < size; v++) {
			/* The entities ctest writes in names. */
			static const struct {
				const char *ent;
				char c;
			} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
			char c = *v;
			for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++)
				if (!strncmp(v, ents[e].ent, strlen(ents[e].ent))) {
					c = ents[e].c;
					v += strlen(ents[e].ent) - 1;
					break;
				}
			out[k++] = c;
		}
		out[k] = '\0';
		return true;
	}
	return false;
}

int cf_load_mutants(struct cf_run *run, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned ln = 0;

	if (!f) {
		errf(err, errlen, "--mutants %s: cannot open", path);
		return -1;
	}
	run->mutants_given = true;
	while (fgets(line, sizeof line, f)) {
		char *fld[4] = {0};
		unsigned n = 0;
		struct cf_mutant *m;
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		for (char *p = line; p && n < 4; n++) {
			fld[n] = p;
			p = n < 3 ? strchr(p, '|') : NULL;
			if (p)
				*p++ = '\0';
		}
		bool killed = n == 3 && !strcmp(fld[2], "killed");
		if (!killed && !(n == 4 && !strcmp(fld[2], "survived") && fld[3][0])) {
			errf(err, errlen, "%s:%u: expected NAME|ID|killed or NAME|ID|survived|why", path, ln);
			fclose(f);
			return -1;
		}
		if (!fld[0][0] || !fld[1][0] || strlen(fld[0]) >= sizeof m->name || strlen(fld[1]) >= sizeof m->id) {
			errf(err, errlen, "%s:%u: a bad mutant name or ID", path, ln);
			fclose(f);
			return -1;
		}
		if (run->nmutants % 64 == 0) {
			struct cf_mutant *nm = realloc(run->mutants, (run->nmutants + 64) * sizeof *nm);
			if (!nm) {
				errf(err, errlen, "out of memory");
				fclose(f);
				return -1;
			}
			run->mutants = nm;
		}
		m = &run->mutants[run->nmutants++];
		memset(m, 0, sizeof *m);
		copy_field(m->name, sizeof m->name, fld[0]);
		copy_field(m->id, sizeof m->id, fld[1]);
		m->killed = killed;
		if (!killed)
			copy_field(m->why, sizeof m->why, fld[3]);
	}
	fclose(f);
	return 0;
}

unsigned cf_mutants_killed(const struct cf_run *run)
{
	unsigned k = 0;
	for (unsigned i = 0; i < run->nmutants; i++)
		k += run->mutants[i].killed;
	return k;
}

int cf_load_junit(struct cf_run *run, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long len;

	if (!f) {
		errf(err, errlen, "--results %s: cannot open", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(text = malloc((size_t)len + 1)) || fread(text, 1, (size_t)len, f) != (size_t)len) {
		errf(err, errlen, "--results %s: cannot read", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	if (!strstr(text, "<testsuite")) {
		errf(err, errlen, "--results %s: not a JUnit file (no <testsuite>)", path);
		free(text);
		return -1;
	}
	for (char *p = text; (p = strstr(p, "<testcase")); p++) {
		char status[32] = "";
		struct cf_testresult *t;
		char *close = strchr(p, '>');
		if (!close)
			break;
		/* The body up to </testcase> (none when the tag closes itself). */
		char *end = close[-1] == '/' ? close : strstr(close, "</testcase>");
		if (!end)
			end = close;
		if (run->ntests % 256 == 0) {
			struct cf_testresult *nt = realloc(run->tests, (run->ntests + 256) * sizeof *nt);
			if (!nt) {
				errf(err, errlen, "out of memory");
				free(text);
				return -1;
			}
			run->tests = nt;
		}
		t = &run->tests[run->ntests];
		if (!xml_attr(p, "name", t->name, sizeof t->name))
			continue;
		char saved = *end;
		*end = '\0';
		bool has_status = xml_attr(p, "status", status, sizeof status);
		/* A skipped test (GTEST_SKIP, SKIP_RETURN_CODE: CTest writes
		 * status="notrun" and a <skipped> element) neither passed nor
		 * failed: it is no evidence either way. */
		t->skipped = !strstr(close, "<failure") && !strstr(close, "<error") &&
		             (strstr(close, "<skipped") || (has_status && !strcmp(status, "notrun")));
		t->passed = !t->skipped && !strstr(close, "<failure") && !strstr(close, "<error") &&
		            !(has_status && strcmp(status, "run") != 0);
		*end = saved;
		run->ntests++;
	}
	free(text);
	run->tests_given = true;
	return 0;
}

int cf_alloc_cells(struct cf_run *run, unsigned ncell)
{
	run->cell = calloc(ncell ? ncell : 1, sizeof *run->cell);
	run->res = calloc((size_t)run->nreq * (ncell ? ncell : 1), sizeof *run->res);
	if (!run->cell || !run->res)
		return -1;
	run->capcell = ncell;
	run->ncell = 0;
	return 0;
}

/* How many of the given results pattern names (the CTest name, or a
 * regex over the names) and ran, how many of them failed, the first
 * failed, and how many it names were skipped (counted apart: a skipped
 * test is neither matched nor failed). */
static void match_tests(const struct cf_run *run, const char *pattern, unsigned *matched, unsigned *failed,
                        const char **first_failed, unsigned *skipped)
{
	regex_t re;
	bool use_re = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0;

	for (unsigned i = 0; i < run->ntests; i++) {
		const struct cf_testresult *t = &run->tests[i];
		if (strcmp(t->name, pattern) != 0 && !(use_re && regexec(&re, t->name, 0, NULL, 0) == 0))
			continue;
		if (t->skipped) {
			(*skipped)++;
			continue;
		}
		(*matched)++;
		if (!t->passed && !(*failed)++)
			*first_failed = t->name;
	}
	if (use_re)
		regfree(&re);
}

/* A test row's verdict: from the given results, else "not given". */
static void judge_test(const struct cf_run *run, const struct cf_req *r, struct cf_result *out)
{
	unsigned matched = 0, failed = 0, skipped = 0;
	const char *first_failed = NULL;

	out->v = CF_TESTED;
	if (!run->tests_given) {
		snprintf(out->detail, sizeof out->detail, "%.300s: named test, result not given", r->evidence);
		return;
	}
	match_tests(run, r->evidence, &matched, &failed, &first_failed, &skipped);
	if (failed) {
		out->v = CF_FAIL;
		snprintf(out->detail, sizeof out->detail, "named test %s failed (%u of %u matching)", first_failed,
		         failed, matched);
	} else if (matched) {
		snprintf(out->detail, sizeof out->detail, "%.300s: %u test%s passed%s", r->evidence, matched,
		         matched == 1 ? "" : "s", skipped ? " (others skipped)" : "");
	} else if (skipped) {
		/* Every test it names was skipped: nothing shows it held. */
		out->v = CF_NOT_CHECKED;
		snprintf(out->detail, sizeof out->detail, "%.300s: every named test skipped (%u)", r->evidence, skipped);
	} else {
		snprintf(out->detail, sizeof out->detail, "%.300s: named test, not in the given results", r->evidence);
	}
}

static void note_unknown(struct cf_run *run, const char *id, unsigned broken)
{
	const unsigned cap = sizeof run->unknown / sizeof run->unknown[0];
	unsigned i;

	for (i = 0; i < run->nunknown; i++)
		if (!strcmp(run->unknown[i], id))
			break;
	if (i == run->nunknown) {
		if (run->nunknown == cap)
			return;
		copy_field(run->unknown[run->nunknown++], sizeof run->unknown[0], id);
	}
	run->unknown_broken_n[i] += broken;
}

void cf_judge_cell(struct cf_run *run, unsigned c, const struct dm_report *rep)
{
	for (unsigned i = 0; i < rep->nchecked && i < DM_REPORT_IDS; i++)
		if (!find_req(run, rep->checked[i])) {
			note_unknown(run, rep->checked[i], rep->violated_count[i]);
			run->unknown_broken += rep->violated_count[i];
		}
	for (unsigned i = 0; i < run->nreq; i++) {
		const struct cf_req *r = &run->req[i];
		struct cf_result *out = &run->res[(size_t)i * run->capcell + c];
		uint32_t n = dm_report_check_count(rep, r->id);
		uint32_t broken = dm_report_violation_count(rep, r->id);

		memset(out, 0, sizeof *out);
		out->n = n;
		if (broken) {
			/* Broken is FAIL whatever the table says. */
			const struct dm_violation *v = dm_report_first(rep, r->id);
			out->v = CF_FAIL;
			if (v)
				snprintf(out->detail, sizeof out->detail, "broken %u of %u times; first at t=%lluns, %s: %s",
				         broken, n, (unsigned long long)v->time_ns, v->where, v->detail);
			else
				snprintf(out->detail, sizeof out->detail, "broken %u of %u times (record not kept)", broken,
				         n);
			continue;
		}
		switch (r->how) {
		case CF_HOW_MODEL:
			out->v = n ? CF_PASS : CF_NOT_REACHED;
			if (n)
				snprintf(out->detail, sizeof out->detail, "checked %u time%s, held", n, n == 1 ? "" : "s");
			else
				snprintf(out->detail, sizeof out->detail, "this cell's workload never reached the check");
			break;
		case CF_HOW_TEST:
			judge_test(run, r, out);
			break;
		case CF_HOW_NA:
			out->v = CF_NA;
			copy_field(out->detail, sizeof out->detail, r->evidence);
			break;
		case CF_HOW_UNCHECKED:
			out->v = CF_NOT_CHECKED;
			copy_field(out->detail, sizeof out->detail, r->evidence);
			break;
		case CF_HOW_NONE:
		default:
			out->v = CF_NOT_CHECKED;
			if (n)
				snprintf(out->detail, sizeof out->detail,
				         "not in the table (the model checked it %u times here: give it a row)", n);
			else
				snprintf(out->detail, sizeof out->detail, "not in the table");
			break;
		}
	}
}

int cf_load_device(struct cf_run *run, const char *spec, const char *table, char *err, size_t errlen)
{
	struct cf_run *dev = calloc(1, sizeof *dev);

	run->dev = dev;
	if (!dev) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	if (cf_load_spec(dev, spec, err, errlen) || cf_load_table(dev, table, err, errlen))
		return -1;
	if (cf_alloc_cells(dev, 1) != 0) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	dev->ncell = 1;
	copy_field(dev->cell[0].name, sizeof dev->cell[0].name, "device");
	return 0;
}

/* A device model row (DEV-...): the words of its evidence without a '/'
 * are the tests that show the model honours it (the others are files). */
static void judge_device_model(const struct cf_run *run, const struct cf_req *r, struct cf_result *out)
{
	char words[sizeof r->evidence], *save = NULL;
	unsigned named = 0, matched = 0, failed = 0, skipped = 0;
	const char *first_failed = NULL;

	copy_field(words, sizeof words, r->evidence);
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		unsigned m = 0;
		if (strchr(w, '/'))
			continue;
		named++;
		match_tests(run, w, &m, &failed, &first_failed, &skipped);
		matched += m != 0;
	}
	out->v = named ? CF_TESTED : CF_NOT_CHECKED;
	if (!named)
		snprintf(out->detail, sizeof out->detail, "honoured by the model (%.300s); no test named", r->evidence);
	else if (!run->tests_given)
		snprintf(out->detail, sizeof out->detail, "%u named test%s, result not given", named,
		         named == 1 ? "" : "s");
	else if (failed) {
		out->v = CF_FAIL;
		snprintf(out->detail, sizeof out->detail, "named test %.200s failed", first_failed);
	} else if (matched == named) {
		out->v = CF_PASS;
		snprintf(out->detail, sizeof out->detail, "%u named test%s passed", named, named == 1 ? "" : "s");
	} else {
		snprintf(out->detail, sizeof out->detail, "%u of %u named tests not in the given results (or skipped)",
		         named - matched, named);
	}
}

void cf_judge_device(struct cf_run *run)
{
	struct cf_run *dev = run->dev;

	for (unsigned i = 0; dev && i < dev->nreq; i++) {
		const struct cf_req *r = &dev->req[i];
		struct cf_result *out = &dev->res[i];

		memset(out, 0, sizeof *out);
		if (r->how == CF_HOW_MODEL) {
			judge_device_model(run, r, out);
			continue;
		}
		out->v = r->how == CF_HOW_NA ? CF_NA : CF_NOT_CHECKED;
		if (r->how == CF_HOW_TEST)
			judge_test(run, r, out);
		else
			copy_field(out->detail, sizeof out->detail, r->how == CF_HOW_NONE ? "not in the table" : r->evidence);
	}
}

void cf_count(const struct cf_run *run, unsigned counts[CF_NVERDICTS])
{
	memset(counts, 0, CF_NVERDICTS * sizeof counts[0]);
	for (unsigned i = 0; i < run->nreq; i++)
		for (unsigned c = 0; c < run->ncell; c++)
			counts[run->res[(size_t)i * run->capcell + c].v]++;
}

void cf_free(struct cf_run *run)
{
	if (run->dev) {
		cf_free(run->dev);
		free(run->dev);
	}
	free(run->req);
	free(run->cell);
	free(run->res);
	free(run->tests);
	free(run->mutants);
	memset(run, 0, sizeof *run);
}
