#!/usr/bin/env bash
# Runs every fuzz target for a while, starting from its committed corpus
# (copied: the committed files are not changed), and stops at the first
# finding.  Used by test.sh; see fuzz/README.md.
#   fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]     (default 20)
# BUILD_DIR is a build of the fuzz preset (VLAB_FUZZ=ON).  A finding leaves
# its input in BUILD_DIR/fuzz-findings/ and makes the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
secs=${2:-20}
out="$build/fuzz-findings"
mkdir -p "$out"
for t in fuzz_ring fuzz_mmio_probe fuzz_blk_io fuzz_pci_probe fuzz_net; do
	bin="$build/fuzz/$t"
	[[ -x $bin ]] || { echo "run.sh: $bin missing (build the fuzz preset)" >&2; exit 2; }
	work=$(mktemp -d)
	cp "$here/corpus/$t"/* "$work/"
	echo "== fuzz: $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=2048 -timeout=10 -dict="$here/$t.dict" \
		-artifact_prefix="$out/$t-" -print_final_stats=1 "$work" >"$out/$t.log" 2>&1; then
		tail -40 "$out/$t.log" >&2
		echo "run.sh: $t found a bug; input in $out/" >&2
		rm -rf "$work"
		exit 1
	fi
	grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$out/$t.log" | sed 's/^/   /'
	rm -rf "$work"
done
