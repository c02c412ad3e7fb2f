/* SPDX-License-Identifier: MIT */
/*
 * The conformance report's writers: Markdown (summary, cells, one table per
 * chapter), one self-contained HTML page (inline CSS and JS: the matrix
 * with colours and filters), JUnit XML (a testcase per requirement and
 * cell) and JSON (docs/conformance-report.md).
 */
#include <stdio.h>
#include <string.h>

#include "harness/conformance.h"

static const struct cf_result *res_at(const struct cf_run *run, unsigned r, unsigned c)
{
	return &run->res[(size_t)r * run->capcell + c];
}

/* Short class names of the verdicts (HTML, JSON keys stay the full names). */
static const char *const vclass[CF_NVERDICTS] = {"P", "F", "T", "A", "R", "N"};

/* One verdict for a requirement over all cells: FAIL if any cell failed,
 * else PASS if some cell checked it, else what the cells agree on (the
 * first cell's when they do not). */
static enum cf_verdict overall(const struct cf_run *run, unsigned r, unsigned *npass, unsigned *nreached)
{
	bool fail = false;

	*npass = *nreached = 0;
	for (unsigned c = 0; c < run->ncell; c++) {
		const struct cf_result *x = res_at(run, r, c);
		fail |= x->v == CF_FAIL;
		if (x->v == CF_PASS)
			(*npass)++;
		if (x->v != CF_NOT_REACHED)
			(*nreached)++;
	}
	if (fail)
		return CF_FAIL;
	if (*npass)
		return CF_PASS;
	return run->ncell ? res_at(run, r, 0)->v : CF_NOT_CHECKED;
}

static void overall_counts(const struct cf_run *run, unsigned counts[CF_NVERDICTS])
{
	unsigned a, b;
	memset(counts, 0, CF_NVERDICTS * sizeof counts[0]);
	for (unsigned r = 0; r < run->nreq; r++)
		counts[overall(run, r, &a, &b)]++;
}

/* Chapters in order of first appearance in the requirement list. */
static unsigned chapters(const struct cf_run *run, const char *out[], unsigned cap)
{
	unsigned n = 0;
	for (unsigned r = 0; r < run->nreq; r++) {
		unsigned k;
		for (k = 0; k < n && strcmp(out[k], run->req[r].chapter); k++)
			;
		if (k == n && n < cap)
			out[n++] = run->req[r].chapter;
	}
	return n;
}

/* Text for Markdown table cells: '|' and line ends would break the row. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* HTML and XML: the five special characters. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* XML 1.0 has no place for other control characters. */
			fputc((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' ? ' ' : *s, f);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static const char *how_name(enum cf_how h)
{
	static const char *const n[] = {"absent", "model", "test", "na", "unchecked"};
	return (unsigned)h < sizeof n / sizeof n[0] ? n[h] : "?";
}

static int finish(FILE *f)
{
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* ---- the device side (run->dev: one verdict per DEV- requirement) ---- */

/* The device side's counts per verdict; false when there is no device side. */
static bool dev_counts(const struct cf_run *dev, unsigned k[CF_NVERDICTS])
{
	if (dev)
		cf_count(dev, k);
	return dev != NULL;
}

/* The device side's table, the same columns in Markdown and HTML. */
static const char *const dev_cols[] = {"requirement", "level", "section", "verdict",
                                       "how",         "evidence", "detail", "summary"};

/* Column col of a device-table row: HTML with the class cls (none when
 * NULL), or Markdown. */
static void dev_cell(FILE *f, bool html, unsigned col, const char *cls, const char *s)
{
	if (!html) {
		fputs(col ? " | " : "| ", f);
		md_text(f, s);
		return;
	}
	fputs(col ? "<td" : "<tr><td", f);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	fputc('>', f);
	xml_text(f, s);
	fputs("</td>", f);
}

/* The device table's head and a row per requirement (one verdict each: the
 * device side's one cell). */
static void dev_table(const struct cf_run *dev, FILE *f, bool html)
{
	const unsigned ncol = sizeof dev_cols / sizeof dev_cols[0];

	fputs(html ? "<table id=\"d\"><thead><tr>" : "\n", f);
	for (unsigned c = 0; c < ncol; c++)
		fprintf(f, html ? "<th>%s</th>" : "| %s ", dev_cols[c]);
	fputs(html ? "</tr></thead>\n<tbody>\n" : "|\n", f);
	for (unsigned c = 0; !html && c < ncol; c++)
		fputs(c + 1 < ncol ? "| --- " : "| --- |\n", f);
	for (unsigned r = 0; r < dev->nreq; r++) {
		const struct cf_req *q = &dev->req[r];
		const struct cf_result *x = res_at(dev, r, 0);
		const char *cells[] = {q->id,         q->level, q->section, cf_verdict_name(x->v), how_name(q->how),
		                       q->evidence, x->detail, q->summary};
		for (unsigned c = 0; c < ncol; c++)
			dev_cell(f, html, c, c == 3 ? vclass[x->v] : c >= 5 ? "s" : NULL, cells[c]);
		fputs(html ? "</tr>\n" : " |\n", f);
	}
	if (html)
		fputs("</tbody></table>\n", f);
}

/* ---- Markdown ---- */

static void md_device(const struct cf_run *dev, FILE *f)
{
	unsigned k[CF_NVERDICTS];

	if (!dev_counts(dev, k))
		return;
	fprintf(f, "\n## Device side\n\nWhat the device model must honour for the report to mean anything: "
	           "%u device requirements, from the table `%s`. A `model` row is PASS when the tests it names "
	           "passed in the given CTest results (TESTED without results), NOT CHECKED when it names "
	           "none.\n\n| verdict | requirements |\n| --- | ---: |\n",
	        dev->nreq, dev->table_path ? dev->table_path : "?");
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, "| %s | %u |\n", cf_verdict_name((enum cf_verdict)v), k[v]);
	dev_table(dev, f, false);
}

static void md_overall_detail(FILE *f, const struct cf_run *run, unsigned r, enum cf_verdict v, unsigned npass,
                              unsigned nreached)
{
	if (v == CF_FAIL) {
		for (unsigned c = 0; c < run->ncell; c++) {
			const struct cf_result *x = res_at(run, r, c);
			if (x->v == CF_FAIL) {
				fprintf(f, "first in %s: ", run->cell[c].name);
				md_text(f, x->detail);
				return;
			}
		}
	}
	if (v == CF_PASS) {
		uint64_t n = 0;
		for (unsigned c = 0; c < run->ncell; c++)
			n += res_at(run, r, c)->n;
		fprintf(f, "held in %u of %u cells (%llu checks); not reached in %u", npass, run->ncell,
		        (unsigned long long)n, run->ncell - nreached);
		return;
	}
	md_text(f, run->ncell ? res_at(run, r, 0)->detail : "");
}

int cf_write_md(const struct cf_run *run, FILE *f)
{
	unsigned cell_counts[CF_NVERDICTS], req_counts[CF_NVERDICTS];
	const char *chap[32];
	unsigned nchap = chapters(run, chap, 32);

	cf_count(run, cell_counts);
	overall_counts(run, req_counts);
	fprintf(f, "# VIRTIO 1.2 driver conformance\n\n"
	           "Made by `vlab conformance` (docs/conformance-report.md) from the table `%s`: "
	           "%u requirements, %u cells.\n\n",
	        run->table_path ? run->table_path : "?", run->nreq, run->ncell);
	fputs("## Summary\n\n| verdict | requirements | requirement x cell |\n| --- | ---: | ---: |\n", f);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, "| %s | %u | %u |\n", cf_verdict_name((enum cf_verdict)v), req_counts[v], cell_counts[v]);
	fputs("\nA requirement's verdict over the cells: FAIL when it failed in one, else PASS when the "
	      "model checked it in one, else the cells' verdict.\n",
	      f);
	if (run->nunknown) {
		fputs("\nIDs the model checked that the requirement list does not have:", f);
		for (unsigned i = 0; i < run->nunknown; i++)
			fprintf(f, " `%s`", run->unknown[i]);
		fputs("\n", f);
	}
	if (run->mutants_given) {
		fprintf(f, "\n## Mutants\n\nMutation score: %u of %u driver mutants killed (the run on the mutant "
		           "FAILs the requirement it breaks).\n\n| mutant | requirement | caught |\n| --- | --- | --- |\n",
		        cf_mutants_killed(run), run->nmutants);
		for (unsigned i = 0; i < run->nmutants; i++) {
			const struct cf_mutant *m = &run->mutants[i];
			fprintf(f, "| `%s` | `%s` | %s", m->name, m->id, m->killed ? "yes" : "no: ");
			md_text(f, m->why);
			fputs(" |\n", f);
		}
	}

	fputs("\n## Cells\n\n| cell | transport | device | features offered | PASS | FAIL | NOT REACHED | workload |\n"
	      "| --- | --- | --- | --- | ---: | ---: | ---: | --- |\n",
	      f);
	for (unsigned c = 0; c < run->ncell; c++) {
		unsigned k[CF_NVERDICTS] = {0};
		for (unsigned r = 0; r < run->nreq; r++)
			k[res_at(run, r, c)->v]++;
		fprintf(f, "| %s | %s | %s | 0x%llx | %u | %u | %u | ", run->cell[c].name, run->cell[c].transport,
		        run->cell[c].device, (unsigned long long)run->cell[c].features, k[CF_PASS], k[CF_FAIL],
		        k[CF_NOT_REACHED]);
		md_text(f, run->cell[c].workload[0] ? run->cell[c].workload : "ok");
		fputs(" |\n", f);
	}

	for (unsigned h = 0; h < nchap; h++) {
		fprintf(f, "\n## Chapter: %s\n\n| requirement | level | section | verdict | how | detail | summary |\n"
		           "| --- | --- | --- | --- | --- | --- | --- |\n",
		        chap[h]);
		for (unsigned r = 0; r < run->nreq; r++) {
			const struct cf_req *q = &run->req[r];
			unsigned npass, nreached;
			enum cf_verdict v;
			if (strcmp(q->chapter, chap[h]))
				continue;
			v = overall(run, r, &npass, &nreached);
			fprintf(f, "| %s | %s | %s | %s | %s | ", q->id, q->level, q->section, cf_verdict_name(v),
			        how_name(q->how));
			md_overall_detail(f, run, r, v, npass, nreached);
			fputs(" | ", f);
			md_text(f, q->summary);
			fputs(" |\n", f);
		}
	}
	md_device(run->dev, f);
	return finish(f);
}

/* ---- HTML ---- */

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<title>VIRTIO 1.2 driver conformance</title>\n<style>\n"
	"body{font:14px/1.4 sans-serif;margin:1em;color:#222}\n"
	"h1{font-size:1.4em}table{border-collapse:collapse}\n"
	"td,th{border:1px solid #ccc;padding:2px 4px;vertical-align:top}\n"
	"#m td.c{width:9px;height:14px;padding:0;font-size:9px;text-align:center;cursor:default}\n"
	"#m th.c{font-size:9px;writing-mode:vertical-rl;padding:2px 0;font-weight:normal}\n"
	"#m td.s{max-width:28em;font-size:12px}\n"
	".P{background:#3a3}.F{background:#d22;color:#fff}.T{background:#7c7}.A{background:#bbb}"
	".R{background:#ec6}.N{background:#f2f2f2}\n"
	".k td{padding:2px 8px}.hide{display:none}\n"
	"#f label{margin-right:1em}\n</style></head><body>\n";

static const char html_script[] =
	"<script>\n"
	"function apply(){var c=document.getElementById('chap').value,l=document.getElementById('lvl').value,"
	"v=document.getElementById('verd').value;"
	"var rows=document.querySelectorAll('#m tbody tr');"
	"for(var i=0;i<rows.length;i++){var r=rows[i];"
	"var ok=(!c||r.dataset.chapter==c)&&(!l||r.dataset.level==l)&&(!v||r.dataset.v.indexOf(v)>=0);"
	"r.className=ok?'':'hide';}}\n"
	"['chap','lvl','verd'].forEach(function(id){document.getElementById(id).onchange=apply;});\n"
	"</script>\n";

static void html_select(FILE *f, const char *id, const char *label, const char *const *vals, unsigned n,
                        const char *const *labels)
{
	fprintf(f, "<label>%s <select id=\"%s\"><option value=\"\">all</option>", label, id);
	for (unsigned i = 0; i < n; i++) {
		fputs("<option value=\"", f);
		xml_text(f, vals[i]);
		fputs("\">", f);
		xml_text(f, labels ? labels[i] : vals[i]);
		fputs("</option>", f);
	}
	fputs("</select></label>\n", f);
}

static void html_device(const struct cf_run *dev, FILE *f)
{
	unsigned k[CF_NVERDICTS];

	if (!dev_counts(dev, k))
		return;
	fprintf(f, "<h2>Device side</h2>\n<p>What the device model must honour: %u device requirements, from the "
	           "table <code>", dev->nreq);
	xml_text(f, dev->table_path ? dev->table_path : "?");
	fputs("</code>.", f);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, " <span class=\"%s\">&nbsp;%s %u&nbsp;</span>", vclass[v], cf_verdict_name((enum cf_verdict)v),
		        k[v]);
	fputs("</p>\n", f);
	dev_table(dev, f, true);
}

int cf_write_html(const struct cf_run *run, FILE *f)
{
	unsigned cell_counts[CF_NVERDICTS], req_counts[CF_NVERDICTS];
	const char *chap[32], *levels[] = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"};
	const char *vnames[CF_NVERDICTS];
	unsigned nchap = chapters(run, chap, 32);

	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		vnames[v] = cf_verdict_name((enum cf_verdict)v);
	cf_count(run, cell_counts);
	overall_counts(run, req_counts);
	fputs(html_head, f);
	fprintf(f, "<h1>VIRTIO 1.2 driver conformance</h1>\n<p>Made by <code>vlab conformance</code> from the "
	           "table <code>");
	xml_text(f, run->table_path ? run->table_path : "?");
	fprintf(f, "</code>: %u requirements, %u cells. Hover a square for the detail.</p>\n", run->nreq,
	        run->ncell);
	fputs("<table class=\"k\"><tr><th>verdict</th><th>requirements</th><th>requirement x cell</th></tr>\n", f);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, "<tr><td class=\"%s\">%s</td><td>%u</td><td>%u</td></tr>\n", vclass[v], vnames[v],
		        req_counts[v], cell_counts[v]);
	fputs("</table>\n", f);
	if (run->mutants_given) {
		fprintf(f, "<p id=\"mutants\">Mutation score: %u of %u driver mutants killed", cf_mutants_killed(run),
		        run->nmutants);
		for (unsigned i = 0, n = 0; i < run->nmutants; i++)
			if (!run->mutants[i].killed) {
				fputs(n++ ? ", " : "; survivors: ", f);
				xml_text(f, run->mutants[i].name);
				fputs(" (", f);
				xml_text(f, run->mutants[i].why);
				fputs(")", f);
			}
		fputs(".</p>\n", f);
	}
	fputs("<p id=\"f\">", f);
	html_select(f, "chap", "chapter", chap, nchap, NULL);
	html_select(f, "lvl", "level", levels, 5, NULL);
	html_select(f, "verd", "has verdict", vclass, CF_NVERDICTS, vnames);
	fputs("</p>\n<table id=\"m\"><thead><tr><th>requirement</th><th>level</th><th>section</th><th>summary</th>", f);
	for (unsigned c = 0; c < run->ncell; c++) {
		fputs("<th class=\"c\" title=\"", f);
		xml_text(f, run->cell[c].name);
		if (run->cell[c].workload[0]) {
			fputs(": ", f);
			xml_text(f, run->cell[c].workload);
		}
		fputs("\">", f);
		xml_text(f, run->cell[c].name);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (unsigned r = 0; r < run->nreq; r++) {
		const struct cf_req *q = &run->req[r];
		char seen[CF_NVERDICTS + 1] = "";
		unsigned ns = 0;
		for (unsigned c = 0; c < run->ncell; c++) {
			const char *k = vclass[res_at(run, r, c)->v];
			if (!strchr(seen, k[0]))
				seen[ns++] = k[0];
		}
		fputs("<tr data-chapter=\"", f);
		xml_text(f, q->chapter);
		fputs("\" data-level=\"", f);
		xml_text(f, q->level);
		fprintf(f, "\" data-v=\"%s\"><td>%s</td><td>", seen, q->id);
		xml_text(f, q->level);
		fprintf(f, "</td><td>%s</td><td class=\"s\">", q->section);
		xml_text(f, q->summary);
		fputs("</td>", f);
		for (unsigned c = 0; c < run->ncell; c++) {
			const struct cf_result *x = res_at(run, r, c);
			fprintf(f, "<td class=\"c %s\" title=\"", vclass[x->v]);
			xml_text(f, run->cell[c].name);
			fprintf(f, ": %s: ", vnames[x->v]);
			xml_text(f, x->detail);
			fputs("\"></td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (run->nunknown) {
		fputs("<p>IDs the model checked that the requirement list does not have:", f);
		for (unsigned i = 0; i < run->nunknown; i++) {
			fputs(" <code>", f);
			xml_text(f, run->unknown[i]);
			fputs("</code>", f);
		}
		fputs("</p>\n", f);
	}
	html_device(run->dev, f);
	fputs(html_script, f);
	fputs("</body></html>\n", f);
	return finish(f);
}

/* ---- JUnit XML ---- */

/* One testcase: a <failure> for FAIL, <skipped> for N/A, NOT REACHED and
 * NOT CHECKED, nothing for PASS and TESTED. */
static void junit_verdict(const struct cf_result *x, FILE *f)
{
	if (x->v == CF_FAIL || x->v == CF_NA || x->v == CF_NOT_CHECKED || x->v == CF_NOT_REACHED) {
		fprintf(f, "<%s message=\"%s: ", x->v == CF_FAIL ? "failure" : "skipped", cf_verdict_name(x->v));
		xml_text(f, x->detail);
		fputs("\"/>", f);
	}
	fputs("</testcase>\n", f);
}

/* One <testsuite>: a testcase per requirement of run in its cell c:
 * conformance.CELL with testcases "ID CELL" of classname
 * conformance.CHAPTER, or for the device side (its one cell)
 * conformance.device with testcases "ID" of conformance.device.CHAPTER. */
static void junit_suite(const struct cf_run *run, unsigned c, bool device, FILE *f)
{
	unsigned fails = 0, skips = 0;

	for (unsigned r = 0; r < run->nreq; r++) {
		enum cf_verdict v = res_at(run, r, c)->v;
		fails += v == CF_FAIL;
		skips += v == CF_NA || v == CF_NOT_CHECKED || v == CF_NOT_REACHED;
	}
	fputs("<testsuite name=\"conformance.", f);
	xml_text(f, run->cell[c].name);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" skipped=\"%u\">\n", run->nreq, fails, skips);
	for (unsigned r = 0; r < run->nreq; r++) {
		fprintf(f, "<testcase classname=\"conformance.%s%s\" name=\"%s", device ? "device." : "",
		        run->req[r].chapter, run->req[r].id);
		if (!device) {
			fputc(' ', f);
			xml_text(f, run->cell[c].name);
		}
		fputs("\">", f);
		junit_verdict(res_at(run, r, c), f);
	}
	fputs("</testsuite>\n", f);
}

int cf_write_junit(const struct cf_run *run, FILE *f)
{
	unsigned counts[CF_NVERDICTS], dk[CF_NVERDICTS] = {0};

	cf_count(run, counts);
	dev_counts(run->dev, dk);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<testsuites name=\"vlab conformance\" tests=\"%u\" failures=\"%u\">\n",
	        run->nreq * run->ncell + (run->dev ? run->dev->nreq : 0), counts[CF_FAIL] + dk[CF_FAIL]);
	for (unsigned c = 0; c < run->ncell; c++)
		junit_suite(run, c, false, f);
	if (run->dev)
		junit_suite(run->dev, 0, true, f);
	fputs("</testsuites>\n", f);
	return finish(f);
}

/* ---- JSON ---- */

/* The requirement's fields both sides share: id, chapter, level, section,
 * summary, how, evidence. */
static void json_req(const struct cf_req *q, FILE *f)
{
	fputs("{\"id\": ", f);
	json_str(f, q->id);
	fputs(", \"chapter\": ", f);
	json_str(f, q->chapter);
	fputs(", \"level\": ", f);
	json_str(f, q->level);
	fputs(", \"section\": ", f);
	json_str(f, q->section);
	fputs(", \"summary\": ", f);
	json_str(f, q->summary);
	fprintf(f, ", \"how\": \"%s\", \"evidence\": ", how_name(q->how));
	json_str(f, q->evidence);
}

/* ,"device": {table, summary (per verdict: requirements), requirements
 * (the shared fields, verdict, detail)}. */
static void json_device(const struct cf_run *dev, FILE *f)
{
	unsigned k[CF_NVERDICTS];

	if (!dev_counts(dev, k))
		return;
	fputs(",\n  \"device\": {\n    \"table\": ", f);
	json_str(f, dev->table_path ? dev->table_path : "");
	fputs(",\n    \"summary\": {", f);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, "%s\"%s\": {\"requirements\": %u}", v ? ", " : "", cf_verdict_name((enum cf_verdict)v), k[v]);
	fputs("},\n    \"requirements\": [\n", f);
	for (unsigned r = 0; r < dev->nreq; r++) {
		const struct cf_result *x = res_at(dev, r, 0);
		fputs("      ", f);
		json_req(&dev->req[r], f);
		fprintf(f, ", \"verdict\": \"%s\", \"detail\": ", cf_verdict_name(x->v));
		json_str(f, x->detail);
		fprintf(f, "}%s\n", r + 1 < dev->nreq ? "," : "");
	}
	fputs("    ]\n  }", f);
}

/* A mutant in the JSON: {name, id, why} (a survivor) or {name, id, killed}. */
static void json_mutant(FILE *f, const struct cf_mutant *m, unsigned nth, bool survivor)
{
	fputs(nth ? ", {\"name\": " : "{\"name\": ", f);
	json_str(f, m->name);
	fputs(", \"id\": ", f);
	json_str(f, m->id);
	if (survivor) {
		fputs(", \"why\": ", f);
		json_str(f, m->why);
	} else {
		fprintf(f, ", \"killed\": %s", m->killed ? "true" : "false");
	}
	fputs("}", f);
}

int cf_write_json(const struct cf_run *run, FILE *f)
{
	unsigned cell_counts[CF_NVERDICTS], req_counts[CF_NVERDICTS];

	cf_count(run, cell_counts);
	overall_counts(run, req_counts);
	fputs("{\n  \"tool\": \"vlab conformance\",\n  \"spec\": \"VIRTIO 1.2\",\n  \"table\": ", f);
	json_str(f, run->table_path ? run->table_path : "");
	fputs(",\n  \"summary\": {", f);
	for (unsigned v = 0; v < CF_NVERDICTS; v++)
		fprintf(f, "%s\"%s\": {\"requirements\": %u, \"cells\": %u}", v ? ", " : "",
		        cf_verdict_name((enum cf_verdict)v), req_counts[v], cell_counts[v]);
	fputs("},\n  \"mutants\": ", f);
	if (run->mutants_given) {
		fprintf(f, "{\"killed\": %u, \"total\": %u, \"survivors\": [", cf_mutants_killed(run), run->nmutants);
		for (unsigned i = 0, n = 0; i < run->nmutants; i++)
			if (!run->mutants[i].killed)
				json_mutant(f, &run->mutants[i], n++, true);
		fputs("], \"list\": [", f);
		for (unsigned i = 0; i < run->nmutants; i++)
			json_mutant(f, &run->mutants[i], i, false);
		fputs("]}", f);
	} else {
		fputs("null", f);
	}
	fputs(",\n  \"unknown_ids\": [", f);
	for (unsigned i = 0; i < run->nunknown; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, run->unknown[i]);
	}
	fputs("],\n  \"cells\": [\n", f);
	for (unsigned c = 0; c < run->ncell; c++) {
		const struct cf_cell *k = &run->cell[c];
		fputs("    {\"name\": ", f);
		json_str(f, k->name);
		fprintf(f, ", \"transport\": \"%s\", \"device\": \"%s\", \"feature_set\": ", k->transport, k->device);
		json_str(f, k->fset);
		fprintf(f, ", \"features\": \"0x%llx\", \"workload\": ", (unsigned long long)k->features);
		json_str(f, k->workload[0] ? k->workload : "ok");
		fprintf(f, "}%s\n", c + 1 < run->ncell ? "," : "");
	}
	fputs("  ],\n  \"requirements\": [\n", f);
	for (unsigned r = 0; r < run->nreq; r++) {
		const struct cf_req *q = &run->req[r];
		unsigned a, b;
		fputs("    ", f);
		json_req(q, f);
		fprintf(f, ", \"verdict\": \"%s\",\n     \"cells\": {", cf_verdict_name(overall(run, r, &a, &b)));
		for (unsigned c = 0; c < run->ncell; c++) {
			const struct cf_result *x = res_at(run, r, c);
			fputs(c ? ",\n       " : "\n       ", f);
			json_str(f, run->cell[c].name);
			fprintf(f, ": {\"verdict\": \"%s\", \"checked\": %u, \"detail\": ", cf_verdict_name(x->v), x->n);
			json_str(f, x->detail);
			fputs("}", f);
		}
		fprintf(f, "}}%s\n", r + 1 < run->nreq ? "," : "");
	}
	fputs("  ]", f);
	json_device(run->dev, f);
	fputs("\n}\n", f);
	return finish(f);
}
