#!/usr/bin/env bash
# A fuzzing campaign: every target, every core, for DURATION; what it
# learns is kept.  See fuzz/README.md, "Campaigns".
#   fuzz/campaign.sh [--save] DURATION [BUILD_DIR]
# DURATION: seconds, or with a unit (90s, 20m, 8h).  BUILD_DIR: a build of
# the fuzz preset (default build/fuzz; built here if it is missing).
#
# The cores ($VLAB_CAMPAIGN_JOBS, default nproc) are shared by the targets
# ($VLAB_CAMPAIGN_TARGETS, default all): with at least as many cores as
# targets, all run the whole DURATION at once, each in libFuzzer's fork
# mode with its share of the cores; with fewer, they run in rounds of
# JOBS targets, each for DURATION * JOBS / TARGETS.  Every target runs in
# fork mode (-fork=N, -ignore_crashes, -ignore_timeouts, -ignore_ooms):
# a finding stops nothing; libFuzzer saves it and goes on.
#
# Progress every $VLAB_CAMPAIGN_PROGRESS seconds (default 30): a line per
# running target with executions, exec/s, coverage (edges, features),
# corpus size and findings (crashes, timeouts, out-of-memory).
#
# At the end, for each target: its grown corpus merged into the committed
# one (libFuzzer -merge=1: only inputs that add coverage are kept) in
# BUILD_DIR/campaign/merged/TARGET, and with --save into
# fuzz/corpus/TARGET (the committed seeds stay; what is added is named by
# its SHA-1), and then each whole corpus minimised (fuzz/minimise.sh); each finding minimised (-minimize_crash=1, at most 60 s) and
# listed with the command that reproduces it; a summary with the total
# executions.  Exit status: 0 without findings, 1 with, 2 bad usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() {
	echo "usage: fuzz/campaign.sh [--save] DURATION [BUILD_DIR]   (DURATION: 600, 90s, 20m, 8h)" >&2
	exit 2
}
save=0
if [[ ${1:-} == --save ]]; then
	save=1
	shift
fi
[[ $# -ge 1 && $# -le 2 ]] || usage
case $1 in
[0-9]*s) duration=${1%s} ;;
[0-9]*m) duration=$((${1%m} * 60)) ;;
[0-9]*h) duration=$((${1%h} * 3600)) ;;
*) duration=$1 ;;
esac
[[ $duration =~ ^[0-9]+$ && $duration -gt 0 ]] ||
	{ echo "campaign.sh: '$1' is not a duration (seconds, or 90s, 20m, 8h)" >&2; usage; }
build=${2:-$root/build/fuzz}
# shellcheck disable=SC2206
# Default: every target (a target is a fuzz/*.options file beside its source).
all_targets=$(cd "$here" && for o in fuzz_*.options; do printf '%s ' "${o%.options}"; done)
targets=(${VLAB_CAMPAIGN_TARGETS:-$all_targets})
jobs=${VLAB_CAMPAIGN_JOBS:-$(nproc)}
every=${VLAB_CAMPAIGN_PROGRESS:-30}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "campaign.sh: VLAB_CAMPAIGN_JOBS=$jobs is not a number of cores" >&2; exit 2; }
for t in "${targets[@]}"; do
	[[ -f $here/$t.options ]] || { echo "campaign.sh: no fuzz target '$t'" >&2; exit 2; }
done
# shellcheck source=scripts/progress.sh
. "$root/scripts/progress.sh"
# ASan's quarantine recycles libFuzzer's per-input copies through fresh
# pages (a page fault every few executions); the harness allocates nothing
# per input, so a small one loses nothing.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=8}
if [[ ! -x $build/fuzz/${targets[0]} ]]; then
	[[ $build == "$root/build/fuzz" ]] || { echo "campaign.sh: no fuzz targets in $build" >&2; exit 2; }
	vlab_generator_check "$root/build/fuzz"
	cmake --preset fuzz -S "$root" >/dev/null
	vlab_build "$build" -j"$jobs" --target "${targets[@]}"
fi

work=$build/campaign
rm -rf "$work"
mkdir -p "$work/findings"

# Rounds: how many targets at once, each with how many workers, how long.
nt=${#targets[@]}
if ((jobs >= nt)); then
	at_once=$nt
	workers=$((jobs / nt))
	secs=$duration
else
	at_once=$jobs
	workers=1
	secs=$((duration * jobs / nt))
	((secs > 0)) || secs=1
fi

# shellcheck disable=SC2317 # called through vlab_pool
fuzz_one() { # target: its grown corpus in $work/corpus/T, its log in $work/T.log
	local t=$1 len
	mkdir -p "$work/corpus/$t"
	cp "$here/corpus/$t"/* "$work/corpus/$t/"
	len=$(sed -n 's/^max_len *= *//p' "$here/$t.options")
	# Fork mode adds what it finds to the first corpus directory.
	"$build/fuzz/$t" -fork="$workers" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		-max_total_time="$secs" -max_len="${len:-2048}" -timeout=10 -rss_limit_mb=2048 \
		-dict="$here/$t.dict" -artifact_prefix="$work/findings/$t-" \
		"$work/corpus/$t" >"$work/$t.log" 2>&1 || true
}

# Fork mode's status line: "#108643: cov: 623 ft: 994 corp: 193 exec/s 11641
# oom/timeout/crash: 0/0/0 time: 16s job: 3 dft_time: 0".
field() { # log key (execs, exec/s, cov, ft, corp, crash, timeout, oom) -> the last status line's value
	awk -v k="$2" '/^#[0-9]+: cov:/ { line = $0 }
		END {
			v["execs"] = 0
			n = split(line, f, /[ \t]+/)
			if (n) { v["execs"] = substr(f[1], 2); sub(/:$/, "", v["execs"]) }
			for (i = 1; i < n; i++) {
				if (f[i] ~ /^(cov|ft|corp):$/) v[substr(f[i], 1, length(f[i]) - 1)] = f[i + 1]
				if (f[i] == "exec/s") v["exec/s"] = f[i + 1]
				if (f[i] == "oom/timeout/crash:") { split(f[i + 1], o, "/"); v["oom"] = o[1]; v["timeout"] = o[2]; v["crash"] = o[3] }
			}
			print (k in v) ? v[k] : 0
		}' "$1" 2>/dev/null || echo 0
}
status() { # log -> "N execs, E exec/s, cov C, ft F, corpus K, findings: C crash, T timeout, O oom"
	local l=$1
	grep -q '^#[0-9]*: cov:' "$l" 2>/dev/null || { echo "starting"; return; }
	echo "$(field "$l" execs) execs, $(field "$l" exec/s) exec/s, cov $(field "$l" cov), ft $(field "$l" ft)," \
		"corpus $(field "$l" corp), findings: $(field "$l" crash) crash, $(field "$l" timeout) timeout, $(field "$l" oom) oom"
}

echo "== campaign: ${targets[*]}; $jobs cores; ${duration}s in all: $at_once target(s) at a time," \
	"${secs}s each, $workers worker(s) each; progress every ${every}s; in $work"
start=$SECONDS
# shellcheck disable=SC2317 # called through vlab_pool
running() { echo "   $1: $2/${secs}s, $(status "$work/$1.log")"; }
# shellcheck disable=SC2317 # called through vlab_pool
ended() { echo "   $1: done in $2s, $(status "$work/$1.log")"; }
vlab_pool "$at_once" "$every" fuzz_one running ended "${targets[@]}"
fuzzed=$((SECONDS - start))

# Merge: only the grown inputs that add coverage to the committed corpus.
echo "== merging the corpora (-merge=1)"
total=0
declare -A added=() execs=()
for t in "${targets[@]}"; do
	merged=$work/merged/$t
	mkdir -p "$merged"
	cp "$here/corpus/$t"/* "$merged/"
	before=$(find "$merged" -type f | wc -l)
	len=$(sed -n 's/^max_len *= *//p' "$here/$t.options")
	"$build/fuzz/$t" -merge=1 -max_len="${len:-2048}" -timeout=10 "$merged" "$work/corpus/$t" >"$work/$t.merge.log" 2>&1 ||
		{ tail -20 "$work/$t.merge.log" >&2; echo "campaign.sh: merging $t failed" >&2; exit 1; }
	added[$t]=$(($(find "$merged" -type f | wc -l) - before))
	if [[ $save == 1 ]]; then
		for f in "$merged"/*; do
			[[ -e $here/corpus/$t/$(basename "$f") ]] || cp "$f" "$here/corpus/$t/"
		done
	fi
	execs[$t]=$(field "$work/$t.log" execs)
	total=$((total + execs[$t]))
done

# Findings: minimised, each with the command that reproduces it.
findings=()
for f in "$work"/findings/*; do
	[[ -f $f && $f != *.min && $f != *.log ]] || continue
	t=$(basename "$f")
	t=${t%%-*}
	[[ -x $build/fuzz/$t ]] || continue
	"$build/fuzz/$t" -minimize_crash=1 -max_total_time=60 -runs=100000 -exact_artifact_path="$f.min" "$f" \
		>"$f.minimize.log" 2>&1 || true
	[[ -s $f.min ]] || cp "$f" "$f.min"
	findings+=("$t: $f.min ($(stat -c %s "$f.min") bytes; reproduce: $build/fuzz/$t $f.min, or FZ_LOG=1 / FUZZ_TRACE=trace.txt before it)")
done

echo "== campaign summary: ${fuzzed}s, $jobs cores"
printf '   %-18s %12s %9s %6s %7s %8s %6s %s\n' target executions exec/s cov ft corpus added findings
for t in "${targets[@]}"; do
	l=$work/$t.log
	printf '   %-18s %12s %9s %6s %7s %8s %6s %s\n' "$t" "${execs[$t]}" "$(field "$l" exec/s)" "$(field "$l" cov)" \
		"$(field "$l" ft)" "$(find "$work/merged/$t" -type f | wc -l)" "+${added[$t]}" \
		"$(find "$work/findings" -maxdepth 1 -name "$t-*" ! -name '*.min' ! -name '*.log' | wc -l)"
done
echo "   total executions: $total"
if [[ $save == 1 ]]; then
	echo "   corpora: the inputs that add coverage were added to fuzz/corpus/<target>/; minimised:"
	VLAB_CAMPAIGN_TARGETS="${targets[*]}" "$here/minimise.sh" "$build"
else
	echo "   corpora: merged into $work/merged/<target>/ (fuzz/campaign.sh --save adds them to fuzz/corpus/)"
fi
if [ ${#findings[@]} -gt 0 ]; then
	echo "   findings (${#findings[@]}):"
	printf '     %s\n' "${findings[@]}"
	exit 1
fi
echo "   findings: none"
