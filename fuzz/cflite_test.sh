#!/usr/bin/env bash
# ClusterFuzzLite's build step as .clusterfuzzlite/local-build.sh runs it
# (address sanitizer) into OUT: it must build every target there is (each
# fuzz/*.options) and run each over its seed corpus.  fuzz/build.sh once
# kept a target list of its own that lacked fuzz_rng, and local-build.sh
# once ran no target at all when OUT's path had a dot in it (a clone in
# /tmp/tmp.XXXX): the targets go to OUT/cflite.out here, so the path has one.
#   bash fuzz/cflite_test.sh OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: cflite_test.sh OUT}/cflite.out
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash "$here/../.clusterfuzzlite/local-build.sh" address "$out" >"$log" 2>&1 || { cat "$log"; echo "FAIL: local-build.sh failed"; exit 1; }
missing=0
for o in "$here"/fuzz_*.options; do
	t=$(basename "$o" .options)
	grep -q "^   $t: built (address), ran its [0-9]* seeds$" "$log" || { echo "FAIL: $t not built and run"; missing=1; }
done
[[ $missing == 0 ]] || { cat "$log"; exit 1; }
echo "PASS: $(grep -c ': built (address)' "$log") targets built as ClusterFuzzLite builds them, each ran its seeds"
