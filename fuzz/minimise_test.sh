#!/usr/bin/env bash
# fuzz/minimise.sh on a copy of a target's corpus, with redundant inputs
# added (copies of corpus inputs with one byte past their end: the same
# path through the target): every named seed stays, the redundant inputs
# go, and the minimised corpus reaches the coverage the whole one did
# (libFuzzer's "INITED cov: N ft: M" line over each).
#   bash fuzz/minimise_test.sh BUILD_DIR TARGET SCRATCH
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: minimise_test.sh BUILD_DIR TARGET SCRATCH}
t=${2:?usage: minimise_test.sh BUILD_DIR TARGET SCRATCH}
scratch=${3:?usage: minimise_test.sh BUILD_DIR TARGET SCRATCH}
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$scratch"
mkdir -p "$scratch/corpus/$t"
cp "$here/corpus/$t"/* "$scratch/corpus/$t/"
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=8}
inited() { # dir: "cov: N ft: M" of a run over it
	"$build/fuzz/$t" -runs=0 -timeout=10 "$1" 2>&1 | sed -n 's/.*INITED \(cov: [0-9]* ft: [0-9]*\).*/\1/p' | tail -1
}
# Redundant inputs: the SHA-1-named ones again with a byte of padding.
n=0
for f in "$scratch/corpus/$t"/*; do
	[[ $(basename "$f") =~ ^[0-9a-f]{40}$ ]] || continue
	cp "$f" "$scratch/pad"
	printf '\0' >>"$scratch/pad"
	mv "$scratch/pad" "$scratch/corpus/$t/$(sha1sum "$scratch/pad" | cut -c1-40)"
	n=$((n + 1))
	((n < 20)) || break
done
seeds=$(find "$scratch/corpus/$t" -type f | grep -cvE '/[0-9a-f]{40}$' || true)
before=$(find "$scratch/corpus/$t" -type f | wc -l)
want=$(inited "$scratch/corpus/$t")
[[ -n $want ]] || fail "no INITED line from $t over its corpus"
VLAB_CAMPAIGN_TARGETS=$t VLAB_FUZZ_CORPUS=$scratch/corpus bash "$here/minimise.sh" "$build"
after=$(find "$scratch/corpus/$t" -type f | wc -l)
left=$(find "$scratch/corpus/$t" -type f | grep -cvE '/[0-9a-f]{40}$' || true)
[[ $left == "$seeds" ]] || fail "$seeds named seeds before, $left after"
for f in "$here/corpus/$t"/*; do
	b=$(basename "$f")
	[[ $b =~ ^[0-9a-f]{40}$ ]] && continue
	cmp -s "$f" "$scratch/corpus/$t/$b" || fail "seed $b changed or gone"
done
((after < before)) || fail "nothing went: $before inputs before, $after after"
got=$(inited "$scratch/corpus/$t")
[[ $got == "$want" ]] || fail "coverage of the whole corpus '$want', of the minimised one '$got'"
echo "PASS: $t: $before inputs ($seeds named seeds) -> $after, coverage kept ($got)"
