#!/usr/bin/env bash
# The four outputs of one run are well-formed: JSON (python3 -m json.tool;
# every requirement with a verdict per cell, "mutants"), JUnit XML (xmllint,
# else python's parser; a testcase per requirement and cell), Markdown (a
# summary, then a table per chapter) and one self-contained HTML page that
# headless Chromium renders (a screenshot).
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"
cells='mmio/blk/qemu,pci/net/qemu,mmio-legacy/blk/minimal'

check "one run writes the four forms; '-' is stdout"
run 0 conformance --table "$TABLE" --spec "$SPEC" --cells "$cells" --md r.md --html r.html --junit r.xml --json r.json
for f in r.md r.html r.xml r.json; do [[ -s $f ]] || fail "$f is empty"; done
run 0 conformance --table "$TABLE" --spec "$SPEC" --cells mmio/blk/qemu --md -
contains "# VIRTIO 1.2 driver conformance"

check "JSON: well-formed, 236 requirements each with a verdict in each of the 3 cells, mutants null, the 215 device requirements"
python3 -m json.tool r.json >/dev/null || fail "r.json is not JSON"
python3 - r.json <<'PY' || fail "r.json does not hold what it should"
import json, sys
d = json.load(open(sys.argv[1]))
assert "mutants" in d and d["mutants"] is None
assert len(d["cells"]) == 3
assert len(d["requirements"]) == 236
verdicts = {"PASS", "FAIL", "TESTED", "N/A", "NOT REACHED", "NOT CHECKED"}
for r in d["requirements"]:
    assert set(r["cells"]) == {c["name"] for c in d["cells"]}, r["id"]
    assert all(c["verdict"] in verdicts for c in r["cells"].values()), r["id"]
assert sum(v["cells"] for v in d["summary"].values()) == 236 * 3
dev = d["device"]["requirements"]
assert len(dev) == 215 and dev[0]["id"] == "DEV-2.1.2-1", len(dev)
assert all(r["verdict"] in verdicts and r["how"] in ("model", "test", "na", "unchecked") for r in dev)
assert sum(v["requirements"] for v in d["device"]["summary"].values()) == 215
PY

check "JUnit: well-formed, one testcase per requirement and cell, one per device requirement, skipped where nothing checked"
if command -v xmllint >/dev/null; then
	xmllint --noout r.xml || fail "xmllint refuses r.xml"
fi
python3 - r.xml <<'PY' || fail "r.xml does not hold what it should"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall("./testsuite/testcase")
assert len(cases) == 236 * 3 + 215, len(cases)
dev = root.findall("./testsuite[@name='conformance.device']/testcase")
assert len(dev) == 215, len(dev)
assert dev[0].get("name") == "DEV-2.1.2-1", dev[0].get("name")
assert dev[0].get("classname") == "conformance.device.general", dev[0].get("classname")
names = {c.get("name") for c in cases}
assert "DRV-3.1.1-1 mmio/blk/qemu" in names
assert not root.findall(".//failure")
assert root.findall(".//skipped")
PY

check "Markdown: the summary, the cells, a table per chapter"
grep -q '^| PASS | ' r.md || fail "no PASS row in the summary"
grep -q '^| mmio/blk/qemu | mmio | blk | 0x' r.md || fail "no row for the cell mmio/blk/qemu"
for ch in general split init pci mmio net blk; do
	grep -q "^## Chapter: $ch\$" r.md || fail "no table for chapter $ch"
done
grep -q '^| DRV-3.1.1-1 | MUST | 3.1.1 | PASS | model | held in 3 of 3 cells' r.md || fail "DRV-3.1.1-1's row"
grep -q '^## Device side$' r.md || fail "no device side table"
grep -q '^| DEV-2.1.2-1 | MUST NOT | 2.1.2 | TESTED | model | ' r.md || fail "DEV-2.1.2-1's row"

check "HTML: parses, self-contained (no external resources), filters, the matrix and the device table"
python3 - r.html <<'PY' || fail "r.html is not what it should be"
import sys, html.parser
text = open(sys.argv[1]).read()
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = 0; self.selects = 0; self.ext = []; self.table = None; self.dev = -1
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-chapter" in a: self.rows += 1
        if tag == "table": self.table = a.get("id")
        if tag == "tr" and self.table == "d" and "data-chapter" not in a: self.dev += 1
        if tag == "select": self.selects += 1
        for k in ("src", "href"):
            if k in a: self.ext.append(a[k])
        if tag == "link": self.ext.append("link")
p = P(); p.feed(text)
assert p.rows == 236, p.rows
assert p.dev == 215, p.dev
assert p.selects == 3, p.selects
assert not p.ext, p.ext
assert "<style>" in text and "<script>" in text
PY

check "HTML: headless Chromium renders it (a screenshot)"
browser=""
for b in chromium chromium-browser; do command -v "$b" >/dev/null && browser=$b && break; done
if [[ -n $browser ]] || have_tool chromium chromium; then
	# No sandbox: tests may run as root; a private profile in the scratch dir.
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$PWD/profile" \
		--window-size=1400,900 --screenshot="$PWD/page.png" "file://$PWD/r.html" >chromium.log 2>&1 ||
		fail "chromium failed: $(tail -3 chromium.log)"
	[[ -s page.png ]] || fail "no screenshot"
	[[ $(head -c 8 page.png | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "page.png is not a PNG"
	(($(stat -c %s page.png) > 10000)) || fail "page.png is too small to show the page"
	echo "screenshot: $PWD/page.png"
fi

finish
