/* SPDX-License-Identifier: MIT */
/*
 * The spec conformance report (vlab conformance, docs/conformance-report.md):
 * the requirement list (docs/spec/virtio-1.2-driver-requirements.tsv), the
 * table saying how each requirement is checked (req_id, how, evidence), the
 * cells of the matrix, a verdict per requirement per cell, and the writers
 * (Markdown, HTML, JUnit XML, JSON).  The cells' workload is vlab's
 * (harness/vlab/cmd_conformance.c); this file only judges and writes.
 */
#ifndef HX_CONFORMANCE_H
#define HX_CONFORMANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devmodel/report.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cf_how {
	CF_HOW_NONE = 0,   /* not in the table */
	CF_HOW_MODEL,      /* the model checks it while the driver runs */
	CF_HOW_TEST,       /* a named test (CTest name or -R regex) */
	CF_HOW_NA,         /* not applicable (evidence: why) */
	CF_HOW_UNCHECKED,  /* not checked (evidence: why) */
};

enum cf_verdict {
	CF_PASS = 0,       /* checked N times in the cell, held every time */
	CF_FAIL,           /* broken (first breach), or its named test failed */
	CF_TESTED,         /* a named test; passed, or no result given */
	CF_NA,             /* not applicable */
	CF_NOT_REACHED,    /* a model check the cell's workload never reached */
	CF_NOT_CHECKED,    /* nothing checks it (unchecked, or not in the table) */
	CF_NVERDICTS
};

const char *cf_verdict_name(enum cf_verdict v);

struct cf_req {
	char id[32];
	char section[16];
	char chapter[16];
	char level[12];
	char summary[320];
	enum cf_how how;
	char evidence[320];
};

struct cf_cell {
	char name[64];       /* "mmio/blk/qemu", "pci/net/-MRG_RXBUF" */
	char transport[20];  /* hx_transport_name() */
	char device[8];      /* "blk", "net" */
	char fset[32];       /* "qemu", "minimal", "full", "-NAME" */
	uint64_t features;   /* what the device offers */
	char workload[160];  /* "" or the first workload step that failed unexpectedly */
};

struct cf_result {
	enum cf_verdict v;
	uint32_t n;          /* times checked (PASS, FAIL) */
	char detail[400];    /* FAIL: the first breach; others: why */
};

/* A CTest result from a JUnit file (ctest --output-junit). */
struct cf_testresult {
	char name[160];
	bool passed;
	bool skipped; /* neither passed nor failed */
};

/* A driver mutant's result (vlab conformance --mutants FILE): the test-only
 * build with one deliberate breach, and whether the conformance run on it
 * reported FAIL on the requirement it breaks (killed). */
struct cf_mutant {
	char name[48];
	char id[32];
	bool killed;
	char why[400]; /* a survivor: why nothing catches it */
};

struct cf_run {
	struct cf_req *req;
	unsigned nreq;
	struct cf_cell *cell;
	unsigned ncell, capcell;
	struct cf_result *res; /* nreq x capcell, res[r * capcell + c] */
	struct cf_testresult *tests;
	unsigned ntests;
	bool tests_given;
	/* IDs the model checked that the requirement list does not know. */
	char unknown[32][32];
	unsigned nunknown;
	unsigned unknown_broken; /* breaches of such IDs: a FAIL too */
	unsigned unknown_broken_n[32]; /* per unknown ID (its FAIL line) */
	struct cf_mutant *mutants; /* --mutants: the mutation score */
	unsigned nmutants;
	bool mutants_given;
	const char *table_path;
	/* The device side (docs/spec/conformance-device.tsv), or NULL: its
	 * requirements with one verdict each (one cell, "device"). */
	struct cf_run *dev;
};

/* Mutant results, one a line: NAME|ID|killed, or NAME|ID|survived|why
 * ('#' comments and blank lines skipped).  0, or -1 with "FILE:LINE: why". */
int cf_load_mutants(struct cf_run *run, const char *path, char *err, size_t errlen);
/* Mutants killed (their own ID FAILed). */
unsigned cf_mutants_killed(const struct cf_run *run);
/* Requirement list from the spec TSV (header: req_id, section_v1.2, ...,
 * chapter, level, ..., summary).  0, or -1 with a message in err. */
int cf_load_spec(struct cf_run *run, const char *path, char *err, size_t errlen);
/* The table (req_id<TAB>how<TAB>evidence, '#' comments, an optional header
 * line starting with req_id).  0, or -1 with "FILE:LINE: why" in err. */
int cf_load_table(struct cf_run *run, const char *path, char *err, size_t errlen);
/* CTest results from a JUnit XML file.  0, or -1 with a message. */
int cf_load_junit(struct cf_run *run, const char *path, char *err, size_t errlen);
/* Room for ncell cells (after cf_load_spec).  0 or -1. */
int cf_alloc_cells(struct cf_run *run, unsigned ncell);
/* Judge cell c (already in run->cell[c]) from the model's report of its
 * run: a verdict for every requirement. */
void cf_judge_cell(struct cf_run *run, unsigned c, const struct dm_report *rep);
/* The device side: the device requirement list and its table into a new
 * run->dev.  0, or -1 with a message in err. */
int cf_load_device(struct cf_run *run, const char *spec, const char *table, char *err, size_t errlen);
/* A verdict for each device requirement (after cf_load_junit, if any):
 * a model row's named tests (evidence words without '/') passed: PASS,
 * one failed: FAIL, results not given or none of them in the results:
 * TESTED; a model row naming no test: NOT CHECKED; na: N/A; unchecked:
 * NOT CHECKED. */
void cf_judge_device(struct cf_run *run);
/* Counts per verdict over every requirement and cell. */
void cf_count(const struct cf_run *run, unsigned counts[CF_NVERDICTS]);
void cf_free(struct cf_run *run);

/* Writers: 0, or -1 (write error). */
int cf_write_md(const struct cf_run *run, FILE *f);
int cf_write_html(const struct cf_run *run, FILE *f);
int cf_write_junit(const struct cf_run *run, FILE *f);
int cf_write_json(const struct cf_run *run, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
