#!/usr/bin/env bash
# The conformance report in CI (docs/conformance-report.md, "The
# baseline"): the whole matrix has no FAIL, every requirement x cell that
# docs/conformance-baseline.tsv has as PASS is PASS still, and README's
# summary block is the run's (tests/conformance-report/baseline.py).  Then
# the check is shown able to fail: a table with a PASS requirement taken
# out (judged from its JSON, --report), and a run with a FAIL.
# Arguments: <vlab> <scratch-dir> <fixtures-dir> <spec.tsv> <source-dir>
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"
SRC=$(realpath "${5:?missing the source directory}")
baseline() { # expected-status args...: baseline.py's output in out.txt
	local want=$1 got=0
	shift
	python3 "$FIXTURES/baseline.py" "$VLAB" "$SRC/docs/conformance-baseline.tsv" "$@" >out.txt 2>&1 || got=$?
	[[ $got == "$want" ]] || fail "baseline.py $* exited $got, expected $want"
}

check "the whole matrix: no FAIL, every PASS of the baseline holds, README's summary is the run's"
baseline 0 "$SRC/README.md"
contains "every PASS of"

check "a PASS that goes away fails, naming the ID, the cell and the new verdict, and how to update"
cp "$SRC/README.md" readme.md
sed 's/^DRV-3\.1\.1-1\tmodel\t.*/DRV-3.1.1-1\tunchecked\ttaken out for the test/' \
	"$SRC/docs/spec/conformance-driver.tsv" >table.tsv
"$VLAB" conformance --table "$PWD/table.tsv" --json lost.json >/dev/null || fail "the run without DRV-3.1.1-1 failed"
baseline 1 readme.md --report lost.json
contains "conformance baseline: DRV-3.1.1-1 in cell mmio-legacy/blk/qemu was PASS, now NOT CHECKED: taken out for the test"
contains "more PASS lost ("
contains "conformance baseline: DRV-3.1.1-1 over all cells was PASS, now NOT CHECKED"
contains "the conformance summary block is not the run's"
contains "baseline.py build/gcc/harness/vlab docs/conformance-baseline.tsv README.md --write"

check "a FAIL fails (a named test that failed in the results)"
{ cat "$SRC/docs/spec/conformance-driver.tsv"; } | sed 's/^\(DRV-2\.1\.1-4\)\t[a-z]*\t.*/\1\ttest\t^model\\.fixture_failing$/' >fail.tsv
grep -q 'fixture_failing' fail.tsv || fail "fail.tsv has no failing row"
baseline 1 readme.md -- --table "$PWD/fail.tsv" --results "$FIXTURES/results.xml" --cells mmio/blk/qemu
contains "the run has a FAIL"
contains "FAIL DRV-2.1.1-4 mmio/blk/qemu: named test model.fixture_failing failed"

check "--write writes the baseline and the summary block; the check then passes"
cp "$SRC/docs/conformance-baseline.tsv" base.tsv
python3 "$FIXTURES/baseline.py" "$VLAB" base.tsv readme.md --write --report lost.json >out.txt 2>&1 ||
	fail "--write failed"
python3 "$FIXTURES/baseline.py" "$VLAB" base.tsv readme.md --report lost.json >out.txt 2>&1 ||
	fail "the check fails after --write"
grep -q $'^DRV-3.1.1-1\t\*\tNOT CHECKED$' base.tsv || fail "the new baseline lacks DRV-3.1.1-1's new verdict"

finish
