#!/usr/bin/env bash
# A deliberately broken driver (a test-only mutant vlab, CMakeLists.txt)
# makes the conformance run report FAIL on the requirement it breaks, in
# every cell, with the first breach; the normal vlab passes the same cells.
# Arguments: <vlab> <scratch-dir> <fixtures-dir> <spec.tsv> <mutant vlab> <requirement ID>
set -euo pipefail
mutant=$(realpath "${5:?usage: $0 <vlab> <scratch-dir> <fixtures-dir> <spec.tsv> <mutant-vlab> <req-id>}")
req=${6:?missing the requirement the mutant breaks}
. "$(dirname "$0")/lib.sh" "$@"
cells='mmio-legacy/blk/qemu,mmio/net/minimal,pci-transitional/blk/full,pci/net/qemu'
table=$PWD/table.tsv
# The fixture table, plus a model row for the requirement when it has none.
cp "$TABLE" "$table"
grep -q "^$req	" "$table" || printf '%s\tmodel\tdevmodel/src\n' "$req" >>"$table"

check "the normal vlab: $req holds in every cell"
run 0 conformance --table "$table" --spec "$SPEC" --cells "$cells" --json normal.json
for c in ${cells//,/ }; do echo "$req|$c|PASS"; done | expect_verdicts normal.json

check "the mutant $(basename "$mutant"): exit 1, FAIL on $req in every cell, with the first breach"
"$mutant" conformance --table "$table" --spec "$SPEC" --cells "$cells" --json mutant.json --junit mutant.xml \
	>out.txt 2>&1 </dev/null && fail "the mutant's run exited 0" || [[ $? == 1 ]] || fail "the mutant's run exited $?, expected 1"
for c in ${cells//,/ }; do echo "$req|$c|FAIL|first at t="; done | expect_verdicts mutant.json
for c in ${cells//,/ }; do contains "FAIL $req $c: broken "; done
python3 - mutant.xml "$req" <<'PY' || fail "the JUnit file does not show the failures"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
assert failed and all(n.startswith(sys.argv[2] + " ") for n in failed), failed
PY
cp out.txt mutant.out

finish
