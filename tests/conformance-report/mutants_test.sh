#!/usr/bin/env bash
# The driver mutants (CMakeLists.txt, VLAB_CONF_MUTANT_LIST): the conformance
# run on each must FAIL the requirement that mutant breaks (it is killed);
# the mutation score goes into the report (vlab conformance --mutants) and
# must be the one docs/conformance-report.md shows, mutant by mutant.
# Arguments: <vlab> <scratch-dir> <fixtures-dir> <spec.tsv> <mutants.list> <docs/conformance-report.md>
# mutants.list: NAME|MACRO|source|REQ-ID|cells|the mutant vlab, a line.
set -euo pipefail
list=$(realpath "${5:?usage: $0 <vlab> <scratch-dir> <fixtures-dir> <spec.tsv> <mutants.list> <doc.md>}")
doc=$(realpath "${6:?missing docs/conformance-report.md}")
. "$(dirname "$0")/lib.sh" "$@"
: >results.txt
: >table.txt

check "each mutant's run FAILs the requirement it breaks"
while IFS='|' read -r name macro src req cells exe; do
	[[ -n $name ]] || continue
	# Exit 1 (a FAIL) is what a mutant should give; 2 or a crash is not a run.
	rc=0
	"$exe" conformance --spec "$SPEC" --cells "$cells" >"m-$name.txt" 2>&1 </dev/null || rc=$?
	if ((rc > 1)); then
		cat "m-$name.txt"
		fail "mutant $name: the conformance run exited $rc"
	fi
	# Its FAIL line: "FAIL ID CELL: ..." (a requirement of the list), or
	# "FAIL ID: broken N times" (an ID of the model's own, MODEL-*).
	if grep -q "^FAIL $req[ :]" "m-$name.txt"; then
		echo "$name|$req|killed" >>results.txt
		echo "$name|$src|$req|yes" >>table.txt
	else
		echo "mutant $name survives: no FAIL of $req in $cells"
		sed 's/^/    /' "m-$name.txt"
		# Why: the reason docs/conformance-report.md gives ("no: why").
		why=$(sed -n "s/^| \`$name\` | .* | no: \([^|]*\) | .*/\1/p" "$doc")
		echo "$name|$req|survived|${why:-no FAIL of $req in $cells}" >>results.txt
		echo "$name|$src|$req|no" >>table.txt
	fi
done <"$list"
total=$(wc -l <results.txt)
killed=$(grep -c '|killed$' results.txt || true)
echo "mutation score: $killed of $total killed"
((total >= 30)) || fail "only $total mutants (at least 30)"

check "docs/conformance-report.md shows each mutant, its source, requirement and whether it is caught"
# The table's rows: | `name` | `source` | what it breaks | `ID` | yes/no... |
sed -n 's/^| `\([a-z0-9-]*\)` | `driver\/\([^`]*\)` | .* | `\([A-Z0-9.-]*\)` | \(yes\|no\)\b.*/\1|\2|\3|\4/p' "$doc" >doc.txt
sort -o doc.txt doc.txt && sort -o table.txt table.txt
diff -u doc.txt table.txt >doc.diff || { cat doc.diff; fail "the mutants table of $doc is not the run's (- doc, + run)"; }
grep -q "^Mutation score: $killed of $total " "$doc" || fail "$doc does not say 'Mutation score: $killed of $total '"

check "the report carries the score: JSON mutants, Markdown, HTML, the summary line"
run 0 conformance --spec "$SPEC" --cells mmio/blk/qemu --mutants results.txt --json r.json --md r.md --html r.html
contains "mutants: $killed of $total killed"
python3 - r.json "$killed" "$total" results.txt <<'PY' || fail "the JSON's mutants are not the run's"
import json, sys
m = json.load(open(sys.argv[1]))["mutants"]
res = [l.rstrip("\n").split("|") for l in open(sys.argv[4]) if l.strip()]
assert m["killed"] == int(sys.argv[2]) and m["total"] == int(sys.argv[3]), m
assert [s["name"] for s in m["survivors"]] == [r[0] for r in res if r[2] == "survived"], m["survivors"]
assert [(x["name"], x["id"], x["killed"]) for x in m["list"]] == [(r[0], r[1], r[2] == "killed") for r in res], m["list"]
PY
grep -q "^Mutation score: $killed of $total driver mutants killed" r.md || fail "the Markdown lacks the score"
grep -q "Mutation score: $killed of $total driver mutants killed" r.html || fail "the HTML lacks the score"

check "a bad mutants file is refused (exit 2, FILE:LINE)"
printf 'x|DRV-3.1.1-1|maybe\n' >bad.txt
run 2 conformance --spec "$SPEC" --cells mmio/blk/qemu --mutants bad.txt
contains "bad.txt:1: expected NAME|ID|killed or NAME|ID|survived|why"
run 0 conformance --spec "$SPEC" --cells mmio/blk/qemu --json none.json
python3 -c 'import json,sys; assert json.load(open("none.json"))["mutants"] is None' || fail "mutants not null without --mutants"

finish
