#!/usr/bin/env python3
"""The conformance baseline (docs/conformance-report.md, "The baseline").

    baseline.py VLAB BASELINE README [--write] [--report JSON] [-- VLAB-CONFORMANCE-OPTIONS...]

Runs `VLAB conformance --json` over the whole matrix (no --results: the
verdicts of a plain run) and compares it with BASELINE
(docs/conformance-baseline.tsv), and the summary block of README
(between the conformance-summary markers) with the run's counts.

Check (the default): exit 1 when the run has a FAIL (vlab exits 1), when
a requirement x cell that BASELINE has as PASS is anything else now (each
named: ID, cell, new verdict, detail), or when README's summary block is
not the run's.  A PASS that BASELINE does not have yet is only reported.
--write: write BASELINE and README's block from the run (on purpose:
after a change that adds or, knowingly, removes a PASS).  --report JSON:
judge that report (`vlab conformance --json`) instead of running VLAB (a
FAIL is then a FAIL in its summary or its device side).

BASELINE: one row per line, req_id<TAB>cell<TAB>verdict: for each
requirement (driver and device side) its verdict over all cells (cell
`*`), then each cell where it is PASS.  The device side has one cell,
`device`.
"""
import json
import os
import subprocess
import sys
import tempfile

BEGIN = "<!-- conformance-summary: begin (tests/conformance-report/baseline.py --write) -->"
END = "<!-- conformance-summary: end -->"
SHOWN = 40  # lost PASSes shown one per line; then a count
VERDICTS = ["PASS", "FAIL", "TESTED", "N/A", "NOT REACHED", "NOT CHECKED"]
WRITE_HINT = ("to change the baseline on purpose: cmake --build --preset gcc --target vlab && "
              "python3 tests/conformance-report/baseline.py build/gcc/harness/vlab "
              "docs/conformance-baseline.tsv README.md --write")


def run_report(vlab, extra):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        p = subprocess.run([vlab, "conformance", "--json", path] + extra, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode not in (0, 1) or not os.path.exists(path):
            sys.exit("vlab conformance exited %d:\n%s" % (p.returncode, p.stdout))
        with open(path) as f:
            return json.load(f), p.returncode, p.stdout


def load_report(path):
    with open(path) as f:
        report = json.load(f)
    fails = report["summary"]["FAIL"]["requirements"] + report.get("device", {}).get("summary", {}).get(
        "FAIL", {}).get("requirements", 0)
    return report, 1 if fails else 0, "FAIL: %d in the report %s\n" % (fails, path) if fails else ""


def rows(report):
    """(id, cell) -> (verdict, detail): overall rows (cell '*') and every cell."""
    out = {}
    for r in report["requirements"]:
        out[(r["id"], "*")] = (r["verdict"], "")
        for cell, c in r["cells"].items():
            out[(r["id"], cell)] = (c["verdict"], c["detail"])
    for r in report.get("device", {}).get("requirements", []):
        out[(r["id"], "*")] = (r["verdict"], r["detail"])
        out[(r["id"], "device")] = (r["verdict"], r["detail"])
    return out


def baseline_lines(report):
    lines = ["# req_id\tcell\tverdict: each requirement's verdict over the cells (*), then each cell where "
             "it is PASS; written by tests/conformance-report/baseline.py --write"]
    for r in report["requirements"]:
        lines.append("%s\t*\t%s" % (r["id"], r["verdict"]))
        lines += ["%s\t%s\tPASS" % (r["id"], cell) for cell, c in r["cells"].items() if c["verdict"] == "PASS"]
    for r in report.get("device", {}).get("requirements", []):
        lines.append("%s\t*\t%s" % (r["id"], r["verdict"]))
        if r["verdict"] == "PASS":
            lines.append("%s\tdevice\tPASS" % r["id"])
    return lines


def summary_block(report):
    s, d = report["summary"], report["device"]["summary"]
    ncell = len(report["cells"])
    out = [BEGIN,
           "| verdict | driver requirements (%d) | driver requirement x cell (%d cells) | "
           "device requirements (%d) |" % (len(report["requirements"]), ncell,
                                          len(report["device"]["requirements"])),
           "| --- | ---: | ---: | ---: |"]
    for v in VERDICTS:
        out.append("| %s | %d | %d | %d |" % (v, s[v]["requirements"], s[v]["cells"], d[v]["requirements"]))
    out.append(END)
    return out


def readme_block(text):
    lines = text.split("\n")
    try:
        a = next(i for i, l in enumerate(lines) if l.startswith("<!-- conformance-summary: begin"))
        b = next(i for i, l in enumerate(lines) if i > a and l == END)
    except StopIteration:
        return lines, None, None
    return lines, a, b


def main(argv):
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    write = "--write" in argv
    args = [a for a in argv if a != "--write"]
    given = None
    if "--report" in args[:-1]:
        given = args[args.index("--report") + 1]
        args.remove(given)
        args.remove("--report")
    if len(args) != 3:
        sys.exit(__doc__)
    vlab, base_path, readme_path = args
    report, rc, out = load_report(given) if given else run_report(vlab, extra)
    cur = rows(report)
    with open(readme_path) as f:
        lines, a, b = readme_block(f.read())
    if a is None:
        sys.exit("%s: no conformance-summary block (%s ... %s)" % (readme_path, BEGIN, END))
    block = summary_block(report)
    if write:
        with open(base_path, "w") as f:
            f.write("\n".join(baseline_lines(report)) + "\n")
        with open(readme_path, "w") as f:
            f.write("\n".join(lines[:a] + block + lines[b + 1:]))
        print("wrote %s and the summary block of %s" % (base_path, readme_path))
        return 0
    bad = 0
    if rc != 0:
        print("conformance: the run has a FAIL (vlab conformance exit %d):" % rc)
        print("".join(l + "\n" for l in out.splitlines() if l.startswith("FAIL")), end="")
        bad += 1
    known = set()
    lost = 0
    with open(base_path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            col = line.split("\t")
            if len(col) != 3 or col[2] not in VERDICTS:
                sys.exit("%s:%d: not req_id<TAB>cell<TAB>verdict" % (base_path, n))
            known.add((col[0], col[1]))
            if col[2] != "PASS":
                continue
            now, detail = cur.get((col[0], col[1]), ("gone from the report", ""))
            if now != "PASS":
                where = "over all cells" if col[1] == "*" else "in cell " + col[1]
                if lost < SHOWN:
                    print("conformance baseline: %s %s was PASS, now %s%s" %
                          (col[0], where, now, ": " + detail if detail else ""))
                lost += 1
    if lost > SHOWN:
        print("conformance baseline: ... %d more PASS lost (%d in all)" % (lost - SHOWN, lost))
    bad += lost
    new = sorted(k for k, v in cur.items() if v[0] == "PASS" and k not in known)
    if new:
        print("conformance baseline: %d PASS not in the baseline yet (first: %s in %s); %s" %
              (len(new), new[0][0], new[0][1], WRITE_HINT))
    if lines[a:b + 1] != block:
        print("%s: the conformance summary block is not the run's; it should be:\n%s" %
              (readme_path, "\n".join(block)))
        bad += 1
    if bad:
        print("conformance baseline: %d problem(s); %s" % (bad, WRITE_HINT))
        return 1
    print("conformance baseline: every PASS of %s holds; %s matches the run" % (base_path, readme_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
