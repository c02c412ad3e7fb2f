#!/usr/bin/env bash
# vlab conformance on the fixture table (table.tsv: one row of each kind)
# gives the verdicts the table and the model's counts call for, reads CTest
# results from JUnit, and refuses bad options and bad tables with status 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"
cells='mmio/blk/qemu,mmio/net/qemu,mmio/net/minimal,pci-legacy/blk/-FLUSH'

check "a run on the fixture table: exit 0, a summary line, four cells"
run 0 conformance --table "$TABLE" --spec "$SPEC" --cells "$cells" --json r.json
contains "conformance: 236 requirements x 4 cells: PASS "
contains ", FAIL 0,"

check "a model row the cell's workload reaches: PASS, with how many times it was checked"
for c in ${cells//,/ }; do echo "DRV-3.1.1-1|$c|PASS|held"; done | expect_verdicts r.json
# Initialisation and re-initialisation both check it.
echo "DRV-3.1.1-1|mmio/blk/qemu|checked>=2" | expect_verdicts r.json

check "a model row of a feature the cell does not offer: NOT REACHED (CTRL_RX only in net/qemu)"
expect_verdicts r.json <<'EOT'
DRV-5.1.6.5.1.2-1|mmio/net/qemu|PASS
DRV-5.1.6.5.1.2-1|mmio/net/minimal|NOT REACHED|never reached
DRV-5.1.6.5.1.2-1|mmio/blk/qemu|NOT REACHED
EOT

check "test, na and unchecked rows: TESTED (no results given), N/A and NOT CHECKED with the table's words"
expect_verdicts r.json <<'EOT'
DRV-2.1.1-4|mmio/blk/qemu|TESTED|model.fixture_passing: named test, result not given
DRV-2.8.11-1|mmio/net/qemu|N/A|never negotiates VIRTIO_F_RING_PACKED
DRV-3.1.1-5|mmio/net/qemu|NOT CHECKED|only the driver knows
EOT

check "a requirement absent from the table: NOT CHECKED, saying when the model checked it anyway"
expect_verdicts r.json <<'EOT'
DRV-2.2.1-4|mmio/blk/qemu|NOT CHECKED|not in the table
DRV-2.1.1-2|mmio/blk/qemu|NOT CHECKED|the model checked it
EOT

check "CTest results given: a passed named test stays TESTED, a failed one is a FAIL (exit 1)"
run 1 conformance --table "$TABLE" --spec "$SPEC" --cells mmio/blk/qemu --results "$FIXTURES/results.xml" --json t.json
expect_verdicts t.json <<'EOT'
DRV-2.1.1-4|mmio/blk/qemu|TESTED|1 test passed
DRV-2.2.1-1|mmio/blk/qemu|FAIL|named test model.fixture_failing failed
EOT
contains "FAIL DRV-2.2.1-1 mmio/blk/qemu: named test model.fixture_failing failed"

check "a skipped test (CTest's status=\"notrun\") is no failure: beside a passed one TESTED, alone NOT CHECKED"
expect_verdicts t.json <<'EOT'
DRV-2.1.1-3|mmio/blk/qemu|TESTED|1 test passed (others skipped)
DRV-2.4.2-1|mmio/blk/qemu|NOT CHECKED|every named test skipped (1)
EOT

check "the device side: a model row's named tests, TESTED without results; na, unchecked; none named: NOT CHECKED"
DEV=(--device-table "$FIXTURES/device-table.tsv")
run 0 conformance --table "$TABLE" --spec "$SPEC" "${DEV[@]}" --cells mmio/blk/qemu --json d.json
contains "device: 215 requirements: PASS 0, FAIL 0, TESTED 3, N/A 1, NOT REACHED 0, NOT CHECKED 211"
expect_verdicts d.json <<'EOT'
DEV-2.1.2-1|device|TESTED|1 named test, result not given
DEV-2.1.2-3|device|NOT CHECKED|honoured by the model (devmodel/src/virtio.c); no test named
DEV-2.2.2-1|device|N/A|no feature with a dependency
DEV-2.2.2-2|device|NOT CHECKED|nothing looks at it
DEV-2.2.2-4|device|NOT CHECKED|not in the table
EOT

check "the device side with CTest results: passed: PASS, one failed: FAIL (exit 1), not in them: TESTED"
run 1 conformance --table "$TABLE" --spec "$SPEC" "${DEV[@]}" --cells mmio/blk/qemu --results "$FIXTURES/results.xml" \
	--json e.json
contains "FAIL DEV-2.1.2-2 device: named test model.fixture_failing failed"
expect_verdicts e.json <<'EOT'
DEV-2.1.2-1|device|PASS|1 named test passed
DEV-2.1.2-2|device|FAIL|model.fixture_failing
DEV-2.2.2-3|device|TESTED|1 of 1 named tests not in the given results
EOT
run 2 conformance --table "$TABLE" --spec "$SPEC" --device-table "$TABLE"
contains "'DRV-3.1.1-1' is not a requirement of the list"

check "bad options: status 2 and a message"
run 2 conformance --table "$TABLE" --spec "$SPEC" --frobnicate
contains "unknown option '--frobnicate'"
run 2 conformance --table "$TABLE" --spec "$SPEC" --md
contains "option '--md' needs a value"
run 2 conformance --table "$TABLE" --spec "$SPEC" --cells 'nowhere/*'
contains "--cells 'nowhere/*' selects no cell"
run 2 conformance --table "$TABLE" --spec "$SPEC" --results "$SPEC"
contains "not a JUnit file"

check "bad tables and lists: status 2 and FILE:LINE: why"
# bad_table NAME ROWS MESSAGE: a table of ROWS (printf format) is refused.
bad_table() {
	printf "$2" >"$1"
	run 2 conformance --table "$1" --spec "$SPEC"
	contains "$1:$3"
}
bad_table cols.tsv 'DRV-3.1.1-1\tmodel\n' "1: 2 columns; a row is req_id<TAB>how<TAB>evidence"
bad_table how.tsv 'DRV-3.1.1-1\tmaybe\tx\n' "1: how 'maybe' is none of model, test, na, unchecked"
bad_table id.tsv 'DRV-99-1\tmodel\tx\n' "1: 'DRV-99-1' is not a requirement of the list"
bad_table twice.tsv 'DRV-3.1.1-1\tmodel\tx\nDRV-3.1.1-1\tna\ty\n' "2: DRV-3.1.1-1 has a row already"
bad_table empty.tsv 'DRV-3.1.1-1\tna\t\n' "1: DRV-3.1.1-1: the evidence is empty"
run 2 conformance --table missing.tsv --spec "$SPEC"
contains "missing.tsv: cannot open the conformance table"
run 2 conformance --table "$TABLE" --spec "$TABLE"
contains "not a requirement list"

finish
