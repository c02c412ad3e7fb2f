# Shared by the conformance test scripts:  . "$(dirname "$0")/lib.sh" "$@"
# Arguments: <vlab> <scratch-dir> <fixtures-dir> <spec.tsv>; the CLI tests'
# helpers (tests/cli/lib.sh: check, run, contains, fail, finish ...), and:
FIXTURES=$(realpath "${3:?usage: $0 <vlab> <scratch-dir> <fixtures-dir> <spec.tsv>}")
SPEC=$(realpath "${4:?missing the requirement list}")
. "$(dirname "$0")/../cli/lib.sh" "$1" "$2"
TABLE=$FIXTURES/table.tsv
# expect_verdicts JSON: each line of stdin, "ID|CELL|VERDICT|DETAIL-TEXT",
# is what the report JSON says of ID in CELL (DETAIL-TEXT, when not empty,
# is in the detail); one python run for all.  With "ID|CELL|checked>=N",
# ID was checked at least N times in CELL.  A device requirement's CELL is
# "device".
expect_verdicts() {
	python3 - "$1" <<PY || fail "the verdicts in $1 are not the expected ones"
import json, sys
d = json.load(open(sys.argv[1]))
reqs = {r["id"]: r for r in d["requirements"]}
# The device side: one cell, "device".
for r in d.get("device", {}).get("requirements", []):
    reqs[r["id"]] = {"cells": {"device": {"verdict": r["verdict"], "checked": 0, "detail": r["detail"]}}}
bad = 0
for line in """$(cat)""".splitlines():
    if not line.strip():
        continue
    f = line.split("|")
    c = reqs.get(f[0], {}).get("cells", {}).get(f[1])
    if c is None:
        print("no verdict for", f[0], "in", f[1]); bad += 1; continue
    if f[2].startswith("checked>="):
        ok = c["checked"] >= int(f[2][9:])
    else:
        ok = c["verdict"] == f[2] and (len(f) < 4 or f[3] in c["detail"])
    if not ok:
        print("%s in %s: %s (checked %d): %s; expected: %s" % (f[0], f[1], c["verdict"], c["checked"], c["detail"], line))
        bad += 1
sys.exit(1 if bad else 0)
PY
}
