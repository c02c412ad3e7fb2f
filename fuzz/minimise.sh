#!/usr/bin/env bash
# Minimise the committed corpora (fuzz/README.md, "Campaigns"): for each
# target, fuzz/corpus/<target>/ keeps its named seeds (every file not named
# by a SHA-1) and, of its other inputs, only those libFuzzer's merge keeps
# when it merges them into the seeds (-merge=1: an input stays when it adds
# coverage to what is kept already, smaller inputs first).  The coverage of
# the corpus as a whole stays; inputs that an earlier campaign added and a
# later one made redundant go.  fuzz/campaign.sh --save runs it last.
#   fuzz/minimise.sh [BUILD_DIR]
# BUILD_DIR: a build of the fuzz preset (default build/fuzz; built here if
# its targets are missing).  Targets: $VLAB_CAMPAIGN_TARGETS, default every
# target (each fuzz/*.options).  $VLAB_FUZZ_CORPUS: the directory of the
# corpora (default fuzz/corpus; fuzz/minimise_test.sh works on a copy).  Prints a line per target: inputs before
# and after.  Exit status 0, 1 when a merge fails (the corpus is then left
# as it was), 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[[ $# -le 1 ]] || { echo "usage: fuzz/minimise.sh [BUILD_DIR]" >&2; exit 2; }
build=${1:-$root/build/fuzz}
all_targets=$(cd "$here" && for o in fuzz_*.options; do printf '%s ' "${o%.options}"; done)
# shellcheck disable=SC2206
targets=(${VLAB_CAMPAIGN_TARGETS:-$all_targets})
for t in "${targets[@]}"; do
	[[ -f $here/$t.options ]] || { echo "minimise.sh: no fuzz target '$t'" >&2; exit 2; }
done
if [[ ! -x $build/fuzz/${targets[0]} ]]; then
	[[ $build == "$root/build/fuzz" ]] || { echo "minimise.sh: no fuzz targets in $build" >&2; exit 2; }
	# shellcheck source=scripts/progress.sh
	. "$root/scripts/progress.sh"
	vlab_generator_check "$root/build/fuzz"
	cmake --preset fuzz -S "$root" >/dev/null
	vlab_build "$build" -j"$(nproc)" --target "${targets[@]}"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=8}
is_sha1() { [[ $1 =~ ^[0-9a-f]{40}$ ]]; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The loops below fork nothing per file (no basename, one cp for many
# files): a fork per input made minimising 730 inputs take half a minute.
for t in "${targets[@]}"; do
	dir=${VLAB_FUZZ_CORPUS:-$here/corpus}/$t
	rm -rf "${tmp:?}"/*
	mkdir -p "$tmp/kept" "$tmp/rest"
	named=() hashed=()
	for f in "$dir"/*; do
		[[ -f $f ]] || continue
		if is_sha1 "${f##*/}"; then hashed+=("$f"); else named+=("$f"); fi
	done
	seeds=${#named[@]}
	rest=${#hashed[@]}
	if ((rest == 0)); then
		printf '   %-18s %5d seeds, no other input\n' "$t" "$seeds"
		continue
	fi
	((seeds == 0)) || cp -- "${named[@]}" "$tmp/kept/"
	cp -- "${hashed[@]}" "$tmp/rest/"
	len=$(sed -n 's/^max_len *= *//p' "$here/$t.options")
	# libFuzzer names each input it keeps by its SHA-1, as the corpus does.
	if ! "$build/fuzz/$t" -merge=1 -max_len="${len:-2048}" -timeout=10 "$tmp/kept" "$tmp/rest" \
		>"$tmp/merge.log" 2>&1; then
		tail -20 "$tmp/merge.log" >&2
		echo "minimise.sh: merging $t failed; fuzz/corpus/$t left as it was" >&2
		exit 1
	fi
	rm -f -- "${hashed[@]}"
	added=()
	for f in "$tmp/kept"/*; do
		b=${f##*/}
		is_sha1 "$b" && [[ ! -e $dir/$b ]] && added+=("$f")
	done
	kept=${#added[@]}
	((kept == 0)) || cp -- "${added[@]}" "$dir/"
	printf '   %-18s %5d seeds, other inputs %5d -> %5d\n' "$t" "$seeds" "$rest" "$kept"
done
